//! The mock exchange following a recording: recorded depth sets the other
//! participants' size level by level (a decrease goes through the queue model, an
//! increase joins the back of the queue), recorded trades consume the queue at
//! their price in order and fill our orders they trade through, and a recorded
//! level that reaches one of our resting orders fills it at its price (the market
//! traded through us). Prices may be shifted (a price shock bends the session).
//!
//! Not here: reading or sequencing recordings (`replay/`), timing (the runner).
//! While the venue is halted recorded trades fill nothing of ours; recorded depth
//! still moves the book, so it may fill resting orders it crosses.

use std::collections::BTreeMap;

use drydock_engine::{Lots, MarketData, Side, Ticks};

use super::book::PassiveFill;
use super::{ExchangeOutput, MockExchange};
use crate::replay::tape::TapeLevel;

/// Whether a batch of level updates is a whole book (each level once, sides in
/// order), applied in bulk.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Bulk {
    Yes,
    No,
}

impl MockExchange {
    /// Replaces others' whole book with `levels`, shifted by `shift_ticks`.
    pub fn replay_book(&mut self, levels: &[TapeLevel], shift_ticks: Ticks, out: &mut ExchangeOutput) {
        let mut target: BTreeMap<(Side, Ticks), Lots> = BTreeMap::new();
        for side in [Side::Buy, Side::Sell] {
            for price_ticks in self.book.others_prices(side) {
                target.insert((side, price_ticks), 0);
            }
        }
        for level in levels {
            target.insert((level.side, level.price_ticks + shift_ticks), level.size_lots);
        }
        let updates: Vec<(Side, Ticks, Lots)> = target.into_iter().map(|((side, price), size)| (side, price, size)).collect();
        self.replay_levels(&updates, Bulk::Yes, out);
    }

    /// Applies a recorded diff, shifted by `shift_ticks`.
    pub fn replay_depth(&mut self, levels: &[TapeLevel], shift_ticks: Ticks, out: &mut ExchangeOutput) {
        let updates: Vec<(Side, Ticks, Lots)> =
            levels.iter().map(|level| (level.side, level.price_ticks + shift_ticks, level.size_lots)).collect();
        self.replay_levels(&updates, Bulk::No, out);
    }

    /// A recorded trade (already shifted): printed to the feed; it fills our orders
    /// it traded through in full and consumes the queue at its price in order.
    pub fn replay_trade(&mut self, aggressor: Side, price_ticks: Ticks, size_lots: Lots, out: &mut ExchangeOutput) {
        out.trades.push(MarketData::Trade { price_ticks, size_lots, aggressor });
        if !self.halted && size_lots > 0 {
            let resting = aggressor.opposite();
            self.fill_reached(resting, price_ticks, false, out);
            for fill in self.book.trade_at(resting, price_ticks, size_lots) {
                self.on_passive_fill(&fill, out);
            }
        }
        self.flush_changes(out);
    }

    /// Sets others' size at each level: decreases first (so the book never crosses
    /// on the way), then increases, each after filling our orders it reaches. In
    /// bulk (a whole book, each level once) emptied and new levels are removed and
    /// merged per side at once, with the same outcome and the same feed.
    fn replay_levels(&mut self, updates: &[(Side, Ticks, Lots)], bulk: Bulk, out: &mut ExchangeOutput) {
        for &(side, price_ticks, size_lots) in updates {
            match bulk {
                Bulk::Yes => self.book.shrink_others_to_in_bulk(side, price_ticks, size_lots, self.queue_model.as_ref()),
                Bulk::No => self.book.shrink_others_to(side, price_ticks, size_lots, self.queue_model.as_ref()),
            }
        }
        if bulk == Bulk::Yes {
            self.book.purge_empty_levels();
        }
        let mut ours = self.our_touch();
        let mut deferred_side: Option<Side> = None;
        for &(side, price_ticks, size_lots) in updates {
            // Whatever reads a side next must see its new levels.
            if let Some(deferred) = deferred_side.filter(|&deferred| deferred != side) {
                self.book.merge_deferred_levels(deferred);
                deferred_side = None;
            }
            // A level that reaches our resting order is new (the book was uncrossed),
            // so any size there is an increase.
            let reaches_ours = size_lots > 0
                && match side {
                    Side::Buy => ours.1.is_some_and(|our_ask| price_ticks >= our_ask),
                    Side::Sell => ours.0.is_some_and(|our_bid| price_ticks <= our_bid),
                };
            if reaches_ours {
                self.fill_reached(side.opposite(), price_ticks, true, out);
                ours = self.our_touch();
            }
            let added = match bulk {
                Bulk::Yes => {
                    deferred_side = Some(side);
                    self.book.grow_others_to_in_bulk(side, price_ticks, size_lots)
                }
                Bulk::No => self.book.grow_others_to(side, price_ticks, size_lots),
            };
            debug_assert!(added, "a recorded level crossed others' book at {side:?} {price_ticks}");
        }
        if let Some(deferred) = deferred_side {
            self.book.merge_deferred_levels(deferred);
        }
        self.flush_changes(out);
    }

    /// Our highest resting bid and lowest resting ask.
    fn our_touch(&self) -> (Option<Ticks>, Option<Ticks>) {
        let (mut bid, mut ask): (Option<Ticks>, Option<Ticks>) = (None, None);
        for order in self.orders.values() {
            match order.side {
                Side::Buy => bid = Some(bid.map_or(order.price_ticks, |best| best.max(order.price_ticks))),
                Side::Sell => ask = Some(ask.map_or(order.price_ticks, |best| best.min(order.price_ticks))),
            }
        }
        (bid, ask)
    }

    /// Fills in full, at their own prices, our orders on `side` that flow limited at
    /// `limit_ticks` reaches.
    fn fill_reached(&mut self, side: Side, limit_ticks: Ticks, inclusive: bool, out: &mut ExchangeOutput) {
        for (order_id, price_ticks, leaves_lots) in self.book.ours_reached(side, limit_ticks, inclusive) {
            self.book.remove_ours(side, price_ticks, order_id);
            self.on_passive_fill(&PassiveFill { order_id, price_ticks, size_lots: leaves_lots, done: true }, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use drydock_engine::port::{NewOrder, TimeInForce};
    use drydock_engine::{ClientOrderId, Command, Instrument, VenueReport};
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;
    use crate::exchange::BpsFees;
    use crate::exchange::queue::{CancelsFromBack, ProbabilisticQueue, ProbabilityFunction, QueueModel};

    fn level(side: Side, price_ticks: Ticks, size_lots: Lots) -> TapeLevel {
        TapeLevel { side, price_ticks, size_lots }
    }

    fn venue(queue_model: Box<dyn QueueModel + Send>) -> MockExchange {
        let instrument = Instrument { min_notional: 0.0, ..Instrument::default() };
        let mut exchange = MockExchange::new(instrument, BpsFees { maker_bps: 0.0, taker_bps: 0.0 }, 100, ChaCha8Rng::seed_from_u64(1));
        exchange.set_queue_model(queue_model);
        let mut out = ExchangeOutput::default();
        exchange.replay_book(&[level(Side::Buy, 100, 10), level(Side::Buy, 99, 20), level(Side::Sell, 101, 10)], 0, &mut out);
        let place = Command::Place(NewOrder {
            order_id: ClientOrderId(1),
            side: Side::Buy,
            price_ticks: 100,
            size_lots: 5,
            time_in_force: TimeInForce::PostOnly,
        });
        exchange.on_command(0, &place, &mut out);
        exchange
    }

    fn filled(out: &ExchangeOutput) -> Vec<Lots> {
        out.reports.iter().filter_map(|report| if let VenueReport::Filled(fill) = report { Some(fill.size_lots) } else { None }).collect()
    }

    #[test]
    fn conservative_queue_advances_only_on_trades() {
        let mut exchange = venue(Box::new(CancelsFromBack));
        let mut out = ExchangeOutput::default();
        // 4 more join behind us, then the level shrinks back to 10: cancels from behind.
        exchange.replay_depth(&[level(Side::Buy, 100, 14)], 0, &mut out);
        exchange.replay_depth(&[level(Side::Buy, 100, 10)], 0, &mut out);
        exchange.replay_trade(Side::Sell, 100, 9, &mut out);
        assert!(filled(&out).is_empty(), "10 lots were ahead of us and 9 traded");
        exchange.replay_trade(Side::Sell, 100, 3, &mut out);
        assert_eq!(filled(&out), vec![2]);
        assert_eq!(exchange.position_lots(), 2);
    }

    #[test]
    fn probabilistic_queue_advances_on_depth_decreases() {
        let mut exchange = venue(Box::new(ProbabilisticQueue { function: ProbabilityFunction::Power, power: 2.0 }));
        let mut out = ExchangeOutput::default();
        // All others are ahead (nothing behind): a decrease of 6 comes from ahead.
        exchange.replay_depth(&[level(Side::Buy, 100, 4)], 0, &mut out);
        exchange.replay_trade(Side::Sell, 100, 5, &mut out);
        assert_eq!(filled(&out), vec![1]);
    }

    #[test]
    fn trades_through_and_crossing_depth_fill_us_in_full() {
        let mut exchange = venue(Box::new(CancelsFromBack));
        let mut out = ExchangeOutput::default();
        exchange.replay_trade(Side::Sell, 99, 1, &mut out);
        assert_eq!(filled(&out), vec![5], "a trade below our bid traded through it");
        let mut exchange = venue(Box::new(CancelsFromBack));
        let mut out = ExchangeOutput::default();
        exchange.replay_depth(&[level(Side::Buy, 100, 0), level(Side::Sell, 101, 0), level(Side::Sell, 100, 7)], 0, &mut out);
        assert_eq!(filled(&out), vec![5], "the recorded ask came down to our bid");
        assert!(exchange.book().is_uncrossed());
        assert_eq!(exchange.book().best(Side::Sell), Some(100));
    }

    #[test]
    fn a_shifted_book_moves_every_level() {
        let mut exchange = venue(Box::new(CancelsFromBack));
        let mut out = ExchangeOutput::default();
        exchange.replay_book(&[level(Side::Buy, 100, 10), level(Side::Buy, 99, 20), level(Side::Sell, 101, 10)], -3, &mut out);
        assert_eq!(filled(&out), vec![5], "the book fell through our bid");
        assert_eq!((exchange.book().best(Side::Buy), exchange.book().best(Side::Sell)), (Some(97), Some(98)));
        assert_eq!(exchange.book().others_prices(Side::Buy), vec![96, 97]);
    }
}
