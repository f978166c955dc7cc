//! Binance `T_DEPTH` CSV files (`symbol,timestamp,first_update_id,last_update_id,
//! side,update_type,price,qty,pu`): consecutive rows with the same update type and
//! ids form one message — `snap` rows a snapshot, `set` rows a diff (with `pu`);
//! quantity 0 deletes. Read whole (these files are small); errors name file:line.

use std::path::Path;

use drydock_engine::{Lots, Side, Ticks};

use super::decimal::Grid;
use super::{BadLines, Recorded, RecordedEvent, ReplayError, recorded_ms};

/// Parses a `T_DEPTH` CSV into messages, in file order, stopping at a malformed row.
pub fn read_tdepth(path: &Path, tick: Grid, lot: Grid) -> Result<Vec<RecordedEvent>, ReplayError> {
    read_tdepth_with(path, tick, lot, &BadLines::default())
}

/// [`read_tdepth`] with a policy for malformed rows.
pub fn read_tdepth_with(path: &Path, tick: Grid, lot: Grid, bad_lines: &BadLines) -> Result<Vec<RecordedEvent>, ReplayError> {
    let mut reader = csv::Reader::from_reader(super::open_recording(path)?);
    let headers = reader.headers().map_err(|error| ReplayError::at(path, 1, error))?.clone();
    let expected = ["symbol", "timestamp", "first_update_id", "last_update_id", "side", "update_type", "price", "qty", "pu"];
    if headers.iter().collect::<Vec<_>>() != expected {
        return Err(ReplayError::at(path, 1, format!("header must be {}", expected.join(","))));
    }
    let mut events: Vec<RecordedEvent> = Vec::new();
    let mut group: Option<GroupKey> = None;
    let mut bids: Vec<(Ticks, Lots)> = Vec::new();
    let mut asks: Vec<(Ticks, Lots)> = Vec::new();
    for (index, row) in reader.records().enumerate() {
        let line = index as u64 + 2;
        let (key, side, price, qty) = match parse_row(path, line, row, tick, lot) {
            Ok(parsed) => parsed,
            Err(error) => {
                bad_lines.handle(error)?;
                continue;
            }
        };
        if group.as_ref().is_some_and(|current| *current != key) {
            events.push(message(group.take().expect("a group"), std::mem::take(&mut bids), std::mem::take(&mut asks), line - 1));
        }
        group = Some(key);
        match side {
            Side::Buy => bids.push((price, qty)),
            Side::Sell => asks.push((price, qty)),
        }
    }
    if let Some(key) = group {
        events.push(message(key, bids, asks, 0));
    }
    Ok(events)
}

type GroupKey = (String, u64, u64, i64, i64);

/// One row: its message key, side, price and size.
fn parse_row(
    path: &Path,
    line: u64,
    row: Result<csv::StringRecord, csv::Error>,
    tick: Grid,
    lot: Grid,
) -> Result<(GroupKey, Side, Ticks, Lots), ReplayError> {
    let row = row.map_err(|error| ReplayError::at(path, line, error))?;
    let field = |position: usize| row.get(position).unwrap_or("");
    let number = |position: usize, name: &str| {
        field(position)
            .parse::<i64>()
            .map_err(|_| ReplayError::at(path, line, format!("`{name}` = `{}` is not an integer", field(position))))
    };
    let id = |position: usize, name: &str| {
        field(position)
            .parse::<u64>()
            .map_err(|_| ReplayError::at(path, line, format!("`{name}` = `{}` is not a non-negative integer", field(position))))
    };
    let timestamp_ns = recorded_ms(number(1, "timestamp")?, "timestamp").map_err(|message| ReplayError::at(path, line, message))?;
    let (first, last, pu) = (id(2, "first_update_id")?, id(3, "last_update_id")?, number(8, "pu")?);
    let kind = field(5).to_string();
    if !matches!(kind.as_str(), "snap" | "set") {
        return Err(ReplayError::at(path, line, format!("update_type `{kind}` is neither snap nor set")));
    }
    let price = tick.price_ticks("price", field(6)).map_err(|message| ReplayError::at(path, line, message))?;
    let qty = lot.size_lots("qty", field(7)).map_err(|message| ReplayError::at(path, line, message))?;
    let side = match field(4) {
        "b" => Side::Buy,
        "a" => Side::Sell,
        other => return Err(ReplayError::at(path, line, format!("side `{other}` is neither b nor a"))),
    };
    Ok(((kind, first, last, timestamp_ns, pu), side, price, qty))
}

fn message(
    (kind, first, last, timestamp_ns, pu): GroupKey,
    bids: Vec<(Ticks, Lots)>,
    asks: Vec<(Ticks, Lots)>,
    line: u64,
) -> RecordedEvent {
    let message = if kind == "snap" {
        Recorded::Snapshot { last_update_id: last, bids, asks }
    } else {
        Recorded::Depth { first_update_id: first, last_update_id: last, previous_update_id: u64::try_from(pu).ok(), bids, asks }
    };
    RecordedEvent { local_ns: timestamp_ns, exchange_ns: Some(timestamp_ns), line, message }
}
