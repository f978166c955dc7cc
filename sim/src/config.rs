//! The dock's configuration as plain data: the simulated market, the exchange, and
//! the injected events and faults. These types are what the `[market]`,
//! `[exchange]` and `[[events]]` sections of a scenario file deserialize into
//! (unknown keys are refused); [`SimConfig::validate`] checks ranges and the
//! timeline, naming each setting by its dotted path. Reading files is the harness's
//! job, not this module's.

use drydock_engine::{Instrument, PRICE_TICKS_MAX, readable_number};
use serde::{Deserialize, Serialize};

use crate::error::ConfigError;
use crate::exchange::queue::{CancelsFromBack, ProbabilisticQueue, ProbabilityFunction, ProportionalCancels, QueueModel};
use crate::latency::LatencyModel;
use crate::market::hawkes::HawkesKernels;
use crate::replay::book::GapPolicy;
use crate::replay::inspect::Format;
use crate::replay::tape::ReplayClock;

/// Everything the dock needs besides the engine.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SimConfig {
    /// Root seed of every random stream.
    pub seed: u64,
    /// Simulated duration, seconds.
    pub duration_s: f64,
    /// The simulated market.
    pub market: MarketConfig,
    /// The exchange.
    pub exchange: ExchangeConfig,
    /// Injected market events and faults.
    pub events: Vec<InjectedEvent>,
    /// The reaction budget behind modelled deadline misses.
    pub reaction: ReactionConfig,
    /// The loaded recording of `market.source` (loaded once by the caller, shared).
    #[serde(skip)]
    pub tape: Option<crate::replay::tape::SharedTape>,
}

/// How fast the engine's host must react to market data. A message's reaction
/// time is its age on arrival, plus the engine's modelled compute time, plus an
/// order-entry delay drawn from the latency model; above the budget it is a
/// deadline miss. Modelled, so deterministic.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReactionConfig {
    /// Budget, milliseconds.
    pub budget_ms: f64,
    /// Engine compute per message, microseconds.
    pub compute_us: f64,
}

impl Default for ReactionConfig {
    fn default() -> Self {
        ReactionConfig { budget_ms: 50.0, compute_us: 50.0 }
    }
}

/// Static facts of the instrument as the venue lists it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InstrumentConfig {
    /// Symbol, for reports.
    pub symbol: String,
    /// Quote currency per tick.
    pub tick_size: f64,
    /// Base quantity per lot.
    pub lot_size: f64,
    /// Smallest order notional, quote currency.
    pub min_notional: f64,
}

impl Default for InstrumentConfig {
    fn default() -> Self {
        let instrument = Instrument::default();
        InstrumentConfig {
            symbol: instrument.symbol,
            tick_size: instrument.tick_size,
            lot_size: instrument.lot_size,
            min_notional: instrument.min_notional,
        }
    }
}

/// Which market the dock simulates.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MarketModel {
    /// The order-flow generator (book, Hawkes flow, injected events).
    #[default]
    Generated,
    /// A binomial random-walk mid with no book, as in Avellaneda & Stoikov (2008):
    /// each step the mid moves ±σ√dt with equal probability.
    RandomWalk,
}

/// The random-walk market (`model = "random_walk"`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RandomWalkConfig {
    /// σ of the mid, quote currency per √second.
    pub sigma: f64,
    /// Step, seconds.
    pub step_s: f64,
}

impl Default for RandomWalkConfig {
    fn default() -> Self {
        RandomWalkConfig { sigma: 2.0, step_s: 0.005 }
    }
}

/// The market generator: a fundamental price (log jump-diffusion with calm and
/// stressed regimes) and order flow around it (limit adds and cancels with depth
/// decaying from the touch, Hawkes-clustered market orders with Pareto sizes).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MarketConfig {
    /// Which market: the order-flow generator or a random-walk mid.
    pub model: MarketModel,
    /// A recorded session replaces the generator: `source = { replay = ["a.gz"] }`.
    /// (Left out of the serialized configuration when absent, so configuration
    /// hashes of generated scenarios do not change.)
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<ReplaySourceConfig>,
    /// The random walk's parameters (for `model = "random_walk"`).
    pub random_walk: RandomWalkConfig,
    /// The instrument.
    pub instrument: InstrumentConfig,
    /// Starting price, quote currency.
    pub initial_price: f64,
    /// Annualized volatility of the fundamental price in the calm regime.
    pub volatility_annual: f64,
    /// Volatility multiplier in the stressed regime.
    pub stressed_volatility_mult: f64,
    /// Rate of switching from calm to stressed, per hour.
    pub stress_per_hour: f64,
    /// Mean time spent in the stressed regime, minutes.
    pub stress_mean_minutes: f64,
    /// Jumps of the fundamental price, per hour.
    pub jumps_per_hour: f64,
    /// Standard deviation of a jump, basis points.
    pub jump_std_bps: f64,
    /// Drift of the fundamental price, annualized (0 for none; trending scenarios set it).
    pub drift_annual: f64,
    /// Fundamental price update interval, milliseconds.
    pub step_ms: i64,
    /// Limit order arrivals (both sides), per second.
    pub limit_rate_per_s: f64,
    /// Cancel arrivals (both sides), per second.
    pub cancel_rate_per_s: f64,
    /// Mean distance of a new limit order from the touch anchor, ticks (geometric).
    pub depth_decay_ticks: f64,
    /// Mean size of a limit order, lots (geometric).
    pub limit_size_lots: f64,
    /// Depth of the initial book at the touch, lots per level.
    pub initial_touch_lots: i64,
    /// Levels per side of the initial book.
    pub initial_levels: i64,
    /// Baseline market-order arrivals, per second (Hawkes μ).
    pub market_rate_per_s: f64,
    /// Hawkes excitation: intensity added per market order, per second.
    pub hawkes_alpha_per_s: f64,
    /// Hawkes decay rate, per second (α/β < 1 keeps the process stable).
    pub hawkes_beta_per_s: f64,
    /// A second exponential in the Hawkes kernel: intensity added per market order,
    /// per second, decaying at `hawkes_slow_beta_per_s`, for flow that clusters on
    /// a second, longer timescale (bursts over fractions of a second beside replies
    /// within milliseconds). 0 (the default): one exponential. The two branching
    /// ratios together must stay below 1. Left out of the serialized configuration
    /// when 0.
    #[serde(skip_serializing_if = "is_zero")]
    pub hawkes_slow_alpha_per_s: f64,
    /// Decay rate of the second exponential, per second. Left out of the serialized
    /// configuration at its default (1).
    #[serde(skip_serializing_if = "is_one")]
    pub hawkes_slow_beta_per_s: f64,
    /// How market-order sizes are distributed: Pareto (the default) or lognormal,
    /// either cut to [`market_size_min_lots`, `market_size_max_lots`].
    #[serde(skip_serializing_if = "MarketSizeModel::is_pareto")]
    pub market_size_model: MarketSizeModel,
    /// Pareto tail index of market-order sizes (`market_size_model = "pareto"`; its
    /// scale is `market_size_min_lots`).
    pub market_size_pareto_alpha: f64,
    /// Median market order of the lognormal model, lots (`market_size_model = "lognormal"`).
    #[serde(skip_serializing_if = "is_default_size_median")]
    pub market_size_median_lots: f64,
    /// σ of the natural logarithm of market-order sizes in the lognormal model.
    #[serde(skip_serializing_if = "is_default_size_sigma")]
    pub market_size_sigma: f64,
    /// Smallest market order, lots.
    pub market_size_min_lots: i64,
    /// Largest market order, lots.
    pub market_size_max_lots: i64,
    /// Slope of the buy probability of market orders in (fundamental − mid), per tick.
    pub flow_bias_per_tick: f64,
    /// Share of market orders that buy when the mid sits on the fundamental (0.5 is
    /// balanced; above it, persistent informed buying, as in a trend).
    pub buy_flow_share: f64,
    /// Resting quotes farther than this on the wrong side of the fundamental are pulled, ticks.
    pub stale_slack_ticks: i64,
    /// Whether the others' resting quotes follow the fundamental: at every step each
    /// level they rest moves by the whole ticks the fundamental moved (cancelled and
    /// posted again, behind any depth already at the new price), as market makers
    /// re-quote. Off (the default), quotes stay where they were placed and only those
    /// left more than `stale_slack_ticks` on the wrong side are pulled, which empties
    /// whole sides when the fundamental moves more ticks a step than the book is
    /// deep (a fine-tick instrument). On, every step that moves the price a tick or
    /// more moves every level (a feed update at each old and new price), so a deep
    /// book costs more: the default market (up to 300 levels a side) runs ~6×
    /// slower, a calibrated BTCUSDT book of a few dozen about as fast as without
    /// (`follow_depth_ticks` moves only the levels near the touch).
    /// Left out of the serialized configuration when off, so configuration hashes
    /// of scenarios without it do not change.
    #[serde(skip_serializing_if = "is_false")]
    pub quotes_follow_fundamental: bool,
    /// With `quotes_follow_fundamental`, only levels within this many ticks of their
    /// side's best price follow (the market makers' quotes near the touch); deeper
    /// levels stay where they were placed, and a followed quote moving onto one
    /// joins it. 0 (the default): every level follows. Left out of the serialized
    /// configuration when 0.
    #[serde(skip_serializing_if = "is_zero")]
    pub follow_depth_ticks: f64,
    /// Share of limit orders placed at the price they were drawn at (1, the default:
    /// all of them); the rest join the existing level on their side nearest to that
    /// price, so below 1 the book gathers into fewer, larger levels with a wider
    /// spread, as on a fine-tick instrument where participants queue where others
    /// already are. Left out of the serialized configuration when 1.
    #[serde(skip_serializing_if = "is_one")]
    pub limit_new_level_share: f64,
}

/// For `skip_serializing_if`: a switch left at its default (on).
fn is_true(value: &bool) -> bool {
    *value
}

/// For `skip_serializing_if`: a depth left at its default (the whole book).
fn is_zero(value: &f64) -> bool {
    *value == 0.0
}

/// For `skip_serializing_if`: a share left at its default (all).
fn is_one(value: &f64) -> bool {
    *value == 1.0
}

/// For `skip_serializing_if`: a switch left at its default (off).
fn is_false(value: &bool) -> bool {
    !*value
}

/// Default median of lognormal market-order sizes, lots (about the default Pareto's median).
const DEFAULT_SIZE_MEDIAN_LOTS: f64 = 3.0;

/// Default σ of the log of lognormal market-order sizes.
const DEFAULT_SIZE_SIGMA: f64 = 1.0;

/// For `skip_serializing_if` (configuration hashes of scenarios without the lognormal model do not change).
fn is_default_size_median(value: &f64) -> bool {
    *value == DEFAULT_SIZE_MEDIAN_LOTS
}

/// For `skip_serializing_if`, as [`is_default_size_median`].
fn is_default_size_sigma(value: &f64) -> bool {
    *value == DEFAULT_SIZE_SIGMA
}

/// The distribution of market-order sizes.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MarketSizeModel {
    /// Pareto with index `market_size_pareto_alpha` above `market_size_min_lots`: a
    /// power-law tail.
    #[default]
    Pareto,
    /// Lognormal with median `market_size_median_lots` and log-σ `market_size_sigma`:
    /// heavy, but thinner far out than a power law (the bundled BTCUSDT sample's is).
    Lognormal,
}

impl MarketSizeModel {
    /// True for the default model.
    pub fn is_pareto(&self) -> bool {
        *self == MarketSizeModel::Pareto
    }
}

impl Default for MarketConfig {
    fn default() -> Self {
        MarketConfig {
            model: MarketModel::Generated,
            source: None,
            random_walk: RandomWalkConfig::default(),
            instrument: InstrumentConfig::default(),
            initial_price: 60_000.0,
            volatility_annual: 0.35,
            stressed_volatility_mult: 2.5,
            stress_per_hour: 0.3,
            stress_mean_minutes: 8.0,
            jumps_per_hour: 1.0,
            jump_std_bps: 10.0,
            drift_annual: 0.0,
            step_ms: 100,
            limit_rate_per_s: 30.0,
            cancel_rate_per_s: 18.0,
            depth_decay_ticks: 12.0,
            limit_size_lots: 60.0,
            initial_touch_lots: 300,
            initial_levels: 60,
            market_rate_per_s: 2.5,
            hawkes_alpha_per_s: 1.5,
            hawkes_beta_per_s: 3.0,
            hawkes_slow_alpha_per_s: 0.0,
            hawkes_slow_beta_per_s: 1.0,
            market_size_model: MarketSizeModel::Pareto,
            market_size_pareto_alpha: 1.6,
            market_size_median_lots: DEFAULT_SIZE_MEDIAN_LOTS,
            market_size_sigma: DEFAULT_SIZE_SIGMA,
            market_size_min_lots: 2,
            market_size_max_lots: 400,
            flow_bias_per_tick: 0.15,
            buy_flow_share: 0.5,
            stale_slack_ticks: 4,
            quotes_follow_fundamental: false,
            follow_depth_ticks: 0.0,
            limit_new_level_share: 1.0,
        }
    }
}

/// A recorded session as the market (`[market] source = { replay = [...], ... }`).
/// Relative paths are looked up in the data folder (`DRYDOCK_DATA_DIR`, default
/// `../shared/data`), then next to the scenario file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplaySourceConfig {
    /// The recording files, in order: one session, the book carried across them.
    pub replay: Vec<String>,
    /// The files' format; detected from each file when absent.
    #[serde(default)]
    pub format: Option<Format>,
    /// Which recorded clock drives virtual time.
    #[serde(default)]
    pub clock: ReplayClock,
    /// Added to the chosen clock, milliseconds (e.g. 1270 to move Binance local
    /// time onto exchange time).
    #[serde(default)]
    pub offset_ms: i64,
    /// What a gap in the update ids does.
    #[serde(default = "default_gap_policy")]
    pub gap_policy: GapPolicy,
    /// Count and pass over malformed lines (reported in `report.json`'s `replay`)
    /// instead of stopping at the first.
    #[serde(default)]
    pub skip_bad_lines: bool,
}

fn default_gap_policy() -> GapPolicy {
    GapPolicy::Stop
}

/// Which queue model moves our queue position when others' size shrinks.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueueModelKind {
    /// Cancels fall evenly across the queue.
    #[default]
    Proportional,
    /// We advance only on trades at our price (cancels come from behind us).
    Conservative,
    /// Decreases come from ahead with a probability from f(ahead) and f(behind).
    Probabilistic,
}

/// `[exchange.queue]`: the queue model of our resting orders.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QueueConfig {
    /// The model.
    pub model: QueueModelKind,
    /// f of the probabilistic model.
    pub function: ProbabilityFunction,
    /// n of f(x) = x^n.
    pub power: f64,
}

impl Default for QueueConfig {
    fn default() -> Self {
        QueueConfig { model: QueueModelKind::Proportional, function: ProbabilityFunction::Power, power: 2.0 }
    }
}

impl QueueConfig {
    /// True for the default model.
    pub fn is_default(&self) -> bool {
        *self == QueueConfig::default()
    }

    /// The model, ready for the exchange.
    pub fn build(&self) -> Box<dyn QueueModel + Send> {
        match self.model {
            QueueModelKind::Proportional => Box::new(ProportionalCancels),
            QueueModelKind::Conservative => Box::new(CancelsFromBack),
            QueueModelKind::Probabilistic => Box::new(ProbabilisticQueue { function: self.function, power: self.power }),
        }
    }
}

/// Latency of the three links between exchange and engine.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LatencyConfig {
    /// Exchange to engine, market data.
    pub market_data: LatencyModel,
    /// Engine to exchange, orders and cancels.
    pub order_entry: LatencyModel,
    /// Exchange to engine, order reports.
    pub ack: LatencyModel,
}

impl Default for LatencyConfig {
    fn default() -> Self {
        LatencyConfig {
            market_data: LatencyModel::Lognormal { median_us: 300.0, sigma: 0.4, floor_us: 100.0 },
            order_entry: LatencyModel::Lognormal { median_us: 400.0, sigma: 0.5, floor_us: 150.0 },
            ack: LatencyModel::Lognormal { median_us: 400.0, sigma: 0.5, floor_us: 150.0 },
        }
    }
}

/// How our resting orders get filled.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FillModel {
    /// By the other participants' flow, after the depth queued ahead (the book).
    #[default]
    Queue,
    /// Each step, the best quote of each side at distance δ from the mid fills one
    /// lot with probability A·e^(−kδ)·dt (Avellaneda & Stoikov 2008).
    Intensity,
}

/// The intensity fill model's λ(δ) = A·e^(−kδ).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IntensityConfig {
    /// A, fills per second at zero distance.
    pub a_per_s: f64,
    /// k, per quote-currency unit of distance.
    pub k: f64,
}

impl Default for IntensityConfig {
    fn default() -> Self {
        IntensityConfig { a_per_s: 140.0, k: 1.5 }
    }
}

/// The mock exchange: latency, fees, limits.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExchangeConfig {
    /// Link latencies.
    pub latency: LatencyConfig,
    /// Maker fee, bps of notional; negative is a rebate.
    pub maker_fee_bps: f64,
    /// Taker fee, bps of notional.
    pub taker_fee_bps: f64,
    /// New orders and replaces accepted per second before rejecting with rate-limited.
    pub max_orders_per_s: u32,
    /// Levels per side in book snapshots sent after a resync.
    pub snapshot_levels: usize,
    /// The feed publishes book changes and trades in frames this long, milliseconds:
    /// a frame's trades (see `trades_in_frames`), then one delta in which the last
    /// size of each changed level wins, all on one delay draw of the market-data
    /// link; 0 publishes every change as it happens.
    pub feed_batch_ms: i64,
    /// With frames (`feed_batch_ms` > 0), whether trades wait for their frame (true,
    /// the default) or go out as they print, each a message of its own on a trade
    /// link beside the frames' (the market-data latency, its own draws), as a venue's
    /// separate trade stream does (Binance's `@trade` beside `@depth@100ms`): then a
    /// trade reaches the engine before the frame that shows the book it left, and
    /// market orders a frame apart are told apart. Left out of the serialized
    /// configuration when true.
    #[serde(skip_serializing_if = "is_true")]
    pub trades_in_frames: bool,
    /// How our resting orders get filled.
    pub fill_model: FillModel,
    /// λ(δ) of the intensity fill model.
    pub intensity: IntensityConfig,
    /// The queue model of our resting orders (left out of the serialized
    /// configuration when default, so existing configuration hashes hold).
    #[serde(skip_serializing_if = "QueueConfig::is_default")]
    pub queue: QueueConfig,
}

impl Default for ExchangeConfig {
    fn default() -> Self {
        let instrument = Instrument::default();
        ExchangeConfig {
            latency: LatencyConfig::default(),
            maker_fee_bps: instrument.maker_fee_bps,
            taker_fee_bps: instrument.taker_fee_bps,
            max_orders_per_s: 50,
            snapshot_levels: 50,
            feed_batch_ms: 10,
            trades_in_frames: true,
            fill_model: FillModel::Queue,
            intensity: IntensityConfig::default(),
            queue: QueueConfig::default(),
        }
    }
}

/// Which book side(s) an event affects.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BookSides {
    /// Bids only.
    Bid,
    /// Asks only.
    Ask,
    /// Both.
    Both,
}

impl BookSides {
    /// True when `side` (buy = bids) is affected.
    pub fn includes(self, side: drydock_engine::Side) -> bool {
        matches!(
            (self, side),
            (BookSides::Both, _) | (BookSides::Bid, drydock_engine::Side::Buy) | (BookSides::Ask, drydock_engine::Side::Sell)
        )
    }
}

/// An injected market event or fault, scheduled in virtual time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum InjectedEvent {
    /// Volatility of the fundamental multiplied, decaying with a half-life.
    VolatilitySpike {
        /// Start, seconds from the run's start.
        start_s: f64,
        /// Length, seconds.
        duration_s: f64,
        /// Volatility multiplier at the start.
        multiplier: f64,
        /// Half-life of the multiplier's excess over 1, seconds.
        decay_half_life_s: f64,
    },
    /// Depth near the touch removed and refilled slowly.
    LiquidityGap {
        /// Start, seconds.
        start_s: f64,
        /// Length, seconds.
        duration_s: f64,
        /// Sides affected.
        sides: BookSides,
        /// Remaining depth fraction during the gap (e.g. 0.05).
        depth_multiplier: f64,
        /// Price levels (ticks) behind the best price affected, the best included.
        levels: i64,
        /// After the gap, half-life of the refill, seconds.
        refill_half_life_s: f64,
    },
    /// Depth withdrawn, then aggressive flow sweeps the thinned book down (or up).
    FlashCrash {
        /// Start, seconds.
        start_s: f64,
        /// Side of the aggressive flow: `sell` (price falls) or `buy` (price spikes).
        side: drydock_engine::Side,
        /// Move of the fundamental from the start, percent.
        drop_pct: f64,
        /// Time to reach the trough, seconds.
        fall_duration_s: f64,
        /// Fraction of the swept side's depth withdrawn at the start, 0..1.
        depth_withdrawn: f64,
        /// Exchange halt at the trough, seconds (0, the default, for none).
        #[serde(default)]
        halt_s: f64,
        /// Fraction of the move recovered, 0..1.
        recovery_fraction: f64,
        /// Time from the trough (after any halt) to recovery, seconds.
        recovery_s: f64,
    },
    /// A recorded session bent along a crash path: every recorded price is shifted
    /// down by a share of the mid at the start that grows linearly to `drop_pct` over
    /// `fall_s`, holds for `trough_s`, then shrinks by `recovery_fraction` of the
    /// drop over `recovery_s` (what is not recovered stays). Replay only.
    PriceShock {
        /// Start, seconds.
        start_s: f64,
        /// Depth of the trough, percent of the mid at the start.
        drop_pct: f64,
        /// Time to reach the trough, seconds.
        fall_s: f64,
        /// Time at the trough, seconds.
        trough_s: f64,
        /// Fraction of the drop recovered, 0..1.
        recovery_fraction: f64,
        /// Time of the recovery, seconds.
        recovery_s: f64,
    },
    /// No market data reaches the engine; a snapshot follows.
    FeedOutage {
        /// Start, seconds.
        start_s: f64,
        /// Length, seconds.
        duration_s: f64,
    },
    /// A fraction of new orders and replaces rejected.
    RejectStorm {
        /// Start, seconds.
        start_s: f64,
        /// Length, seconds.
        duration_s: f64,
        /// Share rejected, 0..1.
        reject_fraction: f64,
    },
    /// No matching; new orders and replaces rejected; cancels still work.
    ExchangeHalt {
        /// Start, seconds.
        start_s: f64,
        /// Length, seconds.
        duration_s: f64,
    },
    /// All latencies multiplied.
    LatencySpike {
        /// Start, seconds.
        start_s: f64,
        /// Length, seconds.
        duration_s: f64,
        /// Latency multiplier.
        multiplier: f64,
    },
    /// Market data and order messages lost both ways; open orders and position
    /// reported on reconnect.
    Disconnect {
        /// Start, seconds.
        start_s: f64,
        /// Length, seconds.
        duration_s: f64,
    },
    /// The venue's fees change (a fee-regime change).
    FeeChange {
        /// When, seconds.
        start_s: f64,
        /// New maker fee, bps.
        maker_fee_bps: f64,
        /// New taker fee, bps.
        taker_fee_bps: f64,
    },
}

impl InjectedEvent {
    /// Snake-case kind, as written in scenario files.
    pub fn kind(&self) -> &'static str {
        match self {
            InjectedEvent::VolatilitySpike { .. } => "volatility_spike",
            InjectedEvent::LiquidityGap { .. } => "liquidity_gap",
            InjectedEvent::FlashCrash { .. } => "flash_crash",
            InjectedEvent::PriceShock { .. } => "price_shock",
            InjectedEvent::FeedOutage { .. } => "feed_outage",
            InjectedEvent::RejectStorm { .. } => "reject_storm",
            InjectedEvent::ExchangeHalt { .. } => "exchange_halt",
            InjectedEvent::LatencySpike { .. } => "latency_spike",
            InjectedEvent::Disconnect { .. } => "disconnect",
            InjectedEvent::FeeChange { .. } => "fee_change",
        }
    }

    /// Start, seconds.
    pub fn start_s(&self) -> f64 {
        match *self {
            InjectedEvent::VolatilitySpike { start_s, .. }
            | InjectedEvent::LiquidityGap { start_s, .. }
            | InjectedEvent::FlashCrash { start_s, .. }
            | InjectedEvent::PriceShock { start_s, .. }
            | InjectedEvent::FeedOutage { start_s, .. }
            | InjectedEvent::RejectStorm { start_s, .. }
            | InjectedEvent::ExchangeHalt { start_s, .. }
            | InjectedEvent::LatencySpike { start_s, .. }
            | InjectedEvent::Disconnect { start_s, .. }
            | InjectedEvent::FeeChange { start_s, .. } => start_s,
        }
    }

    /// Time the event is active, seconds (a crash: fall, halt and recovery).
    pub fn active_s(&self) -> f64 {
        match *self {
            InjectedEvent::VolatilitySpike { duration_s, .. }
            | InjectedEvent::LiquidityGap { duration_s, .. }
            | InjectedEvent::FeedOutage { duration_s, .. }
            | InjectedEvent::RejectStorm { duration_s, .. }
            | InjectedEvent::ExchangeHalt { duration_s, .. }
            | InjectedEvent::LatencySpike { duration_s, .. }
            | InjectedEvent::Disconnect { duration_s, .. } => duration_s,
            InjectedEvent::FlashCrash { fall_duration_s, halt_s, recovery_s, .. } => fall_duration_s + halt_s + recovery_s,
            InjectedEvent::PriceShock { fall_s, trough_s, recovery_s, .. } => fall_s + trough_s + recovery_s,
            InjectedEvent::FeeChange { .. } => 0.0,
        }
    }

    fn validate(&self, path: &str, run_s: f64) -> Result<(), ConfigError> {
        let start_s = self.start_s();
        check(&format!("{path}.start_s"), start_s, 0.0, run_s)?;
        let mut checks: Vec<(&str, f64, f64, f64)> = Vec::new();
        match *self {
            InjectedEvent::VolatilitySpike { duration_s, multiplier, decay_half_life_s, .. } => {
                checks.extend([
                    ("duration_s", duration_s, 0.001, 1e7),
                    ("multiplier", multiplier, 1.0, 1_000.0),
                    ("decay_half_life_s", decay_half_life_s, 0.001, 1e7),
                ]);
            }
            InjectedEvent::LiquidityGap { duration_s, depth_multiplier, levels, refill_half_life_s, .. } => checks.extend([
                ("duration_s", duration_s, 0.001, 1e7),
                ("depth_multiplier", depth_multiplier, 0.0, 1.0),
                ("levels", levels as f64, 1.0, 10_000.0),
                ("refill_half_life_s", refill_half_life_s, 0.001, 1e7),
            ]),
            InjectedEvent::FlashCrash { drop_pct, fall_duration_s, depth_withdrawn, halt_s, recovery_fraction, recovery_s, .. } => checks
                .extend([
                    ("drop_pct", drop_pct, 0.01, 90.0),
                    ("fall_duration_s", fall_duration_s, 0.001, 1e6),
                    ("depth_withdrawn", depth_withdrawn, 0.0, 1.0),
                    ("halt_s", halt_s, 0.0, 1e6),
                    ("recovery_fraction", recovery_fraction, 0.0, 1.0),
                    ("recovery_s", recovery_s, 0.001, 1e7),
                ]),
            InjectedEvent::PriceShock { drop_pct, fall_s, trough_s, recovery_fraction, recovery_s, .. } => checks.extend([
                ("drop_pct", drop_pct, 0.01, 90.0),
                ("fall_s", fall_s, 0.001, 1e6),
                ("trough_s", trough_s, 0.0, 1e6),
                ("recovery_fraction", recovery_fraction, 0.0, 1.0),
                ("recovery_s", recovery_s, 0.001, 1e7),
            ]),
            InjectedEvent::FeedOutage { duration_s, .. }
            | InjectedEvent::ExchangeHalt { duration_s, .. }
            | InjectedEvent::Disconnect { duration_s, .. } => checks.push(("duration_s", duration_s, 0.001, 1e7)),
            InjectedEvent::RejectStorm { duration_s, reject_fraction, .. } => {
                checks.extend([("duration_s", duration_s, 0.001, 1e7), ("reject_fraction", reject_fraction, 0.0, 1.0)])
            }
            InjectedEvent::LatencySpike { duration_s, multiplier, .. } => {
                checks.extend([("duration_s", duration_s, 0.001, 1e7), ("multiplier", multiplier, 1.0, 1e6)])
            }
            InjectedEvent::FeeChange { maker_fee_bps, taker_fee_bps, .. } => {
                checks.extend([("maker_fee_bps", maker_fee_bps, -100.0, 100.0), ("taker_fee_bps", taker_fee_bps, -100.0, 100.0)])
            }
        }
        for (field, value, min, max) in checks {
            check(&format!("{path}.{field}"), value, min, max)?;
        }
        if start_s + self.active_s() > run_s {
            return Err(ConfigError::invalid(
                &format!("{path}.start_s"),
                &format!(
                    "the event runs until {} s, past the scenario's end at {run_s} s; start it earlier or shorten it",
                    seconds_text(start_s + self.active_s())
                ),
            ));
        }
        Ok(())
    }
}

/// Checks `value` is finite and within `[min, max]`, naming `field` otherwise.
pub fn check(field: &str, value: f64, min: f64, max: f64) -> Result<(), ConfigError> {
    if value.is_finite() && value >= min && value <= max {
        Ok(())
    } else {
        Err(ConfigError::invalid(
            field,
            &format!("{} is outside [{}, {}]", readable_number(value), readable_number(min), readable_number(max)),
        ))
    }
}

/// Seconds to the millisecond, without trailing zeros: a sum of settings
/// (`798.0129999999999`) reads as the `798.013` its author wrote.
fn seconds_text(seconds: f64) -> String {
    let text = format!("{seconds:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The longest instrument symbol accepted, characters.
pub const SYMBOL_CHARS_MAX: usize = 64;

/// Checks an instrument symbol as venues write them (`BTCUSDT`, `BTC-PERP`,
/// `ETH/USD`, `XBTUSD_240628`): 1 to [`SYMBOL_CHARS_MAX`] ASCII letters, digits and
/// `-` `_` `/` `.` `:`, so it reads the same in every report, CSV and file name.
pub fn check_symbol(symbol: &str) -> Result<(), ConfigError> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "-_/.:".contains(c);
    if !symbol.is_empty() && symbol.len() <= SYMBOL_CHARS_MAX && symbol.chars().all(allowed) {
        return Ok(());
    }
    Err(ConfigError::invalid(
        "market.instrument.symbol",
        &format!(
            "{symbol:?} is not a symbol; write the venue's symbol in 1 to {SYMBOL_CHARS_MAX} ASCII letters, digits and - _ / . : (e.g. BTCUSDT)"
        ),
    ))
}

impl SimConfig {
    /// Checks every setting and the timeline of events.
    pub fn validate(&self) -> Result<(), ConfigError> {
        check("scenario.duration_s", self.duration_s, 1.0, 30.0 * 86_400.0)?;
        self.market.validate()?;
        self.exchange.validate()?;
        if (self.exchange.fill_model == FillModel::Intensity) != (self.market.model == MarketModel::RandomWalk) {
            return Err(ConfigError::invalid(
                "exchange.fill_model",
                "the intensity fill model goes with market.model = \"random_walk\" (and that market with it): the generated market fills by matching",
            ));
        }
        if self.market.model == MarketModel::RandomWalk {
            check("market.random_walk.sigma", self.market.random_walk.sigma, 0.0, 1e9)?;
            check("market.random_walk.step_s", self.market.random_walk.step_s, 1e-6, 3_600.0)?;
            check("exchange.intensity.a_per_s", self.exchange.intensity.a_per_s, 0.0, 1e9)?;
            check("exchange.intensity.k", self.exchange.intensity.k, 0.0, 1e9)?;
            if self.exchange.feed_batch_ms != 0 {
                return Err(ConfigError::invalid(
                    "exchange.feed_batch_ms",
                    "the random-walk market publishes its touch at every step, not in frames: set exchange.feed_batch_ms = 0",
                ));
            }
        }
        self.validate_replay()?;
        check("reaction.budget_ms", self.reaction.budget_ms, 0.001, 3_600_000.0)?;
        check("reaction.compute_us", self.reaction.compute_us, 0.0, 1e9)?;
        for (index, event) in self.events.iter().enumerate() {
            event.validate(&format!("events[{index}]"), self.duration_s)?;
        }
        self.check_overlaps()
    }

    /// With `market.source`, the tape must be loaded and at least as long as the run.
    pub fn validate_tape(&self) -> Result<(), ConfigError> {
        if self.market.source.is_none() {
            return Ok(());
        }
        let Some(tape) = &self.tape else {
            return Err(ConfigError::invalid(
                "market.source",
                "the recording is not loaded; load it with ReplayTape::load and set SimConfig::tape",
            ));
        };
        let span_s = tape.0.span_ns() as f64 / 1e9;
        if self.duration_s > span_s.ceil() {
            return Err(ConfigError::invalid(
                "scenario.duration_s",
                &format!(
                    "{} s is longer than the recording ({span_s:.3} s from its first synchronized book); shorten duration_s",
                    self.duration_s
                ),
            ));
        }
        Ok(())
    }

    /// A replayed market takes no generator events (and only it takes price shocks).
    fn validate_replay(&self) -> Result<(), ConfigError> {
        check("exchange.queue.power", self.exchange.queue.power, 0.01, 10.0)?;
        let Some(source) = &self.market.source else {
            return match self.events.iter().position(|event| matches!(event, InjectedEvent::PriceShock { .. })) {
                Some(index) => Err(ConfigError::invalid(
                    &format!("events[{index}].kind"),
                    "price_shock bends a recorded session; give [market] source = { replay = [...] }, or use flash_crash on a generated market",
                )),
                None => Ok(()),
            };
        };
        if source.replay.is_empty() {
            return Err(ConfigError::invalid("market.source.replay", "list at least one recording file"));
        }
        if self.market.model != MarketModel::Generated {
            return Err(ConfigError::invalid("market.model", "a replayed market has no model; remove `model` or the `source`"));
        }
        check("market.source.offset_ms", source.offset_ms as f64, -86_400_000.0, 86_400_000.0)?;
        match self.events.iter().position(|event| {
            matches!(event, InjectedEvent::VolatilitySpike { .. } | InjectedEvent::LiquidityGap { .. } | InjectedEvent::FlashCrash { .. })
        }) {
            Some(index) => Err(ConfigError::invalid(
                &format!("events[{index}].kind"),
                &format!(
                    "{} acts on the market generator, which a replay does not run; use price_shock to stress a recorded session",
                    self.events[index].kind()
                ),
            )),
            None => Ok(()),
        }
    }

    /// Two crashes, or two halts, may not overlap: their price paths would fight.
    fn check_overlaps(&self) -> Result<(), ConfigError> {
        for (index, event) in self.events.iter().enumerate() {
            for (other_index, other) in self.events.iter().enumerate().skip(index + 1) {
                let exclusive = matches!(
                    (event, other),
                    (InjectedEvent::FlashCrash { .. }, InjectedEvent::FlashCrash { .. })
                        | (InjectedEvent::ExchangeHalt { .. }, InjectedEvent::ExchangeHalt { .. })
                );
                let (start, end) = (event.start_s(), event.start_s() + event.active_s());
                let (other_start, other_end) = (other.start_s(), other.start_s() + other.active_s());
                if exclusive && start < other_end && other_start < end {
                    return Err(ConfigError::invalid(
                        &format!("events[{other_index}].start_s"),
                        &format!(
                            "this {} overlaps events[{index}] ({} s to {} s); move one of them",
                            other.kind(),
                            seconds_text(start),
                            seconds_text(end)
                        ),
                    ));
                }
            }
        }
        Ok(())
    }
}

impl MarketConfig {
    /// The Hawkes kernel of the market-order flow.
    pub fn hawkes_kernels(&self) -> HawkesKernels {
        HawkesKernels {
            alpha_per_s: self.hawkes_alpha_per_s,
            beta_per_s: self.hawkes_beta_per_s,
            slow_alpha_per_s: self.hawkes_slow_alpha_per_s,
            slow_beta_per_s: self.hawkes_slow_beta_per_s,
        }
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let instrument = &self.instrument;
        let checks: [(&str, f64, f64, f64); 30] = [
            ("market.instrument.tick_size", instrument.tick_size, 1e-9, 1e6),
            ("market.instrument.lot_size", instrument.lot_size, 1e-9, 1e6),
            ("market.instrument.min_notional", instrument.min_notional, 0.0, 1e9),
            ("market.initial_price", self.initial_price, 1e-6, 1e12),
            ("market.volatility_annual", self.volatility_annual, 0.0, 20.0),
            ("market.stressed_volatility_mult", self.stressed_volatility_mult, 1.0, 100.0),
            ("market.stress_per_hour", self.stress_per_hour, 0.0, 3_600.0),
            ("market.stress_mean_minutes", self.stress_mean_minutes, 0.01, 1e6),
            ("market.jumps_per_hour", self.jumps_per_hour, 0.0, 3_600.0),
            ("market.jump_std_bps", self.jump_std_bps, 0.0, 5_000.0),
            ("market.drift_annual", self.drift_annual, -1_000.0, 1_000.0),
            ("market.step_ms", self.step_ms as f64, 1.0, 60_000.0),
            ("market.limit_rate_per_s", self.limit_rate_per_s, 0.01, 1e6),
            ("market.cancel_rate_per_s", self.cancel_rate_per_s, 0.0, 1e6),
            ("market.depth_decay_ticks", self.depth_decay_ticks, 0.1, 1e6),
            ("market.limit_size_lots", self.limit_size_lots, 1.0, 1e9),
            ("market.initial_touch_lots", self.initial_touch_lots as f64, 1.0, 1e12),
            ("market.initial_levels", self.initial_levels as f64, 1.0, 100_000.0),
            ("market.market_rate_per_s", self.market_rate_per_s, 0.0, 1e6),
            ("market.hawkes_alpha_per_s", self.hawkes_alpha_per_s, 0.0, 1e6),
            ("market.hawkes_beta_per_s", self.hawkes_beta_per_s, 1e-3, 1e6),
            ("market.hawkes_slow_alpha_per_s", self.hawkes_slow_alpha_per_s, 0.0, 1e6),
            ("market.hawkes_slow_beta_per_s", self.hawkes_slow_beta_per_s, 1e-3, 1e6),
            ("market.market_size_pareto_alpha", self.market_size_pareto_alpha, 0.5, 10.0),
            ("market.market_size_median_lots", self.market_size_median_lots, 1.0, 1e12),
            ("market.market_size_sigma", self.market_size_sigma, 0.0, 10.0),
            ("market.limit_new_level_share", self.limit_new_level_share, 0.01, 1.0),
            ("market.market_size_min_lots", self.market_size_min_lots as f64, 1.0, 1e12),
            ("market.flow_bias_per_tick", self.flow_bias_per_tick, 0.0, 100.0),
            ("market.buy_flow_share", self.buy_flow_share, 0.01, 0.99),
        ];
        for (field, value, min, max) in checks {
            check(field, value, min, max)?;
        }
        check_symbol(&instrument.symbol)?;
        check("market.market_size_max_lots", self.market_size_max_lots as f64, 1.0, 1e12)?;
        if self.market_size_max_lots < self.market_size_min_lots {
            return Err(ConfigError::invalid(
                "market.market_size_max_lots",
                &format!(
                    "{} is below market_size_min_lots = {}: the largest market order cannot be smaller than the smallest; raise market_size_max_lots or lower market_size_min_lots",
                    self.market_size_max_lots, self.market_size_min_lots
                ),
            ));
        }
        check("market.stale_slack_ticks", self.stale_slack_ticks as f64, 0.0, 1e9)?;
        check("market.follow_depth_ticks", self.follow_depth_ticks, 0.0, 1e9)?;
        if self.follow_depth_ticks > 0.0 && !self.quotes_follow_fundamental {
            return Err(ConfigError::invalid(
                "market.follow_depth_ticks",
                "has no effect while quotes stay put: set quotes_follow_fundamental = true, or remove follow_depth_ticks",
            ));
        }
        if self.hawkes_alpha_per_s >= self.hawkes_beta_per_s {
            return Err(ConfigError::invalid(
                "market.hawkes_alpha_per_s",
                &format!("{} must be below hawkes_beta_per_s = {} or the flow explodes", self.hawkes_alpha_per_s, self.hawkes_beta_per_s),
            ));
        }
        let branching = self.hawkes_kernels().branching_ratio();
        if self.hawkes_slow_alpha_per_s > 0.0 && branching >= 1.0 {
            return Err(ConfigError::invalid(
                "market.hawkes_slow_alpha_per_s",
                &format!(
                    "the branching ratios hawkes_alpha_per_s / hawkes_beta_per_s + hawkes_slow_alpha_per_s / hawkes_slow_beta_per_s add up to {branching:.4}: they must stay below 1 or the flow explodes; lower hawkes_slow_alpha_per_s"
                ),
            ));
        }
        self.validate_price_in_ticks()
    }

    /// The starting price must be a sensible number of ticks: at least
    /// [`INITIAL_PRICE_TICKS_MIN`], and far enough inside the engine port's domain
    /// (prices up to `PRICE_TICKS_MAX`) that the market can rise eightfold.
    fn validate_price_in_ticks(&self) -> Result<(), ConfigError> {
        let ticks = self.initial_price / self.instrument.tick_size;
        let max = (PRICE_TICKS_MAX / 8) as f64;
        if (INITIAL_PRICE_TICKS_MIN..=max).contains(&ticks) {
            return Ok(());
        }
        Err(ConfigError::invalid(
            "market.initial_price",
            &format!(
                "{} is {} ticks of {}; a market starts at {} to {} ticks (the engine's port carries prices up to 2^53 ticks): change initial_price or market.instrument.tick_size",
                readable_number(self.initial_price),
                readable_number(ticks),
                readable_number(self.instrument.tick_size),
                readable_number(INITIAL_PRICE_TICKS_MIN),
                readable_number(max)
            ),
        ))
    }
}

/// The fewest ticks a market may start at: with fewer, one tick is a tenth of the
/// price or more, and no spread or skew can be expressed.
pub const INITIAL_PRICE_TICKS_MIN: f64 = 10.0;

impl ExchangeConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        self.latency.market_data.validate("exchange.latency.market_data")?;
        self.latency.order_entry.validate("exchange.latency.order_entry")?;
        self.latency.ack.validate("exchange.latency.ack")?;
        check("exchange.maker_fee_bps", self.maker_fee_bps, -100.0, 100.0)?;
        check("exchange.taker_fee_bps", self.taker_fee_bps, -100.0, 100.0)?;
        check("exchange.max_orders_per_s", self.max_orders_per_s as f64, 1.0, 1e9)?;
        check("exchange.snapshot_levels", self.snapshot_levels as f64, 1.0, 10_000.0)?;
        check("exchange.feed_batch_ms", self.feed_batch_ms as f64, 0.0, 60_000.0)
    }

    /// The instrument as the engine sees it at the start: the venue's listing and fees.
    pub fn engine_instrument(&self, market: &MarketConfig) -> Instrument {
        Instrument {
            symbol: market.instrument.symbol.clone(),
            tick_size: market.instrument.tick_size,
            lot_size: market.instrument.lot_size,
            min_notional: market.instrument.min_notional,
            maker_fee_bps: self.maker_fee_bps,
            taker_fee_bps: self.taker_fee_bps,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(events: Vec<InjectedEvent>) -> SimConfig {
        SimConfig {
            seed: 1,
            duration_s: 600.0,
            market: MarketConfig::default(),
            exchange: ExchangeConfig::default(),
            events,
            reaction: ReactionConfig::default(),
            tape: None,
        }
    }

    #[test]
    fn the_starting_price_is_a_sensible_number_of_ticks() {
        let mut market = MarketConfig::default();
        assert!(market.validate().is_ok());
        for (price, tick) in [(1e12, 1e-9), (0.5, 0.1)] {
            market.initial_price = price;
            market.instrument.tick_size = tick;
            let error = market.validate().unwrap_err();
            assert_eq!(error.field, "market.initial_price");
            assert!(error.message.contains("a market starts at 10 to"), "{}", error.message);
        }
        market.initial_price = 100.0;
        market.instrument.tick_size = 0.01;
        assert!(market.validate().is_ok());
    }

    #[test]
    fn symbols_are_what_venues_write() {
        for symbol in ["BTCUSDT", "BTC-PERP", "ETH/USD", "XBTUSD_240628", "btcusdt", "SOL:USDC.P"] {
            assert_eq!(check_symbol(symbol), Ok(()), "{symbol}");
        }
        let long = "A".repeat(SYMBOL_CHARS_MAX + 1);
        for symbol in ["", "BTC USDT", "a\"b", "BTC\nUSDT", "BTC,USDT", "<b>", "BTCÜSDT", long.as_str()] {
            let error = check_symbol(symbol).unwrap_err();
            assert_eq!(error.field, "market.instrument.symbol", "{symbol}");
            assert!(error.message.contains("e.g. BTCUSDT"), "{error}");
        }
        let mut market = MarketConfig::default();
        market.instrument.symbol = String::new();
        assert_eq!(market.validate().unwrap_err().field, "market.instrument.symbol");
    }

    #[test]
    fn defaults_validate() {
        config(Vec::new()).validate().unwrap();
    }

    #[test]
    fn a_negative_follow_depth_is_refused_with_its_field() {
        let mut negative = config(Vec::new());
        negative.market.follow_depth_ticks = -1.0;
        let error = negative.validate().unwrap_err();
        assert_eq!(error.field, "market.follow_depth_ticks");
        let mut near = config(Vec::new());
        near.market.follow_depth_ticks = 12.5;
        let error = near.validate().unwrap_err();
        assert_eq!(error.field, "market.follow_depth_ticks");
        assert!(error.message.contains("set quotes_follow_fundamental = true"), "{error}");
        near.market.quotes_follow_fundamental = true;
        near.validate().unwrap();
        assert!(!serde_json::to_string(&config(Vec::new()).market).unwrap().contains("follow_depth_ticks"), "left out at 0");
    }

    #[test]
    fn a_second_hawkes_kernel_must_keep_the_branching_below_one() {
        // The default flow branches 0.5; a slow kernel adding 0.5 more explodes.
        let mut explosive = config(Vec::new());
        (explosive.market.hawkes_slow_alpha_per_s, explosive.market.hawkes_slow_beta_per_s) = (0.25, 0.5);
        let error = explosive.validate().unwrap_err();
        assert_eq!(error.field, "market.hawkes_slow_alpha_per_s");
        assert!(error.message.contains("add up to 1.0000") && error.message.contains("lower hawkes_slow_alpha_per_s"), "{error}");
        explosive.market.hawkes_slow_alpha_per_s = 0.2;
        explosive.validate().unwrap();
        let mut no_decay = config(Vec::new());
        no_decay.market.hawkes_slow_beta_per_s = 0.0;
        assert_eq!(no_decay.validate().unwrap_err().field, "market.hawkes_slow_beta_per_s");
        let serialized = serde_json::to_string(&config(Vec::new()).market).unwrap();
        assert!(!serialized.contains("hawkes_slow"), "left out when off: {serialized}");
    }

    #[test]
    fn events_past_the_end_are_refused_with_their_path() {
        let error = config(vec![InjectedEvent::FeedOutage { start_s: 590.0, duration_s: 30.0 }]).validate().unwrap_err();
        assert_eq!(error.field, "events[0].start_s");
        assert!(error.message.contains("the event runs until 620 s, past the scenario's end at 600 s"), "{error}");
    }

    #[test]
    fn overlapping_crashes_are_refused() {
        let crash = |start_s| InjectedEvent::FlashCrash {
            start_s,
            side: drydock_engine::Side::Sell,
            drop_pct: 2.0,
            fall_duration_s: 5.0,
            depth_withdrawn: 0.5,
            halt_s: 0.0,
            recovery_fraction: 0.5,
            recovery_s: 30.0,
        };
        let error = config(vec![crash(100.0), crash(120.0)]).validate().unwrap_err();
        assert_eq!(error.field, "events[1].start_s");
        assert!(error.message.contains("this flash_crash overlaps events[0] (100 s to 135 s)"), "{error}");
        config(vec![crash(100.0), crash(200.0)]).validate().unwrap();
        // Times read as written, not as their floating-point sum (598.0129999999999).
        let halt = |start_s, duration_s| InjectedEvent::ExchangeHalt { start_s, duration_s };
        let mut halts = config(vec![halt(537.492, 60.521), halt(550.0, 10.0)]);
        halts.duration_s = 900.0;
        let error = halts.validate().unwrap_err();
        assert!(error.message.contains("(537.492 s to 598.013 s)"), "{error}");
    }

    #[test]
    fn the_random_walk_market_is_not_framed() {
        let mut walk = config(Vec::new());
        walk.market.model = MarketModel::RandomWalk;
        walk.exchange.fill_model = FillModel::Intensity;
        let error = walk.validate().unwrap_err();
        assert_eq!(error.field, "exchange.feed_batch_ms");
        assert!(error.message.contains("set exchange.feed_batch_ms = 0"), "{error}");
        walk.exchange.feed_batch_ms = 0;
        walk.validate().unwrap();
    }

    #[test]
    fn market_order_sizes_bound_each_other() {
        let mut sizes = config(Vec::new());
        sizes.market.market_size_min_lots = 500;
        let error = sizes.validate().unwrap_err();
        assert_eq!(error.field, "market.market_size_max_lots");
        assert!(error.message.contains("400 is below market_size_min_lots = 500"), "{error}");
        sizes.market.market_size_max_lots = 500;
        sizes.validate().unwrap();
    }

    #[test]
    fn out_of_range_market_setting_names_the_path() {
        let mut bad = config(Vec::new());
        bad.market.volatility_annual = -1.0;
        assert_eq!(bad.validate().unwrap_err().field, "market.volatility_annual");
    }
}
