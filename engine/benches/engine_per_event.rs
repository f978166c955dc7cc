//! Per-event cost of the engine on a realistic market-data stream.
//!
//! The stream is a seeded random walk of a liquid book (BTCUSDT-like): a 20-level
//! snapshot, then one message every millisecond of simulated time — 70 % depth
//! deltas of one to three levels near the touch, 20 % trades, 10 % best-bid-offer —
//! with the decision timer every 100 ms and every order acknowledged at once, as a
//! quiet venue would. Reported throughput is per market-data message; the time
//! includes the timer events and acknowledgements the stream causes.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use drydock_engine::port::{DECISION_TIMER, Level, LevelUpdate};
use drydock_engine::units::NANOS_PER_MS;
use drydock_engine::{Command, Engine, EngineParams, Event, Instrument, MarketData, Side, VenueReport};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

const MESSAGES: usize = 200_000;

fn market_stream(seed: u64) -> Vec<(i64, Event)> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut bid = 600_000i64;
    let spread = 10i64;
    let level = |price_ticks, size_lots| Level { price_ticks, size_lots };
    let mut events = vec![(
        0,
        Event::Market(MarketData::Snapshot {
            bids: (0..20).map(|i| level(bid - i, 200 + 10 * i)).collect(),
            asks: (0..20).map(|i| level(bid + spread + i, 200 + 10 * i)).collect(),
        }),
    )];
    for index in 1..MESSAGES {
        let now_ns = index as i64 * NANOS_PER_MS;
        let kind: f64 = rng.random();
        let event = if kind < 0.7 {
            if rng.random::<f64>() < 0.05 {
                bid += if rng.random::<bool>() { 1 } else { -1 };
            }
            let count = rng.random_range(1..=3);
            let updates = (0..count)
                .map(|_| {
                    let side = if rng.random::<bool>() { Side::Buy } else { Side::Sell };
                    let depth = rng.random_range(0..5);
                    let price_ticks = match side {
                        Side::Buy => bid - depth,
                        Side::Sell => bid + spread + depth,
                    };
                    LevelUpdate { side, price_ticks, size_lots: rng.random_range(50..500) }
                })
                .collect();
            Event::Market(MarketData::Delta { updates })
        } else if kind < 0.9 {
            let aggressor = if rng.random::<bool>() { Side::Buy } else { Side::Sell };
            let price_ticks = if aggressor == Side::Buy { bid + spread } else { bid };
            Event::Market(MarketData::Trade { price_ticks, size_lots: rng.random_range(1..50), aggressor })
        } else {
            Event::Market(MarketData::BestBidOffer { bid: level(bid, 300), ask: level(bid + spread, 300) })
        };
        events.push((now_ns, event));
    }
    events
}

/// Default parameters with `levels_per_side`; `eager` requotes on every message
/// (`max_delta_ratio = 0`, `min_interval_ms = 0`), the worst case for the engine.
fn params(levels_per_side: u32, eager: bool) -> EngineParams {
    let base = EngineParams { levels_per_side, ..EngineParams::default() };
    if eager { EngineParams { max_delta_ratio: 0.0, min_interval_ms: 0, max_orders_per_s: 100_000, ..base } } else { base }
}

fn run_stream(params: &EngineParams, events: &[(i64, Event)]) -> Duration {
    run_stream_engine(params, events).0
}

fn run_stream_engine(params: &EngineParams, events: &[(i64, Event)]) -> (Duration, Engine) {
    let params = params.clone();
    let jitter = Box::new(ChaCha8Rng::seed_from_u64(1));
    let mut engine = Engine::new(Instrument::default(), params, "bench", jitter).expect("valid params");
    let mut out = Vec::with_capacity(64);
    let mut acks = Vec::with_capacity(64);
    let mut next_tick_ns = 100 * NANOS_PER_MS;
    let start = Instant::now();
    for (now_ns, event) in events {
        if *now_ns >= next_tick_ns {
            engine.handle(next_tick_ns, &Event::Timer { timer_id: DECISION_TIMER }, &mut out).expect("timer");
            next_tick_ns += 100 * NANOS_PER_MS;
        }
        engine.handle(*now_ns, event, &mut out).expect("market data");
        for command in out.drain(..) {
            match command {
                Command::Place(order) => acks.push(VenueReport::Accepted { order_id: order.order_id }),
                Command::Cancel { order_id } => acks.push(VenueReport::Canceled { order_id }),
                Command::Replace { order_id, price_ticks, total_size_lots } => {
                    acks.push(VenueReport::Replaced { order_id, price_ticks, leaves_lots: total_size_lots })
                }
                Command::SetTimer { .. } => {}
            }
        }
        for ack in acks.drain(..) {
            engine.handle(*now_ns, &Event::Venue(ack), &mut out).expect("ack");
        }
    }
    let elapsed = start.elapsed();
    black_box(engine.kpis());
    (elapsed, engine)
}

fn bench(c: &mut Criterion) {
    let events = market_stream(42);
    let mut group = c.benchmark_group("engine_per_market_event");
    group.throughput(Throughput::Elements(events.len() as u64));
    group.sample_size(20);
    let cases =
        [("2_levels_a_side", params(2, false)), ("5_levels_a_side", params(5, false)), ("2_levels_requote_every_message", params(2, true))];
    for (name, params) in cases {
        let (_, engine) = run_stream_engine(&params, &events);
        let counters = engine.counters();
        eprintln!(
            "{name}: {} messages, {} decisions, {} orders, {} replaces, {} cancels",
            events.len(),
            counters.decisions,
            counters.orders_sent,
            counters.replaces_sent,
            counters.cancels_sent
        );
        group.bench_function(name, |bencher| bencher.iter_custom(|iterations| (0..iterations).map(|_| run_stream(&params, &events)).sum()));
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
