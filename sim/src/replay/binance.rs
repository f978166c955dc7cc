//! Binance combined-stream recordings, as in hftbacktest's example data: each line
//! is `<local receive time, ns> <JSON>`, the JSON a `{"stream", "data"}` message
//! (`depthUpdate` diffs with `U`/`u` and, on futures, `pu`; `trade`; `bookTicker`)
//! or, unwrapped, the REST depth snapshot (`lastUpdateId`, `bids`, `asks`). Files
//! may be gzip-compressed (`.gz`). Streams line by line in constant memory.

use std::path::Path;

use drydock_engine::{Lots, Side, Ticks};
use serde_json::Value;

use super::decimal::Grid;
use super::{LineParser, LineReader, Recorded, RecordedEvent, ReplayError, recorded_ms, recorded_ns};

/// Reads one Binance recording.
pub type BinanceReader = LineReader<BinanceParser>;

/// Parses Binance lines, converting prices to ticks and quantities to lots.
pub struct BinanceParser {
    tick: Grid,
    lot: Grid,
}

impl BinanceReader {
    /// Opens `path` (`.gz` and `.zst` decompressed), converting prices to `tick`s and
    /// quantities to `lot`s.
    pub fn open_binance(path: &Path, tick: Grid, lot: Grid) -> Result<Self, ReplayError> {
        LineReader::open(path, BinanceParser { tick, lot })
    }
}

impl LineParser for BinanceParser {
    fn parse(&self, text: &str, line: u64) -> Result<Option<RecordedEvent>, String> {
        let (local, json) = text.split_once(' ').ok_or("expected `<local ns> <json>`")?;
        let local_ns: i64 = local.parse().map_err(|_| format!("local time `{local}` is not an integer of nanoseconds"))?;
        let local_ns = recorded_ns(local_ns, "local time")?;
        let value: Value = serde_json::from_str(json).map_err(|error| format!("bad JSON: {error}"))?;
        let (message, exchange_ms) = match value.get("data") {
            Some(data) => self.stream_message(data)?,
            None if value.get("lastUpdateId").is_some() => (self.snapshot(&value)?, None),
            None => return Err("neither a stream message (`data`) nor a depth snapshot (`lastUpdateId`)".to_string()),
        };
        let Some(message) = message else { return Ok(None) };
        let exchange_ns = exchange_ms.map(|(field, ms)| recorded_ms(ms, field)).transpose()?;
        Ok(Some(RecordedEvent { local_ns, exchange_ns, line, message }))
    }
}

/// The exchange time a message carries: the field it came from and its milliseconds.
type ExchangeMillis = Option<(&'static str, i64)>;

impl BinanceParser {
    /// The message and its exchange time.
    fn stream_message(&self, data: &Value) -> Result<(Option<Recorded>, ExchangeMillis), String> {
        let event_ms = data.get("E").and_then(Value::as_i64).map(|ms| ("E", ms));
        match data.get("e").and_then(Value::as_str) {
            Some("depthUpdate") => {
                let message = Recorded::Depth {
                    first_update_id: id(data, "U")?,
                    last_update_id: id(data, "u")?,
                    previous_update_id: data.get("pu").and_then(Value::as_u64),
                    bids: self.levels(data, "b")?,
                    asks: self.levels(data, "a")?,
                };
                Ok((Some(message), event_ms))
            }
            Some("trade") => {
                let price_ticks = self.price(field_str(data, "p")?)?;
                let size_lots = self.size(field_str(data, "q")?)?;
                let buyer_is_maker = data.get("m").and_then(Value::as_bool).ok_or("trade without `m`")?;
                let aggressor = if buyer_is_maker { Side::Sell } else { Side::Buy };
                Ok((
                    Some(Recorded::Trade { price_ticks, size_lots, aggressor }),
                    data.get("T").and_then(Value::as_i64).map(|ms| ("T", ms)).or(event_ms),
                ))
            }
            Some(other) => Err(format!("unknown event type `{other}`")),
            None if data.get("b").is_some_and(Value::is_string) => {
                let bid = (self.price(field_str(data, "b")?)?, self.size(field_str(data, "B")?)?);
                let ask = (self.price(field_str(data, "a")?)?, self.size(field_str(data, "A")?)?);
                Ok((Some(Recorded::BestBidOffer { bid, ask }), event_ms))
            }
            None => Err("stream message without an event type".to_string()),
        }
    }

    fn snapshot(&self, value: &Value) -> Result<Option<Recorded>, String> {
        Ok(Some(Recorded::Snapshot {
            last_update_id: id(value, "lastUpdateId")?,
            bids: self.levels(value, "bids")?,
            asks: self.levels(value, "asks")?,
        }))
    }

    fn levels(&self, value: &Value, key: &str) -> Result<Vec<(Ticks, Lots)>, String> {
        let array = value.get(key).and_then(Value::as_array).ok_or_else(|| format!("missing `{key}` levels"))?;
        array
            .iter()
            .map(|level| {
                let pair =
                    level.as_array().filter(|pair| pair.len() >= 2).ok_or_else(|| format!("`{key}` level is not [price, quantity]"))?;
                let price = pair[0].as_str().ok_or_else(|| format!("`{key}` price is not a string"))?;
                let quantity = pair[1].as_str().ok_or_else(|| format!("`{key}` quantity is not a string"))?;
                Ok((self.price(price)?, self.size(quantity)?))
            })
            .collect()
    }

    fn price(&self, text: &str) -> Result<Ticks, String> {
        self.tick.price_ticks("price", text)
    }

    fn size(&self, text: &str) -> Result<Lots, String> {
        self.lot.size_lots("quantity", text)
    }
}

fn id(value: &Value, key: &str) -> Result<u64, String> {
    value.get(key).and_then(Value::as_u64).ok_or_else(|| format!("missing or non-integer `{key}`"))
}

fn field_str<'a>(value: &'a Value, key: &str) -> Result<&'a str, String> {
    value.get(key).and_then(Value::as_str).ok_or_else(|| format!("missing `{key}`"))
}
