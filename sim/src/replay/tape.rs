//! The replay tape: a recorded session reduced to what the dock replays — the
//! synchronized book whenever it is (re)built, each applied depth diff and each
//! trade — on one virtual-time axis, with prices in ticks and sizes in lots. It is
//! built once per session (readers and [`BookBuilder`] enforce the venue's
//! sequencing on the way in) and shared read-only between runs and threads.
//!
//! Time: every event takes the chosen recorded clock ([`ReplayClock`]) plus an
//! offset; an event without that clock (Binance's REST snapshot has no exchange
//! time) takes the time of the last event seen. Book changes keep their recorded
//! order (update ids): one whose time goes backwards is raised to the previous
//! one's and counted as a clock inversion. Trades keep their own times and the
//! tape is then ordered by time (stable), so on exchange time a trade comes
//! before the conflated diff that reports its effect, as it happened at the venue
//! (Binance's `depth@100ms` diff carries the window's end time and often arrives
//! before trades inside the window). Virtual time 0 is the first synchronized
//! book; trades before it are dropped (no book to trade in) and trades stamped
//! before it are raised to it.
//!
//! The tape's binary form (`drydock data convert`, extension `.ddtape`) is a magic
//! and version, a JSON header (grid, clock, start, sources, counters) and the
//! events as LEB128 varints with delta-coded times and prices. Reading it back
//! gives the identical tape, hence the identical fingerprint. What is not kept:
//! update ids (the tape is already sequenced), best-bid-offer messages (the depth
//! defines the book) and the local/exchange clock pair (only the chosen one).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use drydock_engine::{Lots, Nanos, PRICE_TICKS_MAX, SIZE_LOTS_MAX, Side, Ticks};
use serde::{Deserialize, Serialize};

use super::book::{BookBuilder, GapPolicy};
use super::decimal::Grid;
use super::inspect::{Format, read_file, session_formats};
use super::{RECORDED_NS_MAX, Recorded, RecordedEvent, ReplayError};

/// Magic of the tape's binary form; the last byte is the version.
pub const TAPE_MAGIC: &[u8; 8] = b"DDTAPE\0\x01";

/// Which recorded clock drives virtual time.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplayClock {
    /// The venue's event time (default: a recorder's clock may be skewed, as in the
    /// Binance sample where local time runs about 1.27 s behind).
    #[default]
    Exchange,
    /// The recorder's receive time.
    Local,
}

impl ReplayClock {
    /// The name scenario files use: `exchange` or `local`.
    pub fn name(self) -> &'static str {
        match self {
            ReplayClock::Exchange => "exchange",
            ReplayClock::Local => "local",
        }
    }
}

impl std::str::FromStr for ReplayClock {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        super::parse_name(text, "clock")
    }
}

/// How to turn recordings into a tape.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TapeOptions {
    /// The files' format; detected per file when `None`.
    pub format: Option<Format>,
    /// The clock.
    pub clock: ReplayClock,
    /// Added to the clock, ns.
    pub offset_ns: Nanos,
    /// Gap policy of the book builder.
    pub gap_policy: GapPolicy,
    /// Count and pass over malformed lines instead of stopping at the first.
    pub skip_bad_lines: bool,
}

/// One level of a book or a diff; size 0 deletes the level.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct TapeLevel {
    /// Side.
    pub side: Side,
    /// Price, ticks.
    pub price_ticks: Ticks,
    /// Size, lots.
    pub size_lots: Lots,
}

/// One tape event; `levels` index the tape's level table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TapeEvent {
    /// The whole book, replacing what was there (after a snapshot).
    Book {
        /// Virtual time, ns.
        time_ns: Nanos,
        /// Levels, bids then asks.
        levels: std::ops::Range<u32>,
    },
    /// A depth diff.
    Depth {
        /// Virtual time, ns.
        time_ns: Nanos,
        /// Changed levels.
        levels: std::ops::Range<u32>,
    },
    /// A trade.
    Trade {
        /// Virtual time, ns.
        time_ns: Nanos,
        /// Price, ticks.
        price_ticks: Ticks,
        /// Size, lots.
        size_lots: Lots,
        /// Aggressor side.
        aggressor: Side,
    },
}

impl TapeEvent {
    /// Virtual time, ns.
    pub fn time_ns(&self) -> Nanos {
        match *self {
            TapeEvent::Book { time_ns, .. } | TapeEvent::Depth { time_ns, .. } | TapeEvent::Trade { time_ns, .. } => time_ns,
        }
    }
}

/// Counters of a tape.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TapeStats {
    /// Book (re)builds.
    pub books: u64,
    /// Depth diffs.
    pub diffs: u64,
    /// Trades.
    pub trades: u64,
    /// Level updates in books and diffs.
    pub level_updates: u64,
    /// Gaps in the update ids (resync policy).
    pub gaps: u64,
    /// Book changes whose clock went backwards (raised to the previous one's time).
    pub clock_inversions: u64,
    /// Trades stamped earlier than the book change before them in the recording
    /// (placed by their own time).
    pub trades_reordered: u64,
    /// Trades before the first book, dropped.
    pub trades_before_book: u64,
    /// Malformed lines skipped (under the skip policy).
    pub bad_lines_skipped: u64,
}

/// The tape's descriptive header (also the binary form's header).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TapeHeader {
    /// Price grid, as decimal text.
    pub tick_size: String,
    /// Size grid, as decimal text.
    pub lot_size: String,
    /// The clock the times come from.
    pub clock: ReplayClock,
    /// Absolute time of virtual time 0 (chosen clock + offset), ns since the epoch.
    pub start_ns: Nanos,
    /// File names of the sources, in order.
    pub sources: Vec<String>,
    /// Counters.
    pub stats: TapeStats,
    /// The first malformed lines skipped, as `file:line: message`.
    #[serde(default)]
    pub bad_line_examples: Vec<String>,
}

/// A recorded session, ready to replay.
#[derive(Clone, PartialEq, Eq)]
pub struct ReplayTape {
    header: TapeHeader,
    events: Vec<TapeEvent>,
    levels: Vec<TapeLevel>,
    hash: String,
}

impl std::fmt::Debug for ReplayTape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplayTape")
            .field("sources", &self.header.sources)
            .field("events", &self.events.len())
            .field("hash", &self.hash)
            .finish()
    }
}

impl ReplayTape {
    /// Builds the tape of `files` (one session, in order) on the `tick` and `lot`
    /// grids. A single `.ddtape` file is read as is.
    pub fn load(files: &[PathBuf], options: &TapeOptions, tick: Grid, lot: Grid) -> Result<ReplayTape, ReplayError> {
        if let [single] = files
            && is_tape(single)?
        {
            let tape = ReplayTape::read(single)?;
            tape.check_grid(single, tick, lot)?;
            return Ok(tape);
        }
        let mut recorder = Recorder::new(options, tick, lot);
        let bad_lines = super::BadLines::new(options.skip_bad_lines);
        for (path, &format) in files.iter().zip(&session_formats(files, options.format)?) {
            for event in read_file(path, format, tick, lot, &bad_lines)? {
                recorder.push(path, &event?)?;
            }
            recorder.header.sources.push(file_name(path));
        }
        let log = bad_lines.log();
        recorder.header.stats.bad_lines_skipped = log.skipped;
        recorder.header.bad_line_examples = log.examples;
        recorder.finish(files)
    }

    /// The header.
    pub fn header(&self) -> &TapeHeader {
        &self.header
    }

    /// The events, in time order.
    pub fn events(&self) -> &[TapeEvent] {
        &self.events
    }

    /// The levels of a book or diff event.
    pub fn levels(&self, range: &std::ops::Range<u32>) -> &[TapeLevel] {
        &self.levels[range.start as usize..range.end as usize]
    }

    /// Virtual time of the last event, ns.
    pub fn span_ns(&self) -> Nanos {
        self.events.last().map_or(0, TapeEvent::time_ns)
    }

    /// Hex BLAKE3 of the binary form's events and grid: the tape's identity.
    pub fn hash(&self) -> &str {
        &self.hash
    }

    /// The tape as recorded messages (for inspection and re-reading): each book a
    /// snapshot, each diff chained to it by made-up update ids, both clocks equal to
    /// the tape's time; the event number stands in for the line.
    pub fn recorded_events(&self) -> Vec<RecordedEvent> {
        let pairs = |levels: &[TapeLevel], side: Side| -> Vec<(Ticks, Lots)> {
            levels.iter().filter(|level| level.side == side).map(|level| (level.price_ticks, level.size_lots)).collect()
        };
        let mut update_id = 0u64;
        self.events
            .iter()
            .enumerate()
            .map(|(index, event)| {
                let message = match event {
                    TapeEvent::Book { levels, .. } => {
                        update_id += 1;
                        let levels = self.levels(levels);
                        Recorded::Snapshot { last_update_id: update_id, bids: pairs(levels, Side::Buy), asks: pairs(levels, Side::Sell) }
                    }
                    TapeEvent::Depth { levels, .. } => {
                        update_id += 1;
                        let levels = self.levels(levels);
                        Recorded::Depth {
                            first_update_id: update_id,
                            last_update_id: update_id,
                            previous_update_id: None,
                            bids: pairs(levels, Side::Buy),
                            asks: pairs(levels, Side::Sell),
                        }
                    }
                    TapeEvent::Trade { price_ticks, size_lots, aggressor, .. } => {
                        Recorded::Trade { price_ticks: *price_ticks, size_lots: *size_lots, aggressor: *aggressor }
                    }
                };
                let time_ns = self.header.start_ns + event.time_ns();
                RecordedEvent { local_ns: time_ns, exchange_ns: Some(time_ns), line: index as u64 + 1, message }
            })
            .collect()
    }

    /// Writes the binary form.
    pub fn write_to(&self, out: &mut impl Write) -> std::io::Result<()> {
        out.write_all(TAPE_MAGIC)?;
        let header = serde_json::to_vec(&self.header).map_err(std::io::Error::other)?;
        out.write_all(&(header.len() as u32).to_le_bytes())?;
        out.write_all(&header)?;
        out.write_all(&self.encode_events())
    }

    /// Reads a `.ddtape` file.
    pub fn read(path: &Path) -> Result<ReplayTape, ReplayError> {
        let bytes = std::fs::read(path).map_err(|error| ReplayError::at(path, 0, format!("cannot read: {error}")))?;
        ReplayTape::decode(&bytes).map_err(|message| ReplayError::at(path, 0, format!("{message}; convert the recording again")))
    }

    /// Decodes the binary form.
    pub fn decode(bytes: &[u8]) -> Result<ReplayTape, String> {
        if bytes.len() < 12 || bytes[..7] != TAPE_MAGIC[..7] {
            return Err("not a drydock tape (bad magic)".to_string());
        }
        if bytes[7] != TAPE_MAGIC[7] {
            return Err(format!("tape version {} is not supported (this build reads version {})", bytes[7], TAPE_MAGIC[7]));
        }
        let header_len = u32::from_le_bytes(bytes[8..12].try_into().expect("four bytes")) as usize;
        let header_bytes = bytes.get(12..12 + header_len).ok_or("truncated header")?;
        let header: TapeHeader = serde_json::from_slice(header_bytes).map_err(|error| format!("bad header: {error}"))?;
        let body = &bytes[12 + header_len..];
        let (events, levels) = decode_events(body)?;
        let last_ns = events.last().map_or(0, TapeEvent::time_ns);
        let end_ns = header.start_ns.checked_add(last_ns);
        if header.start_ns < TAPE_NS_MIN || end_ns.is_none_or(|end_ns| end_ns > TAPE_NS_MAX) {
            return Err(format!("times out of range (start {} ns, last event {last_ns} ns after it): a damaged tape", header.start_ns));
        }
        let hash = tape_hash(&header, body);
        Ok(ReplayTape { header, events, levels, hash })
    }

    fn encode_events(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.levels.len() * 6 + self.events.len() * 8);
        let (mut previous_time, mut previous_price) = (0, 0);
        for event in &self.events {
            let (kind, time_ns) = match event {
                TapeEvent::Book { time_ns, .. } => (KIND_BOOK, *time_ns),
                TapeEvent::Depth { time_ns, .. } => (KIND_DEPTH, *time_ns),
                TapeEvent::Trade { time_ns, .. } => (KIND_TRADE, *time_ns),
            };
            out.push(kind);
            put_varint(&mut out, (time_ns - previous_time) as u64);
            previous_time = time_ns;
            match event {
                TapeEvent::Book { levels, .. } | TapeEvent::Depth { levels, .. } => {
                    put_varint(&mut out, u64::from(levels.end - levels.start));
                    for level in self.levels(levels) {
                        put_level(&mut out, level.side, level.price_ticks - previous_price, level.size_lots);
                        previous_price = level.price_ticks;
                    }
                }
                TapeEvent::Trade { price_ticks, size_lots, aggressor, .. } => {
                    put_level(&mut out, *aggressor, price_ticks - previous_price, *size_lots);
                    previous_price = *price_ticks;
                }
            }
        }
        out
    }

    pub(crate) fn check_grid(&self, path: &Path, tick: Grid, lot: Grid) -> Result<(), ReplayError> {
        let same = |text: &str, grid: Grid| Grid::parse(text) == Some(grid);
        if same(&self.header.tick_size, tick) && same(&self.header.lot_size, lot) {
            Ok(())
        } else {
            Err(ReplayError::at(
                path,
                0,
                format!(
                    "the tape was converted on tick {} and lot {}; read it on that grid (`--tick` and `--lot` in data commands, `market.instrument` in a scenario) or convert again",
                    self.header.tick_size, self.header.lot_size
                ),
            ))
        }
    }
}

/// A loaded tape shared read-only between runs and threads; equal when the tapes'
/// hashes are. It rides in [`crate::SimConfig`] but is never serialized: the
/// configuration names the files, the fingerprint covers what they replayed.
#[derive(Clone)]
pub struct SharedTape(pub std::sync::Arc<ReplayTape>);

impl PartialEq for SharedTape {
    fn eq(&self, other: &Self) -> bool {
        std::sync::Arc::ptr_eq(&self.0, &other.0) || self.0.hash == other.0.hash
    }
}

impl std::fmt::Debug for SharedTape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// True when `path` starts with the tape magic.
pub fn is_tape(path: &Path) -> Result<bool, ReplayError> {
    let mut magic = [0u8; 7];
    let mut file = std::fs::File::open(path)
        .map_err(|error| ReplayError::at(path, 0, format!("cannot open: {error}; check the path or DRYDOCK_DATA_DIR")))?;
    Ok(match file.read_exact(&mut magic) {
        Ok(()) => magic == TAPE_MAGIC[..7],
        Err(_) => false,
    })
}

/// A clock offset's bound, either way: a day (as a scenario's `offset_ms`).
const OFFSET_NS_MAX: Nanos = 86_400 * 1_000_000_000;

/// Times a tape may hold: recorded times (`0..=RECORDED_NS_MAX`) moved by an offset
/// of at most a day either way. Replaying one with another day's offset stays far
/// inside `i64`.
const TAPE_NS_MIN: Nanos = -OFFSET_NS_MAX;
const TAPE_NS_MAX: Nanos = RECORDED_NS_MAX + OFFSET_NS_MAX;

const KIND_BOOK: u8 = 1;
const KIND_DEPTH: u8 = 2;
const KIND_TRADE: u8 = 3;

/// Builds a tape from recorded events, one at a time.
struct Recorder {
    options: TapeOptions,
    builder: BookBuilder,
    header: TapeHeader,
    events: Vec<TapeEvent>,
    levels: Vec<TapeLevel>,
    /// Last time seen on any event (chosen clock + offset), absolute ns.
    last_seen_ns: Option<Nanos>,
    /// Time of the last book change on the tape, absolute ns.
    last_book_ns: Option<Nanos>,
}

impl Recorder {
    fn new(options: &TapeOptions, tick: Grid, lot: Grid) -> Self {
        Recorder {
            options: options.clone(),
            builder: BookBuilder::new(options.gap_policy),
            header: TapeHeader {
                tick_size: tick.to_string(),
                lot_size: lot.to_string(),
                clock: options.clock,
                start_ns: 0,
                sources: Vec::new(),
                stats: TapeStats::default(),
                bad_line_examples: Vec::new(),
            },
            events: Vec::new(),
            levels: Vec::new(),
            last_seen_ns: None,
            last_book_ns: None,
        }
    }

    fn push(&mut self, path: &Path, event: &RecordedEvent) -> Result<(), ReplayError> {
        let clock_ns = match self.options.clock {
            ReplayClock::Exchange => event.exchange_ns,
            ReplayClock::Local => Some(event.local_ns),
        };
        if let Some(clock_ns) = clock_ns {
            self.last_seen_ns = Some(clock_ns + self.options.offset_ns);
        }
        let before = self.builder.stats().clone();
        self.builder.apply(path, event)?;
        let after = self.builder.stats().clone();
        self.header.stats.gaps += after.gaps - before.gaps;
        if after.snapshots > before.snapshots {
            let time_ns = self.book_time_ns();
            let start = self.levels.len() as u32;
            self.levels.extend(self.builder.levels().map(|(side, price_ticks, size_lots)| TapeLevel { side, price_ticks, size_lots }));
            self.events.push(TapeEvent::Book { time_ns, levels: start..self.levels.len() as u32 });
            self.header.stats.books += 1;
        } else if after.diffs_applied > before.diffs_applied {
            let Recorded::Depth { bids, asks, .. } = &event.message else { unreachable!("only depth diffs are applied as diffs") };
            let time_ns = self.book_time_ns();
            let start = self.levels.len() as u32;
            let level = |side| move |&(price_ticks, size_lots): &(Ticks, Lots)| TapeLevel { side, price_ticks, size_lots };
            self.levels.extend(bids.iter().map(level(Side::Buy)).chain(asks.iter().map(level(Side::Sell))));
            self.events.push(TapeEvent::Depth { time_ns, levels: start..self.levels.len() as u32 });
            self.header.stats.diffs += 1;
        } else if let Recorded::Trade { price_ticks, size_lots, aggressor } = event.message {
            if self.events.is_empty() {
                self.header.stats.trades_before_book += 1;
            } else {
                let own_ns = clock_ns.map_or(self.last_seen_ns.unwrap_or(0), |clock_ns| clock_ns + self.options.offset_ns);
                if self.last_book_ns.is_some_and(|book_ns| own_ns < book_ns) {
                    self.header.stats.trades_reordered += 1;
                }
                let time_ns = own_ns.max(self.events[0].time_ns());
                self.events.push(TapeEvent::Trade { time_ns, price_ticks, size_lots, aggressor });
                self.header.stats.trades += 1;
            }
        }
        if self.levels.len() > u32::MAX as usize / 2 {
            return Err(ReplayError::at(path, event.line, "the session is too long for one tape; replay fewer files"));
        }
        Ok(())
    }

    /// The time of the book change being pushed: the last seen, never before the
    /// previous book change.
    fn book_time_ns(&mut self) -> Nanos {
        let seen = self.last_seen_ns.unwrap_or(0);
        let time_ns = match self.last_book_ns {
            Some(last) if seen < last => {
                self.header.stats.clock_inversions += 1;
                last
            }
            _ => seen,
        };
        self.last_book_ns = Some(time_ns);
        time_ns
    }

    fn finish(mut self, files: &[PathBuf]) -> Result<ReplayTape, ReplayError> {
        let Some(first) = self.events.first() else {
            let path = files.first().cloned().unwrap_or_default();
            return Err(ReplayError::at(
                &path,
                0,
                "the session never has a synchronized book (no depth snapshot); add the file that holds one",
            ));
        };
        let start_ns = first.time_ns();
        // Book changes are already in time order; this places the trades among them.
        self.events.sort_by_key(TapeEvent::time_ns);
        for event in &mut self.events {
            match event {
                TapeEvent::Book { time_ns, .. } | TapeEvent::Depth { time_ns, .. } | TapeEvent::Trade { time_ns, .. } => {
                    *time_ns -= start_ns
                }
            }
        }
        self.header.start_ns = start_ns;
        self.header.stats.level_updates = self.levels.len() as u64;
        let mut tape = ReplayTape { header: self.header, events: self.events, levels: self.levels, hash: String::new() };
        tape.hash = tape_hash(&tape.header, &tape.encode_events());
        Ok(tape)
    }
}

fn tape_hash(header: &TapeHeader, body: &[u8]) -> String {
    let mut hasher = blake3::Hasher::new();
    hasher.update(header.tick_size.as_bytes());
    hasher.update(b"/");
    hasher.update(header.lot_size.as_bytes());
    hasher.update(b"/");
    hasher.update(body);
    hasher.finalize().to_hex().to_string()
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(|| path.display().to_string(), |name| name.to_string_lossy().to_string())
}

fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn zigzag(value: i64) -> u64 {
    ((value << 1) ^ (value >> 63)) as u64
}

fn unzigzag(value: u64) -> i64 {
    ((value >> 1) as i64) ^ -((value & 1) as i64)
}

/// A level: the price delta's zigzag shifted left once with the side in the low bit, then the size.
fn put_level(out: &mut Vec<u8>, side: Side, price_delta: Ticks, size_lots: Lots) {
    let side_bit = u64::from(side == Side::Sell);
    put_varint(out, (zigzag(price_delta) << 1) | side_bit);
    put_varint(out, size_lots as u64);
}

struct Cursor<'a> {
    bytes: &'a [u8],
    position: usize,
}

impl Cursor<'_> {
    fn varint(&mut self) -> Result<u64, String> {
        let mut value = 0u64;
        let mut shift = 0;
        loop {
            let byte = *self.bytes.get(self.position).ok_or_else(|| format!("truncated tape at byte {}", self.position))?;
            self.position += 1;
            value |= u64::from(byte & 0x7f) << shift;
            if byte < 0x80 {
                return Ok(value);
            }
            shift += 7;
            if shift > 63 {
                return Err(format!("bad varint at byte {}", self.position));
            }
        }
    }

    fn level(&mut self, previous_price: Ticks) -> Result<(Side, Ticks, Lots), String> {
        let tagged = self.varint()?;
        let side = if tagged & 1 == 1 { Side::Sell } else { Side::Buy };
        let price_ticks = previous_price
            .checked_add(unzigzag(tagged >> 1))
            .filter(|price_ticks| (1..=PRICE_TICKS_MAX).contains(price_ticks))
            .ok_or_else(|| format!("price out of range at byte {}", self.position))?;
        let size_lots = Lots::try_from(self.varint()?)
            .ok()
            .filter(|size_lots| *size_lots <= SIZE_LOTS_MAX)
            .ok_or_else(|| format!("size out of range at byte {}", self.position))?;
        Ok((side, price_ticks, size_lots))
    }
}

fn decode_events(body: &[u8]) -> Result<(Vec<TapeEvent>, Vec<TapeLevel>), String> {
    let mut cursor = Cursor { bytes: body, position: 0 };
    let (mut events, mut levels) = (Vec::new(), Vec::with_capacity(body.len() / 4));
    let (mut time_ns, mut previous_price): (Nanos, Ticks) = (0, 0);
    while cursor.position < body.len() {
        let kind = body[cursor.position];
        cursor.position += 1;
        let step_ns = Nanos::try_from(cursor.varint()?).ok();
        time_ns = step_ns
            .and_then(|step_ns| time_ns.checked_add(step_ns))
            .filter(|&time_ns| time_ns <= TAPE_NS_MAX)
            .ok_or("time out of range")?;
        match kind {
            KIND_BOOK | KIND_DEPTH => {
                let count = cursor.varint()?;
                let start = levels.len() as u32;
                for _ in 0..count {
                    let (side, price_ticks, size_lots) = cursor.level(previous_price)?;
                    previous_price = price_ticks;
                    levels.push(TapeLevel { side, price_ticks, size_lots });
                }
                let range = start..levels.len() as u32;
                events.push(if kind == KIND_BOOK {
                    TapeEvent::Book { time_ns, levels: range }
                } else {
                    TapeEvent::Depth { time_ns, levels: range }
                });
            }
            KIND_TRADE => {
                let (aggressor, price_ticks, size_lots) = cursor.level(previous_price)?;
                previous_price = price_ticks;
                events.push(TapeEvent::Trade { time_ns, price_ticks, size_lots, aggressor });
            }
            other => return Err(format!("unknown event kind {other} at byte {}", cursor.position - 1)),
        }
    }
    Ok((events, levels))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(local_ns: Nanos, exchange_ns: Option<Nanos>, message: Recorded) -> RecordedEvent {
        RecordedEvent { local_ns, exchange_ns, line: 1, message }
    }

    fn options(clock: ReplayClock) -> TapeOptions {
        TapeOptions { format: None, clock, offset_ns: 0, gap_policy: GapPolicy::Stop, skip_bad_lines: false }
    }

    fn recorded(clock: ReplayClock) -> ReplayTape {
        let (tick, lot) = (Grid::parse("0.01").unwrap(), Grid::parse("0.001").unwrap());
        let mut recorder = Recorder::new(&options(clock), tick, lot);
        let path = Path::new("test");
        let trade = Recorded::Trade { price_ticks: 100, size_lots: 3, aggressor: Side::Sell };
        let diff = |first, last, bid| Recorded::Depth {
            first_update_id: first,
            last_update_id: last,
            previous_update_id: None,
            bids: vec![(100, bid)],
            asks: vec![(102, 0)],
        };
        let snapshot = Recorded::Snapshot { last_update_id: 10, bids: vec![(100, 5), (99, 7)], asks: vec![(101, 4), (102, 9)] };
        for event in [
            event(900, Some(1_000), trade.clone()),
            event(1_900, Some(2_000), diff(9, 11, 6)),
            event(2_100, None, snapshot),
            event(2_950, Some(3_000), trade.clone()),
            event(3_900, Some(2_500), diff(12, 12, 2)),
            event(3_950, Some(2_400), diff(13, 13, 3)),
            event(3_990, Some(2_450), trade),
        ] {
            recorder.push(path, &event).unwrap();
        }
        recorder.finish(&[PathBuf::from("test")]).unwrap()
    }

    #[test]
    fn the_tape_starts_at_the_synchronized_book_and_never_goes_back() {
        let tape = recorded(ReplayClock::Exchange);
        assert_eq!(tape.header().start_ns, 2_000, "the snapshot has no exchange time: it takes the covering diff's");
        let kinds: Vec<(Nanos, &str)> = tape
            .events()
            .iter()
            .map(|event| match event {
                TapeEvent::Book { .. } => (event.time_ns(), "book"),
                TapeEvent::Depth { .. } => (event.time_ns(), "depth"),
                TapeEvent::Trade { .. } => (event.time_ns(), "trade"),
            })
            .collect();
        assert_eq!(
            kinds,
            vec![(0, "book"), (450, "trade"), (500, "depth"), (500, "depth"), (1_000, "trade")],
            "trades by their own time; the diff whose clock went back raised to the previous diff's"
        );
        let stats = &tape.header().stats;
        assert_eq!((stats.books, stats.diffs, stats.trades, stats.trades_before_book), (1, 2, 2, 1));
        assert_eq!((stats.clock_inversions, stats.trades_reordered), (1, 1));
        let TapeEvent::Book { levels, .. } = &tape.events()[0] else { panic!("a book first") };
        let book: Vec<(Ticks, Lots)> = tape.levels(levels).iter().map(|level| (level.price_ticks, level.size_lots)).collect();
        assert_eq!(book, vec![(100, 6), (99, 7), (101, 4)], "the covering diff is applied to the snapshot");
        let local = recorded(ReplayClock::Local);
        assert_eq!(local.header().start_ns, 2_100);
        assert_ne!(local.hash(), tape.hash());
    }

    #[test]
    fn the_binary_form_reads_back_identical() {
        let tape = recorded(ReplayClock::Exchange);
        let mut bytes = Vec::new();
        tape.write_to(&mut bytes).unwrap();
        let read = ReplayTape::decode(&bytes).unwrap();
        assert_eq!(read, tape);
        assert!(ReplayTape::decode(&bytes[..bytes.len() - 1]).unwrap_err().contains("truncated"));
        let mut future = bytes.clone();
        future[7] = 9;
        assert!(ReplayTape::decode(&future).unwrap_err().contains("version 9"));
        assert!(ReplayTape::decode(b"{\"not\": \"a tape\"}").unwrap_err().contains("magic"));
        // Times that would overflow once replayed are refused, not wrapped.
        let mut late = tape.clone();
        late.header.start_ns = i64::MAX - 1;
        let mut late_bytes = Vec::new();
        late.write_to(&mut late_bytes).unwrap();
        assert!(ReplayTape::decode(&late_bytes).unwrap_err().contains("times out of range"));
        let mut body = Vec::new();
        for _ in 0..2 {
            body.push(KIND_TRADE);
            put_varint(&mut body, i64::MAX as u64 / 2 + 1);
            put_level(&mut body, Side::Buy, 100, 1);
        }
        assert_eq!(decode_events(&body).unwrap_err(), "time out of range");
    }

    #[test]
    fn varints_round_trip() {
        let base = PRICE_TICKS_MAX / 2;
        for delta in [0i64, 1, -1, 63, -64, 1 << 40, -(1 << 40), PRICE_TICKS_MAX / 2] {
            let mut out = Vec::new();
            put_level(&mut out, Side::Sell, delta, 7);
            let mut cursor = Cursor { bytes: &out, position: 0 };
            assert_eq!(cursor.level(base).unwrap(), (Side::Sell, base + delta, 7));
        }
        // A damaged tape cannot carry a price or size beyond the engine port's domain.
        for (delta, size) in [(PRICE_TICKS_MAX / 2 + 1, 7), (-base - 1, 7), (i64::MAX / 4, 7), (0, SIZE_LOTS_MAX + 1)] {
            let mut out = Vec::new();
            put_level(&mut out, Side::Buy, delta, size);
            let mut cursor = Cursor { bytes: &out, position: 0 };
            assert!(cursor.level(base).unwrap_err().contains("out of range"), "{delta} {size}");
        }
    }
}
