//! The market generator: the other participants. A fundamental price follows a log
//! jump-diffusion whose volatility switches between calm and stressed regimes (fat
//! tails, volatility clustering). Around it, participants add limit orders at
//! distances decaying geometrically from the touch (or join the level nearest to
//! such a price), cancel, pull quotes left on the wrong side of the fundamental (or
//! move the quotes, all or those near the touch, with it), and send market orders
//! whose arrivals are a Hawkes process and whose sizes are Pareto or lognormal.
//! Limit orders priced through the opposite touch trade first, so the mid follows
//! the fundamental by trading.
//!
//! Injected events bend this: volatility spikes scale σ, liquidity gaps thin and
//! slowly refill depth near the touch, flash crashes withdraw depth and then let
//! aggressive flow sweep the thinned book along the crash path (each step of the
//! fall, panic sellers take everything resting above the path). The generator acts
//! on the exchange only through the exchange's own entry points; it never writes
//! the mid.

pub mod hawkes;
pub mod injections;
pub mod random_walk;

use drydock_engine::units::NANOS_PER_S;
use drydock_engine::{Lots, Nanos, Side, Ticks};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Exp1, StandardNormal};

use crate::config::{InjectedEvent, MarketConfig, MarketSizeModel};
use crate::exchange::{ExchangeOutput, MockExchange};
use crate::rng::SeedRoot;
use hawkes::Hawkes;
use injections::{Injections, gap_sides};

const SECONDS_PER_YEAR: f64 = 365.25 * 86_400.0;

/// Others' levels farther than this many depth-decay lengths from the fundamental
/// are cleaned up each step (keeps memory flat in run length).
const CLEANUP_DECAY_LENGTHS: f64 = 25.0;

/// The other participants.
pub struct MarketGenerator {
    config: MarketConfig,
    injections: Injections,
    log_base_price: f64,
    /// `exp(log_base_price) / tick_size`, kept in step with `log_base_price`.
    base_fundamental_ticks: f64,
    stressed: bool,
    hawkes: Hawkes,
    price_rng: ChaCha8Rng,
    limit_rng: ChaCha8Rng,
    cancel_rng: ChaCha8Rng,
    flow_rng: ChaCha8Rng,
    distance_draw: GeometricDraw,
    size_draw: GeometricDraw,
    step_chances: StepChances,
    stats: GeneratorStats,
    /// The whole-tick fundamental the others' quotes were last placed around
    /// (`quotes_follow_fundamental`).
    quoted_anchor_ticks: Ticks,
    /// Others' levels being moved (kept to spare an allocation per step).
    moving_levels: Vec<(Ticks, Lots)>,
}

/// Per-step probabilities, fixed by the configuration (computed once, not per step).
#[derive(Copy, Clone, Debug)]
struct StepChances {
    /// A jump in one step.
    jump: f64,
    /// Calm → stressed in one step.
    stress_starts: f64,
    /// Stressed → calm in one step.
    stress_ends: f64,
}

impl StepChances {
    fn new(config: &MarketConfig) -> Self {
        let dt_s = config.step_ms as f64 / 1_000.0;
        StepChances {
            jump: 1.0 - (-config.jumps_per_hour * dt_s / 3_600.0).exp(),
            stress_starts: 1.0 - (-config.stress_per_hour * dt_s / 3_600.0).exp(),
            stress_ends: 1.0 - (-dt_s / (config.stress_mean_minutes * 60.0)).exp(),
        }
    }
}

/// Counts of what the generator did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GeneratorStats {
    /// Limit orders placed (accepted by the gap filter).
    pub limit_orders: u64,
    /// Cancels.
    pub cancels: u64,
    /// Market orders.
    pub market_orders: u64,
    /// Fundamental steps.
    pub steps: u64,
    /// Steps spent in the stressed regime.
    pub stressed_steps: u64,
}

impl MarketGenerator {
    /// A generator for `config` and the scenario's `events`, drawing from its own
    /// named streams of `root`.
    pub fn new(config: &MarketConfig, events: &[InjectedEvent], root: &SeedRoot) -> Self {
        let base_fundamental_ticks = config.initial_price.ln().exp() / config.instrument.tick_size;
        MarketGenerator {
            config: config.clone(),
            injections: Injections::new(events),
            log_base_price: config.initial_price.ln(),
            base_fundamental_ticks,
            stressed: false,
            hawkes: Hawkes::default(),
            price_rng: root.stream("market.price"),
            limit_rng: root.stream("market.limits"),
            cancel_rng: root.stream("market.cancels"),
            flow_rng: root.stream("market.flow"),
            distance_draw: geometric_with_mean(config.depth_decay_ticks),
            size_draw: geometric_with_mean(config.limit_size_lots - 1.0),
            step_chances: StepChances::new(config),
            stats: GeneratorStats::default(),
            quoted_anchor_ticks: base_fundamental_ticks.floor() as Ticks,
            moving_levels: Vec::new(),
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> &GeneratorStats {
        &self.stats
    }

    /// The injected-event schedule.
    pub fn injections(&self) -> &Injections {
        &self.injections
    }

    /// Fundamental price at `now_ns` in fractional ticks.
    pub fn fundamental_ticks(&self, now_ns: Nanos) -> f64 {
        let crash_log_offset = self.injections.crash_log_offset(now_ns);
        if crash_log_offset == 0.0 {
            // exp(x + 0) is exp(x): the same value without the exponential.
            return self.base_fundamental_ticks;
        }
        (self.log_base_price + crash_log_offset).exp() / self.config.instrument.tick_size
    }

    /// Builds the starting book: `initial_levels` a side, depth decaying from the touch.
    pub fn seed_book(&mut self, exchange: &mut MockExchange, out: &mut ExchangeOutput) {
        let anchor = self.fundamental_ticks(0).floor() as Ticks;
        for level in 0..self.config.initial_levels {
            let lots = ((self.config.initial_touch_lots as f64) * (-(level as f64) / self.config.depth_decay_ticks).exp()).round().max(1.0)
                as Lots;
            exchange.others_limit(Side::Buy, anchor - level, lots, out);
            exchange.others_limit(Side::Sell, anchor + 1 + level, lots, out);
        }
    }

    /// Advances the fundamental by one step, moves the quotes with it (when they
    /// follow) or pulls stale ones, and cleans far levels.
    pub fn step(&mut self, now_ns: Nanos, exchange: &mut MockExchange, out: &mut ExchangeOutput) {
        self.stats.steps += 1;
        let dt_s = self.config.step_ms as f64 / 1_000.0;
        self.switch_regime();
        let regime_mult = if self.stressed { self.config.stressed_volatility_mult } else { 1.0 };
        let sigma = self.config.volatility_annual / SECONDS_PER_YEAR.sqrt() * regime_mult * self.injections.volatility_multiplier(now_ns);
        let drift = self.config.drift_annual / SECONDS_PER_YEAR;
        let normal: f64 = StandardNormal.sample(&mut self.price_rng);
        let mut log_return = (drift - sigma * sigma / 2.0) * dt_s + sigma * dt_s.sqrt() * normal;
        if self.price_rng.random::<f64>() < self.step_chances.jump {
            let jump: f64 = StandardNormal.sample(&mut self.price_rng);
            log_return += jump * self.config.jump_std_bps / 10_000.0;
        }
        self.log_base_price += log_return;
        self.base_fundamental_ticks = self.log_base_price.exp() / self.config.instrument.tick_size;
        let fundamental = self.fundamental_ticks(now_ns);
        if let Some(swept) = self.injections.crash_swept_side(now_ns) {
            // Panic flow keeps pace with the collapse: everything resting beyond the
            // crash path is swept (by trading; the mid is never written).
            let limit_ticks = match swept {
                Side::Buy => fundamental.ceil() as Ticks,
                Side::Sell => fundamental.floor() as Ticks,
            };
            exchange.others_sweep_to(swept.opposite(), limit_ticks, out);
        }
        if self.config.quotes_follow_fundamental {
            // Quotes that follow wait out a halt where they are (neither moved nor pulled).
            if exchange.is_halted() {
                self.clean_far_levels(exchange, out);
                return;
            }
            self.follow_fundamental(now_ns, fundamental, exchange, out);
        }
        self.pull_stale_quotes(now_ns, fundamental, exchange, out);
        self.clean_far_levels(exchange, out);
    }

    /// Places one limit order; returns when the next one arrives.
    pub fn limit_arrival(&mut self, now_ns: Nanos, exchange: &mut MockExchange, out: &mut ExchangeOutput) -> Nanos {
        let side = if self.limit_rng.random::<bool>() { Side::Buy } else { Side::Sell };
        let distance = geometric(&mut self.limit_rng, &self.distance_draw);
        let size_lots = 1 + geometric(&mut self.limit_rng, &self.size_draw);
        let anchor = self.fundamental_ticks(now_ns).floor() as Ticks;
        let mut price_ticks = match side {
            Side::Buy => anchor - distance,
            Side::Sell => anchor + 1 + distance,
        };
        // No draw when every order opens its own level, so the stream stays as it was
        // without the setting. An order priced through the opposite touch trades at its
        // own price: joining is for orders that rest.
        if self.config.limit_new_level_share < 1.0
            && self.limit_rng.random::<f64>() >= self.config.limit_new_level_share
            && !exchange.book().would_cross(side, price_ticks)
        {
            price_ticks = exchange.book().nearest_price(side, price_ticks).unwrap_or(price_ticks);
        }
        let levels_from_touch = match (side, exchange.book().best(side)) {
            (Side::Buy, Some(best)) => best - price_ticks,
            (Side::Sell, Some(best)) => price_ticks - best,
            (_, None) => 0,
        };
        let acceptance = self.injections.gap_acceptance(now_ns, side, levels_from_touch.max(0));
        let draw: f64 = self.limit_rng.random();
        if draw < acceptance {
            self.stats.limit_orders += 1;
            exchange.others_limit(side, price_ticks, size_lots, out);
        }
        now_ns.saturating_add(exponential_ns(&mut self.limit_rng, self.config.limit_rate_per_s))
    }

    /// Cancels part of one level; returns when the next cancel arrives.
    pub fn cancel_arrival(&mut self, now_ns: Nanos, exchange: &mut MockExchange, out: &mut ExchangeOutput) -> Nanos {
        let side = if self.cancel_rng.random::<bool>() { Side::Buy } else { Side::Sell };
        let levels = exchange.book().level_count(side);
        let index = geometric(&mut self.cancel_rng, &self.distance_draw) as usize;
        let fraction: f64 = self.cancel_rng.random_range(0.1..=1.0);
        if levels > 0
            && let Some((price_ticks, total_lots)) = exchange.book().level_at_index(side, index.min(levels - 1))
        {
            let size_lots = (total_lots as f64 * fraction).ceil() as Lots;
            self.stats.cancels += 1;
            exchange.others_cancel(side, price_ticks, size_lots, out);
        }
        if self.config.cancel_rate_per_s <= 0.0 {
            return Nanos::MAX;
        }
        now_ns.saturating_add(exponential_ns(&mut self.cancel_rng, self.config.cancel_rate_per_s))
    }

    /// Sends one market order (the Hawkes arrival at `now_ns`).
    pub fn market_arrival(&mut self, now_ns: Nanos, exchange: &mut MockExchange, out: &mut ExchangeOutput) {
        self.hawkes.on_arrival(now_ns, &self.config.hawkes_kernels());
        let mid = exchange.book().mid_ticks().unwrap_or_else(|| self.fundamental_ticks(now_ns));
        let gap_ticks = self.fundamental_ticks(now_ns) - mid;
        let share = self.config.buy_flow_share;
        let log_odds = self.config.flow_bias_per_tick * gap_ticks + (share / (1.0 - share)).ln();
        let buy_probability = 1.0 / (1.0 + (-log_odds).exp());
        let side = if self.flow_rng.random::<f64>() < buy_probability { Side::Buy } else { Side::Sell };
        let size_lots = self.market_order_size_lots();
        self.stats.market_orders += 1;
        exchange.others_market(side, size_lots, out);
    }

    /// One market order's size: Pareto or lognormal, cut to the smallest and largest.
    fn market_order_size_lots(&mut self) -> Lots {
        let config = &self.config;
        let size = match config.market_size_model {
            MarketSizeModel::Pareto => {
                let uniform: f64 = 1.0 - self.flow_rng.random::<f64>();
                config.market_size_min_lots as f64 * uniform.powf(-1.0 / config.market_size_pareto_alpha)
            }
            MarketSizeModel::Lognormal => {
                let normal: f64 = StandardNormal.sample(&mut self.flow_rng);
                config.market_size_median_lots * (config.market_size_sigma * normal).exp()
            }
        };
        // `as` saturates: a size beyond i64 (an extreme draw) is cut to the largest.
        (size.round() as Lots).clamp(config.market_size_min_lots, config.market_size_max_lots)
    }

    /// The next market-order arrival after `now_ns`, by thinning.
    pub fn next_market_arrival(&mut self, now_ns: Nanos) -> Option<Nanos> {
        let baseline = self.config.market_rate_per_s * self.injections.flow_multiplier(now_ns);
        self.hawkes.next_arrival(now_ns, baseline, &self.config.hawkes_kernels(), &mut self.flow_rng)
    }

    /// One-shot action at an injected event's start: a crash withdraws depth from
    /// the side it will sweep; a gap removes depth near the touch.
    pub fn on_event_start(&mut self, event: &InjectedEvent, exchange: &mut MockExchange, out: &mut ExchangeOutput) {
        match *event {
            InjectedEvent::FlashCrash { side, depth_withdrawn, .. } => {
                let swept = side.opposite();
                let prices = exchange.book().prices_within_ticks(swept, Ticks::MAX / 4);
                thin_levels(exchange, swept, &prices, depth_withdrawn, out);
            }
            InjectedEvent::LiquidityGap { sides, depth_multiplier, levels, .. } => {
                for side in gap_sides(sides) {
                    let prices = exchange.book().prices_within_ticks(side, levels);
                    thin_levels(exchange, side, &prices, 1.0 - depth_multiplier, out);
                }
            }
            _ => {}
        }
    }

    fn switch_regime(&mut self) {
        let draw: f64 = self.price_rng.random();
        let switch_probability = if self.stressed { self.step_chances.stress_ends } else { self.step_chances.stress_starts };
        if draw < switch_probability {
            self.stressed = !self.stressed;
        }
        if self.stressed {
            self.stats.stressed_steps += 1;
        }
    }

    /// Participants move their quotes by the whole ticks the fundamental moved since
    /// they last placed them, each side's levels in one go (all cancelled, then all
    /// posted again), the side the price moves towards first, so no moved quote meets
    /// another participant's. With `follow_depth_ticks`, only the levels within that
    /// many ticks of their side's best price move (on the side the price moves
    /// towards, that many plus the shift, so the levels left behind lie beyond where
    /// the other side arrives); a moved level landing on one left behind joins it.
    /// A moved quote that reaches one of ours trades with it, as a re-quote through
    /// a stale order does. Nothing moves on the side a crash is sweeping (there,
    /// aggressive flow must take the quotes); during a halt the step does not call
    /// this, and the book catches up at the first step after it.
    fn follow_fundamental(&mut self, now_ns: Nanos, fundamental: f64, exchange: &mut MockExchange, out: &mut ExchangeOutput) {
        let anchor_ticks = fundamental.floor() as Ticks;
        let shift_ticks = anchor_ticks - self.quoted_anchor_ticks;
        if shift_ticks == 0 {
            return;
        }
        self.quoted_anchor_ticks = anchor_ticks;
        let swept = self.injections.crash_swept_side(now_ns);
        let sides = if shift_ticks > 0 { [Side::Sell, Side::Buy] } else { [Side::Buy, Side::Sell] };
        let mut moving = std::mem::take(&mut self.moving_levels);
        for (order, side) in sides.into_iter().enumerate().filter(|(_, side)| swept != Some(*side)) {
            moving.clear();
            // The side the price moves towards (moved first) takes the shift's ticks
            // more, so the quotes it leaves lie beyond where the other side arrives.
            let depth_ticks = match self.config.follow_depth_ticks {
                depth_ticks if depth_ticks <= 0.0 => f64::INFINITY,
                depth_ticks if order == 0 => depth_ticks + shift_ticks.abs() as f64,
                depth_ticks => depth_ticks,
            };
            let best = exchange.book().best(side).unwrap_or(0);
            let near = |price_ticks: Ticks| (side.sign() * (best - price_ticks)) as f64 <= depth_ticks;
            moving.extend(exchange.book().others_levels(side).filter(|&(price_ticks, _)| near(price_ticks)));
            for &(price_ticks, size_lots) in &moving {
                exchange.others_cancel(side, price_ticks, size_lots, out);
            }
            for &(price_ticks, size_lots) in &moving {
                exchange.others_limit(side, price_ticks + shift_ticks, size_lots, out);
            }
        }
        self.moving_levels = moving;
    }

    /// Participants pull quotes left on the wrong side of the fundamental, except on
    /// the side a crash is sweeping (there, aggressive flow must take them).
    fn pull_stale_quotes(&mut self, now_ns: Nanos, fundamental: f64, exchange: &mut MockExchange, out: &mut ExchangeOutput) {
        let swept = self.injections.crash_swept_side(now_ns);
        let slack = self.config.stale_slack_ticks as f64;
        for side in [Side::Buy, Side::Sell] {
            if swept == Some(side) {
                continue;
            }
            while let Some(best) = exchange.book().best(side) {
                let stale = match side {
                    Side::Buy => best as f64 > fundamental + slack,
                    Side::Sell => (best as f64) < fundamental - slack,
                };
                if !stale {
                    break;
                }
                let others = exchange.book().total_at(side, best);
                if exchange.others_cancel(side, best, others, out) == 0 {
                    break;
                }
            }
        }
    }

    /// Drops others' levels far behind their own side's best price (never the best
    /// level, so the cleanup cannot move the price or empty a side).
    fn clean_far_levels(&mut self, exchange: &mut MockExchange, out: &mut ExchangeOutput) {
        let reach = CLEANUP_DECAY_LENGTHS * self.config.depth_decay_ticks;
        for side in [Side::Buy, Side::Sell] {
            while let (Some(best), Some(worst)) = (exchange.book().best(side), exchange.book().worst(side)) {
                let behind = (side.sign() * (best - worst)) as f64;
                if behind <= reach {
                    break;
                }
                let others = exchange.book().total_at(side, worst);
                if exchange.others_cancel(side, worst, others, out) == 0 {
                    break;
                }
            }
        }
    }
}

/// Removes `fraction` of the size at each of `prices` on `side` (others' only).
fn thin_levels(exchange: &mut MockExchange, side: Side, prices: &[Ticks], fraction: f64, out: &mut ExchangeOutput) {
    for &price_ticks in prices {
        let size_lots = (exchange.book().total_at(side, price_ticks) as f64 * fraction).round() as Lots;
        exchange.others_cancel(side, price_ticks, size_lots, out);
    }
}

/// The geometric distribution on {0, 1, 2, …} (failures before a success), drawn
/// by inverting its distribution function: one uniform and one logarithm per draw,
/// where rejection samplers take several of each.
#[derive(Copy, Clone, Debug)]
struct GeometricDraw {
    /// ln(1 − p), ≤ 0 (−∞ when p = 1: every draw is 0).
    ln_failure: f64,
}

/// A geometric draw on {0, 1, 2, …} (failures before a success).
fn geometric(rng: &mut ChaCha8Rng, distribution: &GeometricDraw) -> i64 {
    // P(K ≥ k) = (1 − p)^k, so K = ⌊ln U / ln(1 − p)⌋ for U uniform on (0, 1].
    let uniform = 1.0 - rng.random::<f64>();
    let draw = (uniform.ln() / distribution.ln_failure).floor();
    // `as` saturates: an astronomically rare huge draw becomes i64::MAX.
    if draw > 0.0 { draw as i64 } else { 0 }
}

/// The geometric distribution on {0, 1, 2, …} with mean `mean` (0 when the mean is 0).
fn geometric_with_mean(mean: f64) -> GeometricDraw {
    let success = 1.0 / (1.0 + mean.max(0.0));
    GeometricDraw { ln_failure: (1.0 - success).ln() }
}

/// An exponential waiting time for a Poisson process of `rate_per_s`, in ns (≥ 1).
fn exponential_ns(rng: &mut ChaCha8Rng, rate_per_s: f64) -> Nanos {
    let exponential: f64 = Exp1.sample(rng);
    ((exponential / rate_per_s * NANOS_PER_S as f64).ceil() as Nanos).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exchange::BpsFees;
    use drydock_engine::port::{NewOrder, TimeInForce};
    use drydock_engine::{ClientOrderId, Command, Instrument, VenueReport};

    fn setup(config: &MarketConfig) -> (MarketGenerator, MockExchange) {
        let root = SeedRoot::new(5);
        let generator = MarketGenerator::new(config, &[], &root);
        let exchange = MockExchange::new(Instrument::default(), BpsFees { maker_bps: 0.0, taker_bps: 0.0 }, 100, root.stream("exchange"));
        (generator, exchange)
    }

    #[test]
    fn seeded_book_is_two_sided_around_the_initial_price() {
        let config = MarketConfig::default();
        let (mut generator, mut exchange) = setup(&config);
        let mut out = ExchangeOutput::default();
        generator.seed_book(&mut exchange, &mut out);
        let mid = exchange.book().mid_ticks().unwrap() * config.instrument.tick_size;
        assert!((mid - config.initial_price).abs() < 1.0, "{mid}");
        assert_eq!(exchange.book().level_count(Side::Buy), config.initial_levels as usize);
    }

    /// A market whose fundamental moves ~200 ticks a step, about ten times the depth
    /// of its seeded book, with no flow but the steps.
    fn fast_market(quotes_follow_fundamental: bool) -> MarketConfig {
        MarketConfig {
            volatility_annual: 6.0,
            stress_per_hour: 0.0,
            jumps_per_hour: 0.0,
            initial_levels: 20,
            depth_decay_ticks: 3.0,
            quotes_follow_fundamental,
            ..MarketConfig::default()
        }
    }

    #[test]
    fn quotes_that_follow_the_fundamental_keep_the_book_around_it_where_pulling_empties_sides() {
        let mut one_sided_steps = [0; 2];
        let mut paths = [Vec::new(), Vec::new()];
        for (mode, follow) in [true, false].into_iter().enumerate() {
            let (mut generator, mut exchange) = setup(&fast_market(follow));
            let mut out = ExchangeOutput::default();
            generator.seed_book(&mut exchange, &mut out);
            for step in 1..=200 {
                let now_ns = step * 100 * drydock_engine::units::NANOS_PER_MS;
                generator.step(now_ns, &mut exchange, &mut out);
                let anchor = generator.fundamental_ticks(now_ns).floor() as Ticks;
                let book = exchange.book();
                paths[mode].push(anchor);
                if book.best(Side::Buy).is_none() || book.best(Side::Sell).is_none() {
                    one_sided_steps[mode] += 1;
                }
                if follow {
                    // The seeded book, moved whole: the touch on the anchor, every level kept.
                    assert_eq!((book.best(Side::Buy), book.best(Side::Sell)), (Some(anchor), Some(anchor + 1)), "step {step}");
                    assert_eq!((book.level_count(Side::Buy), book.level_count(Side::Sell)), (20, 20), "step {step}");
                    assert_eq!(book.depth_lots(Side::Buy, 20), book.depth_lots(Side::Sell, 20));
                }
            }
        }
        assert_eq!(one_sided_steps[0], 0);
        assert!(one_sided_steps[1] > 100, "pulled quotes leave a side empty after most steps: {}", one_sided_steps[1]);
        assert_eq!(paths[0], paths[1], "following draws nothing: the price path is the same");
    }

    #[test]
    fn only_the_quotes_near_the_touch_follow_when_the_depth_is_set() {
        for shift in [12, -12] {
            let config = MarketConfig { initial_levels: 40, follow_depth_ticks: 5.0, ..fast_market(true) };
            let (mut generator, mut exchange) = setup(&config);
            let mut out = ExchangeOutput::default();
            generator.seed_book(&mut exchange, &mut out);
            out.updates.clear();
            let (bids, asks) = (
                exchange.book().others_levels(Side::Buy).collect::<Vec<_>>(),
                exchange.book().others_levels(Side::Sell).collect::<Vec<_>>(),
            );
            let anchor = exchange.book().best(Side::Buy).unwrap();
            generator.follow_fundamental(0, (anchor + shift) as f64 + 0.5, &mut exchange, &mut out);
            // The side the price moves towards moves the levels within 5 + 12 ticks of
            // its touch, the other side those within 5: the moved quotes never reach
            // the ones left behind, so nothing trades and the spread stays one tick.
            let (toward, away) = if shift > 0 { (Side::Sell, Side::Buy) } else { (Side::Buy, Side::Sell) };
            assert!(out.trades.is_empty(), "shift {shift}: {:?}", out.trades);
            assert_eq!(exchange.book().best(Side::Buy), Some(anchor + shift), "shift {shift}");
            assert_eq!(exchange.book().best(Side::Sell), Some(anchor + shift + 1), "shift {shift}");
            let before = |side: Side| if side == Side::Buy { &bids } else { &asks };
            for (side, reach) in [(toward, 5 + 12), (away, 5)] {
                let best_before = if side == Side::Buy { anchor } else { anchor + 1 };
                let after: std::collections::BTreeMap<Ticks, Lots> = exchange.book().others_levels(side).collect();
                for &(price, lots) in before(side) {
                    let near = side.sign() * (best_before - price) <= reach;
                    let now_at = if near { price + shift } else { price };
                    assert!(after.get(&now_at).is_some_and(|&size| size >= lots), "shift {shift}, {side:?} {price}: {after:?}");
                }
                let total = |levels: &mut dyn Iterator<Item = Lots>| levels.sum::<Lots>();
                assert_eq!(total(&mut after.values().copied()), total(&mut before(side).iter().map(|level| level.1)), "no size lost");
                // Away from the price, the moved levels open a gap of the shift behind them.
                if side == away {
                    assert_eq!(after.len(), 40, "shift {shift}: the away side keeps its levels apart");
                }
            }
            assert!(exchange.book().is_uncrossed());
        }
    }

    #[test]
    fn a_followed_move_through_our_quote_trades_with_it_and_a_halt_holds_the_book() {
        let (mut generator, mut exchange) = setup(&fast_market(true));
        let mut out = ExchangeOutput::default();
        generator.seed_book(&mut exchange, &mut out);
        let anchor = exchange.book().best(Side::Buy).unwrap();
        for (order_id, side, price_ticks) in [(1, Side::Buy, anchor), (2, Side::Sell, anchor + 1)] {
            let order =
                NewOrder { order_id: ClientOrderId(order_id), side, price_ticks, size_lots: 5, time_in_force: TimeInForce::PostOnly };
            exchange.on_command(0, &Command::Place(order), &mut out);
        }
        out.reports.clear();
        exchange.set_halted(true);
        let halted_book = exchange.book().snapshot(100);
        generator.step(100 * drydock_engine::units::NANOS_PER_MS, &mut exchange, &mut out);
        assert_eq!(exchange.book().snapshot(100), halted_book, "nothing moves while the venue is halted");
        exchange.set_halted(false);
        generator.step(200 * drydock_engine::units::NANOS_PER_MS, &mut exchange, &mut out);
        let fills: Vec<&VenueReport> = out.reports.iter().filter(|report| matches!(report, VenueReport::Filled(_))).collect();
        assert_eq!(fills.len(), 1, "the side the price left behind is crossed by the moved quotes: {:?}", out.reports);
        assert!(exchange.book().is_uncrossed());
        let moved_anchor = generator.fundamental_ticks(200 * drydock_engine::units::NANOS_PER_MS).floor() as Ticks;
        assert!((exchange.book().best(Side::Buy).unwrap() - moved_anchor).abs() <= 1, "the book caught up after the halt");
    }

    #[test]
    fn lognormal_market_orders_have_their_median_and_spread_within_their_bounds() {
        let config = MarketConfig {
            market_size_model: MarketSizeModel::Lognormal,
            market_size_median_lots: 1_000.0,
            market_size_sigma: 1.5,
            market_size_min_lots: 10,
            market_size_max_lots: 200_000,
            ..MarketConfig::default()
        };
        let (mut generator, _) = setup(&config);
        let mut sizes: Vec<Lots> = (0..20_000).map(|_| generator.market_order_size_lots()).collect();
        sizes.sort_unstable();
        assert!((950..=1_050).contains(&sizes[10_000]), "median {}", sizes[10_000]);
        // exp(1.5 × 1.2816) ≈ 6.8 times the median at the 90th percentile.
        assert!((6_000..=7_700).contains(&sizes[18_000]), "90th percentile {}", sizes[18_000]);
        assert!(sizes[0] >= 10 && sizes[19_999] <= 200_000);
        assert!(sizes.iter().filter(|&&size| size == 10).count() > 0, "the smallest cuts the lower tail");
    }

    #[test]
    fn limit_orders_that_join_the_nearest_level_gather_the_book() {
        let mut levels = Vec::new();
        for share in [1.0, 0.2] {
            let config = MarketConfig { limit_new_level_share: share, depth_decay_ticks: 20.0, ..MarketConfig::default() };
            let (mut generator, mut exchange) = setup(&config);
            let mut out = ExchangeOutput::default();
            generator.seed_book(&mut exchange, &mut out);
            let seeded = exchange.book().level_count(Side::Buy) + exchange.book().level_count(Side::Sell);
            let mut now_ns = 0;
            for _ in 0..2_000 {
                now_ns = generator.limit_arrival(now_ns, &mut exchange, &mut out);
            }
            assert!(exchange.book().is_uncrossed());
            levels.push(exchange.book().level_count(Side::Buy) + exchange.book().level_count(Side::Sell) - seeded);
        }
        // Drawn 20 ticks deep on average, most orders open levels the seeded 60 a side
        // do not hold; four in five of them join one instead.
        assert!(levels[1] * 3 < levels[0], "levels opened: {levels:?}");
    }

    #[test]
    fn a_limit_order_priced_through_the_touch_trades_instead_of_joining() {
        // The fundamental moves ~200 ticks in the first step and nothing is pulled, so
        // the orders of one side are priced through the other's touch.
        let config = MarketConfig { limit_new_level_share: 0.01, stale_slack_ticks: 1_000_000, ..fast_market(false) };
        let (mut generator, mut exchange) = setup(&config);
        let mut out = ExchangeOutput::default();
        generator.seed_book(&mut exchange, &mut out);
        generator.step(100 * drydock_engine::units::NANOS_PER_MS, &mut exchange, &mut out);
        out.trades.clear();
        let mut now_ns = 100 * drydock_engine::units::NANOS_PER_MS;
        for _ in 0..30 {
            now_ns = generator.limit_arrival(now_ns, &mut exchange, &mut out);
        }
        assert!(!out.trades.is_empty(), "orders through the touch trade even when nearly all orders join levels");
        assert!(exchange.book().is_uncrossed());
    }

    #[test]
    fn geometric_draws_follow_the_distribution() {
        let mut rng = SeedRoot::new(2).stream("test");
        let draw = geometric_with_mean(3.0);
        let mut counts = [0u32; 4];
        for _ in 0..100_000 {
            let value = geometric(&mut rng, &draw) as usize;
            if value < counts.len() {
                counts[value] += 1;
            }
        }
        // p = 1/4: P(K = k) = (3/4)^k / 4.
        for (k, count) in counts.iter().enumerate() {
            let expected = 0.75f64.powi(k as i32) * 0.25 * 100_000.0;
            assert!((*count as f64 - expected).abs() < 4.0 * expected.sqrt() + 50.0, "k={k}: {count} vs {expected}");
        }
        let never = geometric_with_mean(0.0);
        assert!((0..1_000).all(|_| geometric(&mut rng, &never) == 0));
    }

    #[test]
    fn geometric_and_exponential_have_their_means() {
        let mut rng = SeedRoot::new(1).stream("test");
        let draw = geometric_with_mean(12.0);
        let mean = (0..50_000).map(|_| geometric(&mut rng, &draw) as f64).sum::<f64>() / 50_000.0;
        assert!((mean - 12.0).abs() < 0.4, "{mean}");
        let wait = (0..50_000).map(|_| exponential_ns(&mut rng, 20.0) as f64).sum::<f64>() / 50_000.0 / NANOS_PER_S as f64;
        assert!((wait - 0.05).abs() < 0.002, "{wait}");
    }
}
