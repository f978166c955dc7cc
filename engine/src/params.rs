//! [`EngineParams`]: the engine's tunable parameters as plain data, with documented
//! units, and [`PARAM_SPECS`], the one table of bounds that validation, runtime
//! updates and (in the harness) the tuner all read.
//!
//! Defaults suit a liquid crypto pair on the default [`crate::Instrument`]
//! (BTCUSDT-like: tick 0.1, lot 0.001). This file does not decide anything; it only
//! holds and checks numbers.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::ParamError;

/// Where the fair value comes from.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FairValueMode {
    /// Midpoint of best bid and best ask.
    Mid,
    /// Size-weighted microprice: `(bid × ask_size + ask × bid_size) / (bid_size + ask_size)`.
    Microprice,
}

/// Whether quotes are centred on an inventory-skewed reservation price.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SkewMode {
    /// Avellaneda–Stoikov reservation price `r = s − q·γ·σ²·τ`.
    Inventory,
    /// No skew: quotes centred on the fair value (for comparison).
    Symmetric,
}

/// How wide the quoted spread is.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpreadMode {
    /// `max(min_spread_bps, base_spread_bps + vol_spread_mult × σ₁ₛ in bps)`.
    VolAdaptive,
    /// Avellaneda–Stoikov optimal total spread `γ·σ²·τ + (2/γ)·ln(1 + γ/k)`.
    Optimal,
}

/// How the time to horizon τ of the Avellaneda–Stoikov formulas is measured.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HorizonMode {
    /// τ is always `horizon_s` (a stationary, rolling horizon).
    Rolling,
    /// τ = `horizon_s` − time since the first event, floored at zero (a session end).
    Finite,
}

/// Where σ (volatility of the fair value) comes from.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VolatilitySource {
    /// EWMA of squared mid log-returns sampled each decision tick.
    Ewma,
    /// The constant `sigma_fixed` (quote currency per √s), as in a model with known σ.
    Fixed,
}

/// The engine's parameters. Units are in each field's name or doc. Bounds live in
/// [`PARAM_SPECS`]; [`EngineParams::validate`] checks them and the cross-field rules.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EngineParams {
    /// Fair value source.
    pub fair_value_mode: FairValueMode,
    /// Inventory skew or symmetric quoting.
    pub skew_mode: SkewMode,
    /// Spread model.
    pub spread_mode: SpreadMode,
    /// Rolling or finite Avellaneda–Stoikov horizon.
    pub horizon_mode: HorizonMode,
    /// EWMA-estimated or fixed σ.
    pub volatility_source: VolatilitySource,
    /// Avellaneda–Stoikov risk aversion γ, per quote-currency unit.
    pub gamma: f64,
    /// Avellaneda–Stoikov order-arrival decay k, per quote-currency unit of distance.
    pub k: f64,
    /// Avellaneda–Stoikov horizon, seconds.
    pub horizon_s: f64,
    /// σ used when `volatility_source = fixed`, quote currency per √second.
    pub sigma_fixed: f64,
    /// Half-life of the EWMA volatility estimate, seconds.
    pub vol_half_life_s: f64,
    /// Vol-adaptive mode: total spread at zero volatility, basis points of fair value.
    pub base_spread_bps: f64,
    /// Vol-adaptive mode: smallest total spread, basis points.
    pub min_spread_bps: f64,
    /// Vol-adaptive mode: extra spread bps per bp of one-second σ.
    pub vol_spread_mult: f64,
    /// Quote levels per side.
    pub levels_per_side: u32,
    /// Distance between successive levels of one side, basis points.
    pub level_spacing_bps: f64,
    /// Size of the innermost level, lots.
    pub quote_size_lots: i64,
    /// Size multiplier from one level to the next outer one.
    pub level_size_mult: f64,
    /// Size skew with inventory, 0..1: at the hard limit the increasing side shrinks by this fraction.
    pub size_skew: f64,
    /// A quote's size is capped at this ratio × the displayed depth at the same-side touch.
    pub impact_cap_ratio: f64,
    /// Minimum time between requotes, milliseconds.
    pub min_interval_ms: i64,
    /// Requote only when fair value moved by at least this fraction of the quoted half-spread.
    pub max_delta_ratio: f64,
    /// Inventory beyond which quotes lean towards flat, lots.
    pub inventory_soft_lots: i64,
    /// Inventory hard limit: no quote may take the position past it; beyond it, unwind, lots.
    pub inventory_hard_lots: i64,
    /// Extra lean at the hard limit (linear from the soft limit), basis points.
    pub inventory_lean_bps: f64,
    /// Largest absolute position value, quote currency.
    pub max_notional_quote: f64,
    /// Largest number of live orders.
    pub max_open_orders: u32,
    /// Largest number of new orders and replaces in any one-second window.
    pub max_orders_per_s: u32,
    /// Market data older than this pulls quotes and blocks new orders, milliseconds.
    pub md_stale_ms: i64,
    /// Window of the volatility circuit breaker, milliseconds.
    pub vol_breaker_window_ms: i64,
    /// Price range within the window that trips the volatility breaker, basis points.
    pub vol_breaker_bps: f64,
    /// Time the volatility breaker stays tripped at least, milliseconds.
    pub vol_breaker_cooldown_ms: i64,
    /// After cooldown, resume only when the window range is below this × `vol_breaker_bps`.
    pub vol_breaker_calm_ratio: f64,
    /// Window in which rejects and timeouts are counted, milliseconds.
    pub error_window_ms: i64,
    /// Rejects plus timeouts in the window that trip the error breaker.
    pub error_max_count: u32,
    /// First back-off after the error breaker trips, milliseconds (doubles per repeated trip).
    pub backoff_base_ms: i64,
    /// Longest back-off, milliseconds.
    pub backoff_max_ms: i64,
    /// Back-off jitter: ± this fraction, drawn from the engine's seeded stream.
    pub backoff_jitter_ratio: f64,
    /// An order or cancel without an answer after this long counts as a timeout, milliseconds.
    pub ack_timeout_ms: i64,
    /// Drawdown from the PnL peak that engages the kill switch, quote currency; 0 disables.
    pub max_drawdown_quote: f64,
    /// When killed, flatten the position with taker orders within the taker cap (else just stop).
    pub kill_flatten: bool,
    /// Taker volume may be at most this share of our traded volume, percent (the taker cap).
    pub max_taker_share_pct: f64,
    /// Largest single unwind (taker) order, lots.
    pub unwind_clip_lots: i64,
    /// Unwind orders are IOC limits this far through the opposite touch, basis points.
    pub taker_slippage_bps: f64,
    /// Period of the decision timer, milliseconds.
    pub decision_interval_ms: i64,
}

impl Default for EngineParams {
    fn default() -> Self {
        EngineParams {
            fair_value_mode: FairValueMode::Microprice,
            skew_mode: SkewMode::Inventory,
            spread_mode: SpreadMode::VolAdaptive,
            horizon_mode: HorizonMode::Rolling,
            volatility_source: VolatilitySource::Ewma,
            gamma: 0.02,
            k: 0.3,
            horizon_s: 30.0,
            sigma_fixed: 5.0,
            vol_half_life_s: 30.0,
            base_spread_bps: 0.4,
            min_spread_bps: 0.2,
            vol_spread_mult: 0.3,
            levels_per_side: 2,
            level_spacing_bps: 0.3,
            quote_size_lots: 10,
            level_size_mult: 1.5,
            size_skew: 0.5,
            impact_cap_ratio: 0.5,
            min_interval_ms: 100,
            max_delta_ratio: 0.25,
            inventory_soft_lots: 100,
            inventory_hard_lots: 200,
            inventory_lean_bps: 2.0,
            max_notional_quote: 20_000.0,
            max_open_orders: 8,
            max_orders_per_s: 20,
            md_stale_ms: 1_000,
            vol_breaker_window_ms: 1_000,
            vol_breaker_bps: 40.0,
            vol_breaker_cooldown_ms: 5_000,
            vol_breaker_calm_ratio: 0.5,
            error_window_ms: 10_000,
            error_max_count: 5,
            backoff_base_ms: 500,
            backoff_max_ms: 30_000,
            backoff_jitter_ratio: 0.2,
            ack_timeout_ms: 2_000,
            max_drawdown_quote: 500.0,
            kill_flatten: true,
            max_taker_share_pct: 9.0,
            unwind_clip_lots: 20,
            taker_slippage_bps: 5.0,
            decision_interval_ms: 100,
        }
    }
}

/// Whether a numeric parameter takes any real value or whole numbers only.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ParamKind {
    /// Any finite value in bounds.
    Real,
    /// A whole number in bounds.
    Integer,
}

/// One row of the bounds table: a numeric parameter, its unit, its bounds and
/// accessors, so validation and runtime updates share one definition.
#[derive(Copy, Clone)]
pub struct ParamSpec {
    /// Field name in [`EngineParams`] (and in scenario files).
    pub name: &'static str,
    /// Unit, for messages and reports.
    pub unit: &'static str,
    /// Real or integer.
    pub kind: ParamKind,
    /// Smallest allowed value.
    pub min: f64,
    /// Largest allowed value.
    pub max: f64,
    /// Reads the value as f64.
    pub get: fn(&EngineParams) -> f64,
    /// Writes the value (already checked).
    pub set: fn(&mut EngineParams, f64),
}

impl std::fmt::Debug for ParamSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} [{}, {}] {}", self.name, self.min, self.max, self.unit)
    }
}

impl ParamSpec {
    /// Checks `value` against this row's kind and bounds.
    pub fn check(&self, value: f64) -> Result<(), ParamError> {
        if !value.is_finite() || value < self.min || value > self.max {
            return Err(ParamError::OutOfRange { name: self.name, value, min: self.min, max: self.max, unit: self.unit });
        }
        if self.kind == ParamKind::Integer && value.fract() != 0.0 {
            return Err(ParamError::NotInteger { name: self.name, value, unit: self.unit });
        }
        Ok(())
    }
}

macro_rules! spec {
    ($name:ident, $kind:ident, $min:expr, $max:expr, $unit:expr) => {
        ParamSpec {
            name: stringify!($name),
            unit: $unit,
            kind: ParamKind::$kind,
            min: $min,
            max: $max,
            get: |p| p.$name as f64,
            set: |p, v| p.$name = v as _,
        }
    };
}

/// The one table of bounds for every numeric parameter.
pub const PARAM_SPECS: &[ParamSpec] = &[
    spec!(gamma, Real, 1e-9, 1e3, "1/quote"),
    spec!(k, Real, 1e-9, 1e9, "1/quote"),
    spec!(horizon_s, Real, 1e-3, 86_400.0, "s"),
    spec!(sigma_fixed, Real, 0.0, 1e9, "quote/sqrt(s)"),
    spec!(vol_half_life_s, Real, 0.1, 86_400.0, "s"),
    spec!(base_spread_bps, Real, 0.0, 1_000.0, "bps"),
    spec!(min_spread_bps, Real, 0.0, 1_000.0, "bps"),
    spec!(vol_spread_mult, Real, 0.0, 100.0, "bps/bps"),
    spec!(levels_per_side, Integer, 1.0, 10.0, "levels"),
    spec!(level_spacing_bps, Real, 0.0, 1_000.0, "bps"),
    spec!(quote_size_lots, Integer, 1.0, 1e12, "lots"),
    spec!(level_size_mult, Real, 0.1, 10.0, "ratio"),
    spec!(size_skew, Real, 0.0, 1.0, "ratio"),
    spec!(impact_cap_ratio, Real, 0.01, 1e6, "ratio"),
    spec!(min_interval_ms, Integer, 0.0, 60_000.0, "ms"),
    spec!(max_delta_ratio, Real, 0.0, 10.0, "ratio"),
    spec!(inventory_soft_lots, Integer, 0.0, 1e12, "lots"),
    spec!(inventory_hard_lots, Integer, 1.0, 1e12, "lots"),
    spec!(inventory_lean_bps, Real, 0.0, 1_000.0, "bps"),
    spec!(max_notional_quote, Real, 0.0, 1e15, "quote"),
    spec!(max_open_orders, Integer, 2.0, 1_000.0, "orders"),
    spec!(max_orders_per_s, Integer, 1.0, 100_000.0, "orders/s"),
    spec!(md_stale_ms, Integer, 1.0, 3_600_000.0, "ms"),
    spec!(vol_breaker_window_ms, Integer, 10.0, 3_600_000.0, "ms"),
    spec!(vol_breaker_bps, Real, 0.1, 10_000.0, "bps"),
    spec!(vol_breaker_cooldown_ms, Integer, 0.0, 3_600_000.0, "ms"),
    spec!(vol_breaker_calm_ratio, Real, 0.01, 1.0, "ratio"),
    spec!(error_window_ms, Integer, 1.0, 3_600_000.0, "ms"),
    spec!(error_max_count, Integer, 1.0, 1e6, "errors"),
    spec!(backoff_base_ms, Integer, 1.0, 3_600_000.0, "ms"),
    spec!(backoff_max_ms, Integer, 1.0, 3_600_000.0, "ms"),
    spec!(backoff_jitter_ratio, Real, 0.0, 1.0, "ratio"),
    spec!(ack_timeout_ms, Integer, 1.0, 3_600_000.0, "ms"),
    spec!(max_drawdown_quote, Real, 0.0, 1e15, "quote"),
    spec!(max_taker_share_pct, Real, 0.0, 100.0, "%"),
    spec!(unwind_clip_lots, Integer, 1.0, 1e12, "lots"),
    spec!(taker_slippage_bps, Real, 0.0, 10_000.0, "bps"),
    spec!(decision_interval_ms, Integer, 1.0, 60_000.0, "ms"),
];

/// A value for a runtime parameter update: a number for numeric parameters, a
/// choice name for mode parameters, a flag for booleans.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ParamValue {
    /// A numeric value.
    Number(f64),
    /// A boolean flag.
    Flag(bool),
    /// A choice by name, e.g. `"microprice"`.
    Choice(String),
}

impl EngineParams {
    /// Looks up a numeric parameter's row in the bounds table.
    pub fn spec(name: &str) -> Option<&'static ParamSpec> {
        PARAM_SPECS.iter().find(|spec| spec.name == name)
    }

    /// Reads a numeric parameter by name.
    pub fn get_number(&self, name: &str) -> Option<f64> {
        Self::spec(name).map(|spec| (spec.get)(self))
    }

    /// Checks every numeric parameter against its bounds, then the cross-field rules.
    pub fn validate(&self) -> Result<(), ParamError> {
        for spec in PARAM_SPECS {
            spec.check((spec.get)(self))?;
        }
        let ordered: [(&'static str, f64, &'static str, f64); 2] = [
            ("inventory_soft_lots", self.inventory_soft_lots as f64, "inventory_hard_lots", self.inventory_hard_lots as f64),
            ("backoff_base_ms", self.backoff_base_ms as f64, "backoff_max_ms", self.backoff_max_ms as f64),
        ];
        for (lower, lower_value, upper, upper_value) in ordered {
            if lower_value > upper_value {
                return Err(ParamError::Ordering { lower, lower_value, upper, upper_value });
            }
        }
        Ok(())
    }

    /// Returns a copy with `changes` applied and validated as a whole; `self` is untouched
    /// when any change is refused, so an update is all or nothing.
    pub fn with_changes(&self, changes: &BTreeMap<String, ParamValue>) -> Result<EngineParams, ParamError> {
        let mut next = self.clone();
        for (name, value) in changes {
            next.set_one(name, value)?;
        }
        next.validate()?;
        Ok(next)
    }

    fn set_one(&mut self, name: &str, value: &ParamValue) -> Result<(), ParamError> {
        if let Some(spec) = Self::spec(name) {
            let ParamValue::Number(number) = value else {
                return Err(bad_choice(name, value, "a number"));
            };
            spec.check(*number)?;
            (spec.set)(self, *number);
            return Ok(());
        }
        match (name, value) {
            ("kill_flatten", ParamValue::Flag(flag)) => self.kill_flatten = *flag,
            ("fair_value_mode", ParamValue::Choice(choice)) => self.fair_value_mode = parse_choice(name, choice)?,
            ("skew_mode", ParamValue::Choice(choice)) => self.skew_mode = parse_choice(name, choice)?,
            ("spread_mode", ParamValue::Choice(choice)) => self.spread_mode = parse_choice(name, choice)?,
            ("horizon_mode", ParamValue::Choice(choice)) => self.horizon_mode = parse_choice(name, choice)?,
            ("volatility_source", ParamValue::Choice(choice)) => self.volatility_source = parse_choice(name, choice)?,
            (known, other) if CHOICE_PARAMS.iter().any(|(param, _)| *param == known) => {
                let allowed = CHOICE_PARAMS.iter().find(|(param, _)| *param == known).map(|(_, a)| *a).unwrap_or("");
                return Err(bad_choice(name, other, allowed));
            }
            _ => {
                let mut known: Vec<&str> = PARAM_SPECS.iter().map(|spec| spec.name).collect();
                known.extend(CHOICE_PARAMS.iter().map(|(param, _)| *param));
                return Err(ParamError::Unknown { name: name.to_string(), known: known.join(", ") });
            }
        }
        Ok(())
    }
}

/// Non-numeric parameters and the values they accept.
pub const CHOICE_PARAMS: &[(&str, &str)] = &[
    ("fair_value_mode", "mid, microprice"),
    ("skew_mode", "inventory, symmetric"),
    ("spread_mode", "vol_adaptive, optimal"),
    ("horizon_mode", "rolling, finite"),
    ("volatility_source", "ewma, fixed"),
    ("kill_flatten", "true, false"),
];

fn parse_choice<T: serde::de::DeserializeOwned>(name: &str, choice: &str) -> Result<T, ParamError> {
    T::deserialize(serde::de::value::StrDeserializer::<serde::de::value::Error>::new(choice)).map_err(|_| {
        let allowed = CHOICE_PARAMS.iter().find(|(param, _)| *param == name).map(|(_, a)| *a).unwrap_or("");
        ParamError::BadChoice { name: name.to_string(), value: choice.to_string(), allowed: allowed.to_string() }
    })
}

fn bad_choice(name: &str, value: &ParamValue, allowed: &str) -> ParamError {
    let value = match value {
        ParamValue::Number(number) => number.to_string(),
        ParamValue::Flag(flag) => flag.to_string(),
        ParamValue::Choice(choice) => choice.clone(),
    };
    ParamError::BadChoice { name: name.to_string(), value, allowed: allowed.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        EngineParams::default().validate().unwrap();
    }

    #[test]
    fn every_spec_reads_its_own_field() {
        let params = EngineParams::default();
        for spec in PARAM_SPECS {
            let value = (spec.get)(&params);
            let mut copy = params.clone();
            (spec.set)(&mut copy, value);
            assert_eq!(copy, params, "{} does not round-trip", spec.name);
        }
    }

    #[test]
    fn out_of_range_names_field_value_and_bounds() {
        let params = EngineParams { impact_cap_ratio: 0.0, ..EngineParams::default() };
        let message = params.validate().unwrap_err().to_string();
        assert!(message.contains("impact_cap_ratio") && message.contains("0.01"), "{message}");
    }

    #[test]
    fn cross_field_rule_is_checked() {
        let params = EngineParams { inventory_soft_lots: 500, ..EngineParams::default() };
        let message = params.validate().unwrap_err().to_string();
        assert!(message.contains("inventory_soft_lots") && message.contains("inventory_hard_lots"), "{message}");
    }

    #[test]
    fn updates_are_all_or_nothing() {
        let params = EngineParams::default();
        let mut changes = BTreeMap::new();
        changes.insert("min_interval_ms".to_string(), ParamValue::Number(250.0));
        changes.insert("levels_per_side".to_string(), ParamValue::Number(2.5));
        assert!(matches!(params.with_changes(&changes), Err(ParamError::NotInteger { .. })));
        changes.remove("levels_per_side");
        changes.insert("fair_value_mode".to_string(), ParamValue::Choice("mid".to_string()));
        let next = params.with_changes(&changes).unwrap();
        assert_eq!(next.min_interval_ms, 250);
        assert_eq!(next.fair_value_mode, FairValueMode::Mid);
    }

    #[test]
    fn unknown_and_bad_choice_say_what_is_allowed() {
        let params = EngineParams::default();
        let mut changes = BTreeMap::new();
        changes.insert("no_such_param".to_string(), ParamValue::Number(1.0));
        let message = params.with_changes(&changes).unwrap_err().to_string();
        assert!(message.contains("min_interval_ms"), "{message}");
        let mut changes = BTreeMap::new();
        changes.insert("spread_mode".to_string(), ParamValue::Choice("wide".to_string()));
        let message = params.with_changes(&changes).unwrap_err().to_string();
        assert!(message.contains("vol_adaptive, optimal"), "{message}");
    }
}
