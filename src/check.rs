//! `drydock check` and `drydock bless`: run scenarios (in parallel, results kept in
//! scenario order) and compare their snapshots with `golden/`, or accept them as
//! the new goldens. Failed expectations are reported either way: a scenario that
//! matches its golden but fails what the team expects does not pass a check. Each
//! run writes its artifacts into a scratch folder that is removed afterwards, unless
//! the check is asked to keep them (`--out`): then each scenario's artifacts stay in
//! a folder named after it, beside an `index.html` of the results for review.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::expect::ExpectationResult;
use crate::golden::{Comparison, compare, golden_path, read_golden, snapshot_text, write_golden};
use crate::report::{ArtifactError, write_atomic};
use crate::run::run_scenario;
use crate::scenario::{LoadOptions, Scenario};

/// What checking one scenario found.
#[derive(Debug)]
pub enum CheckStatus {
    /// Identical to the golden (within declared tolerances).
    Match,
    /// Differs from the golden, or the golden is stale.
    Regression(Comparison),
    /// No golden file yet.
    Missing,
    /// The scenario could not be loaded or run (bad input).
    Error(String),
}

/// One scenario's result.
#[derive(Debug)]
pub struct CheckResult {
    /// The scenario file.
    pub path: PathBuf,
    /// Its name (the golden file's stem), when it loaded.
    pub name: Option<String>,
    /// The fingerprint of this run, when it ran.
    pub fingerprint: Option<String>,
    /// Expectations this run failed (`metric op value (actual x)`): a golden that
    /// matches does not make a failing scenario pass.
    pub failed_expectations: Vec<String>,
    /// What was found.
    pub status: CheckStatus,
}

/// Scenarios of a check by outcome.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CheckTally {
    /// Identical to the golden, every expectation met.
    pub matching: usize,
    /// Different from the golden, or without one.
    pub changed: usize,
    /// Identical to the golden, but expectations fail.
    pub failing: usize,
    /// Could not be loaded or run.
    pub errors: usize,
}

impl CheckTally {
    /// Counts `results` by outcome.
    pub fn of(results: &[CheckResult]) -> Self {
        let mut tally = CheckTally::default();
        for result in results {
            match result.status {
                CheckStatus::Match if result.failed_expectations.is_empty() => tally.matching += 1,
                CheckStatus::Match => tally.failing += 1,
                CheckStatus::Regression(_) | CheckStatus::Missing => tally.changed += 1,
                CheckStatus::Error(_) => tally.errors += 1,
            }
        }
        tally
    }

    /// Scenarios counted.
    pub fn total(&self) -> usize {
        self.matching + self.changed + self.failing + self.errors
    }

    /// One line, e.g. `4 scenarios: 1 matches, 2 changed or missing, 0 failing expectations, 1 error`.
    pub fn summary(&self) -> String {
        let plural = |count: usize, one: &str, many: &str| format!("{count} {}", if count == 1 { one } else { many });
        format!(
            "{}: {}, {} changed or missing, {} failing expectations, {}",
            plural(self.total(), "scenario", "scenarios"),
            plural(self.matching, "matches", "match"),
            self.changed,
            self.failing,
            plural(self.errors, "error", "errors"),
        )
    }
}

/// The goldens of `scenarios`: the nearest `golden/` folder at or above the first
/// scenario's folder, within its project (see [`crate::scenario::nearest_folder`]).
pub fn nearest_golden_dir(scenarios: &[PathBuf]) -> Option<PathBuf> {
    scenarios.first().and_then(|path| crate::scenario::nearest_folder(path, "golden"))
}

/// The command that blesses `scenario` into `golden_dir`: `--golden` only where that
/// folder is not the one `bless` would find by itself.
pub fn bless_command(scenario: &Path, golden_dir: &Path) -> String {
    let found = nearest_golden_dir(&[scenario.to_path_buf()]).unwrap_or_else(|| PathBuf::from("golden"));
    if found == golden_dir {
        format!("drydock bless {}", scenario.display())
    } else {
        format!("drydock bless {} --golden {}", scenario.display(), golden_dir.display())
    }
}

/// The scenario files in `dir`, sorted.
pub fn catalogue(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "toml"))
        .collect();
    paths.sort();
    Ok(paths)
}

/// Runs `paths` on `jobs` threads and compares each with its golden in `golden_dir`.
/// A file named twice runs once; a file whose scenario name another file already has
/// is an error (both would be compared with one golden). With `keep`, each run's
/// artifacts stay in `keep/<scenario>/` (see [`write_index`]).
pub fn check(paths: &[PathBuf], golden_dir: &Path, options: &LoadOptions, jobs: usize, keep: Option<&Path>) -> Vec<CheckResult> {
    run_planned(paths, jobs, |path| check_one(path, golden_dir, options, keep))
}

/// Writes `dir/index.html`, the page of `results` for review (each scenario linked to
/// its `report.html` in `dir/<scenario>/`).
pub fn write_index(dir: &Path, results: &[CheckResult], golden_dir: &Path) -> Result<(), ArtifactError> {
    crate::report::create_output_folder(dir)?;
    write_atomic(&dir.join("index.html"), crate::html::check_index::render(results, golden_dir).as_bytes())
}

/// Runs `paths` on `jobs` threads and writes their snapshots as the new goldens;
/// files are taken as [`check`] takes them (two files would write one golden).
pub fn bless(paths: &[PathBuf], golden_dir: &Path, options: &LoadOptions, jobs: usize) -> Vec<CheckResult> {
    run_planned(paths, jobs, |path| bless_one(path, golden_dir, options))
}

/// `each` over the [`planned`] files on `jobs` threads, results in plan order.
fn run_planned(paths: &[PathBuf], jobs: usize, each: impl Fn(&Path) -> CheckResult + Sync) -> Vec<CheckResult> {
    let plan = planned(paths);
    in_pool(jobs, || {
        plan.par_iter()
            .map(|entry| match entry {
                Ok(path) => each(path),
                Err((path, message)) => error_result(path, message.clone()),
            })
            .collect()
    })
}

/// What makes two spellings of a path one file (`a/../b.toml` and `b.toml`): its
/// canonical path, or the path as given when it cannot be resolved (left for
/// whatever reads it to report).
pub(crate) fn file_identity(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// A scenario file to run, or the file and why it is refused.
pub(crate) type Planned = Result<PathBuf, (PathBuf, String)>;

/// Each scenario file once, in the order given, or an error in place of a file
/// whose scenario name an earlier file has: goldens (and scratch folders) are named
/// by it. A file that cannot be read here is left for its run to report.
pub(crate) fn planned(paths: &[PathBuf]) -> Vec<Planned> {
    let mut files_seen = BTreeSet::new();
    let mut names: BTreeMap<String, &PathBuf> = BTreeMap::new();
    let mut plan = Vec::new();
    for path in paths {
        if !files_seen.insert(file_identity(path)) {
            continue;
        }
        match scenario_name(path) {
            Some(name) if names.contains_key(&name) => plan.push(Err((
                path.clone(),
                format!(
                    "scenario name `{name}` is already that of {}; goldens and artifact folders are named by it, so rename one",
                    names[&name].display()
                ),
            ))),
            Some(name) => {
                names.insert(name, path);
                plan.push(Ok(path.clone()));
            }
            None => plan.push(Ok(path.clone())),
        }
    }
    plan
}

/// `[scenario].name` as written in the file, when it can be read.
fn scenario_name(path: &Path) -> Option<String> {
    let table: toml::Table = std::fs::read_to_string(path).ok()?.parse().ok()?;
    table.get("scenario")?.get("name")?.as_str().map(str::to_string)
}

/// Runs `work` on a pool of `jobs` threads (on the caller's, if none can be made).
pub(crate) fn in_pool<T: Send>(jobs: usize, work: impl FnOnce() -> T + Send) -> T {
    match rayon::ThreadPoolBuilder::new().num_threads(jobs.max(1)).build() {
        Ok(pool) => pool.install(work),
        Err(_) => work(),
    }
}

/// One scenario's run, as check and bless need it.
struct Snapshot {
    scenario: Scenario,
    text: String,
    fingerprint: String,
    failed_expectations: Vec<String>,
}

/// Loads and runs one scenario into `keep/<scenario>/`, or into a scratch folder
/// that is removed afterwards; returns its snapshot.
fn snapshot_of(path: &Path, options: &LoadOptions, keep: Option<&Path>) -> Result<Snapshot, String> {
    let scenario = Scenario::load(path, options).map_err(|error| error.to_string())?;
    let result = match keep {
        Some(dir) => run_scenario(&scenario, &dir.join(&scenario.header.name), false),
        None => {
            let scratch =
                std::env::temp_dir().join(format!("drydock-check-{}-{}-{}", std::process::id(), scenario.header.name, scenario.sim.seed));
            let result = run_scenario(&scenario, &scratch, false);
            let _ = std::fs::remove_dir_all(&scratch);
            result
        }
    };
    let result = result.map_err(|error| error.to_string())?;
    let text = snapshot_text(&scenario, &result.report, &result.iterations);
    let failed_expectations =
        result.report.expectations.iter().filter(|expectation| !expectation.pass).map(ExpectationResult::describe).collect();
    Ok(Snapshot { scenario, text, fingerprint: result.report.fingerprint, failed_expectations })
}

fn check_one(path: &Path, golden_dir: &Path, options: &LoadOptions, keep: Option<&Path>) -> CheckResult {
    let Snapshot { scenario, text, fingerprint, failed_expectations } = match snapshot_of(path, options, keep) {
        Ok(found) => found,
        Err(error) => return error_result(path, error),
    };
    let name = scenario.header.name.clone();
    let golden_file = golden_path(golden_dir, &name);
    let status = if !golden_file.exists() {
        CheckStatus::Missing
    } else {
        match read_golden(&golden_file) {
            Ok(golden) => {
                let new = serde_json::from_str(&text).expect("snapshots are JSON");
                let comparison = compare(&golden, &new, &scenario.tolerances);
                if comparison.matches() { CheckStatus::Match } else { CheckStatus::Regression(comparison) }
            }
            Err(error) => CheckStatus::Error(error.to_string()),
        }
    };
    CheckResult { path: path.to_path_buf(), name: Some(name), fingerprint: Some(fingerprint), failed_expectations, status }
}

fn error_result(path: &Path, error: String) -> CheckResult {
    CheckResult {
        path: path.to_path_buf(),
        name: None,
        fingerprint: None,
        failed_expectations: Vec::new(),
        status: CheckStatus::Error(error),
    }
}

fn bless_one(path: &Path, golden_dir: &Path, options: &LoadOptions) -> CheckResult {
    let outcome = snapshot_of(path, options, None).and_then(|snapshot| {
        let name = snapshot.scenario.header.name.clone();
        std::fs::create_dir_all(golden_dir).map_err(|error| format!("cannot create {}: {error}", golden_dir.display()))?;
        write_golden(&golden_path(golden_dir, &name), &snapshot.text).map_err(|error| error.to_string())?;
        Ok((name, snapshot))
    });
    match outcome {
        Ok((name, snapshot)) => CheckResult {
            path: path.to_path_buf(),
            name: Some(name),
            fingerprint: Some(snapshot.fingerprint),
            failed_expectations: snapshot.failed_expectations,
            status: CheckStatus::Match,
        },
        Err(error) => error_result(path, error),
    }
}
