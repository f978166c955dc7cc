//! `drydock gate`: the promotion gate. A gate file lists the checks an engine build
//! must pass before it trades real money — the catalogue against its goldens
//! (`golden`), scenarios' expectations over many seeds (`seeds`), a sweep comparison
//! with the baseline build (`compare`), recorded journals replayed identically
//! (`parity`) — each critical or advisory. The gate runs
//! them, keeps their evidence in one folder and gives one verdict:
//!
//! - GO when every critical check passes (provisional mode: advisory failures are
//!   warnings), or when every check passes (strict mode);
//! - NO-GO otherwise. It fails closed: a check that cannot be evaluated (missing
//!   evidence, a scenario that does not load) counts as failed, never as passed.
//!
//! A `compare` check also requires the candidate sweep to have been made by the
//! code the gate runs (its code version), so old evidence cannot pass a new build.
//! A `parity` check replays recorded journals into the build the gate runs (shadow
//! parity): every journal must be intact and get the recorded commands back.
//! `gate.json` holds the verdict and every check's outcome; it carries no wall time,
//! so the same inputs and build give the same bytes. Deliberately not here: building
//! or sweeping the baseline (the pipeline does that before the gate runs, see
//! `examples/ci/`), and the pages (see `crate::html::gate_page`).

pub mod spec;

use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;

pub use spec::{CheckKind, CheckSpec, Gate};

use crate::check::{CheckResult, CheckStatus as GoldenStatus, CheckTally};
use crate::expect::ExpectationResult;
use crate::journal::parity::Integrity;
use crate::report::{ArtifactError, write_atomic};
use crate::run::run_scenario;
use crate::scenario::{LoadOptions, Scenario};

/// How the gate treats advisory checks.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Advisory checks that fail are warnings; only critical ones block.
    Provisional,
    /// Every check must pass.
    Strict,
}

impl Mode {
    /// `provisional` or `strict`, as `gate.json` writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Provisional => "provisional",
            Mode::Strict => "strict",
        }
    }
}

/// How one check came out.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// It holds.
    Pass,
    /// It was evaluated and does not hold.
    Fail,
    /// It could not be evaluated (missing evidence, bad input): failed, closed.
    Error,
}

/// A line of a check's details, with the evidence it points at (a path relative to
/// the gate's output folder) when there is one.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Detail {
    /// What was found.
    pub text: String,
    /// Page or folder to look at.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

/// One check's outcome.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CheckOutcome {
    /// The check's name.
    pub name: String,
    /// What it looked at.
    pub kind: CheckKind,
    /// Whether it blocks in provisional mode.
    pub critical: bool,
    /// Why it matters.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub why: String,
    /// How it came out.
    pub status: Status,
    /// One line.
    pub summary: String,
    /// What did not hold (at most [`DETAILS_MAX`] lines, then a count).
    pub details: Vec<Detail>,
    /// The check's evidence page, relative to the gate's output folder.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
}

impl CheckOutcome {
    /// True when this outcome stops promotion in `mode`.
    pub fn blocks(&self, mode: Mode) -> bool {
        self.status != Status::Pass && (self.critical || mode == Mode::Strict)
    }

    /// `PASS`, `FAIL` or `ERROR` (blocking), or `WARN` (failed, advisory, not blocking).
    pub fn status_word(&self, mode: Mode) -> &'static str {
        match (self.status, self.blocks(mode)) {
            (Status::Pass, _) => "PASS",
            (Status::Fail, true) => "FAIL",
            (Status::Error, true) => "ERROR",
            (_, false) => "WARN",
        }
    }
}

/// Details listed per check before the rest are counted.
pub const DETAILS_MAX: usize = 50;

/// The gate's verdict and every check's outcome (`gate.json`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GateOutcome {
    /// The gate's name.
    pub gate: String,
    /// What it decides.
    pub description: String,
    /// Provisional or strict.
    pub mode: Mode,
    /// The build that was judged.
    pub drydock_version: String,
    /// Version of the engine's port (events and commands).
    pub engine_port_version: u32,
    /// The judged build's code version ([`crate::CODE_VERSION`]).
    pub code_version: String,
    /// `GO` or `NO-GO`.
    pub verdict: &'static str,
    /// Checks that stop promotion.
    pub blocking: Vec<String>,
    /// Advisory checks that failed without blocking (provisional mode).
    pub warnings: Vec<String>,
    /// Every check, in the gate file's order.
    pub checks: Vec<CheckOutcome>,
}

impl GateOutcome {
    /// True for GO.
    pub fn go(&self) -> bool {
        self.verdict == "GO"
    }

    /// True when a blocking check could not be evaluated (bad input or missing
    /// evidence, rather than a measured failure).
    pub fn blocked_by_error(&self) -> bool {
        self.checks.iter().any(|check| check.blocks(self.mode) && check.status == Status::Error)
    }

    /// `gate.json`'s text.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("a gate outcome serializes");
        text.push('\n');
        text
    }
}

/// How to evaluate a gate.
#[derive(Clone, Debug)]
pub struct GateOptions {
    /// Provisional or strict.
    pub mode: Mode,
    /// Parallel runs.
    pub jobs: usize,
    /// Where each check keeps its evidence (`<out_dir>/<check>/`).
    pub out_dir: PathBuf,
}

/// Evaluates every check of `gate` in order, keeping evidence under `options.out_dir`.
pub fn evaluate(gate: &Gate, options: &GateOptions) -> GateOutcome {
    // One set of load options for the whole gate: a recording is read once.
    let load_options = LoadOptions::default();
    let checks: Vec<CheckOutcome> = gate
        .file
        .checks
        .iter()
        .zip(&gate.scenario_paths)
        .map(|(spec, scenarios)| {
            let evidence_dir = options.out_dir.join(&spec.name);
            let (status, summary, details, evidence) = match spec.kind {
                CheckKind::Golden => golden_check(gate, scenarios, &evidence_dir, options.jobs, &load_options),
                CheckKind::Seeds => seeds_check(scenarios, spec.seeds.unwrap_or(1), &evidence_dir, options.jobs, &load_options),
                CheckKind::Compare => compare_check(gate, spec, &evidence_dir),
                CheckKind::Parity => parity_check(gate, spec, &evidence_dir, options.jobs),
            };
            let evidence = evidence.map(|page| format!("{}/{page}", spec.name));
            let details = details
                .into_iter()
                .map(|detail| Detail { link: detail.link.map(|link| format!("{}/{link}", spec.name)), ..detail })
                .collect();
            CheckOutcome {
                name: spec.name.clone(),
                kind: spec.kind,
                critical: spec.critical,
                why: spec.why.clone(),
                status,
                summary,
                details,
                evidence,
            }
        })
        .collect();
    let blocking: Vec<String> = checks.iter().filter(|check| check.blocks(options.mode)).map(|check| check.name.clone()).collect();
    let warnings =
        checks.iter().filter(|check| check.status != Status::Pass && !check.blocks(options.mode)).map(|check| check.name.clone()).collect();
    GateOutcome {
        gate: gate.file.gate.name.clone(),
        description: gate.file.gate.description.clone(),
        mode: options.mode,
        drydock_version: env!("CARGO_PKG_VERSION").to_string(),
        engine_port_version: drydock_engine::PORT_VERSION,
        code_version: crate::CODE_VERSION.to_string(),
        verdict: if blocking.is_empty() { "GO" } else { "NO-GO" },
        blocking,
        warnings,
        checks,
    }
}

/// Writes `gate.json` and `gate.html` into `dir`.
pub fn write_outputs(dir: &Path, outcome: &GateOutcome) -> Result<(), ArtifactError> {
    crate::report::create_output_folder(dir)?;
    write_atomic(&dir.join("gate.json"), outcome.to_json().as_bytes())?;
    write_atomic(&dir.join("gate.html"), crate::html::gate_page::render(outcome).as_bytes())
}

/// A check's status, summary, details (links relative to its evidence folder) and
/// evidence page (relative to it too).
type Evaluated = (Status, String, Vec<Detail>, Option<String>);

fn detail(text: String, link: Option<String>) -> Detail {
    Detail { text, link }
}

/// At most [`DETAILS_MAX`] details, the rest counted in a last line.
fn capped(mut details: Vec<Detail>) -> Vec<Detail> {
    if details.len() > DETAILS_MAX {
        let more = details.len() - DETAILS_MAX;
        details.truncate(DETAILS_MAX);
        details.push(detail(format!("… and {more} more"), None));
    }
    details
}

fn golden_check(gate: &Gate, scenarios: &[PathBuf], evidence_dir: &Path, jobs: usize, load_options: &LoadOptions) -> Evaluated {
    let golden_dir = crate::check::nearest_golden_dir(scenarios).unwrap_or_else(|| gate.resolve(Path::new("golden")));
    let results = crate::check::check(scenarios, &golden_dir, load_options, jobs, Some(evidence_dir));
    if let Err(error) = crate::check::write_index(evidence_dir, &results, &golden_dir) {
        return (Status::Error, format!("cannot keep the evidence: {error}"), Vec::new(), None);
    }
    let tally = CheckTally::of(&results);
    let details = capped(results.iter().filter_map(|result| golden_detail(result, &golden_dir)).collect());
    let status = if tally.errors > 0 {
        Status::Error
    } else if tally.matching == tally.total() {
        Status::Pass
    } else {
        Status::Fail
    };
    (status, tally.summary(), details, Some("index.html".to_string()))
}

/// The line of a scenario that did not match and pass, linked to its report.
fn golden_detail(result: &CheckResult, golden_dir: &Path) -> Option<Detail> {
    let name = result.name.clone().unwrap_or_else(|| result.path.display().to_string());
    let report = result.name.as_ref().map(|name| format!("{name}/report.html"));
    let text = match &result.status {
        GoldenStatus::Match if result.failed_expectations.is_empty() => return None,
        GoldenStatus::Match => format!("FAILING {name}: {}", result.failed_expectations.join("; ")),
        GoldenStatus::Missing => {
            format!(
                "MISSING {name}: no golden in {} (run `{}`)",
                golden_dir.display(),
                crate::check::bless_command(&result.path, golden_dir)
            )
        }
        GoldenStatus::Regression(comparison) => {
            format!("CHANGED {name}: {}", crate::golden::describe(comparison, 3).into_iter().take(2).collect::<Vec<_>>().join("; "))
        }
        GoldenStatus::Error(message) => return Some(detail(format!("ERROR {name}: {message}"), None)),
    };
    Some(detail(text, report))
}

/// One seeded run of a `seeds` check.
struct SeedRun {
    label: String,
    folder: Option<String>,
    outcome: Result<SeedVerdict, String>,
}

/// What a seeded run's report said.
struct SeedVerdict {
    /// Expectations evaluated.
    expectations: usize,
    /// What failed: expectations, and a soak's stop criterion (empty: the run passed).
    failures: Vec<String>,
}

impl SeedVerdict {
    fn of(report: &crate::report::Report) -> Self {
        let mut failures: Vec<String> = report.expectations.iter().filter(|result| !result.pass).map(ExpectationResult::describe).collect();
        if let Some(hit) = report.soak.as_ref().and_then(|soak| soak.stopped_by.as_ref()) {
            failures.push(format!("the soak was stopped by {} at {:.0} s", hit.criterion, hit.at_s));
        }
        SeedVerdict { expectations: report.expectations.len(), failures }
    }
}

fn seeds_check(scenarios: &[PathBuf], seeds: u32, evidence_dir: &Path, jobs: usize, load_options: &LoadOptions) -> Evaluated {
    // Each file once (a folder and a file in it name it twice), and no two scenarios
    // of one name: a run's evidence folder is `<scenario>-<seed>`.
    let scenarios = crate::check::planned(scenarios);
    let plan: Vec<(&crate::check::Planned, u32)> =
        scenarios.iter().flat_map(|entry| (0..if entry.is_ok() { seeds } else { 1 }).map(move |offset| (entry, offset))).collect();
    let runs: Vec<SeedRun> = crate::check::in_pool(jobs, || {
        plan.par_iter()
            .map(|(entry, offset)| match entry {
                Ok(path) => seed_run(path, *offset, evidence_dir, load_options),
                Err((path, message)) => SeedRun { label: path.display().to_string(), folder: None, outcome: Err(message.clone()) },
            })
            .collect()
    });
    let rows: Vec<(Status, Detail)> = runs.iter().map(seed_row).collect();
    let count = |wanted: Status| rows.iter().filter(|(status, _)| *status == wanted).count();
    let (passed, failed, errors) = (count(Status::Pass), count(Status::Fail), count(Status::Error));
    let runnable = scenarios.iter().filter(|entry| entry.is_ok()).count();
    let refused = match scenarios.len() - runnable {
        0 => String::new(),
        1 => ", 1 scenario refused".to_string(),
        count => format!(", {count} scenarios refused"),
    };
    let summary = format!(
        "{} runs ({} × {seeds} seeds){refused}: {passed} meet every expectation, {failed} fail, {errors} could not run",
        runnable * seeds as usize,
        if runnable == 1 { "1 scenario".to_string() } else { format!("{runnable} scenarios") },
    );
    let page = crate::html::gate_page::render_runs(&summary, &rows);
    let written =
        crate::report::create_output_folder(evidence_dir).and_then(|()| write_atomic(&evidence_dir.join("index.html"), page.as_bytes()));
    if let Err(error) = written {
        return (Status::Error, format!("cannot keep the evidence: {error}"), Vec::new(), None);
    }
    let details = capped(rows.into_iter().filter(|(status, _)| *status != Status::Pass).map(|(_, detail)| detail).collect());
    let status = if errors > 0 {
        Status::Error
    } else if failed == 0 {
        Status::Pass
    } else {
        Status::Fail
    };
    (status, summary, details, Some("index.html".to_string()))
}

/// A seeded run's status and line (linked to its report when it ran).
fn seed_row(run: &SeedRun) -> (Status, Detail) {
    let link = run.folder.as_ref().map(|folder| format!("{folder}/report.html"));
    match &run.outcome {
        Ok(verdict) if verdict.failures.is_empty() => (
            Status::Pass,
            detail(
                format!("PASS {}: {} expectations met (its seed reproduces it; no artifacts kept)", run.label, verdict.expectations),
                link,
            ),
        ),
        Ok(verdict) => (Status::Fail, detail(format!("FAIL {}: {}", run.label, verdict.failures.join("; ")), link)),
        Err(message) => (Status::Error, detail(format!("ERROR {}: {message}", run.label), None)),
    }
}

/// Runs `path` with its seed + `offset` into `evidence_dir/<scenario>-<seed>/`, which
/// is kept only when the run fails (an expectation, or a soak's stop criterion).
fn seed_run(path: &Path, offset: u32, evidence_dir: &Path, load_options: &LoadOptions) -> SeedRun {
    let base = match Scenario::load(path, load_options) {
        Ok(scenario) => scenario,
        Err(error) => return SeedRun { label: path.display().to_string(), folder: None, outcome: Err(error.to_string()) },
    };
    let seed = base.header.seed.wrapping_add(offset as u64);
    let label = format!("{} seed {seed}", base.header.name);
    let options = LoadOptions { seed: Some(seed), ..load_options.clone() };
    let scenario = match Scenario::load(path, &options) {
        Ok(scenario) => scenario,
        Err(error) => return SeedRun { label, folder: None, outcome: Err(error.to_string()) },
    };
    let folder = format!("{}-{seed}", scenario.header.name);
    let run_dir = evidence_dir.join(&folder);
    match run_scenario(&scenario, &run_dir, false) {
        // A passing run leaves no artifacts (thousands of seeds would fill a disk):
        // its seed reproduces it exactly.
        Ok(result) => {
            let verdict = SeedVerdict::of(&result.report);
            let kept = !verdict.failures.is_empty() || std::fs::remove_dir_all(&run_dir).is_err();
            SeedRun { label, folder: kept.then_some(folder), outcome: Ok(verdict) }
        }
        Err(error) => SeedRun { label, folder: None, outcome: Err(error.to_string()) },
    }
}

fn compare_check(gate: &Gate, spec: &CheckSpec, evidence_dir: &Path) -> Evaluated {
    let (Some(baseline), Some(candidate)) = (&spec.baseline, &spec.candidate) else {
        return (Status::Error, "the check names no baseline or no candidate folder".to_string(), Vec::new(), None);
    };
    let (baseline, candidate) = (gate.resolve(baseline), gate.resolve(candidate));
    let comparison = match crate::sweep::compare::compare(&baseline, &candidate, spec.min_effect_pct.unwrap_or(0.0)) {
        Ok(comparison) => comparison,
        Err(error) => return (Status::Error, format!("no usable evidence: {error}"), Vec::new(), None),
    };
    if comparison.candidate_code_version != crate::CODE_VERSION {
        let message = format!(
            "the candidate sweep {} was made by code version {}, not by this build's {}; run the candidate sweep with the build the gate judges",
            candidate.display(),
            comparison.candidate_code_version,
            crate::CODE_VERSION
        );
        return (Status::Error, message, Vec::new(), None);
    }
    let written = crate::report::create_output_folder(evidence_dir)
        .and_then(|()| write_atomic(&evidence_dir.join("compare.csv"), crate::sweep::compare::to_csv(&comparison).as_bytes()))
        .and_then(|()| {
            let page = crate::html::compare_page::render(&comparison, &baseline.display().to_string(), &candidate.display().to_string());
            write_atomic(&evidence_dir.join("compare.html"), page.as_bytes())
        });
    if let Err(error) = written {
        return (Status::Error, format!("cannot keep the evidence: {error}"), Vec::new(), None);
    }
    let worse: Vec<Detail> = comparison
        .objectives
        .iter()
        .filter(|change| change.verdict == "worse")
        .map(|change| {
            detail(
                format!(
                    "WORSE point {} {}: {:.4} -> {:.4} (p after Holm {:.4})",
                    change.point,
                    change.metric,
                    change.baseline_mean,
                    change.candidate_mean,
                    change.p_adjusted.unwrap_or(1.0)
                ),
                Some("compare.html".to_string()),
            )
        })
        .collect();
    let lost = comparison.feasibility.iter().filter(|change| change.baseline && !change.candidate).map(|change| {
        detail(
            format!("INFEASIBLE point {}: met every constraint in the baseline, no longer does", change.point),
            Some("compare.html".to_string()),
        )
    });
    let power = comparison.power_warning().map(|warning| detail(format!("NOTE {warning}"), Some("compare.html".to_string())));
    let details = capped(worse.into_iter().chain(lost).chain(power).collect());
    let summary = format!(
        "{}: {} runs paired; {} objectives significantly worse, {} points lost feasibility; a change is called when {}",
        comparison.verdict,
        comparison.pairs,
        comparison.objectives.iter().filter(|change| change.verdict == "worse").count(),
        comparison.feasibility.iter().filter(|change| change.baseline && !change.candidate).count(),
        comparison.rule()
    );
    (if comparison.go() { Status::Pass } else { Status::Fail }, summary, details, Some("compare.html".to_string()))
}

/// One journal's replay, as a `parity` check keeps it (`parity.json`).
#[derive(Clone, Debug, PartialEq, Serialize)]
struct JournalParity {
    journal: String,
    outcome: ParityOutcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    scenario: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    recorded_by: Option<String>,
    events: u64,
    commands: u64,
    /// What happened, in words.
    finding: String,
}

/// How one journal came out of its replay.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum ParityOutcome {
    /// Intact, and this build emitted the recorded commands throughout.
    Identical,
    /// Intact, and this build's commands differ at an event.
    Diverged,
    /// No end record.
    CutShort,
    /// The records do not hash to the end record's fingerprint.
    Damaged,
    /// Unreadable, malformed, or a setup the engine refuses.
    Error,
}

impl ParityOutcome {
    /// The word a detail line starts with.
    fn word(self) -> &'static str {
        match self {
            ParityOutcome::Identical => "IDENTICAL",
            ParityOutcome::Diverged => "DIVERGED",
            ParityOutcome::CutShort => "CUT_SHORT",
            ParityOutcome::Damaged => "DAMAGED",
            ParityOutcome::Error => "ERROR",
        }
    }
}

fn parity_check(gate: &Gate, spec: &CheckSpec, evidence_dir: &Path, jobs: usize) -> Evaluated {
    let journals = match resolve_journals(gate, &spec.journals) {
        Ok(journals) => journals,
        Err(message) => return (Status::Error, format!("no usable evidence: {message}"), Vec::new(), None),
    };
    let results: Vec<JournalParity> = crate::check::in_pool(jobs, || journals.par_iter().map(|path| journal_parity(path)).collect());
    let mut text = serde_json::to_string_pretty(&results).expect("parity results serialize");
    text.push('\n');
    let written =
        crate::report::create_output_folder(evidence_dir).and_then(|()| write_atomic(&evidence_dir.join("parity.json"), text.as_bytes()));
    if let Err(error) = written {
        return (Status::Error, format!("cannot keep the evidence: {error}"), Vec::new(), None);
    }
    let count = |outcome: ParityOutcome| results.iter().filter(|result| result.outcome == outcome).count();
    let (identical, diverged) = (count(ParityOutcome::Identical), count(ParityOutcome::Diverged));
    let unusable = results.len() - identical - diverged;
    let details = capped(
        results
            .iter()
            .filter(|result| result.outcome != ParityOutcome::Identical)
            .map(|result| detail(format!("{} {}: {}", result.outcome.word(), result.journal, result.finding), Some("parity.json".into())))
            .collect(),
    );
    let status = if unusable > 0 {
        Status::Error
    } else if diverged > 0 {
        Status::Fail
    } else {
        Status::Pass
    };
    let summary = format!(
        "{} journal{} replayed into this build's engine: {identical} identical, {diverged} diverged, {unusable} not usable (cut short, damaged or unreadable)",
        results.len(),
        if results.len() == 1 { "" } else { "s" }
    );
    (status, summary, details, Some("parity.json".to_string()))
}

/// Journal files named directly, and the sorted `*.jsonl.gz` / `*.jsonl` of folders
/// named (one level down too, where `drydock run --journal` puts them).
fn resolve_journals(gate: &Gate, named: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let is_journal = |path: &Path| {
        let name = path.file_name().map(|name| name.to_string_lossy().to_string()).unwrap_or_default();
        path.is_file() && (name.ends_with(".jsonl.gz") || name.ends_with(".jsonl"))
    };
    let mut journals: Vec<PathBuf> = Vec::new();
    for entry in named {
        let path = gate.resolve(entry);
        if path.is_file() {
            journals.push(path);
            continue;
        }
        if !path.is_dir() {
            return Err(format!(
                "{} does not exist; record journals with `drydock run <scenario> --journal` before the gate runs",
                path.display()
            ));
        }
        let mut found = Vec::new();
        for child in list_sorted(&path)? {
            if is_journal(&child) {
                found.push(child);
            } else if child.is_dir() {
                found.extend(list_sorted(&child)?.into_iter().filter(|grandchild| is_journal(grandchild)));
            }
        }
        if found.is_empty() {
            return Err(format!("{} holds no journal (*.jsonl.gz or *.jsonl, or a run folder with one)", path.display()));
        }
        journals.extend(found);
    }
    // Each journal once (a folder and a journal in it name it twice).
    let mut seen = std::collections::BTreeSet::new();
    journals.retain(|journal| seen.insert(crate::check::file_identity(journal)));
    Ok(journals)
}

fn list_sorted(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let entries = std::fs::read_dir(dir).map_err(|error| format!("cannot list {}: {error}", dir.display()))?;
    let mut paths: Vec<PathBuf> = entries.filter_map(|entry| entry.ok().map(|entry| entry.path())).collect();
    paths.sort();
    Ok(paths)
}

fn journal_parity(path: &Path) -> JournalParity {
    let journal = path.display().to_string();
    let report = match crate::journal::parity::replay(path, &[]) {
        Ok(report) => report,
        Err(error) => {
            return JournalParity {
                journal,
                outcome: ParityOutcome::Error,
                scenario: None,
                recorded_by: None,
                events: 0,
                commands: 0,
                finding: error.to_string(),
            };
        }
    };
    let (outcome, finding) = match (report.integrity(), &report.divergence) {
        (Integrity::CutShort, _) => {
            (ParityOutcome::CutShort, "no end record: the run that wrote it did not finish; record it again".to_string())
        }
        (Integrity::Damaged, _) => {
            (ParityOutcome::Damaged, "its records do not hash to the fingerprint its end record names; record it again".to_string())
        }
        (Integrity::Intact, None) => {
            (ParityOutcome::Identical, format!("the recorded {} commands for the {} events", report.recorded_commands, report.events))
        }
        (Integrity::Intact, Some(divergence)) => (
            ParityOutcome::Diverged,
            format!(
                "event {} of {} (t = {:.9} s, line {}) got {} instead of the recorded {}",
                divergence.event_number,
                report.events,
                divergence.t_ns as f64 / 1e9,
                divergence.line,
                serde_json::to_string(&divergence.replayed).expect("commands serialize"),
                serde_json::to_string(&divergence.recorded).expect("commands serialize"),
            ),
        ),
    };
    JournalParity {
        journal,
        outcome,
        scenario: Some(report.header.scenario.clone()),
        recorded_by: Some(report.header.code_version.clone()),
        events: report.events,
        commands: report.recorded_commands,
        finding,
    }
}
