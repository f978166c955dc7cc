//! hftbacktest's normalized event files, so its users can bring their data as it
//! is: a `.npy` array (or the `data.npy` inside a `.npz`) of 64-byte structured
//! records `ev u64, exch_ts i64, local_ts i64, px f64, qty f64, order_id u64,
//! ival i64, fval f64`. `ev` carries flags — EXCH (1<<31), LOCAL (1<<30), BUY
//! (1<<29), SELL (1<<28) — and a kind in its low byte: 1 depth, 2 trade, 3 depth
//! clear, 4 depth snapshot, 5 best bid/offer.
//!
//! Records become messages: consecutive depth (and best bid/offer) records with the
//! same exchange time form one diff; a run of clear and snapshot records forms one
//! snapshot (replacing the whole book — a clear's price bound is not honoured);
//! a trade's BUY/SELL flag is its aggressor. hftbacktest files carry no update ids,
//! so ids are made up in file order and always chain; a file whose book begins
//! with diffs starts from an empty snapshot. Prices and sizes are floats there: a
//! value more than 1e-6 of a step (1e-12 relative for large counts) off the grid
//! is an error naming the record.
//! The array is read whole (64 bytes an event); the `.npz` entry is inflated.

use std::io::Read;
use std::path::Path;

use drydock_engine::{Lots, PRICE_TICKS_MAX, SIZE_LOTS_MAX, Side, Ticks};

use super::decimal::{Grid, within_domain};
use super::{BadLines, Recorded, RecordedEvent, ReplayError, recorded_ns};

/// Flag of events the exchange saw.
pub const EXCH_EVENT: u64 = 1 << 31;
/// Flag of events the local recorder saw.
pub const LOCAL_EVENT: u64 = 1 << 30;
/// Flag of the bid side (for a trade: the buyer initiated).
pub const BUY_EVENT: u64 = 1 << 29;
/// Flag of the ask side (for a trade: the seller initiated).
pub const SELL_EVENT: u64 = 1 << 28;

const DEPTH: u64 = 1;
const TRADE: u64 = 2;
const DEPTH_CLEAR: u64 = 3;
const DEPTH_SNAPSHOT: u64 = 4;
const DEPTH_BBO: u64 = 5;

/// The dtype hftbacktest writes, field by field.
const FIELDS: [(&str, &str); 8] = [
    ("ev", "<u8"),
    ("exch_ts", "<i8"),
    ("local_ts", "<i8"),
    ("px", "<f8"),
    ("qty", "<f8"),
    ("order_id", "<u8"),
    ("ival", "<i8"),
    ("fval", "<f8"),
];

/// One 64-byte record.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct HftEvent {
    /// Flags and kind.
    pub ev: u64,
    /// Exchange time, ns.
    pub exch_ts: i64,
    /// Local time, ns.
    pub local_ts: i64,
    /// Price.
    pub px: f64,
    /// Quantity.
    pub qty: f64,
}

/// Reads a `.npy` or `.npz` file of hftbacktest events into messages; a malformed
/// record (its number stands in for the line) goes to `bad_lines`.
pub fn read_hftbacktest(path: &Path, tick: Grid, lot: Grid, bad_lines: &BadLines) -> Result<Vec<RecordedEvent>, ReplayError> {
    let bytes = read_array_bytes(path)?;
    let records = parse_npy(&bytes).map_err(|message| ReplayError::at(path, 0, message))?;
    group(path, &records, tick, lot, bad_lines)
}

/// Writes `events` as a `.npy` array in hftbacktest's layout (for tests and tools).
pub fn write_npy(events: &[HftEvent]) -> Vec<u8> {
    let descr: Vec<String> = FIELDS.iter().map(|(name, kind)| format!("('{name}', '{kind}')")).collect();
    let mut header = format!("{{'descr': [{}], 'fortran_order': False, 'shape': ({},), }}", descr.join(", "), events.len());
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for event in events {
        out.extend_from_slice(&event.ev.to_le_bytes());
        out.extend_from_slice(&event.exch_ts.to_le_bytes());
        out.extend_from_slice(&event.local_ts.to_le_bytes());
        out.extend_from_slice(&event.px.to_le_bytes());
        out.extend_from_slice(&event.qty.to_le_bytes());
        out.extend_from_slice(&[0u8; 24]);
    }
    out
}

fn read_array_bytes(path: &Path) -> Result<Vec<u8>, ReplayError> {
    let cannot = |error: &dyn std::fmt::Display| ReplayError::at(path, 0, format!("cannot read: {error}"));
    let mut file = std::fs::File::open(path)
        .map_err(|error| ReplayError::at(path, 0, format!("cannot open: {error}; check the path or DRYDOCK_DATA_DIR")))?;
    let mut magic = [0u8; 4];
    file.read_exact(&mut magic).map_err(|error| cannot(&error))?;
    if &magic != b"PK\x03\x04" {
        return std::fs::read(path).map_err(|error| cannot(&error));
    }
    let mut archive = zip::ZipArchive::new(std::fs::File::open(path).map_err(|error| cannot(&error))?).map_err(|error| cannot(&error))?;
    let mut entry = archive
        .by_name("data.npy")
        .map_err(|_| ReplayError::at(path, 0, "the .npz holds no data.npy; hftbacktest writes its events there"))?;
    let mut bytes = Vec::with_capacity(entry.size() as usize);
    entry.read_to_end(&mut bytes).map_err(|error| cannot(&error))?;
    Ok(bytes)
}

/// Parses a `.npy` array of hftbacktest records.
pub fn parse_npy(bytes: &[u8]) -> Result<Vec<HftEvent>, String> {
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err("not a numpy .npy array (bad magic)".to_string());
    }
    let (header_len, header_start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => (u32::from_le_bytes(bytes[8..12].try_into().expect("four bytes")) as usize, 12),
        major => return Err(format!("numpy format version {major} is not supported")),
    };
    let header = bytes.get(header_start..header_start + header_len).ok_or("truncated .npy header")?;
    let header = std::str::from_utf8(header).map_err(|_| "the .npy header is not text")?;
    check_header(header)?;
    let body = &bytes[header_start + header_len..];
    if !body.len().is_multiple_of(64) {
        return Err(format!("{} bytes of records is not a whole number of 64-byte events", body.len()));
    }
    let word = |record: &[u8], index: usize| u64::from_le_bytes(record[index * 8..index * 8 + 8].try_into().expect("eight bytes"));
    Ok(body
        .chunks_exact(64)
        .map(|record| HftEvent {
            ev: word(record, 0),
            exch_ts: word(record, 1) as i64,
            local_ts: word(record, 2) as i64,
            px: f64::from_bits(word(record, 3)),
            qty: f64::from_bits(word(record, 4)),
        })
        .collect())
}

fn check_header(header: &str) -> Result<(), String> {
    let compact: String = header.chars().filter(|ch| !ch.is_whitespace()).collect();
    let expected: Vec<String> = FIELDS.iter().map(|(name, kind)| format!("('{name}','{kind}')")).collect();
    if !compact.contains(&format!("'descr':[{}]", expected.join(","))) {
        return Err(format!(
            "the array's dtype is not hftbacktest's event ({}); found header {header}",
            FIELDS.iter().map(|(name, kind)| format!("{name} {kind}")).collect::<Vec<_>>().join(", ")
        ));
    }
    if compact.contains("'fortran_order':True") {
        return Err("a Fortran-ordered array is not supported".to_string());
    }
    Ok(())
}

/// Turns records into messages (see the module docs).
fn group(path: &Path, records: &[HftEvent], tick: Grid, lot: Grid, bad_lines: &BadLines) -> Result<Vec<RecordedEvent>, ReplayError> {
    let mut events: Vec<RecordedEvent> = Vec::new();
    let mut pending: Option<Pending> = None;
    let mut update_id = 0u64;
    let mut synced = false;
    for (index, record) in records.iter().enumerate() {
        let number = index as u64 + 1;
        let parsed = match parse_record(record, tick, lot) {
            Ok(parsed) => parsed,
            Err(message) => {
                bad_lines.handle(ReplayError::at(path, number, format!("event {number}: {message}")))?;
                continue;
            }
        };
        let continues = match (&pending, &parsed) {
            (Some(group), Parsed::Clear | Parsed::Level { snapshot: true, .. }) => group.snapshot,
            (Some(group), Parsed::Level { snapshot: false, .. }) => !group.snapshot && group.exch_ts == record.exch_ts,
            _ => false,
        };
        if !continues && let Some(group) = pending.take() {
            update_id += 1;
            events.push(group.finish(update_id));
        }
        match parsed {
            Parsed::Trade { aggressor, price_ticks, size_lots } => events.push(RecordedEvent {
                local_ns: record.local_ts,
                exchange_ns: Some(record.exch_ts),
                line: number,
                message: Recorded::Trade { price_ticks, size_lots, aggressor },
            }),
            Parsed::Clear | Parsed::Level { .. } => {
                let snapshot = !matches!(parsed, Parsed::Level { snapshot: false, .. });
                if !synced && !snapshot {
                    events.push(RecordedEvent {
                        local_ns: record.local_ts,
                        exchange_ns: Some(record.exch_ts),
                        line: number,
                        message: Recorded::Snapshot { last_update_id: update_id, bids: Vec::new(), asks: Vec::new() },
                    });
                }
                synced = true;
                let group = pending.get_or_insert_with(|| Pending::new(record, number, snapshot));
                group.local_ts = record.local_ts;
                if let Parsed::Level { side, price_ticks, size_lots, .. } = parsed {
                    group.push(side, price_ticks, size_lots);
                }
            }
        }
    }
    if let Some(group) = pending.take() {
        update_id += 1;
        events.push(group.finish(update_id));
    }
    Ok(events)
}

/// One record, checked and on the grid.
enum Parsed {
    /// A depth clear (starts or continues a snapshot).
    Clear,
    /// A level of a snapshot or of a diff.
    Level { snapshot: bool, side: Side, price_ticks: Ticks, size_lots: Lots },
    /// A trade.
    Trade { aggressor: Side, price_ticks: Ticks, size_lots: Lots },
}

/// Checks one record's kind, flags, price and size.
fn parse_record(record: &HftEvent, tick: Grid, lot: Grid) -> Result<Parsed, String> {
    let kind = record.ev & 0xff;
    let side = match (record.ev & BUY_EVENT != 0, record.ev & SELL_EVENT != 0) {
        (true, _) => Some(Side::Buy),
        (false, true) => Some(Side::Sell),
        (false, false) => None,
    };
    match kind {
        DEPTH_CLEAR => return Ok(Parsed::Clear),
        DEPTH | DEPTH_BBO | DEPTH_SNAPSHOT if side.is_none() => return Err("a depth event without the BUY or SELL flag".to_string()),
        TRADE if side.is_none() => return Err("a trade without the BUY or SELL flag (its aggressor)".to_string()),
        DEPTH | DEPTH_BBO | DEPTH_SNAPSHOT | TRADE => {}
        other => return Err(format!("unknown event kind {other} (1 depth, 2 trade, 3 clear, 4 snapshot, 5 bbo)")),
    }
    recorded_ns(record.exch_ts, "exch_ts")?;
    recorded_ns(record.local_ts, "local_ts")?;
    let price_ticks = on_grid(record.px, tick.step_f64()).ok_or_else(|| format!("price {} is not on the {tick} grid", record.px))?;
    let size_lots = on_grid(record.qty, lot.step_f64()).ok_or_else(|| format!("quantity {} is not on the {lot} grid", record.qty))?;
    let price_ticks = within_domain("price", &record.px.to_string(), price_ticks, PRICE_TICKS_MAX, "ticks", "tick")?;
    let size_lots = within_domain("quantity", &record.qty.to_string(), size_lots, SIZE_LOTS_MAX, "lots", "lot")?;
    let side = side.expect("checked above");
    Ok(match kind {
        TRADE => Parsed::Trade { aggressor: side, price_ticks, size_lots },
        _ => Parsed::Level { snapshot: kind == DEPTH_SNAPSHOT, side, price_ticks, size_lots },
    })
}

/// A message being gathered from consecutive records.
struct Pending {
    snapshot: bool,
    exch_ts: i64,
    local_ts: i64,
    line: u64,
    bids: Vec<(Ticks, Lots)>,
    asks: Vec<(Ticks, Lots)>,
}

impl Pending {
    fn new(record: &HftEvent, line: u64, snapshot: bool) -> Self {
        Pending { snapshot, exch_ts: record.exch_ts, local_ts: record.local_ts, line, bids: Vec::new(), asks: Vec::new() }
    }

    fn push(&mut self, side: Side, price: Ticks, size: Lots) {
        match side {
            Side::Buy => self.bids.push((price, size)),
            Side::Sell => self.asks.push((price, size)),
        }
    }

    fn finish(self, update_id: u64) -> RecordedEvent {
        let message = if self.snapshot {
            Recorded::Snapshot { last_update_id: update_id, bids: self.bids, asks: self.asks }
        } else {
            Recorded::Depth {
                first_update_id: update_id,
                last_update_id: update_id,
                previous_update_id: None,
                bids: self.bids,
                asks: self.asks,
            }
        };
        RecordedEvent { local_ns: self.local_ts, exchange_ns: Some(self.exch_ts), line: self.line, message }
    }
}

/// `value` as a whole number of `step`s, if it is one: within 1e-6 of a step, or
/// 1e-12 relative for large counts (a float's own precision).
fn on_grid(value: f64, step: f64) -> Option<i64> {
    if !value.is_finite() || value < 0.0 {
        return None;
    }
    let steps = value / step;
    let whole = steps.round();
    let tolerance = 1e-6_f64.max(steps * 1e-12);
    ((steps - whole).abs() <= tolerance && whole < 9.0e18).then_some(whole as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: u64, side: u64, exch_ts: i64, px: f64, qty: f64) -> HftEvent {
        HftEvent { ev: EXCH_EVENT | LOCAL_EVENT | side | kind, exch_ts, local_ts: exch_ts + 5, px, qty }
    }

    fn grids() -> (Grid, Grid) {
        (Grid::parse("0.1").unwrap(), Grid::parse("0.001").unwrap())
    }

    #[test]
    fn records_group_into_snapshots_diffs_and_trades() {
        let records = [
            event(DEPTH_CLEAR, BUY_EVENT, 1, 0.0, 0.0),
            event(DEPTH_SNAPSHOT, BUY_EVENT, 1, 100.0, 1.5),
            event(DEPTH_SNAPSHOT, SELL_EVENT, 1, 100.1, 2.0),
            event(DEPTH, BUY_EVENT, 2, 100.0, 1.0),
            event(DEPTH, SELL_EVENT, 2, 100.2, 0.3),
            event(TRADE, SELL_EVENT, 3, 100.0, 0.5),
            event(DEPTH, BUY_EVENT, 4, 100.0, 0.5),
        ];
        let bytes = write_npy(&records);
        assert_eq!(parse_npy(&bytes).unwrap(), records.to_vec());
        let (tick, lot) = grids();
        let events = group(Path::new("t.npy"), &records, tick, lot, &BadLines::default()).unwrap();
        let messages: Vec<&Recorded> = events.iter().map(|event| &event.message).collect();
        assert_eq!(
            messages,
            vec![
                &Recorded::Snapshot { last_update_id: 1, bids: vec![(1000, 1500)], asks: vec![(1001, 2000)] },
                &Recorded::Depth {
                    first_update_id: 2,
                    last_update_id: 2,
                    previous_update_id: None,
                    bids: vec![(1000, 1000)],
                    asks: vec![(1002, 300)]
                },
                &Recorded::Trade { price_ticks: 1000, size_lots: 500, aggressor: Side::Sell },
                &Recorded::Depth { first_update_id: 3, last_update_id: 3, previous_update_id: None, bids: vec![(1000, 500)], asks: vec![] },
            ]
        );
        assert_eq!((events[1].exchange_ns, events[1].local_ns, events[1].line), (Some(2), 7, 4));
    }

    #[test]
    fn a_book_without_a_snapshot_starts_empty_and_bad_records_are_named() {
        let (tick, lot) = grids();
        let records = [event(DEPTH, BUY_EVENT, 1, 100.0, 1.0)];
        let events = group(Path::new("t.npy"), &records, tick, lot, &BadLines::default()).unwrap();
        assert!(matches!(&events[0].message, Recorded::Snapshot { bids, asks, .. } if bids.is_empty() && asks.is_empty()));
        let error = group(Path::new("t.npy"), &[event(DEPTH, BUY_EVENT, 1, 100.05, 1.0)], tick, lot, &BadLines::default()).unwrap_err();
        assert!(error.to_string().contains("t.npy:1: event 1: price 100.05 is not on the 0.1 grid"), "{error}");
        let error = group(Path::new("t.npy"), &[event(9, BUY_EVENT, 1, 100.0, 1.0)], tick, lot, &BadLines::default()).unwrap_err();
        assert!(error.to_string().contains("unknown event kind 9"), "{error}");
        let skip = BadLines::new(true);
        let records = [event(DEPTH, BUY_EVENT, 1, 100.05, 1.0), event(DEPTH, BUY_EVENT, 2, 100.0, 1.0)];
        let events = group(Path::new("t.npy"), &records, tick, lot, &skip).unwrap();
        assert_eq!(events.len(), 2, "the empty start and the good diff");
        assert_eq!(skip.log().skipped, 1);
        assert!(parse_npy(b"\x93NUMPY\x01\x00\x10\x00{'descr': '<f8'}").unwrap_err().contains("dtype"));
        // A stamp above i64::MAX reads as negative: refused, not replayed at a wrapped time.
        let wrapped = HftEvent { local_ts: u64::MAX as i64, ..event(DEPTH, BUY_EVENT, 1, 100.0, 1.0) };
        let error = group(Path::new("t.npy"), &[wrapped], tick, lot, &BadLines::default()).unwrap_err();
        assert!(error.to_string().contains("t.npy:1: event 1: `local_ts` = -1 ns is not a time since the epoch"), "{error}");
    }
}
