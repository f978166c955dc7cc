//! Shadow parity: replays a journal's events into this build's engine, built from
//! the journal's own setup (with parameter changes, if asked), and compares what it
//! emits after each event with what the recorded engine emitted. The same code and
//! parameters must give identical commands all the way (the engine is a pure state
//! machine); a refactoring that should not change behaviour is held to that, and a
//! parameter change shows the first decision it alters.
//!
//! The comparison is exact up to the first event whose commands differ and stops
//! there: after it the recorded venue reports answer orders this engine did not
//! send, so a closed-loop answer needs a new run (`drydock run`), not a replay. The
//! rest of the journal is still read, to count it and to check that its records
//! hash to the fingerprint its end record names (an intact journal).
//!
//! Deliberately not here: changing the market or the venue (they are what the
//! journal recorded) and writing files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use drydock_engine::{Command, EngineError, EngineParams, Event, Nanos, ParamValue};
use drydock_sim::fingerprint::Fingerprinter;
use thiserror::Error;

use drydock_sim::EngineSetup;

use super::{JournalEnd, JournalError, JournalHeader, JournalReader, Record};

/// What a replay found.
#[derive(Clone, Debug, PartialEq)]
pub struct ParityReport {
    /// The journal's header.
    pub header: JournalHeader,
    /// The profile layered over the recorded parameters, when one was.
    pub profile: Option<String>,
    /// The parameters that differ from the recorded ones, with their replayed values
    /// (none: as recorded).
    pub changes: BTreeMap<String, ParamValue>,
    /// Events in the journal.
    pub events: u64,
    /// Commands in the journal.
    pub recorded_commands: u64,
    /// Time of the first and the last event, ns.
    pub span_ns: Option<(Nanos, Nanos)>,
    /// Events after which this engine emitted exactly the recorded commands, before
    /// the first that differs (all of them when identical).
    pub agreed_events: u64,
    /// The first event whose commands differ.
    pub divergence: Option<Divergence>,
    /// The end record; `None` when the journal was cut short.
    pub end: Option<JournalEnd>,
    /// BLAKE3 of the records as read (the run's fingerprint when intact).
    pub records_fingerprint: String,
}

impl ParityReport {
    /// This engine emitted the recorded commands after every event.
    pub fn identical(&self) -> bool {
        self.divergence.is_none()
    }

    /// Whether the journal is whole and its records hash to the fingerprint it names.
    pub fn integrity(&self) -> Integrity {
        match &self.end {
            None => Integrity::CutShort,
            Some(end)
                if end.fingerprint == self.records_fingerprint && end.events == self.events && end.commands == self.recorded_commands =>
            {
                Integrity::Intact
            }
            Some(_) => Integrity::Damaged,
        }
    }

    /// The journal is whole and its records hash to the fingerprint it names.
    pub fn intact(&self) -> bool {
        self.integrity() == Integrity::Intact
    }

    /// Share of the journal's span replayed with identical decisions, percent.
    pub fn agreed_span_pct(&self) -> f64 {
        match (&self.divergence, self.span_ns) {
            (None, _) => 100.0,
            (Some(divergence), Some((first_ns, last_ns))) if last_ns > first_ns => {
                100.0 * (divergence.t_ns - first_ns) as f64 / (last_ns - first_ns) as f64
            }
            _ => 0.0,
        }
    }
}

/// What a journal's end record says of its records.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Integrity {
    /// Whole: the records hash to the fingerprint the end record names.
    Intact,
    /// No end record: the run that wrote it did not finish.
    CutShort,
    /// The records do not hash to the end record's fingerprint: edited or corrupted.
    Damaged,
}

/// The first event after which the engines part.
#[derive(Clone, Debug, PartialEq)]
pub struct Divergence {
    /// 1-based number of the event.
    pub event_number: u64,
    /// Its line in the journal.
    pub line: u64,
    /// Its time, ns.
    pub t_ns: Nanos,
    /// The event.
    pub event: Event,
    /// What the recorded engine emitted after it.
    pub recorded: Vec<Command>,
    /// What this engine emitted after it.
    pub replayed: Vec<Command>,
}

/// Why a replay could not run.
#[derive(Debug, Error)]
pub enum ParityError {
    /// The journal is unreadable or malformed.
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// A parameter change was refused.
    #[error("{flag}: {message}")]
    Change {
        /// The flag as given (`--set engine.gamma=2`, `--profile ultra_safe`).
        flag: String,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// The profile could not be read.
    #[error(transparent)]
    Profile(#[from] crate::scenario::ScenarioError),
    /// The engine refused the journal's setup.
    #[error("{}: the engine refuses the journal's setup: {source}; replay it with the build that wrote it", path.display())]
    Setup {
        /// The journal.
        path: std::path::PathBuf,
        /// The engine's reason.
        #[source]
        source: EngineError,
    },
}

/// Replays the journal at `path` with the parameter changes `flags`
/// (`engine.KEY=VALUE` or `KEY=VALUE`, applied in order).
pub fn replay(path: &Path, flags: &[String]) -> Result<ParityReport, ParityError> {
    replay_with(path, None, flags)
}

/// [`replay`] with an engine profile layered over the recorded parameters first:
/// a name in the nearest `profiles/` at or above the journal's folder (up to its
/// project's root), or a profile file's path. Recorded < profile < `flags`.
pub fn replay_with(path: &Path, profile: Option<&str>, flags: &[String]) -> Result<ParityReport, ParityError> {
    let reader = JournalReader::open(path)?;
    let header = reader.header().clone();
    let setup = replay_setup(path, &header, profile, flags)?;
    let changes = changed_params(&header.engine.params, &setup.params);
    let engine = setup.build().map_err(|source| ParityError::Setup { path: path.to_path_buf(), source })?;
    let mut replay = Replay::new(engine);
    let mut records = reader.records();
    while let Some((record, line)) = records.next_record()? {
        replay.record(record, line);
    }
    // In a journal cut short the last event's commands may be cut too.
    replay.close_event(replay.end.is_none());
    let Replay { events, recorded_commands, span_ns, agreed_events, divergence, end, fingerprinter, .. } = replay;
    Ok(ParityReport {
        header,
        profile: profile.map(|_| setup.profile.clone()),
        changes,
        events,
        recorded_commands,
        span_ns,
        agreed_events,
        divergence,
        end,
        records_fingerprint: fingerprinter.finish(),
    })
}

/// The engine's setup for the replay: the recorded one (which must stand on its
/// own), a profile over it, then the flags.
fn replay_setup(path: &Path, header: &JournalHeader, profile: Option<&str>, flags: &[String]) -> Result<EngineSetup, ParityError> {
    header.engine.build().map_err(|source| ParityError::Setup { path: path.to_path_buf(), source })?;
    let mut setup = header.engine.clone();
    if let Some(profile) = profile {
        let profiles_dir = crate::scenario::nearest_folder(path, "profiles").unwrap_or_else(|| PathBuf::from("profiles"));
        let (name, table) = crate::scenario::read_profile_by(profile, &profiles_dir)?;
        setup.params = setup.params.with_changes(&profile_changes(&table)).map_err(|error| ParityError::Change {
            flag: format!("--profile {profile}"),
            message: format!("{error}; the profile does not fit the recorded parameters"),
        })?;
        setup.profile = name;
    }
    setup.params = apply_changes(&setup.params, flags, &parse_changes(flags)?)?;
    Ok(setup)
}

/// The replay in progress.
struct Replay {
    engine: drydock_engine::Engine,
    fingerprinter: Fingerprinter,
    /// The event whose commands are being collected: line, number, time, event.
    open: Option<(u64, u64, Nanos, Event)>,
    recorded: Vec<Command>,
    replayed: Vec<Command>,
    events: u64,
    recorded_commands: u64,
    span_ns: Option<(Nanos, Nanos)>,
    agreed_events: u64,
    divergence: Option<Divergence>,
    end: Option<JournalEnd>,
}

impl Replay {
    fn new(engine: drydock_engine::Engine) -> Self {
        Replay {
            engine,
            fingerprinter: Fingerprinter::new(false),
            open: None,
            recorded: Vec::new(),
            replayed: Vec::new(),
            events: 0,
            recorded_commands: 0,
            span_ns: None,
            agreed_events: 0,
            divergence: None,
            end: None,
        }
    }

    fn record(&mut self, record: Record, line: u64) {
        match record {
            Record::Event { t_ns, event } => {
                self.fingerprinter.event(t_ns, &event);
                self.close_event(false);
                self.events += 1;
                self.span_ns = Some((self.span_ns.map_or(t_ns, |(first_ns, _)| first_ns), t_ns));
                if self.divergence.is_none() {
                    // The dock hands the engine every event whatever it returns (a
                    // refused parameter update changes nothing), and so does a replay.
                    let _ = self.engine.handle(t_ns, &event, &mut self.replayed);
                    // Completed fills are handed over as the dock does, so they do not pile up.
                    drop(self.engine.take_completed_fills());
                    self.open = Some((line, self.events, t_ns, event));
                }
            }
            Record::Command { t_ns, command } => {
                self.fingerprinter.command(t_ns, &command);
                self.recorded_commands += 1;
                if self.open.is_some() {
                    self.recorded.push(command);
                }
            }
            Record::End(end) => self.end = Some(end),
        }
    }

    /// Compares the open event's commands, recorded and replayed; with `cut_short`
    /// the recorded ones need only begin the replayed ones.
    fn close_event(&mut self, cut_short: bool) {
        let Some((line, event_number, t_ns, event)) = self.open.take() else { return };
        if self.recorded == self.replayed || (cut_short && self.replayed.starts_with(&self.recorded)) {
            self.agreed_events += 1;
        } else {
            let (recorded, replayed) = (std::mem::take(&mut self.recorded), std::mem::take(&mut self.replayed));
            self.divergence = Some(Divergence { event_number, line, t_ns, event, recorded, replayed });
        }
        self.recorded.clear();
        self.replayed.clear();
    }
}

/// The parameters of `after` that differ from `before`, by name.
fn changed_params(before: &EngineParams, after: &EngineParams) -> BTreeMap<String, ParamValue> {
    let (before, after) = (serde_json::to_value(before).expect("params serialize"), serde_json::to_value(after).expect("params serialize"));
    let (Some(before), Some(after)) = (before.as_object(), after.as_object()) else { return BTreeMap::new() };
    after
        .iter()
        .filter(|(name, value)| before.get(*name) != Some(*value))
        .filter_map(|(name, value)| {
            let value = match value {
                serde_json::Value::Number(number) => ParamValue::Number(number.as_f64()?),
                serde_json::Value::Bool(flag) => ParamValue::Flag(*flag),
                serde_json::Value::String(choice) => ParamValue::Choice(choice.clone()),
                _ => return None,
            };
            Some((name.clone(), value))
        })
        .collect()
}

/// A profile's `[engine]` table as parameter changes (the profile was validated
/// when read, so every value has a parameter's type).
fn profile_changes(table: &toml::Table) -> BTreeMap<String, ParamValue> {
    table
        .iter()
        .filter_map(|(name, value)| {
            let value = match value {
                toml::Value::Integer(number) => ParamValue::Number(*number as f64),
                toml::Value::Float(number) => ParamValue::Number(*number),
                toml::Value::Boolean(flag) => ParamValue::Flag(*flag),
                toml::Value::String(choice) => ParamValue::Choice(choice.clone()),
                _ => return None,
            };
            Some((name.clone(), value))
        })
        .collect()
}

/// Parses `engine.KEY=VALUE` flags: `true`/`false` is a flag, a number a number,
/// anything else a choice (`microprice`).
fn parse_changes(flags: &[String]) -> Result<BTreeMap<String, ParamValue>, ParityError> {
    let mut changes = BTreeMap::new();
    for flag in flags {
        let (name, value) = parse_change(flag)?;
        changes.insert(name, value);
    }
    Ok(changes)
}

fn parse_change(flag: &str) -> Result<(String, ParamValue), ParityError> {
    let refuse = |message: &str| ParityError::Change { flag: format!("--set {flag}"), message: message.to_string() };
    let (key, value) = flag.split_once('=').ok_or_else(|| refuse("expected engine.KEY=VALUE, e.g. engine.gamma=0.2"))?;
    let key = key.trim();
    let name = key.strip_prefix("engine.").unwrap_or(key);
    if name.is_empty() {
        return Err(refuse("expected engine.KEY=VALUE, e.g. engine.gamma=0.2"));
    }
    if name.contains('.') {
        return Err(refuse(
            "a replay changes engine parameters only (engine.KEY=VALUE): the market and the venue are what the journal recorded; for other changes run the scenario again",
        ));
    }
    let value = value.trim();
    let parsed = match value {
        "true" => ParamValue::Flag(true),
        "false" => ParamValue::Flag(false),
        _ => match value.parse::<f64>() {
            Ok(number) if number.is_finite() => ParamValue::Number(number),
            Ok(_) => return Err(refuse("the value must be a finite number")),
            Err(_) => ParamValue::Choice(value.trim_matches('"').to_string()),
        },
    };
    Ok((name.to_string(), parsed))
}

/// `params` with every change applied and validated as a whole; a refusal names
/// the first flag that brings it about.
fn apply_changes(params: &EngineParams, flags: &[String], changes: &BTreeMap<String, ParamValue>) -> Result<EngineParams, ParityError> {
    if let Ok(changed) = params.with_changes(changes) {
        return Ok(changed);
    }
    let mut prefix = BTreeMap::new();
    for flag in flags {
        let (name, value) = parse_change(flag)?;
        prefix.insert(name, value);
        if let Err(error) = params.with_changes(&prefix) {
            return Err(ParityError::Change { flag: format!("--set {flag}"), message: error.to_string() });
        }
    }
    // Only reached when `params` alone is refused, which the caller rules out first.
    let message = params.with_changes(changes).err().map_or_else(String::new, |error| error.to_string());
    Err(ParityError::Change { flag: format!("--set {}", flags.join(" --set ")), message })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_parse_to_parameter_values() {
        assert_eq!(parse_change("engine.gamma=0.2").unwrap(), ("gamma".to_string(), ParamValue::Number(0.2)));
        assert_eq!(parse_change("kill_flatten=false").unwrap(), ("kill_flatten".to_string(), ParamValue::Flag(false)));
        assert_eq!(
            parse_change("engine.fair_value_mode=\"microprice\"").unwrap(),
            ("fair_value_mode".to_string(), ParamValue::Choice("microprice".to_string()))
        );
        for bad in ["engine.gamma", "=1", "market.volatility_annual=0.5", "engine.gamma=inf"] {
            let error = parse_change(bad).unwrap_err().to_string();
            assert!(error.starts_with(&format!("--set {bad}: ")), "{error}");
        }
    }

    #[test]
    fn a_refused_change_names_its_flag() {
        let params = EngineParams::default();
        let flags = vec!["engine.gamma=0.2".to_string(), "engine.inventory_hard_lots=1".to_string()];
        let changes = parse_changes(&flags).unwrap();
        let error = apply_changes(&params, &flags, &changes).unwrap_err().to_string();
        assert!(error.starts_with("--set engine.inventory_hard_lots=1: "), "{error}");
        let fine = vec!["engine.gamma=0.2".to_string()];
        assert_eq!(apply_changes(&params, &fine, &parse_changes(&fine).unwrap()).unwrap().gamma, 0.2);
    }
}
