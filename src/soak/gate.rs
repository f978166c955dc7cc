//! The soak's judgements: per-iteration KPIs (differences of the engine's
//! cumulative books between two instants, plus percentiles over the iteration's
//! fills), the KPI gate (WARN / FAIL thresholds, defaults from the team's soak
//! runbook), and the stop criteria evaluated on one-minute buckets over rolling
//! windows (deadline misses, taker share, reject rate, kill switch).

use std::collections::{BTreeMap, VecDeque};

use drydock_engine::Engine;
use drydock_engine::accounting::FillRecord;
use drydock_engine::port::Liquidity;
use serde::{Deserialize, Serialize};

/// Verdict of the KPI gate on one iteration.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum GateVerdict {
    /// Within every threshold.
    Pass,
    /// A warning threshold was crossed.
    Warn,
    /// A failure threshold was crossed.
    Fail,
}

/// KPI gate thresholds (defaults from the team's soak gate).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GateConfig {
    /// WARN when risk_ratio is above this.
    pub warn_risk_ratio: f64,
    /// WARN when adverse_p95_bps is above this.
    pub warn_adverse_p95_bps: f64,
    /// FAIL when risk_ratio is above this.
    pub fail_risk_ratio: f64,
    /// FAIL when net_bps is below this.
    pub fail_net_bps: f64,
}

impl Default for GateConfig {
    fn default() -> Self {
        GateConfig { warn_risk_ratio: 0.40, warn_adverse_p95_bps: 3.0, fail_risk_ratio: 0.50, fail_net_bps: 2.0 }
    }
}

/// KPIs of one iteration.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct IterationKpis {
    /// PnL change per traded notional, bps.
    pub net_bps: f64,
    /// PnL change, quote currency (marked at fair value).
    pub pnl: f64,
    /// Fills.
    pub fills: u64,
    /// Traded notional, quote currency.
    pub traded_notional: f64,
    /// Share of decisions blocked by a risk guard.
    pub risk_ratio: f64,
    /// 95th percentile of 1-second adverse selection over the iteration's fills, bps.
    pub adverse_p95_bps: f64,
    /// 95th percentile of taker slippage over the iteration's taker fills, bps.
    pub slippage_p95_bps: f64,
    /// Taker share of the iteration's volume, percent.
    pub taker_share_pct: f64,
    /// Decisions blocked per reason.
    pub block_reasons: BTreeMap<String, u64>,
    /// Decisions.
    pub decisions: u64,
    /// Orders sent.
    pub orders_sent: u64,
    /// Orders rejected.
    pub orders_rejected: u64,
    /// Largest absolute position seen, lots.
    pub max_inventory_abs: i64,
    /// Kill-switch engagements.
    pub kill_switch_engagements: u64,
    /// Modelled deadline misses, percent of checks.
    pub deadline_miss_pct: f64,
}

impl GateConfig {
    /// Checks the thresholds: risk ratios are fractions in [0, 1] with the WARN level
    /// at most the FAIL level; the bps levels are finite.
    pub fn validate(&self) -> Result<(), (String, String)> {
        use super::threshold_within;
        threshold_within("gate", "warn_risk_ratio", self.warn_risk_ratio, 0.0, 1.0)?;
        threshold_within("gate", "fail_risk_ratio", self.fail_risk_ratio, 0.0, 1.0)?;
        threshold_within("gate", "warn_adverse_p95_bps", self.warn_adverse_p95_bps, f64::NEG_INFINITY, f64::INFINITY)?;
        threshold_within("gate", "fail_net_bps", self.fail_net_bps, f64::NEG_INFINITY, f64::INFINITY)?;
        if self.warn_risk_ratio > self.fail_risk_ratio {
            return Err((
                "soak.gate.warn_risk_ratio".to_string(),
                format!(
                    "{} is above fail_risk_ratio {}: an iteration would FAIL before it could WARN; keep the WARN level at or below the FAIL level",
                    self.warn_risk_ratio, self.fail_risk_ratio
                ),
            ));
        }
        Ok(())
    }

    /// The verdict on `kpis` and the thresholds crossed.
    pub fn evaluate(&self, kpis: &IterationKpis) -> (GateVerdict, Vec<String>) {
        let mut reasons = Vec::new();
        let mut verdict = GateVerdict::Pass;
        let mut cross = |level: GateVerdict, condition: bool, reason: String| {
            if condition {
                verdict = verdict.max(level);
                reasons.push(reason);
            }
        };
        cross(
            GateVerdict::Fail,
            kpis.risk_ratio > self.fail_risk_ratio,
            format!("FAIL: risk_ratio {:.3} > {}", kpis.risk_ratio, self.fail_risk_ratio),
        );
        cross(GateVerdict::Fail, kpis.net_bps < self.fail_net_bps, format!("FAIL: net_bps {:.3} < {}", kpis.net_bps, self.fail_net_bps));
        cross(
            GateVerdict::Warn,
            kpis.risk_ratio > self.warn_risk_ratio,
            format!("WARN: risk_ratio {:.3} > {}", kpis.risk_ratio, self.warn_risk_ratio),
        );
        cross(
            GateVerdict::Warn,
            kpis.adverse_p95_bps > self.warn_adverse_p95_bps,
            format!("WARN: adverse_p95_bps {:.3} > {}", kpis.adverse_p95_bps, self.warn_adverse_p95_bps),
        );
        (verdict, reasons)
    }
}

/// The engine's cumulative books at one instant.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Snapshot {
    pnl: f64,
    traded_notional: f64,
    fills: u64,
    maker_lots: i64,
    taker_lots: i64,
    decisions: u64,
    risk_blocked: u64,
    block_reasons: BTreeMap<String, u64>,
    orders_sent: u64,
    orders_rejected: u64,
    kill_switch_engagements: u64,
    position_lots: i64,
    deadline_checks: u64,
    deadline_misses: u64,
}

impl Snapshot {
    /// Reads the engine (and the dock's deadline counters).
    pub fn take(engine: &Engine, deadline_checks: u64, deadline_misses: u64) -> Self {
        let accounting = engine.accounting();
        let counters = engine.counters();
        Snapshot {
            pnl: engine.pnl_quote(),
            traded_notional: accounting.traded_notional_quote(engine.instrument()),
            fills: accounting.fills,
            maker_lots: accounting.maker_volume_lots,
            taker_lots: accounting.taker_volume_lots,
            decisions: counters.decisions,
            risk_blocked: counters.risk_blocked_decisions,
            block_reasons: counters.block_reasons(),
            orders_sent: counters.orders_sent,
            orders_rejected: counters.orders_rejected,
            kill_switch_engagements: counters.kill_switch_engagements,
            position_lots: accounting.position_lots,
            deadline_checks,
            deadline_misses,
        }
    }
}

/// KPIs between two snapshots, with the fills completed in between.
pub fn iteration_kpis(start: &Snapshot, end: &Snapshot, fills: &[FillRecord]) -> IterationKpis {
    let traded = end.traded_notional - start.traded_notional;
    let pnl = end.pnl - start.pnl;
    let maker = end.maker_lots - start.maker_lots;
    let taker = end.taker_lots - start.taker_lots;
    let decisions = end.decisions - start.decisions;
    let checks = end.deadline_checks - start.deadline_checks;
    let block_reasons = end
        .block_reasons
        .iter()
        .map(|(reason, count)| (reason.clone(), count - start.block_reasons.get(reason).copied().unwrap_or(0)))
        .filter(|(_, count)| *count > 0)
        .collect();
    let adverse: Vec<f64> = fills.iter().filter_map(|fill| fill.adverse_1s_bps).collect();
    let slippage: Vec<f64> = fills.iter().filter(|fill| fill.liquidity == Liquidity::Taker).map(FillRecord::slippage_bps).collect();
    let positions = fills.iter().map(|fill| fill.position_after_lots.abs());
    IterationKpis {
        net_bps: ratio(pnl, traded) * 10_000.0,
        pnl,
        fills: end.fills - start.fills,
        traded_notional: traded,
        risk_ratio: ratio((end.risk_blocked - start.risk_blocked) as f64, decisions as f64),
        adverse_p95_bps: percentile(adverse, 0.95),
        slippage_p95_bps: percentile(slippage, 0.95),
        taker_share_pct: ratio(taker as f64, (maker + taker) as f64) * 100.0,
        block_reasons,
        decisions,
        orders_sent: end.orders_sent - start.orders_sent,
        orders_rejected: end.orders_rejected - start.orders_rejected,
        max_inventory_abs: positions.chain([start.position_lots.abs(), end.position_lots.abs()]).max().unwrap_or(0),
        kill_switch_engagements: end.kill_switch_engagements - start.kill_switch_engagements,
        deadline_miss_pct: ratio((end.deadline_misses - start.deadline_misses) as f64, checks as f64) * 100.0,
    }
}

fn ratio(numerator: f64, denominator: f64) -> f64 {
    if denominator > 0.0 { numerator / denominator } else { 0.0 }
}

/// Nearest-rank percentile; 0 for no values.
fn percentile(mut values: Vec<f64>, q: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let rank = ((q * values.len() as f64).ceil() as usize).clamp(1, values.len());
    values[rank - 1]
}

/// Stop criteria and their warning levels (defaults from the team's soak runbook).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StopConfig {
    /// Stop when modelled deadline misses exceed this percent…
    pub deadline_miss_stop_pct: f64,
    /// …over this many minutes.
    pub deadline_miss_stop_minutes: u32,
    /// Warn when deadline misses exceed this percent…
    pub deadline_miss_warn_pct: f64,
    /// …over this many minutes.
    pub deadline_miss_warn_minutes: u32,
    /// Stop when the taker share exceeds this percent…
    pub taker_share_stop_pct: f64,
    /// …over this many minutes.
    pub taker_share_stop_minutes: u32,
    /// Warn when the taker share exceeds this percent…
    pub taker_share_warn_pct: f64,
    /// …over this many minutes.
    pub taker_share_warn_minutes: u32,
    /// Stop when rejected orders exceed this percent of decisions over an iteration.
    pub reject_rate_stop_pct: f64,
    /// Stop when the kill switch engages.
    pub stop_on_kill_switch: bool,
}

impl StopConfig {
    /// Checks every level and window: percentages finite and >= 0, windows of 1 to
    /// 10,080 minutes (a week; a window longer than the soak never fills, so never fires).
    pub fn validate(&self) -> Result<(), (String, String)> {
        use super::{count_within, threshold_within};
        for (name, pct) in [
            ("deadline_miss_stop_pct", self.deadline_miss_stop_pct),
            ("deadline_miss_warn_pct", self.deadline_miss_warn_pct),
            ("taker_share_stop_pct", self.taker_share_stop_pct),
            ("taker_share_warn_pct", self.taker_share_warn_pct),
        ] {
            threshold_within("stop", name, pct, 0.0, 100.0)?;
        }
        threshold_within("stop", "reject_rate_stop_pct", self.reject_rate_stop_pct, 0.0, f64::INFINITY)?;
        for (name, minutes) in [
            ("deadline_miss_stop_minutes", self.deadline_miss_stop_minutes),
            ("deadline_miss_warn_minutes", self.deadline_miss_warn_minutes),
            ("taker_share_stop_minutes", self.taker_share_stop_minutes),
            ("taker_share_warn_minutes", self.taker_share_warn_minutes),
        ] {
            count_within("stop", name, u64::from(minutes), 1, WINDOW_MINUTES_MAX)?;
        }
        Ok(())
    }
}

/// The longest window a stop criterion or warning may average over, minutes.
const WINDOW_MINUTES_MAX: u64 = 7 * 24 * 60;

impl Default for StopConfig {
    fn default() -> Self {
        StopConfig {
            deadline_miss_stop_pct: 5.0,
            deadline_miss_stop_minutes: 10,
            deadline_miss_warn_pct: 2.0,
            deadline_miss_warn_minutes: 30,
            taker_share_stop_pct: 15.0,
            taker_share_stop_minutes: 60,
            taker_share_warn_pct: 10.0,
            taker_share_warn_minutes: 120,
            reject_rate_stop_pct: 1.0,
            stop_on_kill_switch: true,
        }
    }
}

/// A stop criterion or warning that fired.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CriterionHit {
    /// Criterion name.
    pub criterion: String,
    /// When, seconds from the start.
    pub at_s: f64,
    /// Measured value.
    pub value: f64,
    /// Threshold crossed.
    pub threshold: f64,
    /// Window, minutes (0 for instant criteria).
    pub window_minutes: u32,
}

#[derive(Clone, Debug, Default)]
struct MinuteBucket {
    deadline_checks: u64,
    deadline_misses: u64,
    maker_lots: i64,
    taker_lots: i64,
}

/// Evaluates the stop criteria on one-minute buckets.
#[derive(Clone, Debug, Default)]
pub struct StopWatch {
    config: StopConfig,
    minutes: VecDeque<MinuteBucket>,
    warnings: Vec<CriterionHit>,
}

impl StopWatch {
    /// A watch with `config`.
    pub fn new(config: StopConfig) -> Self {
        StopWatch { config, minutes: VecDeque::new(), warnings: Vec::new() }
    }

    /// Warnings recorded so far (each criterion once, when first crossed).
    pub fn warnings(&self) -> &[CriterionHit] {
        &self.warnings
    }

    /// Adds the minute between two snapshots ending at `at_s`; returns a stop if one fired.
    pub fn minute(&mut self, start: &Snapshot, end: &Snapshot, at_s: f64) -> Option<CriterionHit> {
        self.minutes.push_back(MinuteBucket {
            deadline_checks: end.deadline_checks - start.deadline_checks,
            deadline_misses: end.deadline_misses - start.deadline_misses,
            maker_lots: end.maker_lots - start.maker_lots,
            taker_lots: end.taker_lots - start.taker_lots,
        });
        let keep = self
            .config
            .taker_share_warn_minutes
            .max(self.config.deadline_miss_warn_minutes)
            .max(self.config.taker_share_stop_minutes)
            .max(1) as usize;
        while self.minutes.len() > keep {
            self.minutes.pop_front();
        }
        if self.config.stop_on_kill_switch && end.kill_switch_engagements > start.kill_switch_engagements {
            return Some(CriterionHit { criterion: "kill_switch".to_string(), at_s, value: 1.0, threshold: 0.0, window_minutes: 0 });
        }
        let config = self.config.clone();
        let deadline = |bucket: &MinuteBucket| (bucket.deadline_misses as f64, bucket.deadline_checks as f64);
        let taker = |bucket: &MinuteBucket| (bucket.taker_lots as f64, (bucket.maker_lots + bucket.taker_lots) as f64);
        self.warn("deadline_miss_pct", deadline, config.deadline_miss_warn_pct, config.deadline_miss_warn_minutes, at_s);
        self.warn("taker_share_pct", taker, config.taker_share_warn_pct, config.taker_share_warn_minutes, at_s);
        self.over("deadline_miss_pct", deadline, config.deadline_miss_stop_pct, config.deadline_miss_stop_minutes, at_s)
            .or_else(|| self.over("taker_share_pct", taker, config.taker_share_stop_pct, config.taker_share_stop_minutes, at_s))
    }

    /// Checks the reject rate of a finished iteration.
    pub fn iteration(&self, kpis: &IterationKpis, at_s: f64) -> Option<CriterionHit> {
        let rate = ratio(kpis.orders_rejected as f64, kpis.decisions as f64) * 100.0;
        (rate > self.config.reject_rate_stop_pct).then(|| CriterionHit {
            criterion: "reject_rate_pct".to_string(),
            at_s,
            value: rate,
            threshold: self.config.reject_rate_stop_pct,
            window_minutes: 0,
        })
    }

    /// The windowed rate (percent) if the window is full and above `threshold`.
    fn over(
        &self,
        name: &str,
        part: impl Fn(&MinuteBucket) -> (f64, f64),
        threshold: f64,
        minutes: u32,
        at_s: f64,
    ) -> Option<CriterionHit> {
        let minutes_usize = minutes.max(1) as usize;
        if self.minutes.len() < minutes_usize {
            return None;
        }
        let (numerator, denominator) =
            self.minutes.iter().rev().take(minutes_usize).map(part).fold((0.0, 0.0), |(n, d), (a, b)| (n + a, d + b));
        let value = ratio(numerator, denominator) * 100.0;
        (value > threshold).then(|| CriterionHit { criterion: name.to_string(), at_s, value, threshold, window_minutes: minutes })
    }

    fn warn(&mut self, name: &str, part: impl Fn(&MinuteBucket) -> (f64, f64), threshold: f64, minutes: u32, at_s: f64) {
        if self.warnings.iter().any(|hit| hit.criterion == name) {
            return;
        }
        if let Some(hit) = self.over(name, part, threshold, minutes, at_s) {
            self.warnings.push(hit);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gate_defaults_follow_the_runbook() {
        let gate = GateConfig::default();
        let pass = IterationKpis { net_bps: 2.5, risk_ratio: 0.1, adverse_p95_bps: 1.0, ..IterationKpis::default() };
        assert_eq!(gate.evaluate(&pass).0, GateVerdict::Pass);
        let warn = IterationKpis { adverse_p95_bps: 3.5, ..pass.clone() };
        assert_eq!(gate.evaluate(&warn).0, GateVerdict::Warn);
        let risky = IterationKpis { risk_ratio: 0.45, ..pass.clone() };
        assert_eq!(gate.evaluate(&risky).0, GateVerdict::Warn);
        let fail = IterationKpis { net_bps: 1.5, ..pass.clone() };
        let (verdict, reasons) = gate.evaluate(&fail);
        assert_eq!(verdict, GateVerdict::Fail);
        assert!(reasons[0].contains("net_bps"), "{reasons:?}");
        assert_eq!(gate.evaluate(&IterationKpis { risk_ratio: 0.55, ..pass }).0, GateVerdict::Fail);
    }

    fn snapshot(minute: u64, checks_per_minute: u64, misses_per_minute: u64) -> Snapshot {
        Snapshot { deadline_checks: minute * checks_per_minute, deadline_misses: minute * misses_per_minute, ..Snapshot::default() }
    }

    #[test]
    fn deadline_misses_stop_only_after_the_full_window() {
        let mut watch = StopWatch::new(StopConfig::default());
        let mut stop = None;
        for minute in 1..=10u64 {
            stop = watch.minute(&snapshot(minute - 1, 100, 6), &snapshot(minute, 100, 6), minute as f64 * 60.0);
            if minute < 10 {
                assert!(stop.is_none(), "stopped after {minute} minutes");
            }
        }
        let stop = stop.expect("6 % over 10 minutes stops");
        assert_eq!((stop.criterion.as_str(), stop.window_minutes), ("deadline_miss_pct", 10));
        assert!((stop.value - 6.0).abs() < 1e-9);
    }

    #[test]
    fn kill_switch_stops_at_once() {
        let mut watch = StopWatch::new(StopConfig::default());
        let end = Snapshot { kill_switch_engagements: 1, ..Snapshot::default() };
        assert_eq!(watch.minute(&Snapshot::default(), &end, 60.0).unwrap().criterion, "kill_switch");
    }

    #[test]
    fn percentile_is_nearest_rank() {
        assert_eq!(percentile((1..=100).map(f64::from).collect(), 0.95), 95.0);
        assert_eq!(percentile(Vec::new(), 0.95), 0.0);
    }
}
