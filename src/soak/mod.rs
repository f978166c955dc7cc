//! Mini-soaks: a scenario with a `[soak]` section runs as N iterations of virtual
//! time. After each iteration the KPI gate judges it, the tuner (if enabled)
//! decides bounded parameter changes through its guards, and the change is handed
//! to the engine as an operator control (the engine validates it like any update).
//! Stop criteria are watched minute by minute. Each iteration writes
//! `ITER_SUMMARY_<n>.json`; the run writes `TUNING_REPORT.json` and puts the soak
//! verdict into `report.json`. Everything is virtual time, so a soak is
//! deterministic and fast.

pub mod gate;
pub mod tuner;

use std::collections::BTreeMap;
use std::path::Path;

use drydock_engine::accounting::FillRecord;
use drydock_engine::port::Control;
use drydock_engine::units::NANOS_PER_S;
use drydock_engine::{Command, EngineParams, Event, Nanos, ParamValue};
use drydock_sim::{RunObserver, RunOptions, RunOutcome, Simulation, TimelineRow};
use serde::{Deserialize, Serialize};

use crate::report::{ArtifactError, write_atomic};
use gate::{CriterionHit, GateConfig, GateVerdict, IterationKpis, Snapshot, StopConfig, StopWatch, iteration_kpis};
use tuner::{TUNED_PARAMS, Tuner, TunerConfig, TuningDecision};

/// The `[soak]` section.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SoakConfig {
    /// Iterations.
    pub iterations: u32,
    /// Length of one iteration, seconds of virtual time.
    pub iteration_s: f64,
    /// Let the tuner change parameters between iterations.
    #[serde(default = "yes")]
    pub auto_tune: bool,
    /// Profile the panic revert goes to.
    #[serde(default = "steady_safe")]
    pub safe_profile: String,
    /// KPI gate thresholds.
    #[serde(default)]
    pub gate: GateConfig,
    /// Stop criteria.
    #[serde(default)]
    pub stop: StopConfig,
    /// Tuner thresholds.
    #[serde(default)]
    pub tuner: TunerConfig,
    /// Newest `ITER_SUMMARY_<n>.json` files kept in the output folder.
    #[serde(default = "keep_summaries")]
    pub keep_iteration_summaries: u32,
    /// Rows of `fills.csv` written at most (later fills are counted, not written).
    #[serde(default = "max_fill_rows")]
    pub max_fill_rows: u64,
}

fn max_fill_rows() -> u64 {
    crate::report::DEFAULT_MAX_FILL_ROWS
}

fn yes() -> bool {
    true
}

fn steady_safe() -> String {
    "steady_safe".to_string()
}

fn keep_summaries() -> u32 {
    200
}

impl SoakConfig {
    /// Checks the section against the scenario's duration.
    pub fn validate(&self, duration_s: f64) -> Result<(), (String, String)> {
        if self.iterations == 0 || self.iterations > 100_000 {
            return Err(("soak.iterations".to_string(), format!("{} is outside [1, 100000]", self.iterations)));
        }
        if !(self.iteration_s >= 60.0 && self.iteration_s <= 86_400.0) {
            return Err(("soak.iteration_s".to_string(), format!("{} is outside [60, 86400] seconds", self.iteration_s)));
        }
        let total = self.iterations as f64 * self.iteration_s;
        if (total - duration_s).abs() > 1e-6 {
            return Err((
                "soak.iterations".to_string(),
                format!(
                    "{} iterations x {} s = {total} s, but scenario.duration_s is {duration_s}; make them equal",
                    self.iterations, self.iteration_s
                ),
            ));
        }
        if self.keep_iteration_summaries == 0 {
            return Err(("soak.keep_iteration_summaries".to_string(), "must be at least 1".to_string()));
        }
        self.gate.validate()?;
        self.stop.validate()?;
        self.tuner.validate()
    }
}

/// A threshold setting's check: `value` finite and within `[min, max]`, or the field
/// (`soak.<section>.<name>`) and what is allowed.
pub(crate) fn threshold_within(section: &str, name: &str, value: f64, min: f64, max: f64) -> Result<(), (String, String)> {
    if value.is_finite() && (min..=max).contains(&value) {
        return Ok(());
    }
    let allowed = match (min.is_finite(), max.is_finite()) {
        (true, true) => format!("a number in [{min}, {max}]"),
        (true, false) => format!("a finite number >= {min}"),
        (false, true) => format!("a finite number <= {max}"),
        (false, false) => "a finite number".to_string(),
    };
    Err((format!("soak.{section}.{name}"), format!("{value} is not allowed: use {allowed}")))
}

/// A whole-number setting's check: `value` within `[min, max]`.
pub(crate) fn count_within(section: &str, name: &str, value: u64, min: u64, max: u64) -> Result<(), (String, String)> {
    if (min..=max).contains(&value) {
        return Ok(());
    }
    Err((format!("soak.{section}.{name}"), format!("{value} is outside [{min}, {max}]")))
}

/// `ITER_SUMMARY_<n>.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IterationSummary {
    /// Iteration number, from 1.
    pub iteration: u32,
    /// Start, seconds of virtual time.
    pub start_s: f64,
    /// End, seconds.
    pub end_s: f64,
    /// The iteration's KPIs.
    pub kpis: IterationKpis,
    /// KPI gate verdict.
    pub verdict: GateVerdict,
    /// Thresholds crossed.
    pub gate_reasons: Vec<String>,
    /// Tuned parameters in force during the iteration.
    pub params: BTreeMap<String, f64>,
    /// The tuning decision taken after it.
    pub decision: Option<TuningDecision>,
    /// True when a freeze covered this iteration.
    pub frozen: bool,
}

/// `TUNING_REPORT.json`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TuningReport {
    /// Every decision, in order.
    pub decisions: Vec<TuningDecision>,
    /// Each tuned parameter's value per iteration.
    pub trajectory: BTreeMap<String, Vec<f64>>,
    /// How often each guard fired.
    pub guards_fired: BTreeMap<String, u64>,
}

/// The soak's part of `report.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SoakSummary {
    /// Iterations configured.
    pub iterations: u32,
    /// Iterations run (fewer when a stop criterion fired).
    pub iterations_run: u32,
    /// Iterations per gate verdict.
    pub verdicts: BTreeMap<String, u32>,
    /// The stop criterion that ended the soak, if any.
    pub stopped_by: Option<CriterionHit>,
    /// Warnings recorded (criterion crossed at its warning level).
    pub warnings: Vec<CriterionHit>,
    /// Times the panic revert fired.
    pub panic_reverts: u32,
    /// How often each tuner guard fired.
    pub guards_fired: BTreeMap<String, u64>,
    /// `pass`, `warn` (some iteration warned or failed, or a warning fired) or `fail` (stopped).
    pub verdict: String,
    /// Tuned parameters at the end.
    pub final_params: BTreeMap<String, f64>,
}

/// A soak's outcome: the run's and the soak's.
pub struct SoakOutcome {
    /// The simulation's outcome over the iterations run.
    pub run: RunOutcome,
    /// The soak summary.
    pub summary: SoakSummary,
    /// Every iteration's summary, in order.
    pub iterations: Vec<IterationSummary>,
}

/// Collects the fills completed in the current iteration, passing everything on.
struct IterationFills<'a> {
    inner: &'a mut dyn RunObserver,
    fills: Vec<FillRecord>,
}

impl RunObserver for IterationFills<'_> {
    fn on_fill(&mut self, fill: &FillRecord) {
        self.fills.push(fill.clone());
        self.inner.on_fill(fill);
    }

    fn on_timeline(&mut self, row: &TimelineRow) {
        self.inner.on_timeline(row);
    }

    fn wants_engine_stream(&self) -> bool {
        self.inner.wants_engine_stream()
    }

    fn on_engine_event(&mut self, now_ns: Nanos, event: &Event) {
        self.inner.on_engine_event(now_ns, event);
    }

    fn on_engine_command(&mut self, now_ns: Nanos, command: &Command) {
        self.inner.on_engine_command(now_ns, command);
    }
}

/// Everything a soak needs from the scenario.
pub struct SoakPlan<'a> {
    /// The dock's configuration.
    pub sim: &'a drydock_sim::SimConfig,
    /// Starting parameters (also the tuner's baseline).
    pub params: &'a EngineParams,
    /// Profile name of the starting parameters.
    pub profile: &'a str,
    /// The `[soak]` section.
    pub soak: &'a SoakConfig,
    /// The panic-revert profile's parameters.
    pub safe_params: &'a EngineParams,
}

/// Runs a soak, writing per-iteration summaries and the tuning report into `out_dir`.
pub fn run_soak(plan: &SoakPlan, options: RunOptions, out_dir: &Path, observer: &mut dyn RunObserver) -> Result<SoakOutcome, SoakError> {
    let soak = plan.soak;
    let mut simulation = Simulation::new(plan.sim, plan.params.clone(), plan.profile, options)?;
    let mut tuner =
        Tuner::new(soak.tuner.clone(), plan.params.clone(), (soak.safe_profile.clone(), plan.safe_params.clone()), soak.iteration_s);
    let mut watch = StopWatch::new(soak.stop.clone());
    let mut report = TuningReport::default();
    let mut summary = SoakSummary {
        iterations: soak.iterations,
        iterations_run: 0,
        verdicts: BTreeMap::new(),
        stopped_by: None,
        warnings: Vec::new(),
        panic_reverts: 0,
        guards_fired: BTreeMap::new(),
        verdict: "pass".to_string(),
        final_params: BTreeMap::new(),
    };
    let mut collector = IterationFills { inner: observer, fills: Vec::new() };
    let mut iterations = Vec::new();
    for iteration in 1..=soak.iterations {
        let params_in_force = tuned_values(simulation.engine().params());
        let frozen = soak.auto_tune && tuner.is_frozen(iteration);
        let start = snapshot(&simulation);
        let start_s = (iteration - 1) as f64 * soak.iteration_s;
        let stop = run_minutes(&mut simulation, &mut watch, &mut collector, start_s, soak.iteration_s);
        let end = snapshot(&simulation);
        let kpis = iteration_kpis(&start, &end, &collector.fills);
        collector.fills.clear();
        let end_s = simulation.now_ns() as f64 / NANOS_PER_S as f64;
        let stop = stop.or_else(|| watch.iteration(&kpis, end_s));
        let (verdict, gate_reasons) = soak.gate.evaluate(&kpis);
        *summary.verdicts.entry(format!("{verdict:?}").to_uppercase()).or_default() += 1;
        summary.iterations_run = iteration;
        let last = stop.is_some() || iteration == soak.iterations;
        let decision = if soak.auto_tune {
            let total = if last { iteration } else { soak.iterations };
            let (decision, next) = tuner.decide(iteration, total, &kpis, verdict, simulation.engine().params());
            apply(&mut simulation, &decision, next, &mut collector)?;
            Some(decision)
        } else {
            None
        };
        if let Some(decision) = &decision {
            summary.panic_reverts += u32::from(decision.reverted_to.is_some());
            for guard in &decision.guards {
                *report.guards_fired.entry(guard.guard.clone()).or_default() += 1;
            }
            report.decisions.push(decision.clone());
        }
        for (name, value) in &params_in_force {
            report.trajectory.entry(name.clone()).or_default().push(*value);
        }

        let iteration_summary =
            IterationSummary { iteration, start_s, end_s, kpis, verdict, gate_reasons, params: params_in_force, decision, frozen };
        write_json(&out_dir.join(format!("ITER_SUMMARY_{iteration}.json")), &iteration_summary)?;
        prune_summaries(out_dir, iteration, soak.keep_iteration_summaries)?;
        iterations.push(iteration_summary);
        if let Some(stop) = stop {
            summary.stopped_by = Some(stop);
            break;
        }
    }
    write_json(&out_dir.join("TUNING_REPORT.json"), &report)?;
    summary.warnings = watch.warnings().to_vec();
    summary.guards_fired = report.guards_fired.clone();
    summary.final_params = tuned_values(simulation.engine().params());
    summary.verdict = soak_verdict(&summary);
    let run = simulation.finish(collector.inner);
    Ok(SoakOutcome { run, summary, iterations })
}

/// Runs one iteration minute by minute, feeding the stop watch; stops early on a criterion.
fn run_minutes(
    simulation: &mut Simulation,
    watch: &mut StopWatch,
    observer: &mut dyn RunObserver,
    start_s: f64,
    iteration_s: f64,
) -> Option<CriterionHit> {
    let end_ns = seconds_to_ns(start_s + iteration_s);
    let mut minute_start = snapshot(simulation);
    let mut now_ns = simulation.now_ns();
    while now_ns < end_ns {
        now_ns = (now_ns + 60 * NANOS_PER_S).min(end_ns);
        simulation.run_until(now_ns, observer);
        let minute_end = snapshot(simulation);
        if let Some(hit) = watch.minute(&minute_start, &minute_end, now_ns as f64 / NANOS_PER_S as f64) {
            return Some(hit);
        }
        minute_start = minute_end;
    }
    None
}

fn apply(
    simulation: &mut Simulation,
    decision: &TuningDecision,
    next: EngineParams,
    observer: &mut dyn RunObserver,
) -> Result<(), SoakError> {
    if let Some(profile) = &decision.reverted_to {
        simulation.control(Control::RevertToProfile { profile: profile.clone(), params: Box::new(next) }, observer)?;
    } else if !decision.applied.is_empty() {
        let changes = decision.applied.iter().map(|(name, (_, new))| (name.clone(), ParamValue::Number(*new))).collect();
        simulation.control(Control::SetParams { changes }, observer)?;
    }
    Ok(())
}

fn snapshot(simulation: &Simulation) -> Snapshot {
    let metrics = simulation.metrics();
    Snapshot::take(simulation.engine(), metrics.deadline_checks, metrics.deadline_misses)
}

fn tuned_values(params: &EngineParams) -> BTreeMap<String, f64> {
    TUNED_PARAMS.iter().map(|spec| (spec.name.to_string(), params.get_number(spec.name).unwrap_or(0.0))).collect()
}

fn soak_verdict(summary: &SoakSummary) -> String {
    let troubled = summary.verdicts.iter().any(|(verdict, count)| verdict != "PASS" && *count > 0) || !summary.warnings.is_empty();
    if summary.stopped_by.is_some() {
        "fail"
    } else if troubled {
        "warn"
    } else {
        "pass"
    }
    .to_string()
}

fn seconds_to_ns(seconds: f64) -> i64 {
    (seconds * NANOS_PER_S as f64).round() as i64
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), ArtifactError> {
    let mut text = serde_json::to_string_pretty(value).expect("soak artifacts serialize");
    text.push('\n');
    write_atomic(path, text.as_bytes())
}

/// Keeps the newest `keep` iteration summaries (retention while the soak runs).
fn prune_summaries(out_dir: &Path, newest: u32, keep: u32) -> Result<(), ArtifactError> {
    if newest <= keep {
        return Ok(());
    }
    let path = out_dir.join(format!("ITER_SUMMARY_{}.json", newest - keep));
    match std::fs::remove_file(&path) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(ArtifactError { path, source: error }),
        _ => Ok(()),
    }
}

/// What stops a soak.
#[derive(Debug, thiserror::Error)]
pub enum SoakError {
    /// The dock refused the configuration.
    #[error(transparent)]
    Sim(#[from] drydock_sim::SimError),
    /// The engine refused a tuning change (a tuner bug: the tuner validates first).
    #[error("the engine refused a tuning change: {0}")]
    Engine(#[from] drydock_engine::EngineError),
    /// An artifact could not be written.
    #[error(transparent)]
    Artifact(#[from] ArtifactError),
}
