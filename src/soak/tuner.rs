//! The soak tuner: between iterations it reads the iteration's KPIs and proposes
//! bounded parameter changes, then passes them through its guards. Deterministic:
//! the same KPI sequence gives the same decisions.
//!
//! Risk zones by `risk_ratio`: AGGRESSIVE (≥ 60 %) and MODERATE (40–60 %) move
//! parameters towards safety, by full or half steps; NORMALIZE (< 35 %) walks them
//! back towards the baseline profile; 35–40 % holds. Drivers decide which
//! parameters move: high adverse selection widens and slows quoting, high taker
//! slippage tightens the unwind clip, a dominant impact-cap block loosens the cap, a
//! dominant requote throttle (min interval or rate limit) slows requotes.
//!
//! Guards, in order: late iteration (nothing applied on the final one), panic
//! revert (3 consecutive FAILs revert to the safe profile), cooldown (after a large
//! total change, skip 2 iterations), freeze (after 2 stable iterations,
//! `impact_cap_ratio` and `max_delta_ratio` frozen for 4), oscillation (A→B→A within
//! 3 iterations blocked), velocity (total change per parameter per virtual hour
//! bounded), state validation (a value outside bounds is refused, naming parameter,
//! value and bounds) and idempotency (the same deltas are never applied twice).
//! The tuner only decides; applying a decision to the engine is the soak runner's job.

use std::collections::{BTreeMap, VecDeque};

use drydock_engine::EngineParams;
use serde::{Deserialize, Serialize};

use super::gate::{GateVerdict, IterationKpis};

/// One tunable parameter: bounds, step and velocity limit.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct TunedParam {
    /// Engine parameter name.
    pub name: &'static str,
    /// Smallest value the tuner may set.
    pub min: f64,
    /// Largest value the tuner may set.
    pub max: f64,
    /// A full step.
    pub step: f64,
    /// Largest total absolute change per virtual hour.
    pub max_change_per_hour: f64,
    /// True when the parameter takes whole numbers.
    pub integer: bool,
}

/// The one table of tuner bounds (velocities for min_interval_ms and
/// impact_cap_ratio from the team's audit: ±30 ms and ±0.04 per hour).
pub const TUNED_PARAMS: &[TunedParam] = &[
    TunedParam { name: "min_interval_ms", min: 20.0, max: 1_000.0, step: 10.0, max_change_per_hour: 30.0, integer: true },
    TunedParam { name: "impact_cap_ratio", min: 0.1, max: 1.0, step: 0.02, max_change_per_hour: 0.04, integer: false },
    TunedParam { name: "max_delta_ratio", min: 0.05, max: 1.0, step: 0.05, max_change_per_hour: 0.15, integer: false },
    TunedParam { name: "base_spread_bps", min: 0.2, max: 5.0, step: 0.1, max_change_per_hour: 0.4, integer: false },
    TunedParam { name: "quote_size_lots", min: 2.0, max: 50.0, step: 1.0, max_change_per_hour: 4.0, integer: true },
    TunedParam { name: "unwind_clip_lots", min: 2.0, max: 100.0, step: 2.0, max_change_per_hour: 8.0, integer: true },
];

/// Parameters frozen after stable iterations.
pub const FROZEN_ON_STABILITY: [&str; 2] = ["impact_cap_ratio", "max_delta_ratio"];

/// Thresholds of the tuner and its guards.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TunerConfig {
    /// AGGRESSIVE zone from this risk ratio.
    pub aggressive_risk: f64,
    /// MODERATE zone from this risk ratio.
    pub moderate_risk: f64,
    /// NORMALIZE zone below this risk ratio.
    pub normalize_risk: f64,
    /// Adverse selection p95 above which spreads widen, bps.
    pub adverse_p95_bps: f64,
    /// Taker slippage p95 above which the unwind clip shrinks, bps.
    pub slippage_p95_bps: f64,
    /// A stable iteration has risk at most this…
    pub stable_risk: f64,
    /// …and net bps at least this.
    pub stable_net_bps: f64,
    /// Consecutive stable iterations that trigger the freeze.
    pub freeze_after: u32,
    /// Iterations the freeze lasts.
    pub freeze_iterations: u32,
    /// A total change of at least this many full steps triggers the cooldown.
    pub cooldown_total_steps: f64,
    /// Iterations skipped after a large change.
    pub cooldown_iterations: u32,
    /// Consecutive FAIL iterations that trigger the panic revert.
    pub panic_after_fails: u32,
    /// Iterations of history the oscillation detector looks at.
    pub oscillation_window: usize,
}

impl TunerConfig {
    /// Checks the thresholds: risk levels are fractions in [0, 1] with the zones in
    /// order (normalize <= moderate <= aggressive), bps levels finite, and the guards'
    /// counts able to fire (a panic revert after 0 FAILs would revert every iteration).
    pub fn validate(&self) -> Result<(), (String, String)> {
        use super::{count_within, threshold_within};
        for (name, risk) in [
            ("aggressive_risk", self.aggressive_risk),
            ("moderate_risk", self.moderate_risk),
            ("normalize_risk", self.normalize_risk),
            ("stable_risk", self.stable_risk),
        ] {
            threshold_within("tuner", name, risk, 0.0, 1.0)?;
        }
        for (name, bps) in [
            ("adverse_p95_bps", self.adverse_p95_bps),
            ("slippage_p95_bps", self.slippage_p95_bps),
            ("stable_net_bps", self.stable_net_bps),
        ] {
            threshold_within("tuner", name, bps, f64::NEG_INFINITY, f64::INFINITY)?;
        }
        if self.moderate_risk > self.aggressive_risk {
            return Err(zones_out_of_order("moderate_risk", self.moderate_risk, "aggressive_risk", self.aggressive_risk));
        }
        if self.normalize_risk > self.moderate_risk {
            return Err(zones_out_of_order("normalize_risk", self.normalize_risk, "moderate_risk", self.moderate_risk));
        }
        threshold_within("tuner", "cooldown_total_steps", self.cooldown_total_steps, f64::MIN_POSITIVE, f64::INFINITY)?;
        count_within("tuner", "freeze_after", u64::from(self.freeze_after), 1, GUARD_COUNT_MAX)?;
        count_within("tuner", "freeze_iterations", u64::from(self.freeze_iterations), 0, GUARD_COUNT_MAX)?;
        count_within("tuner", "cooldown_iterations", u64::from(self.cooldown_iterations), 0, GUARD_COUNT_MAX)?;
        count_within("tuner", "panic_after_fails", u64::from(self.panic_after_fails), 1, GUARD_COUNT_MAX)?;
        count_within("tuner", "oscillation_window", self.oscillation_window as u64, 0, GUARD_COUNT_MAX)?;
        if self.oscillation_window == 1 {
            return Err((
                "soak.tuner.oscillation_window".to_string(),
                "1 holds only the value in force, so A->B->A is never seen: use 2 or more, or 0 to turn the guard off".to_string(),
            ));
        }
        Ok(())
    }
}

/// Most iterations a guard's count or window may name.
const GUARD_COUNT_MAX: u64 = 1_000;

fn zones_out_of_order(lower: &str, lower_value: f64, upper: &str, upper_value: f64) -> (String, String) {
    (
        format!("soak.tuner.{lower}"),
        format!(
            "{lower_value} is above {upper} {upper_value}: the risk zones must be in order (normalize_risk <= moderate_risk <= aggressive_risk)"
        ),
    )
}

impl Default for TunerConfig {
    fn default() -> Self {
        TunerConfig {
            aggressive_risk: 0.60,
            moderate_risk: 0.40,
            normalize_risk: 0.35,
            adverse_p95_bps: 3.0,
            slippage_p95_bps: 5.0,
            stable_risk: 0.35,
            stable_net_bps: 2.7,
            freeze_after: 2,
            freeze_iterations: 4,
            cooldown_total_steps: 3.0,
            cooldown_iterations: 2,
            panic_after_fails: 3,
            oscillation_window: 3,
        }
    }
}

/// Risk zone of an iteration.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RiskZone {
    /// risk ≥ aggressive threshold: full safety steps.
    Aggressive,
    /// moderate ≤ risk < aggressive: half safety steps.
    Moderate,
    /// normalize ≤ risk < moderate: hold.
    Hold,
    /// risk < normalize: walk back towards the baseline.
    Normalize,
}

/// A guard that changed a decision, and why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GuardFired {
    /// Guard name: late_iteration, panic_revert, cooldown, freeze, oscillation,
    /// velocity, state_validation, idempotency.
    pub guard: String,
    /// What it did.
    pub detail: String,
}

/// What the tuner decided after one iteration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TuningDecision {
    /// The iteration whose KPIs were read (1-based).
    pub iteration: u32,
    /// Risk zone.
    pub zone: RiskZone,
    /// Changes proposed before guards.
    pub proposed: BTreeMap<String, f64>,
    /// Changes applied: parameter to (old, new).
    pub applied: BTreeMap<String, (f64, f64)>,
    /// Why each change was proposed.
    pub reasons: Vec<String>,
    /// Guards that fired.
    pub guards: Vec<GuardFired>,
    /// Signature of the applied deltas (empty when nothing applied).
    pub signature: String,
    /// Set when the panic revert replaced every parameter with the safe profile.
    pub reverted_to: Option<String>,
}

/// The tuner's memory across iterations.
#[derive(Clone, Debug)]
pub struct Tuner {
    config: TunerConfig,
    baseline: EngineParams,
    safe_profile: (String, EngineParams),
    iteration_s: f64,
    consecutive_fails: u32,
    consecutive_stable: u32,
    frozen_until: Option<u32>,
    cooldown_until: Option<u32>,
    last_signature: Option<String>,
    history: BTreeMap<String, VecDeque<f64>>,
    changes: BTreeMap<String, VecDeque<(u32, f64)>>,
}

impl Tuner {
    /// A tuner that normalizes towards `baseline` and panics to `safe_profile`.
    pub fn new(config: TunerConfig, baseline: EngineParams, safe_profile: (String, EngineParams), iteration_s: f64) -> Self {
        Tuner {
            config,
            baseline,
            safe_profile,
            iteration_s,
            consecutive_fails: 0,
            consecutive_stable: 0,
            frozen_until: None,
            cooldown_until: None,
            last_signature: None,
            history: BTreeMap::new(),
            changes: BTreeMap::new(),
        }
    }

    /// True when the stability freeze covers `iteration`.
    pub fn is_frozen(&self, iteration: u32) -> bool {
        self.frozen_until.is_some_and(|until| iteration <= until)
    }

    /// The zone of a risk ratio.
    pub fn zone(&self, risk_ratio: f64) -> RiskZone {
        if risk_ratio >= self.config.aggressive_risk {
            RiskZone::Aggressive
        } else if risk_ratio >= self.config.moderate_risk {
            RiskZone::Moderate
        } else if risk_ratio >= self.config.normalize_risk {
            RiskZone::Hold
        } else {
            RiskZone::Normalize
        }
    }

    /// Decides after iteration `iteration` of `total`, given its KPIs and gate
    /// verdict and the parameters in force; returns the decision and the new
    /// parameters (equal to `params` when nothing was applied).
    pub fn decide(
        &mut self,
        iteration: u32,
        total: u32,
        kpis: &IterationKpis,
        verdict: GateVerdict,
        params: &EngineParams,
    ) -> (TuningDecision, EngineParams) {
        self.remember_values(params);
        let zone = self.zone(kpis.risk_ratio);
        let (proposed, reasons) = self.propose(zone, kpis, params);
        let mut decision = TuningDecision {
            iteration,
            zone,
            proposed: proposed.clone(),
            applied: BTreeMap::new(),
            reasons,
            guards: Vec::new(),
            signature: String::new(),
            reverted_to: None,
        };
        self.track_streaks(kpis, verdict, iteration, &mut decision);
        if iteration >= total {
            decision.guards.push(fired("late_iteration", "final iteration: nothing is applied so the final state is stable for reporting"));
            return (decision, params.clone());
        }
        if self.consecutive_fails >= self.config.panic_after_fails {
            return self.panic_revert(decision, params);
        }
        if let Some(until) = self.cooldown_until.filter(|until| iteration <= *until) {
            decision
                .guards
                .push(fired("cooldown", &format!("a large change was applied recently; skipping until after iteration {until}")));
            return (decision, params.clone());
        }
        let deltas = self.guard_deltas(iteration, proposed, params, &mut decision);
        self.apply(iteration, deltas, params, decision)
    }

    fn propose(&self, zone: RiskZone, kpis: &IterationKpis, params: &EngineParams) -> (BTreeMap<String, f64>, Vec<String>) {
        let mut proposed = BTreeMap::new();
        let mut reasons = Vec::new();
        let scale = match zone {
            RiskZone::Aggressive => 1.0,
            RiskZone::Moderate => 0.5,
            RiskZone::Hold | RiskZone::Normalize => 0.0,
        };
        let mut propose = |name: &str, steps: f64, reason: String| {
            if let Some(spec) = spec(name) {
                *proposed.entry(name.to_string()).or_insert(0.0) += steps * spec.step;
                reasons.push(reason);
            }
        };
        if scale > 0.0 {
            let risk = format!("{zone:?} zone (risk {:.2})", kpis.risk_ratio);
            propose("base_spread_bps", scale, format!("{risk}: widen base_spread_bps"));
            propose("quote_size_lots", -scale, format!("{risk}: shrink quote_size_lots"));
        }
        if kpis.adverse_p95_bps > self.config.adverse_p95_bps {
            let why = format!("adverse_p95 {:.2} bps > {}", kpis.adverse_p95_bps, self.config.adverse_p95_bps);
            propose("base_spread_bps", 1.0, format!("{why}: widen base_spread_bps"));
            propose("min_interval_ms", 1.0, format!("{why}: slow requotes (min_interval_ms)"));
        }
        if kpis.slippage_p95_bps > self.config.slippage_p95_bps {
            let why = format!("slippage_p95 {:.2} bps > {}", kpis.slippage_p95_bps, self.config.slippage_p95_bps);
            propose("unwind_clip_lots", -1.0, format!("{why}: smaller unwind clips"));
        }
        match dominant_block(kpis) {
            Some("impact_cap") => {
                propose("impact_cap_ratio", 1.0, "impact_cap is the dominant block reason: loosen impact_cap_ratio".to_string())
            }
            Some("min_interval" | "rate_limit") => propose(
                "max_delta_ratio",
                1.0,
                "requote throttles dominate the block reasons: requote on larger moves (max_delta_ratio)".to_string(),
            ),
            _ => {}
        }
        if zone == RiskZone::Normalize && proposed.is_empty() {
            for spec in TUNED_PARAMS {
                let current = params.get_number(spec.name).unwrap_or(0.0);
                let baseline = self.baseline.get_number(spec.name).unwrap_or(current);
                let gap = baseline - current;
                if gap.abs() > 1e-12 {
                    let step = gap.signum() * spec.step.min(gap.abs());
                    proposed.insert(spec.name.to_string(), step);
                    reasons.push(format!("NORMALIZE zone (risk {:.2}): {} back towards baseline {baseline}", kpis.risk_ratio, spec.name));
                }
            }
        }
        (proposed, reasons)
    }

    fn track_streaks(&mut self, kpis: &IterationKpis, verdict: GateVerdict, iteration: u32, decision: &mut TuningDecision) {
        self.consecutive_fails = if verdict == GateVerdict::Fail { self.consecutive_fails + 1 } else { 0 };
        let stable = kpis.risk_ratio <= self.config.stable_risk && kpis.net_bps >= self.config.stable_net_bps;
        self.consecutive_stable = if stable { self.consecutive_stable + 1 } else { 0 };
        if self.consecutive_stable >= self.config.freeze_after && self.frozen_until.is_none_or(|until| iteration > until) {
            let until = iteration + self.config.freeze_iterations;
            self.frozen_until = Some(until);
            decision.guards.push(fired(
                "freeze",
                &format!(
                    "{} stable iterations: {} frozen through iteration {until}",
                    self.consecutive_stable,
                    FROZEN_ON_STABILITY.join(" and ")
                ),
            ));
        }
    }

    fn panic_revert(&mut self, mut decision: TuningDecision, params: &EngineParams) -> (TuningDecision, EngineParams) {
        let (name, safe) = self.safe_profile.clone();
        decision
            .guards
            .push(fired("panic_revert", &format!("{} consecutive FAIL iterations: reverting to profile {name}", self.consecutive_fails)));
        for spec in TUNED_PARAMS {
            let (old, new) = (params.get_number(spec.name).unwrap_or(0.0), safe.get_number(spec.name).unwrap_or(0.0));
            if old != new {
                decision.applied.insert(spec.name.to_string(), (old, new));
            }
        }
        decision.reverted_to = Some(name);
        self.consecutive_fails = 0;
        self.last_signature = None;
        self.cooldown_until = Some(decision.iteration + self.config.cooldown_iterations);
        (decision, safe)
    }

    /// Freeze, oscillation, velocity and state validation, per parameter.
    fn guard_deltas(
        &mut self,
        iteration: u32,
        proposed: BTreeMap<String, f64>,
        params: &EngineParams,
        decision: &mut TuningDecision,
    ) -> BTreeMap<String, f64> {
        let mut deltas = BTreeMap::new();
        for (name, delta) in proposed {
            let Some(spec) = spec(&name) else { continue };
            if self.frozen_until.is_some_and(|until| iteration <= until) && FROZEN_ON_STABILITY.contains(&name.as_str()) {
                decision.guards.push(fired("freeze", &format!("{name} is frozen; change {delta:+} dropped")));
                continue;
            }
            let current = params.get_number(&name).unwrap_or(0.0);
            let mut target = round(spec, current + delta);
            let used = self.change_in_last_hour(&name, iteration);
            let allowance = (spec.max_change_per_hour - used).max(0.0);
            if (target - current).abs() > allowance + 1e-9 {
                let clipped = round(spec, current + (target - current).signum() * allowance);
                decision.guards.push(fired(
                    "velocity",
                    &format!(
                        "{name}: {:+} would exceed {} per hour ({used} used); clipped to {:+}",
                        target - current,
                        spec.max_change_per_hour,
                        clipped - current
                    ),
                ));
                target = clipped;
            }
            if (target - current).abs() < 1e-12 {
                continue;
            }
            if self.oscillates(&name, current, target) {
                decision.guards.push(fired(
                    "oscillation",
                    &format!(
                        "{name}: {current} -> {target} would return to a value of the last {} iterations (A->B->A)",
                        self.config.oscillation_window
                    ),
                ));
                continue;
            }
            if target < spec.min || target > spec.max {
                decision
                    .guards
                    .push(fired("state_validation", &format!("{name} = {target} refused: outside bounds [{}, {}]", spec.min, spec.max)));
                continue;
            }
            deltas.insert(name, target - current);
        }
        deltas
    }

    fn apply(
        &mut self,
        iteration: u32,
        deltas: BTreeMap<String, f64>,
        params: &EngineParams,
        mut decision: TuningDecision,
    ) -> (TuningDecision, EngineParams) {
        if deltas.is_empty() {
            return (decision, params.clone());
        }
        let signature = signature(&deltas);
        if self.last_signature.as_deref() == Some(signature.as_str()) {
            decision.guards.push(fired("idempotency", &format!("deltas {signature} were already applied; not applying them twice")));
            return (decision, params.clone());
        }
        let mut next = params.clone();
        let mut total_steps = 0.0;
        for (name, delta) in &deltas {
            let spec = spec(name).expect("guarded deltas name tuned parameters");
            let old = params.get_number(name).unwrap_or(0.0);
            let new = round(spec, old + delta);
            (EngineParams::spec(name).expect("tuned parameters are engine parameters").set)(&mut next, new);
            decision.applied.insert(name.clone(), (old, new));
            self.changes.entry(name.clone()).or_default().push_back((iteration, (new - old).abs()));
            total_steps += (new - old).abs() / spec.step;
        }
        if let Err(error) = next.validate() {
            decision.applied.clear();
            decision.guards.push(fired("state_validation", &format!("the combined change was refused by the engine: {error}")));
            return (decision, params.clone());
        }
        if total_steps >= self.config.cooldown_total_steps {
            let until = iteration + self.config.cooldown_iterations;
            self.cooldown_until = Some(until);
            decision
                .guards
                .push(fired("cooldown", &format!("large total change ({total_steps:.1} steps): observing until after iteration {until}")));
        }
        self.last_signature = Some(signature.clone());
        decision.signature = signature;
        (decision, next)
    }

    fn remember_values(&mut self, params: &EngineParams) {
        for spec in TUNED_PARAMS {
            let history = self.history.entry(spec.name.to_string()).or_default();
            history.push_back(params.get_number(spec.name).unwrap_or(0.0));
            while history.len() > self.config.oscillation_window {
                history.pop_front();
            }
        }
    }

    /// A→B→A: the move goes back to a value held within the window, away from a
    /// different value in between.
    fn oscillates(&self, name: &str, current: f64, target: f64) -> bool {
        let Some(history) = self.history.get(name) else { return false };
        history.iter().rev().skip(1).any(|past| (past - target).abs() < 1e-9 && (past - current).abs() > 1e-9)
    }

    fn change_in_last_hour(&mut self, name: &str, iteration: u32) -> f64 {
        let window = (3_600.0 / self.iteration_s).ceil().max(1.0) as u32;
        let changes = self.changes.entry(name.to_string()).or_default();
        while changes.front().is_some_and(|(at, _)| *at + window <= iteration) {
            changes.pop_front();
        }
        changes.iter().map(|(_, change)| change).sum()
    }
}

fn spec(name: &str) -> Option<&'static TunedParam> {
    TUNED_PARAMS.iter().find(|spec| spec.name == name)
}

fn round(spec: &TunedParam, value: f64) -> f64 {
    if spec.integer { value.round() } else { (value * 1e9).round() / 1e9 }
}

fn fired(guard: &str, detail: &str) -> GuardFired {
    GuardFired { guard: guard.to_string(), detail: detail.to_string() }
}

/// Signature of a set of deltas: BLAKE3 of `name=delta;` in name order, 16 hex digits.
pub fn signature(deltas: &BTreeMap<String, f64>) -> String {
    let text: String = deltas.iter().map(|(name, delta)| format!("{name}={delta};")).collect();
    blake3::hash(text.as_bytes()).to_hex()[..16].to_string()
}

/// The block reason with most decisions, if it is more than half of all blocks.
fn dominant_block(kpis: &IterationKpis) -> Option<&str> {
    let total: u64 = kpis.block_reasons.values().sum();
    let (reason, count) = kpis.block_reasons.iter().max_by_key(|(_, count)| **count)?;
    (total > 0 && *count * 2 > total).then_some(reason.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kpis(risk_ratio: f64, net_bps: f64, adverse_p95_bps: f64) -> IterationKpis {
        IterationKpis { risk_ratio, net_bps, adverse_p95_bps, ..IterationKpis::default() }
    }

    fn tuner() -> Tuner {
        let safe = EngineParams { base_spread_bps: 0.8, quote_size_lots: 6, min_interval_ms: 75, ..EngineParams::default() };
        Tuner::new(TunerConfig::default(), EngineParams::default(), ("steady_safe".to_string(), safe), 900.0)
    }

    #[test]
    fn aggressive_zone_moves_towards_safety_within_bounds() {
        let mut tuner = tuner();
        let params = EngineParams::default();
        let (decision, next) = tuner.decide(1, 10, &kpis(0.7, 1.0, 1.0), GateVerdict::Fail, &params);
        assert_eq!(decision.zone, RiskZone::Aggressive);
        assert!(next.base_spread_bps > params.base_spread_bps);
        assert!(next.quote_size_lots < params.quote_size_lots);
        assert!(!decision.signature.is_empty());
    }

    #[test]
    fn nothing_is_applied_on_the_final_iteration() {
        let mut tuner = tuner();
        let params = EngineParams::default();
        let (decision, next) = tuner.decide(6, 6, &kpis(0.7, 1.0, 1.0), GateVerdict::Fail, &params);
        assert_eq!(next, params);
        assert!(decision.guards.iter().any(|guard| guard.guard == "late_iteration"));
    }

    #[test]
    fn three_fails_revert_to_the_safe_profile() {
        let mut tuner = tuner();
        let mut params = EngineParams::default();
        let mut reverted = None;
        for iteration in 1..=3 {
            let (decision, next) = tuner.decide(iteration, 10, &kpis(0.2, 0.5, 1.0), GateVerdict::Fail, &params);
            params = next;
            reverted = decision.reverted_to.clone();
        }
        assert_eq!(reverted.as_deref(), Some("steady_safe"));
        assert_eq!(params.min_interval_ms, 75);
        assert_eq!(params.quote_size_lots, 6);
    }

    #[test]
    fn two_stable_iterations_freeze_the_sensitive_parameters() {
        let mut tuner = tuner();
        let params = EngineParams::default();
        let stable = kpis(0.1, 3.0, 1.0);
        tuner.decide(1, 10, &stable, GateVerdict::Pass, &params);
        let (decision, _) = tuner.decide(2, 10, &stable, GateVerdict::Pass, &params);
        assert!(
            decision.guards.iter().any(|guard| guard.guard == "freeze" && guard.detail.contains("through iteration 6")),
            "{:?}",
            decision.guards
        );
        let mut capped = kpis(0.1, 3.0, 1.0);
        capped.block_reasons.insert("impact_cap".to_string(), 100);
        let (decision, next) = tuner.decide(3, 10, &capped, GateVerdict::Pass, &params);
        assert_eq!(next.impact_cap_ratio, params.impact_cap_ratio);
        assert!(decision.guards.iter().any(|guard| guard.guard == "freeze" && guard.detail.contains("impact_cap_ratio")));
    }

    #[test]
    fn the_same_deltas_are_never_applied_twice() {
        let mut tuner = tuner();
        let hot = kpis(0.45, 1.0, 1.0);
        let (first, mut params) = tuner.decide(1, 200, &hot, GateVerdict::Warn, &EngineParams::default());
        assert!(!first.applied.is_empty());
        let after_first = params.clone();
        for iteration in 2..=101 {
            let (decision, next) = tuner.decide(iteration, 200, &hot, GateVerdict::Warn, &params);
            assert!(decision.applied.is_empty(), "iteration {iteration} applied {:?}", decision.applied);
            assert!(decision.guards.iter().any(|guard| guard.guard == "idempotency"));
            params = next;
        }
        assert_eq!(params, after_first);
    }

    #[test]
    fn oscillation_is_detected() {
        let mut tuner = tuner();
        let mut params = EngineParams { min_interval_ms: 60, ..EngineParams::default() };
        tuner.remember_values(&params);
        params.min_interval_ms = 80;
        tuner.remember_values(&params);
        assert!(tuner.oscillates("min_interval_ms", 80.0, 60.0), "60 -> 80 -> 60 is A->B->A");
        assert!(!tuner.oscillates("min_interval_ms", 80.0, 90.0));
    }

    #[test]
    fn velocity_clips_changes_within_an_hour() {
        let mut tuner = tuner();
        let mut params = EngineParams::default();
        let mut total = 0.0;
        for iteration in 1..=4 {
            let mut adverse = kpis(0.2, 1.0, 9.0);
            adverse.block_reasons.insert("impact_cap".to_string(), 10);
            let (_, next) = tuner.decide(iteration, 100, &adverse, GateVerdict::Warn, &params);
            total += (next.min_interval_ms - params.min_interval_ms).abs() as f64;
            params = next;
        }
        assert!(total <= 30.0, "min_interval_ms moved {total} ms within one hour");
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    fn kpis() -> impl Strategy<Value = (IterationKpis, GateVerdict)> {
        (0.0f64..1.0, -5.0f64..5.0, 0.0f64..10.0, 0.0f64..10.0, 0u64..1_000, 0u64..1_000, 0u8..3).prop_map(
            |(risk, net, adverse, slippage, impact, throttle, verdict)| {
                let mut block_reasons = BTreeMap::new();
                block_reasons.insert("impact_cap".to_string(), impact);
                block_reasons.insert("min_interval".to_string(), throttle);
                let kpis = IterationKpis {
                    risk_ratio: risk,
                    net_bps: net,
                    adverse_p95_bps: adverse,
                    slippage_p95_bps: slippage,
                    block_reasons,
                    ..IterationKpis::default()
                };
                (kpis, [GateVerdict::Pass, GateVerdict::Warn, GateVerdict::Fail][verdict as usize])
            },
        )
    }

    proptest! {
        #[test]
        fn tuner_stays_within_bounds_and_velocity(sequence in prop::collection::vec(kpis(), 1..60), iteration_s in prop::sample::select(vec![300.0, 900.0, 1_800.0])) {
            let safe = EngineParams { base_spread_bps: 0.8, quote_size_lots: 6, min_interval_ms: 75, ..EngineParams::default() };
            let mut tuner = Tuner::new(TunerConfig::default(), EngineParams::default(), ("steady_safe".to_string(), safe.clone()), iteration_s);
            let mut params = EngineParams::default();
            let window = (3_600.0 / iteration_s).ceil() as usize;
            let mut tuned_changes: Vec<BTreeMap<String, f64>> = Vec::new();
            let total = sequence.len() as u32;
            for (index, (kpis, verdict)) in sequence.iter().enumerate() {
                let (decision, next) = tuner.decide(index as u32 + 1, total, kpis, *verdict, &params);
                prop_assert!(next.validate().is_ok());
                let mut changes = BTreeMap::new();
                for spec in TUNED_PARAMS {
                    let value = next.get_number(spec.name).unwrap();
                    if decision.reverted_to.is_none() {
                        prop_assert!(value >= spec.min - 1e-9 && value <= spec.max + 1e-9 || value == params.get_number(spec.name).unwrap(),
                            "{} = {value} outside [{}, {}]", spec.name, spec.min, spec.max);
                        changes.insert(spec.name.to_string(), (value - params.get_number(spec.name).unwrap()).abs());
                    }
                }
                tuned_changes.push(changes);
                // Velocity: the sum of changes over any hour-long window of tuner moves.
                for spec in TUNED_PARAMS {
                    let recent: f64 = tuned_changes.iter().rev().take(window).filter_map(|changes| changes.get(spec.name)).sum();
                    prop_assert!(recent <= spec.max_change_per_hour + 1e-6, "{} moved {recent} within an hour", spec.name);
                }
                if decision.reverted_to.is_some() {
                    tuned_changes.clear();
                }
                params = next;
            }
        }
    }
}
