//! The mock exchange: the venue side of the engine's port. It validates our orders
//! (tick, lot, minimum notional, post-only, self-trade prevention, rate limit),
//! rests them in the book behind the depth that was there first, matches the other
//! participants' flow against the book, fills our taker orders by walking it, and
//! charges fees through the [`FeeModel`] seam. Venue-side faults (halt, reject
//! storm, fee change) are switches the runner flips; transport faults (latency,
//! outages, disconnects) are the runner's business, not this module's.

pub mod book;
pub mod queue;
mod replay;

use std::collections::{BTreeMap, VecDeque};

use drydock_engine::port::{Fill, LevelUpdate, Liquidity, NewOrder, RejectReason, TimeInForce, VenueOrder};
use drydock_engine::units::NANOS_PER_S;
use drydock_engine::{ClientOrderId, Command, Instrument, Lots, MarketData, Nanos, Side, Ticks, VenueReport};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;

use book::{ExchangeBook, PassiveFill, Sweep};
use queue::{ProportionalCancels, QueueModel};

/// Fees charged on fills.
pub trait FeeModel {
    /// Fee in quote currency for a fill of `notional`; negative is a rebate.
    fn fee_quote(&self, notional: f64, liquidity: Liquidity) -> f64;
}

/// Maker and taker fees in basis points of notional.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct BpsFees {
    /// Maker fee, bps (negative: rebate).
    pub maker_bps: f64,
    /// Taker fee, bps.
    pub taker_bps: f64,
}

impl FeeModel for BpsFees {
    fn fee_quote(&self, notional: f64, liquidity: Liquidity) -> f64 {
        let bps = match liquidity {
            Liquidity::Maker => self.maker_bps,
            Liquidity::Taker => self.taker_bps,
        };
        notional * bps / 10_000.0
    }
}

/// What exchange operations produced: reports for us, and for the feed the trades
/// printed and the book's level changes (the runner publishes these as messages).
#[derive(Debug, Default)]
pub struct ExchangeOutput {
    /// Reports about our orders, in order.
    pub reports: Vec<VenueReport>,
    /// Trade prints, in order.
    pub trades: Vec<MarketData>,
    /// Level changes, in order (a level may appear more than once).
    pub updates: Vec<LevelUpdate>,
}

impl ExchangeOutput {
    /// True when nothing was produced.
    pub fn is_empty(&self) -> bool {
        self.reports.is_empty() && self.trades.is_empty() && self.updates.is_empty()
    }
}

#[derive(Clone, Debug)]
struct RestingOrder {
    side: Side,
    price_ticks: Ticks,
    filled_lots: Lots,
    leaves_lots: Lots,
}

/// Our trading at the venue, for reports.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExchangeStats {
    /// Maker fills.
    pub maker_fills: u64,
    /// Taker fills.
    pub taker_fills: u64,
    /// Orders and replaces rejected.
    pub rejects: u64,
    /// Other participants' market orders matched.
    pub market_orders: u64,
    /// Largest |our position| the venue held after any of our fills, lots: the
    /// truth the engine's own `max_inventory_abs` can only learn of later.
    pub position_abs_max_lots: Lots,
}

/// The venue.
pub struct MockExchange {
    book: ExchangeBook,
    instrument: Instrument,
    fees: BpsFees,
    queue_model: Box<dyn QueueModel + Send>,
    orders: BTreeMap<ClientOrderId, RestingOrder>,
    position_lots: Lots,
    halted: bool,
    reject_fraction: f64,
    reject_rng: ChaCha8Rng,
    order_times: VecDeque<Nanos>,
    max_orders_per_s: u32,
    next_fill_id: u64,
    stats: ExchangeStats,
}

impl MockExchange {
    /// A venue listing `instrument` with `fees`; `reject_rng` drives reject storms.
    pub fn new(instrument: Instrument, fees: BpsFees, max_orders_per_s: u32, reject_rng: ChaCha8Rng) -> Self {
        MockExchange {
            book: ExchangeBook::default(),
            instrument,
            fees,
            queue_model: Box::new(ProportionalCancels),
            orders: BTreeMap::new(),
            position_lots: 0,
            halted: false,
            reject_fraction: 0.0,
            reject_rng,
            order_times: VecDeque::new(),
            max_orders_per_s,
            next_fill_id: 1,
            stats: ExchangeStats::default(),
        }
    }

    /// The book.
    pub fn book(&self) -> &ExchangeBook {
        &self.book
    }

    /// Our position at the venue, lots.
    pub fn position_lots(&self) -> Lots {
        self.position_lots
    }

    /// Counters.
    pub fn stats(&self) -> &ExchangeStats {
        &self.stats
    }

    /// Number of our orders resting.
    pub fn our_resting_count(&self) -> usize {
        self.orders.len()
    }

    /// True while halted.
    pub fn is_halted(&self) -> bool {
        self.halted
    }

    /// Halts or resumes matching.
    pub fn set_halted(&mut self, halted: bool) {
        self.halted = halted;
    }

    /// Sets the share of new orders and replaces rejected (a reject storm).
    pub fn set_reject_fraction(&mut self, reject_fraction: f64) {
        self.reject_fraction = reject_fraction;
    }

    /// Replaces the queue model of our resting orders.
    pub fn set_queue_model(&mut self, queue_model: Box<dyn QueueModel + Send>) {
        self.queue_model = queue_model;
    }

    /// Changes the fee schedule.
    pub fn set_fees(&mut self, fees: BpsFees) {
        self.fees = fees;
    }

    /// A full-depth snapshot of the best `levels` levels, for a resync.
    pub fn snapshot(&self, levels: usize) -> MarketData {
        let (bids, asks) = self.book.snapshot(levels);
        MarketData::Snapshot { bids, asks }
    }

    /// Our open orders and position, as reported after a reconnect.
    pub fn open_orders_report(&self) -> VenueReport {
        let orders = self
            .orders
            .iter()
            .map(|(order_id, order)| VenueOrder {
                order_id: *order_id,
                side: order.side,
                price_ticks: order.price_ticks,
                leaves_lots: order.leaves_lots,
            })
            .collect();
        VenueReport::OpenOrders { orders, position_lots: self.position_lots }
    }

    /// Handles one of our commands arriving at `now_ns`.
    pub fn on_command(&mut self, now_ns: Nanos, command: &Command, out: &mut ExchangeOutput) {
        match command {
            Command::Place(order) => self.place(now_ns, order, out),
            Command::Cancel { order_id } => self.cancel(*order_id, out),
            Command::Replace { order_id, price_ticks, total_size_lots } => {
                self.replace(now_ns, *order_id, *price_ticks, *total_size_lots, out)
            }
            Command::SetTimer { .. } => {}
        }
        self.flush_changes(out);
    }

    /// Another participant adds passive size; a price at or through the opposite
    /// touch trades first (an aggressive limit order), the rest rests.
    pub fn others_limit(&mut self, side: Side, price_ticks: Ticks, size_lots: Lots, out: &mut ExchangeOutput) {
        if self.halted || size_lots <= 0 || price_ticks <= 0 {
            return;
        }
        let mut remaining = size_lots;
        if self.book.would_cross(side, price_ticks) {
            let sweep = self.book.sweep(side, size_lots, Some(price_ticks));
            remaining -= sweep.traded_lots;
            self.publish_sweep(side, sweep, out);
        }
        if remaining > 0 {
            self.book.add_others(side, price_ticks, remaining);
        }
        self.flush_changes(out);
    }

    /// Another participant cancels up to `size_lots` at a price.
    pub fn others_cancel(&mut self, side: Side, price_ticks: Ticks, size_lots: Lots, out: &mut ExchangeOutput) -> Lots {
        let removed = self.book.cancel_others(side, price_ticks, size_lots, self.queue_model.as_ref());
        self.flush_changes(out);
        removed
    }

    /// Another participant sweeps the other side up to `limit_ticks` (an
    /// immediate-or-cancel order for everything there): panic flow in a crash.
    pub fn others_sweep_to(&mut self, side: Side, limit_ticks: Ticks, out: &mut ExchangeOutput) {
        if self.halted {
            return;
        }
        let sweep = self.book.sweep(side, Lots::MAX / 4, Some(limit_ticks));
        if sweep.traded_lots > 0 {
            self.stats.market_orders += 1;
        }
        self.publish_sweep(side, sweep, out);
        self.flush_changes(out);
    }

    /// The intensity fill model: the best resting order of each side, at distance δ
    /// from `mid` (quote currency), fills one lot with probability
    /// min(1, A·e^(−kδ)·dt), drawn from `rng`.
    pub fn intensity_fills(&mut self, mid: f64, dt_s: f64, a_per_s: f64, k: f64, rng: &mut ChaCha8Rng, out: &mut ExchangeOutput) {
        if self.halted {
            return;
        }
        for side in [Side::Buy, Side::Sell] {
            let best = self
                .orders
                .iter()
                .filter(|(_, order)| order.side == side)
                .max_by_key(|(order_id, order)| (side.sign() * order.price_ticks, std::cmp::Reverse(**order_id)));
            let Some((&order_id, order)) = best else { continue };
            let delta = (self.instrument.price(order.price_ticks) - mid).abs();
            let probability = (a_per_s * (-k * delta).exp() * dt_s).min(1.0);
            if rng.random::<f64>() >= probability {
                continue;
            }
            let price_ticks = order.price_ticks;
            let done = order.leaves_lots <= 1;
            self.book.reduce_ours(side, price_ticks, order_id, order.leaves_lots - 1);
            if done {
                self.book.remove_ours(side, price_ticks, order_id);
            }
            self.on_passive_fill(&PassiveFill { order_id, price_ticks, size_lots: 1, done }, out);
        }
        self.flush_changes(out);
    }

    /// Another participant's market order.
    pub fn others_market(&mut self, side: Side, size_lots: Lots, out: &mut ExchangeOutput) {
        if self.halted || size_lots <= 0 {
            return;
        }
        self.stats.market_orders += 1;
        let sweep = self.book.sweep(side, size_lots, None);
        self.publish_sweep(side, sweep, out);
        self.flush_changes(out);
    }

    fn place(&mut self, now_ns: Nanos, order: &NewOrder, out: &mut ExchangeOutput) {
        if let Some(reason) = self.entry_check(now_ns, order.price_ticks, order.size_lots) {
            self.stats.rejects += 1;
            out.reports.push(VenueReport::Rejected { order_id: order.order_id, reason });
            return;
        }
        let crosses = self.book.would_cross(order.side, order.price_ticks);
        if order.time_in_force == TimeInForce::PostOnly && crosses {
            self.stats.rejects += 1;
            out.reports.push(VenueReport::Rejected { order_id: order.order_id, reason: RejectReason::PostOnlyWouldCross });
            return;
        }
        if crosses && self.book.ours_within(order.side.opposite(), order.price_ticks) {
            self.stats.rejects += 1;
            out.reports.push(VenueReport::Rejected { order_id: order.order_id, reason: RejectReason::SelfTrade });
            return;
        }
        out.reports.push(VenueReport::Accepted { order_id: order.order_id });
        let mut leaves_lots = order.size_lots;
        if crosses {
            let sweep = self.book.sweep(order.side, order.size_lots, Some(order.price_ticks));
            for &(price_ticks, size_lots) in &sweep.prints {
                self.report_fill(order.order_id, order.side, price_ticks, size_lots, Liquidity::Taker, out);
            }
            leaves_lots -= sweep.traded_lots;
            self.publish_sweep(order.side, sweep, out);
        }
        if leaves_lots == 0 {
            return;
        }
        if order.time_in_force == TimeInForce::ImmediateOrCancel {
            out.reports.push(VenueReport::Canceled { order_id: order.order_id });
            return;
        }
        self.book.add_ours(order.side, order.price_ticks, order.order_id, leaves_lots);
        let filled_lots = order.size_lots - leaves_lots;
        self.orders.insert(order.order_id, RestingOrder { side: order.side, price_ticks: order.price_ticks, filled_lots, leaves_lots });
    }

    fn cancel(&mut self, order_id: ClientOrderId, out: &mut ExchangeOutput) {
        match self.orders.remove(&order_id) {
            Some(order) => {
                self.book.remove_ours(order.side, order.price_ticks, order_id);
                out.reports.push(VenueReport::Canceled { order_id });
            }
            None => out.reports.push(VenueReport::CancelRejected { order_id, reason: RejectReason::UnknownOrder }),
        }
    }

    fn replace(&mut self, now_ns: Nanos, order_id: ClientOrderId, price_ticks: Ticks, total_size_lots: Lots, out: &mut ExchangeOutput) {
        let Some(order) = self.orders.get(&order_id).cloned() else {
            out.reports.push(VenueReport::ReplaceRejected { order_id, reason: RejectReason::UnknownOrder });
            return;
        };
        let leaves_lots = total_size_lots - order.filled_lots;
        let rejection = self
            .entry_check(now_ns, price_ticks, leaves_lots.max(1))
            .or_else(|| (leaves_lots <= 0).then_some(RejectReason::InvalidSize))
            .or_else(|| {
                (price_ticks != order.price_ticks && self.book.would_cross(order.side, price_ticks))
                    .then_some(RejectReason::PostOnlyWouldCross)
            });
        if let Some(reason) = rejection {
            self.stats.rejects += 1;
            out.reports.push(VenueReport::ReplaceRejected { order_id, reason });
            return;
        }
        if price_ticks == order.price_ticks && leaves_lots <= order.leaves_lots {
            self.book.reduce_ours(order.side, price_ticks, order_id, leaves_lots);
        } else {
            self.book.remove_ours(order.side, order.price_ticks, order_id);
            self.book.add_ours(order.side, price_ticks, order_id, leaves_lots);
        }
        self.orders.insert(order_id, RestingOrder { price_ticks, leaves_lots, ..order });
        out.reports.push(VenueReport::Replaced { order_id, price_ticks, leaves_lots });
    }

    /// Venue rules every new order and replace passes: halt, rate limit, reject
    /// storm, grid and minimum notional.
    fn entry_check(&mut self, now_ns: Nanos, price_ticks: Ticks, size_lots: Lots) -> Option<RejectReason> {
        if self.halted {
            return Some(RejectReason::Halted);
        }
        while self.order_times.front().is_some_and(|&time_ns| now_ns - time_ns >= NANOS_PER_S) {
            self.order_times.pop_front();
        }
        if self.order_times.len() >= self.max_orders_per_s as usize {
            return Some(RejectReason::RateLimited);
        }
        self.order_times.push_back(now_ns);
        if self.reject_fraction > 0.0 && self.reject_rng.random::<f64>() < self.reject_fraction {
            return Some(RejectReason::VenueBusy);
        }
        if price_ticks <= 0 {
            return Some(RejectReason::InvalidPrice);
        }
        if size_lots <= 0 {
            return Some(RejectReason::InvalidSize);
        }
        if self.instrument.notional(price_ticks, size_lots) < self.instrument.min_notional {
            return Some(RejectReason::BelowMinNotional);
        }
        None
    }

    /// Reports passive fills of our orders and prints the trades of a sweep.
    fn publish_sweep(&mut self, aggressor: Side, sweep: Sweep, out: &mut ExchangeOutput) {
        for fill in &sweep.passive_fills {
            self.on_passive_fill(fill, out);
        }
        for (price_ticks, size_lots) in sweep.prints {
            out.trades.push(MarketData::Trade { price_ticks, size_lots, aggressor });
        }
    }

    fn on_passive_fill(&mut self, fill: &PassiveFill, out: &mut ExchangeOutput) {
        let Some(order) = self.orders.get_mut(&fill.order_id) else { return };
        order.filled_lots += fill.size_lots;
        order.leaves_lots -= fill.size_lots;
        let side = order.side;
        if fill.done {
            self.orders.remove(&fill.order_id);
        }
        self.report_fill(fill.order_id, side, fill.price_ticks, fill.size_lots, Liquidity::Maker, out);
    }

    fn report_fill(
        &mut self,
        order_id: ClientOrderId,
        side: Side,
        price_ticks: Ticks,
        size_lots: Lots,
        liquidity: Liquidity,
        out: &mut ExchangeOutput,
    ) {
        let fee_quote = self.fees.fee_quote(self.instrument.notional(price_ticks, size_lots), liquidity);
        self.position_lots += side.sign() * size_lots;
        self.stats.position_abs_max_lots = self.stats.position_abs_max_lots.max(self.position_lots.abs());
        match liquidity {
            Liquidity::Maker => self.stats.maker_fills += 1,
            Liquidity::Taker => self.stats.taker_fills += 1,
        }
        let fill_id = self.next_fill_id;
        self.next_fill_id += 1;
        out.reports.push(VenueReport::Filled(Fill { order_id, fill_id, side, price_ticks, size_lots, liquidity, fee_quote }));
    }

    fn flush_changes(&mut self, out: &mut ExchangeOutput) {
        self.book.take_changes(&mut out.updates);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn exchange() -> MockExchange {
        let mut exchange =
            MockExchange::new(Instrument::default(), BpsFees { maker_bps: -1.0, taker_bps: 5.0 }, 100, ChaCha8Rng::seed_from_u64(3));
        let mut out = ExchangeOutput::default();
        exchange.others_limit(Side::Buy, 600_000, 50, &mut out);
        exchange.others_limit(Side::Sell, 600_010, 50, &mut out);
        exchange
    }

    fn place(order_id: u64, side: Side, price_ticks: Ticks, size_lots: Lots, time_in_force: TimeInForce) -> Command {
        Command::Place(NewOrder { order_id: ClientOrderId(order_id), side, price_ticks, size_lots, time_in_force })
    }

    #[test]
    fn post_only_that_would_cross_is_rejected() {
        let mut exchange = exchange();
        let mut out = ExchangeOutput::default();
        exchange.on_command(0, &place(1, Side::Buy, 600_010, 1, TimeInForce::PostOnly), &mut out);
        assert_eq!(out.reports, vec![VenueReport::Rejected { order_id: ClientOrderId(1), reason: RejectReason::PostOnlyWouldCross }]);
    }

    #[test]
    fn resting_order_is_filled_by_others_flow_with_a_maker_rebate() {
        let mut exchange = exchange();
        let mut out = ExchangeOutput::default();
        exchange.on_command(0, &place(1, Side::Buy, 600_000, 10, TimeInForce::PostOnly), &mut out);
        assert!(matches!(out.reports[0], VenueReport::Accepted { .. }));
        let mut out = ExchangeOutput::default();
        exchange.others_market(Side::Sell, 55, &mut out);
        let VenueReport::Filled(fill) = &out.reports[0] else { panic!("expected a fill: {:?}", out.reports) };
        assert_eq!((fill.size_lots, fill.liquidity), (5, Liquidity::Maker));
        assert!(fill.fee_quote < 0.0);
        assert_eq!(exchange.position_lots(), 5);
        assert!(out.trades.iter().any(|message| matches!(message, MarketData::Trade { size_lots: 55, .. })));
    }

    #[test]
    fn ioc_walks_the_book_and_cancels_the_rest() {
        let mut exchange = exchange();
        let mut out = ExchangeOutput::default();
        exchange.others_limit(Side::Sell, 600_012, 20, &mut out);
        let mut out = ExchangeOutput::default();
        exchange.on_command(0, &place(1, Side::Buy, 600_012, 100, TimeInForce::ImmediateOrCancel), &mut out);
        let fills: Vec<Lots> =
            out.reports.iter().filter_map(|r| if let VenueReport::Filled(f) = r { Some(f.size_lots) } else { None }).collect();
        assert_eq!(fills, vec![50, 20]);
        assert_eq!(out.reports.last(), Some(&VenueReport::Canceled { order_id: ClientOrderId(1) }));
        assert_eq!(exchange.position_lots(), 70);
    }

    #[test]
    fn self_trade_is_prevented() {
        let mut exchange = exchange();
        let mut out = ExchangeOutput::default();
        exchange.on_command(0, &place(1, Side::Sell, 600_010, 5, TimeInForce::PostOnly), &mut out);
        let mut out = ExchangeOutput::default();
        exchange.on_command(0, &place(2, Side::Buy, 600_010, 5, TimeInForce::ImmediateOrCancel), &mut out);
        assert_eq!(out.reports, vec![VenueReport::Rejected { order_id: ClientOrderId(2), reason: RejectReason::SelfTrade }]);
    }

    #[test]
    fn replace_total_keeps_priority_when_shrinking_and_refuses_below_filled() {
        let mut exchange = exchange();
        let mut out = ExchangeOutput::default();
        exchange.on_command(0, &place(1, Side::Buy, 600_000, 10, TimeInForce::PostOnly), &mut out);
        exchange.others_market(Side::Sell, 54, &mut out);
        let mut out = ExchangeOutput::default();
        exchange.on_command(0, &Command::Replace { order_id: ClientOrderId(1), price_ticks: 600_000, total_size_lots: 8 }, &mut out);
        assert_eq!(out.reports, vec![VenueReport::Replaced { order_id: ClientOrderId(1), price_ticks: 600_000, leaves_lots: 4 }]);
        let mut out = ExchangeOutput::default();
        exchange.on_command(0, &Command::Replace { order_id: ClientOrderId(1), price_ticks: 600_000, total_size_lots: 4 }, &mut out);
        assert!(matches!(out.reports[0], VenueReport::ReplaceRejected { reason: RejectReason::InvalidSize, .. }));
    }

    #[test]
    fn halt_rejects_orders_but_cancels_still_work() {
        let mut exchange = exchange();
        let mut out = ExchangeOutput::default();
        exchange.on_command(0, &place(1, Side::Buy, 599_990, 10, TimeInForce::PostOnly), &mut out);
        exchange.set_halted(true);
        let mut out = ExchangeOutput::default();
        exchange.on_command(0, &place(2, Side::Buy, 599_990, 10, TimeInForce::PostOnly), &mut out);
        exchange.on_command(0, &Command::Cancel { order_id: ClientOrderId(1) }, &mut out);
        assert!(matches!(out.reports[0], VenueReport::Rejected { reason: RejectReason::Halted, .. }));
        assert_eq!(out.reports[1], VenueReport::Canceled { order_id: ClientOrderId(1) });
    }

    #[test]
    fn tiny_orders_are_below_min_notional() {
        let mut exchange = exchange();
        let mut out = ExchangeOutput::default();
        let instrument = Instrument { min_notional: 1_000.0, ..Instrument::default() };
        exchange.instrument = instrument;
        exchange.on_command(0, &place(1, Side::Buy, 599_990, 1, TimeInForce::PostOnly), &mut out);
        assert!(matches!(out.reports[0], VenueReport::Rejected { reason: RejectReason::BelowMinNotional, .. }));
    }
}
