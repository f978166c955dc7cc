//! Prints statistics of the generated book: touch depth, spread, depth per level.
use drydock_engine::Side;
use drydock_sim::{config::*, *};
fn main() {
    let config =
        SimConfig { seed: 3, duration_s: 1800.0, market: MarketConfig::default(), exchange: ExchangeConfig::default(), events: vec![] };
    let mut sim = Simulation::new(&config, drydock_engine::EngineParams::default(), "x", RunOptions::for_duration(1800.0)).unwrap();
    let (mut touch, mut spread, mut depth10, mut levels, mut n) = (0f64, 0f64, 0f64, 0f64, 0f64);
    for second in 1..1800 {
        sim.run_until(second * 1_000_000_000, &mut Discard);
        let book = sim.exchange().book();
        if let (Some(bid), Some(ask)) = (book.best(Side::Buy), book.best(Side::Sell)) {
            touch += (book.total_at(Side::Buy, bid) + book.total_at(Side::Sell, ask)) as f64 / 2.0;
            spread += (ask - bid) as f64;
            depth10 += book.depth_lots(Side::Buy, 10) as f64;
            levels += book.level_count(Side::Buy) as f64;
            n += 1.0;
        }
    }
    println!("touch lots {:.1} spread ticks {:.2} depth10 {:.1} levels {:.1}", touch / n, spread / n, depth10 / n, levels / n);
    let outcome = sim.finish(&mut Discard);
    println!(
        "fills {} maker lots {} net_bps {:.2} adverse_p95 {:.2}",
        outcome.kpis.fills, outcome.kpis.maker_volume, outcome.kpis.net_bps, outcome.kpis.adverse_p95_bps
    );
}
