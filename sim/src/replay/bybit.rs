//! Bybit `orderbook.N` recordings: one JSON message a line,
//! `{"topic", "type": "snapshot"|"delta", "ts", "data": {"s", "b", "a", "u", "seq"}, "cts"}`;
//! size "0" deletes a level. Update ids `u` are contiguous, so a delta is a diff
//! covering exactly `u` (the book builder's chaining rule applies unchanged).
//! `ts` is taken as the local clock and `cts` (matching engine) as the exchange clock.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use drydock_engine::{Lots, Ticks};
use serde_json::Value;

use super::decimal::Grid;
use super::{Recorded, RecordedEvent, ReplayError};

/// Reads one Bybit recording (gzip when it ends in `.gz`).
pub struct BybitReader {
    path: PathBuf,
    lines: std::io::Lines<BufReader<Box<dyn Read + Send>>>,
    line: u64,
    tick: Grid,
    lot: Grid,
}

impl BybitReader {
    /// Opens `path`, converting prices to `tick`s and sizes to `lot`s.
    pub fn open(path: &Path, tick: Grid, lot: Grid) -> Result<Self, ReplayError> {
        let file = File::open(path)
            .map_err(|error| ReplayError::at(path, 0, format!("cannot open: {error}; check the path or DRYDOCK_DATA_DIR")))?;
        let reader: Box<dyn Read + Send> = if path.extension().is_some_and(|extension| extension == "gz") {
            Box::new(flate2::read::MultiGzDecoder::new(file))
        } else {
            Box::new(file)
        };
        Ok(BybitReader { path: path.to_path_buf(), lines: BufReader::new(reader).lines(), line: 0, tick, lot })
    }

    fn parse_line(&self, text: &str) -> Result<Option<RecordedEvent>, String> {
        if text.trim().is_empty() {
            return Ok(None);
        }
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
        let millis = |key: &str| value.get(key).and_then(Value::as_i64).map(|ms| ms * 1_000_000);
        let local_ns = millis("ts").ok_or("missing `ts`")?;
        Ok(Some(RecordedEvent { local_ns, exchange_ns: millis("cts"), line: self.line, message }))
    }

    fn levels(&self, data: &Value, key: &str) -> Result<Vec<(Ticks, Lots)>, String> {
        let array = data.get(key).and_then(Value::as_array).ok_or_else(|| format!("missing `{key}` levels"))?;
        array
            .iter()
            .map(|level| {
                let pair = level.as_array().filter(|pair| pair.len() >= 2).ok_or_else(|| format!("`{key}` level is not [price, size]"))?;
                let (price, size) = (pair[0].as_str().unwrap_or(""), pair[1].as_str().unwrap_or(""));
                let price_ticks = self
                    .tick
                    .count(price)
                    .filter(|ticks| *ticks > 0)
                    .ok_or_else(|| format!("price `{price}` is not a positive price on the tick grid"))?;
                let size_lots = self.lot.count(size).ok_or_else(|| format!("size `{size}` is not a non-negative size on the lot grid"))?;
                Ok((price_ticks, size_lots))
            })
            .collect()
    }
}

impl Iterator for BybitReader {
    type Item = Result<RecordedEvent, ReplayError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let text = match self.lines.next()? {
                Ok(text) => text,
                Err(error) => return Some(Err(ReplayError::at(&self.path, self.line + 1, format!("cannot read: {error}")))),
            };
            self.line += 1;
            match self.parse_line(&text) {
                Ok(Some(event)) => return Some(Ok(event)),
                Ok(None) => continue,
                Err(message) => return Some(Err(ReplayError::at(&self.path, self.line, message))),
            }
        }
    }
}
