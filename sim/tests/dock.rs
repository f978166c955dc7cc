//! The dock end to end: determinism of whole runs, sensitivity to the seed, and
//! each injected event measurably present across several seeds (statistical bands,
//! not single values), whether the others' quotes stay put or follow the fundamental.

use drydock_engine::{EngineParams, Side};
use drydock_sim::config::{BookSides, ExchangeConfig, InjectedEvent, MarketConfig, ReactionConfig, SimConfig};
use drydock_sim::exchange::ExchangeStats;
use drydock_sim::{Discard, RunOptions, RunOutcome, Simulation, run};

/// The default market and venue, the others' quotes staying where they were placed.
fn config(seed: u64, duration_s: f64, events: Vec<InjectedEvent>) -> SimConfig {
    config_quoting(false, seed, duration_s, events)
}

/// The default market and venue, the others' quotes following the fundamental or not.
fn config_quoting(quotes_follow_fundamental: bool, seed: u64, duration_s: f64, events: Vec<InjectedEvent>) -> SimConfig {
    SimConfig {
        seed,
        duration_s,
        market: MarketConfig { quotes_follow_fundamental, ..MarketConfig::default() },
        exchange: ExchangeConfig::default(),
        events,
        reaction: ReactionConfig::default(),
        tape: None,
    }
}

fn outcome(config: &SimConfig) -> RunOutcome {
    run(config, EngineParams::default(), "test", RunOptions::for_duration(config.duration_s), &mut Discard).expect("valid scenario")
}

fn measured(outcome: &RunOutcome, name: &str, measure: &str) -> f64 {
    let effect = outcome.effects.iter().find(|effect| effect.name == name).expect("event present");
    *effect.measured.get(measure).unwrap_or_else(|| panic!("{name}.{measure} not measured: {:?}", effect.measured))
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

#[test]
fn same_seed_same_everything_and_other_seeds_differ() {
    let events = vec![
        InjectedEvent::FeedOutage { start_s: 60.0, duration_s: 10.0 },
        InjectedEvent::Disconnect { start_s: 120.0, duration_s: 5.0 },
        InjectedEvent::RejectStorm { start_s: 150.0, duration_s: 10.0, reject_fraction: 0.5 },
    ];
    let first = outcome(&config(11, 240.0, events.clone()));
    let second = outcome(&config(11, 240.0, events.clone()));
    assert_eq!(first.fingerprint, second.fingerprint);
    assert_eq!(first.fingerprint_records, second.fingerprint_records);
    assert_eq!(serde_json::to_string(&first.kpis).unwrap(), serde_json::to_string(&second.kpis).unwrap());
    assert_eq!(first.effects, second.effects);
    assert!(first.fingerprint_records > 10_000, "the run did something: {}", first.fingerprint_records);
    let other = outcome(&config(12, 240.0, events));
    assert_ne!(first.fingerprint, other.fingerprint);
}

#[test]
fn stepping_a_run_in_pieces_gives_the_same_fingerprint() {
    let config = config(5, 120.0, Vec::new());
    let whole = outcome(&config);
    let mut simulation = drydock_sim::Simulation::new(&config, EngineParams::default(), "test", RunOptions::for_duration(120.0)).unwrap();
    for second in [7, 30, 31, 90, 120] {
        simulation.run_until(second * 1_000_000_000, &mut Discard);
    }
    assert_eq!(simulation.finish(&mut Discard).fingerprint, whole.fingerprint);
}

#[test]
fn volatility_spike_raises_realized_volatility_across_seeds() {
    let spike = InjectedEvent::VolatilitySpike { start_s: 300.0, duration_s: 120.0, multiplier: 6.0, decay_half_life_s: 120.0 };
    for follow in [false, true] {
        let ratios: Vec<f64> = (1..=5)
            .map(|seed| {
                let config = config_quoting(follow, seed, 480.0, vec![spike.clone()]);
                measured(&outcome(&config), "volatility_spike", "realized_vol_ratio")
            })
            .collect();
        assert!(ratios.iter().all(|ratio| *ratio > 1.5), "follow {follow}: {ratios:?}");
        let middle = median(ratios.clone());
        assert!((2.5..8.0).contains(&middle), "follow {follow}: median ratio {middle} for a 6x spike decaying to ~3x: {ratios:?}");
    }
}

#[test]
fn liquidity_gap_thins_the_book_across_seeds() {
    let gap = InjectedEvent::LiquidityGap {
        start_s: 200.0,
        duration_s: 60.0,
        sides: BookSides::Both,
        depth_multiplier: 0.05,
        levels: 20,
        refill_half_life_s: 20.0,
    };
    for follow in [false, true] {
        let fractions: Vec<f64> = (1..=5)
            .map(|seed| measured(&outcome(&config_quoting(follow, seed, 400.0, vec![gap.clone()])), "liquidity_gap", "depth_fraction"))
            .collect();
        // A 5 % depth multiplier: every seed well below half the normal depth, most far below.
        assert!(fractions.iter().all(|fraction| *fraction < 0.5), "follow {follow}: {fractions:?}");
        assert!(median(fractions.clone()) < 0.25, "follow {follow}: {fractions:?}");
    }
}

#[test]
fn flash_crash_falls_by_about_its_drop_and_recovers_across_seeds() {
    let crash = InjectedEvent::FlashCrash {
        start_s: 200.0,
        side: Side::Sell,
        drop_pct: 4.0,
        fall_duration_s: 3.0,
        depth_withdrawn: 0.6,
        halt_s: 0.0,
        recovery_fraction: 0.5,
        recovery_s: 60.0,
    };
    for (follow, seed) in [false, true].into_iter().flat_map(|follow| (1..=5).map(move |seed| (follow, seed))) {
        let result = outcome(&config_quoting(follow, seed, 400.0, vec![crash.clone()]));
        let drawdown = measured(&result, "flash_crash", "drawdown_pct");
        assert!((3.0..5.5).contains(&drawdown), "follow {follow}, seed {seed}: drawdown {drawdown} for a 4 % crash");
        let to_trough = measured(&result, "flash_crash", "time_to_trough_s");
        assert!((1.0..=8.0).contains(&to_trough), "follow {follow}, seed {seed}: trough after {to_trough} s for a 3 s fall");
        let recovery = measured(&result, "flash_crash", "time_to_recovery_s");
        assert!(recovery < 120.0, "follow {follow}, seed {seed}: recovery took {recovery} s");
        let pulled = measured(&result, "flash_crash", "quotes_pulled_ms");
        assert!(pulled <= 500.0, "follow {follow}, seed {seed}: quotes pulled {pulled} ms into the crash");
        assert_eq!(result.metrics.book_crossings, 0);
    }
}

#[test]
fn crash_with_halt_stops_matching_while_halted_and_trading_resumes() {
    // The fall ends at 102 s; the venue is halted for the next 20 s. (That the venue
    // refuses orders while halted is the exchange's unit test: at the trough the
    // crash has swept the book, so the engine has no market to quote into.)
    let crash = InjectedEvent::FlashCrash {
        start_s: 100.0,
        side: Side::Sell,
        drop_pct: 3.0,
        fall_duration_s: 2.0,
        depth_withdrawn: 0.5,
        halt_s: 20.0,
        recovery_fraction: 0.5,
        recovery_s: 30.0,
    };
    let second = 1_000_000_000;
    let fills = |stats: &ExchangeStats| stats.maker_fills + stats.taker_fills + stats.market_orders;
    for seed in 1..=4 {
        let config = config(seed, 160.0, vec![crash.clone()]);
        let mut simulation =
            Simulation::new(&config, EngineParams::default(), "test", RunOptions::for_duration(160.0)).expect("valid scenario");
        simulation.run_until(101 * second, &mut Discard);
        assert!(!simulation.exchange().is_halted(), "seed {seed}: halted during the fall");
        simulation.run_until(102 * second + 1, &mut Discard);
        assert!(simulation.exchange().is_halted(), "seed {seed}: not halted at the trough");
        let at_trough = fills(simulation.exchange().stats());
        simulation.run_until(121 * second, &mut Discard);
        assert!(simulation.exchange().is_halted(), "seed {seed}: the halt ended early");
        assert_eq!(fills(simulation.exchange().stats()), at_trough, "seed {seed}: the venue matched while halted");
        simulation.run_until(123 * second, &mut Discard);
        assert!(!simulation.exchange().is_halted(), "seed {seed}: still halted after 20 s");
        simulation.run_until(160 * second, &mut Discard);
        assert!(fills(simulation.exchange().stats()) > at_trough, "seed {seed}: no trading after the halt");
    }
}

#[test]
fn feed_outage_and_disconnect_are_survived() {
    let events =
        vec![InjectedEvent::FeedOutage { start_s: 60.0, duration_s: 20.0 }, InjectedEvent::Disconnect { start_s: 150.0, duration_s: 10.0 }];
    let result = outcome(&config(21, 300.0, events));
    assert_eq!(result.metrics.orders_while_feed_stale, 0, "no orders while the feed is stale");
    assert!(result.metrics.messages_dropped > 0);
    assert!(result.kpis.block_reasons.get("stale_market_data").copied().unwrap_or(0) > 0);
    assert!(result.kpis.quote_uptime_pct > 70.0, "quoting resumes: {}", result.kpis.quote_uptime_pct);
    assert_eq!(result.kpis.inventory_final, result.metrics.exchange_position_lots, "reconciled with the venue after the reconnect");
}

#[test]
fn latency_spike_slows_the_links() {
    let spike = InjectedEvent::LatencySpike { start_s: 60.0, duration_s: 30.0, multiplier: 500.0 };
    let slow = outcome(&config(4, 150.0, vec![spike]));
    let normal = outcome(&config(4, 150.0, Vec::new()));
    assert_ne!(slow.fingerprint, normal.fingerprint);
    assert!(slow.kpis.orders_rejected >= normal.kpis.orders_rejected, "stale post-only quotes cross more often");
}

#[test]
fn mid_returns_have_fat_tails_and_volatility_clustering() {
    // Default market: calm and stressed regimes plus jumps. One-second mid returns
    // over four simulated hours must show excess kurtosis and clustered volatility.
    let config = config(31, 4.0 * 3_600.0, Vec::new());
    let mut simulation =
        drydock_sim::Simulation::new(&config, EngineParams::default(), "test", RunOptions::for_duration(config.duration_s)).unwrap();
    let mut mids = Vec::new();
    for second in 1..=(config.duration_s as i64) {
        simulation.run_until(second * 1_000_000_000, &mut Discard);
        if let Some(mid) = simulation.exchange().book().mid_ticks() {
            mids.push(mid);
        }
    }
    let returns: Vec<f64> = mids.windows(2).map(|pair| (pair[1] / pair[0]).ln()).collect();
    let mean = returns.iter().sum::<f64>() / returns.len() as f64;
    let moment = |power: i32| returns.iter().map(|value| (value - mean).powi(power)).sum::<f64>() / returns.len() as f64;
    let kurtosis = moment(4) / moment(2).powi(2);
    assert!(kurtosis > 4.0, "kurtosis {kurtosis}: returns should be fat-tailed (normal is 3)");
    // Volatility clustering: |r| is autocorrelated over a minute.
    let absolute: Vec<f64> = returns.iter().map(|value| value.abs()).collect();
    let abs_mean = absolute.iter().sum::<f64>() / absolute.len() as f64;
    let lagged = |lag: usize| {
        let covariance: f64 =
            absolute.windows(lag + 1).map(|w| (w[0] - abs_mean) * (w[lag] - abs_mean)).sum::<f64>() / (absolute.len() - lag) as f64;
        let variance: f64 = absolute.iter().map(|value| (value - abs_mean).powi(2)).sum::<f64>() / absolute.len() as f64;
        covariance / variance
    };
    let autocorrelation = lagged(60);
    assert!(autocorrelation > 0.05, "autocorrelation of |returns| at 60 s: {autocorrelation}");
}

/// Times the engine received trades and deltas at.
#[derive(Default)]
struct FeedTimes {
    trades_ns: Vec<i64>,
    deltas_ns: std::collections::BTreeSet<i64>,
}

impl drydock_sim::RunObserver for FeedTimes {
    fn wants_engine_stream(&self) -> bool {
        true
    }

    fn on_engine_event(&mut self, now_ns: i64, event: &drydock_engine::Event) {
        match event {
            drydock_engine::Event::Market(drydock_engine::MarketData::Trade { .. }) => self.trades_ns.push(now_ns),
            drydock_engine::Event::Market(drydock_engine::MarketData::Delta { .. }) => {
                self.deltas_ns.insert(now_ns);
            }
            _ => {}
        }
    }
}

#[test]
fn trades_out_of_the_frames_reach_the_engine_as_they_print() {
    let times = |trades_in_frames: bool| {
        let mut config = config(21, 120.0, Vec::new());
        config.exchange.feed_batch_ms = 100;
        config.exchange.trades_in_frames = trades_in_frames;
        let mut times = FeedTimes::default();
        run(&config, EngineParams::default(), "test", RunOptions::for_duration(120.0), &mut times).expect("valid scenario");
        times
    };
    let (framed, streamed) = (times(true), times(false));
    let with_a_delta = |times: &FeedTimes| times.trades_ns.iter().filter(|time| times.deltas_ns.contains(time)).count();
    assert!(framed.trades_ns.len() > 200, "the market traded: {}", framed.trades_ns.len());
    assert_eq!(with_a_delta(&framed), framed.trades_ns.len(), "a framed trade arrives with its frame's delta");
    assert!(
        with_a_delta(&streamed) * 10 < streamed.trades_ns.len(),
        "streamed trades arrive on their own: {} of {} with a delta",
        with_a_delta(&streamed),
        streamed.trades_ns.len()
    );
    // The same market either way (the engine does not act on trades): the same
    // deltas at the same times, and the same trades but those still on their way in
    // the last frame when the run ends; streamed, they come about half a frame sooner.
    assert_eq!(framed.deltas_ns, streamed.deltas_ns, "the frames are drawn as before");
    let in_flight = streamed.trades_ns.len() - framed.trades_ns.len();
    assert!(in_flight < 20, "{in_flight} trades more streamed than framed");
    let sooner_ns: Vec<i64> = framed.trades_ns.iter().zip(&streamed.trades_ns).map(|(framed, streamed)| framed - streamed).collect();
    let mean_sooner_ms = sooner_ns.iter().sum::<i64>() as f64 / sooner_ns.len() as f64 / 1e6;
    assert!((20.0..80.0).contains(&mean_sooner_ms), "streamed trades come {mean_sooner_ms} ms sooner");
}
