//! The generic CSV format, for data from any venue:
//!
//! ```text
//! time_ns,kind,side,price,quantity
//! 1700000000000000000,snapshot,bid,100.00,5
//! 1700000000000000000,snapshot,ask,100.01,3
//! 1700000000100000000,depth,bid,100.00,0
//! 1700000000200000000,trade,buy,100.01,1
//! ```
//!
//! `kind` is `snapshot`, `depth` or `trade`; `side` is `bid`/`ask` for book rows and
//! the aggressor `buy`/`sell` for trades; quantity 0 deletes a level. Consecutive
//! rows of the same kind and time form one message (a whole snapshot, one diff).
//! Without venue update ids, messages are numbered in file order, so the book
//! builder applies them in that order.

use std::path::Path;

use drydock_engine::{Lots, Side, Ticks};

use super::decimal::Grid;
use super::{BadLines, Recorded, RecordedEvent, ReplayError, recorded_ns};

/// The header the format requires.
pub const HEADER: [&str; 5] = ["time_ns", "kind", "side", "price", "quantity"];

/// Parses a generic CSV into messages, in file order, stopping at a malformed row.
pub fn read_generic_csv(path: &Path, tick: Grid, lot: Grid) -> Result<Vec<RecordedEvent>, ReplayError> {
    read_generic_csv_with(path, tick, lot, &BadLines::default())
}

/// [`read_generic_csv`] with a policy for malformed rows.
pub fn read_generic_csv_with(path: &Path, tick: Grid, lot: Grid, bad_lines: &BadLines) -> Result<Vec<RecordedEvent>, ReplayError> {
    let mut reader = csv::Reader::from_reader(super::open_recording(path)?);
    let headers = reader.headers().map_err(|error| ReplayError::at(path, 1, error))?.clone();
    if headers.iter().collect::<Vec<_>>() != HEADER {
        return Err(ReplayError::at(path, 1, format!("header must be {}", HEADER.join(","))));
    }
    let mut events: Vec<RecordedEvent> = Vec::new();
    let mut pending: Option<(String, i64, u64)> = None;
    let mut bids: Vec<(Ticks, Lots)> = Vec::new();
    let mut asks: Vec<(Ticks, Lots)> = Vec::new();
    let mut next_id = 1u64;
    for (index, row) in reader.records().enumerate() {
        let line = index as u64 + 2;
        let row = match parse_row(path, line, row, tick, lot) {
            Ok(row) => row,
            Err(error) => {
                bad_lines.handle(error)?;
                continue;
            }
        };
        match row {
            Row::Trade { time_ns, price, quantity, aggressor } => {
                flush(&mut events, &mut pending, &mut bids, &mut asks, &mut next_id);
                events.push(RecordedEvent {
                    local_ns: time_ns,
                    exchange_ns: Some(time_ns),
                    line,
                    message: Recorded::Trade { price_ticks: price, size_lots: quantity, aggressor },
                });
            }
            Row::Book { kind, time_ns, side, price, quantity } => {
                if pending.as_ref().is_some_and(|(current, time, _)| *current != kind || *time != time_ns) {
                    flush(&mut events, &mut pending, &mut bids, &mut asks, &mut next_id);
                }
                pending.get_or_insert((kind, time_ns, line));
                match side {
                    Side::Buy => bids.push((price, quantity)),
                    Side::Sell => asks.push((price, quantity)),
                }
            }
        }
    }
    flush(&mut events, &mut pending, &mut bids, &mut asks, &mut next_id);
    Ok(events)
}

/// One parsed row.
enum Row {
    Trade { time_ns: i64, price: Ticks, quantity: Lots, aggressor: Side },
    Book { kind: String, time_ns: i64, side: Side, price: Ticks, quantity: Lots },
}

fn parse_row(path: &Path, line: u64, row: Result<csv::StringRecord, csv::Error>, tick: Grid, lot: Grid) -> Result<Row, ReplayError> {
    let row = row.map_err(|error| ReplayError::at(path, line, error))?;
    let field = |position: usize| row.get(position).unwrap_or("").trim();
    let time_ns: i64 =
        field(0).parse().map_err(|_| ReplayError::at(path, line, format!("time_ns `{}` is not an integer of nanoseconds", field(0))))?;
    let time_ns = recorded_ns(time_ns, "time_ns").map_err(|message| ReplayError::at(path, line, message))?;
    let price = tick.price_ticks("price", field(3)).map_err(|message| ReplayError::at(path, line, message))?;
    let quantity = lot.size_lots("quantity", field(4)).map_err(|message| ReplayError::at(path, line, message))?;
    let kind = field(1).to_string();
    if kind == "trade" {
        let aggressor = match field(2) {
            "buy" => Side::Buy,
            "sell" => Side::Sell,
            other => return Err(ReplayError::at(path, line, format!("trade side `{other}` must be buy or sell (the aggressor)"))),
        };
        return Ok(Row::Trade { time_ns, price, quantity, aggressor });
    }
    if !matches!(kind.as_str(), "snapshot" | "depth") {
        return Err(ReplayError::at(path, line, format!("kind `{kind}` must be snapshot, depth or trade")));
    }
    let side = match field(2) {
        "bid" => Side::Buy,
        "ask" => Side::Sell,
        other => return Err(ReplayError::at(path, line, format!("book side `{other}` must be bid or ask"))),
    };
    Ok(Row::Book { kind, time_ns, side, price, quantity })
}

fn flush(
    events: &mut Vec<RecordedEvent>,
    pending: &mut Option<(String, i64, u64)>,
    bids: &mut Vec<(Ticks, Lots)>,
    asks: &mut Vec<(Ticks, Lots)>,
    next_id: &mut u64,
) {
    let Some((kind, time_ns, line)) = pending.take() else { return };
    let (bids, asks) = (std::mem::take(bids), std::mem::take(asks));
    let id = *next_id;
    *next_id += 1;
    let message = if kind == "snapshot" {
        Recorded::Snapshot { last_update_id: id, bids, asks }
    } else {
        Recorded::Depth { first_update_id: id, last_update_id: id, previous_update_id: None, bids, asks }
    };
    events.push(RecordedEvent { local_ns: time_ns, exchange_ns: Some(time_ns), line, message });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replay::book::{BookBuilder, GapPolicy};

    #[test]
    fn rows_group_into_messages_and_rebuild_a_book() {
        let dir = std::env::temp_dir().join(format!("drydock-generic-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("book.csv");
        std::fs::write(
            &path,
            "time_ns,kind,side,price,quantity\n1,snapshot,bid,100.00,5\n1,snapshot,ask,100.02,3\n2,depth,bid,100.01,2\n2,depth,ask,100.02,0\n2,depth,ask,100.03,4\n3,trade,buy,100.03,1\n",
        )
        .unwrap();
        let events = read_generic_csv(&path, Grid::parse("0.01").unwrap(), Grid::parse("1").unwrap()).unwrap();
        assert_eq!(events.len(), 3);
        let mut builder = BookBuilder::new(GapPolicy::Stop);
        for event in &events {
            builder.apply(&path, event).unwrap();
        }
        assert_eq!(builder.touch(), Some(((10_001, 2), (10_003, 4))));
        std::fs::write(&path, "time_ns,kind,side,price,quantity\n1,snapshot,middle,100.00,5\n").unwrap();
        let error = read_generic_csv(&path, Grid::parse("0.01").unwrap(), Grid::parse("1").unwrap()).unwrap_err().to_string();
        assert!(error.contains("book.csv:2:") && error.contains("bid or ask"), "{error}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
