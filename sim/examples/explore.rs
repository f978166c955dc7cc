//! Exploration run: prints KPIs, metrics and effects of a default market.
use drydock_sim::{config::*, *};
fn main() {
    let duration_s: f64 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(3600.0);
    let events = vec![InjectedEvent::FlashCrash {
        start_s: duration_s / 2.0,
        side: drydock_engine::Side::Sell,
        drop_pct: 3.0,
        fall_duration_s: 5.0,
        depth_withdrawn: 0.6,
        halt_s: 0.0,
        recovery_fraction: 0.5,
        recovery_s: 60.0,
    }];
    let config = SimConfig { seed: 7, duration_s, market: MarketConfig::default(), exchange: ExchangeConfig::default(), events };
    let t = std::time::Instant::now();
    let outcome =
        run(&config, drydock_engine::EngineParams::default(), "default", RunOptions::for_duration(duration_s), &mut Discard).unwrap();
    let wall = t.elapsed().as_secs_f64();
    println!("wall {wall:.3}s speedup {:.0}x", duration_s / wall);
    println!("{}", serde_json::to_string_pretty(&outcome.kpis).unwrap());
    println!("{}", serde_json::to_string_pretty(&outcome.metrics).unwrap());
    println!("{}", serde_json::to_string_pretty(&outcome.effects).unwrap());
    println!("{}", outcome.fingerprint);
}
