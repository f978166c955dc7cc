//! Calibration of the market generator to a recording: measure a market's
//! statistics (from a replay tape, or from what a simulated feed delivered), fit
//! the generator's parameters to them, and measure the fitted generator the same
//! way so the two can be set side by side.
//!
//! What is measured, from the book and trades as a feed shows them:
//! - the mid sampled every second: realized volatility (annualized) and the excess
//!   kurtosis of the returns;
//! - the book sampled every 100 ms of recorded time: spread, size at each of the
//!   first [`PROFILE_TICKS`] ticks behind each side's best price, levels within them;
//! - market orders (trades of one aggressor at one time, summed): arrival times,
//!   sizes, the buy share, how close they came (whether trades had a stream of
//!   their own or came in the book's frames);
//! - level changes in diffs: increases (limit orders added) and decreases the trades
//!   at that level since its last change do not explain (cancels). A conflated feed
//!   nets changes within its interval, so both are lower bounds.
//!
//! What is fitted ([`fit`]): flow parameters by maximum likelihood or by their
//! moments (Hawkes μ, α, β on the market-order times, and a second, slower
//! exponential in the kernel where it pays for its parameters; the buy share; sizes by a
//! Pareto tail — Hill's estimator above the median, its minimum placed so the
//! median matches — or a lognormal by maximum likelihood on their logs, whichever
//! lies closer at the recorded median, 90th and 99th percentiles); the price's
//! volatility from the 1-second returns; book-shape parameters mapped from what the
//! book showed (limit and cancel rates, mean added size, the decay length of the
//! depth profile, the touch size), and whether quotes follow the fundamental (a
//! step's move against the depth's reach; against the spread, a depth near the
//! touch that [`refine`] makes follow if quotes staying put leave the spread too
//! wide). Regimes and jumps are not fitted (a recording of minutes cannot separate
//! them): the fit switches them off and reports the kurtosis that they would
//! explain. [`refine`] then corrects seven to nine of them (volatility, limit rate
//! and size, cancel rate, market rate, depth decay, the size model's Pareto index or
//! lognormal median and σ, and where quotes follow the price the share of limit
//! orders opening levels, or how near the touch they follow, by the spread) by
//! simulating the fitted market through a feed that conflates like the recording's
//! and moving each until its statistic meets the recorded one (simulated moments),
//! keeping the closest round.
//!
//! It does not read files (the harness loads tapes) or write scenario files, and it
//! does not fit what minutes of data cannot show (regimes, jumps, drift).

use std::collections::BTreeMap;

use drydock_engine::port::{Control, Event, MarketData};
use drydock_engine::units::NANOS_PER_S;
use drydock_engine::{EngineParams, Lots, Nanos, Side, Ticks};
use serde::Serialize;

use crate::config::{ExchangeConfig, MarketConfig, MarketSizeModel, ReactionConfig, SimConfig};
use crate::error::SimError;
use crate::market::hawkes::HawkesKernels;
use crate::replay::tape::{ReplayTape, TapeEvent};
use crate::runner::{RunObserver, RunOptions, Simulation};

/// Ticks behind each side's best price that the depth profile covers.
pub const PROFILE_TICKS: usize = 64;

/// Interval of the book samples, ns.
pub const BOOK_SAMPLE_NS: Nanos = 100_000_000;

/// Interval of the mid samples (returns), ns.
pub const MID_SAMPLE_NS: Nanos = NANOS_PER_S;

/// Fewest market orders a Hawkes fit is tried on; below it the flow is taken as
/// Poisson at its mean rate.
pub const HAWKES_ORDERS_MIN: usize = 50;

const SECONDS_PER_YEAR: f64 = 365.25 * 86_400.0;

/// A market's statistics, measured as [`StatsRecorder`] describes.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct MarketStats {
    /// Seconds from the first event to the last.
    pub span_s: f64,
    /// The first mid, ticks.
    pub first_mid_ticks: Option<f64>,
    /// Annualized volatility of the 1-second mid log-returns.
    pub realized_vol_annual: f64,
    /// Excess kurtosis of the 1-second returns (0 for normal returns).
    pub return_excess_kurtosis: f64,
    /// 1-second returns measured.
    pub returns: u64,
    /// Book samples taken (every 100 ms with both sides present).
    pub book_samples: u64,
    /// Share of the 100 ms samples when the book had a side empty (or both), %.
    pub one_sided_pct: f64,
    /// Mean spread, ticks.
    pub spread_mean_ticks: f64,
    /// Mean size at each side's best price, lots.
    pub touch_lots_mean: f64,
    /// Mean number of levels per side within the profile's ticks.
    pub levels_mean: f64,
    /// Mean size `d` ticks behind each side's best price (both sides averaged), lots.
    pub depth_profile_lots: Vec<f64>,
    /// Level increases seen in diffs, per second.
    pub level_adds_per_s: f64,
    /// Mean increase, lots.
    pub added_lots_mean: f64,
    /// Level decreases not explained by trades, per second.
    pub cancels_per_s: f64,
    /// Market orders per second.
    pub market_orders_per_s: f64,
    /// Share of market orders that bought.
    pub buy_share: f64,
    /// Market-order sizes, lots: median, 90th and 99th percentiles, largest.
    pub size_quantiles_lots: [i64; 4],
    /// Variance over mean of the market-order counts in 1-second windows (1 for
    /// Poisson arrivals; above it, clustering).
    pub count_dispersion: f64,
    /// How often the book changed at the shortest, ms: the 5th percentile of the gaps
    /// between successive times the book changed (a conflating feed's interval).
    pub update_interval_ms: Option<f64>,
    /// How close market orders came at the shortest, ms: the 5th percentile of the
    /// positive gaps between successive ones (none for fewer than
    /// [`TRADE_GAPS_MIN`]). Under the update interval, trades have a stream of
    /// their own; at it or above, they come in the book's frames.
    pub trade_interval_ms: Option<f64>,
    /// Arrival time of each market order, seconds from the first event.
    #[serde(skip)]
    pub market_order_times_s: Vec<f64>,
    /// Size of each market order, lots.
    #[serde(skip)]
    pub market_order_sizes_lots: Vec<Lots>,
}

impl MarketStats {
    /// The realized volatility when there are enough returns to measure one (at least
    /// [`RETURNS_MIN`]); none otherwise.
    pub fn realized_vol_measured(&self) -> Option<f64> {
        (self.returns >= RETURNS_MIN).then_some(self.realized_vol_annual)
    }
}

/// Accumulates [`MarketStats`] from a stream of book snapshots, level changes and
/// trades in time order.
#[derive(Debug, Default)]
pub struct StatsRecorder {
    bids: BTreeMap<Ticks, Lots>,
    asks: BTreeMap<Ticks, Lots>,
    first_ns: Option<Nanos>,
    last_ns: Nanos,
    next_book_sample_ns: Nanos,
    next_mid_sample_ns: Nanos,
    first_mid_ticks: Option<f64>,
    last_sampled_mid: Option<f64>,
    returns: Vec<f64>,
    book_samples: u64,
    /// 100 ms samples taken when a side was empty.
    one_sided_samples: u64,
    spread_sum_ticks: f64,
    levels_sum: f64,
    profile_sum_lots: ProfileSums,
    /// Lots traded against a resting level since its last change: (side of the level, price).
    traded_since_change: BTreeMap<(Side, Ticks), Lots>,
    /// Time of the last level change, and the gaps between distinct change times.
    last_change_ns: Option<Nanos>,
    change_gaps_ns: Vec<Nanos>,
    level_adds: u64,
    added_lots: Lots,
    cancels: u64,
    /// A market order still collecting its trades: time, aggressor, lots.
    open_order: Option<(Nanos, Side, Lots)>,
    order_times_ns: Vec<Nanos>,
    order_sizes_lots: Vec<Lots>,
    buys: u64,
}

/// Sums of the size `d` ticks behind each side's best price, one per tick of the
/// profile (its default has them all, so every recorder has the whole profile).
#[derive(Debug)]
struct ProfileSums([f64; PROFILE_TICKS]);

impl Default for ProfileSums {
    fn default() -> Self {
        ProfileSums([0.0; PROFILE_TICKS])
    }
}

impl StatsRecorder {
    /// An empty recorder (the same as `StatsRecorder::default()`).
    pub fn new() -> Self {
        StatsRecorder::default()
    }

    /// The whole book at `time_ns`, replacing what was known (no adds or cancels counted).
    pub fn book(&mut self, time_ns: Nanos, levels: impl IntoIterator<Item = (Side, Ticks, Lots)>) {
        self.advance(time_ns);
        self.bids.clear();
        self.asks.clear();
        self.traded_since_change.clear();
        for (side, price_ticks, size_lots) in levels {
            if size_lots > 0 {
                self.side_mut(side).insert(price_ticks, size_lots);
            }
        }
        self.note_first_mid();
    }

    /// One level's new total size at `time_ns` (0 removes it).
    pub fn level(&mut self, time_ns: Nanos, side: Side, price_ticks: Ticks, size_lots: Lots) {
        self.advance(time_ns);
        if let Some(last_ns) = self.last_change_ns.replace(time_ns)
            && time_ns > last_ns
        {
            self.change_gaps_ns.push(time_ns - last_ns);
        }
        let before = self.side_mut(side).get(&price_ticks).copied().unwrap_or(0);
        let traded = self.traded_since_change.remove(&(side, price_ticks)).unwrap_or(0);
        if size_lots > before {
            self.level_adds += 1;
            self.added_lots += size_lots - before;
        } else if before - size_lots > traded {
            self.cancels += 1;
        }
        if size_lots > 0 {
            self.side_mut(side).insert(price_ticks, size_lots);
        } else {
            self.side_mut(side).remove(&price_ticks);
        }
        self.note_first_mid();
    }

    /// A trade at `time_ns`; trades of one aggressor at one time are one market order.
    pub fn trade(&mut self, time_ns: Nanos, price_ticks: Ticks, size_lots: Lots, aggressor: Side) {
        self.advance(time_ns);
        *self.traded_since_change.entry((aggressor.opposite(), price_ticks)).or_default() += size_lots;
        match &mut self.open_order {
            Some((order_ns, order_side, lots)) if *order_ns == time_ns && *order_side == aggressor => *lots += size_lots,
            _ => {
                self.close_order();
                self.open_order = Some((time_ns, aggressor, size_lots));
            }
        }
    }

    /// The statistics of everything recorded.
    pub fn finish(mut self) -> MarketStats {
        self.close_order();
        let first_ns = self.first_ns.unwrap_or(0);
        let span_s = (self.last_ns - first_ns) as f64 / NANOS_PER_S as f64;
        let per_s = |count: f64| if span_s > 0.0 { count / span_s } else { 0.0 };
        let samples = self.book_samples.max(1) as f64;
        let depth_profile_lots: Vec<f64> = self.profile_sum_lots.0.iter().map(|sum| sum / (2.0 * samples)).collect();
        let orders = self.order_sizes_lots.len();
        let times_s: Vec<f64> = self.order_times_ns.iter().map(|&time_ns| (time_ns - first_ns) as f64 / NANOS_PER_S as f64).collect();
        let (volatility, kurtosis) = return_moments(&self.returns);
        let mut trade_gaps_ns: Vec<Nanos> =
            self.order_times_ns.windows(2).map(|pair| pair[1] - pair[0]).filter(|&gap_ns| gap_ns > 0).collect();
        let trade_interval_ms = if trade_gaps_ns.len() >= TRADE_GAPS_MIN { low_quantile_ms(&mut trade_gaps_ns) } else { None };
        MarketStats {
            span_s,
            first_mid_ticks: self.first_mid_ticks,
            realized_vol_annual: volatility * (SECONDS_PER_YEAR * NANOS_PER_S as f64 / MID_SAMPLE_NS as f64).sqrt(),
            return_excess_kurtosis: kurtosis,
            returns: self.returns.len() as u64,
            book_samples: self.book_samples,
            one_sided_pct: percent(self.one_sided_samples, self.book_samples + self.one_sided_samples),
            spread_mean_ticks: self.spread_sum_ticks / samples,
            touch_lots_mean: depth_profile_lots[0],
            levels_mean: self.levels_sum / (2.0 * samples),
            depth_profile_lots,
            level_adds_per_s: per_s(self.level_adds as f64),
            added_lots_mean: if self.level_adds > 0 { self.added_lots as f64 / self.level_adds as f64 } else { 0.0 },
            cancels_per_s: per_s(self.cancels as f64),
            market_orders_per_s: per_s(orders as f64),
            buy_share: if orders > 0 { self.buys as f64 / orders as f64 } else { 0.5 },
            size_quantiles_lots: size_quantiles(&self.order_sizes_lots),
            count_dispersion: count_dispersion(&times_s, span_s),
            update_interval_ms: low_quantile_ms(&mut self.change_gaps_ns),
            trade_interval_ms,
            market_order_times_s: times_s,
            market_order_sizes_lots: self.order_sizes_lots,
        }
    }

    fn side_mut(&mut self, side: Side) -> &mut BTreeMap<Ticks, Lots> {
        match side {
            Side::Buy => &mut self.bids,
            Side::Sell => &mut self.asks,
        }
    }

    fn close_order(&mut self) {
        if let Some((time_ns, side, lots)) = self.open_order.take() {
            self.order_times_ns.push(time_ns);
            self.order_sizes_lots.push(lots);
            self.buys += u64::from(side == Side::Buy);
        }
    }

    fn touch(&self) -> Option<(Ticks, Ticks)> {
        Some((*self.bids.keys().next_back()?, *self.asks.keys().next()?))
    }

    fn note_first_mid(&mut self) {
        if self.first_mid_ticks.is_none()
            && let Some((bid, ask)) = self.touch()
        {
            self.first_mid_ticks = Some((bid + ask) as f64 / 2.0);
        }
    }

    /// Moves the clock to `time_ns`, sampling the book as it stood at every sample
    /// time passed.
    fn advance(&mut self, time_ns: Nanos) {
        let first_ns = *self.first_ns.get_or_insert_with(|| {
            self.next_book_sample_ns = time_ns;
            self.next_mid_sample_ns = time_ns;
            time_ns
        });
        debug_assert!(time_ns >= first_ns);
        while self.next_book_sample_ns < time_ns {
            self.sample_book();
            self.next_book_sample_ns += BOOK_SAMPLE_NS;
        }
        while self.next_mid_sample_ns < time_ns {
            self.sample_mid();
            self.next_mid_sample_ns += MID_SAMPLE_NS;
        }
        self.last_ns = self.last_ns.max(time_ns);
    }

    fn sample_mid(&mut self) {
        let Some((bid, ask)) = self.touch() else { return };
        let mid = (bid + ask) as f64 / 2.0;
        if let Some(last) = self.last_sampled_mid.filter(|last| *last > 0.0)
            && mid > 0.0
        {
            self.returns.push((mid / last).ln());
        }
        self.last_sampled_mid = Some(mid);
    }

    fn sample_book(&mut self) {
        let Some((bid, ask)) = self.touch() else {
            // Before the first book there is nothing to find one-sided.
            if self.first_mid_ticks.is_some() {
                self.one_sided_samples += 1;
            }
            return;
        };
        self.book_samples += 1;
        self.spread_sum_ticks += (ask - bid) as f64;
        let reach = PROFILE_TICKS as Ticks;
        for (price_ticks, size_lots) in self.bids.range(bid - reach + 1..=bid) {
            self.profile_sum_lots.0[(bid - price_ticks) as usize] += *size_lots as f64;
            self.levels_sum += 1.0;
        }
        for (price_ticks, size_lots) in self.asks.range(ask..ask + reach) {
            self.profile_sum_lots.0[(price_ticks - ask) as usize] += *size_lots as f64;
            self.levels_sum += 1.0;
        }
    }
}

/// Statistics of a replay tape.
pub fn tape_stats(tape: &ReplayTape) -> MarketStats {
    let mut recorder = StatsRecorder::new();
    for event in tape.events() {
        match event {
            TapeEvent::Book { time_ns, levels } => {
                let levels = tape.levels(levels).iter().map(|level| (level.side, level.price_ticks, level.size_lots));
                recorder.book(*time_ns, levels);
            }
            TapeEvent::Depth { time_ns, levels } => {
                for level in tape.levels(levels) {
                    recorder.level(*time_ns, level.side, level.price_ticks, level.size_lots);
                }
            }
            TapeEvent::Trade { time_ns, price_ticks, size_lots, aggressor } => {
                recorder.trade(*time_ns, *price_ticks, *size_lots, *aggressor)
            }
        }
    }
    recorder.finish()
}

/// A run observer that records the market data the engine was handed.
#[derive(Debug, Default)]
pub struct FeedStatsObserver {
    /// What the feed delivered so far.
    pub recorder: StatsRecorder,
}

impl RunObserver for FeedStatsObserver {
    fn wants_engine_stream(&self) -> bool {
        true
    }

    fn on_engine_event(&mut self, now_ns: Nanos, event: &Event) {
        let Event::Market(market_data) = event else { return };
        match market_data {
            MarketData::Snapshot { bids, asks } => {
                let bids = bids.iter().map(|level| (Side::Buy, level.price_ticks, level.size_lots));
                let asks = asks.iter().map(|level| (Side::Sell, level.price_ticks, level.size_lots));
                self.recorder.book(now_ns, bids.chain(asks));
            }
            MarketData::Delta { updates } => {
                for update in updates {
                    self.recorder.level(now_ns, update.side, update.price_ticks, update.size_lots);
                }
            }
            MarketData::Trade { price_ticks, size_lots, aggressor } => self.recorder.trade(now_ns, *price_ticks, *size_lots, *aggressor),
            // The depth stream carries the book; a top-of-book stream beside it adds nothing.
            MarketData::BestBidOffer { .. } => {}
        }
    }
}

/// Statistics of the generated `market` over `duration_s`, measured from its feed
/// as the engine would receive it (on `exchange`'s links) while the engine stands
/// aside (kill switch engaged from the start, so no order of ours moves the book).
pub fn simulated_stats(market: &MarketConfig, exchange: &ExchangeConfig, seed: u64, duration_s: f64) -> Result<MarketStats, SimError> {
    let config = SimConfig {
        seed,
        duration_s,
        market: market.clone(),
        exchange: exchange.clone(),
        events: Vec::new(),
        reaction: ReactionConfig::default(),
        tape: None,
    };
    let params = EngineParams { kill_flatten: false, ..EngineParams::default() };
    let mut simulation = Simulation::new(&config, params, "calibration", RunOptions::for_duration(duration_s))?;
    let mut observer = FeedStatsObserver::default();
    simulation.control(Control::KillSwitch { engaged: true }, &mut observer)?;
    simulation.run_until((duration_s * NANOS_PER_S as f64) as Nanos, &mut observer);
    Ok(observer.recorder.finish())
}

/// One fitted parameter: its value and what it came from.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FittedParam {
    /// The `[market]` key.
    pub key: String,
    /// The value written.
    pub value: f64,
    /// The statistic or method behind it.
    pub basis: String,
}

/// The generator fitted to a market's statistics.
#[derive(Clone, Debug, PartialEq)]
pub struct Calibration {
    /// The fitted market (the template's other settings kept).
    pub market: MarketConfig,
    /// Every parameter the fit set, in the order they were set.
    pub fitted: Vec<FittedParam>,
    /// What could not be fitted and was left or switched off, in words.
    pub warnings: Vec<String>,
    /// The round of simulated moments kept (0: the direct fit).
    pub kept_round: u32,
    /// The settings the fit chose that are not numbers (a model, a switch), in the
    /// order they were chosen.
    pub choices: Vec<FittedChoice>,
    /// How far from the touch quotes would follow the fundamental, ticks, should
    /// quotes staying put leave the spread too wide (decided by [`refine`]).
    pub follow_near_touch: Option<f64>,
}

/// A fitted setting that is not a number: which model or whether a switch is on.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FittedChoice {
    /// The `[market]` key.
    pub key: String,
    /// The value as a scenario file writes it (`true`, `"lognormal"`).
    pub value: String,
    /// Why, in words.
    pub basis: String,
}

impl Calibration {
    fn set(&mut self, key: &str, value: f64, basis: String) {
        self.fitted.retain(|param| param.key != key);
        self.fitted.push(FittedParam { key: key.to_string(), value, basis });
    }

    fn choose(&mut self, key: &str, value: String, basis: String) {
        self.choices.retain(|choice| choice.key != key);
        self.choices.push(FittedChoice { key: key.to_string(), value, basis });
    }
}

/// Fits the generator to `stats`; `template` gives the instrument and every setting
/// the fit does not touch.
pub fn fit(stats: &MarketStats, template: &MarketConfig) -> Calibration {
    let mut calibration = Calibration {
        market: template.clone(),
        fitted: Vec::new(),
        warnings: Vec::new(),
        kept_round: 0,
        choices: Vec::new(),
        follow_near_touch: None,
    };
    fit_price(stats, &mut calibration);
    fit_flow(stats, &mut calibration);
    fit_sizes(stats, &mut calibration);
    fit_book(stats, &mut calibration);
    hold_in_domain(&mut calibration);
    calibration
}

/// The generator's range for each fitted key (as `MarketConfig` validates it).
const DOMAIN: [(&str, f64, f64); 23] = [
    ("initial_price", 1e-6, 1e12),
    ("volatility_annual", 0.0, 20.0),
    ("buy_flow_share", 0.01, 0.99),
    ("market_rate_per_s", 0.0, 1e6),
    ("hawkes_alpha_per_s", 0.0, 1e6),
    ("hawkes_beta_per_s", 1e-3, 1e6),
    ("hawkes_slow_alpha_per_s", 0.0, 1e6),
    ("hawkes_slow_beta_per_s", 1e-3, 1e6),
    ("market_size_pareto_alpha", 0.5, 10.0),
    ("market_size_median_lots", 1.0, 1e12),
    ("market_size_sigma", 0.0, 10.0),
    ("market_size_min_lots", 1.0, 1e12),
    ("market_size_max_lots", 1.0, 1e12),
    ("limit_rate_per_s", 0.01, 1e6),
    ("limit_size_lots", 1.0, 1e9),
    ("cancel_rate_per_s", 0.0, 1e6),
    ("limit_new_level_share", 0.01, 1.0),
    ("depth_decay_ticks", 0.1, 1e6),
    ("follow_depth_ticks", 1.0, 1e6),
    ("initial_touch_lots", 1.0, 1e12),
    ("initial_levels", 1.0, 1e5),
    ("stress_per_hour", 0.0, 3_600.0),
    ("jumps_per_hour", 0.0, 3_600.0),
];

/// Holds every fitted value within the generator's range, warning of each held
/// (sizes beyond it mean the lot grid is too fine for the generator).
fn hold_in_domain(calibration: &mut Calibration) {
    for (key, min, max) in DOMAIN {
        let Some(param) = calibration.fitted.iter_mut().find(|param| param.key == key) else { continue };
        if (min..=max).contains(&param.value) {
            continue;
        }
        let held = param.value.clamp(min, max);
        let hint = if key.ends_with("_lots") { " (a coarser lot grid keeps sizes in range)" } else { "" };
        calibration
            .warnings
            .push(format!("{key} fitted {} is outside the generator's [{min}, {max}]: held at {held}{hint}", significant(param.value)));
        param.value = held;
        set_market_value(&mut calibration.market, key, held);
    }
    let market = &mut calibration.market;
    market.market_size_max_lots = market.market_size_max_lots.max(market.market_size_min_lots);
}

/// A `[market]` field a fit sets: a real number or a whole number of lots or levels.
enum Field<'a> {
    Real(&'a mut f64),
    Whole(&'a mut i64),
}

/// The field of `market` that `key` names; every key a fit sets is here.
fn field<'a>(market: &'a mut MarketConfig, key: &str) -> Field<'a> {
    match key {
        "initial_price" => Field::Real(&mut market.initial_price),
        "volatility_annual" => Field::Real(&mut market.volatility_annual),
        "drift_annual" => Field::Real(&mut market.drift_annual),
        "buy_flow_share" => Field::Real(&mut market.buy_flow_share),
        "market_rate_per_s" => Field::Real(&mut market.market_rate_per_s),
        "hawkes_alpha_per_s" => Field::Real(&mut market.hawkes_alpha_per_s),
        "hawkes_beta_per_s" => Field::Real(&mut market.hawkes_beta_per_s),
        "hawkes_slow_alpha_per_s" => Field::Real(&mut market.hawkes_slow_alpha_per_s),
        "hawkes_slow_beta_per_s" => Field::Real(&mut market.hawkes_slow_beta_per_s),
        "market_size_pareto_alpha" => Field::Real(&mut market.market_size_pareto_alpha),
        "market_size_median_lots" => Field::Real(&mut market.market_size_median_lots),
        "market_size_sigma" => Field::Real(&mut market.market_size_sigma),
        "market_size_min_lots" => Field::Whole(&mut market.market_size_min_lots),
        "market_size_max_lots" => Field::Whole(&mut market.market_size_max_lots),
        "limit_rate_per_s" => Field::Real(&mut market.limit_rate_per_s),
        "limit_size_lots" => Field::Real(&mut market.limit_size_lots),
        "cancel_rate_per_s" => Field::Real(&mut market.cancel_rate_per_s),
        "limit_new_level_share" => Field::Real(&mut market.limit_new_level_share),
        "depth_decay_ticks" => Field::Real(&mut market.depth_decay_ticks),
        "follow_depth_ticks" => Field::Real(&mut market.follow_depth_ticks),
        "initial_touch_lots" => Field::Whole(&mut market.initial_touch_lots),
        "initial_levels" => Field::Whole(&mut market.initial_levels),
        "stress_per_hour" => Field::Real(&mut market.stress_per_hour),
        "jumps_per_hour" => Field::Real(&mut market.jumps_per_hour),
        _ => unreachable!("{key} is not a key the fit sets"),
    }
}

fn set_market_value(market: &mut MarketConfig, key: &str, value: f64) {
    match field(market, key) {
        Field::Real(real) => *real = value,
        Field::Whole(whole) => *whole = value.round() as i64,
    }
}

fn market_value(market: &mut MarketConfig, key: &str) -> f64 {
    match field(market, key) {
        Field::Real(real) => *real,
        Field::Whole(whole) => *whole as f64,
    }
}

/// Whether a fitted `key` holds a whole number (lots or levels), to be written as one.
pub fn is_whole_number(key: &str) -> bool {
    matches!(field(&mut MarketConfig::default(), key), Field::Whole(_))
}

/// The generator's range for `key`, one of [`DOMAIN`]'s.
fn domain(key: &str) -> (f64, f64) {
    DOMAIN.iter().find(|(name, ..)| *name == key).map(|&(_, min, max)| (min, max)).unwrap_or_else(|| unreachable!("{key} is in DOMAIN"))
}

/// Fewest 1-second returns a volatility is fitted from (or compared on).
pub const RETURNS_MIN: u64 = 10;

fn fit_price(stats: &MarketStats, calibration: &mut Calibration) {
    let tick_size = calibration.market.instrument.tick_size;
    match stats.first_mid_ticks {
        Some(mid_ticks) => {
            calibration.market.initial_price = mid_ticks * tick_size;
            calibration.set("initial_price", mid_ticks * tick_size, "the first mid".into());
        }
        None => calibration.warnings.push("the book was never two-sided: the template's initial price is kept".to_string()),
    }
    if let Some(volatility) = stats.realized_vol_measured() {
        let volatility = volatility.clamp(0.0, 20.0);
        calibration.market.volatility_annual = volatility;
        calibration.set("volatility_annual", volatility, format!("1-second mid returns ({} of them), annualized", stats.returns));
    } else {
        calibration.warnings.push(format!("{} one-second returns are too few to fit a volatility; the template's is kept", stats.returns));
    }
    let market = &mut calibration.market;
    (market.stress_per_hour, market.jumps_per_hour, market.drift_annual) = (0.0, 0.0, 0.0);
    calibration.set("stress_per_hour", 0.0, "regimes are not fitted".into());
    calibration.set("jumps_per_hour", 0.0, "jumps are not fitted".into());
    calibration.set("drift_annual", 0.0, "no drift is fitted".into());
    if stats.return_excess_kurtosis > 1.0 {
        calibration.warnings.push(format!(
            "the returns' excess kurtosis is {:.2}: regimes or jumps (stress_per_hour, jumps_per_hour) would add the fat tails the fit leaves out",
            stats.return_excess_kurtosis
        ));
    }
}

fn fit_flow(stats: &MarketStats, calibration: &mut Calibration) {
    let orders = stats.market_order_times_s.len();
    let market = &mut calibration.market;
    market.buy_flow_share = stats.buy_share.clamp(0.01, 0.99);
    let share = market.buy_flow_share;
    calibration.set("buy_flow_share", share, format!("share of the {orders} market orders that bought"));
    if orders >= HAWKES_ORDERS_MIN && stats.span_s > 0.0 {
        let hawkes = fit_hawkes(&stats.market_order_times_s, stats.span_s);
        if let Some(two) = fit_hawkes_slow(&stats.market_order_times_s, stats.span_s, &hawkes) {
            set_two_kernels(&two, &hawkes, stats, calibration);
            return;
        }
        let market = &mut calibration.market;
        (market.market_rate_per_s, market.hawkes_alpha_per_s, market.hawkes_beta_per_s) =
            (hawkes.mu_per_s, hawkes.alpha_per_s, hawkes.beta_per_s);
        let basis = if hawkes.alpha_per_s > 0.0 {
            format!(
                "Hawkes maximum likelihood on {orders} market orders (branching ratio {:.2}, mean rate {:.3}/s)",
                hawkes.alpha_per_s / hawkes.beta_per_s,
                stats.market_orders_per_s
            )
        } else {
            format!("{orders} market orders show no significant clustering (likelihood-ratio test): Poisson at their mean rate")
        };
        calibration.set("market_rate_per_s", hawkes.mu_per_s, basis.clone());
        calibration.set("hawkes_alpha_per_s", hawkes.alpha_per_s, basis.clone());
        calibration.set("hawkes_beta_per_s", hawkes.beta_per_s, basis);
    } else {
        let market = &mut calibration.market;
        (market.market_rate_per_s, market.hawkes_alpha_per_s) = (stats.market_orders_per_s, 0.0);
        calibration.set("market_rate_per_s", stats.market_orders_per_s, format!("mean rate of {orders} market orders"));
        calibration.set("hawkes_alpha_per_s", 0.0, format!("too few market orders for a Hawkes fit (under {HAWKES_ORDERS_MIN}): Poisson"));
        calibration.warnings.push(format!("{orders} market orders are too few to fit their clustering; the flow is Poisson"));
    }
}

/// The flow of a two-exponential Hawkes fit, its basis the gain over one.
fn set_two_kernels(two: &HawkesTwoFit, single: &HawkesFit, stats: &MarketStats, calibration: &mut Calibration) {
    let kernels = two.kernels;
    let market = &mut calibration.market;
    market.market_rate_per_s = two.mu_per_s;
    (market.hawkes_alpha_per_s, market.hawkes_beta_per_s) = (kernels.alpha_per_s, kernels.beta_per_s);
    (market.hawkes_slow_alpha_per_s, market.hawkes_slow_beta_per_s) = (kernels.slow_alpha_per_s, kernels.slow_beta_per_s);
    let basis = format!(
        "Hawkes maximum likelihood with two exponentials on {} market orders (branching ratios {:.2} + {:.2}, timescales {} and {} ms, mean rate {:.3}/s; log-likelihood {:.1} over one exponential's)",
        stats.market_order_times_s.len(),
        kernels.alpha_per_s / kernels.beta_per_s,
        kernels.slow_alpha_per_s / kernels.slow_beta_per_s,
        significant(1_000.0 / kernels.beta_per_s),
        significant(1_000.0 / kernels.slow_beta_per_s),
        stats.market_orders_per_s,
        two.log_likelihood - single.log_likelihood,
    );
    for (key, value) in [
        ("market_rate_per_s", two.mu_per_s),
        ("hawkes_alpha_per_s", kernels.alpha_per_s),
        ("hawkes_beta_per_s", kernels.beta_per_s),
        ("hawkes_slow_alpha_per_s", kernels.slow_alpha_per_s),
        ("hawkes_slow_beta_per_s", kernels.slow_beta_per_s),
    ] {
        calibration.set(key, value, basis.clone());
    }
}

fn fit_sizes(stats: &MarketStats, calibration: &mut Calibration) {
    let sizes = &stats.market_order_sizes_lots;
    if sizes.len() < 20 {
        calibration.warnings.push(format!("{} market orders are too few to fit their sizes; the template's are kept", sizes.len()));
        return;
    }
    let [median, .., largest] = stats.size_quantiles_lots;
    let smallest = sizes.iter().copied().min().unwrap_or(1).max(1);
    let alpha = hill_tail_index(sizes, median).clamp(0.5, 10.0);
    let pareto_minimum = ((median as f64 / 2f64.powf(1.0 / alpha)).round() as Lots).max(1);
    let pareto = SizeFit::Pareto { alpha, minimum_lots: pareto_minimum };
    let lognormal = lognormal_fit(sizes);
    let pareto_miss = quantile_miss(&pareto, &stats.size_quantiles_lots);
    let lognormal_miss = quantile_miss(&lognormal, &stats.size_quantiles_lots);
    let chosen = if lognormal_miss < pareto_miss { lognormal } else { pareto };
    let basis = format!(
        "of the fits to {} market orders, the closer at the recorded median, 90th and 99th percentiles (summed log misses: Pareto {}, lognormal {})",
        sizes.len(),
        significant(pareto_miss),
        significant(lognormal_miss)
    );
    let market = &mut calibration.market;
    match chosen {
        SizeFit::Pareto { alpha, minimum_lots } => {
            market.market_size_model = MarketSizeModel::Pareto;
            (market.market_size_pareto_alpha, market.market_size_min_lots) = (alpha, minimum_lots);
            calibration.choose("market_size_model", "\"pareto\"".into(), basis);
            let basis = format!("Hill's estimator above the median size ({median} lots) of {} market orders", sizes.len());
            calibration.set("market_size_pareto_alpha", alpha, basis);
            let basis = format!("a Pareto minimum whose median is the recorded median, {median} lots");
            calibration.set("market_size_min_lots", minimum_lots as f64, basis);
        }
        SizeFit::Lognormal { median_lots, sigma } => {
            market.market_size_model = MarketSizeModel::Lognormal;
            (market.market_size_median_lots, market.market_size_sigma, market.market_size_min_lots) = (median_lots, sigma, smallest);
            calibration.choose("market_size_model", "\"lognormal\"".into(), basis);
            let basis = format!("maximum likelihood on the logs of {} market orders", sizes.len());
            calibration.set("market_size_median_lots", median_lots, basis.clone());
            calibration.set("market_size_sigma", sigma, basis);
            calibration.set("market_size_min_lots", smallest as f64, "the smallest recorded market order".into());
        }
    }
    let market = &mut calibration.market;
    market.market_size_max_lots = largest.max(market.market_size_min_lots);
    let largest_lots = market.market_size_max_lots as f64;
    calibration.set("market_size_max_lots", largest_lots, "the largest recorded market order".into());
}

/// A distribution of market-order sizes fitted to recorded ones.
#[derive(Copy, Clone, Debug, PartialEq)]
enum SizeFit {
    Pareto { alpha: f64, minimum_lots: Lots },
    Lognormal { median_lots: f64, sigma: f64 },
}

impl SizeFit {
    /// The size below which a share `p` of the fitted sizes lie, lots.
    fn quantile_lots(&self, p: f64) -> f64 {
        match *self {
            SizeFit::Pareto { alpha, minimum_lots } => minimum_lots as f64 * (1.0 - p).powf(-1.0 / alpha),
            SizeFit::Lognormal { median_lots, sigma } => median_lots * (sigma * standard_normal_quantile(p)).exp(),
        }
    }
}

/// The lognormal of sizes by maximum likelihood: the mean and standard deviation of
/// their logarithms (the median is the exponential of the mean).
fn lognormal_fit(sizes: &[Lots]) -> SizeFit {
    let (mean, sd) = log_mean_and_sd(sizes);
    SizeFit::Lognormal { median_lots: mean.exp().clamp(1.0, 1e12), sigma: sd.clamp(0.0, 10.0) }
}

/// Mean and standard deviation of the natural logarithms of `sizes` (non-empty).
fn log_mean_and_sd(sizes: &[Lots]) -> (f64, f64) {
    let logs: Vec<f64> = sizes.iter().map(|&size| (size.max(1) as f64).ln()).collect();
    let mean = logs.iter().sum::<f64>() / logs.len() as f64;
    let variance = logs.iter().map(|log| (log - mean).powi(2)).sum::<f64>() / logs.len() as f64;
    (mean, variance.sqrt())
}

/// How far a fit's median, 90th and 99th percentiles lie from the recorded ones:
/// summed absolute log-ratios, each fitted quantile cut at the largest recorded
/// order as the generator cuts its draws.
fn quantile_miss(fit: &SizeFit, recorded: &[i64; 4]) -> f64 {
    let [p50, p90, p99, largest] = *recorded;
    [(0.5, p50), (0.9, p90), (0.99, p99)]
        .iter()
        .map(|&(p, recorded_lots)| (fit.quantile_lots(p).min(largest as f64).max(1.0) / recorded_lots.max(1) as f64).ln().abs())
        .sum()
}

/// The standard normal's quantile function (statrs' inverse CDF).
fn standard_normal_quantile(p: f64) -> f64 {
    use statrs::distribution::{ContinuousCDF, Normal};
    Normal::standard().inverse_cdf(p)
}

fn fit_book(stats: &MarketStats, calibration: &mut Calibration) {
    if stats.book_samples == 0 || stats.span_s <= 0.0 {
        calibration.warnings.push("the book was never two-sided: its shape is not fitted".to_string());
        return;
    }
    let decay = depth_decay_ticks(&stats.depth_profile_lots).unwrap_or(calibration.market.depth_decay_ticks);
    let market = &mut calibration.market;
    market.limit_rate_per_s = stats.level_adds_per_s.max(0.01);
    market.limit_size_lots = stats.added_lots_mean.max(1.0);
    market.cancel_rate_per_s = stats.cancels_per_s;
    market.depth_decay_ticks = decay.clamp(0.1, 1e6);
    market.initial_touch_lots = (stats.touch_lots_mean.round() as Lots).max(1);
    market.initial_levels = (stats.levels_mean.round() as i64).clamp(1, PROFILE_TICKS as i64);
    let fitted = [
        ("limit_rate_per_s", market.limit_rate_per_s, "level increases in the diffs, per second (a lower bound on a conflated feed)"),
        ("limit_size_lots", market.limit_size_lots, "mean level increase"),
        ("cancel_rate_per_s", market.cancel_rate_per_s, "level decreases the trades do not explain, per second"),
        ("depth_decay_ticks", market.depth_decay_ticks, "decay length of the mean depth behind the best price"),
        ("initial_touch_lots", market.initial_touch_lots as f64, "mean size at the best price"),
        ("initial_levels", market.initial_levels as f64, "mean levels per side within 64 ticks of the best price"),
    ];
    for (key, value, basis) in fitted {
        calibration.set(key, value, basis.to_string());
    }
    fit_requoting(stats, calibration);
}

/// Decay lengths of the depth profile a step's move must pass for every quote to
/// follow the fundamental (1 − e⁻³ = 95 % of an exponential profile lies within).
pub const FOLLOW_DECAY_LENGTHS: f64 = 3.0;

/// Mean spreads a step's move must pass before the quotes near the touch may be
/// made to follow the fundamental (when the whole book need not).
pub const FOLLOW_SPREADS: f64 = 3.0;

/// How many times the recorded spread the direct fit's simulated spread must pass,
/// with quotes staying put, for the quotes near the touch to follow instead.
pub const FOLLOW_SPREAD_MISS: f64 = 2.0;

/// Whether the others' quotes follow the fundamental. All of them must when the
/// price typically moves past most of the book's depth in one step (one standard
/// deviation of a step's move beyond [`FOLLOW_DECAY_LENGTHS`] decay lengths of the
/// depth, where 95 % of an exponential profile lies), or pulling stale quotes would
/// empty whole sides; otherwise quotes stay put and only stale ones are pulled, so
/// a price jittering within a few ticks does not move the book. Where the depth
/// reaches farther but a step still moves the price several spreads (beyond
/// [`FOLLOW_SPREADS`]), the quotes within one step's move of the touch are a
/// candidate to follow: [`refine`] makes them follow if quotes staying put leave
/// the spread too wide.
fn fit_requoting(stats: &MarketStats, calibration: &mut Calibration) {
    let market = &mut calibration.market;
    let (Some(mid_ticks), Some(volatility)) = (stats.first_mid_ticks, stats.realized_vol_measured()) else {
        let (follow, basis) = (market.quotes_follow_fundamental, "the volatility is not measured: quotes stay put (the default)");
        calibration.choose("quotes_follow_fundamental", follow.to_string(), basis.to_string());
        return;
    };
    let step_s = market.step_ms as f64 / 1_000.0;
    let step_sd_ticks = volatility * (step_s / SECONDS_PER_YEAR).sqrt() * mid_ticks;
    let reach_ticks = FOLLOW_DECAY_LENGTHS * market.depth_decay_ticks;
    market.quotes_follow_fundamental = step_sd_ticks > reach_ticks;
    let follow = market.quotes_follow_fundamental;
    let relation = if follow { "beyond" } else { "within" };
    let basis = format!(
        "the price moves {} ticks a {} ms step (one standard deviation), {relation} the {} ticks where 95 % of the depth lies",
        significant(step_sd_ticks),
        market.step_ms,
        significant(reach_ticks)
    );
    calibration.choose("quotes_follow_fundamental", follow.to_string(), basis);
    if !follow && stats.book_samples > 0 && step_sd_ticks > FOLLOW_SPREADS * stats.spread_mean_ticks {
        calibration.follow_near_touch = Some(step_sd_ticks.ceil().max(1.0));
    }
}

/// Makes the quotes near the touch follow the fundamental when the direct fit,
/// quotes staying put, leaves a spread more than [`FOLLOW_SPREAD_MISS`] times the
/// recorded one and [`fit_requoting`] named a depth: a step then opens the spread
/// by its move and only new orders close it. Returns whether it did.
fn follow_near_touch(recorded: &MarketStats, simulated: &MarketStats, calibration: &mut Calibration) -> bool {
    let Some(depth_ticks) = calibration.follow_near_touch else { return false };
    let (wanted, got) = (recorded.spread_mean_ticks, simulated.spread_mean_ticks);
    if simulated.book_samples == 0 || got <= FOLLOW_SPREAD_MISS * wanted {
        return false;
    }
    calibration.market.quotes_follow_fundamental = true;
    calibration.market.follow_depth_ticks = depth_ticks;
    let stayed = calibration.choices.iter().find(|choice| choice.key == "quotes_follow_fundamental").map(|choice| choice.basis.clone());
    let basis = format!(
        "{}, but beyond {FOLLOW_SPREADS} mean spreads of {} ticks, and quotes staying put left a spread of {} ticks: those near the touch follow",
        stayed.unwrap_or_default(),
        significant(wanted),
        significant(got)
    );
    calibration.choose("quotes_follow_fundamental", "true".to_string(), basis);
    calibration.set("follow_depth_ticks", depth_ticks, "one step's move (one standard deviation) from the touch".to_string());
    true
}

/// A parameter that simulated moments steer, and the statistic that steers it.
struct Steering {
    /// The `[market]` key (one of [`DOMAIN`]'s).
    key: &'static str,
    /// The statistic, as its name in [`MarketStats`] reads.
    statistic: &'static str,
    /// The statistic's value in the first stats, when it can be measured; the second
    /// are the recorded ones (for a threshold both sides share).
    measure: fn(&MarketStats, &MarketStats) -> Option<f64>,
    /// d ln(statistic) / d ln(parameter), roughly (negative where the statistic falls
    /// as the parameter grows): each step moves the parameter by the log-ratio of
    /// recorded to simulated statistic divided by it.
    elasticity: f64,
    /// Whether the parameter acts in this market (the size tail's belongs to one model).
    applies: fn(&MarketConfig) -> bool,
}

fn always(_: &MarketConfig) -> bool {
    true
}

/// `part` of `whole` in percent (0 of nothing).
fn percent(part: u64, whole: u64) -> f64 {
    if whole > 0 { 100.0 * part as f64 / whole as f64 } else { 0.0 }
}

/// The mean spread, when the book was ever two-sided.
fn spread_measured(stats: &MarketStats, _: &MarketStats) -> Option<f64> {
    (stats.book_samples > 0).then_some(stats.spread_mean_ticks).and_then(positive)
}

/// Fewest market orders whose size statistics (median, spread of the logs) steer.
const STEERED_SIZES_MIN: usize = 20;

fn positive(value: f64) -> Option<f64> {
    (value.is_finite() && value > 0.0).then_some(value)
}

/// The steered pairs. Each statistic moves mostly with its own parameter, so
/// scaling every parameter by its statistic's ratio at once converges in a few rounds.
const STEERING: [Steering; 11] = [
    Steering {
        key: "volatility_annual",
        statistic: "realized_vol_annual",
        measure: |stats, _| stats.realized_vol_measured().and_then(positive),
        elasticity: 1.0,
        applies: always,
    },
    Steering {
        key: "limit_rate_per_s",
        statistic: "level_adds_per_s",
        measure: |stats, _| positive(stats.level_adds_per_s),
        elasticity: 1.0,
        applies: always,
    },
    Steering {
        key: "limit_size_lots",
        statistic: "added_lots_mean",
        measure: |stats, _| positive(stats.added_lots_mean),
        elasticity: 1.0,
        applies: always,
    },
    Steering {
        key: "cancel_rate_per_s",
        statistic: "cancels_per_s",
        measure: |stats, _| positive(stats.cancels_per_s),
        elasticity: 1.0,
        applies: always,
    },
    Steering {
        key: "market_rate_per_s",
        statistic: "market_orders_per_s",
        measure: |stats, _| positive(stats.market_orders_per_s),
        elasticity: 1.0,
        applies: always,
    },
    Steering {
        key: "depth_decay_ticks",
        statistic: "depth_profile_lots (decay length)",
        measure: |stats, _| depth_decay_ticks(&stats.depth_profile_lots),
        elasticity: 1.0,
        applies: always,
    },
    Steering {
        // Indirect inference: the same estimator on both sides, whatever else trades.
        key: "market_size_pareto_alpha",
        statistic: "Hill's index of market-order sizes above the recorded median",
        measure: |stats, recorded| positive(hill_tail_index(&stats.market_order_sizes_lots, recorded.size_quantiles_lots[0])),
        elasticity: 0.2,
        applies: |market| market.market_size_model == MarketSizeModel::Pareto,
    },
    Steering {
        // Orders joining existing levels gather the book and widen the spread: how a
        // fine-tick book (one whose quotes follow the price) stays sparse. On a
        // coarser tick the spread is the depth's decay and the flow's doing.
        key: "limit_new_level_share",
        statistic: "spread_mean_ticks",
        measure: spread_measured,
        elasticity: -0.6,
        applies: |market| market.quotes_follow_fundamental && market.follow_depth_ticks == 0.0,
    },
    Steering {
        // Where only the quotes near the touch follow, the deeper they reach the
        // fewer steps leave the touch behind (measured: twice the depth, ~0.8 times
        // the spread, until it reaches a step's typical move).
        key: "follow_depth_ticks",
        statistic: "spread_mean_ticks",
        measure: spread_measured,
        elasticity: -0.3,
        applies: |market| market.quotes_follow_fundamental && market.follow_depth_ticks > 0.0,
    },
    Steering {
        key: "market_size_median_lots",
        statistic: "the median market-order size",
        measure: |stats, _| {
            (stats.market_order_sizes_lots.len() >= STEERED_SIZES_MIN).then(|| stats.size_quantiles_lots[0] as f64).and_then(positive)
        },
        elasticity: 1.0,
        applies: |market| market.market_size_model == MarketSizeModel::Lognormal,
    },
    Steering {
        key: "market_size_sigma",
        statistic: "the standard deviation of log market-order sizes",
        measure: |stats, _| log_size_sd(&stats.market_order_sizes_lots).and_then(positive),
        elasticity: 1.0,
        applies: |market| market.market_size_model == MarketSizeModel::Lognormal,
    },
];

/// How far the refinement may move a parameter from its direct fit, either way (×8).
pub const REFINE_REACH: f64 = 8.0;

/// A steered statistic the best round still misses by more than this (log-ratio,
/// ~25 %) is named in a warning: the generator cannot produce it with the rest.
const MISS_WARNED_LN: f64 = 0.22;

/// Corrects a fit by simulated moments: simulates the fitted market (seed `seed`,
/// `duration_s`, on `exchange`'s links, the engine standing aside) `rounds` times,
/// each time moving every steered parameter so that its statistic, as simulated,
/// meets the recorded one: a step in log space by the statistic's log-ratio over
/// its elasticity (measured on the generator: 1 for rates, sizes and lengths that
/// the feed shows nearly as they are, 0.2 for the Pareto index, which the flow of
/// limit orders priced through the touch dilutes), at most ×2 or ÷2 a round and
/// within [`REFINE_REACH`] of the direct fit, the same seed every round so that
/// differences are not noise. The generator makes flow of its own (limit orders
/// priced through the touch trade, stale quotes are pulled or every quote moves,
/// far levels cleaned; a frame's trades reach the feed at one time, so orders of
/// one side in a frame read as one), so what a feed shows is not its parameters:
/// the direct fit is where the search starts. A recording the generator cannot
/// imitate (a book shape it does not make) would send the search astray, so the
/// round whose statistics lie closest to the recorded ones (summed absolute
/// log-ratios over the elasticities) is kept, the direct fit included, and each
/// statistic it still misses by over ~25 % is named in a warning. Returns the kept
/// calibration and its simulation's statistics.
pub fn refine(
    recorded: &MarketStats,
    calibration: Calibration,
    exchange: &ExchangeConfig,
    seed: u64,
    duration_s: f64,
    rounds: u32,
) -> Result<(Calibration, MarketStats), SimError> {
    let mut calibration = calibration;
    let mut simulated = simulated_stats(&calibration.market, exchange, seed, duration_s)?;
    if follow_near_touch(recorded, &simulated, &mut calibration) {
        simulated = simulated_stats(&calibration.market, exchange, seed, duration_s)?;
    }
    let mut direct = calibration.market.clone();
    let mut market = direct.clone();
    let mut best = (distance(recorded, &simulated, &market), 0, market.clone(), simulated.clone());
    for round in 1..=rounds {
        for steering in steered(&direct) {
            let (Some(wanted), Some(got)) = ((steering.measure)(recorded, recorded), (steering.measure)(&simulated, recorded)) else {
                continue;
            };
            let step = ((wanted / got).ln() / steering.elasticity).clamp(-std::f64::consts::LN_2, std::f64::consts::LN_2);
            let start = market_value(&mut direct, steering.key);
            let (min, max) = domain(steering.key);
            let value =
                (market_value(&mut market, steering.key) * step.exp()).clamp(start / REFINE_REACH, start * REFINE_REACH).clamp(min, max);
            set_market_value(&mut market, steering.key, value);
        }
        simulated = simulated_stats(&market, exchange, seed, duration_s)?;
        let here = distance(recorded, &simulated, &market);
        if here < best.0 {
            best = (here, round, market.clone(), simulated.clone());
        }
    }
    let (_, kept_round, market, simulated) = best;
    Ok((kept(calibration, market, recorded, &simulated, kept_round, rounds, (seed, duration_s)), simulated))
}

/// The calibration with the kept round's market, each steered value's basis, and a
/// warning for each statistic still missed.
fn kept(
    mut calibration: Calibration,
    market: MarketConfig,
    recorded: &MarketStats,
    simulated: &MarketStats,
    kept_round: u32,
    rounds: u32,
    (seed, duration_s): (u64, f64),
) -> Calibration {
    calibration.market = market;
    calibration.kept_round = kept_round;
    if kept_round > 0 {
        for steering in steered(&calibration.market) {
            let basis = format!(
                "simulated moments, round {kept_round} of {rounds} ({duration_s:.0} s, seed {seed}), matching {}",
                steering.statistic
            );
            let value = market_value(&mut calibration.market, steering.key);
            calibration.set(steering.key, value, basis);
        }
    } else if rounds > 0 {
        calibration
            .warnings
            .push(format!("no round of simulated moments came closer to the recording than the direct fit ({rounds} tried)"));
    }
    for steering in steered(&calibration.market) {
        let Some(wanted) = (steering.measure)(recorded, recorded) else { continue };
        let got = (steering.measure)(simulated, recorded);
        let Some(got) = got else {
            calibration.warnings.push(format!(
                "{} is {} recorded and not measurable in {duration_s:.0} s of simulation: simulate longer to compare it",
                steering.statistic,
                significant(wanted)
            ));
            continue;
        };
        if (wanted / got).ln().abs() > MISS_WARNED_LN {
            let why = if rounds == 0 {
                "with the direct fit (no round of simulated moments was run)"
            } else {
                "the generator does not make this market's shape with the rest fitted"
            };
            calibration.warnings.push(format!(
                "{} is {} recorded and {} simulated: {why}",
                steering.statistic,
                significant(wanted),
                significant(got)
            ));
        }
    }
    calibration
}

/// Summed absolute log-ratios of the steered statistics, simulated against recorded,
/// each over its elasticity: roughly how far, in log space, the parameters are from
/// where they should be (so a statistic that barely follows its parameter counts
/// for the distance its parameter still has to go). A statistic recorded but not
/// measurable in the simulation counts as missed by [`UNMEASURED_MISS_LN`], so a
/// round that loses a statistic never looks closer for it.
fn distance(recorded: &MarketStats, simulated: &MarketStats, market: &MarketConfig) -> f64 {
    steered(market)
        .into_iter()
        .filter_map(|steering| {
            let wanted = (steering.measure)(recorded, recorded)?;
            let miss_ln = (steering.measure)(simulated, recorded).map_or(UNMEASURED_MISS_LN, |got| (wanted / got).ln().abs());
            Some(miss_ln / steering.elasticity.abs())
        })
        .sum()
}

/// The `[market]` keys the refinement steers in `market`, in steering order.
pub fn steered_keys(market: &MarketConfig) -> Vec<&'static str> {
    steered(market).iter().map(|steering| steering.key).collect()
}

/// The steered pairs that act in `market` (the size tail's parameter is its model's).
fn steered(market: &MarketConfig) -> Vec<&'static Steering> {
    STEERING.iter().filter(|steering| (steering.applies)(market)).collect()
}

/// The standard deviation of the logs of `sizes` (none for fewer than 20).
fn log_size_sd(sizes: &[Lots]) -> Option<f64> {
    (sizes.len() >= STEERED_SIZES_MIN).then(|| log_mean_and_sd(sizes).1)
}

/// The log-miss a statistic the simulation cannot measure counts for: as far off as
/// the refinement can move a parameter (×[`REFINE_REACH`]).
const UNMEASURED_MISS_LN: f64 = 2.079_441_541_679_835_8; // ln 8

fn significant(value: f64) -> String {
    if value.abs() >= 100.0 { format!("{value:.0}") } else { format!("{value:.3}") }
}

/// A Hawkes process with exponential kernel fitted by maximum likelihood.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct HawkesFit {
    /// Baseline intensity μ, per second.
    pub mu_per_s: f64,
    /// Jump of the intensity per arrival α, per second.
    pub alpha_per_s: f64,
    /// Decay rate β, per second.
    pub beta_per_s: f64,
    /// The log-likelihood at the fit.
    pub log_likelihood: f64,
}

/// Half the 95 % point of χ² with 2 degrees of freedom: the log-likelihood a
/// Hawkes fit must gain over a Poisson one (its two extra parameters) to be kept.
pub const HAWKES_LIKELIHOOD_GAIN_MIN: f64 = 3.0;

/// Fits `λ(t) = μ + Σ α·e^{−β(t − tᵢ)}` to arrival `times_s` (ascending, in
/// `[0, span_s]`) by maximum likelihood: a grid over β (log-spaced, 0.1 to 1,000
/// per second: clustering over seconds, not the slow swings that regimes explain)
/// and the branching ratio α/β (0 to 0.95), refined once around the best point,
/// with μ solved by Newton's method at each point. Unless the fit gains
/// [`HAWKES_LIKELIHOOD_GAIN_MIN`] over Poisson arrivals (a likelihood-ratio test
/// at 5 %), the Poisson fit (α = 0, β = 1) is returned.
pub fn fit_hawkes(times_s: &[f64], span_s: f64) -> HawkesFit {
    let count = times_s.len() as f64;
    let poisson =
        HawkesFit { mu_per_s: count / span_s, alpha_per_s: 0.0, beta_per_s: 1.0, log_likelihood: count * (count / span_s).ln() - count };
    let coarse_betas: Vec<f64> = (0..=20).map(|step| 0.1 * 10f64.powf(step as f64 * 0.2)).collect();
    let coarse_ratios: Vec<f64> = (0..=19).map(|step| step as f64 * 0.05).collect();
    let best = best_on_grid(times_s, span_s, &coarse_betas, &coarse_ratios);
    let fine_betas: Vec<f64> = (-4..=4).map(|step| best.beta_per_s * 10f64.powf(step as f64 * 0.05)).collect();
    let ratio = best.alpha_per_s / best.beta_per_s;
    let fine_ratios: Vec<f64> = (-4..=4).map(|step| (ratio + step as f64 * 0.0125).clamp(0.0, 0.95)).collect();
    let fine = best_on_grid(times_s, span_s, &fine_betas, &fine_ratios);
    let best = if fine.log_likelihood > best.log_likelihood { fine } else { best };
    if best.log_likelihood - poisson.log_likelihood >= HAWKES_LIKELIHOOD_GAIN_MIN { best } else { poisson }
}

/// A Hawkes process with a kernel of two exponentials fitted by maximum likelihood.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct HawkesTwoFit {
    /// Baseline intensity μ, per second.
    pub mu_per_s: f64,
    /// Both exponentials' jumps and decay rates.
    pub kernels: HawkesKernels,
    /// The log-likelihood at the fit.
    pub log_likelihood: f64,
}

/// Most branching (both kernels together) a two-exponential fit may have: nearer 1
/// the simulated flow's bursts would outgrow what minutes of data can vouch for.
pub const HAWKES_BRANCHING_MAX: f64 = 0.95;

/// Fits a second, slower exponential beside the one of `single` (the one-exponential
/// fit to the same times): for each pair of decay rates on a grid (the first within
/// a factor 2.5 of the single fit's; the second from 0.01 per second, log-spaced,
/// up to a tenth of the first), μ and both jumps by expectation-maximization (each
/// arrival's intensity split among the baseline and the two kernels, in proportion,
/// and each part re-estimated from its share: the likelihood never falls, and with
/// the decay rates fixed it is concave, so this finds its maximum), the best pair
/// kept. Returns it when it gains [`HAWKES_LIKELIHOOD_GAIN_MIN`] over the single
/// fit (two more parameters: the same test) and its branching ratios add up to at
/// most [`HAWKES_BRANCHING_MAX`]; none otherwise, or when `single` found no
/// clustering.
pub fn fit_hawkes_slow(times_s: &[f64], span_s: f64, single: &HawkesFit) -> Option<HawkesTwoFit> {
    if single.alpha_per_s <= 0.0 || times_s.is_empty() {
        return None;
    }
    let slow_betas: Vec<f64> = (0..).map(|step| 0.01 * 10f64.powf(step as f64 * 0.2)).take_while(|beta| *beta <= 1e3).collect();
    let slow_kernels: Vec<ExcitationKernel> = slow_betas.iter().map(|&beta| ExcitationKernel::new(times_s, span_s, beta)).collect();
    let mut best: Option<HawkesTwoFit> = None;
    for step in -4..=4 {
        let fast = ExcitationKernel::new(times_s, span_s, single.beta_per_s * 10f64.powf(step as f64 * 0.1));
        for slow in slow_kernels.iter().filter(|slow| slow.beta_per_s * 10.0 <= fast.beta_per_s) {
            let fit = two_kernel_em(span_s, &fast, slow, single);
            if best.is_none_or(|best| fit.log_likelihood > best.log_likelihood) {
                best = Some(fit);
            }
        }
    }
    best.filter(|fit| {
        fit.log_likelihood - single.log_likelihood >= HAWKES_LIKELIHOOD_GAIN_MIN && fit.kernels.branching_ratio() <= HAWKES_BRANCHING_MAX
    })
}

/// One exponential's excitations at each arrival and its compensator's sum.
struct ExcitationKernel {
    beta_per_s: f64,
    /// `Aᵢ = Σ_{j<i} e^{−β(tᵢ − tⱼ)}`.
    excitations: Vec<f64>,
    /// `Σᵢ (1 − e^{−β(T − tᵢ)}) / β`: the integral of the kernel's intensity per unit jump.
    compensator_s: f64,
}

impl ExcitationKernel {
    fn new(times_s: &[f64], span_s: f64, beta_per_s: f64) -> Self {
        let compensator_s = times_s.iter().map(|time| (1.0 - (-beta_per_s * (span_s - time)).exp()) / beta_per_s).sum();
        ExcitationKernel { beta_per_s, excitations: excitations(times_s, beta_per_s), compensator_s }
    }
}

/// Iterations of [`two_kernel_em`] at most, and the relative change that ends it.
const EM_ITERATIONS_MAX: usize = 300;
const EM_TOLERANCE: f64 = 1e-6;

/// μ and both jumps for fixed decay rates by expectation-maximization, started from
/// the single fit's baseline and branching with a tenth of a branching on the slow one.
fn two_kernel_em(span_s: f64, fast: &ExcitationKernel, slow: &ExcitationKernel, single: &HawkesFit) -> HawkesTwoFit {
    let single_ratio = single.alpha_per_s / single.beta_per_s;
    let (mut mu, mut fast_alpha, mut slow_alpha) = (single.mu_per_s, single_ratio * 0.9 * fast.beta_per_s, 0.1 * slow.beta_per_s);
    for _ in 0..EM_ITERATIONS_MAX {
        let (mut baseline_share, mut fast_share, mut slow_share) = (0.0, 0.0, 0.0);
        for (fast_excitation, slow_excitation) in fast.excitations.iter().zip(&slow.excitations) {
            let intensity = mu + fast_alpha * fast_excitation + slow_alpha * slow_excitation;
            baseline_share += mu / intensity;
            fast_share += fast_alpha * fast_excitation / intensity;
            slow_share += slow_alpha * slow_excitation / intensity;
        }
        let next = (baseline_share / span_s, fast_share / fast.compensator_s, slow_share / slow.compensator_s);
        let change = [(next.0, mu), (next.1, fast_alpha), (next.2, slow_alpha)]
            .iter()
            .map(|(new, old)| (new - old).abs() / old.max(1e-12))
            .fold(0.0, f64::max);
        (mu, fast_alpha, slow_alpha) = next;
        if change < EM_TOLERANCE {
            break;
        }
    }
    let log_likelihood = fast
        .excitations
        .iter()
        .zip(&slow.excitations)
        .map(|(fast_excitation, slow_excitation)| (mu + fast_alpha * fast_excitation + slow_alpha * slow_excitation).ln())
        .sum::<f64>()
        - mu * span_s
        - fast_alpha * fast.compensator_s
        - slow_alpha * slow.compensator_s;
    let kernels = HawkesKernels {
        alpha_per_s: fast_alpha,
        beta_per_s: fast.beta_per_s,
        slow_alpha_per_s: slow_alpha,
        slow_beta_per_s: slow.beta_per_s,
    };
    HawkesTwoFit { mu_per_s: mu, kernels, log_likelihood }
}

fn best_on_grid(times_s: &[f64], span_s: f64, betas: &[f64], ratios: &[f64]) -> HawkesFit {
    let mut best =
        HawkesFit { mu_per_s: times_s.len() as f64 / span_s, alpha_per_s: 0.0, beta_per_s: 1.0, log_likelihood: f64::NEG_INFINITY };
    for &beta in betas {
        let decayed = excitations(times_s, beta);
        let compensator_tail: f64 = times_s.iter().map(|time| 1.0 - (-beta * (span_s - time)).exp()).sum();
        for &ratio in ratios {
            let alpha = ratio * beta;
            let mu = solve_baseline(&decayed, alpha, span_s, (times_s.len() as f64 * (1.0 - ratio) / span_s).max(1e-9));
            let log_likelihood =
                decayed.iter().map(|excitation| (mu + alpha * excitation).ln()).sum::<f64>() - mu * span_s - ratio * compensator_tail;
            if log_likelihood > best.log_likelihood {
                best = HawkesFit { mu_per_s: mu, alpha_per_s: alpha, beta_per_s: beta, log_likelihood };
            }
        }
    }
    best
}

/// `Aᵢ = Σ_{j<i} e^{−β(tᵢ − tⱼ)}`, so that `λ(tᵢ) = μ + α·Aᵢ`.
fn excitations(times_s: &[f64], beta: f64) -> Vec<f64> {
    let mut excitation = 0.0;
    let mut previous: Option<f64> = None;
    times_s
        .iter()
        .map(|&time| {
            if let Some(previous) = previous {
                excitation = (-beta * (time - previous)).exp() * (1.0 + excitation);
            }
            previous = Some(time);
            excitation
        })
        .collect()
}

/// The μ > 0 at which the likelihood's derivative in μ, `Σ 1/λᵢ − T`, vanishes.
fn solve_baseline(excitations: &[f64], alpha: f64, span_s: f64, start: f64) -> f64 {
    let mut mu = start;
    for _ in 0..30 {
        let (mut slope, mut curvature) = (-span_s, 0.0);
        for excitation in excitations {
            let inverse = 1.0 / (mu + alpha * excitation);
            slope += inverse;
            curvature -= inverse * inverse;
        }
        if curvature == 0.0 {
            break;
        }
        let next = (mu - slope / curvature).max(mu / 10.0);
        if (next - mu).abs() <= 1e-12 * mu {
            return next;
        }
        mu = next;
    }
    mu
}

/// Hill's estimator of a Pareto tail index from the values at or above `threshold`.
fn hill_tail_index(values: &[Lots], threshold: Lots) -> f64 {
    let threshold = threshold.max(1) as f64;
    let logs: Vec<f64> = values.iter().filter(|&&value| value as f64 >= threshold).map(|&value| (value as f64 / threshold).ln()).collect();
    let sum: f64 = logs.iter().sum();
    if sum > 0.0 { logs.len() as f64 / sum } else { 10.0 }
}

/// Decay length, ticks, of an exponential fitted (weighted least squares on the
/// logarithm) to the positive entries of a depth profile; `None` without two of them
/// or when the depth does not fall.
pub fn depth_decay_ticks(profile_lots: &[f64]) -> Option<f64> {
    let points: Vec<(f64, f64, f64)> =
        profile_lots.iter().enumerate().filter(|(_, lots)| **lots > 0.0).map(|(ticks, lots)| (ticks as f64, lots.ln(), *lots)).collect();
    if points.len() < 2 {
        return None;
    }
    let weight: f64 = points.iter().map(|point| point.2).sum();
    let mean_x = points.iter().map(|point| point.2 * point.0).sum::<f64>() / weight;
    let mean_y = points.iter().map(|point| point.2 * point.1).sum::<f64>() / weight;
    let covariance: f64 = points.iter().map(|point| point.2 * (point.0 - mean_x) * (point.1 - mean_y)).sum();
    let variance: f64 = points.iter().map(|point| point.2 * (point.0 - mean_x).powi(2)).sum();
    let slope = covariance / variance;
    (slope < 0.0).then(|| -1.0 / slope)
}

fn return_moments(returns: &[f64]) -> (f64, f64) {
    if returns.len() < 2 {
        return (0.0, 0.0);
    }
    let count = returns.len() as f64;
    let mean = returns.iter().sum::<f64>() / count;
    let variance = returns.iter().map(|value| (value - mean).powi(2)).sum::<f64>() / count;
    let fourth = returns.iter().map(|value| (value - mean).powi(4)).sum::<f64>() / count;
    let kurtosis = if variance > 0.0 { fourth / (variance * variance) - 3.0 } else { 0.0 };
    // Volatility about zero: a recording's drift over minutes is noise, not signal.
    let second = returns.iter().map(|value| value * value).sum::<f64>() / count;
    (second.sqrt(), kurtosis)
}

fn size_quantiles(sizes: &[Lots]) -> [i64; 4] {
    if sizes.is_empty() {
        return [0; 4];
    }
    let mut sorted = sizes.to_vec();
    sorted.sort_unstable();
    let at = |fraction: f64| sorted[((sorted.len() - 1) as f64 * fraction).round() as usize];
    [at(0.5), at(0.9), at(0.99), *sorted.last().expect("not empty")]
}

/// The 5th percentile of `gaps_ns`, ms (`None` without gaps).
fn low_quantile_ms(gaps_ns: &mut [Nanos]) -> Option<f64> {
    if gaps_ns.is_empty() {
        return None;
    }
    gaps_ns.sort_unstable();
    Some(gaps_ns[(gaps_ns.len() - 1) / 20] as f64 / 1e6)
}

/// Fewest positive gaps between market orders a trade interval is measured from.
pub const TRADE_GAPS_MIN: usize = 20;

/// Whether a recording's trades came in its book's frames: not when market orders
/// came closer than half its update interval (5th percentiles both), as a separate
/// trade stream delivers them; the template's choice when either is not measured.
pub fn trades_in_frames(stats: &MarketStats, template: &ExchangeConfig) -> bool {
    match (stats.trade_interval_ms, stats.update_interval_ms) {
        (Some(trade_ms), Some(update_ms)) => trade_ms >= update_ms / 2.0,
        _ => template.trades_in_frames,
    }
}

/// The feed interval a recording suggests: its update interval rounded to whole
/// milliseconds (1 ms to 1 s), or the template's when it shows none.
pub fn feed_batch_ms(stats: &MarketStats, template: &ExchangeConfig) -> i64 {
    stats.update_interval_ms.map_or(template.feed_batch_ms, |interval_ms| (interval_ms.round() as i64).clamp(1, 1_000))
}

fn count_dispersion(times_s: &[f64], span_s: f64) -> f64 {
    let windows = span_s.floor() as usize;
    if windows < 2 {
        return 0.0;
    }
    let mut counts = vec![0.0f64; windows];
    for &time in times_s {
        let index = time.floor() as usize;
        if index < windows {
            counts[index] += 1.0;
        }
    }
    let mean = counts.iter().sum::<f64>() / windows as f64;
    let variance = counts.iter().map(|count| (count - mean).powi(2)).sum::<f64>() / windows as f64;
    if mean > 0.0 { variance / mean } else { 0.0 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::market::hawkes::Hawkes;
    use crate::rng::SeedRoot;

    fn hawkes_times(mu: f64, alpha: f64, beta: f64, span_s: f64, seed: u64) -> Vec<f64> {
        hawkes_kernel_times(mu, &HawkesKernels::single(alpha, beta), span_s, seed)
    }

    fn hawkes_kernel_times(mu: f64, kernels: &HawkesKernels, span_s: f64, seed: u64) -> Vec<f64> {
        let mut rng = SeedRoot::new(seed).stream("test");
        let mut hawkes = Hawkes::default();
        let (mut now, mut times) = (0, Vec::new());
        while let Some(next) = hawkes.next_arrival(now, mu, kernels, &mut rng) {
            if next as f64 > span_s * 1e9 {
                break;
            }
            hawkes.on_arrival(next, kernels);
            times.push(next as f64 / 1e9);
            now = next;
        }
        times
    }

    #[test]
    fn a_second_exponential_is_fitted_where_the_flow_has_two_timescales_and_only_there() {
        // Replies within 10 ms (n = 0.3) and bursts over half a second (n = 0.3).
        let two = HawkesKernels { alpha_per_s: 30.0, beta_per_s: 100.0, slow_alpha_per_s: 0.6, slow_beta_per_s: 2.0 };
        let times = hawkes_kernel_times(2.0, &two, 3_000.0, 5);
        let single = fit_hawkes(&times, 3_000.0);
        let fit = fit_hawkes_slow(&times, 3_000.0, &single).expect("two timescales fitted");
        let kernels = fit.kernels;
        assert!(fit.log_likelihood - single.log_likelihood > 20.0, "{fit:?} against {single:?}");
        assert!((kernels.alpha_per_s / kernels.beta_per_s - 0.3).abs() < 0.08, "{fit:?}");
        assert!((kernels.slow_alpha_per_s / kernels.slow_beta_per_s - 0.3).abs() < 0.08, "{fit:?}");
        assert!((kernels.beta_per_s / 100.0).ln().abs() < 0.5 && (kernels.slow_beta_per_s / 2.0).ln().abs() < 0.5, "{fit:?}");
        assert!((fit.mu_per_s - 2.0).abs() < 0.3, "{fit:?}");
        // One timescale: the second exponential does not pay for its parameters.
        let times = hawkes_times(2.0, 1.2, 2.0, 3_000.0, 6);
        let single = fit_hawkes(&times, 3_000.0);
        assert_eq!(fit_hawkes_slow(&times, 3_000.0, &single), None, "{single:?}");
        // No clustering at all: nothing to add to.
        let poisson_times = hawkes_times(3.0, 0.0, 1.0, 1_000.0, 7);
        assert_eq!(fit_hawkes_slow(&poisson_times, 1_000.0, &fit_hawkes(&poisson_times, 1_000.0)), None);
    }

    #[test]
    fn a_two_exponential_fit_reaches_the_scenario_with_its_basis() {
        let two = HawkesKernels { alpha_per_s: 30.0, beta_per_s: 100.0, slow_alpha_per_s: 0.6, slow_beta_per_s: 2.0 };
        let times = hawkes_kernel_times(2.0, &two, 600.0, 8);
        let stats = MarketStats {
            span_s: 600.0,
            market_orders_per_s: times.len() as f64 / 600.0,
            market_order_times_s: times,
            ..MarketStats::default()
        };
        let calibration = fit(&stats, &MarketConfig::default());
        let market = &calibration.market;
        assert!(market.hawkes_slow_alpha_per_s > 0.0 && market.hawkes_slow_beta_per_s < market.hawkes_beta_per_s, "{market:?}");
        let basis = &calibration.fitted.iter().find(|param| param.key == "hawkes_slow_alpha_per_s").expect("fitted").basis;
        assert!(basis.contains("two exponentials") && basis.contains("over one exponential's"), "{basis}");
        assert!(market.hawkes_kernels().branching_ratio() <= HAWKES_BRANCHING_MAX);
    }

    #[test]
    fn hawkes_fit_recovers_a_simulated_process() {
        let times = hawkes_times(1.0, 1.2, 2.0, 4_000.0, 3);
        let fit = fit_hawkes(&times, 4_000.0);
        let ratio = fit.alpha_per_s / fit.beta_per_s;
        assert!((ratio - 0.6).abs() < 0.08, "{fit:?}");
        assert!((fit.beta_per_s / 2.0 - 1.0).abs() < 0.35, "{fit:?}");
        assert!((fit.mu_per_s - 1.0).abs() < 0.2, "{fit:?}");
        // Poisson arrivals fit a branching ratio near zero.
        let poisson = fit_hawkes(&hawkes_times(3.0, 0.0, 1.0, 2_000.0, 4), 2_000.0);
        assert_eq!(poisson.alpha_per_s, 0.0, "{poisson:?}");
        assert!((poisson.mu_per_s - 3.0).abs() < 0.3, "{poisson:?}");
    }

    #[test]
    fn depth_decay_of_an_exponential_profile_is_its_length() {
        let profile: Vec<f64> = (0..40).map(|ticks| 200.0 * (-(ticks as f64) / 7.5).exp()).collect();
        assert!((depth_decay_ticks(&profile).unwrap() - 7.5).abs() < 1e-9);
        assert_eq!(depth_decay_ticks(&[5.0, 5.0, 5.0]), None, "flat depth has no decay length");
        assert_eq!(depth_decay_ticks(&[0.0, 3.0]), None);
    }

    #[test]
    fn hill_estimator_recovers_a_pareto_index() {
        let mut rng = SeedRoot::new(8).stream("test");
        let sizes: Vec<Lots> = (0..20_000)
            .map(|_| {
                let uniform: f64 = 1.0 - rand::RngExt::random::<f64>(&mut rng);
                (10.0 * uniform.powf(-1.0 / 1.8)).round() as Lots
            })
            .collect();
        let alpha = hill_tail_index(&sizes, size_quantiles(&sizes)[0]);
        assert!((alpha - 1.8).abs() < 0.15, "{alpha}");
    }

    #[test]
    fn a_default_recorder_and_observer_have_the_whole_profile() {
        let stats = FeedStatsObserver::default().recorder.finish();
        assert_eq!((stats.depth_profile_lots.len(), stats.touch_lots_mean), (PROFILE_TICKS, 0.0));
        assert!(is_whole_number("initial_levels") && is_whole_number("market_size_max_lots") && !is_whole_number("limit_size_lots"));
    }

    #[test]
    fn a_statistic_too_short_a_simulation_cannot_measure_is_said_to_be_so() {
        let (market, exchange) = (MarketConfig::default(), ExchangeConfig::default());
        let recorded = simulated_stats(&market, &exchange, 7, 120.0).unwrap();
        assert!(recorded.realized_vol_measured().is_some(), "{recorded:?}");
        let (calibration, simulated) = refine(&recorded, fit(&recorded, &market), &exchange, 7, 5.0, 1).unwrap();
        assert_eq!(simulated.realized_vol_measured(), None, "5 s hold fewer than {RETURNS_MIN} one-second returns");
        let warned = calibration.warnings.iter().find(|warning| warning.starts_with("realized_vol_annual is"));
        assert!(
            warned.is_some_and(|warning| warning.ends_with("not measurable in 5 s of simulation: simulate longer to compare it")),
            "{:?}",
            calibration.warnings
        );
    }

    #[test]
    fn a_statistic_the_simulation_loses_counts_against_its_round() {
        assert!((UNMEASURED_MISS_LN - REFINE_REACH.ln()).abs() < 1e-15);
        let (market, exchange) = (MarketConfig::default(), ExchangeConfig::default());
        let recorded = simulated_stats(&market, &exchange, 7, 120.0).unwrap();
        assert_eq!(distance(&recorded, &recorded, &market), 0.0);
        let lost = MarketStats { returns: 0, ..recorded.clone() };
        assert!((distance(&recorded, &lost, &market) - UNMEASURED_MISS_LN).abs() < 1e-12, "the volatility, elasticity 1");
    }

    #[test]
    fn trades_closer_than_half_the_update_interval_have_a_stream_of_their_own() {
        // Market orders every 3 ms (alternate sides, some at one time: gaps of 0 do not
        // count), then the same every 100 ms, as a framed feed would print them.
        let interval = |step_ns: Nanos, orders: i64| {
            let mut recorder = StatsRecorder::new();
            recorder.book(0, [(Side::Buy, 99, 1_000), (Side::Sell, 101, 1_000)]);
            for index in 0..orders {
                let side = if index % 2 == 0 { Side::Buy } else { Side::Sell };
                recorder.trade(1 + index / 2 * 2 * step_ns, if side == Side::Buy { 101 } else { 99 }, 1, side);
            }
            recorder.finish().trade_interval_ms
        };
        assert_eq!(interval(3_000_000, 100), Some(6.0), "sides at one time are two orders a gap of 0 apart");
        assert_eq!(interval(100_000_000, 100), Some(200.0));
        assert_eq!(interval(3_000_000, 20), None, "too few gaps to measure");
        let stats = |trade_interval_ms, update_interval_ms| MarketStats { trade_interval_ms, update_interval_ms, ..MarketStats::default() };
        let template = ExchangeConfig::default();
        assert!(!trades_in_frames(&stats(Some(6.0), Some(100.0)), &template));
        assert!(trades_in_frames(&stats(Some(100.0), Some(100.0)), &template));
        assert!(trades_in_frames(&stats(Some(50.0), Some(100.0)), &template), "half the interval is the frames' own");
        assert!(trades_in_frames(&stats(None, Some(100.0)), &template), "unmeasured: the template's");
        assert!(!trades_in_frames(&stats(None, None), &ExchangeConfig { trades_in_frames: false, ..template }));
    }

    #[test]
    fn the_recorder_counts_adds_cancels_and_orders() {
        let mut recorder = StatsRecorder::new();
        recorder.book(0, [(Side::Buy, 99, 10), (Side::Sell, 101, 10)]);
        recorder.level(50_000_000, Side::Buy, 99, 15); // an add of 5
        recorder.trade(60_000_000, 101, 4, Side::Buy);
        recorder.trade(60_000_000, 101, 2, Side::Buy); // one market order of 6
        recorder.level(70_000_000, Side::Sell, 101, 4); // explained by the trades
        recorder.level(80_000_000, Side::Buy, 99, 3); // a cancel
        recorder.trade(90_000_000, 99, 1, Side::Sell);
        recorder.level(2_000_000_000, Side::Buy, 99, 2);
        let stats = recorder.finish();
        assert_eq!(stats.span_s, 2.0);
        assert_eq!(stats.first_mid_ticks, Some(100.0));
        assert_eq!(stats.level_adds_per_s, 0.5);
        assert_eq!(stats.added_lots_mean, 5.0);
        assert_eq!(stats.cancels_per_s, 0.5);
        assert_eq!(stats.market_order_sizes_lots, [6, 1]);
        assert_eq!(stats.buy_share, 0.5);
        assert!(stats.book_samples >= 19 && stats.spread_mean_ticks == 2.0, "{stats:?}");
        assert_eq!(stats.update_interval_ms, Some(10.0), "the shortest gaps between book changes");
    }

    #[test]
    fn the_recorder_counts_samples_with_a_side_empty() {
        let mut recorder = StatsRecorder::new();
        recorder.book(0, [(Side::Buy, 99, 10), (Side::Sell, 101, 10)]);
        recorder.level(250_000_000, Side::Sell, 101, 0); // the asks empty…
        recorder.level(650_000_000, Side::Sell, 102, 5); // …for 400 ms
        recorder.level(1_000_000_000, Side::Buy, 99, 10);
        let stats = recorder.finish();
        // Samples at 0, 100, …, 900 ms: those at 300 to 600 ms found no asks.
        assert_eq!((stats.book_samples, stats.one_sided_pct), (6, 40.0), "{stats:?}");
    }

    fn blank_calibration(market: MarketConfig) -> Calibration {
        Calibration { market, fitted: Vec::new(), warnings: Vec::new(), kept_round: 0, choices: Vec::new(), follow_near_touch: None }
    }

    /// The basis of the choice of `key`.
    fn chosen<'a>(calibration: &'a Calibration, key: &str) -> (&'a str, &'a str) {
        let choice = calibration.choices.iter().find(|choice| choice.key == key).unwrap_or_else(|| panic!("no choice of {key}"));
        (&choice.value, &choice.basis)
    }

    #[test]
    fn quotes_follow_the_fundamental_when_a_step_moves_past_the_depth() {
        let stats = |volatility: f64| MarketStats {
            first_mid_ticks: Some(600_000.0),
            realized_vol_annual: volatility,
            returns: RETURNS_MIN,
            ..MarketStats::default()
        };
        let mut fast = blank_calibration(MarketConfig { depth_decay_ticks: 5.0, ..MarketConfig::default() });
        let mut slow = fast.clone();
        // σ per 100 ms step: 0.65 × √(0.1 s / a year) × 600,000 ticks ≈ 22 ticks, past three
        // decay lengths of 5 ticks; 0.065 gives ≈ 2.2, within them.
        fit_requoting(&stats(0.65), &mut fast);
        fit_requoting(&stats(0.065), &mut slow);
        let (value, basis) = chosen(&fast, "quotes_follow_fundamental");
        assert!(fast.market.quotes_follow_fundamental && value == "true", "{value}");
        assert!(
            basis.contains("21.954 ticks a 100 ms step") && basis.contains("beyond the 15.000 ticks where 95 % of the depth lies"),
            "{basis}"
        );
        let (value, basis) = chosen(&slow, "quotes_follow_fundamental");
        assert!(!slow.market.quotes_follow_fundamental && value == "false" && basis.contains("within"), "{basis}");
        let mut unmeasured = slow.clone();
        fit_requoting(&MarketStats::default(), &mut unmeasured);
        assert!(
            !unmeasured.market.quotes_follow_fundamental && chosen(&unmeasured, "quotes_follow_fundamental").1.contains("not measured")
        );
        assert_eq!(unmeasured.choices.len(), 1, "a choice made again replaces the first");
    }

    #[test]
    fn quotes_near_the_touch_follow_only_where_staying_put_leaves_the_spread_wide() {
        // σ of a step ≈ 22 ticks: within three decay lengths of 50, past three spreads of 1.
        let recorded = |spread_mean_ticks: f64| MarketStats {
            first_mid_ticks: Some(600_000.0),
            realized_vol_annual: 0.65,
            returns: RETURNS_MIN,
            book_samples: 100,
            spread_mean_ticks,
            ..MarketStats::default()
        };
        let mut calibration = blank_calibration(MarketConfig { depth_decay_ticks: 50.0, ..MarketConfig::default() });
        fit_requoting(&recorded(1.0), &mut calibration);
        assert!(!calibration.market.quotes_follow_fundamental);
        assert_eq!(calibration.follow_near_touch, Some(22.0));
        let simulated = |spread_mean_ticks: f64| MarketStats { book_samples: 100, spread_mean_ticks, ..MarketStats::default() };
        let mut tight = calibration.clone();
        assert!(!follow_near_touch(&recorded(1.0), &simulated(1.9), &mut tight), "a spread within twice the recorded one stays");
        assert_eq!(tight, calibration);
        let mut wide = calibration.clone();
        assert!(follow_near_touch(&recorded(1.0), &simulated(9.0), &mut wide));
        assert!(wide.market.quotes_follow_fundamental && wide.market.follow_depth_ticks == 22.0);
        let (value, basis) = chosen(&wide, "quotes_follow_fundamental");
        assert_eq!(value, "true");
        assert!(basis.contains("staying put left a spread of 9.000 ticks: those near the touch follow"), "{basis}");
        assert!(wide.fitted.iter().any(|param| param.key == "follow_depth_ticks" && param.value == 22.0));
        // The spread steers how deep quotes follow; joining levels is for a book moved whole.
        assert!(steered_keys(&wide.market).contains(&"follow_depth_ticks"));
        assert!(!steered_keys(&wide.market).contains(&"limit_new_level_share"));
        let whole = MarketConfig { quotes_follow_fundamental: true, ..MarketConfig::default() };
        assert!(steered_keys(&whole).contains(&"limit_new_level_share") && !steered_keys(&whole).contains(&"follow_depth_ticks"));
        // A step within three spreads of 10 ticks names no depth.
        let mut coarse = blank_calibration(MarketConfig { depth_decay_ticks: 50.0, ..MarketConfig::default() });
        fit_requoting(&recorded(10.0), &mut coarse);
        assert_eq!(coarse.follow_near_touch, None);
        assert!(!follow_near_touch(&recorded(10.0), &simulated(100.0), &mut coarse));
    }

    /// The statistics of recorded market orders of `sizes` (quantiles as the recorder takes them).
    fn size_stats(mut sizes: Vec<Lots>) -> MarketStats {
        let quantiles = size_quantiles(&sizes);
        sizes.sort_unstable();
        MarketStats { size_quantiles_lots: quantiles, market_order_sizes_lots: sizes, ..MarketStats::default() }
    }

    #[test]
    fn market_order_sizes_are_fitted_by_the_model_whose_quantiles_lie_closer() {
        use rand::RngExt;
        let mut rng = crate::rng::SeedRoot::new(9).stream("test");
        // Lognormal sizes (median 50,000, σ 2.5), and Pareto ones (index 1.5 above 100).
        let lognormal: Vec<Lots> = (0..5_000)
            .map(|_| {
                let normal: f64 = rand_distr::Distribution::sample(&rand_distr::StandardNormal, &mut rng);
                (50_000.0 * (2.5 * normal).exp()).round().max(1.0) as Lots
            })
            .collect();
        let pareto: Vec<Lots> = (0..5_000).map(|_| (100.0 * (1.0 - rng.random::<f64>()).powf(-1.0 / 1.5)).round() as Lots).collect();

        let mut fitted = blank_calibration(MarketConfig::default());
        fit_sizes(&size_stats(lognormal.clone()), &mut fitted);
        let market = &fitted.market;
        assert_eq!(market.market_size_model, MarketSizeModel::Lognormal, "{:?}", fitted.choices);
        assert!((market.market_size_median_lots / 50_000.0 - 1.0).abs() < 0.1, "median {}", market.market_size_median_lots);
        assert!((market.market_size_sigma - 2.5).abs() < 0.1, "sigma {}", market.market_size_sigma);
        assert_eq!(market.market_size_min_lots, *lognormal.iter().min().unwrap());
        assert_eq!(market.market_size_max_lots, *lognormal.iter().max().unwrap());
        assert_eq!(chosen(&fitted, "market_size_model").0, "\"lognormal\"");
        assert!(fitted.fitted.iter().any(|param| param.key == "market_size_sigma"));
        assert!(!fitted.fitted.iter().any(|param| param.key == "market_size_pareto_alpha"), "the other model's values are not written");

        let mut fitted = blank_calibration(MarketConfig::default());
        fit_sizes(&size_stats(pareto), &mut fitted);
        let market = &fitted.market;
        assert_eq!(market.market_size_model, MarketSizeModel::Pareto, "{:?}", fitted.choices);
        assert!((market.market_size_pareto_alpha - 1.5).abs() < 0.15, "alpha {}", market.market_size_pareto_alpha);
        assert!(!fitted.fitted.iter().any(|param| param.key == "market_size_sigma"));
        let (value, basis) = chosen(&fitted, "market_size_model");
        assert!(value == "\"pareto\"" && basis.contains("summed log misses: Pareto"), "{basis}");
    }

    #[test]
    fn the_size_tail_and_the_joining_are_steered_only_where_they_act() {
        let keys = |model| {
            let market = MarketConfig { market_size_model: model, ..MarketConfig::default() };
            steered(&market).iter().map(|steering| steering.key).filter(|key| key.starts_with("market_size")).collect::<Vec<_>>()
        };
        let joins = |quotes_follow_fundamental| {
            let market = MarketConfig { quotes_follow_fundamental, ..MarketConfig::default() };
            steered(&market).iter().any(|steering| steering.key == "limit_new_level_share")
        };
        assert!(joins(true) && !joins(false), "the spread steers joining only where quotes follow the price");
        assert_eq!(keys(MarketSizeModel::Pareto), ["market_size_pareto_alpha"]);
        assert_eq!(keys(MarketSizeModel::Lognormal), ["market_size_median_lots", "market_size_sigma"]);
        for steering in &STEERING {
            domain(steering.key);
            assert!(
                matches!(field(&mut MarketConfig::default(), steering.key), Field::Real(_)),
                "{} is steered as a real number",
                steering.key
            );
        }
    }
}
