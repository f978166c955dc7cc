//! `drydock run`: one scenario, its artifacts, and optionally a determinism check.
//!
//! The run streams `fills.csv`, `timeline.csv` and, when asked, the engine's
//! journal (`journal.jsonl.gz`), then writes `report.json` and the page people look
//! at, `report.html`.
//! With verify, the same scenario runs again on another thread; if the
//! fingerprints differ, both runs are repeated to describe the first record where
//! they part. Wall time is measured here, in the harness, and never written into
//! an artifact.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use drydock_sim::clock::Clock;
use drydock_sim::perf::PerfReport;

use drydock_engine::accounting::FillRecord;
use drydock_engine::{Command, Event, Nanos};
use drydock_sim::{Discard, RunObserver, RunOptions, RunOutcome, SimError, TimelineRow};
use thiserror::Error;

use crate::html::{self, Trace};
use crate::journal::{JOURNAL_FILE, JournalHeader, JournalWriter};
use crate::report::{ArtifactError, CsvArtifacts, DEFAULT_MAX_FILL_ROWS, Report, write_atomic};
use crate::scenario::{Scenario, ScenarioError};
use crate::soak::{IterationSummary, SoakError, SoakPlan, SoakSummary, run_soak};

/// Anything that stops a run.
#[derive(Debug, Error)]
pub enum HarnessError {
    /// Bad scenario, profile or override.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// The dock refused the configuration.
    #[error(transparent)]
    Sim(#[from] SimError),
    /// An artifact could not be written.
    #[error(transparent)]
    Artifact(#[from] ArtifactError),
    /// A soak failed to run.
    #[error(transparent)]
    Soak(#[from] SoakError),
}

/// Result of a determinism check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verification {
    /// Both runs produced the same fingerprint.
    Identical,
    /// The runs parted at a record.
    Diverged {
        /// 0-based index of the first differing record.
        record: u64,
        /// The record in the first run.
        first: String,
        /// The record in the second run.
        second: String,
    },
}

/// What `drydock run` produced.
#[derive(Debug)]
pub struct RunResult {
    /// The report (also written to `report.json`).
    pub report: Report,
    /// Where the artifacts are.
    pub out_dir: PathBuf,
    /// Wall-clock seconds of the (first) run.
    pub wall_s: f64,
    /// The determinism check, when asked for.
    pub verification: Option<Verification>,
    /// Wall-clock stage timings (also in `perf.json`), when measured.
    pub perf: Option<PerfReport>,
    /// A soak's iteration summaries, in order (empty for plain runs).
    pub iterations: Vec<IterationSummary>,
    /// The journal written, when asked for.
    pub journal: Option<PathBuf>,
}

/// The default artifact folder: `artifacts/<scenario>-<seed>/`.
pub fn default_out_dir(scenario: &Scenario) -> PathBuf {
    PathBuf::from("artifacts").join(format!("{}-{}", scenario.header.name, scenario.sim.seed))
}

/// The harness's wall clock for stage timings (the dock never reads one itself).
struct WallClock(Instant);

impl Clock for WallClock {
    fn now_ns(&self) -> i64 {
        self.0.elapsed().as_nanos() as i64
    }
}

/// What a run does besides running: the switches of `drydock run`.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct RunFlags {
    /// Run again on another thread and compare fingerprints.
    pub verify: bool,
    /// Time the dock's stages into `perf.json`.
    pub perf: bool,
    /// Write the engine's conversation into `journal.jsonl.gz`.
    pub journal: bool,
}

/// Runs `scenario`, writes its artifacts into `out_dir`, and verifies if asked.
/// Stage timings go to `perf.json` (never into `report.json`) for soaks.
pub fn run_scenario(scenario: &Scenario, out_dir: &Path, verify: bool) -> Result<RunResult, HarnessError> {
    run_scenario_with(scenario, out_dir, RunFlags { verify, ..RunFlags::default() })
}

/// [`run_scenario`] with every switch: stage timings for plain runs too, a journal.
pub fn run_scenario_with(scenario: &Scenario, out_dir: &Path, flags: RunFlags) -> Result<RunResult, HarnessError> {
    let RunFlags { verify, perf, journal } = flags;
    crate::report::create_output_folder(out_dir)?;
    let mut options = RunOptions::for_duration(scenario.sim.duration_s);
    options.keep_trail = verify;
    if perf || scenario.soak.is_some() {
        options.stage_clock = Some(Arc::new(WallClock(Instant::now())));
    }
    let max_fill_rows = scenario.soak.as_ref().map_or(DEFAULT_MAX_FILL_ROWS, |soak| soak.max_fill_rows);
    let mut csv = CsvArtifacts::create(out_dir, scenario.sim.market.instrument.tick_size, max_fill_rows)?;
    let mut trace = Trace::new();
    let mut journal = if journal { Some(JournalWriter::create(out_dir, &journal_header(scenario))?) } else { None };
    let started = Instant::now();
    let Executed { run: outcome, soak, iterations } = match &mut journal {
        Some(journal) => execute(scenario, options.clone(), out_dir, &mut Both(&mut csv, &mut Both(&mut trace, journal)))?,
        None => execute(scenario, options.clone(), out_dir, &mut Both(&mut csv, &mut trace))?,
    };
    let wall_s = started.elapsed().as_secs_f64();
    let counts = csv.counts().clone();
    csv.commit()?;
    let journal = match journal {
        Some(journal) => Some(journal.commit(&outcome.fingerprint)?),
        None => None,
    };
    let report = Report::new(scenario, &outcome, soak, counts);
    write_atomic(&out_dir.join("report.json"), report.to_json().as_bytes())?;
    write_atomic(&out_dir.join("report.html"), html::render(&report, &trace, scenario, &iterations).as_bytes())?;
    if let Some(perf) = &outcome.perf {
        let mut text = serde_json::to_string_pretty(perf).expect("timings serialize");
        text.push('\n');
        write_atomic(&out_dir.join("perf.json"), text.as_bytes())?;
    }
    remove_stale(out_dir, &[(JOURNAL_FILE, journal.is_some()), ("perf.json", outcome.perf.is_some())])?;
    let verify_options = RunOptions { stage_clock: None, ..options };
    let verification = if verify { Some(verify_against(scenario, &outcome, &verify_options)?) } else { None };
    Ok(RunResult { report, out_dir: out_dir.to_path_buf(), wall_s, verification, perf: outcome.perf, iterations, journal })
}

/// Removes the optional artifacts (`name`, written) this run did not write, so a
/// folder never mixes runs: a journal or stage timings an earlier run with other
/// switches left there would otherwise pass for this run's. Their temporaries go
/// too: an interrupted run leaves its half-written journal under that name.
fn remove_stale(out_dir: &Path, optional: &[(&str, bool)]) -> Result<(), ArtifactError> {
    for (name, _) in optional.iter().filter(|(_, written)| !written) {
        let path = out_dir.join(name);
        for path in [crate::report::temporary_path(&path), path] {
            match std::fs::remove_file(&path) {
                Err(source) if source.kind() != std::io::ErrorKind::NotFound => return Err(ArtifactError { path, source }),
                _ => {}
            }
        }
    }
    Ok(())
}

/// The journal header of a run of `scenario`: the engine as the dock builds it.
fn journal_header(scenario: &Scenario) -> JournalHeader {
    let setup = drydock_sim::EngineSetup::for_run(&scenario.sim, scenario.params.clone(), &scenario.profile);
    JournalHeader::new(&scenario.header.name, setup)
}

/// Runs the scenario whole, or as a soak when it has a `[soak]` section (writing its
/// iteration summaries and tuning report into `out_dir`).
fn execute(scenario: &Scenario, options: RunOptions, out_dir: &Path, observer: &mut dyn RunObserver) -> Result<Executed, HarnessError> {
    match (&scenario.soak, &scenario.safe_params) {
        (Some(soak), Some(safe_params)) => {
            let plan = SoakPlan { sim: &scenario.sim, params: &scenario.params, profile: &scenario.profile, soak, safe_params };
            let outcome = run_soak(&plan, options, out_dir, observer)?;
            Ok(Executed { run: outcome.run, soak: Some(outcome.summary), iterations: outcome.iterations })
        }
        _ => {
            let run = drydock_sim::run(&scenario.sim, scenario.params.clone(), &scenario.profile, options, observer)?;
            Ok(Executed { run, soak: None, iterations: Vec::new() })
        }
    }
}

/// Hands every streamed output to two observers, in order.
struct Both<'a>(&'a mut dyn RunObserver, &'a mut dyn RunObserver);

impl RunObserver for Both<'_> {
    fn on_fill(&mut self, fill: &FillRecord) {
        self.0.on_fill(fill);
        self.1.on_fill(fill);
    }

    fn on_timeline(&mut self, row: &TimelineRow) {
        self.0.on_timeline(row);
        self.1.on_timeline(row);
    }

    fn wants_engine_stream(&self) -> bool {
        self.0.wants_engine_stream() || self.1.wants_engine_stream()
    }

    fn on_engine_event(&mut self, now_ns: Nanos, event: &Event) {
        self.0.on_engine_event(now_ns, event);
        self.1.on_engine_event(now_ns, event);
    }

    fn on_engine_command(&mut self, now_ns: Nanos, command: &Command) {
        self.0.on_engine_command(now_ns, command);
        self.1.on_engine_command(now_ns, command);
    }
}

/// A finished run or soak.
struct Executed {
    run: RunOutcome,
    soak: Option<SoakSummary>,
    iterations: Vec<IterationSummary>,
}

/// Runs `scenario` once more on another thread and compares with `first`.
fn verify_against(scenario: &Scenario, first: &RunOutcome, options: &RunOptions) -> Result<Verification, HarnessError> {
    let second = run_on_thread(scenario, options.clone())?;
    if second.fingerprint == first.fingerprint {
        return Ok(Verification::Identical);
    }
    let record = match (&first.trail, &second.trail) {
        (Some(left), Some(right)) => drydock_sim::fingerprint::first_divergence(left, right).unwrap_or(0) as u64,
        _ => 0,
    };
    let described = RunOptions { keep_trail: false, describe_record: Some(record), ..options.clone() };
    let first_again = run_on_thread(scenario, described.clone())?;
    let second_again = run_on_thread(scenario, described)?;
    let describe =
        |outcome: &RunOutcome| outcome.described_record.clone().unwrap_or_else(|| "(the run ended before this record)".to_string());
    Ok(Verification::Diverged { record, first: describe(&first_again), second: describe(&second_again) })
}

/// Runs the scenario again on its own thread; a soak writes its side artifacts into
/// a scratch folder that is removed afterwards.
fn run_on_thread(scenario: &Scenario, options: RunOptions) -> Result<RunOutcome, HarnessError> {
    let scenario = scenario.clone();
    let handle = std::thread::spawn(move || -> Result<RunOutcome, HarnessError> {
        let scratch = std::env::temp_dir().join(format!("drydock-verify-{}-{:?}", std::process::id(), std::thread::current().id()));
        std::fs::create_dir_all(&scratch).map_err(|source| ArtifactError { path: scratch.clone(), source })?;
        let result = execute(&scenario, options, &scratch, &mut Discard).map(|executed| executed.run);
        let _ = std::fs::remove_dir_all(&scratch);
        result
    });
    handle.join().expect("the verification thread does not panic")
}
