//! Parameter sweeps: every (point, scenario, seed) of a sweep file runs in
//! parallel (rayon). Each finished run is appended as one line to `runs.jsonl` in
//! the output folder (flushed at once; a line torn by a kill is ignored), keyed by a
//! hash of its effective configuration; a rerun into the same folder skips runs
//! already recorded (resume), and `--shard K/N` runs a deterministic subset whose
//! folders `merge` combines. The outputs —
//! `results.csv`, `summary.csv`, `pareto.csv`, `best_profile.toml`, `report.html` —
//! are always rebuilt from the records in run-id order, so their bytes do not depend
//! on the number of threads, the completion order, or the shard split. Two folders of
//! one plan are compared run by run in [`compare`].

pub mod compare;
pub mod outputs;
pub mod spec;

use std::collections::{BTreeMap, BTreeSet};
use std::io::IsTerminal;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use drydock_sim::{Discard, RunOptions};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::expect::{flatten_metrics, validate_metric};
use crate::report::{ArtifactError, write_atomic};
use crate::scenario::{LoadOptions, Location, Scenario, ScenarioError};
use spec::{Point, Sweep, assignments};

/// One finished run, as recorded in a line of `runs.jsonl`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// `p<point>-x<scenario>-s<seed index>`, zero-padded so names sort in plan order.
    pub run_id: String,
    /// Point index.
    pub point: usize,
    /// Scenario name.
    pub scenario: String,
    /// Seed.
    pub seed: u64,
    /// The point's parameter values.
    pub params: BTreeMap<String, serde_json::Value>,
    /// Hash of the effective configuration (what resume compares).
    pub config_hash: String,
    /// The run's fingerprint.
    pub fingerprint: String,
    /// The code version that made it ([`crate::CODE_VERSION`]; empty in records of
    /// builds that did not stamp it): resume reuses only runs of this code.
    #[serde(default)]
    pub code_version: String,
    /// Every numeric metric of the run.
    pub metrics: BTreeMap<String, f64>,
}

/// A run of the plan.
#[derive(Clone, Debug)]
struct PlannedRun {
    index: usize,
    /// Hash of the effective configuration (what resume compares).
    config_hash: String,
    run_id: String,
    point_index: usize,
    /// The point's scenario, shared by its seeds (its own seed is `seed`).
    scenario: Arc<Scenario>,
    seed: u64,
    point: Arc<Point>,
}

/// A shard: the runs whose plan index is `index − 1` modulo `count`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Shard {
    /// 1-based shard number.
    pub index: u32,
    /// Number of shards.
    pub count: u32,
}

impl std::str::FromStr for Shard {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let parse = |part: &str| part.trim().parse::<u32>().map_err(|_| format!("`{text}`: expected K/N with whole numbers, e.g. 2/8"));
        let (index, count) = text.split_once('/').ok_or_else(|| format!("`{text}`: expected K/N, e.g. 2/8"))?;
        let (index, count) = (parse(index)?, parse(count)?);
        if count == 0 || index == 0 || index > count {
            return Err(format!("`{text}`: K must be in 1..=N (shards are numbered from 1)"));
        }
        Ok(Shard { index, count })
    }
}

/// What a sweep did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SweepSummary {
    /// Runs in the plan (or in this shard).
    pub planned: usize,
    /// Runs executed now.
    pub executed: usize,
    /// Runs skipped because already recorded.
    pub resumed: usize,
    /// Records dropped from the folder because no run of this plan, as configured
    /// now and with this code, wrote them (another sweep's, a changed scenario's, or
    /// another code version's).
    pub dropped: usize,
}

/// Anything that stops a sweep.
#[derive(Debug, Error)]
pub enum SweepError {
    /// Bad sweep file, scenario or parameter.
    #[error(transparent)]
    Input(#[from] ScenarioError),
    /// A run failed in the dock.
    #[error("run {run_id}: {message}")]
    Run {
        /// The run.
        run_id: String,
        /// What failed.
        message: String,
    },
    /// Output could not be written or read.
    #[error(transparent)]
    Artifact(#[from] ArtifactError),
    /// A merge is refused: a folder is unreadable, or the folders disagree.
    #[error("{0}")]
    Merge(String),
    /// Another process is writing the output folder.
    #[error("{} is being written by another drydock sweep (it holds {LOCK}); wait for it to finish, or pass another --out", .0.display())]
    Busy(PathBuf),
}

/// The file a sweep or merge holds locked while it writes its folder (an advisory
/// lock the system releases when the process ends, however it ends).
const LOCK: &str = ".sweep.lock";

/// Locks `out_dir` for this process, or says that another one holds it: two sweeps
/// into one folder would both run every pending run and interleave their records.
fn lock_folder(out_dir: &Path) -> Result<std::fs::File, SweepError> {
    let path = out_dir.join(LOCK);
    let cannot = |source: std::io::Error| ArtifactError { path: path.clone(), source };
    let file = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&path).map_err(cannot)?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(SweepError::Busy(out_dir.to_path_buf())),
        // A file system without locks (some network mounts): the folder is written
        // unguarded, as before there was a lock.
        Err(std::fs::TryLockError::Error(error)) if error.kind() == std::io::ErrorKind::Unsupported => Ok(file),
        Err(std::fs::TryLockError::Error(error)) => Err(cannot(error).into()),
    }
}

/// Runs (or resumes) a sweep into `out_dir` on `jobs` threads.
pub fn run_sweep(
    sweep: &Sweep,
    out_dir: &Path,
    jobs: usize,
    shard: Option<Shard>,
    profiles_dir: Option<&Path>,
) -> Result<SweepSummary, SweepError> {
    let runs = plan(sweep, profiles_dir)?;
    crate::report::create_output_folder(out_dir)?;
    let _lock = lock_folder(out_dir)?;
    let (recorded, dropped) = records_of_this_plan(out_dir, &runs)?;
    let runs: Vec<PlannedRun> = match shard {
        Some(shard) => runs.into_iter().filter(|run| run.index as u32 % shard.count == shard.index - 1).collect(),
        None => runs,
    };
    write_atomic(&out_dir.join("sweep.json"), spec_json(sweep).as_bytes())?;
    let pending: Vec<&PlannedRun> = runs.iter().filter(|run| !recorded.contains(&run.run_id)).collect();
    let log = Mutex::new(RecordLog::open(out_dir)?);
    let summary = SweepSummary { planned: runs.len(), executed: pending.len(), resumed: runs.len() - pending.len(), dropped };
    let progress = Progress::new(pending.len() as u64);
    let done = AtomicUsize::new(0);
    let pool = rayon::ThreadPoolBuilder::new().num_threads(jobs.max(1)).build().map_err(|error| SweepError::Merge(error.to_string()))?;
    pool.install(|| {
        pending.par_iter().try_for_each(|run| -> Result<(), SweepError> {
            let record = execute(run)?;
            log.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).append(&record)?;
            progress.tick(done.fetch_add(1, Ordering::Relaxed) + 1);
            Ok(())
        })
    })?;
    progress.finish();
    outputs::write_outputs(out_dir, &sweep.file)?;
    Ok(summary)
}

/// What `merge` combined.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct MergeSummary {
    /// Runs merged.
    pub merged: usize,
    /// Runs the sweep plans in all (fewer merged: a shard folder is missing or unfinished).
    pub planned: u64,
}

/// Merges shard folders into `out_dir`: the same bytes an unsharded run writes.
pub fn merge(dirs: &[PathBuf], out_dir: &Path) -> Result<MergeSummary, SweepError> {
    let mut spec: Option<String> = None;
    let mut merged: BTreeMap<String, RunRecord> = BTreeMap::new();
    for dir in dirs {
        let text = std::fs::read_to_string(dir.join("sweep.json")).map_err(|error| {
            SweepError::Merge(format!(
                "cannot read {}: {error}; name folders that `drydock sweep --shard K/N --out DIR` wrote",
                dir.join("sweep.json").display()
            ))
        })?;
        if spec.as_ref().is_some_and(|first| *first != text) {
            return Err(SweepError::Merge(format!(
                "{} holds a different sweep than the first folder; merge shards of one sweep only",
                dir.display()
            )));
        }
        spec = Some(text);
        for record in outputs::read_records(dir)? {
            if let Some(other) = merged.values().next().filter(|other| other.code_version != record.code_version) {
                return Err(SweepError::Merge(format!(
                    "run {} in {} was made by code version {} but run {} by {}; run every shard with one build",
                    record.run_id,
                    dir.display(),
                    shown_code_version(&record.code_version),
                    other.run_id,
                    shown_code_version(&other.code_version)
                )));
            }
            if let Some(existing) = merged.get(&record.run_id)
                && existing.fingerprint != record.fingerprint
            {
                return Err(SweepError::Merge(format!(
                    "run {} differs between shards (fingerprints {} and {})",
                    record.run_id, existing.fingerprint, record.fingerprint
                )));
            }
            merged.insert(record.run_id.clone(), record);
        }
    }
    let spec = spec.ok_or_else(|| SweepError::Merge("name at least one shard folder".to_string()))?;
    // Only once every input has been read: a refused merge leaves no output behind.
    crate::report::create_output_folder(out_dir)?;
    let _lock = lock_folder(out_dir)?;
    write_atomic(&out_dir.join("sweep.json"), spec.as_bytes())?;
    let lines: String = merged.values().map(record_line).collect();
    write_atomic(&out_dir.join(RECORDS), lines.as_bytes())?;
    let file: spec::SweepFile = serde_json::from_str(&spec).map_err(|error| SweepError::Merge(format!("sweep.json: {error}")))?;
    outputs::write_outputs(out_dir, &file)?;
    Ok(MergeSummary { merged: merged.len(), planned: spec::planned_runs(&file).unwrap_or(u64::MAX) })
}

/// A record's code version for messages (`unstamped` for records made before the
/// stamp existed).
pub fn shown_code_version(code_version: &str) -> &str {
    if code_version.is_empty() { "unstamped" } else { code_version }
}

fn spec_json(sweep: &Sweep) -> String {
    let mut text = serde_json::to_string_pretty(&sweep.file).expect("sweep files serialize");
    text.push('\n');
    text
}

/// The run ids recorded in `out_dir` by runs of this plan as configured now, and how
/// many other records were dropped from its log (rewritten atomically): a folder
/// reused for another sweep, or for this one after its points or scenarios changed,
/// or by another code version (the engine changed), must not lend its old runs to
/// this sweep's outputs.
fn records_of_this_plan(out_dir: &Path, runs: &[PlannedRun]) -> Result<(BTreeSet<String>, usize), ArtifactError> {
    let planned: BTreeMap<&str, &str> = runs.iter().map(|run| (run.run_id.as_str(), run.config_hash.as_str())).collect();
    let records = outputs::read_records(out_dir)?;
    let total = records.len();
    let kept: Vec<RunRecord> = records
        .into_iter()
        .filter(|record| {
            planned.get(record.run_id.as_str()) == Some(&record.config_hash.as_str()) && record.code_version == crate::CODE_VERSION
        })
        .collect();
    let dropped = total - kept.len();
    if dropped > 0 {
        let lines: String = kept.iter().map(record_line).collect();
        write_atomic(&out_dir.join(RECORDS), lines.as_bytes())?;
    }
    Ok((kept.into_iter().map(|record| record.run_id).collect(), dropped))
}

/// Every run of the plan, with its scenario loaded (bad parameters fail here,
/// before anything runs).
fn plan(sweep: &Sweep, profiles_dir: Option<&Path>) -> Result<Vec<PlannedRun>, SweepError> {
    let points = sweep.points();
    let seeds = sweep.file.sweep.seeds_per_point as u64;
    let mut runs = Vec::new();
    let tapes = crate::scenario::TapeCache::default();
    for (point_index, point) in points.iter().enumerate() {
        for (scenario_index, path) in sweep.scenario_paths.iter().enumerate() {
            let options = LoadOptions {
                overrides: assignments(point),
                profile: sweep.profile_path.as_ref().map(|path| path.display().to_string()),
                profiles_dir: profiles_dir.map(Path::to_path_buf),
                tapes: tapes.clone(),
                ..LoadOptions::default()
            };
            let base = Scenario::load(path, &options).map_err(|error| blame_the_sweep(sweep, path, point, &options, error))?;
            if base.soak.is_some() {
                return Err(SweepError::Merge(format!(
                    "{}: sweeps run plain scenarios; remove its [soak] section or use a copy",
                    path.display()
                )));
            }
            if point_index == 0 {
                check_named_metrics(sweep, path, &base)?;
            }
            let (base, shared_point) = (Arc::new(base), Arc::new(point.clone()));
            for seed_index in 0..seeds {
                let mut seeded = Scenario::clone(&base);
                seeded.sim.seed = base.sim.seed + seed_index;
                runs.push(PlannedRun {
                    config_hash: seeded.config_hash(),
                    index: runs.len(),
                    run_id: format!("p{point_index:05}-x{scenario_index:02}-s{seed_index:04}"),
                    point_index,
                    seed: seeded.sim.seed,
                    scenario: Arc::clone(&base),
                    point: Arc::clone(&shared_point),
                });
            }
        }
    }
    Ok(runs)
}

/// A point the base scenario at `path` refuses, blamed where the sweep file can be
/// fixed: on the one swept parameter at fault (its name when the scenario has no such
/// setting, else its values), or on `params` naming the point when its values clash
/// with each other (two parameters that must be ordered).
fn blame_the_sweep(sweep: &Sweep, path: &Path, point: &Point, options: &LoadOptions, error: ScenarioError) -> SweepError {
    if !matches!(error.location, Location::Flag(_)) {
        return SweepError::Input(error);
    }
    let Some(index) = culprit(path, point, options, &error) else {
        let message = format!("the point {} does not suit {}: {}", assignments(point).join(", "), path.display(), error.message);
        return SweepError::Input(sweep.error_at("params", &message));
    };
    let (name, value) = &point[index];
    let located = if error.message.starts_with("unknown field") {
        sweep.error_at(&format!("params[{index}].name"), &format!("{name} is not a setting of {}: {}", path.display(), error.message))
    } else {
        let param = &sweep.file.params[index];
        let field = if param.values.is_empty() { "min" } else { "values" };
        let mut message = format!("{name} = {value} does not suit {}: {}", path.display(), error.message);
        if param.values.is_empty() && !param.integer && value.is_float() && error.message.contains("expected a whole number") {
            message.push_str("; the setting takes whole numbers: add `integer = true` to draw them from the range");
        }
        sweep.error_at(&format!("params[{index}].{field}"), &message)
    };
    SweepError::Input(located)
}

/// The one swept parameter behind `error`: the only one its message names, or, when
/// it names none, the first without which the point loads. `None` when the message
/// names several (a clash) or no single parameter is to blame.
fn culprit(path: &Path, point: &Point, options: &LoadOptions, error: &ScenarioError) -> Option<usize> {
    // What the message is about, without a list of what is allowed.
    let about = error.message.split(", expected").next().unwrap_or(&error.message);
    let named: Vec<usize> = point
        .iter()
        .enumerate()
        .filter(|(_, (name, _))| {
            let last = name.rsplit('.').next().unwrap_or(name);
            about.contains(&format!("`{last}`")) || about.contains(&format!("`{name}`"))
        })
        .map(|(index, _)| index)
        .collect();
    match named.as_slice() {
        [index] => Some(*index),
        [] => (0..point.len()).find(|&index| {
            let mut others = assignments(point);
            others.remove(index);
            Scenario::load(path, &LoadOptions { overrides: others, ..options.clone() }).is_ok()
        }),
        _ => None,
    }
}

/// Objectives, constraints and tables must name metrics the base scenario reports;
/// an unknown one would rank on nothing.
fn check_named_metrics(sweep: &Sweep, path: &Path, base: &Scenario) -> Result<(), ScenarioError> {
    for (field, metric) in sweep.metric_settings() {
        let known = if metric.starts_with("soak.") {
            Err("sweeps run plain scenarios, which report no soak.* metrics".to_string())
        } else {
            validate_metric(metric, &base.sim)
        };
        known.map_err(|message| sweep.error_at(&field, &format!("{message} (checked against {})", path.display())))?;
    }
    Ok(())
}

/// One line of the run log.
fn record_line(record: &RunRecord) -> String {
    serde_json::to_string(record).expect("records serialize") + "\n"
}

/// The run log of a sweep folder.
pub const RECORDS: &str = "runs.jsonl";

/// Appends records to `runs.jsonl`, one flushed line each.
struct RecordLog {
    file: std::fs::File,
    path: PathBuf,
}

impl RecordLog {
    /// Opens the log for appending; a line torn by a kill is terminated first so the
    /// next record starts on its own line.
    fn open(out_dir: &Path) -> Result<Self, ArtifactError> {
        let path = out_dir.join(RECORDS);
        let error = |source| ArtifactError { path: path.clone(), source };
        let torn = std::fs::read(&path).is_ok_and(|bytes| bytes.last().is_some_and(|last| *last != b'\n'));
        let mut file = std::fs::OpenOptions::new().create(true).append(true).open(&path).map_err(error)?;
        if torn {
            file.write_all(b"\n").map_err(error)?;
        }
        Ok(RecordLog { file, path })
    }

    fn append(&mut self, record: &RunRecord) -> Result<(), ArtifactError> {
        let line = record_line(record);
        self.file
            .write_all(line.as_bytes())
            .and_then(|()| self.file.flush())
            .map_err(|source| ArtifactError { path: self.path.clone(), source })
    }
}

fn execute(run: &PlannedRun) -> Result<RunRecord, SweepError> {
    let scenario = &run.scenario;
    let sim = drydock_sim::SimConfig { seed: run.seed, ..scenario.sim.clone() };
    let options = RunOptions::for_duration(sim.duration_s);
    let outcome = drydock_sim::run(&sim, scenario.params.clone(), &scenario.profile, options, &mut Discard)
        .map_err(|error| SweepError::Run { run_id: run.run_id.clone(), message: error.to_string() })?;
    let params = run.point.iter().map(|(name, value)| (name.clone(), toml_to_json(value))).collect();
    Ok(RunRecord {
        run_id: run.run_id.clone(),
        point: run.point_index,
        scenario: scenario.header.name.clone(),
        seed: run.seed,
        params,
        config_hash: run.config_hash.clone(),
        fingerprint: outcome.fingerprint.clone(),
        code_version: crate::CODE_VERSION.to_string(),
        metrics: flatten_metrics(&outcome, None),
    })
}

fn toml_to_json(value: &toml::Value) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or(serde_json::Value::Null)
}

/// A progress bar on a terminal; plain lines (every tenth) otherwise or in CI.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    total: u64,
}

impl Progress {
    fn new(total: u64) -> Self {
        let interactive = std::io::stderr().is_terminal() && std::env::var_os("CI").is_none();
        let bar = interactive.then(|| {
            let bar = indicatif::ProgressBar::new(total);
            if let Ok(style) = indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} runs  {per_sec}  eta {eta}") {
                bar.set_style(style);
            }
            bar
        });
        Progress { bar, total }
    }

    fn tick(&self, done: usize) {
        match &self.bar {
            Some(bar) => bar.inc(1),
            None => {
                let step = (self.total / 10).max(1);
                if (done as u64).is_multiple_of(step) || done as u64 == self.total {
                    eprintln!("sweep: {done}/{} runs", self.total);
                }
            }
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish();
        }
    }
}
