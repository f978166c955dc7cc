//! Replay of recorded market data: readers that turn venue files into normalized
//! records (prices in ticks and sizes in lots, exactly), and the book builder that
//! reconstructs the L2 book from them with the venue's sequencing rules.
//!
//! Readers stream (constant memory, gzip and zstd transparent). Bad lines are errors naming
//! file:line, or, under the [`BadLines`] skip policy, counted and reported; nothing
//! is silently skipped. [`tape`] turns a session into the
//! sequenced events the dock replays (and their compact binary form); the mock
//! exchange follows them (`exchange/replay.rs`) and the runner schedules them.

pub mod binance;
pub mod book;
pub mod bybit;
pub mod decimal;
pub mod driver;
pub mod generic_csv;
pub mod hftbacktest;
pub mod inspect;
pub mod tape;
pub mod tdepth;
pub mod zstd_frames;

use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use drydock_engine::{Lots, Nanos, Side, Ticks};

/// One recorded message, normalized.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Recorded {
    /// A full depth snapshot.
    Snapshot {
        /// The venue's update id the snapshot reflects.
        last_update_id: u64,
        /// Bid levels (price, size).
        bids: Vec<(Ticks, Lots)>,
        /// Ask levels (price, size).
        asks: Vec<(Ticks, Lots)>,
    },
    /// A depth diff; size 0 deletes a level.
    Depth {
        /// First update id in the diff (`U`).
        first_update_id: u64,
        /// Last update id in the diff (`u`).
        last_update_id: u64,
        /// The previous diff's last id (`pu`, futures streams only).
        previous_update_id: Option<u64>,
        /// Bid changes.
        bids: Vec<(Ticks, Lots)>,
        /// Ask changes.
        asks: Vec<(Ticks, Lots)>,
    },
    /// A trade.
    Trade {
        /// Price, ticks.
        price_ticks: Ticks,
        /// Size, lots.
        size_lots: Lots,
        /// Aggressor side.
        aggressor: Side,
    },
    /// Best bid and offer.
    BestBidOffer {
        /// Bid (price, size).
        bid: (Ticks, Lots),
        /// Ask (price, size).
        ask: (Ticks, Lots),
    },
}

/// A recorded message with its clocks and origin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedEvent {
    /// Local receive time, ns since the epoch.
    pub local_ns: Nanos,
    /// Exchange event time, ns since the epoch, when the message carries one.
    pub exchange_ns: Option<Nanos>,
    /// Line in the file (1-based).
    pub line: u64,
    /// The message.
    pub message: Recorded,
}

/// Latest recorded time accepted, ns since the epoch (early 2255): a day below
/// `i64::MAX` and more, so a scenario's clock offset (at most a day either way)
/// never overflows.
pub const RECORDED_NS_MAX: Nanos = 9_000_000_000_000_000_000;

/// A recorded time in nanoseconds since the epoch, checked to lie in
/// `0..=RECORDED_NS_MAX`; `field` names it in the error.
pub fn recorded_ns(ns: i64, field: &str) -> Result<Nanos, String> {
    if (0..=RECORDED_NS_MAX).contains(&ns) {
        Ok(ns)
    } else {
        Err(format!("`{field}` = {ns} ns is not a time since the epoch from 1970 to 2255; check the file is a recording in this format"))
    }
}

/// A recorded time in milliseconds since the epoch, in nanoseconds (checked as
/// [`recorded_ns`]); `field` names it in the error.
pub fn recorded_ms(ms: i64, field: &str) -> Result<Nanos, String> {
    match ms.checked_mul(1_000_000) {
        Some(ns) if (0..=RECORDED_NS_MAX).contains(&ns) => Ok(ns),
        _ => Err(format!(
            "`{field}` = {ms} ms is not a time since the epoch from 1970 to 2255; check the file is a recording in this format"
        )),
    }
}

/// A problem in a recording or in its reconstruction.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}:{line}: {message}", path.display())]
pub struct ReplayError {
    /// The file.
    pub path: PathBuf,
    /// Line (0 when the whole file is concerned).
    pub line: u64,
    /// What is wrong, and what to do.
    pub message: String,
}

impl ReplayError {
    /// An error at `path:line`.
    pub fn at(path: &std::path::Path, line: u64, message: impl fmt::Display) -> Self {
        ReplayError { path: path.to_path_buf(), line, message: message.to_string() }
    }
}

/// Parses one of the snake_case names a scenario file uses for a replay setting
/// (format, clock, gap policy) from a command-line flag; the error lists the names.
pub(crate) fn parse_name<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> Result<T, String> {
    use serde::de::IntoDeserializer;
    T::deserialize(text.into_deserializer()).map_err(|error: serde::de::value::Error| format!("{what} `{text}`: {error}"))
}

/// Most malformed-line messages a [`BadLines`] log keeps as examples.
pub const BAD_LINE_EXAMPLES: usize = 10;

/// What readers do with a malformed line (bad JSON or CSV, a missing field, a
/// non-numeric, negative or off-grid price or size): stop with its file:line error
/// (the default), or — the `skip_bad_lines` policy — count it, keep the first
/// [`BAD_LINE_EXAMPLES`] messages, and go on. Errors that are not about one line
/// (a file that cannot be read or decompressed, a sequencing gap, a crossed book)
/// always stop. Clones share one log.
#[derive(Clone, Debug, Default)]
pub struct BadLines {
    skip: bool,
    log: std::sync::Arc<std::sync::Mutex<BadLineLog>>,
}

/// The malformed lines a skipping reader passed over.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BadLineLog {
    /// Lines skipped.
    pub skipped: u64,
    /// The first few, as `file:line: message`.
    pub examples: Vec<String>,
}

impl BadLines {
    /// Skip (and count) malformed lines when `skip`, else stop at the first.
    pub fn new(skip: bool) -> Self {
        BadLines { skip, log: Default::default() }
    }

    /// Under the skip policy, records `error` and returns `Ok`; else returns it.
    pub fn handle(&self, error: ReplayError) -> Result<(), ReplayError> {
        if !self.skip {
            return Err(error);
        }
        let mut log = self.log.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        log.skipped += 1;
        if log.examples.len() < BAD_LINE_EXAMPLES {
            log.examples.push(error.to_string());
        }
        Ok(())
    }

    /// What was skipped so far.
    pub fn log(&self) -> BadLineLog {
        self.log.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }
}

/// Opens a recording for reading, decompressing gzip (`.gz`) and zstd (`.zst`)
/// transparently, by the file's extension.
pub fn open_recording(path: &Path) -> Result<Box<dyn Read + Send>, ReplayError> {
    let file =
        File::open(path).map_err(|error| ReplayError::at(path, 0, format!("cannot open: {error}; check the path or DRYDOCK_DATA_DIR")))?;
    Ok(match path.extension().and_then(|extension| extension.to_str()) {
        Some("gz") => Box::new(flate2::read::MultiGzDecoder::new(file)),
        Some("zst") => Box::new(zstd_frames::ZstdFrames::new(file)),
        _ => Box::new(file),
    })
}

/// Turns one non-blank line of a line-oriented format into a record (`None` for
/// lines that carry nothing the replay uses); errors are messages for file:line.
pub trait LineParser {
    /// Parses the text of line `line`.
    fn parse(&self, text: &str, line: u64) -> Result<Option<RecordedEvent>, String>;
}

/// Streams the records of a line-oriented recording, numbering lines from 1 and
/// passing over blank lines; malformed lines go to its [`BadLines`] policy.
pub struct LineReader<P> {
    path: PathBuf,
    lines: std::io::Lines<BufReader<Box<dyn Read + Send>>>,
    line: u64,
    parser: P,
    bad_lines: BadLines,
}

impl<P: LineParser> LineReader<P> {
    /// Opens `path` (gzip- and zstd-transparent) with `parser`.
    pub fn open(path: &Path, parser: P) -> Result<Self, ReplayError> {
        Ok(LineReader {
            path: path.to_path_buf(),
            lines: BufReader::with_capacity(1 << 16, open_recording(path)?).lines(),
            line: 0,
            parser,
            bad_lines: BadLines::default(),
        })
    }

    /// Uses `bad_lines` for malformed lines (the default stops at the first).
    pub fn with_bad_lines(mut self, bad_lines: BadLines) -> Self {
        self.bad_lines = bad_lines;
        self
    }
}

impl<P: LineParser> Iterator for LineReader<P> {
    type Item = Result<RecordedEvent, ReplayError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let text = match self.lines.next()? {
                Ok(text) => text,
                Err(error) => return Some(Err(ReplayError::at(&self.path, self.line + 1, format!("cannot read: {error}")))),
            };
            self.line += 1;
            if text.trim().is_empty() {
                continue;
            }
            match self.parser.parse(&text, self.line) {
                Ok(Some(event)) => return Some(Ok(event)),
                Ok(None) => continue,
                Err(message) => {
                    if let Err(error) = self.bad_lines.handle(ReplayError::at(&self.path, self.line, message)) {
                        return Some(Err(error));
                    }
                }
            }
        }
    }
}
