//! Target quotes: where the engine would like its bids and asks, before risk guards
//! and order management. A pure function of the parameters, the instrument and a
//! snapshot of market state, so it can be tested and benchmarked on its own.
//!
//! Models: Avellaneda–Stoikov reservation price `r = s − q·γ·σ²·τ` (or symmetric
//! `r = s`); total spread from the Avellaneda–Stoikov optimum
//! `γ·σ²·τ + (2/γ)·ln(1 + γ/k)` or vol-adaptive `max(min, base + mult·σ₁ₛ)` in bps;
//! an extra lean towards flat past the soft inventory limit; N levels per side with
//! spacing; sizes skewed with inventory and capped against the displayed touch
//! depth (`impact_cap_ratio`). Position limits, rate limits and open-order counts
//! are the engine's business, not this file's.

use crate::book::Touch;
use crate::params::{EngineParams, SkewMode, SpreadMode};
use crate::units::{Instrument, Lots, Side, Ticks};

/// Most quote levels per side (the bound of `levels_per_side`).
pub const MAX_LEVELS: usize = 10;

/// One quote: a price and a size.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct QuoteLevel {
    /// Price, ticks.
    pub price_ticks: Ticks,
    /// Size, lots.
    pub size_lots: Lots,
}

/// Market state the quote model reads.
#[derive(Copy, Clone, Debug)]
pub struct QuoteInputs {
    /// Fair value, fractional ticks.
    pub fair_value_ticks: f64,
    /// σ of the fair value, quote currency per √second.
    pub sigma_quote_per_sqrt_s: f64,
    /// Current position, lots.
    pub inventory_lots: Lots,
    /// Time to horizon τ, seconds.
    pub tau_s: f64,
    /// The market's touch.
    pub touch: Touch,
}

/// The quotes the model wants, best level first on each side.
#[derive(Copy, Clone, Debug, Default)]
pub struct QuotePlan {
    /// Reservation price, fractional ticks.
    pub reservation_ticks: f64,
    /// Half of the total quoted spread, fractional ticks.
    pub half_spread_ticks: f64,
    levels: [[QuoteLevel; MAX_LEVELS]; 2],
    counts: [usize; 2],
    /// True when the impact cap reduced or removed at least one level.
    pub impact_capped: bool,
}

impl QuotePlan {
    /// The wanted levels on `side`, best first.
    pub fn levels(&self, side: Side) -> &[QuoteLevel] {
        &self.levels[side.index()][..self.counts[side.index()]]
    }
}

/// Computes target quotes. Prices respect the tick grid (integers by construction)
/// and never cross the touch, so post-only orders at these prices rest.
pub fn plan_quotes(params: &EngineParams, instrument: &Instrument, inputs: &QuoteInputs) -> QuotePlan {
    let tick = instrument.tick_size;
    let fair_value = inputs.fair_value_ticks * tick;
    let reservation = reservation_price(params, instrument, inputs, fair_value);
    let half_spread = half_spread(params, inputs, fair_value);
    let spacing = (fair_value * params.level_spacing_bps / 10_000.0).max(tick);
    let mut plan = QuotePlan { reservation_ticks: reservation / tick, half_spread_ticks: half_spread / tick, ..QuotePlan::default() };
    let inventory_ratio = (inputs.inventory_lots as f64 / params.inventory_hard_lots as f64).clamp(-1.0, 1.0);
    for side in [Side::Buy, Side::Sell] {
        let size_factor = 1.0 - side.sign() as f64 * params.size_skew * inventory_ratio;
        let mut previous: Option<Ticks> = None;
        for level in 0..params.levels_per_side as usize {
            let offset = half_spread + level as f64 * spacing;
            let Some(price_ticks) = level_price(side, reservation, offset, tick, inputs.touch, previous) else {
                break;
            };
            previous = Some(price_ticks);
            let wanted = (params.quote_size_lots as f64 * params.level_size_mult.powi(level as i32) * size_factor).round();
            let cap = (params.impact_cap_ratio * inputs.touch.size(side) as f64).floor();
            if wanted > cap {
                plan.impact_capped = true;
            }
            let size_lots = wanted.min(cap) as Lots;
            if size_lots >= 1 {
                let index = side.index();
                plan.levels[index][plan.counts[index]] = QuoteLevel { price_ticks, size_lots };
                plan.counts[index] += 1;
            }
        }
    }
    plan
}

fn reservation_price(params: &EngineParams, instrument: &Instrument, inputs: &QuoteInputs, fair_value: f64) -> f64 {
    let inventory_lots = inputs.inventory_lots;
    let mut reservation = fair_value;
    if params.skew_mode == SkewMode::Inventory {
        let q = instrument.quantity(inventory_lots);
        let sigma = inputs.sigma_quote_per_sqrt_s;
        reservation -= q * params.gamma * sigma * sigma * inputs.tau_s;
    }
    let excess = inventory_lots.abs() - params.inventory_soft_lots;
    if excess > 0 {
        let room = (params.inventory_hard_lots - params.inventory_soft_lots).max(1) as f64;
        let lean_fraction = (excess as f64 / room).min(1.0);
        reservation -= inventory_lots.signum() as f64 * lean_fraction * params.inventory_lean_bps * fair_value / 10_000.0;
    }
    reservation
}

fn half_spread(params: &EngineParams, inputs: &QuoteInputs, fair_value: f64) -> f64 {
    let sigma = inputs.sigma_quote_per_sqrt_s;
    match params.spread_mode {
        SpreadMode::Optimal => {
            let gamma = params.gamma;
            (gamma * sigma * sigma * inputs.tau_s + (2.0 / gamma) * (1.0 + gamma / params.k).ln()) / 2.0
        }
        SpreadMode::VolAdaptive => {
            let sigma_bps = if fair_value > 0.0 { sigma / fair_value * 10_000.0 } else { 0.0 };
            let spread_bps = (params.base_spread_bps + params.vol_spread_mult * sigma_bps).max(params.min_spread_bps);
            fair_value * spread_bps / 20_000.0
        }
    }
}

/// Price of one level: rounded away from the reservation price, kept off the opposite
/// touch (post-only) and strictly behind the previous level of the same side.
fn level_price(side: Side, reservation: f64, offset: f64, tick: f64, touch: Touch, previous: Option<Ticks>) -> Option<Ticks> {
    let raw = match side {
        Side::Buy => ((reservation - offset) / tick).floor(),
        Side::Sell => ((reservation + offset) / tick).ceil(),
    };
    if !raw.is_finite() || raw.abs() > 1e15 {
        return None;
    }
    let mut price_ticks = raw as Ticks;
    match side {
        Side::Buy => {
            price_ticks = price_ticks.min(touch.ask_ticks - 1);
            if let Some(previous) = previous {
                price_ticks = price_ticks.min(previous - 1);
            }
        }
        Side::Sell => {
            price_ticks = price_ticks.max(touch.bid_ticks + 1);
            if let Some(previous) = previous {
                price_ticks = price_ticks.max(previous + 1);
            }
        }
    }
    (price_ticks > 0).then_some(price_ticks)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(inventory_lots: Lots) -> QuoteInputs {
        QuoteInputs {
            fair_value_ticks: 600_000.0,
            sigma_quote_per_sqrt_s: 6.0,
            inventory_lots,
            tau_s: 30.0,
            touch: Touch { bid_ticks: 599_999, bid_lots: 500, ask_ticks: 600_001, ask_lots: 500 },
        }
    }

    #[test]
    fn flat_inventory_quotes_symmetrically_with_spacing() {
        let params = EngineParams::default();
        let plan = plan_quotes(&params, &Instrument::default(), &inputs(0));
        let bids = plan.levels(Side::Buy);
        let asks = plan.levels(Side::Sell);
        assert_eq!((bids.len(), asks.len()), (2, 2));
        let fair = 600_000;
        assert_eq!(fair - bids[0].price_ticks, asks[0].price_ticks - fair);
        assert!(bids[1].price_ticks < bids[0].price_ticks && asks[1].price_ticks > asks[0].price_ticks);
        assert!(bids[1].size_lots > bids[0].size_lots, "outer levels are larger with level_size_mult > 1");
    }

    #[test]
    fn long_inventory_skews_quotes_down_and_shrinks_bids() {
        let params = EngineParams::default();
        let flat = plan_quotes(&params, &Instrument::default(), &inputs(0));
        let long = plan_quotes(&params, &Instrument::default(), &inputs(150));
        assert!(long.reservation_ticks < flat.reservation_ticks);
        assert!(long.levels(Side::Sell)[0].price_ticks < flat.levels(Side::Sell)[0].price_ticks);
        assert!(long.levels(Side::Buy)[0].size_lots < long.levels(Side::Sell)[0].size_lots);
    }

    #[test]
    fn symmetric_mode_ignores_inventory_below_soft_limit() {
        let params = EngineParams { skew_mode: SkewMode::Symmetric, ..EngineParams::default() };
        let plan = plan_quotes(&params, &Instrument::default(), &inputs(50));
        assert_eq!(plan.reservation_ticks, 600_000.0);
    }

    #[test]
    fn optimal_spread_matches_the_closed_form() {
        let params = EngineParams { spread_mode: SpreadMode::Optimal, gamma: 0.1, k: 1.5, ..EngineParams::default() };
        let instrument = Instrument { tick_size: 0.0001, lot_size: 1.0, ..Instrument::default() };
        let quote_inputs = QuoteInputs {
            fair_value_ticks: 1_000_000.0,
            sigma_quote_per_sqrt_s: 2.0,
            inventory_lots: 0,
            tau_s: 0.5,
            touch: Touch { bid_ticks: 999_999, bid_lots: 1_000_000, ask_ticks: 1_000_001, ask_lots: 1_000_000 },
        };
        let plan = plan_quotes(&params, &instrument, &quote_inputs);
        let expected_total = 0.1 * 4.0 * 0.5 + (2.0 / 0.1) * (1.0 + 0.1 / 1.5f64).ln();
        assert!((2.0 * plan.half_spread_ticks * 0.0001 - expected_total).abs() < 1e-9);
    }

    #[test]
    fn impact_cap_limits_size_against_touch_depth() {
        let params = EngineParams { impact_cap_ratio: 0.1, ..EngineParams::default() };
        let mut quote_inputs = inputs(0);
        quote_inputs.touch.bid_lots = 30;
        let plan = plan_quotes(&params, &Instrument::default(), &quote_inputs);
        assert!(plan.impact_capped);
        assert!(plan.levels(Side::Buy).iter().all(|level| level.size_lots <= 3));
    }

    #[test]
    fn quotes_never_cross_the_touch() {
        let params = EngineParams { base_spread_bps: 0.0, min_spread_bps: 0.0, ..EngineParams::default() };
        let plan = plan_quotes(&params, &Instrument::default(), &inputs(199));
        let touch = inputs(0).touch;
        assert!(plan.levels(Side::Buy).iter().all(|level| level.price_ticks < touch.ask_ticks));
        assert!(plan.levels(Side::Sell).iter().all(|level| level.price_ticks > touch.bid_ticks));
    }
}
