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
    let hawkes_ratio = direct.market.hawkes_alpha_per_s / direct.market.hawkes_beta_per_s;
    assert!((0.3..0.7).contains(&hawkes_ratio), "clustered flow is fitted as such: branching ratio {hawkes_ratio}");

    let (refined, simulated) = refine(&recorded, direct, &exchange, 11, 900.0, 8).unwrap();
    let market = &refined.market;
    within("volatility_annual", market.volatility_annual, truth.volatility_annual, 0.1);
    within("limit_rate_per_s", market.limit_rate_per_s, truth.limit_rate_per_s, 0.1);
    within("limit_size_lots", market.limit_size_lots, truth.limit_size_lots, 0.1);
    within("cancel_rate_per_s", market.cancel_rate_per_s, truth.cancel_rate_per_s, 0.15);
    within("depth_decay_ticks", market.depth_decay_ticks, truth.depth_decay_ticks, 0.2);
    within("market_size_pareto_alpha", market.market_size_pareto_alpha, truth.market_size_pareto_alpha, 0.3);
    let stationary = |market: &MarketConfig| market.market_rate_per_s / (1.0 - market.hawkes_alpha_per_s / market.hawkes_beta_per_s);
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
    let ratio = calibration.market.hawkes_alpha_per_s / calibration.market.hawkes_beta_per_s;
    assert!(ratio < 0.2, "branching ratio {ratio}");
}

#[test]
fn too_little_data_is_said_not_guessed() {
    let short = simulated_stats(&truth(), &ExchangeConfig::default(), 5, 5.0).unwrap();
    let calibration = fit(&short, &MarketConfig::default());
    assert!(calibration.warnings.iter().any(|warning| warning.contains("too few")), "{:?}", calibration.warnings);
    assert_eq!(calibration.market.hawkes_alpha_per_s, 0.0);
}
