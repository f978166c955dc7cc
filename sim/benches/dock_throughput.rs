//! Throughput of the whole dock: a calm, liquid market (the defaults, no injected
//! events) driving the default engine through latency, the mock exchange and the
//! fingerprint. Reported per market action (another participant's limit order,
//! cancel or market order); each also costs about 1.6 engine events.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use drydock_engine::EngineParams;
use drydock_sim::config::{ExchangeConfig, MarketConfig, ReactionConfig, SimConfig};
use drydock_sim::{Discard, RunOptions, run};

fn calm(duration_s: f64) -> SimConfig {
    let market = MarketConfig { stress_per_hour: 0.0, jumps_per_hour: 0.0, ..MarketConfig::default() };
    SimConfig {
        seed: 1001,
        duration_s,
        market,
        exchange: ExchangeConfig::default(),
        events: Vec::new(),
        reaction: ReactionConfig::default(),
        tape: None,
    }
}

fn bench(c: &mut Criterion) {
    let config = calm(600.0);
    let probe = run(&config, EngineParams::default(), "bench", RunOptions::for_duration(600.0), &mut Discard).expect("valid");
    eprintln!(
        "10 simulated minutes: {} market actions, {} market messages, {} engine events, {} engine commands",
        probe.metrics.market_actions, probe.metrics.market_messages, probe.metrics.engine_events, probe.metrics.engine_commands
    );
    let mut group = c.benchmark_group("dock");
    group.throughput(Throughput::Elements(probe.metrics.market_actions));
    group.sample_size(10);
    group.bench_function("calm_10_minutes", |bencher| {
        bencher.iter(|| {
            black_box(run(&config, EngineParams::default(), "bench", RunOptions::for_duration(600.0), &mut Discard).expect("valid"))
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
