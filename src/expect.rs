//! Expectations (`[[expect]]`): assertions on a run's outcome that encode what a
//! market-making team wants, e.g. `kpis.max_inventory_abs <= 50`,
//! `run.orders_while_feed_stale == 0`, `events.flash_crash.quotes_pulled_ms <= 500`.
//!
//! Metrics live in three namespaces: `kpis.*` (the engine's KPIs, with
//! `kpis.block_reasons.<reason>`), `run.*` (the dock's run metrics) and
//! `events.<name>.<measure>` (measured effects of an injected event, named by kind
//! with `_2`, `_3`… for repeats). Names are checked when the scenario is loaded; a
//! metric that exists but was not measured in a run (no recovery, say) fails its
//! expectation.

use std::collections::BTreeMap;

use drydock_engine::kpi::BlockReason;
use drydock_engine::{Engine, EngineParams, Instrument};
use drydock_sim::config::SimConfig;
use drydock_sim::effects::{EffectMeter, measure_names};
use drydock_sim::{RunMetrics, RunOutcome};

use crate::soak::SoakSummary;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};

/// A comparison.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Comparison {
    /// Strictly less.
    #[serde(rename = "<")]
    Less,
    /// Less or equal.
    #[serde(rename = "<=")]
    LessOrEqual,
    /// Strictly greater.
    #[serde(rename = ">")]
    Greater,
    /// Greater or equal.
    #[serde(rename = ">=")]
    GreaterOrEqual,
    /// Equal.
    #[serde(rename = "==")]
    Equal,
    /// Not equal.
    #[serde(rename = "!=")]
    NotEqual,
}

impl Comparison {
    /// Applies the comparison.
    pub fn holds(self, actual: f64, value: f64) -> bool {
        match self {
            Comparison::Less => actual < value,
            Comparison::LessOrEqual => actual <= value,
            Comparison::Greater => actual > value,
            Comparison::GreaterOrEqual => actual >= value,
            Comparison::Equal => actual == value,
            Comparison::NotEqual => actual != value,
        }
    }

    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            Comparison::Less => "<",
            Comparison::LessOrEqual => "<=",
            Comparison::Greater => ">",
            Comparison::GreaterOrEqual => ">=",
            Comparison::Equal => "==",
            Comparison::NotEqual => "!=",
        }
    }
}

/// One `[[expect]]` entry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expectation {
    /// Metric path.
    pub metric: String,
    /// Comparison.
    pub op: Comparison,
    /// Threshold.
    pub value: f64,
    /// Why the team wants it, for reports.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub why: String,
}

/// The verdict on one expectation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExpectationResult {
    /// Metric path.
    pub metric: String,
    /// Comparison, as written.
    pub op: String,
    /// Threshold.
    pub value: f64,
    /// Measured value (absent when the run did not measure it).
    pub actual: Option<f64>,
    /// True when the comparison holds.
    pub pass: bool,
    /// Why the team wants it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub why: String,
}

impl ExpectationResult {
    /// `metric op value (actual x)`, as summaries print it.
    pub fn describe(&self) -> String {
        let actual = self.actual.map_or("not measured".to_string(), |actual| format!("{actual:.4}"));
        format!("{} {} {} (actual {actual})", self.metric, self.op, self.value)
    }
}

impl Expectation {
    /// Checks the value is a number and the metric names something that exists for
    /// this scenario.
    /// On error, the key at fault (`metric` or `value`) and what is wrong.
    pub fn validate(&self, sim: &SimConfig) -> Result<(), (&'static str, String)> {
        if !self.value.is_finite() {
            return Err(("value", format!("{} must be a finite number", self.value)));
        }
        validate_metric(&self.metric, sim).map_err(|message| ("metric", message))
    }

    /// Evaluates against a finished run.
    pub fn evaluate(&self, metrics: &BTreeMap<String, f64>) -> ExpectationResult {
        let actual = metric_value(metrics, &self.metric);
        ExpectationResult {
            metric: self.metric.clone(),
            op: self.op.as_str().to_string(),
            value: self.value,
            actual,
            pass: actual.is_some_and(|actual| self.op.holds(actual, self.value)),
            why: self.why.clone(),
        }
    }
}

/// Checks `metric` names something a run of `sim` reports (for expectations, and for
/// sweeps' objectives, constraints and tables); the error lists what exists.
pub fn validate_metric(metric: &str, sim: &SimConfig) -> Result<(), String> {
    let parts: Vec<&str> = metric.split('.').collect();
    let known = match parts.as_slice() {
        ["kpis", "block_reasons", reason] => BlockReason::ALL.iter().any(|known| known.as_str() == *reason),
        ["kpis", name] => kpi_names().iter().any(|known| known == name),
        ["run", name] => run_metric_names().iter().any(|known| known == name),
        ["soak", "verdicts", verdict] => ["PASS", "WARN", "FAIL"].contains(verdict),
        ["soak", "guards_fired", guard] => SOAK_GUARDS.contains(guard),
        ["soak", name] => SOAK_METRICS.contains(name),
        ["events", event, measure] => {
            let meter = EffectMeter::new(&sim.events, 0);
            let position = meter.names().iter().position(|name| name == event);
            return match position {
                None if meter.names().is_empty() => {
                    Err(format!("no event named `{event}`: this scenario has no [[events]]; add one or use a kpis.* or run.* metric"))
                }
                None => Err(format!("no event named `{event}` in this scenario; events are: {}", meter.names().join(", "))),
                Some(index) if !measure_names(sim.events[index].kind()).contains(measure) => {
                    Err(format!("`{event}` measures: {}", measure_names(sim.events[index].kind()).join(", ")))
                }
                Some(_) => Ok(()),
            };
        }
        _ => false,
    };
    if known {
        Ok(())
    } else {
        Err(format!(
            "unknown metric `{}`; use kpis.<kpi> ({}), kpis.block_reasons.<reason>, run.<metric> ({}), events.<event>.<measure>, or for soaks soak.iterations_run, soak.panic_reverts, soak.verdicts.<PASS|WARN|FAIL>, soak.guards_fired.<guard>",
            metric,
            kpi_names().join(", "),
            run_metric_names().join(", ")
        ))
    }
}

/// The value of `metric` among a run's flattened metrics. Counters absent from a
/// map (a reason never blocked, a guard never fired) are 0; anything else absent is
/// `None`.
pub fn metric_value(metrics: &BTreeMap<String, f64>, metric: &str) -> Option<f64> {
    let counted = ["kpis.block_reasons.", "soak.verdicts.", "soak.guards_fired."].iter().any(|prefix| metric.starts_with(prefix));
    metrics.get(metric).copied().or_else(|| counted.then_some(0.0))
}

/// Every numeric metric of a run (and of its soak, if any), by path.
pub fn flatten_metrics(outcome: &RunOutcome, soak: Option<&SoakSummary>) -> BTreeMap<String, f64> {
    let mut metrics = BTreeMap::new();
    if let Some(soak) = soak {
        flatten_into(&mut metrics, "soak", &serde_json::to_value(soak).expect("soak summary serializes"));
    }
    flatten_into(&mut metrics, "kpis", &serde_json::to_value(&outcome.kpis).expect("kpis serialize"));
    flatten_into(&mut metrics, "run", &serde_json::to_value(&outcome.metrics).expect("metrics serialize"));
    for effect in &outcome.effects {
        for (measure, value) in &effect.measured {
            metrics.insert(format!("events.{}.{measure}", effect.name), *value);
        }
    }
    metrics
}

fn flatten_into(metrics: &mut BTreeMap<String, f64>, prefix: &str, value: &serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, value) in map {
                flatten_into(metrics, &format!("{prefix}.{key}"), value);
            }
        }
        serde_json::Value::Number(number) => {
            if let Some(number) = number.as_f64() {
                metrics.insert(prefix.to_string(), number);
            }
        }
        _ => {}
    }
}

/// `soak.<name>` metrics.
const SOAK_METRICS: [&str; 3] = ["iterations", "iterations_run", "panic_reverts"];

/// Guards that `soak.guards_fired.<guard>` can name.
const SOAK_GUARDS: [&str; 8] =
    ["late_iteration", "panic_revert", "cooldown", "freeze", "oscillation", "velocity", "state_validation", "idempotency"];

fn kpi_names() -> Vec<String> {
    let jitter = Box::new(rand_chacha::ChaCha8Rng::seed_from_u64(0));
    let engine = Engine::new(Instrument::default(), EngineParams::default(), "names", jitter).expect("defaults are valid");
    object_keys(&serde_json::to_value(engine.kpis()).expect("kpis serialize"))
}

fn run_metric_names() -> Vec<String> {
    object_keys(&serde_json::to_value(RunMetrics::default()).expect("metrics serialize"))
}

fn object_keys(value: &serde_json::Value) -> Vec<String> {
    value.as_object().map(|map| map.keys().filter(|key| *key != "block_reasons").cloned().collect()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use drydock_sim::config::{ExchangeConfig, InjectedEvent, MarketConfig, ReactionConfig};

    fn sim() -> SimConfig {
        SimConfig {
            seed: 1,
            duration_s: 100.0,
            market: MarketConfig::default(),
            exchange: ExchangeConfig::default(),
            events: vec![
                InjectedEvent::FeedOutage { start_s: 10.0, duration_s: 5.0 },
                InjectedEvent::FeedOutage { start_s: 50.0, duration_s: 5.0 },
            ],
            reaction: ReactionConfig::default(),
            tape: None,
        }
    }

    fn expectation(metric: &str) -> Expectation {
        Expectation { metric: metric.to_string(), op: Comparison::LessOrEqual, value: 1.0, why: String::new() }
    }

    #[test]
    fn metric_names_are_checked_against_the_scenario() {
        let sim = sim();
        expectation("kpis.max_inventory_abs").validate(&sim).unwrap();
        expectation("kpis.block_reasons.stale_market_data").validate(&sim).unwrap();
        expectation("run.orders_while_feed_stale").validate(&sim).unwrap();
        expectation("events.feed_outage_2.engine_orders_during").validate(&sim).unwrap();
        let message = |metric: &str| expectation(metric).validate(&sim).unwrap_err().1;
        assert!(message("kpis.max_inventory").contains("max_inventory_abs"));
        assert!(message("events.flash_crash.drawdown_pct").contains("feed_outage_2"));
        assert!(message("events.feed_outage.drawdown_pct").contains("engine_orders_during"));
        let no_events = SimConfig { events: Vec::new(), ..sim.clone() };
        let error = expectation("events.flash_crash.drawdown_pct").validate(&no_events).unwrap_err().1;
        assert!(error.contains("this scenario has no [[events]]"), "{error}");
        let not_a_number = Expectation { value: f64::NAN, ..expectation("kpis.fills") };
        assert_eq!(not_a_number.validate(&sim).unwrap_err().0, "value");
    }

    #[test]
    fn evaluation_passes_fails_and_reports_missing() {
        let mut metrics = BTreeMap::new();
        metrics.insert("kpis.max_inventory_abs".to_string(), 0.5);
        assert!(expectation("kpis.max_inventory_abs").evaluate(&metrics).pass);
        metrics.insert("kpis.max_inventory_abs".to_string(), 2.0);
        assert!(!expectation("kpis.max_inventory_abs").evaluate(&metrics).pass);
        let missing = expectation("events.flash_crash.time_to_recovery_s").evaluate(&metrics);
        assert_eq!((missing.actual, missing.pass), (None, false));
        assert_eq!(expectation("kpis.block_reasons.rate_limit").evaluate(&metrics).actual, Some(0.0));
    }
}
