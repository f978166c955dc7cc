//! Gate files (`gates/*.toml`): the checks an engine build must pass to be promoted,
//! each critical (it blocks) or advisory (it warns, and blocks only in strict mode).
//! Parsing reports file:line:column and the field; scenario paths are resolved
//! against the gate file's folder and must exist. Evidence folders (the sweeps a
//! `compare` check reads) are not looked at here: they are produced by the pipeline
//! before the gate runs, and one that is missing fails its check when the gate is
//! evaluated (fail-closed), not the gate file; so are the journals a `parity` check
//! replays.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::scenario::{Location, ScenarioError, SourceMap};

/// What a check looks at.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckKind {
    /// Every scenario reproduces its golden snapshot and meets its expectations.
    Golden,
    /// Every scenario passes on each of `seeds` seeds: its expectations met and, for
    /// a soak, no stop criterion fired.
    Seeds,
    /// `drydock sweep compare baseline candidate` says GO.
    Compare,
    /// Every recorded journal replays into this build's engine with the recorded
    /// commands (shadow parity), and is intact.
    Parity,
}

impl CheckKind {
    /// The name written in gate files.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckKind::Golden => "golden",
            CheckKind::Seeds => "seeds",
            CheckKind::Compare => "compare",
            CheckKind::Parity => "parity",
        }
    }
}

/// Most seeds a `seeds` check runs per scenario.
pub const SEEDS_MAX: u32 = 10_000;

/// One `[[checks]]` entry as written.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckSpec {
    /// Short name; names the check's evidence folder.
    pub name: String,
    /// What it looks at.
    pub kind: CheckKind,
    /// A failing critical check blocks promotion; an advisory one warns (and blocks in
    /// strict mode). Checks are critical unless they say otherwise.
    #[serde(default = "critical_by_default")]
    pub critical: bool,
    /// Why the check matters, for the people reading the verdict.
    #[serde(default)]
    pub why: String,
    /// Scenario files or folders of them (`golden`, `seeds`), relative to the gate file.
    #[serde(default)]
    pub scenarios: Vec<PathBuf>,
    /// Seeds per scenario (`seeds`): the scenario's seed, +1, +2, …
    pub seeds: Option<u32>,
    /// The baseline sweep's output folder (`compare`), relative to the gate file.
    pub baseline: Option<PathBuf>,
    /// The candidate sweep's output folder (`compare`), relative to the gate file.
    pub candidate: Option<PathBuf>,
    /// The smallest change `compare` calls, percent of the baseline mean (default 0).
    pub min_effect_pct: Option<f64>,
    /// Journals (`parity`): files, or folders of `*.jsonl.gz` and `*.jsonl`, relative
    /// to the gate file. Evidence like sweep folders: looked at when the gate runs.
    #[serde(default)]
    pub journals: Vec<PathBuf>,
}

fn critical_by_default() -> bool {
    true
}

/// The `[gate]` section.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GateSection {
    /// Name (default output folder `artifacts/gates/<name>`).
    pub name: String,
    /// What the gate decides, for people.
    #[serde(default)]
    pub description: String,
}

/// A gate file as written.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GateFile {
    /// The `[gate]` section.
    pub gate: GateSection,
    /// The checks, in the order they are evaluated and shown.
    #[serde(default)]
    pub checks: Vec<CheckSpec>,
}

/// A loaded gate: the file, and each check's scenario files resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct Gate {
    /// The gate file.
    pub path: PathBuf,
    /// Its contents.
    pub file: GateFile,
    /// Per check, its scenario files (folders expanded to their sorted `*.toml`).
    pub scenario_paths: Vec<Vec<PathBuf>>,
}

impl Gate {
    /// Reads and validates a gate file.
    pub fn load(path: &Path) -> Result<Gate, ScenarioError> {
        let text = std::fs::read_to_string(path).map_err(|error| ScenarioError {
            location: Location::File { path: path.to_path_buf(), line: 1, column: 1 },
            field: "file".to_string(),
            message: format!("cannot read the gate: {error}; check the path"),
        })?;
        let source = SourceMap::new(path, &text);
        let file: GateFile = toml::from_str(&text).map_err(|error: toml::de::Error| source.toml_error(&error))?;
        validate(&file).map_err(|(field, message)| source.at(&field, &message))?;
        let base = path.parent().unwrap_or(Path::new("."));
        let mut scenario_paths = Vec::new();
        for (index, check) in file.checks.iter().enumerate() {
            let resolved =
                resolve_scenarios(base, &check.scenarios).map_err(|message| source.at(&format!("checks[{index}].scenarios"), &message))?;
            scenario_paths.push(resolved);
        }
        Ok(Gate { path: path.to_path_buf(), file, scenario_paths })
    }

    /// A path the gate file names, resolved against its folder.
    pub fn resolve(&self, path: &Path) -> PathBuf {
        self.path.parent().unwrap_or(Path::new(".")).join(path)
    }
}

/// Scenario files named directly, and the sorted `*.toml` of folders named.
fn resolve_scenarios(base: &Path, named: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut paths = Vec::new();
    for entry in named {
        let path = base.join(entry);
        if path.is_dir() {
            let found = crate::check::catalogue(&path).map_err(|error| format!("cannot list {}: {error}", path.display()))?;
            if found.is_empty() {
                return Err(format!("{} holds no scenario (*.toml) files; name a folder of scenarios or the files", path.display()));
            }
            paths.extend(found);
        } else if path.is_file() {
            paths.push(path);
        } else {
            return Err(format!("{} does not exist; scenario paths are relative to the gate file's folder", path.display()));
        }
    }
    Ok(paths)
}

fn validate(file: &GateFile) -> Result<(), (String, String)> {
    if let Some(message) = crate::scenario::unusable_name(&file.gate.name) {
        return Err(("gate.name".into(), message));
    }
    if file.checks.is_empty() {
        return Err(("checks".into(), "add at least one [[checks]] entry (kind golden, seeds, compare or parity)".into()));
    }
    for (index, check) in file.checks.iter().enumerate() {
        let field = |key: &str| format!("checks[{index}].{key}");
        if let Some(message) = crate::scenario::unusable_name(&check.name) {
            return Err((field("name"), message.replace("golden files", "the check's evidence folder")));
        }
        if matches!(check.name.as_str(), "gate.json" | "gate.html") {
            return Err((field("name"), format!("`{}` is the name of the gate's own output file; choose another", check.name)));
        }
        if let Some(earlier) = file.checks[..index].iter().position(|other| other.name == check.name) {
            return Err((field("name"), format!("`{}` already names checks[{earlier}]; give each check its own name", check.name)));
        }
        validate_kind_fields(check).map_err(|(key, message)| (field(key), message))?;
    }
    Ok(())
}

/// The fields a check of its kind needs, and none that belongs to another kind.
fn validate_kind_fields(check: &CheckSpec) -> Result<(), (&'static str, String)> {
    let kind = check.kind.as_str();
    let present = [
        ("scenarios", !check.scenarios.is_empty()),
        ("seeds", check.seeds.is_some()),
        ("baseline", check.baseline.is_some()),
        ("candidate", check.candidate.is_some()),
        ("min_effect_pct", check.min_effect_pct.is_some()),
        ("journals", !check.journals.is_empty()),
    ];
    let allowed: &[&str] = match check.kind {
        CheckKind::Golden => &["scenarios"],
        CheckKind::Seeds => &["scenarios", "seeds"],
        CheckKind::Compare => &["baseline", "candidate", "min_effect_pct"],
        CheckKind::Parity => &["journals"],
    };
    if let Some((key, _)) = present.iter().find(|(key, present)| *present && !allowed.contains(key)) {
        if *key == "seeds" && check.kind == CheckKind::Golden {
            return Err(("seeds", "a `golden` check runs each scenario's own seed; use kind = \"seeds\" for more".into()));
        }
        return Err((key, format!("is not a setting of a `{kind}` check; remove it")));
    }
    match check.kind {
        CheckKind::Golden | CheckKind::Seeds => {
            if check.scenarios.is_empty() {
                return Err(("scenarios", format!("a `{kind}` check needs scenarios: files or folders, relative to the gate file")));
            }
            match check.seeds {
                None if check.kind == CheckKind::Seeds => {
                    return Err(("seeds", format!("a `seeds` check needs seeds, 1 to {SEEDS_MAX} per scenario")));
                }
                Some(seeds) if seeds == 0 || seeds > SEEDS_MAX => return Err(("seeds", format!("{seeds} is outside [1, {SEEDS_MAX}]"))),
                _ => {}
            }
        }
        CheckKind::Compare => {
            for (key, present) in [("baseline", check.baseline.is_some()), ("candidate", check.candidate.is_some())] {
                if !present {
                    return Err((
                        key,
                        "a `compare` check needs baseline and candidate: folders `drydock sweep` wrote, relative to the gate file".into(),
                    ));
                }
            }
            if let Some(pct) = check.min_effect_pct.filter(|pct| !(pct.is_finite() && *pct >= 0.0 && *pct <= 1_000.0)) {
                return Err(("min_effect_pct", format!("{pct} is outside [0, 1000]")));
            }
        }
        CheckKind::Parity => {
            if check.journals.is_empty() {
                return Err((
                    "journals",
                    "a `parity` check needs journals: files or folders of them (`drydock run --journal` writes journal.jsonl.gz), relative to the gate file".into(),
                ));
            }
        }
    }
    Ok(())
}
