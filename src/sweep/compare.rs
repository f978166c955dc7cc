//! `drydock sweep compare BASELINE CANDIDATE`: is a change better or worse than the
//! seeds' noise? Two sweep folders that ran the same plan (the same points,
//! scenarios and seeds — the same sweep with two engine builds, or two sweep files
//! differing only in parameter values) are compared run by run: each run of the
//! candidate is paired with the baseline's run of the same id (same scenario, same
//! seed, so the same market randomness), and per point and objective the paired
//! differences give a mean change, its 95 % interval (Student's t) and a two-sided
//! p-value. A change is called only when it survives Holm's correction for testing
//! every point and objective at once (family-wise 5 %).
//!
//! The verdict is a gate: NO-GO when an objective is significantly worse at some
//! point, or a point that met every constraint no longer does; GO otherwise, but
//! only on evidence: runs that differ with no objective testable (every point has
//! fewer than two paired runs) are an error, not a GO.
//! Deliberately not here: running sweeps (see the parent module).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, StudentsT};
use thiserror::Error;

use super::RunRecord;
use super::outputs::{read_records, summarize};
use super::spec::{Goal, SweepFile};
use crate::expect::metric_value;
use crate::report::ArtifactError;

/// Family-wise error rate of the verdicts.
pub const FAMILY_ALPHA: f64 = 0.05;

/// Why two sweep folders cannot be compared.
#[derive(Debug, Error)]
pub enum CompareError {
    /// A folder is not a sweep's output.
    #[error("cannot read {path}: {message}; name folders that `drydock sweep` wrote (they hold sweep.json and runs.jsonl)")]
    NotASweep {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The folders ran different plans.
    #[error("{0}")]
    Plans(String),
    /// The runs differ but no objective has the two paired runs a test needs.
    #[error(
        "no objective can be tested: {differing} of {pairs} paired runs differ, but no point has two paired runs of an objective; \
         run both sweeps with seeds_per_point of at least 2 (8 or more to see small changes)"
    )]
    Untestable {
        /// Paired runs.
        pairs: usize,
        /// Of those, runs whose fingerprints differ.
        differing: usize,
    },
    /// Reading the records failed.
    #[error(transparent)]
    Artifact(#[from] ArtifactError),
}

/// How one objective changed at one point.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ObjectiveChange {
    /// Point index.
    pub point: usize,
    /// The metric.
    pub metric: String,
    /// Larger or smaller is better.
    pub goal: Goal,
    /// Paired runs (both measured the metric).
    pub pairs: usize,
    /// Baseline mean over the pairs.
    pub baseline_mean: f64,
    /// Candidate mean over the pairs.
    pub candidate_mean: f64,
    /// Mean of candidate − baseline.
    pub change_mean: f64,
    /// 95 % interval of that mean, (low, high).
    pub change_ci95: (f64, f64),
    /// Two-sided p-value of "no change" (paired t-test); `None` with fewer than two pairs.
    pub p_value: Option<f64>,
    /// The p-value after Holm's correction over every point and objective.
    pub p_adjusted: Option<f64>,
    /// `better`, `worse`, `same` (no significant change) or `untested` (fewer than two pairs).
    pub verdict: &'static str,
}

/// A point that met every constraint in the baseline and no longer does (or the reverse).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FeasibilityChange {
    /// Point index.
    pub point: usize,
    /// Feasible in the baseline.
    pub baseline: bool,
    /// Feasible in the candidate.
    pub candidate: bool,
}

/// The comparison of two sweep folders.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SweepComparison {
    /// Runs paired.
    pub pairs: usize,
    /// Paired runs whose fingerprints are equal (nothing the engine saw or did changed).
    pub identical_runs: usize,
    /// Paired runs with the same effective configuration (scenario and engine values):
    /// all of them when only the engine's code changed, fewer when values did.
    pub same_config_runs: usize,
    /// Per point and objective.
    pub objectives: Vec<ObjectiveChange>,
    /// Points whose feasibility changed.
    pub feasibility: Vec<FeasibilityChange>,
    /// The smallest change called, percent of the baseline mean (0: any significant one).
    pub min_effect_pct: f64,
    /// `GO` or `NO-GO`.
    pub verdict: &'static str,
    /// The code version that made the baseline's runs (`mixed` when several did,
    /// `unstamped` for runs of builds before the stamp).
    pub baseline_code_version: String,
    /// The code version that made the candidate's runs (as for the baseline).
    pub candidate_code_version: String,
    /// The |t| the most significant change needs to be called (Holm's first step,
    /// with the fewest pairs of any tested change); `None` when nothing was tested.
    /// A large one means the seeds leave little power: only huge changes are called.
    pub t_required: Option<f64>,
}

impl SweepComparison {
    /// True when nothing got significantly worse and no point lost its feasibility.
    pub fn go(&self) -> bool {
        self.verdict == "GO"
    }

    /// A warning when the seeds leave too little power to call any but huge changes
    /// (see [`LOW_POWER_T`]), saying how many pairs and tests there are.
    pub fn power_warning(&self) -> Option<String> {
        let t_required = self.t_required.filter(|t| *t > LOW_POWER_T)?;
        let tested: Vec<&ObjectiveChange> = self.objectives.iter().filter(|change| change.p_value.is_some()).collect();
        let fewest = tested.iter().map(|change| change.pairs).min().unwrap_or(0);
        Some(format!(
            "low power: with {fewest} paired runs per point and {} tests, a change is called only when its |t| exceeds {t_required:.1}; \
             add seeds per point (or fewer points and objectives) to detect smaller changes",
            tested.len()
        ))
    }

    /// What a change must be to be called, in words.
    pub fn rule(&self) -> String {
        let mut rule = format!("significant at a family-wise {} % (paired t, Holm's correction)", FAMILY_ALPHA * 100.0);
        if self.min_effect_pct > 0.0 {
            rule.push_str(&format!(" and at least {} % of the baseline mean", self.min_effect_pct));
        }
        rule
    }
}

/// A required |t| above this draws [`SweepComparison::power_warning`]: over 18 tests
/// (9 points, 2 objectives) 8 pairs per point need 4.5, 3 pairs need 18.9.
pub const LOW_POWER_T: f64 = 5.0;

/// Changes smaller than this fraction of the larger mean are floating-point noise
/// (a summation reordered), never called.
pub const NOISE_FLOOR_RELATIVE: f64 = 1e-9;

/// Compares the sweep in `candidate` with the one in `baseline`; a change is called
/// only when it is significant and at least `min_effect_pct` percent of the baseline
/// mean (0: any significant change).
pub fn compare(baseline: &Path, candidate: &Path, min_effect_pct: f64) -> Result<SweepComparison, CompareError> {
    let (_, baseline_records) = load(baseline)?;
    let (candidate_file, candidate_records) = load(candidate)?;
    let pairs = pair(&baseline_records, &candidate_records, baseline, candidate)?;
    let identical_runs = pairs.iter().filter(|(left, right)| left.fingerprint == right.fingerprint).count();
    let same_config_runs = pairs.iter().filter(|(left, right)| left.config_hash == right.config_hash).count();
    let mut objectives = Vec::new();
    let points: std::collections::BTreeSet<usize> = pairs.iter().map(|(_, right)| right.point).collect();
    for point in points {
        let at_point: Vec<&(&RunRecord, &RunRecord)> = pairs.iter().filter(|(_, right)| right.point == point).collect();
        for objective in &candidate_file.objectives {
            objectives.push(objective_change(point, &objective.metric, objective.goal, &at_point));
        }
    }
    apply_holm(&mut objectives, min_effect_pct);
    // Both sides judged by the candidate's constraints, so a changed threshold is not a change.
    let feasibility = feasibility_changes(&candidate_file, &baseline_records, &candidate_records);
    let worse = objectives.iter().any(|change| change.verdict == "worse");
    let lost = feasibility.iter().any(|change| change.baseline && !change.candidate);
    // A GO needs evidence: the same runs, or at least one objective tested.
    let untestable = objectives.iter().all(|change| change.p_value.is_none()) && identical_runs < pairs.len();
    if untestable && !lost {
        return Err(CompareError::Untestable { pairs: pairs.len(), differing: pairs.len() - identical_runs });
    }
    let verdict = if worse || lost { "NO-GO" } else { "GO" };
    let t_required = t_required(&objectives);
    Ok(SweepComparison {
        pairs: pairs.len(),
        identical_runs,
        same_config_runs,
        objectives,
        feasibility,
        min_effect_pct,
        verdict,
        baseline_code_version: code_version_of(&baseline_records),
        candidate_code_version: code_version_of(&candidate_records),
        t_required,
    })
}

/// The one code version that made `records`, or `mixed`.
fn code_version_of(records: &[RunRecord]) -> String {
    let versions: std::collections::BTreeSet<&str> = records.iter().map(|record| super::shown_code_version(&record.code_version)).collect();
    match versions.into_iter().collect::<Vec<_>>().as_slice() {
        [only] => only.to_string(),
        _ => "mixed".to_string(),
    }
}

/// The |t| Holm's first step needs over the tested changes, at the fewest pairs.
fn t_required(changes: &[ObjectiveChange]) -> Option<f64> {
    let tested: Vec<usize> = changes.iter().filter(|change| change.p_value.is_some()).map(|change| change.pairs).collect();
    let fewest = *tested.iter().min()?;
    let distribution = StudentsT::new(0.0, 1.0, (fewest - 1) as f64).ok()?;
    Some(distribution.inverse_cdf(1.0 - FAMILY_ALPHA / (2.0 * tested.len() as f64)))
}

/// The comparison as CSV: one row per point and objective.
pub fn to_csv(comparison: &SweepComparison) -> String {
    let mut text = String::from(
        "point,metric,goal,pairs,baseline_mean,candidate_mean,change_mean,change_ci95_low,change_ci95_high,p_value,p_adjusted,verdict\n",
    );
    let number = |value: f64| if value.is_finite() { format!("{value}") } else { String::new() };
    let optional = |value: Option<f64>| value.map_or(String::new(), number);
    for change in &comparison.objectives {
        let goal = match change.goal {
            Goal::Maximize => "maximize",
            Goal::Minimize => "minimize",
        };
        text.push_str(&format!(
            "{},{},{goal},{},{},{},{},{},{},{},{},{}\n",
            change.point,
            change.metric,
            change.pairs,
            number(change.baseline_mean),
            number(change.candidate_mean),
            number(change.change_mean),
            number(change.change_ci95.0),
            number(change.change_ci95.1),
            optional(change.p_value),
            optional(change.p_adjusted),
            change.verdict
        ));
    }
    text
}

fn load(dir: &Path) -> Result<(SweepFile, Vec<RunRecord>), CompareError> {
    let path = dir.join("sweep.json");
    let text =
        std::fs::read_to_string(&path).map_err(|error| CompareError::NotASweep { path: path.clone(), message: error.to_string() })?;
    let file: SweepFile = serde_json::from_str(&text).map_err(|error| CompareError::NotASweep { path, message: error.to_string() })?;
    let records = read_records(dir)?;
    if records.is_empty() {
        let path = dir.join(super::RECORDS);
        return Err(CompareError::NotASweep { path, message: "no finished runs".to_string() });
    }
    Ok((file, records))
}

/// Each candidate run with the baseline run of the same id; the two must be the same
/// scenario and seed, and every run of either side must have its partner.
fn pair<'a>(
    baseline: &'a [RunRecord],
    candidate: &'a [RunRecord],
    baseline_dir: &Path,
    candidate_dir: &Path,
) -> Result<Vec<(&'a RunRecord, &'a RunRecord)>, CompareError> {
    let by_id: BTreeMap<&str, &RunRecord> = baseline.iter().map(|record| (record.run_id.as_str(), record)).collect();
    let mut pairs = Vec::new();
    for record in candidate {
        let Some(partner) = by_id.get(record.run_id.as_str()) else {
            return Err(CompareError::Plans(format!(
                "run {} of {} has no partner in {}; compare sweeps of the same plan (points, scenarios, seeds), both finished",
                record.run_id,
                candidate_dir.display(),
                baseline_dir.display()
            )));
        };
        if (partner.scenario.as_str(), partner.seed) != (record.scenario.as_str(), record.seed) {
            return Err(CompareError::Plans(format!(
                "run {} is {} seed {} in {} but {} seed {} in {}; compare sweeps of the same plan",
                record.run_id,
                partner.scenario,
                partner.seed,
                baseline_dir.display(),
                record.scenario,
                record.seed,
                candidate_dir.display()
            )));
        }
        pairs.push((*partner, record));
    }
    if pairs.len() != baseline.len() {
        return Err(CompareError::Plans(format!(
            "{} holds {} runs, {} holds {}; compare sweeps of the same plan, both finished",
            baseline_dir.display(),
            baseline.len(),
            candidate_dir.display(),
            candidate.len()
        )));
    }
    Ok(pairs)
}

fn objective_change(point: usize, metric: &str, goal: Goal, pairs: &[&(&RunRecord, &RunRecord)]) -> ObjectiveChange {
    let values: Vec<(f64, f64)> = pairs
        .iter()
        .filter_map(|(left, right)| Some((metric_value(&left.metrics, metric)?, metric_value(&right.metrics, metric)?)))
        .filter(|(left, right)| left.is_finite() && right.is_finite())
        .collect();
    let n = values.len();
    let mean = |pick: fn(&(f64, f64)) -> f64| values.iter().map(pick).sum::<f64>() / n.max(1) as f64;
    let (baseline_mean, candidate_mean) = (mean(|pair| pair.0), mean(|pair| pair.1));
    let differences: Vec<f64> = values.iter().map(|(left, right)| right - left).collect();
    let (change_mean, change_ci95, p_value) = paired_test(&differences);
    ObjectiveChange {
        point,
        metric: metric.to_string(),
        goal,
        pairs: n,
        baseline_mean: if n == 0 { f64::NAN } else { baseline_mean },
        candidate_mean: if n == 0 { f64::NAN } else { candidate_mean },
        change_mean,
        change_ci95,
        p_value,
        p_adjusted: None,
        verdict: if p_value.is_some() { "same" } else { "untested" },
    }
}

/// Mean of `differences`, its 95 % interval and the two-sided p-value of a zero mean
/// (Student's t); with no spread, a non-zero mean is certain (p = 0) and a zero one
/// is no change (p = 1). Fewer than two differences: no test.
pub fn paired_test(differences: &[f64]) -> (f64, (f64, f64), Option<f64>) {
    let n = differences.len();
    if n == 0 {
        return (f64::NAN, (f64::NAN, f64::NAN), None);
    }
    let mean = differences.iter().sum::<f64>() / n as f64;
    if n < 2 {
        return (mean, (mean, mean), None);
    }
    let variance = differences.iter().map(|value| (value - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    let standard_error = (variance / n as f64).sqrt();
    if standard_error == 0.0 {
        return (mean, (mean, mean), Some(if mean == 0.0 { 1.0 } else { 0.0 }));
    }
    let Ok(distribution) = StudentsT::new(0.0, 1.0, (n - 1) as f64) else {
        return (mean, (mean, mean), None);
    };
    let half = distribution.inverse_cdf(0.975) * standard_error;
    let t = mean / standard_error;
    let p = (2.0 * (1.0 - distribution.cdf(t.abs()))).clamp(0.0, 1.0);
    (mean, (mean - half, mean + half), Some(p))
}

/// Holm's step-down correction over every tested change; a change whose adjusted
/// p-value is under [`FAMILY_ALPHA`] and that is large enough (see [`large_enough`])
/// gets its direction as verdict.
fn apply_holm(changes: &mut [ObjectiveChange], min_effect_pct: f64) {
    let mut tested: Vec<usize> = (0..changes.len()).filter(|&index| changes[index].p_value.is_some()).collect();
    tested.sort_by(|&left, &right| {
        changes[left].p_value.unwrap_or(1.0).total_cmp(&changes[right].p_value.unwrap_or(1.0)).then(left.cmp(&right))
    });
    let family = tested.len();
    let mut running_max: f64 = 0.0;
    for (rank, index) in tested.into_iter().enumerate() {
        let p = changes[index].p_value.unwrap_or(1.0);
        running_max = running_max.max(((family - rank) as f64 * p).min(1.0));
        let change = &mut changes[index];
        change.p_adjusted = Some(running_max);
        if running_max < FAMILY_ALPHA && large_enough(change, min_effect_pct) {
            let improved = match change.goal {
                Goal::Maximize => change.change_mean > 0.0,
                Goal::Minimize => change.change_mean < 0.0,
            };
            change.verdict = if improved { "better" } else { "worse" };
        }
    }
}

/// Whether a change is above the noise floor and at least `min_effect_pct` percent
/// of the baseline mean.
fn large_enough(change: &ObjectiveChange, min_effect_pct: f64) -> bool {
    let size = change.change_mean.abs();
    let scale = change.baseline_mean.abs().max(change.candidate_mean.abs()).max(1.0);
    size > NOISE_FLOOR_RELATIVE * scale && size >= min_effect_pct / 100.0 * change.baseline_mean.abs()
}

fn feasibility_changes(file: &SweepFile, baseline_records: &[RunRecord], candidate_records: &[RunRecord]) -> Vec<FeasibilityChange> {
    let before: BTreeMap<usize, bool> =
        summarize(baseline_records, file).into_iter().map(|summary| (summary.point, summary.feasible)).collect();
    summarize(candidate_records, file)
        .into_iter()
        .filter_map(|summary| {
            let baseline = *before.get(&summary.point)?;
            (baseline != summary.feasible).then_some(FeasibilityChange { point: summary.point, baseline, candidate: summary.feasible })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paired_test_matches_a_worked_example() {
        // d = 1, 2, 3, 4, 5: mean 3, sd 1.5811, se 0.7071, t = 4.2426, df 4: p = 0.01324;
        // t(0.975, 4) = 2.7764: interval 3 ± 1.9632.
        let (mean, (low, high), p) = paired_test(&[1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(mean, 3.0);
        assert!((low - 1.0368).abs() < 1e-3 && (high - 4.9632).abs() < 1e-3, "{low} {high}");
        assert!((p.unwrap() - 0.01324).abs() < 1e-4, "{p:?}");
        assert_eq!(paired_test(&[0.0, 0.0, 0.0]).2, Some(1.0), "no change at all");
        assert_eq!(paired_test(&[0.5, 0.5]).2, Some(0.0), "the same shift on every seed");
        assert_eq!(paired_test(&[0.5]).2, None, "one pair cannot be tested");
        let pair = (record(1.0), record(2.0));
        let lone = objective_change(0, "kpis.net_bps", Goal::Maximize, &[&(&pair.0, &pair.1)]);
        assert_eq!((lone.pairs, lone.verdict, lone.change_mean), (1, "untested", 1.0));
    }

    #[test]
    fn the_required_t_follows_holm_and_warns_when_seeds_leave_little_power() {
        // Student's t, df 2, upper 1 - 0.05 / 36: 18.93; df 7: 4.51.
        let with_pairs = |pairs: usize| ObjectiveChange { pairs, ..change(0.5, 0.0, Goal::Maximize) };
        let three: Vec<ObjectiveChange> = (0..18).map(|_| with_pairs(3)).collect();
        assert!((t_required(&three).unwrap() - 18.93).abs() < 0.05, "{:?}", t_required(&three));
        let eight: Vec<ObjectiveChange> = (0..18).map(|_| with_pairs(8)).collect();
        assert!((t_required(&eight).unwrap() - 4.51).abs() < 0.05, "{:?}", t_required(&eight));
        let untested = ObjectiveChange { p_value: None, ..with_pairs(1) };
        assert_eq!(t_required(&[untested]), None);
        let comparison = |objectives: Vec<ObjectiveChange>| SweepComparison {
            baseline_code_version: "a".to_string(),
            candidate_code_version: "b".to_string(),
            pairs: 0,
            identical_runs: 0,
            same_config_runs: 0,
            t_required: t_required(&objectives),
            objectives,
            feasibility: Vec::new(),
            min_effect_pct: 0.0,
            verdict: "GO",
        };
        let warning = comparison(three).power_warning().expect("three pairs over 18 tests warn");
        assert!(warning.contains("with 3 paired runs per point and 18 tests") && warning.contains("18.9"), "{warning}");
        assert_eq!(comparison(eight).power_warning(), None);
    }

    fn change(p: f64, change_mean: f64, goal: Goal) -> ObjectiveChange {
        ObjectiveChange {
            point: 0,
            metric: "kpis.net_bps".to_string(),
            goal,
            pairs: 10,
            baseline_mean: 0.0,
            candidate_mean: change_mean,
            change_mean,
            change_ci95: (change_mean, change_mean),
            p_value: Some(p),
            p_adjusted: None,
            verdict: "same",
        }
    }

    fn record(net_bps: f64) -> RunRecord {
        RunRecord {
            run_id: "p00000-x00-s0000".to_string(),
            point: 0,
            scenario: "calm".to_string(),
            seed: 1001,
            params: BTreeMap::new(),
            config_hash: "h".to_string(),
            fingerprint: "f".to_string(),
            code_version: crate::CODE_VERSION.to_string(),
            metrics: BTreeMap::from([("kpis.net_bps".to_string(), net_bps)]),
        }
    }

    const SPEC: &str = "[sweep]\nname = \"s\"\nscenarios = [\"calm.toml\"]\nseeds_per_point = 6\n\n\
        [[params]]\nname = \"engine.base_spread_bps\"\nvalues = [0.4]\n\n\
        [[objectives]]\nmetric = \"kpis.net_bps\"\ngoal = \"maximize\"\n\n\
        [[constraints]]\nmetric = \"kpis.max_drawdown\"\nop = \"<=\"\nvalue = 10.0\n";

    /// A sweep folder with six runs of one point: net bps and drawdown per seed.
    fn folder(dir: &Path, net_bps: impl Fn(u64) -> f64, drawdown: f64, fingerprint: &str) {
        folder_of(dir, 6, net_bps, drawdown, fingerprint);
    }

    /// A sweep folder with `seeds` runs of one point.
    fn folder_of(dir: &Path, seeds: u64, net_bps: impl Fn(u64) -> f64, drawdown: f64, fingerprint: &str) {
        std::fs::create_dir_all(dir).unwrap();
        let file: SweepFile = toml::from_str(&SPEC.replace("seeds_per_point = 6", &format!("seeds_per_point = {seeds}"))).unwrap();
        std::fs::write(dir.join("sweep.json"), serde_json::to_string(&file).unwrap()).unwrap();
        let lines: String = (0..seeds)
            .map(|seed| {
                let record = RunRecord {
                    run_id: format!("p00000-x00-s{seed:04}"),
                    point: 0,
                    scenario: "calm".to_string(),
                    seed: 1001 + seed,
                    params: BTreeMap::from([("engine.base_spread_bps".to_string(), serde_json::json!(0.4))]),
                    config_hash: "h".to_string(),
                    fingerprint: format!("{fingerprint}{seed}"),
                    code_version: crate::CODE_VERSION.to_string(),
                    metrics: BTreeMap::from([("kpis.net_bps".to_string(), net_bps(seed)), ("kpis.max_drawdown".to_string(), drawdown)]),
                };
                serde_json::to_string(&record).unwrap() + "\n"
            })
            .collect();
        std::fs::write(dir.join(super::super::RECORDS), lines).unwrap();
    }

    #[test]
    fn a_shift_on_every_seed_is_called_and_a_broken_constraint_is_no_go() {
        let dir = tempfile::tempdir().unwrap();
        let noise = |seed: u64| [0.3, -0.2, 0.1, 0.0, -0.4, 0.25][seed as usize];
        folder(&dir.path().join("base"), |seed| 1.0 + noise(seed), 5.0, "a");
        folder(&dir.path().join("worse"), |seed| 0.5 + noise(seed) + 0.01 * seed as f64, 5.0, "b");
        let comparison = compare(&dir.path().join("base"), &dir.path().join("worse"), 0.0).unwrap();
        assert_eq!((comparison.pairs, comparison.identical_runs, comparison.same_config_runs), (6, 0, 6));
        let change = &comparison.objectives[0];
        assert_eq!(change.verdict, "worse", "{change:?}");
        assert!((change.change_mean - (-0.475)).abs() < 1e-9 && change.change_ci95.1 < 0.0);
        assert!(!comparison.go());
        let back = compare(&dir.path().join("worse"), &dir.path().join("base"), 0.0).unwrap();
        assert_eq!((back.objectives[0].verdict, back.verdict), ("better", "GO"));
        // The same KPI, but every drawdown now breaks the constraint: NO-GO.
        folder(&dir.path().join("risky"), |seed| 1.0 + noise(seed), 12.0, "a");
        let risky = compare(&dir.path().join("base"), &dir.path().join("risky"), 0.0).unwrap();
        assert_eq!(risky.identical_runs, 6, "same fingerprints");
        assert_eq!(risky.objectives[0].verdict, "same");
        assert_eq!(risky.feasibility, vec![FeasibilityChange { point: 0, baseline: true, candidate: false }]);
        assert_eq!(risky.verdict, "NO-GO");
        let csv = to_csv(&risky);
        assert!(
            csv.starts_with("point,metric,goal,pairs,") && csv.lines().nth(1).unwrap().starts_with("0,kpis.net_bps,maximize,6,"),
            "{csv}"
        );
    }

    #[test]
    fn one_seed_a_point_is_no_evidence_unless_the_runs_are_the_same_or_a_constraint_broke() {
        let dir = tempfile::tempdir().unwrap();
        let path = |name: &str| dir.path().join(name);
        folder_of(&path("base"), 1, |_| 1.0, 5.0, "a");
        folder_of(&path("changed"), 1, |_| 0.2, 5.0, "b");
        let error = compare(&path("base"), &path("changed"), 0.0).unwrap_err();
        assert!(matches!(error, CompareError::Untestable { pairs: 1, differing: 1 }), "{error}");
        assert!(error.to_string().contains("seeds_per_point of at least 2"), "{error}");
        folder_of(&path("same"), 1, |_| 1.0, 5.0, "a");
        assert_eq!(compare(&path("base"), &path("same"), 0.0).unwrap().verdict, "GO", "identical runs need no test");
        folder_of(&path("broken"), 1, |_| 1.0, 12.0, "c");
        assert_eq!(compare(&path("base"), &path("broken"), 0.0).unwrap().verdict, "NO-GO", "a lost constraint is evidence");
    }

    #[test]
    fn holm_correction_calls_only_what_survives_the_family() {
        // Four tests: 0.01 × 4 = 0.04 < 0.05 (called); 0.02 × 3 = 0.06 (not, nor any after).
        let mut changes = vec![
            change(0.02, -1.0, Goal::Maximize),
            change(0.01, -1.0, Goal::Minimize),
            change(0.5, 1.0, Goal::Maximize),
            change(0.03, 1.0, Goal::Maximize),
        ];
        apply_holm(&mut changes, 0.0);
        assert_eq!(changes[1].verdict, "better", "lower drawdown is better");
        assert_eq!(changes[1].p_adjusted, Some(0.04));
        assert_eq!(changes[0].verdict, "same");
        assert!((changes[0].p_adjusted.unwrap() - 0.06).abs() < 1e-12);
        assert!((changes[3].p_adjusted.unwrap() - 0.06).abs() < 1e-12, "monotone: never below an earlier step");
        assert_eq!(changes[2].p_adjusted, Some(0.5), "the last step: 1 × 0.5");
        let mut worse = vec![change(0.001, -0.2, Goal::Maximize)];
        apply_holm(&mut worse, 0.0);
        assert_eq!(worse[0].verdict, "worse");
        // Significant but small: not called under a 25 % minimum effect (baseline mean 1).
        let mut small = vec![ObjectiveChange { baseline_mean: 1.0, ..change(0.001, -0.2, Goal::Maximize) }];
        apply_holm(&mut small, 25.0);
        assert_eq!(small[0].verdict, "same");
        // Floating-point noise on every seed is never a change.
        let mut noise = vec![ObjectiveChange { baseline_mean: 60.0, ..change(0.0, -3e-14, Goal::Maximize) }];
        apply_holm(&mut noise, 0.0);
        assert_eq!(noise[0].verdict, "same");
    }
}
