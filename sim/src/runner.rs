//! The simulation loop. One event queue, ordered by (time, insertion sequence),
//! drives everything: the market generator's arrivals, the fundamental's steps (or
//! a replayed recording's events, or the random walk's steps),
//! messages travelling the three links (market data and reports to the engine,
//! commands to the exchange, each an order-preserving [`Channel`] with its own
//! latency stream), the engine's timers, and the injected events' starts and ends.
//!
//! The engine is driven only through its port (`Engine::handle`); every event it
//! receives and every command it emits goes into the run's fingerprint. Transport
//! faults live here: a feed outage drops market data, a disconnect drops messages
//! both ways and ends with a snapshot and an open-orders report, a latency spike
//! multiplies delays. Venue faults are switches on the exchange. Outputs stream to a
//! [`RunObserver`] so memory stays flat in run length; writing files is the
//! harness's job.

use std::sync::Arc;

use drydock_engine::accounting::FillRecord;
use drydock_engine::port::{Control, DECISION_TIMER, LevelUpdate, TimerId};
use drydock_engine::units::{NANOS_PER_MS, NANOS_PER_S};
use drydock_engine::{Command, Engine, EngineError, EngineParams, Event, Kpis, MarketData, Nanos, Side, VenueReport};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::clock::{Clock, VirtualClock};
use crate::config::MarketModel;
use crate::config::{InjectedEvent, ReactionConfig, SimConfig};
use crate::effects::{EffectMeter, EventEffect, Sample};
use crate::engine_setup::EngineSetup;
use crate::error::SimError;
use crate::exchange::{BpsFees, ExchangeOutput, MockExchange};
use crate::feed::{FeedFrame, FrameFeed, conflate};
use crate::fingerprint::Fingerprinter;
use crate::latency::{BoundedDraws, Channel, Latency, PreparedLatency};
use crate::market::MarketGenerator;
use crate::market::random_walk::RandomWalkMarket;
use crate::perf::{PerfReport, Stage, StageTimer};
use crate::queue::EventQueue;
use crate::replay::driver::ReplayDriver;
use crate::rng::SeedRoot;

/// Options that change what a run records, never what it does.
#[derive(Clone)]
pub struct RunOptions {
    /// Keep a digest per fingerprint record (for `--verify` divergence reports).
    pub keep_trail: bool,
    /// Interval between timeline rows, ns.
    pub timeline_interval_ns: Nanos,
    /// Describe fingerprint record number N (to show where two runs parted).
    pub describe_record: Option<u64>,
    /// A wall clock for stage timings (the non-golden perf section); none times nothing.
    pub stage_clock: Option<Arc<dyn Clock + Send + Sync>>,
}

impl std::fmt::Debug for RunOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunOptions")
            .field("keep_trail", &self.keep_trail)
            .field("timeline_interval_ns", &self.timeline_interval_ns)
            .field("describe_record", &self.describe_record)
            .field("stage_clock", &self.stage_clock.is_some())
            .finish()
    }
}

impl RunOptions {
    /// Default options for a run of `duration_s`: about 2,000 timeline rows.
    pub fn for_duration(duration_s: f64) -> Self {
        let interval_ms = ((duration_s * 1_000.0 / 2_000.0).ceil() as i64).max(100);
        RunOptions { keep_trail: false, timeline_interval_ns: interval_ms * NANOS_PER_MS, describe_record: None, stage_clock: None }
    }
}

/// One downsampled row of the run's timeline.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TimelineRow {
    /// Time, seconds from the start.
    pub time_s: f64,
    /// Exchange mid, quote currency.
    pub mid: Option<f64>,
    /// Exchange best bid, quote currency.
    pub best_bid: Option<f64>,
    /// Exchange best ask, quote currency.
    pub best_ask: Option<f64>,
    /// Our best resting bid as the engine sees it, quote currency.
    pub our_bid: Option<f64>,
    /// Our best resting ask as the engine sees it, quote currency.
    pub our_ask: Option<f64>,
    /// Engine inventory, lots.
    pub inventory_lots: i64,
    /// Engine total PnL, quote currency.
    pub pnl: f64,
}

/// Receives a run's streaming outputs.
pub trait RunObserver {
    /// A fill whose markouts are complete.
    fn on_fill(&mut self, _fill: &FillRecord) {}
    /// A timeline row.
    fn on_timeline(&mut self, _row: &TimelineRow) {}
    /// Whether this observer wants the engine's stream ([`RunObserver::on_engine_event`]
    /// and [`RunObserver::on_engine_command`]); asked when a run or step starts, so an
    /// observer that wants none costs nothing per event.
    fn wants_engine_stream(&self) -> bool {
        false
    }
    /// An event handed to the engine at `now_ns` (the fingerprint's records, in order).
    fn on_engine_event(&mut self, _now_ns: Nanos, _event: &Event) {}
    /// A command the engine emitted at `now_ns`, in response to the last event.
    fn on_engine_command(&mut self, _now_ns: Nanos, _command: &Command) {}
}

/// An observer that keeps nothing.
#[derive(Copy, Clone, Debug, Default)]
pub struct Discard;

impl RunObserver for Discard {}

/// Run-level measurements beyond the engine's KPIs.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RunMetrics {
    /// Simulated time, seconds.
    pub simulated_s: f64,
    /// Market actions of the other participants (limit orders, cancels, market orders).
    pub market_actions: u64,
    /// Market-data messages delivered to the engine.
    pub market_messages: u64,
    /// Events delivered to the engine in total.
    pub engine_events: u64,
    /// Commands the engine emitted.
    pub engine_commands: u64,
    /// Orders the engine sent while a feed fault had outlived `md_stale_ms`.
    pub orders_while_feed_stale: u64,
    /// Market-data messages whose modelled reaction time was checked.
    pub deadline_checks: u64,
    /// Of those, reactions over the budget.
    pub deadline_misses: u64,
    /// Messages lost to outages and disconnects.
    pub messages_dropped: u64,
    /// Our position at the exchange at the end, lots.
    pub exchange_position_lots: i64,
    /// |engine position − exchange position| at the end, lots (0 when reconciled).
    pub position_mismatch_lots: i64,
    /// Largest |our position| at the exchange over the run, lots: the venue's truth
    /// beside the engine's own `kpis.max_inventory_abs`.
    pub exchange_position_abs_max_lots: i64,
    /// Times the exchange book was found crossed (must be 0).
    pub book_crossings: u64,
    /// Last exchange mid, quote currency.
    pub final_mid: Option<f64>,
    /// Mean of our quoted spread (best ask − best bid) over the samples when both
    /// sides were quoted, quote currency.
    pub mean_quoted_spread: f64,
}

/// Everything a finished run reports.
#[derive(Clone, Debug)]
pub struct RunOutcome {
    /// Hex BLAKE3 of the event and command stream.
    pub fingerprint: String,
    /// Records in the fingerprint.
    pub fingerprint_records: u64,
    /// Engine KPIs.
    pub kpis: Kpis,
    /// Measured effects of each injected event.
    pub effects: Vec<EventEffect>,
    /// Run-level measurements.
    pub metrics: RunMetrics,
    /// Per-record digests, when asked for.
    pub trail: Option<Vec<u64>>,
    /// The record asked for with `RunOptions::describe_record`.
    pub described_record: Option<String>,
    /// Wall-clock stage timings, when a stage clock was given (never deterministic).
    pub perf: Option<PerfReport>,
}

/// FIFO lanes of the event queue: one per order-preserving link.
const LANE_MARKET_DATA: usize = 0;
const LANE_ACK: usize = 1;
const LANE_ORDER_ENTRY: usize = 2;
const LANES: usize = 3;

/// Slots of the event queue: recurring sources with exactly one pending event.
const SLOT_STEP: usize = 0;
const SLOT_LIMIT: usize = 1;
const SLOT_CANCEL: usize = 2;
const SLOT_MARKET: usize = 3;
const SLOT_DECISION_TIMER: usize = 4;
const SLOT_REPLAY: usize = 5;
const SLOTS: usize = 6;

#[derive(Debug)]
enum SimEvent {
    Step,
    /// The oldest feed frame reaches the engine.
    FeedFrame,
    LimitArrival,
    CancelArrival,
    MarketArrival,
    ReplayNext,
    ToEngine {
        sent_ns: Nanos,
        event: Event,
    },
    ToExchange(Command),
    EngineTimer {
        timer_id: TimerId,
        generation: u64,
    },
    InjectionStart(usize),
    InjectionEnd(usize),
    FlowChange,
    Halt(bool),
}

struct Links {
    market_data_latency: PreparedLatency,
    order_entry_latency: PreparedLatency,
    ack_latency: PreparedLatency,
    market_data: Channel,
    /// Trades sent as they print beside a framed feed (`trades_in_frames` off).
    trades: Channel,
    order_entry: Channel,
    ack: Channel,
    market_data_rng: ChaCha8Rng,
    trades_rng: ChaCha8Rng,
    order_entry_rng: ChaCha8Rng,
    ack_rng: ChaCha8Rng,
    /// Draws for modelled reaction times only (never shifts the links' streams).
    reaction_rng: ChaCha8Rng,
    /// Order-entry delays of messages no older than [`Links::reaction_age_cap_ns`],
    /// against the bound under which such a message cannot miss the reaction budget
    /// (kept in step with the multiplier): only the delays that may reach it are drawn.
    reaction_draws: BoundedDraws,
    reaction_age_cap_ns: Nanos,
    latency_multiplier: f64,
}

impl Links {
    /// Half of what the budget leaves after compute goes to the message's age, half
    /// to the order-entry delay: messages that young with delays that short are
    /// decided without drawing the delay.
    fn set_reaction_bound(&mut self, reaction: &ReactionConfig) {
        let spare_ns = reaction.budget_ms * NANOS_PER_MS as f64 - reaction.compute_us * 1_000.0;
        self.reaction_age_cap_ns = (spare_ns / 2.0).floor().max(0.0) as Nanos;
        let delay_spare_ns = spare_ns - self.reaction_age_cap_ns as f64;
        self.reaction_draws.set_bound((delay_spare_ns - 1.0) / self.latency_multiplier, &mut self.reaction_rng);
    }
}

#[derive(Default)]
struct Faults {
    feed_outages: u32,
    disconnects: u32,
    halts: u32,
}

/// A simulation in progress, for callers that step it (soaks) or run it whole.
pub struct Simulation {
    config: SimConfig,
    clock: VirtualClock,
    queue: EventQueue<SimEvent>,
    engine: Engine,
    exchange: MockExchange,
    generator: MarketGenerator,
    links: Links,
    faults: Faults,
    fingerprint: Fingerprinter,
    effects: EffectMeter,
    timer_generations: std::collections::BTreeMap<TimerId, u64>,
    output: ExchangeOutput,
    commands: Vec<Command>,
    metrics: RunMetrics,
    options: RunOptions,
    next_timeline_ns: Nanos,
    /// The feed's frames, when it publishes in frames (`feed_batch_ms` > 0).
    feed: Option<FrameFeed>,
    /// The frame being delivered (its buffers swap with the feed's).
    frame_scratch: FeedFrame,
    /// Emptied update vectors of delivered deltas, reused for new ones.
    update_pool: Vec<Vec<LevelUpdate>>,
    /// The random-walk market, when the scenario uses it (then the generator idles).
    walk: Option<RandomWalkMarket>,
    /// The recorded market, when the scenario replays one (then the generator idles).
    replay: Option<ReplayDriver>,
    intensity_rng: ChaCha8Rng,
    spread_sum: f64,
    spread_samples: u64,
    stage_timer: Option<StageTimer>,
    /// Whether the current observer wants the engine's stream.
    stream_engine: bool,
}

impl Simulation {
    /// Builds the dock and the engine for `config` with `params`.
    pub fn new(config: &SimConfig, params: EngineParams, profile: &str, options: RunOptions) -> Result<Self, SimError> {
        config.validate()?;
        let root = SeedRoot::new(config.seed);
        let instrument = config.exchange.engine_instrument(&config.market);
        let stale_grace_ns = params.md_stale_ms * NANOS_PER_MS;
        let engine = EngineSetup::for_run(config, params, profile).build()?;
        let fees = BpsFees { maker_bps: config.exchange.maker_fee_bps, taker_bps: config.exchange.taker_fee_bps };
        let mut exchange = MockExchange::new(instrument, fees, config.exchange.max_orders_per_s, root.stream("exchange.rejects"));
        exchange.set_queue_model(config.exchange.queue.build());
        let replay = replay_driver(config)?;
        let latency = &config.exchange.latency;
        let order_entry_latency = latency.order_entry.prepare();
        let mut reaction_rng = root.stream("metrics.reaction");
        let reaction_draws = BoundedDraws::new(order_entry_latency, 0.0, &mut reaction_rng);
        let mut links = Links {
            market_data_latency: latency.market_data.prepare(),
            order_entry_latency,
            ack_latency: latency.ack.prepare(),
            market_data: Channel::default(),
            trades: Channel::default(),
            order_entry: Channel::default(),
            ack: Channel::default(),
            market_data_rng: root.stream("latency.market_data"),
            trades_rng: root.stream("latency.trades"),
            order_entry_rng: root.stream("latency.order_entry"),
            ack_rng: root.stream("latency.ack"),
            reaction_rng,
            reaction_draws,
            reaction_age_cap_ns: 0,
            latency_multiplier: 1.0,
        };
        links.set_reaction_bound(&config.reaction);
        let mut simulation = Simulation {
            generator: MarketGenerator::new(&config.market, &config.events, &root),
            effects: EffectMeter::new(&config.events, stale_grace_ns),
            config: config.clone(),
            clock: VirtualClock::starting_at(0),
            queue: EventQueue::with_sources(LANES, SLOTS),
            engine,
            exchange,
            links,
            faults: Faults::default(),
            fingerprint: fingerprinter(&options),
            timer_generations: std::collections::BTreeMap::new(),
            output: ExchangeOutput::default(),
            commands: Vec::new(),
            metrics: RunMetrics::default(),
            next_timeline_ns: 0,
            feed: (config.exchange.feed_batch_ms > 0).then(|| FrameFeed::new(config.exchange.feed_batch_ms * NANOS_PER_MS)),
            frame_scratch: FeedFrame::default(),
            update_pool: Vec::new(),
            walk: (config.market.model == MarketModel::RandomWalk)
                .then(|| RandomWalkMarket::new(&config.market, root.stream("market.random_walk"))),
            replay,
            intensity_rng: root.stream("exchange.intensity"),
            spread_sum: 0.0,
            spread_samples: 0,
            stage_timer: options.stage_clock.clone().map(StageTimer::new),
            options,
            stream_engine: false,
        };
        simulation.start();
        Ok(simulation)
    }

    /// Virtual time now.
    pub fn now_ns(&self) -> Nanos {
        self.clock.now_ns()
    }

    /// The engine (read-only).
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The exchange (read-only).
    pub fn exchange(&self) -> &MockExchange {
        &self.exchange
    }

    /// Run metrics so far (deadline counters and message counts are live).
    pub fn metrics(&self) -> &RunMetrics {
        &self.metrics
    }

    /// Runs every event up to and including `end_ns`.
    pub fn run_until(&mut self, end_ns: Nanos, observer: &mut dyn RunObserver) {
        self.stream_engine = observer.wants_engine_stream();
        while let Some((time_ns, event)) = self.queue.pop_until(end_ns) {
            self.clock.advance_to(time_ns);
            self.dispatch(time_ns, event, observer);
        }
        self.clock.advance_to(end_ns);
    }

    /// Hands an operator control to the engine now (as the soak harness does between
    /// iterations); a refused parameter update is returned and changes nothing.
    pub fn control(&mut self, control: Control, observer: &mut dyn RunObserver) -> Result<(), EngineError> {
        let now_ns = self.clock.now_ns();
        self.stream_engine = observer.wants_engine_stream();
        self.deliver(now_ns, Event::Control(control), observer)
    }

    /// Ends the run and reports.
    pub fn finish(mut self, observer: &mut dyn RunObserver) -> RunOutcome {
        let now_ns = self.clock.now_ns();
        self.engine.finish(now_ns);
        self.drain_fills(observer);
        let tick_size = self.config.market.instrument.tick_size;
        self.metrics.simulated_s = now_ns as f64 / NANOS_PER_S as f64;
        self.metrics.orders_while_feed_stale = self.effects.orders_while_feed_stale();
        self.metrics.exchange_position_lots = self.exchange.position_lots();
        self.metrics.position_mismatch_lots = (self.engine.position_lots() - self.exchange.position_lots()).abs();
        self.metrics.exchange_position_abs_max_lots = self.exchange.stats().position_abs_max_lots;
        self.metrics.final_mid = match &self.walk {
            Some(walk) => Some(walk.mid()),
            None => self.exchange.book().mid_ticks().map(|mid| mid * tick_size),
        };
        self.metrics.mean_quoted_spread = if self.spread_samples > 0 { self.spread_sum / self.spread_samples as f64 } else { 0.0 };
        RunOutcome {
            fingerprint: self.fingerprint.finish(),
            fingerprint_records: self.fingerprint.records(),
            kpis: self.engine.kpis(),
            effects: self.effects.effects(tick_size),
            metrics: self.metrics,
            trail: self.fingerprint.trail().map(<[u64]>::to_vec),
            described_record: self.fingerprint.description().map(str::to_string),
            perf: self.stage_timer.as_ref().map(StageTimer::report),
        }
    }

    fn start(&mut self) {
        if self.replay.is_some() {
            self.open_book(|simulation, output| {
                if let Some(driver) = &mut simulation.replay {
                    simulation.metrics.market_actions += driver.apply_due(0, &mut simulation.exchange, output);
                }
            });
            self.queue.set_slot(SLOT_STEP, 0, SimEvent::Step);
            self.schedule_replay();
        } else if let Some(walk) = &self.walk {
            let touch = walk.best_bid_offer();
            self.send_market_data(0, touch);
            self.queue.set_slot(SLOT_STEP, 0, SimEvent::Step);
        } else {
            self.open_book(|simulation, output| simulation.generator.seed_book(&mut simulation.exchange, output));
            self.queue.set_slot(SLOT_STEP, 0, SimEvent::Step);
            self.queue.set_slot(SLOT_LIMIT, 0, SimEvent::LimitArrival);
            self.queue.set_slot(SLOT_CANCEL, 0, SimEvent::CancelArrival);
            self.schedule_market_arrival(0);
        }
        self.schedule_injections();
    }

    /// Builds the opening book with `seed` (its feed changes are not published: the
    /// engine gets one snapshot of the result instead).
    fn open_book(&mut self, seed: impl FnOnce(&mut Self, &mut ExchangeOutput)) {
        let mut output = std::mem::take(&mut self.output);
        seed(self, &mut output);
        output.trades.clear();
        output.updates.clear();
        self.output = output;
        let snapshot = self.exchange.snapshot(self.config.exchange.snapshot_levels);
        self.send_market_data(0, snapshot);
    }

    fn schedule_injections(&mut self) {
        for (index, event) in self.config.events.iter().enumerate() {
            let start_ns = seconds_to_ns(event.start_s());
            self.queue.push(start_ns, SimEvent::InjectionStart(index));
            self.queue.push(start_ns + seconds_to_ns(event.active_s()), SimEvent::InjectionEnd(index));
            if let InjectedEvent::FlashCrash { fall_duration_s, halt_s, .. } = *event
                && halt_s > 0.0
            {
                let trough_ns = seconds_to_ns(event.start_s() + fall_duration_s);
                self.queue.push(trough_ns, SimEvent::Halt(true));
                self.queue.push(trough_ns + seconds_to_ns(halt_s), SimEvent::Halt(false));
            }
        }
        for time_ns in self.generator.injections().flow_change_times_ns() {
            self.queue.push(time_ns, SimEvent::FlowChange);
        }
    }

    fn dispatch(&mut self, now_ns: Nanos, event: SimEvent, observer: &mut dyn RunObserver) {
        match event {
            SimEvent::Step if self.walk.is_some() => self.walk_step(now_ns, observer),
            SimEvent::Step if self.replay.is_some() => {
                let step_ns = self.config.market.step_ms * NANOS_PER_MS;
                self.with_replay(now_ns, |driver, exchange, out| driver.update_shift(now_ns, exchange, out));
                self.sample(now_ns, observer);
                self.queue.set_slot(SLOT_STEP, now_ns + step_ns, SimEvent::Step);
            }
            SimEvent::ReplayNext => {
                let applied = self.with_replay(now_ns, |driver, exchange, out| {
                    driver.update_shift(now_ns, exchange, out);
                    driver.apply_due(now_ns, exchange, out)
                });
                self.metrics.market_actions += applied;
                self.schedule_replay();
            }
            SimEvent::Step => {
                let step_ns = self.config.market.step_ms * NANOS_PER_MS;
                self.with_output(now_ns, |generator, exchange, out| generator.step(now_ns, exchange, out));
                self.sample(now_ns, observer);
                self.queue.set_slot(SLOT_STEP, now_ns + step_ns, SimEvent::Step);
            }
            SimEvent::FeedFrame => self.deliver_frame(now_ns, observer),
            SimEvent::LimitArrival => {
                self.metrics.market_actions += 1;
                let next = self.with_output(now_ns, |generator, exchange, out| generator.limit_arrival(now_ns, exchange, out));
                self.queue.set_slot(SLOT_LIMIT, next, SimEvent::LimitArrival);
            }
            SimEvent::CancelArrival => {
                self.metrics.market_actions += 1;
                let next = self.with_output(now_ns, |generator, exchange, out| generator.cancel_arrival(now_ns, exchange, out));
                if next != Nanos::MAX {
                    self.queue.set_slot(SLOT_CANCEL, next, SimEvent::CancelArrival);
                }
            }
            SimEvent::MarketArrival => {
                self.metrics.market_actions += 1;
                self.with_output(now_ns, |generator, exchange, out| generator.market_arrival(now_ns, exchange, out));
                self.schedule_market_arrival(now_ns);
            }
            // The baseline changed: redraw the pending arrival (replacing it).
            SimEvent::FlowChange => self.schedule_market_arrival(now_ns),
            SimEvent::ToEngine { sent_ns, event } => self.arrive_at_engine(now_ns, sent_ns, event, observer),
            SimEvent::ToExchange(command) => self.arrive_at_exchange(now_ns, command),
            SimEvent::EngineTimer { timer_id, generation } => {
                if timer_id == DECISION_TIMER || self.timer_generations.get(&timer_id) == Some(&generation) {
                    let _ = self.deliver(now_ns, Event::Timer { timer_id }, observer);
                }
            }
            SimEvent::InjectionStart(index) => self.injection(now_ns, index, true),
            SimEvent::InjectionEnd(index) => self.injection(now_ns, index, false),
            SimEvent::Halt(halted) => self.set_halt(halted),
        }
    }

    /// Runs a generator action against the exchange and ships what it produced.
    fn with_output<T>(
        &mut self,
        now_ns: Nanos,
        action: impl FnOnce(&mut MarketGenerator, &mut MockExchange, &mut ExchangeOutput) -> T,
    ) -> T {
        let (generator, exchange, output) = (&mut self.generator, &mut self.exchange, &mut self.output);
        let result = timed(&mut self.stage_timer, Stage::Market, || action(generator, exchange, output));
        self.ship(now_ns);
        result
    }

    /// Runs a replay action against the exchange and ships what it produced.
    fn with_replay<T>(&mut self, now_ns: Nanos, action: impl FnOnce(&mut ReplayDriver, &mut MockExchange, &mut ExchangeOutput) -> T) -> T {
        let (driver, exchange, output) = (self.replay.as_mut().expect("a replay scenario"), &mut self.exchange, &mut self.output);
        let result = timed(&mut self.stage_timer, Stage::Market, || action(driver, exchange, output));
        self.ship(now_ns);
        result
    }

    fn schedule_replay(&mut self) {
        if let Some(next_ns) = self.replay.as_ref().and_then(ReplayDriver::next_time_ns) {
            self.queue.set_slot(SLOT_REPLAY, next_ns, SimEvent::ReplayNext);
        }
    }

    /// Sends what the exchange put in `self.output` on its links, leaving it empty.
    fn ship(&mut self, now_ns: Nanos) {
        if !self.exchange.book().is_uncrossed() {
            self.metrics.book_crossings += 1;
        }
        if !self.output.reports.is_empty() {
            self.effects.our_resting_orders(now_ns, self.exchange.our_resting_count());
        }
        if self.feed.is_some() && !self.config.exchange.trades_in_frames && !self.output.trades.is_empty() {
            self.send_trades_now(now_ns);
        }
        let output = &mut self.output;
        if let Some(feed) = &mut self.feed {
            if !(output.trades.is_empty() && output.updates.is_empty())
                && let Some(publish_ns) = feed.add(now_ns, &mut output.trades, &mut output.updates)
            {
                // The frame takes its place on the link now; it leaves at publish_ns.
                let arrival = self.market_data_arrival_ns(publish_ns);
                self.queue.push_lane(LANE_MARKET_DATA, arrival, SimEvent::FeedFrame);
            }
        } else {
            if !output.trades.is_empty() {
                let mut trades = std::mem::take(&mut output.trades);
                for trade in trades.drain(..) {
                    self.send_market_data(now_ns, trade);
                }
                self.output.trades = trades;
            }
            if !self.output.updates.is_empty() {
                let mut updates = self.update_pool.pop().unwrap_or_default();
                crate::buffers::move_all(&mut self.output.updates, &mut updates);
                self.send_market_data(now_ns, MarketData::Delta { updates });
            }
        }
        if !self.output.reports.is_empty() {
            let mut reports = std::mem::take(&mut self.output.reports);
            for report in reports.drain(..) {
                self.send_report(now_ns, report);
            }
            self.output.reports = reports;
        }
    }

    /// Sends the output's trades on the trade link, each a message of its own, ahead
    /// of the frame that will carry the book's changes (a separate trade stream).
    fn send_trades_now(&mut self, now_ns: Nanos) {
        let mut trades = std::mem::take(&mut self.output.trades);
        for trade in trades.drain(..) {
            let links = &mut self.links;
            let delay = delay_ns(&links.market_data_latency, &mut links.trades_rng, links.latency_multiplier);
            let arrival = links.trades.arrival_ns(now_ns, delay);
            self.queue.push(arrival, SimEvent::ToEngine { sent_ns: now_ns, event: Event::Market(trade) });
        }
        self.output.trades = trades;
    }

    /// The oldest frame reaches the engine: its trades, its snapshot, then one
    /// delta with the last size of each changed level, each a message of its own.
    fn deliver_frame(&mut self, now_ns: Nanos, observer: &mut dyn RunObserver) {
        // The frame is taken into the scratch frame and used field by field in place:
        // moving a whole frame in and out costs more than the small frames it carries.
        let feed = self.feed.as_mut().expect("frames are scheduled only by a frame feed");
        let taken = feed.take_oldest(&mut self.frame_scratch);
        debug_assert!(taken, "every scheduled frame is queued");
        let sent_ns = self.frame_scratch.publish_ns;
        if !self.frame_scratch.trades.is_empty() {
            let mut trades = std::mem::take(&mut self.frame_scratch.trades);
            for trade in trades.drain(..) {
                self.arrive_at_engine(now_ns, sent_ns, Event::Market(trade), observer);
            }
            self.frame_scratch.trades = trades;
        }
        if let Some(snapshot) = self.frame_scratch.snapshot.take() {
            self.arrive_at_engine(now_ns, sent_ns, Event::Market(snapshot), observer);
        }
        if !self.frame_scratch.updates.is_empty() {
            // The frame's buffer goes to the engine; an emptied one from the pool replaces it.
            let mut updates = std::mem::replace(&mut self.frame_scratch.updates, self.update_pool.pop().unwrap_or_default());
            conflate(&mut updates);
            self.arrive_at_engine(now_ns, sent_ns, Event::Market(MarketData::Delta { updates }), observer);
        }
    }

    /// When a market-data message sent at `sent_ns` reaches the engine (one latency
    /// draw, in the link's order).
    fn market_data_arrival_ns(&mut self, sent_ns: Nanos) -> Nanos {
        let delay = delay_ns(&self.links.market_data_latency, &mut self.links.market_data_rng, self.links.latency_multiplier);
        self.links.market_data.arrival_ns(sent_ns, delay)
    }

    fn send_market_data(&mut self, now_ns: Nanos, message: MarketData) {
        let arrival = self.market_data_arrival_ns(now_ns);
        self.queue.push_lane(LANE_MARKET_DATA, arrival, SimEvent::ToEngine { sent_ns: now_ns, event: Event::Market(message) });
    }

    fn send_report(&mut self, now_ns: Nanos, report: VenueReport) {
        let delay = delay_ns(&self.links.ack_latency, &mut self.links.ack_rng, self.links.latency_multiplier);
        let arrival = self.links.ack.arrival_ns(now_ns, delay);
        self.queue.push_lane(LANE_ACK, arrival, SimEvent::ToEngine { sent_ns: now_ns, event: Event::Venue(report) });
    }

    fn arrive_at_engine(&mut self, now_ns: Nanos, sent_ns: Nanos, event: Event, observer: &mut dyn RunObserver) {
        let lost = match &event {
            Event::Market(_) => self.faults.feed_outages > 0 || self.faults.disconnects > 0,
            Event::Venue(_) => self.faults.disconnects > 0,
            _ => false,
        };
        if lost {
            self.metrics.messages_dropped += 1;
            return;
        }
        match &event {
            Event::Market(_) => {
                self.metrics.market_messages += 1;
                self.check_deadline(now_ns - sent_ns);
            }
            Event::Venue(VenueReport::Rejected { .. } | VenueReport::ReplaceRejected { .. }) => self.effects.reject_received(now_ns),
            _ => {}
        }
        let _ = self.deliver(now_ns, event, observer);
    }

    /// Modelled reaction time of a market-data message of `age_ns` against the budget.
    /// For a young enough message, a delay under the prepared bound is a certain hit,
    /// decided without drawing it (the same distribution of counts, less work).
    fn check_deadline(&mut self, age_ns: Nanos) {
        self.metrics.deadline_checks += 1;
        let links = &mut self.links;
        let order_entry = if age_ns <= links.reaction_age_cap_ns {
            match links.reaction_draws.next(&mut links.reaction_rng) {
                Some(delay) => delay,
                None => return,
            }
        } else {
            links.order_entry_latency.sample_ns(&mut links.reaction_rng)
        };
        let order_entry = scaled(order_entry, links.latency_multiplier);
        let reaction_ns = age_ns as f64 + self.config.reaction.compute_us * 1_000.0 + order_entry as f64;
        if reaction_ns > self.config.reaction.budget_ms * NANOS_PER_MS as f64 {
            self.metrics.deadline_misses += 1;
        }
    }

    fn arrive_at_exchange(&mut self, now_ns: Nanos, command: Command) {
        if self.faults.disconnects > 0 {
            self.metrics.messages_dropped += 1;
            return;
        }
        let (exchange, output) = (&mut self.exchange, &mut self.output);
        timed(&mut self.stage_timer, Stage::Exchange, || exchange.on_command(now_ns, &command, output));
        self.ship(now_ns);
    }

    /// Hands one event to the engine, fingerprints both directions and routes the
    /// commands.
    fn deliver(&mut self, now_ns: Nanos, event: Event, observer: &mut dyn RunObserver) -> Result<(), EngineError> {
        self.metrics.engine_events += 1;
        self.fingerprint.event(now_ns, &event);
        if self.stream_engine {
            stream_event(observer, now_ns, &event);
        }
        let mut commands = std::mem::take(&mut self.commands);
        let engine = &mut self.engine;
        let result = timed(&mut self.stage_timer, Stage::Engine, || engine.handle(now_ns, &event, &mut commands));
        if !commands.is_empty() {
            for command in commands.drain(..) {
                self.metrics.engine_commands += 1;
                self.fingerprint.command(now_ns, &command);
                if self.stream_engine {
                    stream_command(observer, now_ns, &command);
                }
                self.route(now_ns, command);
            }
        }
        self.commands = commands;
        self.drain_fills(observer);
        if let Event::Market(MarketData::Delta { mut updates }) = event {
            updates.clear();
            self.update_pool.push(updates);
        }
        result
    }

    fn route(&mut self, now_ns: Nanos, command: Command) {
        match command {
            Command::SetTimer { timer_id, at_ns } if timer_id == DECISION_TIMER => {
                self.queue.set_slot(SLOT_DECISION_TIMER, at_ns.max(now_ns), SimEvent::EngineTimer { timer_id, generation: 0 });
            }
            Command::SetTimer { timer_id, at_ns } => {
                let generation = self.timer_generations.entry(timer_id).or_default();
                *generation += 1;
                let generation = *generation;
                self.queue.push(at_ns.max(now_ns), SimEvent::EngineTimer { timer_id, generation });
            }
            command => {
                if matches!(command, Command::Place(_)) {
                    self.effects.order_sent(now_ns);
                }
                let delay = delay_ns(&self.links.order_entry_latency, &mut self.links.order_entry_rng, self.links.latency_multiplier);
                let arrival = self.links.order_entry.arrival_ns(now_ns, delay);
                self.queue.push_lane(LANE_ORDER_ENTRY, arrival, SimEvent::ToExchange(command));
            }
        }
    }

    fn drain_fills(&mut self, observer: &mut dyn RunObserver) {
        for fill in self.engine.take_completed_fills() {
            observer.on_fill(&fill);
        }
    }

    fn schedule_market_arrival(&mut self, now_ns: Nanos) {
        if let Some(next) = self.generator.next_market_arrival(now_ns) {
            self.queue.set_slot(SLOT_MARKET, next, SimEvent::MarketArrival);
        }
    }

    fn injection(&mut self, now_ns: Nanos, index: usize, starting: bool) {
        let event = self.config.events[index].clone();
        match event {
            InjectedEvent::FeedOutage { .. } => {
                self.faults.feed_outages = if starting { self.faults.feed_outages + 1 } else { self.faults.feed_outages - 1 };
                if !starting {
                    self.resync_feed(now_ns);
                }
            }
            InjectedEvent::Disconnect { .. } => {
                self.faults.disconnects = if starting { self.faults.disconnects + 1 } else { self.faults.disconnects - 1 };
                if !starting {
                    let report = self.exchange.open_orders_report();
                    self.send_report(now_ns, report);
                    self.resync_feed(now_ns);
                }
            }
            InjectedEvent::RejectStorm { reject_fraction, .. } => {
                self.exchange.set_reject_fraction(if starting { reject_fraction } else { 0.0 })
            }
            InjectedEvent::ExchangeHalt { .. } => self.set_halt(starting),
            InjectedEvent::LatencySpike { multiplier, .. } => {
                self.links.latency_multiplier =
                    if starting { self.links.latency_multiplier * multiplier } else { self.links.latency_multiplier / multiplier };
                self.links.set_reaction_bound(&self.config.reaction);
            }
            InjectedEvent::FeeChange { maker_fee_bps, taker_fee_bps, .. } => {
                if starting {
                    self.exchange.set_fees(BpsFees { maker_bps: maker_fee_bps, taker_bps: taker_fee_bps });
                }
            }
            InjectedEvent::PriceShock { .. } => {
                if starting {
                    let mid_ticks = self.exchange.book().mid_ticks();
                    if let Some(driver) = &mut self.replay {
                        driver.start_shock(index, mid_ticks);
                    }
                }
            }
            InjectedEvent::VolatilitySpike { .. } | InjectedEvent::LiquidityGap { .. } | InjectedEvent::FlashCrash { .. } => {
                if starting {
                    self.with_output(now_ns, |generator, exchange, out| generator.on_event_start(&event, exchange, out));
                }
            }
        }
    }

    fn set_halt(&mut self, halted: bool) {
        self.faults.halts = if halted { self.faults.halts + 1 } else { self.faults.halts.saturating_sub(1) };
        self.exchange.set_halted(self.faults.halts > 0);
    }

    fn resync_feed(&mut self, now_ns: Nanos) {
        if self.faults.feed_outages == 0 && self.faults.disconnects == 0 {
            let snapshot = self.exchange.snapshot(self.config.exchange.snapshot_levels);
            // An open frame carries the snapshot (it supersedes the frame's changes so
            // far), so the link keeps the order in which things were published.
            match self.feed.as_mut().and_then(|feed| feed.open_frame(now_ns)) {
                Some(frame) => {
                    frame.updates.clear();
                    frame.snapshot = Some(snapshot);
                }
                None => self.send_market_data(now_ns, snapshot),
            }
        }
    }

    /// One step of the random-walk market: fills at the quotes set after the last
    /// move, then the move, then the new touch to the engine.
    fn walk_step(&mut self, now_ns: Nanos, observer: &mut dyn RunObserver) {
        let walk = self.walk.as_mut().expect("a random-walk scenario");
        let (step_s, intensity) = (self.config.market.random_walk.step_s, &self.config.exchange.intensity);
        if now_ns > 0 {
            self.exchange.intensity_fills(walk.mid(), step_s, intensity.a_per_s, intensity.k, &mut self.intensity_rng, &mut self.output);
            walk.step();
        }
        let touch = walk.best_bid_offer();
        self.output.updates.clear();
        self.ship(now_ns);
        self.send_market_data(now_ns, touch);
        self.sample(now_ns, observer);
        self.queue.set_slot(SLOT_STEP, now_ns + (step_s * NANOS_PER_S as f64).round() as Nanos, SimEvent::Step);
    }

    fn sample(&mut self, now_ns: Nanos, observer: &mut dyn RunObserver) {
        if let (Some(bid), Some(ask)) = self.engine.best_quotes() {
            self.spread_sum += (ask - bid) as f64 * self.config.market.instrument.tick_size;
            self.spread_samples += 1;
        }
        let book = self.exchange.book();
        let sample = Sample { time_ns: now_ns, mid_ticks: book.mid_ticks(), our_resting_orders: self.exchange.our_resting_count() };
        self.effects.sample(&sample, |side, ticks| book.depth_within_ticks(side, ticks));
        if now_ns >= self.next_timeline_ns {
            self.next_timeline_ns = now_ns + self.options.timeline_interval_ns;
            observer.on_timeline(&self.timeline_row(now_ns));
        }
    }

    fn timeline_row(&self, now_ns: Nanos) -> TimelineRow {
        let tick_size = self.config.market.instrument.tick_size;
        let book = self.exchange.book();
        let price = |ticks: Option<i64>| ticks.map(|ticks| ticks as f64 * tick_size);
        let (our_bid, our_ask) = self.engine.best_quotes();
        TimelineRow {
            time_s: now_ns as f64 / NANOS_PER_S as f64,
            mid: book.mid_ticks().map(|mid| mid * tick_size),
            best_bid: price(book.best(Side::Buy)),
            best_ask: price(book.best(Side::Sell)),
            our_bid: price(our_bid),
            our_ask: price(our_ask),
            inventory_lots: self.engine.position_lots(),
            pnl: self.engine.pnl_quote(),
        }
    }
}

/// Runs a whole scenario.
pub fn run(
    config: &SimConfig,
    params: EngineParams,
    profile: &str,
    options: RunOptions,
    observer: &mut dyn RunObserver,
) -> Result<RunOutcome, SimError> {
    let end_ns = seconds_to_ns(config.duration_s);
    let mut simulation = Simulation::new(config, params, profile, options)?;
    simulation.run_until(end_ns, observer);
    Ok(simulation.finish(observer))
}

/// The replay driver of a scenario with `market.source`, checked against its tape.
fn replay_driver(config: &SimConfig) -> Result<Option<ReplayDriver>, SimError> {
    if config.market.source.is_none() {
        return Ok(None);
    }
    config.validate_tape()?;
    let tape = config.tape.as_ref().expect("validate_tape checked the tape is loaded");
    Ok(Some(ReplayDriver::new(Arc::clone(&tape.0), &config.events)))
}

/// Hands an event to an observer that asked for the engine's stream; out of line
/// so that delivery, where nobody asks, stays as small as without it.
#[cold]
#[inline(never)]
fn stream_event(observer: &mut dyn RunObserver, now_ns: Nanos, event: &Event) {
    observer.on_engine_event(now_ns, event);
}

/// Hands a command to an observer that asked for the engine's stream (out of line).
#[cold]
#[inline(never)]
fn stream_command(observer: &mut dyn RunObserver, now_ns: Nanos, command: &Command) {
    observer.on_engine_command(now_ns, command);
}

/// Runs `action`, timing it as `stage` when a stage timer is on.
fn timed<T>(timer: &mut Option<StageTimer>, stage: Stage, action: impl FnOnce() -> T) -> T {
    match timer {
        Some(timer) => timer.time(stage, action),
        None => action(),
    }
}

fn fingerprinter(options: &RunOptions) -> Fingerprinter {
    let mut fingerprinter = Fingerprinter::new(options.keep_trail);
    if let Some(index) = options.describe_record {
        fingerprinter.describe(index);
    }
    fingerprinter
}

fn delay_ns(model: &PreparedLatency, rng: &mut ChaCha8Rng, multiplier: f64) -> Nanos {
    scaled(model.sample_ns(rng), multiplier)
}

/// A drawn delay under a latency spike's multiplier.
fn scaled(delay_ns: Nanos, multiplier: f64) -> Nanos {
    if multiplier == 1.0 { delay_ns } else { (delay_ns as f64 * multiplier).round() as Nanos }
}

fn seconds_to_ns(seconds: f64) -> Nanos {
    (seconds * NANOS_PER_S as f64).round() as Nanos
}
