//! Property tests of the whole dock: generated markets (quotes pulled when stale or
//! following the fundamental, limit orders opening levels or joining them, Pareto or
//! lognormal market orders) and random-walk markets, latencies,
//! queue models, venue limits, faults and engine limits, each run for a minute and
//! a half of simulated time.
//! Whatever the draw, the exchange's book never crosses, the venue never holds a
//! position beyond the engine's hard limit, the engine sends no order while its
//! feed is stale, and the same inputs give the same fingerprint.
//!
//! The bundled scenarios check these on chosen timelines; this test looks for the
//! timelines nobody chose (a disconnect during a crash's halt, a reject storm under
//! a latency spike with a small limit, …).

use drydock_engine::{EngineParams, Side};
use drydock_sim::config::{
    BookSides, ExchangeConfig, FillModel, InjectedEvent, MarketConfig, MarketModel, MarketSizeModel, QueueModelKind, RandomWalkConfig,
    ReactionConfig, SimConfig,
};
use drydock_sim::latency::LatencyModel;
use drydock_sim::{Discard, RunOptions};
use proptest::prelude::*;

const DURATION_S: f64 = 90.0;

fn latency() -> impl Strategy<Value = LatencyModel> {
    prop_oneof![
        (1.0..20_000.0f64).prop_map(|us| LatencyModel::Constant { us }),
        (1.0..5_000.0f64, 0.0..20_000.0f64).prop_map(|(min_us, spread_us)| LatencyModel::Uniform { min_us, max_us: min_us + spread_us }),
        (100.0..10_000.0f64, 0.0..5_000.0f64, 1.0..500.0f64).prop_map(|(mean_us, std_us, floor_us)| LatencyModel::Normal {
            mean_us,
            std_us,
            floor_us
        }),
        (50.0..10_000.0f64, 0.0..1.5f64, 1.0..500.0f64).prop_map(|(median_us, sigma, floor_us)| LatencyModel::Lognormal {
            median_us,
            sigma,
            floor_us
        }),
    ]
}

fn side() -> impl Strategy<Value = Side> {
    prop_oneof![Just(Side::Buy), Just(Side::Sell)]
}

/// One injected event starting within the run; what it does is drawn too.
fn event() -> impl Strategy<Value = InjectedEvent> {
    let start = 2.0..80.0f64;
    let length = 0.2..25.0f64;
    prop_oneof![
        (start.clone(), length.clone(), 1.5..8.0f64, 1.0..30.0f64).prop_map(|(start_s, duration_s, multiplier, decay_half_life_s)| {
            InjectedEvent::VolatilitySpike { start_s, duration_s, multiplier, decay_half_life_s }
        }),
        (start.clone(), length.clone(), 0.0..0.5f64, 1i64..20, 0.5..20.0f64).prop_map(
            |(start_s, duration_s, depth_multiplier, levels, refill_half_life_s)| InjectedEvent::LiquidityGap {
                start_s,
                duration_s,
                sides: BookSides::Both,
                depth_multiplier,
                levels,
                refill_half_life_s,
            }
        ),
        (start.clone(), side(), 1.0..8.0f64, 0.5..5.0f64, 0.0..0.9f64, prop_oneof![Just(0.0), 0.5..5.0f64], 0.0..1.0f64, 1.0..30.0f64)
            .prop_map(|(start_s, side, drop_pct, fall_duration_s, depth_withdrawn, halt_s, recovery_fraction, recovery_s)| {
                InjectedEvent::FlashCrash {
                    start_s,
                    side,
                    drop_pct,
                    fall_duration_s,
                    depth_withdrawn,
                    halt_s,
                    recovery_fraction,
                    recovery_s,
                }
            }),
        (start.clone(), length.clone()).prop_map(|(start_s, duration_s)| InjectedEvent::FeedOutage { start_s, duration_s }),
        (start.clone(), length.clone(), 0.0..=1.0f64).prop_map(|(start_s, duration_s, reject_fraction)| InjectedEvent::RejectStorm {
            start_s,
            duration_s,
            reject_fraction
        }),
        (start.clone(), length.clone()).prop_map(|(start_s, duration_s)| InjectedEvent::ExchangeHalt { start_s, duration_s }),
        (start.clone(), length.clone(), 2.0..50.0f64).prop_map(|(start_s, duration_s, multiplier)| InjectedEvent::LatencySpike {
            start_s,
            duration_s,
            multiplier
        }),
        (start, length).prop_map(|(start_s, duration_s)| InjectedEvent::Disconnect { start_s, duration_s }),
    ]
}

fn queue_model() -> impl Strategy<Value = QueueModelKind> {
    prop_oneof![Just(QueueModelKind::Proportional), Just(QueueModelKind::Conservative), Just(QueueModelKind::Probabilistic)]
}

/// The engine's limits and timings, drawn small so that they bind.
#[derive(Clone, Debug)]
struct Limits {
    inventory_hard_lots: i64,
    quote_size_lots: i64,
    levels_per_side: u32,
    min_interval_ms: i64,
    ack_timeout_ms: i64,
    md_stale_ms: i64,
    decision_interval_ms: i64,
    kill_flatten: bool,
    /// 0 = no drawdown kill.
    max_drawdown_quote: f64,
    max_open_orders: u32,
    max_orders_per_s: u32,
    unwind_clip_lots: i64,
}

fn limits() -> impl Strategy<Value = Limits> {
    let sizes = (1i64..40, 1i64..15, 1u32..4, any::<bool>(), prop_oneof![Just(0.0), 1.0..300.0f64], 1u32..10, 1u32..40, 1i64..30);
    let timings = (0i64..300, 20i64..2_000, 50i64..2_000, 10i64..500);
    (sizes, timings).prop_map(
        |(
            (
                inventory_hard_lots,
                quote_size_lots,
                levels_per_side,
                kill_flatten,
                max_drawdown_quote,
                max_open_orders,
                max_orders_per_s,
                unwind_clip_lots,
            ),
            (min_interval_ms, ack_timeout_ms, md_stale_ms, decision_interval_ms),
        )| Limits {
            inventory_hard_lots,
            quote_size_lots,
            levels_per_side,
            min_interval_ms,
            ack_timeout_ms,
            md_stale_ms,
            decision_interval_ms,
            kill_flatten,
            max_drawdown_quote,
            max_open_orders,
            max_orders_per_s,
            unwind_clip_lots,
        },
    )
}

fn engine_params(limits: &Limits) -> EngineParams {
    EngineParams {
        inventory_hard_lots: limits.inventory_hard_lots,
        inventory_soft_lots: (limits.inventory_hard_lots / 2).max(1),
        quote_size_lots: limits.quote_size_lots,
        levels_per_side: limits.levels_per_side,
        min_interval_ms: limits.min_interval_ms,
        ack_timeout_ms: limits.ack_timeout_ms,
        md_stale_ms: limits.md_stale_ms,
        decision_interval_ms: limits.decision_interval_ms,
        kill_flatten: limits.kill_flatten,
        max_drawdown_quote: limits.max_drawdown_quote,
        max_open_orders: limits.max_open_orders,
        max_orders_per_s: limits.max_orders_per_s,
        unwind_clip_lots: limits.unwind_clip_lots.min(limits.inventory_hard_lots),
        ..EngineParams::default()
    }
}

/// The venue's own settings beside its latencies.
#[derive(Clone, Debug)]
struct Venue {
    queue: QueueModelKind,
    max_orders_per_s: u32,
    feed_batch_ms: i64,
    maker_fee_bps: f64,
    taker_fee_bps: f64,
}

fn venue() -> impl Strategy<Value = Venue> {
    (queue_model(), 1u32..100, prop_oneof![Just(0i64), 1i64..100], -2.0..2.0f64, 0.0..10.0f64).prop_map(
        |(queue, max_orders_per_s, feed_batch_ms, maker_fee_bps, taker_fee_bps)| Venue {
            queue,
            max_orders_per_s,
            feed_batch_ms,
            maker_fee_bps,
            taker_fee_bps,
        },
    )
}

/// The random-walk market (touch-only, fills by intensity), or `None` for the
/// generated one (a full book, fills by matching).
fn random_walk() -> impl Strategy<Value = Option<(RandomWalkConfig, f64, f64)>> {
    prop_oneof![
        3 => Just(None),
        1 => (0.0..10.0f64, 0.001..0.5f64, 0.0..500.0f64, 0.0..5.0f64)
            .prop_map(|(sigma, step_s, a_per_s, k)| Some((RandomWalkConfig { sigma, step_s }, a_per_s, k))),
    ]
}

/// The generated market's drawn settings.
struct MarketDraws {
    quotes_follow_fundamental: bool,
    follow_depth_ticks: f64,
    market_size_model: MarketSizeModel,
    limit_new_level_share: f64,
    /// A second Hawkes exponential: its branching ratio and decay rate.
    slow_kernel: Option<(f64, f64)>,
}

fn dock_config(
    seed: u64,
    latencies: [LatencyModel; 3],
    venue: &Venue,
    walk: Option<(RandomWalkConfig, f64, f64)>,
    flow_scale: f64,
    draws: MarketDraws,
    events: Vec<InjectedEvent>,
) -> SimConfig {
    let MarketDraws { quotes_follow_fundamental, follow_depth_ticks, market_size_model, limit_new_level_share, slow_kernel } = draws;
    // A follow depth is for quotes that follow (validation refuses it otherwise).
    let follow_depth_ticks = if quotes_follow_fundamental { follow_depth_ticks } else { 0.0 };
    let mut market =
        MarketConfig { quotes_follow_fundamental, follow_depth_ticks, market_size_model, limit_new_level_share, ..MarketConfig::default() };
    market.market_rate_per_s *= flow_scale;
    market.limit_rate_per_s *= flow_scale;
    market.cancel_rate_per_s *= flow_scale;
    if let Some((branching, beta_per_s)) = slow_kernel {
        (market.hawkes_slow_alpha_per_s, market.hawkes_slow_beta_per_s) = (branching * beta_per_s, beta_per_s);
    }
    let mut exchange = ExchangeConfig::default();
    let [market_data, order_entry, ack] = latencies;
    exchange.latency.market_data = market_data;
    exchange.latency.order_entry = order_entry;
    exchange.latency.ack = ack;
    exchange.queue.model = venue.queue;
    exchange.max_orders_per_s = venue.max_orders_per_s;
    exchange.feed_batch_ms = venue.feed_batch_ms;
    exchange.maker_fee_bps = venue.maker_fee_bps;
    exchange.taker_fee_bps = venue.taker_fee_bps;
    if let Some((random_walk, a_per_s, k)) = walk {
        market.model = MarketModel::RandomWalk;
        market.random_walk = random_walk;
        exchange.fill_model = FillModel::Intensity;
        exchange.intensity.a_per_s = a_per_s;
        exchange.intensity.k = k;
        exchange.feed_batch_ms = 0;
    }
    SimConfig { seed, duration_s: DURATION_S, market, exchange, events, reaction: ReactionConfig::default(), tape: None }
}

proptest! {
    // About a quarter of the draws are refused by validation (overlapping crashes and
    // halts, limits that do not fit): rejects are allowed in proportion.
    #![proptest_config(ProptestConfig { cases: 48, max_global_rejects: 100_000, ..ProptestConfig::default() })]

    #[test]
    fn generated_docks_keep_the_venue_within_limits_and_the_book_uncrossed(
        seed in any::<u64>(),
        latencies in [latency(), latency(), latency()],
        venue in venue(),
        walk in random_walk(),
        flow_scale in 0.3..3.0f64,
        quotes_follow_fundamental in any::<bool>(),
        follow_depth_ticks in prop_oneof![Just(0.0), 0.5..30.0f64],
        market_size_model in prop_oneof![Just(MarketSizeModel::Pareto), Just(MarketSizeModel::Lognormal)],
        limit_new_level_share in prop_oneof![Just(1.0), 0.01..1.0f64],
        slow_kernel in prop_oneof![Just(None), (0.05..0.45f64, 0.3..10.0f64).prop_map(Some)],
        events in prop::collection::vec(event(), 0..5),
        limits in limits(),
    ) {
        let config = dock_config(seed, latencies, &venue, walk, flow_scale, MarketDraws { quotes_follow_fundamental, follow_depth_ticks, market_size_model, limit_new_level_share, slow_kernel }, events);
        prop_assume!(config.validate().is_ok());
        let params = engine_params(&limits);
        prop_assume!(params.validate().is_ok());
        let run = |params: EngineParams| drydock_sim::run(&config, params, "generated", RunOptions::for_duration(DURATION_S), &mut Discard);
        let outcome = run(params.clone()).expect("a valid dock");
        let venue_max_lots = outcome.metrics.exchange_position_abs_max_lots;
        prop_assert_eq!(outcome.metrics.book_crossings, 0);
        prop_assert!(
            venue_max_lots <= params.inventory_hard_lots,
            "the venue held {} lots against a hard limit of {} (engine saw at most {})",
            venue_max_lots, params.inventory_hard_lots, outcome.kpis.max_inventory_abs
        );
        // The engine learns its position from the venue's reports: it never believes
        // in a position the venue did not hold.
        prop_assert!(outcome.kpis.max_inventory_abs <= venue_max_lots, "engine saw {} lots, the venue held at most {}", outcome.kpis.max_inventory_abs, venue_max_lots);
        prop_assert_eq!(outcome.metrics.orders_while_feed_stale, 0);
        let again = run(params).expect("a valid dock");
        prop_assert_eq!(again.fingerprint, outcome.fingerprint);
    }
}
