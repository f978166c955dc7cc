//! Golden snapshots: one file per scenario in `golden/`, in insta's `.snap` format
//! so that `cargo insta test` / `cargo insta review` and `drydock check` / `drydock
//! bless` read and write the same files.
//!
//! A snapshot is made for review, not an event dump: a header (scenario, seed,
//! engine and drydock versions, hashes of the scenario file and of the effective
//! configuration, fingerprint), the KPIs, run metrics, measured event effects,
//! expectations and, for soaks, per-iteration summaries and tuning decisions.
//! Values are exact unless the scenario declares a tolerance for a metric
//! (`[golden] tolerances`): those are rounded to that grid in the snapshot and
//! compared within it. Comparison is semantic: per metric, golden and new value,
//! delta and delta %, whether the fingerprint changed, which expectations flipped,
//! and whether the golden is stale (its scenario file changed since it was blessed).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use thiserror::Error;

use crate::report::{Report, write_atomic};
use crate::scenario::Scenario;
use crate::soak::IterationSummary;

/// The `source:` line insta writes for snapshots asserted in `tests/golden.rs`.
pub const INSTA_SOURCE: &str = "tests/golden.rs";

/// Problems with the golden store.
#[derive(Debug, Error)]
pub enum GoldenError {
    /// A golden file could not be read.
    #[error("cannot read golden {path}: {source}; run `drydock bless` to create it")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A golden file is not a snapshot of a report.
    #[error("{path}: not a drydock golden snapshot ({reason}); re-bless it with `drydock bless`")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// Writing failed.
    #[error(transparent)]
    Write(#[from] crate::report::ArtifactError),
}

/// The snapshot of a finished run, as JSON text ending in a newline.
pub fn snapshot_text(scenario: &Scenario, report: &Report, iterations: &[IterationSummary]) -> String {
    let mut value = snapshot_value(scenario, report, iterations);
    for (path, tolerance) in &scenario.tolerances {
        quantize(&mut value, path, *tolerance);
    }
    let mut text = serde_json::to_string_pretty(&value).expect("snapshots serialize");
    text.push('\n');
    text
}

fn snapshot_value(scenario: &Scenario, report: &Report, iterations: &[IterationSummary]) -> Value {
    let soak = report.soak.as_ref().map(|soak| {
        let iterations: Vec<Value> = iterations
            .iter()
            .map(|summary| {
                let decision = summary.decision.as_ref();
                json!({
                    "iteration": summary.iteration,
                    "verdict": summary.verdict,
                    "net_bps": summary.kpis.net_bps,
                    "risk_ratio": summary.kpis.risk_ratio,
                    "adverse_p95_bps": summary.kpis.adverse_p95_bps,
                    "fills": summary.kpis.fills,
                    "frozen": summary.frozen,
                    "zone": decision.map(|decision| decision.zone),
                    "applied": decision.map(|decision| &decision.applied),
                    "guards": decision.map(|decision| decision.guards.iter().map(|guard| guard.guard.clone()).collect::<Vec<_>>()),
                })
            })
            .collect();
        json!({ "summary": soak, "iterations": iterations })
    });
    json!({
        "header": {
            "scenario": report.scenario,
            "seed": report.seed,
            "engine_version": drydock_engine::ENGINE_VERSION,
            "drydock_version": report.drydock_version,
            "engine_port_version": report.engine_port_version,
            "profile": report.profile,
            "scenario_file": scenario.path.file_name().map(|name| name.to_string_lossy().to_string()),
            "scenario_hash": report.scenario_hash,
            "config_hash": report.config_hash,
            "fingerprint": report.fingerprint,
        },
        "verdict": report.verdict,
        "kpis": report.kpis,
        "run": report.run,
        "events": report.events,
        "expectations": report.expectations,
        "soak": soak,
    })
}

/// Brings a `report.json` and a golden snapshot to one shape so `drydock diff` can
/// compare them: the report's fields move under the snapshot's sections (its header
/// fields under `header`, its soak summary under `soak.summary`), and what only a
/// snapshot holds (the engine version, the scenario file's name, per-iteration soak
/// rows) is left out of the snapshot's side. Returns the report's side, the
/// snapshot's side, and whether they were two kinds (both unchanged otherwise).
pub fn align_for_diff(left: Value, right: Value) -> (Value, Value, bool) {
    match (is_snapshot(&left), is_snapshot(&right)) {
        (false, true) => (report_as_snapshot(&left), comparable_snapshot(right), true),
        (true, false) => (comparable_snapshot(left), report_as_snapshot(&right), true),
        _ => (left, right, false),
    }
}

fn is_snapshot(value: &Value) -> bool {
    value.get("header").is_some_and(Value::is_object)
}

fn report_as_snapshot(report: &Value) -> Value {
    let field = |key: &str| report.get(key).cloned().unwrap_or(Value::Null);
    let header: serde_json::Map<String, Value> = SHARED_HEADER_FIELDS.iter().map(|key| (key.to_string(), field(key))).collect();
    let soak = match field("soak") {
        Value::Null => Value::Null,
        summary => json!({ "summary": summary }),
    };
    json!({
        "header": header,
        "verdict": field("verdict"),
        "kpis": field("kpis"),
        "run": field("run"),
        "events": field("events"),
        "expectations": field("expectations"),
        "soak": soak,
    })
}

fn comparable_snapshot(mut snapshot: Value) -> Value {
    if let Some(header) = snapshot.get_mut("header").and_then(Value::as_object_mut) {
        header.retain(|key, _| SHARED_HEADER_FIELDS.contains(&key.as_str()));
    }
    if let Some(soak) = snapshot.get_mut("soak").and_then(Value::as_object_mut) {
        soak.remove("iterations");
    }
    snapshot
}

/// Header fields a snapshot shares with a report (which holds them at its top level).
const SHARED_HEADER_FIELDS: [&str; 8] =
    ["scenario", "seed", "drydock_version", "engine_port_version", "profile", "scenario_hash", "config_hash", "fingerprint"];

/// Rounds the number at dotted `path` (if present) to a multiple of `tolerance`.
fn quantize(value: &mut Value, path: &str, tolerance: f64) {
    let mut cursor = value;
    for part in path.split('.') {
        match cursor.get_mut(part) {
            Some(next) => cursor = next,
            None => return,
        }
    }
    if let Some(number) = cursor.as_f64()
        && tolerance > 0.0
    {
        let rounded = (number / tolerance).round() * tolerance;
        *cursor = json!(rounded);
    }
}

/// Path of the golden file of scenario `name` in `golden_dir`.
pub fn golden_path(golden_dir: &Path, name: &str) -> PathBuf {
    golden_dir.join(format!("{name}.snap"))
}

/// Writes a golden file exactly as insta would.
pub fn write_golden(path: &Path, snapshot: &str) -> Result<(), GoldenError> {
    let content = format!("---\nsource: {INSTA_SOURCE}\n---\n{}\n", snapshot.trim_end_matches('\n'));
    write_atomic(path, content.as_bytes())?;
    Ok(())
}

/// Reads a golden file's snapshot (the JSON after insta's header).
pub fn read_golden(path: &Path) -> Result<Value, GoldenError> {
    let text = std::fs::read_to_string(path).map_err(|source| GoldenError::Read { path: path.to_path_buf(), source })?;
    let malformed = |reason: &str| GoldenError::Malformed { path: path.to_path_buf(), reason: reason.to_string() };
    let body = text
        .strip_prefix("---\n")
        .and_then(|rest| rest.split_once("\n---\n"))
        .map(|(_, body)| body)
        .ok_or_else(|| malformed("no insta header"))?;
    serde_json::from_str(body).map_err(|error| malformed(&format!("invalid JSON: {error}")))
}

/// One metric that differs.
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    /// Dotted path of the value.
    pub path: String,
    /// Golden value (absent when new).
    pub golden: Option<String>,
    /// New value (absent when removed).
    pub new: Option<String>,
    /// new − golden, for numbers.
    pub delta: Option<f64>,
    /// Delta in percent of golden, for numbers with a non-zero golden.
    pub delta_pct: Option<f64>,
}

/// An expectation whose verdict changed.
#[derive(Clone, Debug, PartialEq)]
pub struct Flip {
    /// The expectation, as `metric op value`.
    pub expectation: String,
    /// Verdict in the golden.
    pub golden_pass: bool,
    /// Verdict now.
    pub new_pass: bool,
}

/// How a run compares with its golden.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Comparison {
    /// The scenario file changed since the golden was blessed.
    pub stale: bool,
    /// The fingerprint differs.
    pub fingerprint_changed: bool,
    /// Values that differ beyond their tolerance (header fields included).
    pub changes: Vec<Change>,
    /// Expectations whose verdict changed.
    pub flips: Vec<Flip>,
}

impl Comparison {
    /// True when nothing differs and the golden is current.
    pub fn matches(&self) -> bool {
        !self.stale && !self.fingerprint_changed && self.changes.is_empty() && self.flips.is_empty()
    }
}

/// Compares a new snapshot (or report) with a golden one, metric by metric.
pub fn compare(golden: &Value, new: &Value, tolerances: &BTreeMap<String, f64>) -> Comparison {
    let header = |value: &Value, key: &str| value.get("header").and_then(|header| header.get(key)).cloned();
    let stale = header(golden, "scenario_hash").is_some() && header(golden, "scenario_hash") != header(new, "scenario_hash");
    let fingerprint_changed = fingerprint_of(golden) != fingerprint_of(new);
    let (mut left, mut right) = (BTreeMap::new(), BTreeMap::new());
    flatten(golden, String::new(), &mut left);
    flatten(new, String::new(), &mut right);
    let mut changes = Vec::new();
    let paths: std::collections::BTreeSet<&String> = left.keys().chain(right.keys()).collect();
    for path in paths {
        let (before, after) = (left.get(path), right.get(path));
        if before == after {
            continue;
        }
        let tolerance = tolerances.get(path).copied().unwrap_or(0.0);
        let numbers = before.and_then(Value::as_f64).zip(after.and_then(Value::as_f64));
        if let Some((old, new)) = numbers
            && (new - old).abs() <= tolerance
        {
            continue;
        }
        changes.push(Change {
            path: path.clone(),
            golden: before.map(render),
            new: after.map(render),
            delta: numbers.map(|(old, new)| new - old),
            delta_pct: numbers.filter(|(old, _)| *old != 0.0).map(|(old, new)| (new - old) / old.abs() * 100.0),
        });
    }
    Comparison { stale, fingerprint_changed, changes, flips: flips(golden, new) }
}

fn fingerprint_of(value: &Value) -> Option<&Value> {
    value.get("header").and_then(|header| header.get("fingerprint")).or_else(|| value.get("fingerprint"))
}

fn flips(golden: &Value, new: &Value) -> Vec<Flip> {
    let verdicts = |value: &Value| -> BTreeMap<String, bool> {
        value
            .get("expectations")
            .and_then(Value::as_array)
            .map(|list| {
                list.iter()
                    .map(|item| {
                        let name =
                            format!("{} {} {}", item["metric"].as_str().unwrap_or("?"), item["op"].as_str().unwrap_or("?"), item["value"]);
                        (name, item["pass"].as_bool().unwrap_or(false))
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let (before, after) = (verdicts(golden), verdicts(new));
    before
        .iter()
        .filter_map(|(name, golden_pass)| {
            let new_pass = *after.get(name)?;
            (new_pass != *golden_pass).then(|| Flip { expectation: name.clone(), golden_pass: *golden_pass, new_pass })
        })
        .collect()
}

fn flatten(value: &Value, prefix: String, into: &mut BTreeMap<String, Value>) {
    let join = |key: &str| if prefix.is_empty() { key.to_string() } else { format!("{prefix}.{key}") };
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                flatten(child, join(key), into);
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                flatten(child, format!("{prefix}[{index}]"), into);
            }
        }
        leaf => {
            into.insert(prefix, leaf.clone());
        }
    }
}

/// A value for the diff table: hashes shortened, floats to 6 decimals (trimmed).
fn render(value: &Value) -> String {
    match value {
        Value::String(text) if text.len() > 16 => format!("{}…", &text[..12]),
        Value::String(text) => text.clone(),
        Value::Number(number) if number.is_f64() => {
            let text = format!("{:.6}", number.as_f64().unwrap_or(0.0));
            text.trim_end_matches('0').trim_end_matches('.').to_string()
        }
        other => other.to_string(),
    }
}

/// A comparison with a golden as readable lines (at most `limit` changed values listed).
pub fn describe(comparison: &Comparison, limit: usize) -> Vec<String> {
    let stale = "STALE: the scenario file changed since this golden was blessed; review and run `drydock bless`";
    describe_with(comparison, limit, stale, ("golden", "new"))
}

/// A comparison of two reports or snapshots, `a` and `b`, as readable lines: a
/// different scenario hash means different scenario files, not a stale golden.
pub fn describe_pair(comparison: &Comparison, limit: usize) -> Vec<String> {
    let different = "different scenario files: the two were made from scenarios whose text differs (header.scenario_hash)";
    describe_with(comparison, limit, different, ("a", "b"))
}

fn describe_with(comparison: &Comparison, limit: usize, stale_line: &str, (left, right): (&str, &str)) -> Vec<String> {
    let mut lines = Vec::new();
    if comparison.stale {
        lines.push(stale_line.to_string());
    }
    if comparison.fingerprint_changed {
        lines.push("fingerprint changed: the engine saw or did something different".to_string());
    }
    for flip in &comparison.flips {
        let verdict = |pass: bool| if pass { "PASS" } else { "FAIL" };
        lines.push(format!("expectation {}: {} -> {}", flip.expectation, verdict(flip.golden_pass), verdict(flip.new_pass)));
    }
    if !comparison.changes.is_empty() {
        lines.push(format!("{:<48} {:>16} {:>16} {:>14} {:>9}", "metric", left, right, "delta", "delta %"));
    }
    for change in comparison.changes.iter().take(limit) {
        let delta = change.delta.map_or(String::new(), |delta| format!("{delta:+.6}"));
        let pct = change.delta_pct.map_or(String::new(), |pct| format!("{pct:+.2}%"));
        lines.push(format!(
            "{:<48} {:>16} {:>16} {:>14} {:>9}",
            change.path,
            change.golden.as_deref().unwrap_or("(absent)"),
            change.new.as_deref().unwrap_or("(absent)"),
            delta,
            pct
        ));
    }
    if comparison.changes.len() > limit {
        lines.push(format!("... and {} more changed values", comparison.changes.len() - limit));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn golden_files_round_trip_in_insta_format() {
        let dir = tempfile::tempdir().unwrap();
        let path = golden_path(dir.path(), "calm");
        write_golden(&path, "{\n  \"a\": 1\n}\n").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "---\nsource: tests/golden.rs\n---\n{\n  \"a\": 1\n}\n");
        assert_eq!(read_golden(&path).unwrap(), json!({"a": 1}));
    }

    #[test]
    fn comparison_reports_metric_deltas_flips_fingerprint_and_staleness() {
        let golden = json!({"header": {"fingerprint": "aa", "scenario_hash": "h1"}, "kpis": {"net_bps": 2.0, "fills": 10},
            "expectations": [{"metric": "kpis.fills", "op": ">=", "value": 5.0, "pass": true}]});
        let new = json!({"header": {"fingerprint": "bb", "scenario_hash": "h2"}, "kpis": {"net_bps": 2.5, "fills": 4},
            "expectations": [{"metric": "kpis.fills", "op": ">=", "value": 5.0, "pass": false}]});
        let comparison = compare(&golden, &new, &BTreeMap::new());
        assert!(comparison.stale && comparison.fingerprint_changed && !comparison.matches());
        let net = comparison.changes.iter().find(|change| change.path == "kpis.net_bps").unwrap();
        assert_eq!((net.delta, net.delta_pct), (Some(0.5), Some(25.0)));
        assert_eq!(comparison.flips.len(), 1);
        let text = describe(&comparison, 10).join("\n");
        assert!(text.contains("STALE") && text.contains("PASS -> FAIL") && text.contains("+25.00%"), "{text}");
        // Two reports side by side (`drydock diff`): no golden, so nothing is stale.
        let pair = describe_pair(&comparison, 10).join("\n");
        assert!(!pair.contains("STALE") && pair.contains("different scenario files") && pair.contains("PASS -> FAIL"), "{pair}");
        assert!(pair.lines().any(|line| line.starts_with("metric") && line.contains(" a ") && line.contains(" b ")), "{pair}");
    }

    #[test]
    fn tolerances_absorb_small_differences() {
        let golden = json!({"kpis": {"pnl_total": 10.0}});
        let new = json!({"kpis": {"pnl_total": 10.004}});
        let mut tolerances = BTreeMap::new();
        assert!(!compare(&golden, &new, &tolerances).matches());
        tolerances.insert("kpis.pnl_total".to_string(), 0.01);
        assert!(compare(&golden, &new, &tolerances).matches());
        let mut value = json!({"kpis": {"pnl_total": 10.004}});
        quantize(&mut value, "kpis.pnl_total", 0.01);
        assert!((value["kpis"]["pnl_total"].as_f64().unwrap() - 10.0).abs() < 1e-12);
    }
}
