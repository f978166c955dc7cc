//! Calibration round trip: measure a generated market from its feed, fit the
//! generator to what was measured, refine by simulated moments, and recover the
//! parameters the market was made with (within bands: a fit is an estimate).

use drydock_sim::calibrate::{fit, refine, simulated_stats};
use drydock_sim::config::{ExchangeConfig, MarketConfig};

/// The default generated market, regimes and jumps off (the fit leaves them out).
fn truth() -> MarketConfig {
    MarketConfig { stress_per_hour: 0.0, jumps_per_hour: 0.0, ..MarketConfig::default() }
}

fn within(name: &str, fitted: f64, truth: f64, relative: f64) {
    assert!((fitted / truth - 1.0).abs() <= relative, "{name}: fitted {fitted}, made with {truth} (±{:.0} %)", relative * 100.0);
}

#[test]
fn a_generated_market_is_fitted_back_to_its_parameters() {
    let truth = truth();
    let exchange = ExchangeConfig::default();
    let recorded = simulated_stats(&truth, &exchange, 7, 3_600.0).unwrap();
    // A template far from the truth: the fit must not lean on it.
    let template = MarketConfig { limit_rate_per_s: 3.0, cancel_rate_per_s: 90.0, depth_decay_ticks: 2.0, ..MarketConfig::default() };
    let direct = fit(&recorded, &template);
    within("volatility_annual (direct)", direct.market.volatility_annual, truth.volatility_annual, 0.1);
    within("limit_size_lots (direct)", direct.market.limit_size_lots, truth.limit_size_lots, 0.1);
    within("initial_price", direct.market.initial_price, truth.initial_price, 0.001);
    assert!(direct.warnings.is_empty(), "{:?}", direct.warnings);
    let hawkes_ratio = direct.market.hawkes_kernels().branching_ratio();
    assert!((0.3..0.7).contains(&hawkes_ratio), "clustered flow is fitted as such: branching ratio {hawkes_ratio}");

    let (refined, simulated) = refine(&recorded, direct, &exchange, 11, 900.0, 8).unwrap();
    let market = &refined.market;
    within("volatility_annual", market.volatility_annual, truth.volatility_annual, 0.1);
    within("limit_rate_per_s", market.limit_rate_per_s, truth.limit_rate_per_s, 0.1);
    within("limit_size_lots", market.limit_size_lots, truth.limit_size_lots, 0.1);
    within("cancel_rate_per_s", market.cancel_rate_per_s, truth.cancel_rate_per_s, 0.15);
    within("depth_decay_ticks", market.depth_decay_ticks, truth.depth_decay_ticks, 0.2);
    within("market_size_pareto_alpha", market.market_size_pareto_alpha, truth.market_size_pareto_alpha, 0.3);
    let stationary = |market: &MarketConfig| market.market_rate_per_s / (1.0 - market.hawkes_kernels().branching_ratio());
    within("market-order rate", stationary(market), stationary(&truth), 0.15);
    // What was not steered comes out close too.
    within("spread", simulated.spread_mean_ticks, recorded.spread_mean_ticks, 0.15);
    within("touch size", simulated.touch_lots_mean, recorded.touch_lots_mean, 0.15);
    let fitted_keys: Vec<&str> = refined.fitted.iter().map(|param| param.key.as_str()).collect();
    assert!(fitted_keys.contains(&"depth_decay_ticks") && fitted_keys.contains(&"hawkes_beta_per_s"), "{fitted_keys:?}");
}

#[test]
fn a_calm_poisson_flow_is_fitted_without_clustering() {
    let truth = MarketConfig { hawkes_alpha_per_s: 0.0, market_rate_per_s: 4.0, ..truth() };
    let recorded = simulated_stats(&truth, &ExchangeConfig::default(), 3, 1_800.0).unwrap();
    let calibration = fit(&recorded, &MarketConfig::default());
    // The generator's own marketable limit orders trade too, so the aggressive flow
    // is not exactly Poisson; its clustering must stay slight.
    let ratio = calibration.market.hawkes_kernels().branching_ratio();
    assert!(ratio < 0.2, "branching ratio {ratio}");
}

#[test]
fn too_little_data_is_said_not_guessed() {
    let short = simulated_stats(&truth(), &ExchangeConfig::default(), 5, 5.0).unwrap();
    let calibration = fit(&short, &MarketConfig::default());
    assert!(calibration.warnings.iter().any(|warning| warning.contains("too few")), "{:?}", calibration.warnings);
    assert_eq!(calibration.market.hawkes_alpha_per_s, 0.0);
}

mod hostile {
    use drydock_engine::Side;
    use drydock_sim::calibrate::{StatsRecorder, fit, refine};
    use drydock_sim::config::{ExchangeConfig, MarketConfig};
    use proptest::prelude::*;

    /// One recorded message: a whole book, a level change or a trade, at a time step.
    #[derive(Clone, Debug)]
    enum Message {
        Book(Vec<(bool, i64, i64)>),
        Level(bool, i64, i64),
        Trade(i64, i64, bool),
    }

    fn message() -> impl Strategy<Value = Message> {
        let price = 1i64..2_000_000;
        let size = 0i64..=1_000_000_000_000;
        prop_oneof![
            prop::collection::vec((any::<bool>(), price.clone(), size.clone()), 0..20).prop_map(Message::Book),
            (any::<bool>(), price.clone(), size.clone()).prop_map(|(bid, price, size)| Message::Level(bid, price, size)),
            (price, 1i64..=1_000_000_000_000, any::<bool>()).prop_map(|(price, size, buy)| Message::Trade(price, size, buy)),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        /// Whatever a recording holds (crossed or one-sided books, huge sizes, long
        /// silences), its statistics are finite where defined, and the fit either
        /// simulates or says why it cannot: never a panic, never an invalid market run.
        #[test]
        fn any_recording_fits_or_is_refused_never_a_panic(
            messages in prop::collection::vec((0i64..5_000_000_000, message()), 1..200),
            tick_size in prop_oneof![Just(0.01), Just(1.0), Just(0.0001)],
        ) {
            let mut recorder = StatsRecorder::new();
            let mut time_ns = 0;
            for (step_ns, message) in messages {
                time_ns += step_ns;
                let side = |bid: bool| if bid { Side::Buy } else { Side::Sell };
                match message {
                    Message::Book(levels) => recorder.book(time_ns, levels.into_iter().map(|(bid, price, size)| (side(bid), price, size))),
                    Message::Level(bid, price, size) => recorder.level(time_ns, side(bid), price, size),
                    Message::Trade(price, size, buy) => recorder.trade(time_ns, price, size, side(buy)),
                }
            }
            let stats = recorder.finish();
            prop_assert!(stats.span_s.is_finite() && stats.realized_vol_annual.is_finite() && stats.spread_mean_ticks.is_finite());
            let mut template = MarketConfig::default();
            template.instrument.tick_size = tick_size;
            let calibration = fit(&stats, &template);
            // Either the fitted market simulates, or the dock refuses it with a setting named.
            match refine(&stats, calibration, &ExchangeConfig::default(), 1, 5.0, 1) {
                Ok((refined, simulated)) => prop_assert!(refined.market.volatility_annual.is_finite() && simulated.span_s >= 0.0),
                Err(error) => prop_assert!(error.to_string().contains("market."), "{error}"),
            }
        }
    }
}
