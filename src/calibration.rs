//! `drydock data calibrate`: fits the market generator to a recording and writes a
//! scenario file whose generated market behaves like the recorded one, so that a
//! team can run a day — and then make it misbehave — from minutes of real data.
//!
//! The measuring and fitting are the dock's (`drydock_sim::calibrate`); this module
//! runs them on a loaded tape, sizes the engine for the recorded instrument, and
//! renders the scenario with each fitted value's basis and a table of the recorded
//! statistics beside the simulated ones, so a reviewer sees how close the fit is.
//! The same inputs give the same bytes (no wall time, no host). It does not load
//! recordings (the caller builds the tape) or run the scenario.

use std::fmt::Write as _;

use drydock_engine::EngineParams;
use drydock_sim::SimError;
use drydock_sim::calibrate::{
    Calibration, MarketStats, depth_decay_ticks, feed_batch_ms, fit, is_whole_number, refine, steered_keys, tape_stats, trades_in_frames,
};
use drydock_sim::config::{ExchangeConfig, InstrumentConfig, MarketConfig};
use drydock_sim::replay::tape::ReplayTape;

/// How to calibrate.
#[derive(Clone, Debug, PartialEq)]
pub struct CalibrateOptions {
    /// The instrument: symbol, and the grids the tape was read on.
    pub instrument: InstrumentConfig,
    /// Seed of the refining simulations, and of the scenario written.
    pub seed: u64,
    /// Rounds of simulated moments (0: the direct fit only).
    pub rounds: u32,
    /// Simulated seconds per round (at least the recording's span is better).
    pub simulate_s: f64,
}

/// A calibration's results.
#[derive(Clone, Debug)]
pub struct CalibrationReport {
    /// What the recording showed.
    pub recorded: MarketStats,
    /// The fitted generator.
    pub calibration: Calibration,
    /// The venue it was simulated on (the default's, with the recording's feed interval).
    pub exchange: ExchangeConfig,
    /// What the fitted generator's feed showed in the kept round's simulation.
    pub simulated: MarketStats,
    /// The recording's files.
    pub sources: Vec<String>,
    /// The options used.
    pub options: CalibrateOptions,
}

/// Measures `tape`, fits the generator and refines the fit.
pub fn calibrate_tape(tape: &ReplayTape, options: &CalibrateOptions) -> Result<CalibrationReport, SimError> {
    let recorded = tape_stats(tape);
    let template = MarketConfig { instrument: options.instrument.clone(), ..MarketConfig::default() };
    let direct = fit(&recorded, &template);
    // The generator is measured through a feed that conflates as the recording's did.
    let template = ExchangeConfig::default();
    let exchange = ExchangeConfig {
        feed_batch_ms: feed_batch_ms(&recorded, &template),
        trades_in_frames: trades_in_frames(&recorded, &template),
        ..template
    };
    let (calibration, simulated) = refine(&recorded, direct, &exchange, options.seed, options.simulate_s, options.rounds)?;
    Ok(CalibrationReport { recorded, calibration, exchange, simulated, sources: tape.header().sources.clone(), options: options.clone() })
}

/// One row of the comparison: a statistic as recorded and as simulated.
#[derive(Clone, Debug, PartialEq)]
pub struct ComparisonRow {
    /// The statistic.
    pub name: &'static str,
    /// Recorded.
    pub recorded: f64,
    /// Simulated with the fitted generator.
    pub simulated: f64,
    /// Whether the refinement steered a parameter to meet it.
    pub steered: bool,
}

/// How a comparison row reads its statistic.
type Measure = fn(&MarketStats) -> f64;

/// The statistics side by side (recorded, and simulated with the calibrated market),
/// each marked when the refinement steered a parameter to meet it in this market
/// (the `[market]` keys beside each row are the parameters that statistic steers).
pub fn comparison(report: &CalibrationReport) -> Vec<ComparisonRow> {
    let decay = |stats: &MarketStats| depth_decay_ticks(&stats.depth_profile_lots).unwrap_or(f64::NAN);
    let rows: [(&'static str, Measure, &[&str]); 16] = [
        ("realized volatility (annual)", |stats| stats.realized_vol_measured().unwrap_or(f64::NAN), &["volatility_annual"]),
        ("level adds per s", |stats| stats.level_adds_per_s, &["limit_rate_per_s"]),
        ("mean added size (lots)", |stats| stats.added_lots_mean, &["limit_size_lots"]),
        ("cancels per s", |stats| stats.cancels_per_s, &["cancel_rate_per_s"]),
        ("market orders per s", |stats| stats.market_orders_per_s, &["market_rate_per_s"]),
        ("depth decay (ticks)", decay, &["depth_decay_ticks"]),
        ("market order size p50 (lots)", |stats| stats.size_quantiles_lots[0] as f64, &["market_size_median_lots"]),
        ("market order size p90 (lots)", |stats| stats.size_quantiles_lots[1] as f64, &[]),
        ("market order size p99 (lots)", |stats| stats.size_quantiles_lots[2] as f64, &[]),
        ("buy share", |stats| stats.buy_share, &[]),
        ("count dispersion (1 s)", |stats| stats.count_dispersion, &[]),
        ("spread (ticks)", |stats| stats.spread_mean_ticks, &["limit_new_level_share", "follow_depth_ticks"]),
        ("one-sided book (% of samples)", |stats| stats.one_sided_pct, &[]),
        ("size at the best price (lots)", |stats| stats.touch_lots_mean, &[]),
        ("levels within 64 ticks", |stats| stats.levels_mean, &[]),
        ("return excess kurtosis", |stats| stats.return_excess_kurtosis, &[]),
    ];
    let steered_keys = steered_keys(&report.calibration.market);
    let (recorded, simulated) = (&report.recorded, &report.simulated);
    rows.into_iter()
        .map(|(name, measure, keys)| ComparisonRow {
            name,
            recorded: measure(recorded),
            simulated: measure(simulated),
            steered: keys.iter().any(|key| steered_keys.contains(key)),
        })
        .collect()
}

/// The default engine's lot-denominated limits scaled so that it trades the same
/// notional on the calibrated instrument as on the default one.
pub fn engine_scale(market: &MarketConfig) -> f64 {
    let default = MarketConfig::default();
    let default_lot_notional = default.instrument.lot_size * default.initial_price;
    let lot_notional = market.instrument.lot_size * market.initial_price;
    if lot_notional > 0.0 { default_lot_notional / lot_notional } else { 1.0 }
}

/// The scenario file: `[scenario]` named `name`, the fitted `[market]` with each
/// value's basis, the engine's sizes for this instrument, and the comparison.
pub fn render_scenario(report: &CalibrationReport, name: &str) -> String {
    let mut text = String::new();
    write_header(&mut text, report);
    let recorded = &report.recorded;
    let duration_s = recorded.span_s.ceil().max(60.0);
    let _ = writeln!(text, "[scenario]\nname = {}", toml_string(name));
    let description = format!("the generated market fitted to {} ({:.0} s recorded)", report.sources.join(", "), recorded.span_s);
    let _ = writeln!(text, "description = {}\nseed = {}\nduration_s = {duration_s}\n", toml_string(&description), report.options.seed);
    let _ = writeln!(text, "[market]");
    for param in &report.calibration.fitted {
        let value = if is_whole_number(&param.key) { format!("{}", param.value.round() as i64) } else { format!("{:?}", param.value) };
        let _ = writeln!(text, "{} = {value}  # {}", param.key, param.basis);
    }
    for choice in &report.calibration.choices {
        let _ = writeln!(text, "{} = {}  # {}", choice.key, choice.value, choice.basis);
    }
    let instrument = &report.calibration.market.instrument;
    let _ = writeln!(text, "\n[market.instrument]\nsymbol = {}", toml_string(&instrument.symbol));
    let _ = writeln!(
        text,
        "tick_size = {:?}\nlot_size = {:?}\nmin_notional = {:?}\n",
        instrument.tick_size, instrument.lot_size, instrument.min_notional
    );
    let _ = writeln!(
        text,
        "[exchange]\nfeed_batch_ms = {}  # the recording's update interval (5th percentile of the gaps between book changes)",
        report.exchange.feed_batch_ms
    );
    let in_frames = report.exchange.trades_in_frames;
    let _ = writeln!(text, "trades_in_frames = {in_frames}  # {}\n", trades_basis(&report.recorded, in_frames));
    write_engine(&mut text, &report.calibration.market);
    text
}

/// Why the recording's trades are (`in_frames`) or are not sent in its frames, in
/// words (the choice is [`trades_in_frames`]'s).
fn trades_basis(recorded: &MarketStats, in_frames: bool) -> String {
    match (recorded.trade_interval_ms, recorded.update_interval_ms) {
        (Some(trade_ms), Some(update_ms)) => {
            let (relation, how) =
                if in_frames { ("at least", "they came in its frames") } else { ("under", "a trade stream of their own") };
            format!(
                "market orders came {} ms apart at the shortest (5th percentile), {relation} half the {} ms update interval: {how}",
                format_stat(trade_ms),
                format_stat(update_ms)
            )
        }
        _ => "how close market orders came, or how often the book changed, is not measured: trades come in the frames (the default)"
            .to_string(),
    }
}

fn write_header(text: &mut String, report: &CalibrationReport) {
    let recorded = &report.recorded;
    let options = &report.options;
    let _ = writeln!(text, "# Written by `drydock data calibrate` from {}:", report.sources.join(", "));
    let _ = writeln!(
        text,
        "# {:.0} s recorded, {} market orders, {} book samples. The generator was fitted directly, then",
        recorded.span_s,
        recorded.market_order_times_s.len(),
        recorded.book_samples
    );
    let _ = writeln!(
        text,
        "# refined by simulated moments: {} rounds of {:.0} s (seed {}); round {} kept, the closest to the recording (0: the direct fit).",
        options.rounds, options.simulate_s, options.seed, report.calibration.kept_round
    );
    for warning in &report.calibration.warnings {
        let _ = writeln!(text, "# warning: {warning}");
    }
    let _ = writeln!(text, "#\n# {:<32} {:>14} {:>14}", "statistic", "recorded", "simulated");
    for row in comparison(report) {
        let mark = if row.steered { "*" } else { " " };
        let _ = writeln!(text, "# {:<31}{mark} {:>14} {:>14}", row.name, format_stat(row.recorded), format_stat(row.simulated));
    }
    let _ = writeln!(text, "# (* steered by the refinement; the others are what the fitted generator does on its own)\n");
}

fn write_engine(text: &mut String, market: &MarketConfig) {
    let scale = engine_scale(market);
    let defaults = EngineParams::default();
    let _ = writeln!(text, "[engine]  # the default engine's sizes, scaled ×{scale:.6} to trade the same notional on this instrument");
    let sizes = [
        ("quote_size_lots", defaults.quote_size_lots),
        ("inventory_soft_lots", defaults.inventory_soft_lots),
        ("inventory_hard_lots", defaults.inventory_hard_lots),
        ("unwind_clip_lots", defaults.unwind_clip_lots),
    ];
    for (key, lots) in sizes {
        let _ = writeln!(text, "{key} = {}", ((lots as f64 * scale).round() as i64).max(1));
    }
}

/// A statistic as the table prints it: `-` when it could not be measured.
pub fn format_stat(value: f64) -> String {
    if !value.is_finite() {
        "-".to_string()
    } else if value.abs() >= 1_000.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.4}")
    }
}

fn toml_string(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use drydock_sim::config::MarketSizeModel;

    fn report(market: MarketConfig) -> CalibrationReport {
        let options = CalibrateOptions { instrument: market.instrument.clone(), seed: 1, rounds: 0, simulate_s: 60.0 };
        CalibrationReport {
            recorded: MarketStats::default(),
            calibration: Calibration {
                market,
                fitted: Vec::new(),
                warnings: Vec::new(),
                kept_round: 0,
                choices: Vec::new(),
                follow_near_touch: None,
            },
            exchange: ExchangeConfig::default(),
            simulated: MarketStats::default(),
            sources: Vec::new(),
            options,
        }
    }

    fn marked(market: MarketConfig) -> Vec<&'static str> {
        comparison(&report(market)).into_iter().filter(|row| row.steered).map(|row| row.name).collect()
    }

    #[test]
    fn the_rows_marked_steered_are_those_the_market_steers() {
        let plain = marked(MarketConfig::default());
        assert_eq!(plain.len(), 6, "{plain:?}");
        assert!(!plain.contains(&"spread (ticks)") && !plain.contains(&"market order size p50 (lots)"));
        let fine_tick =
            MarketConfig { quotes_follow_fundamental: true, market_size_model: MarketSizeModel::Lognormal, ..MarketConfig::default() };
        let marked_fine = marked(fine_tick);
        assert!(marked_fine.contains(&"spread (ticks)") && marked_fine.contains(&"market order size p50 (lots)"), "{marked_fine:?}");
        let near_touch = MarketConfig { quotes_follow_fundamental: true, follow_depth_ticks: 10.0, ..MarketConfig::default() };
        assert!(marked(near_touch).contains(&"spread (ticks)"), "the follow depth is steered by the spread too");
    }
}
