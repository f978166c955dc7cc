//! [`Engine`]: the market maker as a sans-IO state machine. The caller hands it
//! `(now_ns, &Event)` and collects the [`Command`]s it pushes; the engine never reads
//! a clock, does IO, spawns threads or creates randomness (back-off jitter comes
//! from the seeded stream it was built with).
//!
//! Flow of one event: market data updates the book view, fair value, markouts, the
//! PnL peak (drawdown kill) and the volatility breaker, then requotes when the fair
//! value moved enough and `min_interval_ms` has passed. Venue reports drive the order
//! state machine and accounting. The decision timer (every `decision_interval_ms`)
//! samples volatility, detects stale data and timeouts, unwinds excess inventory
//! within the taker cap and always evaluates a decision, so guards are counted even
//! when no market data arrives.

use rand::Rng;

use crate::accounting::{Accounting, FillRecord, Markouts, fill_record};
use crate::book::{BookView, Touch};
use crate::error::EngineError;
use crate::kpi::{BlockReason, BlockSet, Counters, Kpis, SignedHistogram};
use crate::orders::{OrderPurpose, OrderRecord, OrderState, OrderTracker, ReportOutcome};
use crate::params::{EngineParams, FairValueMode, HorizonMode, VolatilitySource};
use crate::port::{
    Command, Control, DECISION_TIMER, Event, Fill, Liquidity, MarketData, NewOrder, RejectReason, TimeInForce, VenueOrder, VenueReport,
};
use crate::quoting::{QuoteInputs, QuoteLevel, QuotePlan, plan_quotes};
use crate::reconcile::{Mismatch, ReconciliationReport, reconcile};
use crate::risk::{ErrorBreaker, ErrorBreakerSettings, KillCause, RateLimiter, VolatilityBreaker, taker_allowance_lots};
use crate::signals::{MoveWindow, VolatilityEstimator};
use crate::units::{ClientOrderId, Instrument, Lots, NANOS_PER_MS, NANOS_PER_S, Nanos, Side, Ticks};

/// Guard states at a moment, for timelines and expectations.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct EngineStatus {
    /// Why the kill switch is engaged, if it is.
    pub killed: Option<KillCause>,
    /// Market data is older than `md_stale_ms` (or never arrived).
    pub stale: bool,
    /// The volatility breaker is tripped.
    pub volatility_breaker: bool,
    /// The error breaker is backing off.
    pub error_backoff: bool,
}

/// What the engine last quoted against, to decide when a requote is due.
#[derive(Clone, Debug, Default)]
struct RequoteState {
    last_ns: Option<Nanos>,
    fair_value_ticks: f64,
    half_spread_ticks: f64,
    inventory_lots: Lots,
    dirty: bool,
}

/// The market-making engine.
pub struct Engine {
    instrument: Instrument,
    params: EngineParams,
    profile: String,
    jitter: Box<dyn Rng + Send>,
    book: BookView,
    touch: Option<Touch>,
    fair_value_ticks: Option<f64>,
    last_market_ns: Option<Nanos>,
    volatility: VolatilityEstimator,
    move_window: MoveWindow,
    orders: OrderTracker,
    accounting: Accounting,
    markouts: Markouts,
    completed_fills: Vec<FillRecord>,
    adverse_1s: SignedHistogram,
    adverse_10s: SignedHistogram,
    slippage: SignedHistogram,
    spread_captured_sum_bps: f64,
    maker_fills: u64,
    counters: Counters,
    rate_limiter: RateLimiter,
    volatility_breaker: VolatilityBreaker,
    error_breaker: ErrorBreaker,
    kill: Option<KillCause>,
    requote: RequoteState,
    start_ns: Option<Nanos>,
    last_ns: Nanos,
    timer_armed: bool,
    both_sides_quoted_ns: Nanos,
    best_resting_quotes: (Option<Ticks>, Option<Ticks>),
    /// The order-tracker version `best_resting_quotes` was computed at.
    resting_quotes_version: Option<u64>,
    /// Our live quotes on one side (id, price, open, settled, exposure), reused by
    /// each decision.
    quote_scratch: Vec<(ClientOrderId, Ticks, Lots, bool, Lots)>,
    pnl_peak: f64,
    max_drawdown: f64,
    max_inventory_abs: Lots,
    next_order_id: u64,
    last_reconciliation: Option<ReconciliationReport>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("instrument", &self.instrument.symbol)
            .field("profile", &self.profile)
            .field("position_lots", &self.accounting.position_lots)
            .field("live_orders", &self.orders.live_count())
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// Builds an engine; `jitter` is the seeded stream for back-off jitter.
    pub fn new(instrument: Instrument, params: EngineParams, profile: &str, jitter: Box<dyn Rng + Send>) -> Result<Engine, EngineError> {
        params.validate()?;
        instrument.validate()?;
        Ok(Engine {
            instrument,
            params,
            profile: profile.to_string(),
            jitter,
            book: BookView::default(),
            touch: None,
            fair_value_ticks: None,
            last_market_ns: None,
            volatility: VolatilityEstimator::default(),
            move_window: MoveWindow::default(),
            orders: OrderTracker::default(),
            accounting: Accounting::default(),
            markouts: Markouts::default(),
            completed_fills: Vec::new(),
            adverse_1s: SignedHistogram::default(),
            adverse_10s: SignedHistogram::default(),
            slippage: SignedHistogram::default(),
            spread_captured_sum_bps: 0.0,
            maker_fills: 0,
            counters: Counters::default(),
            rate_limiter: RateLimiter::default(),
            volatility_breaker: VolatilityBreaker::default(),
            error_breaker: ErrorBreaker::default(),
            kill: None,
            requote: RequoteState::default(),
            start_ns: None,
            last_ns: 0,
            timer_armed: false,
            both_sides_quoted_ns: 0,
            best_resting_quotes: (None, None),
            resting_quotes_version: None,
            quote_scratch: Vec::new(),
            pnl_peak: 0.0,
            max_drawdown: 0.0,
            max_inventory_abs: 0,
            next_order_id: 1,
            last_reconciliation: None,
        })
    }

    /// Handles one event at `now_ns` and pushes the resulting commands onto `out`.
    /// Only operator controls can fail (a refused parameter update); the engine's
    /// state is then unchanged.
    pub fn handle(&mut self, now_ns: Nanos, event: &Event, out: &mut Vec<Command>) -> Result<(), EngineError> {
        self.advance_clock(now_ns);
        let result = match event {
            Event::Market(market_data) => {
                self.on_market_data(now_ns, market_data, out);
                Ok(())
            }
            Event::Venue(report) => {
                self.on_venue_report(now_ns, report, out);
                Ok(())
            }
            Event::Timer { timer_id } => {
                if *timer_id == DECISION_TIMER {
                    self.timer_armed = false;
                    self.on_decision_tick(now_ns, out);
                }
                Ok(())
            }
            Event::Control(control) => self.on_control(now_ns, control, out),
        };
        if !self.timer_armed {
            let at_ns = now_ns + self.params.decision_interval_ms * NANOS_PER_MS;
            out.push(Command::SetTimer { timer_id: DECISION_TIMER, at_ns });
            self.timer_armed = true;
        }
        self.refresh_resting_quotes();
        result
    }

    /// Ends the run at `now_ns`: fills still waiting for markouts are marked at the
    /// current fair value and become available from [`Engine::take_completed_fills`].
    pub fn finish(&mut self, now_ns: Nanos) {
        self.advance_clock(now_ns);
        let fair_value = self.fair_value_ticks.unwrap_or(0.0);
        let Engine { markouts, completed_fills, adverse_1s, adverse_10s, .. } = self;
        markouts.flush(fair_value, |record| complete_fill(record, adverse_1s, adverse_10s, completed_fills));
    }

    /// Hands over fills whose markouts are complete, oldest first. Callers that keep
    /// fill records drain this regularly; the KPIs do not depend on it.
    pub fn take_completed_fills(&mut self) -> Vec<FillRecord> {
        std::mem::take(&mut self.completed_fills)
    }

    /// The KPI summary so far.
    pub fn kpis(&self) -> Kpis {
        let mark = self.fair_value_ticks.unwrap_or(0.0);
        let pnl_total = self.accounting.pnl_quote(mark, &self.instrument);
        let traded_notional = self.accounting.traded_notional_quote(&self.instrument);
        let maker = self.accounting.maker_volume_lots;
        let taker = self.accounting.taker_volume_lots;
        let run_ns = self.start_ns.map_or(0, |start| self.last_ns - start);
        Kpis {
            net_bps: ratio(pnl_total, traded_notional) * 10_000.0,
            pnl_total,
            pnl_realized: self.accounting.realized_quote,
            pnl_unrealized: self.accounting.unrealized_quote(mark, &self.instrument),
            fees: self.accounting.fees_quote,
            fills: self.accounting.fills,
            maker_volume: maker,
            taker_volume: taker,
            traded_notional,
            taker_share_pct: ratio(taker as f64, (maker + taker) as f64) * 100.0,
            adverse_p95_bps: self.adverse_1s.quantile(0.95),
            adverse_10s_p95_bps: self.adverse_10s.quantile(0.95),
            spread_captured_mean_bps: ratio(self.spread_captured_sum_bps, self.maker_fills as f64),
            slippage_p95_bps: self.slippage.quantile(0.95),
            risk_ratio: ratio(self.counters.risk_blocked_decisions as f64, self.counters.decisions as f64),
            block_reasons: self.counters.block_reasons(),
            inventory_final: self.accounting.position_lots,
            max_inventory_abs: self.max_inventory_abs,
            max_drawdown: self.max_drawdown,
            quote_uptime_pct: ratio(self.both_sides_quoted_ns as f64, run_ns as f64) * 100.0,
            orders_sent: self.counters.orders_sent,
            orders_rejected: self.counters.orders_rejected,
            cancels_sent: self.counters.cancels_sent,
            replaces_sent: self.counters.replaces_sent,
            decisions: self.counters.decisions,
            kill_switch_engagements: self.counters.kill_switch_engagements,
        }
    }

    /// Guard states at the last event.
    pub fn status(&self) -> EngineStatus {
        EngineStatus {
            killed: self.kill,
            stale: self.is_stale(self.last_ns),
            volatility_breaker: self.volatility_breaker.is_tripped(),
            error_backoff: self.error_breaker.is_backing_off(self.last_ns),
        }
    }

    /// Compares the engine's orders and position with a venue's view, without acting.
    pub fn reconcile(&self, venue_orders: &[VenueOrder], venue_position_lots: Lots) -> ReconciliationReport {
        reconcile(self.orders.live(), self.accounting.position_lots, venue_orders, venue_position_lots)
    }

    /// The report of the last venue snapshot the engine reconciled against.
    pub fn last_reconciliation(&self) -> Option<&ReconciliationReport> {
        self.last_reconciliation.as_ref()
    }

    /// Position, lots.
    pub fn position_lots(&self) -> Lots {
        self.accounting.position_lots
    }

    /// Position and cash books.
    pub fn accounting(&self) -> &Accounting {
        &self.accounting
    }

    /// Event counters.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// Parameters in force.
    pub fn params(&self) -> &EngineParams {
        &self.params
    }

    /// Name of the profile the parameters came from.
    pub fn profile(&self) -> &str {
        &self.profile
    }

    /// The instrument.
    pub fn instrument(&self) -> &Instrument {
        &self.instrument
    }

    /// Fair value, fractional ticks, once a two-sided book was seen.
    pub fn fair_value_ticks(&self) -> Option<f64> {
        self.fair_value_ticks
    }

    /// The market's touch as the engine sees it.
    pub fn touch(&self) -> Option<Touch> {
        self.touch
    }

    /// Total PnL marked at fair value, quote currency.
    pub fn pnl_quote(&self) -> f64 {
        self.accounting.pnl_quote(self.fair_value_ticks.unwrap_or(0.0), &self.instrument)
    }

    /// Live orders, by id.
    pub fn live_orders(&self) -> impl Iterator<Item = &OrderRecord> {
        self.orders.live()
    }

    /// State of a live or recently finished order.
    pub fn order_state(&self, order_id: ClientOrderId) -> Option<OrderState> {
        self.orders.state_of(order_id)
    }

    /// Our best resting quote prices (bid, ask), if any, as of the last event handled.
    pub fn best_quotes(&self) -> (Option<Ticks>, Option<Ticks>) {
        self.best_resting_quotes
    }

    // ----- event handlers -------------------------------------------------------

    fn advance_clock(&mut self, now_ns: Nanos) {
        let start = *self.start_ns.get_or_insert(now_ns);
        let now_ns = now_ns.max(self.last_ns).max(start);
        if self.both_sides_quoted() {
            self.both_sides_quoted_ns += now_ns - self.last_ns.max(start);
        }
        self.last_ns = now_ns;
    }

    fn on_market_data(&mut self, now_ns: Nanos, market_data: &MarketData, out: &mut Vec<Command>) {
        self.counters.market_events += 1;
        if let MarketData::Trade { .. } = market_data {
            return;
        }
        self.book.apply(market_data);
        self.last_market_ns = Some(now_ns);
        self.touch = self.book.touch();
        let Some(touch) = self.touch else {
            self.pull_quotes(now_ns, out);
            return;
        };
        let fair_value = match self.params.fair_value_mode {
            FairValueMode::Mid => touch.mid_ticks(),
            FairValueMode::Microprice => touch.microprice_ticks(),
        };
        self.fair_value_ticks = Some(fair_value);
        self.mark_to_market(now_ns, fair_value, out);
        let range_bps = self.move_window.range_bps(touch.mid_ticks());
        if self.volatility_breaker.observe(now_ns, range_bps, self.params.vol_breaker_bps) {
            self.counters.volatility_breaker_trips += 1;
        }
        if self.global_block(now_ns).is_some() {
            self.pull_quotes(now_ns, out);
            return;
        }
        if self.requote_due(fair_value, touch) && self.min_interval_passed(now_ns) {
            self.run_decision(now_ns, true, BlockSet::default(), out);
        }
    }

    fn on_decision_tick(&mut self, now_ns: Nanos, out: &mut Vec<Command>) {
        self.counters.decision_ticks += 1;
        if let Some(touch) = self.touch.filter(|_| !self.is_stale(now_ns)) {
            let mid = touch.mid_ticks();
            self.volatility.sample(now_ns, mid, self.params.vol_half_life_s);
            self.move_window.sample(now_ns, mid, self.params.vol_breaker_window_ms * NANOS_PER_MS);
            let range_bps = self.move_window.range_bps(mid);
            if self.volatility_breaker.observe(now_ns, range_bps, self.params.vol_breaker_bps) {
                self.counters.volatility_breaker_trips += 1;
            }
            let calm_bps = self.params.vol_breaker_bps * self.params.vol_breaker_calm_ratio;
            self.volatility_breaker.maybe_reset(now_ns, range_bps, self.params.vol_breaker_cooldown_ms, calm_bps);
        }
        self.check_timeouts(now_ns, out);
        if let Some(fair_value) = self.fair_value_ticks {
            self.mark_to_market(now_ns, fair_value, out);
        }
        let mut blocked = BlockSet::default();
        self.manage_inventory(now_ns, &mut blocked, out);
        let due = self.fair_value_ticks.zip(self.touch).is_some_and(|(fair_value, touch)| self.requote_due(fair_value, touch))
            || self.params.horizon_mode == HorizonMode::Finite;
        let allow_requote = due && self.min_interval_passed(now_ns);
        if due && !allow_requote {
            blocked.add(BlockReason::MinInterval);
        }
        self.run_decision(now_ns, allow_requote, blocked, out);
    }

    fn on_venue_report(&mut self, now_ns: Nanos, report: &VenueReport, out: &mut Vec<Command>) {
        let outcome = match report {
            VenueReport::Accepted { order_id } => self.orders.on_accepted(*order_id),
            VenueReport::Rejected { order_id, reason } => {
                self.counters.orders_rejected += 1;
                if *reason == RejectReason::PostOnlyWouldCross {
                    self.counters.post_only_rejects += 1;
                } else {
                    self.record_error(now_ns, out);
                }
                self.requote.dirty = true;
                self.orders.on_rejected(*order_id)
            }
            VenueReport::Filled(fill) => {
                self.on_fill(now_ns, fill);
                ReportOutcome::Applied
            }
            VenueReport::Canceled { order_id } => {
                self.requote.dirty = true;
                let outcome = self.orders.on_canceled(*order_id);
                if outcome == ReportOutcome::Applied {
                    self.counters.orders_canceled += 1;
                }
                outcome
            }
            VenueReport::CancelRejected { order_id, reason } => {
                self.counters.cancels_rejected += 1;
                if *reason == RejectReason::UnknownOrder {
                    // The venue has nothing open under this id: the order is done.
                    self.orders.finish(*order_id, OrderState::Canceled);
                    ReportOutcome::Applied
                } else {
                    self.record_error(now_ns, out);
                    self.orders.on_cancel_rejected(*order_id)
                }
            }
            VenueReport::Replaced { order_id, price_ticks, leaves_lots } => self.orders.on_replaced(*order_id, *price_ticks, *leaves_lots),
            VenueReport::ReplaceRejected { order_id, reason } => {
                self.counters.replaces_rejected += 1;
                // Unknown order (filled meanwhile), would-cross and a total at or below
                // what already filled are races of a moving market, not venue errors.
                if !matches!(reason, RejectReason::UnknownOrder | RejectReason::PostOnlyWouldCross | RejectReason::InvalidSize) {
                    self.record_error(now_ns, out);
                }
                self.requote.dirty = true;
                self.orders.on_replace_rejected(*order_id)
            }
            VenueReport::OpenOrders { orders, position_lots } => {
                self.on_venue_snapshot(now_ns, orders, *position_lots, out);
                ReportOutcome::Applied
            }
        };
        if outcome == ReportOutcome::Unknown {
            self.counters.unknown_order_reports += 1;
        }
    }

    fn on_fill(&mut self, now_ns: Nanos, fill: &Fill) {
        if !self.orders.first_sight_of_fill(fill.fill_id) {
            self.counters.duplicate_fills += 1;
            return;
        }
        let tracked_lots = self.orders.get(fill.order_id).map_or(0, |order| order.exposure_lots().min(fill.size_lots));
        self.counters.untracked_fill_lots += fill.size_lots - tracked_lots;
        match self.orders.on_fill(fill.order_id, fill.size_lots) {
            ReportOutcome::Applied => {}
            ReportOutcome::Late => self.counters.late_fills += 1,
            ReportOutcome::Unknown => self.counters.unknown_order_reports += 1,
        }
        self.accounting.apply_fill(fill.side, fill.price_ticks, fill.size_lots, fill.liquidity, fill.fee_quote, &self.instrument);
        let position = self.accounting.position_lots;
        self.max_inventory_abs = self.max_inventory_abs.max(position.abs());
        let fair_value = self.fair_value_ticks.unwrap_or(fill.price_ticks as f64);
        let record = fill_record(fill, now_ns, fair_value, position);
        match fill.liquidity {
            Liquidity::Maker => {
                self.spread_captured_sum_bps += record.spread_captured_bps;
                self.maker_fills += 1;
            }
            Liquidity::Taker => self.slippage.record(record.slippage_bps()),
        }
        self.markouts.push(record);
        self.requote.dirty = true;
    }

    fn on_control(&mut self, now_ns: Nanos, control: &Control, out: &mut Vec<Command>) -> Result<(), EngineError> {
        match control {
            Control::KillSwitch { engaged: true } => self.engage_kill(KillCause::Operator, now_ns, out),
            Control::KillSwitch { engaged: false } => {
                self.kill = None;
                self.pnl_peak = self.pnl_quote();
                self.requote.dirty = true;
            }
            Control::SetParams { changes } => match self.params.with_changes(changes) {
                Ok(params) => self.apply_params(params),
                Err(error) => {
                    self.counters.param_updates_refused += 1;
                    return Err(error.into());
                }
            },
            Control::RevertToProfile { profile, params } => {
                if let Err(error) = params.validate() {
                    self.counters.param_updates_refused += 1;
                    return Err(error.into());
                }
                self.apply_params((**params).clone());
                self.profile = profile.clone();
            }
        }
        Ok(())
    }

    fn on_venue_snapshot(&mut self, now_ns: Nanos, venue_orders: &[VenueOrder], venue_position_lots: Lots, out: &mut Vec<Command>) {
        let report = self.reconcile(venue_orders, venue_position_lots);
        self.counters.reconciliations += 1;
        self.counters.reconciliation_mismatches += report.mismatches.len() as u64;
        for graded in &report.mismatches {
            match &graded.mismatch {
                Mismatch::Position { engine_lots, venue_lots } => {
                    let mark = self.fair_value_ticks.map_or(0, |fair_value| fair_value.round() as Ticks);
                    self.accounting.apply_adjustment(venue_lots - engine_lots, mark, &self.instrument);
                    self.max_inventory_abs = self.max_inventory_abs.max(venue_lots.abs());
                }
                Mismatch::UnknownAtEngine { order_id } => {
                    if let Some(venue) = venue_orders.iter().find(|venue| venue.order_id == *order_id) {
                        self.adopt_orphan(now_ns, venue, out);
                    }
                }
                Mismatch::MissingAtVenue { order_id, .. } => {
                    // In-flight requests resolve themselves (ack, reject or timeout);
                    // settled orders the venue lost are gone.
                    if self.orders.get(*order_id).is_some_and(OrderRecord::is_settled) {
                        self.orders.finish(*order_id, OrderState::Canceled);
                    }
                }
                Mismatch::OrderDiffers { order_id, venue, .. } => self.orders.adopt_venue_view(*order_id, venue.0, venue.1),
            }
        }
        self.last_reconciliation = Some(report);
        self.requote.dirty = true;
    }

    // ----- decisions ------------------------------------------------------------

    /// Evaluates guards and, when allowed, moves the quotes to the plan. Counts one decision.
    fn run_decision(&mut self, now_ns: Nanos, allow_requote: bool, mut blocked: BlockSet, out: &mut Vec<Command>) {
        if let Some(reason) = self.global_block(now_ns) {
            blocked.add(reason);
            self.pull_quotes(now_ns, out);
        } else if let (Some(fair_value), Some(touch)) = (self.fair_value_ticks, self.touch) {
            let plan = self.plan(now_ns, fair_value, touch);
            if plan.impact_capped {
                blocked.add(BlockReason::ImpactCap);
            }
            if allow_requote {
                for side in [Side::Buy, Side::Sell] {
                    self.move_quotes(now_ns, side, plan.levels(side), &mut blocked, out);
                }
                self.requote = RequoteState {
                    last_ns: Some(now_ns),
                    fair_value_ticks: fair_value,
                    half_spread_ticks: plan.half_spread_ticks,
                    inventory_lots: self.accounting.position_lots,
                    dirty: false,
                };
            }
        }
        self.counters.record_decision(blocked);
    }

    fn plan(&self, now_ns: Nanos, fair_value_ticks: f64, touch: Touch) -> QuotePlan {
        let sigma_quote_per_sqrt_s = match self.params.volatility_source {
            VolatilitySource::Fixed => self.params.sigma_fixed,
            VolatilitySource::Ewma => self.volatility.sigma_per_sqrt_s() * fair_value_ticks * self.instrument.tick_size,
        };
        let tau_s = match self.params.horizon_mode {
            HorizonMode::Rolling => self.params.horizon_s,
            HorizonMode::Finite => {
                let elapsed_s = (now_ns - self.start_ns.unwrap_or(now_ns)) as f64 / NANOS_PER_S as f64;
                (self.params.horizon_s - elapsed_s).max(0.0)
            }
        };
        let inputs = QuoteInputs { fair_value_ticks, sigma_quote_per_sqrt_s, inventory_lots: self.accounting.position_lots, tau_s, touch };
        plan_quotes(&self.params, &self.instrument, &inputs)
    }

    /// Moves our quotes on `side` to the plan's `levels` (best first): keep, replace,
    /// place or cancel. Every send is sized so that the position plus the worst-case
    /// exposure of all live orders on this side stays within the hard limit and the
    /// notional limit.
    fn move_quotes(&mut self, now_ns: Nanos, side: Side, levels: &[QuoteLevel], blocked: &mut BlockSet, out: &mut Vec<Command>) {
        // A reused buffer: decisions run every few milliseconds.
        let mut quotes = std::mem::take(&mut self.quote_scratch);
        quotes.clear();
        quotes.extend(
            self.orders
                .live()
                .filter(|order| order.side == side && order.purpose == OrderPurpose::Quote && order.state != OrderState::PendingCancel)
                .map(|order| (order.order_id, order.price_ticks, order.leaves_lots, order.is_settled(), order.exposure_lots())),
        );
        // Best first: highest bid, lowest ask.
        quotes.sort_by_key(|&(order_id, price_ticks, ..)| (-side.sign() * price_ticks, order_id));
        let directional = side.sign() * self.accounting.position_lots;
        let mut exposure = self.side_exposure_lots(side);
        for index in 0..levels.len().max(quotes.len()) {
            match (levels.get(index), quotes.get(index)) {
                (Some(level), Some(&(order_id, price_ticks, leaves_lots, settled, order_exposure))) => {
                    let close_enough =
                        price_ticks == level.price_ticks && leaves_lots <= level.size_lots && leaves_lots * 2 >= level.size_lots;
                    if !settled || close_enough {
                        continue;
                    }
                    let others = exposure - order_exposure;
                    match self.size_within_limits(*level, directional + others, blocked) {
                        Some(size_lots) => {
                            let target = QuoteLevel { price_ticks: level.price_ticks, size_lots };
                            if self.send_replace(now_ns, order_id, target, blocked, out) {
                                exposure = others + order_exposure.max(size_lots);
                            }
                        }
                        None => self.send_cancel(now_ns, order_id, out),
                    }
                }
                (Some(level), None) => {
                    if let Some(size_lots) = self.size_within_limits(*level, directional + exposure, blocked) {
                        let target = QuoteLevel { price_ticks: level.price_ticks, size_lots };
                        if self.send_quote(now_ns, side, target, blocked, out) {
                            exposure += size_lots;
                        }
                    }
                }
                (None, Some(&(order_id, ..))) => self.send_cancel(now_ns, order_id, out),
                (None, None) => {}
            }
        }
        self.quote_scratch = quotes;
    }

    /// The level's size reduced to fit the position and notional limits, given `used`
    /// lots already committed in this direction; `None` when nothing (or less than
    /// the venue's minimum notional) fits.
    fn size_within_limits(&self, level: QuoteLevel, used: Lots, blocked: &mut BlockSet) -> Option<Lots> {
        let price_quote_per_lot = self.instrument.notional(level.price_ticks, 1);
        let notional_room = if price_quote_per_lot > 0.0 {
            ((self.params.max_notional_quote / price_quote_per_lot).floor() as Lots).saturating_sub(used)
        } else {
            Lots::MAX
        };
        let position_room = self.params.inventory_hard_lots - used;
        let size_lots = level.size_lots.min(position_room).min(notional_room);
        if size_lots < level.size_lots {
            blocked.add(if position_room <= notional_room { BlockReason::PositionLimit } else { BlockReason::NotionalLimit });
        }
        if size_lots < 1 {
            return None;
        }
        if self.instrument.notional(level.price_ticks, size_lots) < self.instrument.min_notional {
            blocked.add(BlockReason::MinNotional);
            return None;
        }
        Some(size_lots)
    }

    /// Sends a taker order that brings the position back towards its target: the soft
    /// limit after a hard-limit breach, flat after a kill with `kill_flatten`.
    fn manage_inventory(&mut self, now_ns: Nanos, blocked: &mut BlockSet, out: &mut Vec<Command>) {
        let position = self.accounting.position_lots;
        let target_abs = match self.kill {
            Some(_) if self.params.kill_flatten => 0,
            Some(_) => return,
            None if position.abs() > self.params.inventory_hard_lots => self.params.inventory_soft_lots,
            None => return,
        };
        let excess = position.abs() - target_abs;
        let unwind_in_flight = self.orders.live().any(|order| order.purpose == OrderPurpose::Unwind);
        if excess <= 0 || unwind_in_flight || self.is_stale(now_ns) || self.error_breaker.is_backing_off(now_ns) {
            return;
        }
        let Some(touch) = self.touch else {
            return;
        };
        let side = if position > 0 { Side::Sell } else { Side::Buy };
        // Orders on the unwind side still in flight (quotes being canceled) may fill
        // too: the unwind must not carry the position past the limit the other way.
        let side_room = self.params.inventory_hard_lots - side.sign() * position - self.side_exposure_lots(side);
        let allowance =
            taker_allowance_lots(self.accounting.maker_volume_lots, self.accounting.taker_volume_lots, self.params.max_taker_share_pct);
        if allowance < 1 {
            blocked.add(BlockReason::TakerCap);
            return;
        }
        let size_lots = excess.min(self.params.unwind_clip_lots).min(allowance).min(side_room);
        if size_lots < 1 {
            return;
        }
        let slip = self.params.taker_slippage_bps / 10_000.0;
        let price_ticks = match side {
            Side::Sell => ((touch.bid_ticks as f64 * (1.0 - slip)).floor() as Ticks).max(1),
            Side::Buy => (touch.ask_ticks as f64 * (1.0 + slip)).ceil() as Ticks,
        };
        if !self.rate_limiter.allows(now_ns, self.params.max_orders_per_s) {
            blocked.add(BlockReason::RateLimit);
            return;
        }
        let order =
            NewOrder { order_id: self.allocate_order_id(), side, price_ticks, size_lots, time_in_force: TimeInForce::ImmediateOrCancel };
        self.send_place(now_ns, order, OrderPurpose::Unwind, out);
    }

    // ----- guards ---------------------------------------------------------------

    fn global_block(&self, now_ns: Nanos) -> Option<BlockReason> {
        if self.kill.is_some() {
            Some(BlockReason::KillSwitch)
        } else if self.last_market_ns.is_some() && self.is_stale(now_ns) {
            Some(BlockReason::StaleMarketData)
        } else if self.volatility_breaker.is_tripped() {
            Some(BlockReason::VolatilityBreaker)
        } else if self.error_breaker.is_backing_off(now_ns) {
            Some(BlockReason::ErrorBreaker)
        } else if self.touch.is_none() {
            Some(BlockReason::NoMarket)
        } else {
            None
        }
    }

    fn is_stale(&self, now_ns: Nanos) -> bool {
        self.last_market_ns.is_none_or(|last| now_ns - last > self.params.md_stale_ms * NANOS_PER_MS)
    }

    fn requote_due(&self, fair_value_ticks: f64, touch: Touch) -> bool {
        if self.requote.dirty || self.requote.last_ns.is_none() || self.requote.inventory_lots != self.accounting.position_lots {
            return true;
        }
        let moved = (fair_value_ticks - self.requote.fair_value_ticks).abs();
        if moved >= self.params.max_delta_ratio * self.requote.half_spread_ticks {
            return true;
        }
        // A quote the market has run through must move even if fair value lags.
        let (best_bid, best_ask) = self.resting_quote_prices();
        best_bid.is_some_and(|bid| bid >= touch.ask_ticks) || best_ask.is_some_and(|ask| ask <= touch.bid_ticks)
    }

    fn min_interval_passed(&self, now_ns: Nanos) -> bool {
        self.requote.last_ns.is_none_or(|last| now_ns - last >= self.params.min_interval_ms * NANOS_PER_MS)
    }

    fn mark_to_market(&mut self, now_ns: Nanos, fair_value_ticks: f64, out: &mut Vec<Command>) {
        let Engine { markouts, completed_fills, adverse_1s, adverse_10s, .. } = self;
        markouts.resolve(now_ns, fair_value_ticks, |record| complete_fill(record, adverse_1s, adverse_10s, completed_fills));
        let pnl = self.accounting.pnl_quote(fair_value_ticks, &self.instrument);
        self.pnl_peak = self.pnl_peak.max(pnl);
        let drawdown = self.pnl_peak - pnl;
        self.max_drawdown = self.max_drawdown.max(drawdown);
        if self.params.max_drawdown_quote > 0.0 && drawdown > self.params.max_drawdown_quote && self.kill.is_none() {
            self.engage_kill(KillCause::Drawdown, now_ns, out);
        }
    }

    fn engage_kill(&mut self, cause: KillCause, now_ns: Nanos, out: &mut Vec<Command>) {
        if self.kill.is_none() {
            self.counters.kill_switch_engagements += 1;
        }
        self.kill = Some(cause);
        let all: Vec<ClientOrderId> = self.orders.live().map(|order| order.order_id).collect();
        for order_id in all {
            self.send_cancel(now_ns, order_id, out);
        }
    }

    fn record_error(&mut self, now_ns: Nanos, out: &mut Vec<Command>) {
        let settings = ErrorBreakerSettings {
            window_ms: self.params.error_window_ms,
            max_count: self.params.error_max_count,
            backoff_base_ms: self.params.backoff_base_ms,
            backoff_max_ms: self.params.backoff_max_ms,
            jitter_ratio: self.params.backoff_jitter_ratio,
        };
        if self.error_breaker.record_error(now_ns, settings, self.jitter.as_mut()) {
            self.counters.error_breaker_trips += 1;
            self.pull_quotes(now_ns, out);
        }
    }

    fn check_timeouts(&mut self, now_ns: Nanos, out: &mut Vec<Command>) {
        let timeout_ns = self.params.ack_timeout_ms * NANOS_PER_MS;
        let expired: Vec<(ClientOrderId, OrderState)> = self
            .orders
            .live()
            .filter(|order| {
                let waiting =
                    order.state == OrderState::PendingNew || order.state == OrderState::PendingCancel || order.pending_replace.is_some();
                waiting && !order.timeout_counted && now_ns - order.last_request_ns > timeout_ns
            })
            .map(|order| (order.order_id, order.state))
            .collect();
        for (order_id, state) in expired {
            self.counters.timeouts += 1;
            self.record_error(now_ns, out);
            if state == OrderState::PendingCancel {
                // Ask again; the order stays pending cancel.
                self.orders.mark_timeout(order_id, now_ns);
                self.counters.cancels_sent += 1;
                out.push(Command::Cancel { order_id });
            } else {
                self.send_cancel(now_ns, order_id, out);
            }
        }
    }

    fn pull_quotes(&mut self, now_ns: Nanos, out: &mut Vec<Command>) {
        let quotes: Vec<ClientOrderId> = self
            .orders
            .live()
            .filter(|order| order.purpose == OrderPurpose::Quote && order.state != OrderState::PendingCancel)
            .map(|order| order.order_id)
            .collect();
        for order_id in quotes {
            self.send_cancel(now_ns, order_id, out);
        }
    }

    fn apply_params(&mut self, params: EngineParams) {
        self.params = params;
        self.counters.param_updates += 1;
        self.requote.dirty = true;
    }

    fn adopt_orphan(&mut self, now_ns: Nanos, venue: &VenueOrder, out: &mut Vec<Command>) {
        self.orders.insert_new(OrderRecord {
            order_id: venue.order_id,
            side: venue.side,
            price_ticks: venue.price_ticks,
            filled_lots: 0,
            leaves_lots: venue.leaves_lots,
            time_in_force: TimeInForce::GoodTillCancel,
            purpose: OrderPurpose::Orphan,
            state: OrderState::Open,
            acknowledged: true,
            pending_replace: None,
            last_request_ns: now_ns,
            timeout_counted: false,
        });
        self.send_cancel(now_ns, venue.order_id, out);
    }

    /// Worst-case lots all live orders on `side` may still add to the position.
    fn side_exposure_lots(&self, side: Side) -> Lots {
        self.orders.live().filter(|order| order.side == side).map(OrderRecord::exposure_lots).sum()
    }

    /// Caches our best resting quote each side as of this event (a pass over the live
    /// orders only when they changed).
    fn refresh_resting_quotes(&mut self) {
        self.best_resting_quotes = self.resting_quote_prices();
        self.resting_quotes_version = Some(self.orders.version());
    }

    /// Both sides quoted as of the last event (for uptime).
    fn both_sides_quoted(&self) -> bool {
        matches!(self.best_resting_quotes, (Some(_), Some(_)))
    }

    /// Best prices of our resting quotes now (bid, ask): the cached pair while the
    /// orders are unchanged since it was computed.
    fn resting_quote_prices(&self) -> (Option<Ticks>, Option<Ticks>) {
        if self.resting_quotes_version == Some(self.orders.version()) {
            return self.best_resting_quotes;
        }
        let (mut best_bid, mut best_ask): (Option<Ticks>, Option<Ticks>) = (None, None);
        for order in self.orders.live().filter(|order| order.purpose == OrderPurpose::Quote && order.is_resting()) {
            match order.side {
                Side::Buy => best_bid = best_bid.max(Some(order.price_ticks)),
                Side::Sell => best_ask = Some(best_ask.map_or(order.price_ticks, |ask| ask.min(order.price_ticks))),
            }
        }
        (best_bid, best_ask)
    }

    // ----- sending ----------------------------------------------------------------

    fn allocate_order_id(&mut self) -> ClientOrderId {
        let order_id = ClientOrderId(self.next_order_id);
        self.next_order_id += 1;
        order_id
    }

    fn send_quote(&mut self, now_ns: Nanos, side: Side, target: QuoteLevel, blocked: &mut BlockSet, out: &mut Vec<Command>) -> bool {
        if self.orders.live_count() >= self.params.max_open_orders as usize {
            blocked.add(BlockReason::MaxOpenOrders);
            return false;
        }
        if !self.rate_limiter.allows(now_ns, self.params.max_orders_per_s) {
            blocked.add(BlockReason::RateLimit);
            return false;
        }
        let order = NewOrder {
            order_id: self.allocate_order_id(),
            side,
            price_ticks: target.price_ticks,
            size_lots: target.size_lots,
            time_in_force: TimeInForce::PostOnly,
        };
        self.send_place(now_ns, order, OrderPurpose::Quote, out);
        true
    }

    fn send_place(&mut self, now_ns: Nanos, order: NewOrder, purpose: OrderPurpose, out: &mut Vec<Command>) {
        self.rate_limiter.record(now_ns);
        self.counters.orders_sent += 1;
        self.orders.insert_new(OrderRecord {
            order_id: order.order_id,
            side: order.side,
            price_ticks: order.price_ticks,
            filled_lots: 0,
            leaves_lots: order.size_lots,
            time_in_force: order.time_in_force,
            purpose,
            state: OrderState::PendingNew,
            acknowledged: false,
            pending_replace: None,
            last_request_ns: now_ns,
            timeout_counted: false,
        });
        out.push(Command::Place(order));
    }

    fn send_replace(
        &mut self,
        now_ns: Nanos,
        order_id: ClientOrderId,
        target: QuoteLevel,
        blocked: &mut BlockSet,
        out: &mut Vec<Command>,
    ) -> bool {
        if !self.rate_limiter.allows(now_ns, self.params.max_orders_per_s) {
            blocked.add(BlockReason::RateLimit);
            return false;
        }
        let filled_lots = self.orders.get(order_id).map_or(0, |order| order.filled_lots);
        let total_size_lots = filled_lots + target.size_lots;
        self.rate_limiter.record(now_ns);
        self.counters.replaces_sent += 1;
        self.orders.mark_replace_sent(order_id, target.price_ticks, total_size_lots, now_ns);
        out.push(Command::Replace { order_id, price_ticks: target.price_ticks, total_size_lots });
        true
    }

    fn send_cancel(&mut self, now_ns: Nanos, order_id: ClientOrderId, out: &mut Vec<Command>) {
        if self.orders.mark_cancel_sent(order_id, now_ns) {
            self.counters.cancels_sent += 1;
            out.push(Command::Cancel { order_id });
        }
    }
}

fn complete_fill(record: FillRecord, adverse_1s: &mut SignedHistogram, adverse_10s: &mut SignedHistogram, completed: &mut Vec<FillRecord>) {
    if let Some(value) = record.adverse_1s_bps {
        adverse_1s.record(value);
    }
    if let Some(value) = record.adverse_10s_bps {
        adverse_10s.record(value);
    }
    completed.push(record);
}

fn ratio(numerator: f64, denominator: f64) -> f64 {
    if denominator > 0.0 { numerator / denominator } else { 0.0 }
}
