//! Bybit `orderbook.N` recordings: one JSON message a line,
//! `{"topic", "type": "snapshot"|"delta", "ts", "data": {"s", "b", "a", "u", "seq"}, "cts"}`;
//! size "0" deletes a level. Update ids `u` are contiguous, so a delta is a diff
//! covering exactly `u` (the book builder's chaining rule applies unchanged).
//! `ts` is taken as the local clock and `cts` (matching engine) as the exchange clock.

use std::path::Path;

use drydock_engine::{Lots, Ticks};
use serde_json::Value;

use super::decimal::Grid;
use super::{LineParser, LineReader, Recorded, RecordedEvent, ReplayError, recorded_ms};

/// Reads one Bybit recording (`.gz` and `.zst` decompressed).
pub type BybitReader = LineReader<BybitParser>;

/// Parses Bybit lines, converting prices to ticks and sizes to lots.
pub struct BybitParser {
    tick: Grid,
    lot: Grid,
}

impl BybitReader {
    /// Opens `path`, converting prices to `tick`s and sizes to `lot`s.
    pub fn open_bybit(path: &Path, tick: Grid, lot: Grid) -> Result<Self, ReplayError> {
        LineReader::open(path, BybitParser { tick, lot })
    }
}

impl LineParser for BybitParser {
    fn parse(&self, text: &str, line: u64) -> Result<Option<RecordedEvent>, String> {
        let value: Value = serde_json::from_str(text).map_err(|error| format!("bad JSON: {error}"))?;
        let data = value.get("data").ok_or("missing `data`")?;
        let update_id = data.get("u").and_then(Value::as_u64).ok_or("missing or non-integer `u`")?;
        let bids = self.levels(data, "b")?;
        let asks = self.levels(data, "a")?;
        let message = match value.get("type").and_then(Value::as_str) {
            Some("snapshot") => Recorded::Snapshot { last_update_id: update_id, bids, asks },
            Some("delta") => {
                Recorded::Depth { first_update_id: update_id, last_update_id: update_id, previous_update_id: None, bids, asks }
            }
            other => return Err(format!("`type` is {other:?}; expected \"snapshot\" or \"delta\"")),
        };
        let millis = |key: &str| value.get(key).and_then(Value::as_i64).map(|ms| recorded_ms(ms, key)).transpose();
        let local_ns = millis("ts")?.ok_or("missing `ts`")?;
        Ok(Some(RecordedEvent { local_ns, exchange_ns: millis("cts")?, line, message }))
    }
}

impl BybitParser {
    fn levels(&self, data: &Value, key: &str) -> Result<Vec<(Ticks, Lots)>, String> {
        let array = data.get(key).and_then(Value::as_array).ok_or_else(|| format!("missing `{key}` levels"))?;
        array
            .iter()
            .map(|level| {
                let pair = level.as_array().filter(|pair| pair.len() >= 2).ok_or_else(|| format!("`{key}` level is not [price, size]"))?;
                let (price, size) = (pair[0].as_str().unwrap_or(""), pair[1].as_str().unwrap_or(""));
                Ok((self.tick.price_ticks("price", price)?, self.lot.size_lots("size", size)?))
            })
            .collect()
    }
}
