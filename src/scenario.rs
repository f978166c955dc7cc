//! Scenario files (`scenarios/*.toml`): parsing, layering and validation.
//!
//! A scenario has `[scenario]` (name, description, seed, duration), `[market]`,
//! `[exchange]`, `[engine]` (any engine parameter), `[[events]]` and `[[expect]]`.
//! Engine parameters are layered, lowest to highest: built-in defaults < scenario
//! file < profile (`--profile`) < `--set` overrides; each effective value remembers
//! where it came from. Every problem is reported with file:line:column, the field
//! and what is allowed: unknown keys and wrong types from the TOML parser's spans,
//! out-of-range values and impossible timelines by locating the offending key in the
//! source. This module reads files; it does not run anything.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use drydock_engine::EngineParams;
use std::sync::{Arc, Mutex};

use drydock_sim::config::{
    ExchangeConfig, FillModel, InjectedEvent, InstrumentConfig, MarketConfig, MarketModel, ReactionConfig, ReplaySourceConfig, SimConfig,
};
use drydock_sim::replay::decimal::Grid;
use drydock_sim::replay::tape::{ReplayTape, SharedTape, TapeOptions};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::expect::Expectation;
use crate::soak::SoakConfig;

/// Where a problem is: a file position, or a command-line flag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    /// A position in a file (1-based line and column).
    File {
        /// The file.
        path: PathBuf,
        /// Line, from 1.
        line: usize,
        /// Column, from 1.
        column: usize,
    },
    /// A command-line argument.
    Flag(String),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::File { path, line, column } => write!(f, "{}:{line}:{column}", path.display()),
            Location::Flag(flag) => write!(f, "{flag}"),
        }
    }
}

/// Bad input in a scenario, profile or override.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{location}: `{field}`: {message}")]
pub struct ScenarioError {
    /// Where.
    pub location: Location,
    /// The setting, as a dotted path.
    pub field: String,
    /// What is wrong and what is allowed.
    pub message: String,
}

/// The `[scenario]` section.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioHeader {
    /// Short name; output folders and golden files use it.
    pub name: String,
    /// What the scenario is about, for people.
    #[serde(default)]
    pub description: String,
    /// Root seed.
    pub seed: u64,
    /// Simulated duration, seconds.
    pub duration_s: f64,
}

/// A scenario file as written.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScenarioDocument {
    scenario: ScenarioHeader,
    #[serde(default)]
    market: MarketConfig,
    #[serde(default)]
    exchange: ExchangeConfig,
    #[serde(default)]
    engine: toml::Table,
    #[serde(default)]
    events: Vec<InjectedEvent>,
    #[serde(default)]
    reaction: ReactionConfig,
    #[serde(default)]
    expect: Vec<Expectation>,
    #[serde(default)]
    soak: Option<SoakConfig>,
    #[serde(default)]
    golden: GoldenSection,
}

/// The `[golden]` section: per-metric tolerances for values known to vary across
/// platforms (dotted snapshot paths, e.g. `kpis.pnl_total = 0.01`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct GoldenSection {
    #[serde(default)]
    tolerances: BTreeMap<String, f64>,
}

/// Where an effective engine parameter came from.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParamSource {
    /// The built-in default.
    Default,
    /// The scenario file.
    Scenario,
    /// A profile file.
    Profile(String),
    /// A `--set` override.
    Override,
}

impl fmt::Display for ParamSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamSource::Default => write!(f, "default"),
            ParamSource::Scenario => write!(f, "scenario"),
            ParamSource::Profile(name) => write!(f, "profile {name}"),
            ParamSource::Override => write!(f, "--set"),
        }
    }
}

/// A loaded, layered and validated scenario.
#[derive(Clone, Debug, PartialEq)]
pub struct Scenario {
    /// The file it came from.
    pub path: PathBuf,
    /// The `[scenario]` section (after overrides).
    pub header: ScenarioHeader,
    /// What the dock runs.
    pub sim: SimConfig,
    /// Effective engine parameters.
    pub params: EngineParams,
    /// Where each engine parameter that is not a default came from.
    pub param_sources: BTreeMap<String, ParamSource>,
    /// Name of the profile in force (`default` when none was given).
    pub profile: String,
    /// Assertions on the outcome.
    pub expectations: Vec<Expectation>,
    /// BLAKE3 of the scenario file's bytes.
    pub file_hash: String,
    /// The `[soak]` section, when the scenario is a soak.
    pub soak: Option<SoakConfig>,
    /// A soak's panic-revert parameters: the scenario's engine section under the
    /// safe profile (and `--set`).
    pub safe_params: Option<EngineParams>,
    /// Golden comparison tolerances by snapshot path.
    pub tolerances: BTreeMap<String, f64>,
}

/// Options that layer on top of the file.
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    /// A profile name (looked up in the profiles folder) or a path to a profile file.
    pub profile: Option<String>,
    /// `--set section.key=value` overrides, in order.
    pub overrides: Vec<String>,
    /// Replaces `[scenario].seed`.
    pub seed: Option<u64>,
    /// Where named profiles live; `None` finds the nearest `profiles/` folder at or
    /// above the scenario's folder within its project (so a repository's scenarios
    /// find its profiles from any working directory), else `profiles` in the working
    /// directory.
    pub profiles_dir: Option<PathBuf>,
    /// Recordings already loaded, shared by every scenario loaded with these options.
    pub tapes: TapeCache,
}

/// Replay tapes loaded once and shared read-only (between sweep points, checked
/// scenarios and threads), keyed by what made them: files, reading options, grid.
#[derive(Clone, Debug, Default)]
pub struct TapeCache(Arc<Mutex<BTreeMap<String, Arc<ReplayTape>>>>);

impl TapeCache {
    /// The tape of `source` on `instrument`'s grid, loading it on first use; `base`
    /// is the scenario file's folder. Errors are messages for `market.source`.
    pub fn get(&self, source: &ReplaySourceConfig, instrument: &InstrumentConfig, base: &Path) -> Result<Arc<ReplayTape>, String> {
        let files = source.replay.iter().map(|file| resolve_data_file(file, base)).collect::<Result<Vec<_>, _>>()?;
        let grid =
            |step: f64, name: &str| Grid::from_f64(step).ok_or_else(|| format!("market.instrument.{name} = {step} is not a decimal step"));
        let (tick, lot) = (grid(instrument.tick_size, "tick_size")?, grid(instrument.lot_size, "lot_size")?);
        let key = serde_json::to_string(&(&files, source, tick.to_string(), lot.to_string())).expect("tape key serializes");
        let mut tapes = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(tape) = tapes.get(&key) {
            return Ok(Arc::clone(tape));
        }
        let options = TapeOptions {
            format: source.format,
            clock: source.clock,
            offset_ns: source.offset_ms * 1_000_000,
            gap_policy: source.gap_policy,
            skip_bad_lines: source.skip_bad_lines,
        };
        let tape = Arc::new(ReplayTape::load(&files, &options, tick, lot).map_err(|error| error.to_string())?);
        tapes.insert(key, Arc::clone(&tape));
        Ok(tape)
    }
}

/// The folder relative recording paths are looked up in first: `DRYDOCK_DATA_DIR`,
/// else `../shared/data`.
pub fn data_dir() -> PathBuf {
    std::env::var_os("DRYDOCK_DATA_DIR").map_or_else(|| PathBuf::from("../shared/data"), PathBuf::from)
}

/// An absolute path as is; a relative one in the data folder, else next to the
/// scenario, else in the nearest `shared/data` folder above the scenario (the
/// checkout's neighbour, found from any working directory).
fn resolve_data_file(file: &str, base: &Path) -> Result<PathBuf, String> {
    let path = Path::new(file);
    if path.is_absolute() {
        return if path.exists() { Ok(path.to_path_buf()) } else { Err(format!("recording {file} does not exist")) };
    }
    // Absolute, so a scenario named relative to the working directory (`replay/x.toml`
    // run inside scenarios/) still sees the folders above it; a bare file name's
    // folder is the empty path, which has no absolute form: `.`.
    let folder = if base.as_os_str().is_empty() { Path::new(".") } else { base };
    let absolute_base = std::path::absolute(folder).unwrap_or_else(|_| folder.to_path_buf());
    let shared = absolute_base.ancestors().map(|dir| dir.join("shared/data")).find(|dir| dir.is_dir());
    let candidates = [Some(data_dir().join(path)), Some(base.join(path)), shared.map(|dir| dir.join(path))];
    candidates.iter().flatten().find(|candidate| candidate.exists()).cloned().ok_or_else(|| {
        let looked: Vec<String> = candidates.iter().flatten().map(|candidate| candidate.display().to_string()).collect();
        format!("recording {file} is in none of {}; set DRYDOCK_DATA_DIR to the folder that holds it", looked.join(", "))
    })
}

/// An existing scenario file that a missing `path` probably meant: the name with
/// `.toml` added, or the same name in the `scenarios/` folder of the working directory
/// (`drydock check calm` for `scenarios/calm.toml`).
fn similar_scenario_path(path: &Path) -> Option<PathBuf> {
    let with_extension = path.extension().is_none().then(|| path.with_extension("toml"));
    let in_catalogue = path.is_relative().then(|| Path::new("scenarios").join(path));
    let in_catalogue_with_extension =
        in_catalogue.as_ref().filter(|_| path.extension().is_none()).map(|candidate| candidate.with_extension("toml"));
    [with_extension, in_catalogue, in_catalogue_with_extension].into_iter().flatten().find(|candidate| candidate.is_file())
}

impl Scenario {
    /// Reads, layers and validates the scenario at `path`.
    pub fn load(path: &Path, options: &LoadOptions) -> Result<Scenario, ScenarioError> {
        let text = std::fs::read_to_string(path).map_err(|error| ScenarioError {
            location: Location::File { path: path.to_path_buf(), line: 1, column: 1 },
            field: "file".to_string(),
            message: match similar_scenario_path(path).filter(|_| error.kind() == std::io::ErrorKind::NotFound) {
                Some(similar) => format!("cannot read the scenario: {error}; did you mean {}?", similar.display()),
                None if error.kind() == std::io::ErrorKind::InvalidData => {
                    format!("cannot read the scenario: {error}; a scenario is a TOML file in UTF-8, save it as such")
                }
                None => format!("cannot read the scenario: {error}; check the path"),
            },
        })?;
        Self::parse(path, &text, options)
    }

    /// Parses scenario text (`path` is used in messages). An error placed in the file,
    /// or on all the `--set` flags at once, that only the flags bring about (the file
    /// alone loads) is placed at the first flag that brings it about instead: a flag
    /// that lengthens an event past the scenario's end is blamed, not the event's line.
    pub fn parse(path: &Path, text: &str, options: &LoadOptions) -> Result<Scenario, ScenarioError> {
        let error = match Self::parse_with(path, text, options) {
            Ok(scenario) => return Ok(scenario),
            Err(error) => error,
        };
        // Settled already: no flags, or one flag named alone (several joined means the
        // error could not tell which).
        if options.overrides.is_empty() || (matches!(error.location, Location::Flag(_)) && !is_joined(&error.location)) {
            return Err(error);
        }
        let with_first = |count: usize| LoadOptions { overrides: options.overrides[..count].to_vec(), ..options.clone() };
        if Self::parse_with(path, text, &with_first(0)).is_err() {
            return Err(error);
        }
        for count in 1..=options.overrides.len() {
            if let Err(found) = Self::parse_with(path, text, &with_first(count)) {
                let assignment = &options.overrides[count - 1];
                // Still on several flags joined: its field was a guess; the flag's own key is not.
                let field =
                    if is_joined(&found.location) { field_of_key(assignment.split('=').next().unwrap_or("").trim()) } else { found.field };
                return Err(ScenarioError { location: Location::Flag(format!("--set {assignment}")), field, message: found.message });
            }
        }
        Err(error)
    }

    fn parse_with(path: &Path, text: &str, options: &LoadOptions) -> Result<Scenario, ScenarioError> {
        let source = SourceMap::new(path, text);
        // The file on its own first, so its errors keep the parser's exact spans.
        let file_document: ScenarioDocument =
            toml::from_str(text).map_err(|error: toml::de::Error| with_kinds_allowed(text, source.toml_error(&error)))?;
        parse_engine_params(&source, &file_document.engine)?;
        let mut table: toml::Table = text.parse().map_err(|error: toml::de::Error| source.toml_error(&error))?;
        let mut document = if options.overrides.is_empty() {
            file_document
        } else {
            for assignment in &options.overrides {
                apply_override(&mut table, assignment)?;
            }
            toml::Value::Table(table.clone())
                .try_into()
                .map_err(|error: toml::de::Error| override_error(&options.overrides, error.message()))?
        };
        if let Some(message) = unusable_name(&document.scenario.name) {
            return Err(setting_error(&source, &options.overrides, "scenario.name", &message));
        }
        // Set on the parsed document, not in the TOML: a TOML integer is signed, and a
        // seed is any 64-bit unsigned number.
        if let Some(seed) = options.seed {
            document.scenario.seed = seed;
        }
        if let Some((field, message)) = ignored_market_setting(&table, &document.market)
            .map(|(key, message)| (format!("market.{key}"), message))
            .or_else(|| ignored_exchange_setting(&table, &document.exchange))
        {
            return Err(ScenarioError { location: setting_location(&source, &options.overrides, &field), field, message });
        }
        let (profile, profile_table) = match &options.profile {
            Some(name) => {
                let location = Location::Flag(format!("--profile {name}"));
                let (profile, table) = read_profile(name, &profiles_dir(path, options), location, "profile")?;
                (profile, Some(table))
            }
            None => ("default".to_string(), None),
        };
        let override_keys: Vec<&str> =
            options.overrides.iter().filter_map(|assignment| assignment.split('=').next()).map(str::trim).collect();
        let (params, param_sources) = layer_engine_params(&document.engine, profile_table.as_ref(), &profile, &override_keys)
            .map_err(|message| override_error(&options.overrides, &message))?;
        let mut sim = SimConfig {
            seed: document.scenario.seed,
            duration_s: document.scenario.duration_s,
            market: document.market,
            exchange: document.exchange,
            events: document.events,
            reaction: document.reaction,
            tape: None,
        };
        sim.validate().map_err(|error| setting_error(&source, &options.overrides, &error.field, &error.message))?;
        if let Some(replay) = &sim.market.source {
            let base = path.parent().unwrap_or(Path::new("."));
            let tape = options.tapes.get(replay, &sim.market.instrument, base).map_err(|message| source.at("market.source", &message))?;
            sim.tape = Some(SharedTape(tape));
            sim.validate_tape().map_err(|error| source.at(&error.field, &error.message))?;
        }
        for (index, expectation) in document.expect.iter().enumerate() {
            expectation.validate(&sim).map_err(|(key, message)| source.at(&format!("expect[{index}].{key}"), &message))?;
            let field = format!("expect[{index}].metric");
            if expectation.metric.starts_with("soak.") && document.soak.is_none() {
                return Err(
                    source.at(&field, "soak.* metrics exist only in scenarios with a [soak] section; add one or use a kpis.* metric")
                );
            }
        }
        for (metric, tolerance) in &document.golden.tolerances {
            if !tolerance.is_finite() || *tolerance < 0.0 {
                return Err(source.at(&format!("golden.tolerances.{metric}"), &format!("{tolerance} must be a finite number >= 0")));
            }
        }
        let safe_params = match &document.soak {
            Some(soak) => {
                soak.validate(sim.duration_s).map_err(|(field, message)| setting_error(&source, &options.overrides, &field, &message))?;
                let location = setting_location(&source, &options.overrides, "soak.safe_profile");
                let (safe_name, safe_table) =
                    read_profile(&soak.safe_profile, &profiles_dir(path, options), location, "soak.safe_profile")?;
                let (safe, _) = layer_engine_params(&document.engine, Some(&safe_table), &safe_name, &override_keys)
                    .map_err(|message| override_error(&options.overrides, &message))?;
                Some(safe)
            }
            None => None,
        };
        Ok(Scenario {
            path: path.to_path_buf(),
            header: document.scenario,
            sim,
            params,
            param_sources,
            profile,
            expectations: document.expect,
            file_hash: blake3::hash(text.as_bytes()).to_hex().to_string(),
            soak: document.soak,
            safe_params,
            tolerances: document.golden.tolerances,
        })
    }

    /// BLAKE3 of the effective configuration (dock and engine), for reports.
    pub fn config_hash(&self) -> String {
        let text = serde_json::to_string(&(&self.sim, &self.params)).expect("configuration serializes");
        blake3::hash(text.as_bytes()).to_hex().to_string()
    }
}

/// Where the setting `field` (or one inside it) was written: the last `--set` flag
/// that wrote it (a later flag overwrites an earlier one), else its place in the file.
fn setting_location(source: &SourceMap, overrides: &[String], field: &str) -> Location {
    let written_by = |assignment: &&String| {
        let key = field_of_key(assignment.split('=').next().unwrap_or("").trim());
        key == field || key.starts_with(&format!("{field}.")) || key.starts_with(&format!("{field}["))
    };
    match overrides.iter().rev().find(written_by) {
        Some(assignment) => Location::Flag(format!("--set {assignment}")),
        None => source.location_of(field),
    }
}

/// An error about setting `field`: at the `--set` flag that wrote it, else at its
/// place in the file.
fn setting_error(source: &SourceMap, overrides: &[String], field: &str, message: &str) -> ScenarioError {
    ScenarioError { location: setting_location(source, overrides, field), field: field.to_string(), message: message.trim().to_string() }
}

/// True for the location [`override_error`] gives when it cannot tell which flag.
fn is_joined(location: &Location) -> bool {
    matches!(location, Location::Flag(flag) if flag.contains(" --set "))
}

/// An error caused by `--set` overrides: blamed on the last override it names, else on all.
fn override_error(overrides: &[String], message: &str) -> ScenarioError {
    let named = overrides.iter().rev().find(|assignment| {
        let key = assignment.split('=').next().unwrap_or("").trim();
        let last = key.rsplit('.').next().unwrap_or(key);
        message.contains(&format!("`{last}`")) || message.contains(&format!("`{key}`"))
    });
    let shown = named.map_or_else(|| overrides.join(" --set "), String::clone);
    ScenarioError {
        location: Location::Flag(format!("--set {shown}")),
        field: shown.split('=').next().unwrap_or("").trim().to_string(),
        message: plain_types(message.trim()),
    }
}

/// Why `name` cannot name output folders and golden files, if it cannot: it must be
/// letters, digits, `_`, `-` and `.`, not starting with `.` (no paths, nothing hidden).
pub fn unusable_name(name: &str) -> Option<String> {
    let usable = !name.is_empty()
        && !name.starts_with('.')
        && name.len() <= 100
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    let shown = if name.is_empty() { "an empty name".to_string() } else { format!("`{name}`") };
    (!usable).then(|| {
        format!("{shown} cannot name files: use 1 to 100 letters, digits, `_`, `-` or `.`, not starting with `.` (it names output folders and golden files)")
    })
}

/// The field path of an override key: `events.0.start_s` is `events[0].start_s`.
fn field_of_key(key: &str) -> String {
    key.split('.').fold(String::new(), |mut path, part| {
        if part.parse::<usize>().is_ok() && !path.is_empty() {
            path.push_str(&format!("[{part}]"));
        } else {
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(part);
        }
        path
    })
}

/// A key with list indexes written as errors name fields (`events[0].start_s`) in
/// the dotted form `--set` reads (`events.0.start_s`); other keys unchanged.
fn dotted_key(key: &str) -> String {
    let mut dotted = String::with_capacity(key.len());
    let mut rest = key;
    while let Some(open) = rest.find('[') {
        let close = rest[open..].find(']').map(|close| open + close);
        let index = close.map(|close| &rest[open + 1..close]);
        match (close, index) {
            (Some(close), Some(index)) if !index.is_empty() && index.chars().all(|c| c.is_ascii_digit()) => {
                dotted.push_str(&rest[..open]);
                dotted.push('.');
                dotted.push_str(index);
                rest = &rest[close + 1..];
            }
            _ => break,
        }
    }
    dotted.push_str(rest);
    dotted
}

/// Applies one `--set a.b.c=value` to the document; returns the dotted key. A
/// number addresses an entry of a list: `events.0.start_s`.
fn apply_override(table: &mut toml::Table, assignment: &str) -> Result<String, ScenarioError> {
    let flag_error = |message: String| ScenarioError {
        location: Location::Flag(format!("--set {assignment}")),
        field: field_of_key(assignment.split('=').next().unwrap_or("").trim()),
        message,
    };
    let Some((key, raw_value)) = assignment.split_once('=') else {
        return Err(flag_error("expected section.key=value, e.g. engine.min_interval_ms=200".to_string()));
    };
    let key = key.trim();
    let dotted = dotted_key(key);
    let parts: Vec<&str> = dotted.split('.').collect();
    if parts.len() < 2 || parts.iter().any(|part| part.is_empty()) {
        return Err(flag_error("the key needs a section, e.g. engine.min_interval_ms or market.volatility_annual".to_string()));
    }
    let value = parse_value(raw_value.trim());
    let digits = raw_value.trim().trim_start_matches(['+', '-']);
    if value.is_str() && !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit() || c == '_') {
        return Err(flag_error(format!(
            "{} does not fit a 64-bit integer; give a smaller whole number, or quote it if it is text",
            raw_value.trim()
        )));
    }
    let (last, sections) = parts.split_last().expect("at least two parts");
    let mut cursor = table;
    let mut index = 0;
    while index < sections.len() {
        let part = sections[index];
        let indexed = sections.get(index + 1).is_some_and(|next| next.parse::<usize>().is_ok());
        if indexed && !cursor.contains_key(part) {
            let list = sections[..=index].join(".");
            return Err(flag_error(format!("`{list}` has no entries in this scenario: add one to the file to set its fields")));
        }
        let mut entry = cursor.entry(part.to_string()).or_insert_with(|| toml::Value::Table(toml::Table::new()));
        while let toml::Value::Array(items) = entry {
            let list = sections[..=index].join(".");
            let Some(position) = sections.get(index + 1).and_then(|next| next.parse::<usize>().ok()) else {
                let example = if last.parse::<usize>().is_ok() { format!("{list}.{last}.<field>") } else { format!("{list}.0.{last}") };
                return Err(flag_error(format!("`{list}` is a list: set a field of one entry, by its index from 0, e.g. {example}")));
            };
            let count = items.len();
            entry = items.get_mut(position).ok_or_else(|| {
                let entries = if count == 1 { "entry" } else { "entries" };
                flag_error(format!("`{list}` has {count} {entries}: {position} is not an index of one (they run from 0)"))
            })?;
            index += 1;
        }
        cursor = entry.as_table_mut().ok_or_else(|| flag_error(format!("`{}` is not a section", sections[..=index].join("."))))?;
        index += 1;
    }
    cursor.insert(last.to_string(), value);
    Ok(key.to_string())
}

/// A TOML literal if it parses as one (number, boolean, quoted string), else a bare string.
fn parse_value(raw: &str) -> toml::Value {
    format!("v = {raw}")
        .parse::<toml::Table>()
        .ok()
        .and_then(|mut table| table.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_string()))
}

/// The folder named profiles are read from for the scenario at `scenario_path`.
pub fn profiles_dir(scenario_path: &Path, options: &LoadOptions) -> PathBuf {
    if let Some(dir) = &options.profiles_dir {
        return dir.clone();
    }
    nearest_folder(scenario_path, "profiles").unwrap_or_else(|| PathBuf::from("profiles"))
}

/// The nearest folder called `name` at or above the folder of `file`, looking no
/// higher than the project that holds it (the first folder up with a `Cargo.toml` or
/// `.git`), or than the file's folder's parent outside a project — so an unrelated
/// `golden/` or `profiles/` higher up is never used.
pub fn nearest_folder(file: &Path, name: &str) -> Option<PathBuf> {
    // A relative path first (messages stay short); its absolute form sees the folders
    // above the working directory (`drydock check calm.toml` run inside scenarios/).
    nearest_folder_on(file, name).or_else(|| std::path::absolute(file).ok().and_then(|absolute| nearest_folder_on(&absolute, name)))
}

fn nearest_folder_on(file: &Path, name: &str) -> Option<PathBuf> {
    let folders: Vec<&Path> = file.ancestors().skip(1).collect();
    let project_root = folders.iter().position(|dir| dir.join("Cargo.toml").is_file() || dir.join(".git").exists());
    let searched = project_root.map_or(folders.len().min(2), |index| index + 1);
    folders[..searched].iter().map(|dir| dir.join(name)).find(|dir| dir.is_dir())
}

/// Reads a profile by name (in `profiles_dir`) or path (as it is): its name and
/// engine settings, validated. A missing file is an error located at a `--profile`
/// flag, for the caller to place where the name came from (it lists the profiles
/// `profiles_dir` holds); errors inside the file point into it.
pub fn read_profile_by(profile: &str, profiles_dir: &Path) -> Result<(String, toml::Table), ScenarioError> {
    read_profile(profile, profiles_dir, Location::Flag(format!("--profile {profile}")), "profile")
}

/// Reads a profile by name (in `profiles_dir`) or path; errors are located at
/// `location` (naming `field`) when the file is missing, inside the profile file otherwise.
fn read_profile(name: &str, profiles_dir: &Path, location: Location, field: &str) -> Result<(String, toml::Table), ScenarioError> {
    let named = !(name.ends_with(".toml") || name.contains('/'));
    let path = if named { profiles_dir.join(format!("{name}.toml")) } else { PathBuf::from(name) };
    let text = std::fs::read_to_string(&path).map_err(|error| {
        let fix = if named {
            let known = profile_names(profiles_dir);
            let known = if known.is_empty() { String::new() } else { format!(" (there: {})", known.join(", ")) };
            format!("name a profile in {}{known}, put {name}.toml there, or give a profile file's path", profiles_dir.display())
        } else {
            "check the path".to_string()
        };
        ScenarioError { location, field: field.to_string(), message: format!("cannot read profile {}: {error}; {fix}", path.display()) }
    })?;
    let source = SourceMap::new(&path, &text);
    let mut table: toml::Table = text.parse().map_err(|error: toml::de::Error| source.toml_error(&error))?;
    for key in table.keys() {
        if key != "engine" && key != "profile" {
            return Err(source.at(key, "a profile holds [profile] (name, description) and [engine] only"));
        }
    }
    let engine = match table.remove("engine") {
        Some(toml::Value::Table(engine)) => engine,
        Some(_) => return Err(source.at("engine", "must be a table of engine parameters")),
        None => toml::Table::new(),
    };
    let profile_name = path.file_stem().map_or_else(|| name.to_string(), |stem| stem.to_string_lossy().to_string());
    // Validate the profile on its own so its errors point into the profile file.
    parse_engine_params(&source, &engine)?;
    Ok((profile_name, engine))
}

/// The profiles a folder holds, by name, sorted (none when it cannot be read).
fn profile_names(profiles_dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(profiles_dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "toml"))
        .filter_map(|path| path.file_stem().map(|stem| stem.to_string_lossy().to_string()))
        .collect();
    names.sort();
    names
}

/// Layers the engine parameters: defaults < scenario (with `--set engine.*` already
/// applied to it) < profile < `--set engine.*` again (so overrides beat the profile).
/// The file and the profile were validated on their own, so an error here comes
/// from an override.
fn layer_engine_params(
    scenario: &toml::Table,
    profile: Option<&toml::Table>,
    profile_name: &str,
    override_keys: &[&str],
) -> Result<(EngineParams, BTreeMap<String, ParamSource>), String> {
    let overridden: Vec<&str> = override_keys.iter().filter_map(|key| key.strip_prefix("engine.")).collect();
    let mut merged = scenario.clone();
    let mut sources: BTreeMap<String, ParamSource> = scenario.keys().map(|key| (key.clone(), ParamSource::Scenario)).collect();
    if let Some(profile) = profile {
        for (key, value) in profile.iter().filter(|(key, _)| !overridden.contains(&key.as_str())) {
            merged.insert(key.clone(), value.clone());
            sources.insert(key.clone(), ParamSource::Profile(profile_name.to_string()));
        }
    }
    for key in overridden {
        sources.insert(key.to_string(), ParamSource::Override);
    }
    let params: EngineParams = toml::Value::Table(merged).try_into().map_err(|error: toml::de::Error| plain_types(error.message()))?;
    params.validate().map_err(|error| error.to_string())?;
    Ok((params, sources))
}

/// Parses an `[engine]` table on its own, locating errors at the offending key.
fn parse_engine_params(source: &SourceMap, table: &toml::Table) -> Result<EngineParams, ScenarioError> {
    let params: EngineParams = toml::Value::Table(table.clone()).try_into().map_err(|error: toml::de::Error| {
        let message = plain_types(error.message());
        source.at(&format!("engine.{}", offending_key(table, error.message())), &message)
    })?;
    params.validate().map_err(|error| {
        let key = match &error {
            drydock_engine::ParamError::OutOfRange { name, .. } | drydock_engine::ParamError::NotInteger { name, .. } => name.to_string(),
            drydock_engine::ParamError::Ordering { lower, .. } => lower.to_string(),
            _ => String::new(),
        };
        source.at(&format!("engine.{key}"), &error.to_string())
    })?;
    Ok(params)
}

/// The key of `table` a deserialization error is about: named in the message, else
/// the first key that fails on its own (type errors do not name their key).
fn offending_key(table: &toml::Table, message: &str) -> String {
    if let Some(key) = table.keys().find(|key| message.contains(&format!("`{key}`"))) {
        return key.clone();
    }
    table
        .iter()
        .find(|(key, value)| {
            let mut single = toml::Table::new();
            single.insert((*key).clone(), (*value).clone());
            toml::Value::Table(single).try_into::<EngineParams>().is_err()
        })
        .map(|(key, _)| key.clone())
        .unwrap_or_default()
}

/// A deserializer's message in the user's words: serde names the Rust type it
/// wanted (`expected u32`); a scenario's author wants the numbers that are allowed.
pub(crate) fn plain_types(message: &str) -> String {
    const TYPES: [(&str, &str); 10] = [
        ("u8", "a whole number from 0 to 255"),
        ("u16", "a whole number from 0 to 65535"),
        ("u32", "a whole number from 0 to 4294967295"),
        ("u64", "a whole number from 0 to 18446744073709551615"),
        ("usize", "a whole number from 0 to 18446744073709551615"),
        ("i8", "a whole number from -128 to 127"),
        ("i16", "a whole number from -32768 to 32767"),
        ("i32", "a whole number"),
        ("i64", "a whole number"),
        ("f64", "a number"),
    ];
    let Some((head, wanted)) = message.rsplit_once(", expected ") else {
        return message.to_string();
    };
    let wanted = wanted.trim();
    let words = match TYPES.iter().find(|(rust_type, _)| *rust_type == wanted) {
        Some((_, words)) => words,
        // A section's settings, as its own table or an inline `{ key = value }`.
        None if wanted.starts_with("struct ") => "a table of settings (a section of its own)",
        None if wanted.starts_with("internally tagged enum ") => "a table of settings with its `kind`",
        None if wanted == "string only" => "a name in quotes",
        None => return message.to_string(),
    };
    format!("{head}, expected {words}")
}

/// Finds where dotted settings are written in a TOML source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceMap {
    path: PathBuf,
    lines: Vec<String>,
    text_bytes: usize,
}

impl SourceMap {
    /// A map over `text` from `path`.
    pub fn new(path: &Path, text: &str) -> Self {
        SourceMap { path: path.to_path_buf(), lines: text.lines().map(str::to_string).collect(), text_bytes: text.len() }
    }

    /// An error located at the setting `field` (e.g. `events[2].start_s`).
    pub fn at(&self, field: &str, message: &str) -> ScenarioError {
        ScenarioError { location: self.location_of(field), field: field.to_string(), message: message.to_string() }
    }

    /// Where the setting `field` is written in the file.
    pub fn location_of(&self, field: &str) -> Location {
        let (line, column) = self.locate(field);
        Location::File { path: self.path.clone(), line, column }
    }

    /// Converts a TOML parse error (with its span) into a located error whose field
    /// is the full dotted path (`events[1].kind`, `exchange.latency.ack.sigma`).
    pub fn toml_error(&self, error: &toml::de::Error) -> ScenarioError {
        let (line, column) = error.span().map_or((1, 1), |span| self.position(span.start));
        let message = plain_types(error.message().trim());
        let message = message.as_str();
        // A missing or unknown field is reported at its table; the parser spans the
        // top level with nothing (0..0) or the whole document. Any other error at its value.
        let whole_document = error.span().is_some_and(|span| span.start == 0 && (span.end == 0 || span.end >= self.text_bytes));
        let field = match field_named_by(message) {
            Some(key) if whole_document => key.to_string(),
            Some(key) => join_field(&self.table_spanning(line), key),
            None => self.key_at_line(line).map_or_else(|| "toml".to_string(), |key| join_field(&self.table_at(line), &key)),
        };
        ScenarioError { location: Location::File { path: self.path.clone(), line, column }, field, message: message.to_string() }
    }

    fn key_at_line(&self, line: usize) -> Option<String> {
        let text = self.lines.get(line.checked_sub(1)?)?;
        if text.trim_start().starts_with('[') {
            return None;
        }
        let (key, _) = text.split_once('=')?;
        Some(key.trim().to_string()).filter(|key| !key.is_empty())
    }

    /// The table whose header is the last one at or above `line` (1-based), with an
    /// array table's index (`events[2]`); empty for the top level.
    fn table_at(&self, line: usize) -> String {
        let mut current = String::new();
        let mut array_counts: BTreeMap<String, usize> = BTreeMap::new();
        for raw in self.lines.iter().take(line) {
            let text = raw.trim_start();
            if let Some(name) = text.strip_prefix("[[").and_then(|rest| rest.split("]]").next()) {
                let name = name.trim();
                let count = array_counts.entry(name.to_string()).or_default();
                current = format!("{name}[{count}]");
                *count += 1;
            } else if let Some(name) = text.strip_prefix('[').and_then(|rest| rest.split(']').next()) {
                current = name.trim().to_string();
            }
        }
        current
    }

    /// The table an error at `line` is about: the table opened there by a header or
    /// an inline table (`market_data = { ... }`), else the enclosing one.
    fn table_spanning(&self, line: usize) -> String {
        let table = self.table_at(line);
        match self.key_at_line(line) {
            Some(key) if self.lines[line - 1].contains('{') => join_field(&table, &key),
            _ => table,
        }
    }

    fn position(&self, offset: usize) -> (usize, usize) {
        let mut consumed = 0;
        for (index, line) in self.lines.iter().enumerate() {
            let length = line.len() + 1;
            if offset < consumed + length {
                return (index + 1, offset - consumed + 1);
            }
            consumed += length;
        }
        (self.lines.len().max(1), 1)
    }

    /// Line and column of a dotted setting; falls back to its table header, then 1:1.
    pub fn locate(&self, field: &str) -> (usize, usize) {
        let (table, key, index) = split_field(field);
        let mut current = String::new();
        let mut array_counts: BTreeMap<String, usize> = BTreeMap::new();
        let mut current_index = 0usize;
        let mut header_position = None;
        // A field that is a table of its own (`[exchange.intensity]`) is at its header.
        let own_table = if key.is_empty() || index.is_some() { None } else { Some(join_field(&table, &key)) };
        let mut own_table_position = None;
        for (number, raw) in self.lines.iter().enumerate() {
            let line = raw.trim_start();
            let indent = raw.len() - line.len();
            if let Some(name) = line.strip_prefix("[[").and_then(|rest| rest.split("]]").next()) {
                current = name.trim().to_string();
                let count = array_counts.entry(current.clone()).or_default();
                current_index = *count;
                *count += 1;
            } else if let Some(name) = line.strip_prefix('[').and_then(|rest| rest.split(']').next()) {
                current = name.trim().to_string();
                current_index = 0;
            } else if current == table && index.is_none_or(|wanted| wanted == current_index) {
                let name = line.split(['=', ' ']).next().unwrap_or("");
                if !key.is_empty() && name == key {
                    return (number + 1, indent + 1);
                }
                continue;
            } else {
                continue;
            }
            if own_table.as_deref() == Some(current.as_str()) && own_table_position.is_none() {
                own_table_position = Some((number + 1, indent + 1));
            }
            if current == table && index.is_none_or(|wanted| wanted == current_index) && header_position.is_none() {
                header_position = Some((number + 1, indent + 1));
            }
        }
        own_table_position.or(header_position).or_else(|| self.find_key_anywhere(&key)).unwrap_or((1, 1))
    }

    fn find_key_anywhere(&self, key: &str) -> Option<(usize, usize)> {
        let last = key.rsplit('.').next().unwrap_or(key);
        self.lines.iter().enumerate().find_map(|(number, raw)| {
            let line = raw.trim_start();
            (line.split(['=', ' ']).next() == Some(last)).then(|| (number + 1, raw.len() - line.len() + 1))
        })
    }
}

/// A tagged table (a latency model, an injected event) without its `kind` gets the
/// kinds it may have, learnt by asking the parser about a kind none has, so the list
/// never drifts from the types.
fn with_kinds_allowed(text: &str, mut error: ScenarioError) -> ScenarioError {
    if error.message == "missing field `kind`"
        && let Some(table_path) = error.field.strip_suffix(".kind")
        && let Some(kinds) = kinds_allowed(text, table_path)
    {
        error.message = format!("missing field `kind`: add kind = \"...\" with one of {kinds}");
    }
    error
}

fn kinds_allowed(text: &str, table_path: &str) -> Option<String> {
    let mut document: toml::Table = text.parse().ok()?;
    let mut table = &mut document;
    for part in table_path.split('.') {
        let (name, index) = match part.split_once('[') {
            Some((name, rest)) => (name, Some(rest.trim_end_matches(']').parse::<usize>().ok()?)),
            None => (part, None),
        };
        let value = table.get_mut(name)?;
        let value = match index {
            Some(index) => value.as_array_mut()?.get_mut(index)?,
            None => value,
        };
        table = value.as_table_mut()?;
    }
    table.insert("kind".to_string(), toml::Value::String("?".to_string()));
    let error = toml::Value::Table(document).try_into::<ScenarioDocument>().err()?;
    let (_, kinds) = error.message().split_once("unknown variant `?`, expected one of ")?;
    Some(kinds.trim().to_string())
}

/// A `[market]` setting the scenario's market does not read, and why: a replayed
/// recording and the random walk ignore the generator's settings, and the generator
/// ignores theirs. Accepting one would run as if it were not there.
fn ignored_market_setting(document: &toml::Table, market: &MarketConfig) -> Option<(String, String)> {
    let written = document.get("market").and_then(toml::Value::as_table)?;
    let (used, market_name): (&[&str], &str) = if market.source.is_some() {
        (
            &["source", "step_ms", "instrument", "model"],
            "this scenario replays a recording (market.source), which reads only source, step_ms and instrument",
        )
    } else if market.model == MarketModel::RandomWalk {
        (
            &["model", "initial_price", "random_walk", "instrument"],
            "the random-walk market (model = \"random_walk\") reads only initial_price, random_walk and instrument",
        )
    } else {
        return written.contains_key("random_walk").then(|| {
            (
                "random_walk".to_string(),
                "has no effect: the generated market ignores it; set model = \"random_walk\" or remove it".to_string(),
            )
        });
    };
    let key = written.keys().find(|key| !used.contains(&key.as_str()))?;
    Some((key.clone(), format!("has no effect: {market_name}; remove it")))
}

/// An `[exchange]` setting the fill model does not read: matching ignores the
/// intensity model's λ(δ). Accepting it would run as if it were not there.
fn ignored_exchange_setting(document: &toml::Table, exchange: &ExchangeConfig) -> Option<(String, String)> {
    let written = document.get("exchange").and_then(toml::Value::as_table)?;
    (written.contains_key("intensity") && exchange.fill_model != FillModel::Intensity).then(|| {
        (
            "exchange.intensity".to_string(),
            "has no effect: the matching fill model ignores it; set fill_model = \"intensity\" (with market.model = \"random_walk\") or remove it"
                .to_string(),
        )
    })
}

/// The field a serde message names: `x` in "missing field `x`" or "unknown field `x`, …".
fn field_named_by(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("missing field `").or_else(|| message.strip_prefix("unknown field `"))?;
    rest.split('`').next()
}

/// `table.key`, or `key` at the top level.
fn join_field(table: &str, key: &str) -> String {
    if table.is_empty() { key.to_string() } else { format!("{table}.{key}") }
}

/// Splits `events[2].start_s` into (`events`, `start_s`, Some(2)) and
/// `market.instrument.tick_size` into (`market.instrument`, `tick_size`, None).
/// A path whose last part is a whole table (`exchange.latency.order_entry`) is
/// found as a key of its parent.
fn split_field(field: &str) -> (String, String, Option<usize>) {
    let (head, index) = match field.split_once('[') {
        Some((name, rest)) => {
            let index = rest.split(']').next().and_then(|number| number.parse().ok());
            let after = rest.split_once("].").map_or("", |(_, after)| after);
            return (name.to_string(), after.to_string(), index);
        }
        None => (field, None::<usize>),
    };
    match head.rsplit_once('.') {
        Some((table, key)) => (table.to_string(), key.to_string(), index),
        None => (head.to_string(), String::new(), index),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrong_number_says_which_numbers_are_allowed_not_the_rust_type() {
        let base = "[scenario]\nname = \"t\"\nseed = 1\nduration_s = 60";
        for (setting, expected) in [
            ("[exchange]\nmax_orders_per_s = -5", "invalid value: integer `-5`, expected a whole number from 0 to 4294967295"),
            (
                "[exchange]\nsnapshot_levels = 1.5",
                "invalid type: floating point `1.5`, expected a whole number from 0 to 18446744073709551615",
            ),
            ("[market]\nstep_ms = 0.5", "invalid type: floating point `0.5`, expected a whole number"),
            ("[engine]\nmax_orders_per_s = 2.5", "expected a whole number from 0 to 4294967295"),
            ("[market]\nvolatility_annual = \"x\"", "invalid type: string \"x\", expected a number"),
            ("[market]\ninstrument = 3", "invalid type: integer `3`, expected a table of settings (a section of its own)"),
            ("[exchange.latency]\nack = 3", "invalid type: integer `3`, expected a table of settings with its `kind`"),
        ] {
            let error = Scenario::parse(Path::new("t.toml"), &format!("{base}\n{setting}\n"), &LoadOptions::default()).unwrap_err();
            assert!(error.to_string().contains(expected), "{setting}: {error}");
        }
        // `--set market.model=3` reaches the enum as a number.
        assert_eq!(
            plain_types("invalid type: unit variant, expected string only"),
            "invalid type: unit variant, expected a name in quotes"
        );
        let options = LoadOptions { overrides: vec!["exchange.max_orders_per_s=-5".to_string()], ..LoadOptions::default() };
        let error = Scenario::parse(Path::new("t.toml"), base, &options).unwrap_err();
        assert!(error.to_string().contains("expected a whole number from 0 to 4294967295"), "{error}");
        assert_eq!(plain_types("missing field `seed`"), "missing field `seed`");
    }

    const BASE: &str = r#"
[scenario]
name = "t"
seed = 1
duration_s = 60

[market]
volatility_annual = 0.3

[engine]
min_interval_ms = 150

[[events]]
kind = "feed_outage"
start_s = 10
duration_s = 5

[[events]]
kind = "reject_storm"
start_s = 20
duration_s = 5
reject_fraction = 0.5
"#;

    fn parse(text: &str, options: &LoadOptions) -> Result<Scenario, ScenarioError> {
        Scenario::parse(Path::new("s.toml"), text, options)
    }

    #[test]
    fn parses_and_layers_the_engine_section() {
        let scenario = parse(BASE, &LoadOptions::default()).unwrap();
        assert_eq!(scenario.params.min_interval_ms, 150);
        assert_eq!(scenario.param_sources["min_interval_ms"], ParamSource::Scenario);
        assert_eq!(scenario.sim.events.len(), 2);
    }

    #[test]
    fn unknown_key_is_reported_at_its_line() {
        let text = BASE.replace("volatility_annual = 0.3", "volatility_anual = 0.3");
        let error = parse(&text, &LoadOptions::default()).unwrap_err();
        let message = error.to_string();
        assert!(message.starts_with("s.toml:8:"), "{message}");
        assert!(message.contains("volatility_anual"), "{message}");
    }

    #[test]
    fn out_of_range_event_value_names_its_line() {
        let text = BASE.replace("reject_fraction = 0.5", "reject_fraction = 1.5");
        let error = parse(&text, &LoadOptions::default()).unwrap_err();
        assert_eq!(error.field, "events[1].reject_fraction");
        assert!(error.to_string().starts_with("s.toml:22:1"), "{error}");
    }

    #[test]
    fn impossible_timeline_is_refused() {
        let text = BASE.replace("start_s = 20", "start_s = 58");
        let error = parse(&text, &LoadOptions::default()).unwrap_err();
        assert!(error.message.contains("past the scenario's end"), "{error}");
        assert!(error.to_string().starts_with("s.toml:20:"), "{error}");
    }

    #[test]
    fn engine_range_error_points_at_the_engine_key() {
        let text = BASE.replace("min_interval_ms = 150", "min_interval_ms = -5");
        let error = parse(&text, &LoadOptions::default()).unwrap_err();
        assert_eq!(error.field, "engine.min_interval_ms");
        assert!(error.to_string().starts_with("s.toml:11:1"), "{error}");
    }

    #[test]
    fn wrong_type_is_an_error_not_a_panic() {
        let text = BASE.replace("min_interval_ms = 150", "min_interval_ms = \"fast\"");
        let error = parse(&text, &LoadOptions::default()).unwrap_err();
        assert!(error.to_string().contains("s.toml:11"), "{error}");
    }

    #[test]
    fn parser_errors_name_the_full_path_of_the_field() {
        let text = BASE.replace("min_interval_ms = 150", "min_interval_ms = \"fast\"");
        assert_eq!(parse(&text, &LoadOptions::default()).unwrap_err().field, "engine.min_interval_ms");
        let text = BASE.replace("kind = \"reject_storm\"", "kind = \"storm\"");
        let error = parse(&text, &LoadOptions::default()).unwrap_err();
        assert_eq!(error.field, "events[1].kind", "{error}");
        assert!(error.message.contains("expected one of `volatility_spike`"), "{error}");
        let text = BASE.replace("volatility_annual = 0.3", "volatility_annual = 0.3\nspeed = 2");
        assert_eq!(parse(&text, &LoadOptions::default()).unwrap_err().field, "market.speed");
    }

    #[test]
    fn a_table_without_its_kind_is_told_the_kinds_it_may_have() {
        let text = BASE.replace("kind = \"reject_storm\"", "");
        let error = parse(&text, &LoadOptions::default()).unwrap_err();
        assert_eq!(error.field, "events[1].kind", "{error}");
        assert!(error.message.contains("one of `volatility_spike`, `liquidity_gap`"), "{error}");
        let text = format!("{BASE}\n[exchange.latency]\nack = {{ median_us = 300 }}\n");
        let error = parse(&text, &LoadOptions::default()).unwrap_err();
        assert_eq!(error.field, "exchange.latency.ack.kind", "{error}");
        assert!(error.message.ends_with("one of `constant`, `uniform`, `normal`, `lognormal`"), "{error}");
        let text = format!("{BASE}\n[exchange.latency.market_data]\nkind = \"lognormal\"\nmedian_us = 300\n");
        let error = parse(&text, &LoadOptions::default()).unwrap_err();
        assert_eq!((error.field.as_str(), error.message.as_str()), ("exchange.latency.market_data.sigma", "missing field `sigma`"));
    }

    #[test]
    fn settings_the_market_does_not_read_are_refused() {
        let options = LoadOptions { overrides: vec!["market.random_walk.sigma=1".into()], ..LoadOptions::default() };
        let error = parse(BASE, &options).unwrap_err();
        assert_eq!((error.location.to_string().as_str(), error.field.as_str()), ("--set market.random_walk.sigma=1", "market.random_walk"));
        let walk = BASE.replace("volatility_annual = 0.3", "model = \"random_walk\"\nvolatility_annual = 0.3");
        let error = parse(&walk, &LoadOptions::default()).unwrap_err();
        assert_eq!(error.field, "market.volatility_annual", "{error}");
        assert!(error.to_string().contains("s.toml:9:1") && error.message.contains("reads only initial_price"), "{error}");
        // The intensity fill model's λ(δ) under matching.
        let options = LoadOptions { overrides: vec!["exchange.intensity.k=-1".into()], ..LoadOptions::default() };
        let error = parse(BASE, &options).unwrap_err();
        assert_eq!((error.location.to_string().as_str(), error.field.as_str()), ("--set exchange.intensity.k=-1", "exchange.intensity"));
        assert!(error.message.contains("the matching fill model ignores it"), "{error}");
        let error = parse(&format!("{BASE}\n[exchange.intensity]\na_per_s = 5\n"), &LoadOptions::default()).unwrap_err();
        assert!(error.to_string().starts_with("s.toml:24:1:"), "at its header: {error}");
    }

    #[test]
    fn an_unreadable_scenario_says_why_and_how_to_fix_it() {
        let dir = tempfile::tempdir().unwrap();
        let latin1 = dir.path().join("latin1.toml");
        std::fs::write(&latin1, b"[scenario]\nname = \"caf\xe9\"\n").unwrap();
        let error = Scenario::load(&latin1, &LoadOptions::default()).unwrap_err();
        assert_eq!((error.field.as_str(), error.location.to_string().ends_with("latin1.toml:1:1")), ("file", true), "{error}");
        assert!(error.message.ends_with("save it as such"), "{error}");
        let error = Scenario::load(&dir.path().join("missing.toml"), &LoadOptions::default()).unwrap_err();
        assert!(error.message.ends_with("check the path"), "{error}");
    }

    #[test]
    fn shared_folders_are_found_within_the_project_only() {
        let dir = tempfile::tempdir().unwrap();
        let project = dir.path().join("work/project");
        std::fs::create_dir_all(project.join("scenarios/replay")).unwrap();
        std::fs::create_dir_all(project.join("profiles")).unwrap();
        std::fs::write(project.join("Cargo.toml"), "").unwrap();
        // Above the project: never used.
        std::fs::create_dir_all(dir.path().join("work/golden")).unwrap();
        let deep = project.join("scenarios/replay/day.toml");
        assert_eq!(nearest_folder(&deep, "profiles"), Some(project.join("profiles")));
        assert_eq!(nearest_folder(&deep, "golden"), None);
        // Outside any project: the file's folder and its parent only.
        let loose = dir.path().join("work/a/b/c.toml");
        std::fs::create_dir_all(dir.path().join("work/a/profiles")).unwrap();
        assert_eq!(nearest_folder(&loose, "profiles"), Some(dir.path().join("work/a/profiles")));
        assert_eq!(nearest_folder(&loose, "golden"), None);
    }

    #[test]
    fn soak_metrics_need_a_soak() {
        let text = format!("{BASE}\n[[expect]]\nmetric = \"soak.panic_reverts\"\nop = \"==\"\nvalue = 0\n");
        let error = parse(&text, &LoadOptions::default()).unwrap_err();
        assert_eq!(error.field, "expect[0].metric");
        assert!(error.message.contains("only in scenarios with a [soak] section"), "{error}");
    }

    #[test]
    fn a_flash_crash_halts_only_when_asked() {
        let crash = "[[events]]\nkind = \"flash_crash\"\nstart_s = 30\nside = \"sell\"\ndrop_pct = 2.0\nfall_duration_s = 5\n\
                     depth_withdrawn = 0.5\nrecovery_fraction = 0.5\nrecovery_s = 10\n";
        let scenario = parse(&format!("{BASE}\n{crash}"), &LoadOptions::default()).unwrap();
        let halt_s = scenario.sim.events.iter().find_map(|event| match event {
            drydock_sim::InjectedEvent::FlashCrash { halt_s, .. } => Some(*halt_s),
            _ => None,
        });
        assert_eq!(halt_s, Some(0.0));
    }

    #[test]
    fn an_override_sets_a_field_of_one_event_by_its_index() {
        let set = |assignments: &[&str]| {
            let options = LoadOptions { overrides: assignments.iter().map(|a| a.to_string()).collect(), ..LoadOptions::default() };
            parse(BASE, &options)
        };
        let start_s = |scenario: &Scenario| match &scenario.sim.events[0] {
            drydock_sim::InjectedEvent::FeedOutage { start_s, .. } => *start_s,
            other => panic!("the base scenario's event changed kind: {other:?}"),
        };
        assert_eq!(start_s(&set(&["events.0.start_s=12"]).unwrap()), 12.0);
        // As errors name the field, too.
        assert_eq!(start_s(&set(&["events[0].start_s=13"]).unwrap()), 13.0);
        let error = set(&["events[3].start_s=1"]).unwrap_err();
        assert!(error.field == "events[3].start_s" && error.message.contains("has 2 entries"), "{error}");
        assert_eq!(set(&["events[x].start_s=1"]).unwrap_err().field, "events[x].start_s");
        // Out of range: at the flag, with the field as the file would name it.
        let error = set(&["scenario.duration_s=30", "events.0.start_s=50"]).unwrap_err();
        assert_eq!((error.location.to_string(), error.field.as_str()), ("--set events.0.start_s=50".to_string(), "events[0].start_s"));
        let error = set(&["events.3.start_s=1"]).unwrap_err();
        assert!(error.field == "events[3].start_s" && error.message.contains("has 2 entries: 3 is not an index"), "{error}");
        let error = set(&["events.start_s=1"]).unwrap_err();
        assert!(error.message.contains("e.g. events.0.start_s"), "{error}");
        // A scenario without events has no entry to set.
        let options = LoadOptions { overrides: vec!["events.0.start_s=1".into()], ..LoadOptions::default() };
        let no_events = BASE.split("[[events]]").next().unwrap();
        let error = parse(no_events, &options).unwrap_err();
        assert!(error.field == "events[0].start_s" && error.message.contains("`events` has no entries in this scenario"), "{error}");
    }

    #[test]
    fn with_several_overrides_the_one_that_breaks_the_document_is_blamed() {
        let options = LoadOptions {
            overrides: vec!["scenario.duration_s=50".into(), "exchange.latency.market_data.kind=bogus".into()],
            ..LoadOptions::default()
        };
        let error = parse(BASE, &options).unwrap_err();
        assert_eq!(error.location.to_string(), "--set exchange.latency.market_data.kind=bogus");
        assert_eq!(error.field, "exchange.latency.market_data.kind");
        assert!(error.message.contains("unknown variant `bogus`"), "{error}");
    }

    #[test]
    fn an_error_only_a_flag_brings_about_is_placed_at_that_flag() {
        // The file alone is fine; shortening the scenario puts its events past the end.
        let options =
            LoadOptions { overrides: vec!["engine.min_interval_ms=200".into(), "scenario.duration_s=22".into()], ..LoadOptions::default() };
        let error = parse(BASE, &options).unwrap_err();
        assert_eq!(error.location.to_string(), "--set scenario.duration_s=22");
        assert!(error.field.starts_with("events[") && error.message.contains("past the scenario's end"), "{error}");
        // An error of the file itself stays at its line, flags or not.
        let broken = BASE.replace("start_s = 20", "start_s = 58");
        let error = parse(&broken, &options).unwrap_err();
        assert!(error.location.to_string().starts_with("s.toml:"), "{error}");
        // A wrong type for an engine parameter, whose message names no key.
        let options = LoadOptions {
            overrides: vec!["engine.base_spread_bps=\"abc\"".into(), "scenario.duration_s=50".into()],
            ..LoadOptions::default()
        };
        assert_eq!(parse(BASE, &options).unwrap_err().location.to_string(), "--set engine.base_spread_bps=\"abc\"");
    }

    #[test]
    fn a_name_that_cannot_name_files_is_refused() {
        for name in ["../../etc", "", ".hidden", "a/b", "a b"] {
            let options = LoadOptions { overrides: vec![format!("scenario.name=\"{name}\"")], ..LoadOptions::default() };
            let error = parse(BASE, &options).unwrap_err();
            assert!(error.field == "scenario.name" && error.message.contains("cannot name files"), "{name}: {error}");
        }
        let error = parse(&BASE.replace("name = \"t\"", "name = \"x/y\""), &LoadOptions::default()).unwrap_err();
        assert!(error.to_string().contains("s.toml:3:"), "at the file's line: {error}");
        for name in ["calm_24h", "btcusdt_20240808.stress-2"] {
            assert_eq!(unusable_name(name), None);
        }
    }

    #[test]
    fn a_seed_flag_takes_any_unsigned_64_bit_number() {
        let options = LoadOptions { seed: Some(u64::MAX), overrides: vec!["scenario.duration_s=50".into()], ..LoadOptions::default() };
        let scenario = parse(BASE, &options).unwrap();
        assert_eq!((scenario.sim.seed, scenario.header.seed), (u64::MAX, u64::MAX));
        let alone = LoadOptions { seed: Some(u64::MAX), ..LoadOptions::default() };
        assert_eq!(parse(BASE, &alone).unwrap().sim.seed, u64::MAX);
    }

    #[test]
    fn an_override_too_large_for_an_integer_says_so() {
        let options = LoadOptions { overrides: vec!["scenario.seed=18446744073709551616".into()], ..LoadOptions::default() };
        let error = parse(BASE, &options).unwrap_err();
        assert_eq!(error.field, "scenario.seed");
        assert!(error.message.contains("does not fit a 64-bit integer"), "{error}");
    }

    #[test]
    fn overrides_win_and_bad_overrides_name_the_flag() {
        let options = LoadOptions {
            overrides: vec!["engine.min_interval_ms=300".into(), "market.volatility_annual=0.9".into()],
            ..LoadOptions::default()
        };
        let scenario = parse(BASE, &options).unwrap();
        assert_eq!(scenario.params.min_interval_ms, 300);
        assert_eq!(scenario.sim.market.volatility_annual, 0.9);
        assert_eq!(scenario.param_sources["min_interval_ms"], ParamSource::Override);
        let options = LoadOptions { overrides: vec!["min_interval_ms".into()], ..LoadOptions::default() };
        let error = parse(BASE, &options).unwrap_err();
        assert!(error.to_string().starts_with("--set min_interval_ms"), "{error}");
    }

    #[test]
    fn a_missing_field_is_named_at_the_top_level_or_in_its_table_even_when_the_file_opens_with_a_header() {
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct First {
            key: i64,
            other: i64,
        }
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct Document {
            first: First,
            second: Vec<toml::Table>,
        }
        let located = |text: &str| SourceMap::new(Path::new("d.toml"), text).toml_error(&toml::from_str::<Document>(text).unwrap_err());
        assert_eq!(located("[first]\nkey = 1\nother = 2\n").field, "second");
        assert_eq!(located("[first]\nkey = 1\n\n[[second]]\n").field, "first.other");
    }

    #[test]
    fn an_out_of_range_override_is_blamed_alone_among_several() {
        let overrides =
            vec!["scenario.duration_s=600".into(), "market.depth_decay_ticks=0.001".into(), "engine.min_interval_ms=300".into()];
        let error = parse(BASE, &LoadOptions { overrides, ..LoadOptions::default() }).unwrap_err();
        assert_eq!(error.location.to_string(), "--set market.depth_decay_ticks=0.001", "{error}");
        assert_eq!(error.field, "market.depth_decay_ticks");
    }

    #[test]
    fn of_two_overrides_of_one_field_the_later_one_that_holds_is_blamed() {
        let overrides = vec!["scenario.duration_s=30".into(), "scenario.duration_s=1e30".into()];
        let error = parse(BASE, &LoadOptions { overrides, ..LoadOptions::default() }).unwrap_err();
        assert_eq!(error.location.to_string(), "--set scenario.duration_s=1e30", "{error}");
        let overrides = vec!["engine.min_interval_ms=5".into(), "engine.min_interval_ms=abc".into()];
        let error = parse(BASE, &LoadOptions { overrides, ..LoadOptions::default() }).unwrap_err();
        assert!(error.location.to_string().ends_with("=abc"), "{error}");
    }

    #[test]
    fn syntax_error_has_a_position() {
        let error = parse("[scenario\nname = 1", &LoadOptions::default()).unwrap_err();
        assert!(error.to_string().starts_with("s.toml:1:"), "{error}");
    }

    #[test]
    fn split_field_handles_arrays_and_nesting() {
        assert_eq!(split_field("events[2].start_s"), ("events".into(), "start_s".into(), Some(2)));
        assert_eq!(split_field("market.instrument.tick_size"), ("market.instrument".into(), "tick_size".into(), None));
    }
}
