//! Journals: the engine's whole conversation in a run — every event it was handed
//! and every command it emitted, with their virtual times, in order — written by
//! `drydock run --journal` as `journal.jsonl.gz` (gzip'd JSON Lines, readable with
//! `zcat … | head`). The records are exactly those the run's fingerprint hashes,
//! so a journal proves itself: its records hash to the fingerprint its end record
//! names.
//!
//! The format, one JSON object per line:
//! - line 1, the header: `format` (`"drydock-journal"`), `format_version`, the
//!   engine `port_version`, the build's `drydock_version` and `code_version`, the
//!   `scenario`, and `engine`: the setup the engine was built from (seed, instrument,
//!   starting parameters, profile);
//! - `{"t_ns":…,"event":{…}}` for an event handed to the engine;
//! - `{"t_ns":…,"command":{…}}` for a command it emitted in response to the event
//!   before it (same time);
//! - last, `{"end":{"events":…,"commands":…,"fingerprint":"…"}}`. A journal without
//!   it was cut short (its run did not finish).
//!
//! What journals are for: [`parity`] replays one into this build's engine and says
//! whether it decides the same (shadow parity: does a refactoring change any
//! decision, where does a parameter change first matter); [`diff`] finds the first
//! record where two journals part (the same scenario on two machines or builds).
//! Deliberately not here: running simulations (the journal is written by an
//! observer of an ordinary run) and anything the engine decides.

pub mod diff;
pub mod parity;

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use drydock_engine::{Command, Event, Nanos, PORT_VERSION, PRICE_TICKS_MAX, SIZE_LOTS_MAX};
use drydock_sim::{EngineSetup, RunObserver};
use flate2::Compression;
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::report::{ArtifactError, temporary_path};

/// The journal's file name in a run's artifact folder.
pub const JOURNAL_FILE: &str = "journal.jsonl.gz";
/// The header's `format`.
pub const JOURNAL_FORMAT: &str = "drydock-journal";
/// The newest format version this build writes and reads.
pub const JOURNAL_FORMAT_VERSION: u32 = 1;
/// Largest virtual time a journal may hold, ns (about 292 years).
pub const TIME_NS_MAX: i64 = i64::MAX / 2;

/// A journal's first line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JournalHeader {
    /// Always [`JOURNAL_FORMAT`].
    pub format: String,
    /// [`JOURNAL_FORMAT_VERSION`] of the build that wrote it.
    pub format_version: u32,
    /// The engine port's version: the shape of every event and command.
    pub port_version: u32,
    /// The writing build's package version.
    pub drydock_version: String,
    /// The writing build's code version (see [`crate::CODE_VERSION`]).
    pub code_version: String,
    /// The scenario's name.
    pub scenario: String,
    /// What the engine was built from.
    pub engine: EngineSetup,
}

impl JournalHeader {
    /// The header of a journal this build writes.
    pub fn new(scenario: &str, engine: EngineSetup) -> Self {
        JournalHeader {
            format: JOURNAL_FORMAT.to_string(),
            format_version: JOURNAL_FORMAT_VERSION,
            port_version: PORT_VERSION,
            drydock_version: env!("CARGO_PKG_VERSION").to_string(),
            code_version: crate::CODE_VERSION.to_string(),
            scenario: scenario.to_string(),
            engine,
        }
    }
}

/// A journal's last line: what the run recorded, and its fingerprint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JournalEnd {
    /// Events recorded.
    pub events: u64,
    /// Commands recorded.
    pub commands: u64,
    /// The run's fingerprint (BLAKE3 of the records).
    pub fingerprint: String,
}

/// One record after the header.
#[derive(Clone, Debug, PartialEq)]
pub enum Record {
    /// An event handed to the engine.
    Event {
        /// Virtual time, ns.
        t_ns: Nanos,
        /// The event.
        event: Event,
    },
    /// A command the engine emitted in response to the event before it.
    Command {
        /// Virtual time, ns (the event's).
        t_ns: Nanos,
        /// The command.
        command: Command,
    },
    /// The end record.
    End(JournalEnd),
}

impl Record {
    /// The record as its journal line (without the newline).
    pub fn to_line(&self) -> String {
        match self {
            Record::Event { t_ns, event } => serde_json::to_string(&EventLine { t_ns: *t_ns, event }),
            Record::Command { t_ns, command } => serde_json::to_string(&CommandLine { t_ns: *t_ns, command }),
            Record::End(end) => serde_json::to_string(&EndLine { end }),
        }
        .expect("port types serialize")
    }
}

/// Why a journal could not be written or read.
#[derive(Debug, Error)]
pub enum JournalError {
    /// The file could not be read.
    #[error("cannot read journal {}: {source}; name a journal.jsonl.gz that `drydock run --journal` wrote, or the run folder holding it", path.display())]
    Read {
        /// The journal.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A line is not what the format allows there.
    #[error("{}:{line}:{column}: {message}", path.display())]
    Line {
        /// The journal.
        path: PathBuf,
        /// 1-based line.
        line: u64,
        /// 1-based column (1 when the whole line is at fault).
        column: u64,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// The file is empty.
    #[error("{}: the journal is empty (no header line); record one with `drydock run <scenario> --journal`", path.display())]
    Empty {
        /// The journal.
        path: PathBuf,
    },
    /// The journal could not be written.
    #[error(transparent)]
    Write(#[from] ArtifactError),
}

/// Writes a run's journal as it goes; an observer of the run. The file is written
/// under a temporary name and renamed into place by [`JournalWriter::commit`], so a
/// journal under its own name is whole.
pub struct JournalWriter {
    out: Option<BufWriter<GzEncoder<File>>>,
    path: PathBuf,
    temporary: PathBuf,
    events: u64,
    commands: u64,
    error: Option<ArtifactError>,
}

impl JournalWriter {
    /// Starts `dir/journal.jsonl.gz` with `header`.
    pub fn create(dir: &Path, header: &JournalHeader) -> Result<Self, ArtifactError> {
        let path = dir.join(JOURNAL_FILE);
        let temporary = temporary_path(&path);
        let file = File::create(&temporary).map_err(|source| ArtifactError { path: temporary.clone(), source })?;
        // Fast compression: a journal is written on every recorded run and read rarely.
        let mut out = BufWriter::with_capacity(1 << 16, GzEncoder::new(file, Compression::fast()));
        let mut writer = JournalWriter { out: None, path, temporary, events: 0, commands: 0, error: None };
        let line = serde_json::to_string(header).expect("the header serializes");
        if let Err(source) = writeln!(out, "{line}") {
            return Err(writer.failed(source));
        }
        writer.out = Some(out);
        Ok(writer)
    }

    /// Writes the end record with the run's `fingerprint` and puts the journal in
    /// place; the first write error of the run, if any, is returned instead.
    pub fn commit(mut self, fingerprint: &str) -> Result<PathBuf, ArtifactError> {
        let end = JournalEnd { events: self.events, commands: self.commands, fingerprint: fingerprint.to_string() };
        self.write_line(&EndLine { end: &end });
        if let Some(error) = self.error.take() {
            let _ = std::fs::remove_file(&self.temporary);
            return Err(error);
        }
        let out = self.out.take().expect("an open journal has its writer");
        let finished = out
            .into_inner()
            .map_err(|error| error.into_error())
            .and_then(|encoder| encoder.finish())
            .and_then(|file| file.sync_all())
            .and_then(|()| std::fs::rename(&self.temporary, &self.path));
        match finished {
            Ok(()) => Ok(self.path.clone()),
            Err(source) => Err(self.failed(source)),
        }
    }

    fn failed(&mut self, source: std::io::Error) -> ArtifactError {
        let _ = std::fs::remove_file(&self.temporary);
        ArtifactError { path: self.path.clone(), source }
    }

    /// Writes one line; the first error is kept for [`JournalWriter::commit`] (an
    /// observer cannot fail the run) and later lines are not attempted.
    fn write_line(&mut self, line: &impl Serialize) {
        if self.error.is_some() {
            return;
        }
        let Some(out) = &mut self.out else { return };
        let written = serde_json::to_writer(&mut *out, line).map_err(std::io::Error::from).and_then(|()| out.write_all(b"\n"));
        if let Err(source) = written {
            self.error = Some(ArtifactError { path: self.path.clone(), source });
        }
    }
}

impl Drop for JournalWriter {
    fn drop(&mut self) {
        // A journal never committed (the run failed) leaves nothing behind.
        if self.out.is_some() {
            let _ = std::fs::remove_file(&self.temporary);
        }
    }
}

impl JournalWriter {
    /// Records an event handed to the engine at `now_ns`. Any driver of the engine
    /// can keep a journal this way; a simulation does it as an observer (below).
    pub fn record_event(&mut self, now_ns: Nanos, event: &Event) {
        self.events += 1;
        self.write_line(&EventLine { t_ns: now_ns, event });
    }

    /// Records a command the engine emitted at `now_ns` in response to the last event.
    pub fn record_command(&mut self, now_ns: Nanos, command: &Command) {
        self.commands += 1;
        self.write_line(&CommandLine { t_ns: now_ns, command });
    }
}

impl RunObserver for JournalWriter {
    fn wants_engine_stream(&self) -> bool {
        true
    }

    fn on_engine_event(&mut self, now_ns: Nanos, event: &Event) {
        self.record_event(now_ns, event);
    }

    fn on_engine_command(&mut self, now_ns: Nanos, command: &Command) {
        self.record_command(now_ns, command);
    }
}

/// Reads a journal record by record, checking the format as it goes: the header
/// first, commands only after an event and at its time, times never going back,
/// nothing after the end record.
pub struct JournalReader {
    source: LineSource,
    header: JournalHeader,
    last_event_ns: Option<Nanos>,
    ended: bool,
    /// The read-ahead's buffer of lines, kept for its capacity.
    batch_text: String,
}

impl JournalReader {
    /// Opens `path` (gzip'd or plain JSON Lines, or a run folder holding
    /// [`JOURNAL_FILE`]) and reads its header.
    pub fn open(path: &Path) -> Result<Self, JournalError> {
        let in_folder = path.join(JOURNAL_FILE);
        let path = if path.is_dir() && in_folder.is_file() { in_folder.as_path() } else { path };
        let mut source = LineSource::open(path)?;
        if !source.next_line()? {
            return Err(JournalError::Empty { path: path.to_path_buf() });
        }
        let header = source.header()?;
        Ok(JournalReader { source, header, last_event_ns: None, ended: false, batch_text: String::new() })
    }

    /// The journal's header.
    pub fn header(&self) -> &JournalHeader {
        &self.header
    }

    /// The 1-based line of the record last returned.
    pub fn line(&self) -> u64 {
        self.source.line
    }

    /// The next record; `None` at the end of the file (after the end record, or
    /// where a journal cut short stops).
    pub fn next_record(&mut self) -> Result<Option<Record>, JournalError> {
        if !self.source.next_line()? {
            return Ok(None);
        }
        let parsed = parse_line(&self.source.buffer);
        self.sequence(self.source.line, parsed).map(Some)
    }

    /// Checks a parsed line against the records before it (nothing after the end,
    /// events in time order, a command at its event's time) and makes it a record.
    fn sequence(&mut self, line: u64, parsed: Result<RawLine, LineFault>) -> Result<Record, JournalError> {
        let fault = |column: u64, message: String| self.source.error_at(line, column, message);
        if self.ended {
            return Err(fault(1, "a record after the end record; a journal ends with its end record".to_string()));
        }
        let raw = parsed.map_err(|LineFault { column, message }| fault(column, message))?;
        match raw {
            RawLine { t_ns: Some(t_ns), event: Some(event), command: None, end: None } => {
                if self.last_event_ns.is_some_and(|last| t_ns < last) {
                    let message = format!("event at t_ns {t_ns} is earlier than the event before it; records are in time order");
                    return Err(fault(1, message));
                }
                self.last_event_ns = Some(t_ns);
                Ok(Record::Event { t_ns, event })
            }
            RawLine { t_ns: Some(t_ns), event: None, command: Some(command), end: None } => {
                if self.last_event_ns != Some(t_ns) {
                    let message =
                        format!("command at t_ns {t_ns} does not follow an event of that time; a command answers the event before it");
                    return Err(fault(1, message));
                }
                Ok(Record::Command { t_ns, command })
            }
            RawLine { t_ns: None, event: None, command: None, end: Some(end) } => {
                self.ended = true;
                Ok(Record::End(end))
            }
            _ => {
                let message = "a record is {\"t_ns\":…,\"event\":…}, {\"t_ns\":…,\"command\":…} or {\"end\":…}, one per line";
                Err(fault(1, message.to_string()))
            }
        }
    }
}

/// What is wrong with one line on its own: the column and the message.
struct LineFault {
    column: u64,
    message: String,
}

/// Parses one record line and checks what it holds on its own (times and the
/// event's numbers in the port's domain); the order of records is checked after.
fn parse_line(text: &str) -> Result<RawLine, LineFault> {
    let raw: RawLine =
        serde_json::from_str(text).map_err(|error| LineFault { column: error.column().max(1) as u64, message: strip_position(&error) })?;
    let fault = |message: String| LineFault { column: 1, message };
    if let Some(t_ns) = raw.t_ns.filter(|t_ns| !(0..=TIME_NS_MAX).contains(t_ns)) {
        return Err(fault(format!("t_ns {t_ns} is outside [0, {TIME_NS_MAX}]")));
    }
    if let Some(message) = raw.event.as_ref().and_then(event_out_of_domain) {
        return Err(fault(format!("{message}; a journal holds what a venue can send")));
    }
    Ok(raw)
}

/// Lines read ahead per thread of the rayon pool, parsed together.
const READ_AHEAD_BATCH: usize = 1_024;
/// Batches waiting at most (bounds the memory read ahead: a few thousand records a
/// thread).
const READ_AHEAD_BATCHES: usize = 2;

/// Records with their lines, or the error that ended the reading.
type Batch = Result<Vec<(Record, u64)>, JournalError>;

/// A journal's records after its header, in file order. Read in line when the
/// caller already runs on the rayon pool (a gate replays its journals in parallel)
/// or the pool has one thread; else read ahead: the next records are decompressed
/// on another thread and parsed on the pool (parsing is most of a replay's work)
/// while the caller handles the ones before. Either way an error comes where the
/// reader met it, after every record before it: a caller sees the same records and
/// the same error.
pub struct Records {
    reading: Reading,
}

enum Reading {
    InLine(Box<JournalReader>),
    Ahead {
        batches: std::sync::mpsc::Receiver<Batch>,
        current: std::vec::IntoIter<(Record, u64)>,
        thread: Option<std::thread::JoinHandle<()>>,
    },
}

impl JournalReader {
    /// The rest of the journal's records (the header is already read): see [`Records`].
    pub fn records(self) -> Records {
        let reading = if rayon::current_thread_index().is_some() || rayon::current_num_threads() < 2 {
            Reading::InLine(Box::new(self))
        } else {
            self.spawn_reader()
        };
        Records { reading }
    }

    /// The rest of the journal's records, read ahead (see [`Records`]) whatever the
    /// pool.
    pub fn read_ahead(self) -> Records {
        Records { reading: self.spawn_reader() }
    }

    fn spawn_reader(mut self) -> Reading {
        let (sender, batches) = std::sync::mpsc::sync_channel(READ_AHEAD_BATCHES);
        let thread = std::thread::spawn(move || {
            loop {
                let ReadBatch { records, error, more } = self.next_batch();
                // A send fails when the caller stopped reading (it found what it wanted).
                if !records.is_empty() && sender.send(Ok(records)).is_err() {
                    return;
                }
                if let Some(error) = error {
                    let _ = sender.send(Err(error));
                    return;
                }
                if !more {
                    return;
                }
            }
        });
        Reading::Ahead { batches, current: Vec::new().into_iter(), thread: Some(thread) }
    }

    /// The next records: lines read in file order, parsed in parallel, then checked
    /// in order; the records before an error, then the error.
    fn next_batch(&mut self) -> ReadBatch {
        let capacity = READ_AHEAD_BATCH * rayon::current_num_threads();
        // The batch's lines, end to end in one buffer: (line number, start, end).
        let mut text = std::mem::take(&mut self.batch_text);
        text.clear();
        let mut lines: Vec<(u64, usize, usize)> = Vec::with_capacity(capacity);
        let mut error = None;
        while lines.len() < capacity {
            match self.source.append_line(&mut text) {
                Ok(Some((start, end))) => lines.push((self.source.line, start, end)),
                Ok(None) => break,
                Err(read_error) => {
                    error = Some(read_error);
                    break;
                }
            }
        }
        let more = lines.len() == capacity;
        let parsed: Vec<(u64, Result<RawLine, LineFault>)> =
            lines.par_iter().with_min_len(READ_AHEAD_BATCH / 4).map(|&(line, start, end)| (line, parse_line(&text[start..end]))).collect();
        self.batch_text = text;
        let mut records = Vec::with_capacity(parsed.len());
        for (line, parsed) in parsed {
            match self.sequence(line, parsed) {
                Ok(record) => records.push((record, line)),
                Err(sequence_error) => {
                    error = Some(sequence_error);
                    break;
                }
            }
        }
        ReadBatch { records, error, more }
    }
}

/// What one read-ahead step found.
struct ReadBatch {
    records: Vec<(Record, u64)>,
    error: Option<JournalError>,
    more: bool,
}

impl Records {
    /// The next record and its 1-based line; `None` at the end of the journal.
    pub fn next_record(&mut self) -> Result<Option<(Record, u64)>, JournalError> {
        let (batches, current, thread) = match &mut self.reading {
            Reading::InLine(reader) => return Ok(reader.next_record()?.map(|record| (record, reader.line()))),
            Reading::Ahead { batches, current, thread } => (batches, current, thread),
        };
        loop {
            if let Some(next) = current.next() {
                return Ok(Some(next));
            }
            match batches.recv() {
                Ok(batch) => *current = batch?.into_iter(),
                Err(std::sync::mpsc::RecvError) => {
                    // The reader is done; had it panicked (our bug), its panic goes on here
                    // rather than the journal seeming to end early.
                    if let Some(thread) = thread.take()
                        && let Err(panic) = thread.join()
                    {
                        std::panic::resume_unwind(panic);
                    }
                    return Ok(None);
                }
            }
        }
    }
}

/// A journal's lines, counted.
struct LineSource {
    path: PathBuf,
    lines: Box<dyn BufRead + Send>,
    line: u64,
    buffer: String,
}

impl LineSource {
    fn open(path: &Path) -> Result<Self, JournalError> {
        let read_error = |source| JournalError::Read { path: path.to_path_buf(), source };
        let mut magic = [0u8; 2];
        let gzipped = File::open(path).and_then(|mut file| file.read(&mut magic)).map_err(read_error)? == 2 && magic == [0x1f, 0x8b];
        let file = File::open(path).map_err(read_error)?;
        let lines: Box<dyn BufRead + Send> = if gzipped {
            Box::new(BufReader::with_capacity(1 << 16, MultiGzDecoder::new(file)))
        } else {
            Box::new(BufReader::with_capacity(1 << 16, file))
        };
        Ok(LineSource { path: path.to_path_buf(), lines, line: 0, buffer: String::new() })
    }

    fn next_line(&mut self) -> Result<bool, JournalError> {
        let mut buffer = std::mem::take(&mut self.buffer);
        buffer.clear();
        let read = self.append_line(&mut buffer);
        if let Ok(Some((_, end))) = read {
            buffer.truncate(end);
        }
        self.buffer = buffer;
        read.map(|line| line.is_some())
    }

    /// Appends the next line to `text`; returns where it lies there without its line
    /// ending, or `None` at the end of the file.
    fn append_line(&mut self, text: &mut String) -> Result<Option<(usize, usize)>, JournalError> {
        let start = text.len();
        let read = match self.lines.read_line(text) {
            Ok(read) => read,
            // A gzip stream cut short (its writer was killed) ends where it stops; the
            // missing end record says it was cut.
            Err(error) if error.kind() == std::io::ErrorKind::UnexpectedEof => 0,
            Err(source) => return Err(JournalError::Read { path: self.path.clone(), source }),
        };
        if read == 0 {
            text.truncate(start);
            return Ok(None);
        }
        self.line += 1;
        let end = start + text[start..].trim_end_matches(['\n', '\r']).len();
        Ok(Some((start, end)))
    }

    /// The current line as a header.
    fn header(&self) -> Result<JournalHeader, JournalError> {
        let value: serde_json::Value = serde_json::from_str(&self.buffer).map_err(|error| {
            let message = format!(
                "not a drydock journal: its first line is not JSON ({}); record one with `drydock run <scenario> --journal`",
                strip_position(&error)
            );
            self.error(error.column().max(1) as u64, message)
        })?;
        let text = |key: &str| value.get(key).and_then(|field| field.as_str()).unwrap_or_default().to_string();
        let number = |key: &str| value.get(key).and_then(|field| field.as_u64()).unwrap_or(0);
        if text("format") != JOURNAL_FORMAT {
            let message = format!(
                "not a drydock journal (its first line has no \"format\": \"{JOURNAL_FORMAT}\"); record one with `drydock run <scenario> --journal`"
            );
            return Err(self.error(1, message));
        }
        let version = number("format_version");
        if version != u64::from(JOURNAL_FORMAT_VERSION) {
            let message = format!(
                "journal format version {version}; this build reads version {JOURNAL_FORMAT_VERSION}: read it with the drydock that wrote it"
            );
            return Err(self.error(1, message));
        }
        let port = number("port_version");
        if port != u64::from(PORT_VERSION) {
            let message = format!(
                "the journal speaks engine port version {port}, this build speaks {PORT_VERSION}: its events and commands have another shape; read it with the build that wrote it (code version {})",
                text("code_version")
            );
            return Err(self.error(1, message));
        }
        let code_version = text("code_version");
        serde_json::from_value(value).map_err(|error| {
            let message = format!(
                "bad header: {}; a header this build cannot read was written by other code (code version {code_version}): read it with that build",
                strip_position(&error)
            );
            self.error(1, message)
        })
    }

    fn error(&self, column: u64, message: String) -> JournalError {
        self.error_at(self.line, column, message)
    }

    fn error_at(&self, line: u64, column: u64, message: String) -> JournalError {
        JournalError::Line { path: self.path.clone(), line, column, message }
    }
}

#[derive(Serialize)]
struct EventLine<'a> {
    t_ns: Nanos,
    event: &'a Event,
}

#[derive(Serialize)]
struct CommandLine<'a> {
    t_ns: Nanos,
    command: &'a Command,
}

#[derive(Serialize)]
struct EndLine<'a> {
    end: &'a JournalEnd,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLine {
    t_ns: Option<Nanos>,
    event: Option<Event>,
    command: Option<Command>,
    end: Option<JournalEnd>,
}

/// What in `event` lies outside the port's domain (prices 1 to `PRICE_TICKS_MAX`,
/// sizes 0 to `SIZE_LOTS_MAX`, traded sizes at least 1, finite fees), if anything:
/// a venue never sends it, and the engine's arithmetic is not built for it.
fn event_out_of_domain(event: &Event) -> Option<String> {
    use drydock_engine::{MarketData, VenueReport};
    let price = |price_ticks: i64| {
        (!(1..=PRICE_TICKS_MAX).contains(&price_ticks)).then(|| format!("price_ticks {price_ticks} is outside [1, {PRICE_TICKS_MAX}]"))
    };
    let size = |size_lots: i64, least: i64| {
        (!(least..=SIZE_LOTS_MAX).contains(&size_lots)).then(|| format!("size_lots {size_lots} is outside [{least}, {SIZE_LOTS_MAX}]"))
    };
    let level = |price_ticks: i64, size_lots: i64| price(price_ticks).or_else(|| size(size_lots, 0));
    match event {
        Event::Market(MarketData::Snapshot { bids, asks }) => {
            bids.iter().chain(asks).find_map(|entry| level(entry.price_ticks, entry.size_lots))
        }
        Event::Market(MarketData::Delta { updates }) => updates.iter().find_map(|update| level(update.price_ticks, update.size_lots)),
        Event::Market(MarketData::Trade { price_ticks, size_lots, .. }) => price(*price_ticks).or_else(|| size(*size_lots, 1)),
        Event::Market(MarketData::BestBidOffer { bid, ask }) => {
            level(bid.price_ticks, bid.size_lots).or_else(|| level(ask.price_ticks, ask.size_lots))
        }
        Event::Venue(VenueReport::Filled(fill)) => price(fill.price_ticks)
            .or_else(|| size(fill.size_lots, 1))
            .or_else(|| (!fill.fee_quote.is_finite()).then(|| format!("fee_quote {} is not a finite number", fill.fee_quote))),
        Event::Venue(VenueReport::Replaced { price_ticks, leaves_lots, .. }) => price(*price_ticks).or_else(|| size(*leaves_lots, 0)),
        Event::Venue(VenueReport::OpenOrders { orders, position_lots }) => {
            orders.iter().find_map(|order| price(order.price_ticks).or_else(|| size(order.leaves_lots, 0))).or_else(|| {
                (position_lots.unsigned_abs() > SIZE_LOTS_MAX as u64)
                    .then(|| format!("position_lots {position_lots} is outside ±{SIZE_LOTS_MAX}"))
            })
        }
        _ => None,
    }
}

/// serde_json's message without its " at line L column C" (each journal line is
/// parsed on its own, so the journal's own line and column are given instead), in
/// the words of [`crate::scenario::plain_types`].
fn strip_position(error: &serde_json::Error) -> String {
    let text = error.to_string();
    let text = match text.rfind(" at line ") {
        Some(index) => &text[..index],
        None => text.as_str(),
    };
    crate::scenario::plain_types(text)
}
