//! The exchange's L2 price-level book of the simulated market. Each level holds the
//! other participants' resting size and our resting orders in FIFO order, each with
//! the others' size queued ahead of it. Aggressive flow walks the book level by
//! level and, within a level, fills the queue in order, so our orders fill only once
//! the depth that was there first has traded. Every change of a level's total is
//! recorded as a [`LevelUpdate`] for the market-data feed.
//!
//! The book never crosses: adding passive size at or through the opposite touch is
//! refused (callers sweep first). Matching rules that involve order types, fees or
//! reports live in `exchange/mod.rs`, not here.

use std::collections::BTreeMap;

use drydock_engine::port::{Level as PortLevel, LevelUpdate};
use drydock_engine::{ClientOrderId, Lots, Side, Ticks};

use super::queue::QueueModel;

/// One of our orders resting at a level.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueuedOrder {
    /// Our id.
    pub order_id: ClientOrderId,
    /// Size still open, lots.
    pub leaves_lots: Lots,
    /// Others' size queued ahead of this order, lots.
    pub ahead_lots: Lots,
}

#[derive(Clone, Debug, Default)]
struct PriceLevel {
    others_lots: Lots,
    ours: Vec<QueuedOrder>,
}

impl PriceLevel {
    fn total_lots(&self) -> Lots {
        self.others_lots + self.ours.iter().map(|order| order.leaves_lots).sum::<Lots>()
    }
}

/// A fill of one of our resting orders by aggressive flow.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct PassiveFill {
    /// Our order.
    pub order_id: ClientOrderId,
    /// Price, ticks.
    pub price_ticks: Ticks,
    /// Size, lots.
    pub size_lots: Lots,
    /// True when the order has nothing left.
    pub done: bool,
}

/// What a sweep did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sweep {
    /// Size traded in total, lots.
    pub traded_lots: Lots,
    /// Trades per price level, in walk order: (price, lots).
    pub prints: Vec<(Ticks, Lots)>,
    /// Our resting orders that were filled.
    pub passive_fills: Vec<PassiveFill>,
}

/// The simulated market's book.
#[derive(Clone, Debug, Default)]
pub struct ExchangeBook {
    bids: BTreeMap<Ticks, PriceLevel>,
    asks: BTreeMap<Ticks, PriceLevel>,
    changes: Vec<LevelUpdate>,
}

impl ExchangeBook {
    /// Best price on `side` (highest bid, lowest ask).
    pub fn best(&self, side: Side) -> Option<Ticks> {
        match side {
            Side::Buy => self.bids.last_key_value().map(|(price, _)| *price),
            Side::Sell => self.asks.first_key_value().map(|(price, _)| *price),
        }
    }

    /// Worst (farthest from the touch) price on `side`.
    pub fn worst(&self, side: Side) -> Option<Ticks> {
        match side {
            Side::Buy => self.bids.first_key_value().map(|(price, _)| *price),
            Side::Sell => self.asks.last_key_value().map(|(price, _)| *price),
        }
    }

    /// Midpoint in fractional ticks, when both sides have depth.
    pub fn mid_ticks(&self) -> Option<f64> {
        Some((self.best(Side::Buy)? + self.best(Side::Sell)?) as f64 / 2.0)
    }

    /// Total size (others and ours) at a price.
    pub fn total_at(&self, side: Side, price_ticks: Ticks) -> Lots {
        self.levels(side).get(&price_ticks).map_or(0, PriceLevel::total_lots)
    }

    /// Total size of the best `levels` levels on `side`.
    pub fn depth_lots(&self, side: Side, levels: usize) -> Lots {
        match side {
            Side::Buy => self.bids.values().rev().take(levels).map(PriceLevel::total_lots).sum(),
            Side::Sell => self.asks.values().take(levels).map(PriceLevel::total_lots).sum(),
        }
    }

    /// Total size within `ticks` ticks behind (and at) the best price on `side`.
    pub fn depth_within_ticks(&self, side: Side, ticks: i64) -> Lots {
        let Some(best) = self.best(side) else { return 0 };
        match side {
            Side::Buy => self.bids.range(best - ticks + 1..=best).map(|(_, level)| level.total_lots()).sum(),
            Side::Sell => self.asks.range(best..best + ticks).map(|(_, level)| level.total_lots()).sum(),
        }
    }

    /// Prices within `ticks` ticks behind (and at) the best price on `side`.
    pub fn prices_within_ticks(&self, side: Side, ticks: i64) -> Vec<Ticks> {
        let Some(best) = self.best(side) else { return Vec::new() };
        match side {
            Side::Buy => self.bids.range(best - ticks + 1..=best).map(|(price, _)| *price).collect(),
            Side::Sell => self.asks.range(best..best + ticks).map(|(price, _)| *price).collect(),
        }
    }

    /// Number of price levels on `side`.
    pub fn level_count(&self, side: Side) -> usize {
        self.levels(side).len()
    }

    /// Price of the `index`-th level from the touch (0 is the touch).
    pub fn price_at_index(&self, side: Side, index: usize) -> Option<Ticks> {
        match side {
            Side::Buy => self.bids.keys().rev().nth(index).copied(),
            Side::Sell => self.asks.keys().nth(index).copied(),
        }
    }

    /// The best `levels` levels per side, as the feed's snapshot.
    pub fn snapshot(&self, levels: usize) -> (Vec<PortLevel>, Vec<PortLevel>) {
        let side_levels = |side| {
            self.iter_best_first(side)
                .take(levels)
                .map(|(price_ticks, level)| PortLevel { price_ticks, size_lots: level.total_lots() })
                .collect()
        };
        (side_levels(Side::Buy), side_levels(Side::Sell))
    }

    /// Level changes recorded since the last call, in order.
    pub fn take_changes(&mut self, into: &mut Vec<LevelUpdate>) {
        into.append(&mut self.changes);
    }

    /// True when best bid < best ask (or a side is empty).
    pub fn is_uncrossed(&self) -> bool {
        match (self.best(Side::Buy), self.best(Side::Sell)) {
            (Some(bid), Some(ask)) => bid < ask,
            _ => true,
        }
    }

    /// True when a passive order at `price_ticks` on `side` would cross the book.
    pub fn would_cross(&self, side: Side, price_ticks: Ticks) -> bool {
        match side {
            Side::Buy => self.best(Side::Sell).is_some_and(|ask| price_ticks >= ask),
            Side::Sell => self.best(Side::Buy).is_some_and(|bid| price_ticks <= bid),
        }
    }

    /// Adds others' passive size. Refused (returns false) when it would cross.
    pub fn add_others(&mut self, side: Side, price_ticks: Ticks, size_lots: Lots) -> bool {
        if size_lots <= 0 || price_ticks <= 0 || self.would_cross(side, price_ticks) {
            return false;
        }
        let level = self.levels_mut(side).entry(price_ticks).or_default();
        level.others_lots += size_lots;
        let total_lots = level.total_lots();
        self.changes.push(LevelUpdate { side, price_ticks, size_lots: total_lots });
        true
    }

    /// Removes up to `size_lots` of others' size at a price; our queue positions
    /// improve as the queue model says. Returns the size removed.
    pub fn cancel_others(&mut self, side: Side, price_ticks: Ticks, size_lots: Lots, queue_model: &dyn QueueModel) -> Lots {
        let Some(level) = self.levels_mut(side).get_mut(&price_ticks) else {
            return 0;
        };
        let removed = size_lots.min(level.others_lots);
        if removed <= 0 {
            return 0;
        }
        let others_before = level.others_lots;
        for order in &mut level.ours {
            order.ahead_lots = queue_model.ahead_after_cancel(order.ahead_lots, others_before, removed).clamp(0, order.ahead_lots);
        }
        level.others_lots -= removed;
        self.prune_and_record(side, price_ticks);
        removed
    }

    /// Rests one of our orders at the back of the queue at its price.
    pub fn add_ours(&mut self, side: Side, price_ticks: Ticks, order_id: ClientOrderId, size_lots: Lots) {
        let level = self.levels_mut(side).entry(price_ticks).or_default();
        let ahead_lots = level.others_lots;
        level.ours.push(QueuedOrder { order_id, leaves_lots: size_lots, ahead_lots });
        self.record(side, price_ticks);
    }

    /// Removes one of our orders; returns its open size if it was there.
    pub fn remove_ours(&mut self, side: Side, price_ticks: Ticks, order_id: ClientOrderId) -> Option<Lots> {
        let level = self.levels_mut(side).get_mut(&price_ticks)?;
        let index = level.ours.iter().position(|order| order.order_id == order_id)?;
        let order = level.ours.remove(index);
        self.prune_and_record(side, price_ticks);
        Some(order.leaves_lots)
    }

    /// Shrinks one of our orders in place (keeps its queue position).
    pub fn reduce_ours(&mut self, side: Side, price_ticks: Ticks, order_id: ClientOrderId, leaves_lots: Lots) {
        if let Some(order) =
            self.levels_mut(side).get_mut(&price_ticks).and_then(|level| level.ours.iter_mut().find(|order| order.order_id == order_id))
        {
            order.leaves_lots = leaves_lots;
        }
        self.prune_and_record(side, price_ticks);
    }

    /// True when one of our orders rests on `side` at a price an aggressive order on
    /// the other side limited at `limit_ticks` would reach.
    pub fn ours_within(&self, side: Side, limit_ticks: Ticks) -> bool {
        self.iter_best_first(side)
            .take_while(|(price, _)| match side {
                Side::Buy => *price >= limit_ticks,
                Side::Sell => *price <= limit_ticks,
            })
            .any(|(_, level)| !level.ours.is_empty())
    }

    /// Aggressive flow on `aggressor` side takes liquidity from the other side, best
    /// level first, up to `size_lots` and no worse than `limit_ticks` (if any).
    pub fn sweep(&mut self, aggressor: Side, size_lots: Lots, limit_ticks: Option<Ticks>) -> Sweep {
        let resting = aggressor.opposite();
        let mut sweep = Sweep::default();
        let mut remaining = size_lots;
        while remaining > 0 {
            let Some(price_ticks) = self.best(resting) else { break };
            let beyond_limit = limit_ticks.is_some_and(|limit| match aggressor {
                Side::Buy => price_ticks > limit,
                Side::Sell => price_ticks < limit,
            });
            if beyond_limit {
                break;
            }
            let level = self.levels_mut(resting).get_mut(&price_ticks).expect("best level exists");
            let taken = take_from_level(level, price_ticks, remaining, &mut sweep.passive_fills);
            if taken == 0 {
                break;
            }
            remaining -= taken;
            sweep.traded_lots += taken;
            sweep.prints.push((price_ticks, taken));
            self.prune_and_record(resting, price_ticks);
        }
        sweep
    }

    /// Others' size at a price.
    pub fn others_at(&self, side: Side, price_ticks: Ticks) -> Lots {
        self.levels(side).get(&price_ticks).map_or(0, |level| level.others_lots)
    }

    /// Prices on `side` where others have size.
    pub fn others_prices(&self, side: Side) -> Vec<Ticks> {
        self.levels(side).iter().filter(|(_, level)| level.others_lots > 0).map(|(price, _)| *price).collect()
    }

    /// Shrinks others' size at a level to `size_lots` if it is larger (a recorded
    /// decrease); our queue positions move as the queue model says. One lookup.
    pub fn shrink_others_to(&mut self, side: Side, price_ticks: Ticks, size_lots: Lots, queue_model: &dyn QueueModel) {
        let levels = self.levels_mut(side);
        let Some(level) = levels.get_mut(&price_ticks) else { return };
        if size_lots >= level.others_lots {
            return;
        }
        let (others_before, removed) = (level.others_lots, level.others_lots - size_lots.max(0));
        for order in &mut level.ours {
            order.ahead_lots = queue_model.ahead_after_cancel(order.ahead_lots, others_before, removed).clamp(0, order.ahead_lots);
        }
        level.others_lots -= removed;
        let total_lots = level.total_lots();
        if total_lots <= 0 {
            levels.remove(&price_ticks);
        }
        self.changes.push(LevelUpdate { side, price_ticks, size_lots: total_lots.max(0) });
    }

    /// Grows others' size at a level to `size_lots` if it is smaller (a recorded
    /// increase joins the back of the queue). Refused (false) when a new level would
    /// cross the book.
    pub fn grow_others_to(&mut self, side: Side, price_ticks: Ticks, size_lots: Lots) -> bool {
        if price_ticks <= 0 || size_lots <= 0 {
            return true;
        }
        if !self.levels(side).contains_key(&price_ticks) && self.would_cross(side, price_ticks) {
            return false;
        }
        let level = self.levels_mut(side).entry(price_ticks).or_default();
        if size_lots <= level.others_lots {
            return true;
        }
        level.others_lots = size_lots;
        let total_lots = level.total_lots();
        self.changes.push(LevelUpdate { side, price_ticks, size_lots: total_lots });
        true
    }

    /// Our orders resting on `side` that aggressive flow from the other side limited
    /// at `limit_ticks` reaches (at the limit too when `inclusive`): (id, price, open size).
    pub fn ours_reached(&self, side: Side, limit_ticks: Ticks, inclusive: bool) -> Vec<(ClientOrderId, Ticks, Lots)> {
        let range = match (side, inclusive) {
            (Side::Buy, true) => self.bids.range(limit_ticks..),
            (Side::Buy, false) => self.bids.range(limit_ticks.saturating_add(1)..),
            (Side::Sell, true) => self.asks.range(..=limit_ticks),
            (Side::Sell, false) => self.asks.range(..limit_ticks),
        };
        // Best price first, as aggressive flow would reach them; queue order within a level.
        let levels: Box<dyn Iterator<Item = (&Ticks, &PriceLevel)>> =
            if side == Side::Buy { Box::new(range.rev()) } else { Box::new(range) };
        levels.flat_map(|(price, level)| level.ours.iter().map(move |order| (order.order_id, *price, order.leaves_lots))).collect()
    }

    /// A trade of `size_lots` against the queue of one level of `resting` side, in
    /// queue order (others ahead of our orders first); other levels are untouched.
    pub fn trade_at(&mut self, resting: Side, price_ticks: Ticks, size_lots: Lots) -> Vec<PassiveFill> {
        let mut fills = Vec::new();
        if let Some(level) = self.levels_mut(resting).get_mut(&price_ticks) {
            take_from_level(level, price_ticks, size_lots, &mut fills);
            self.prune_and_record(resting, price_ticks);
        }
        fills
    }

    /// Our resting orders, with their prices, on both sides.
    pub fn our_orders(&self) -> impl Iterator<Item = (Side, Ticks, &QueuedOrder)> {
        let bids = self.bids.iter().flat_map(|(price, level)| level.ours.iter().map(move |order| (Side::Buy, *price, order)));
        let asks = self.asks.iter().flat_map(|(price, level)| level.ours.iter().map(move |order| (Side::Sell, *price, order)));
        bids.chain(asks)
    }

    fn levels(&self, side: Side) -> &BTreeMap<Ticks, PriceLevel> {
        match side {
            Side::Buy => &self.bids,
            Side::Sell => &self.asks,
        }
    }

    fn levels_mut(&mut self, side: Side) -> &mut BTreeMap<Ticks, PriceLevel> {
        match side {
            Side::Buy => &mut self.bids,
            Side::Sell => &mut self.asks,
        }
    }

    fn iter_best_first(&self, side: Side) -> Box<dyn Iterator<Item = (Ticks, &PriceLevel)> + '_> {
        match side {
            Side::Buy => Box::new(self.bids.iter().rev().map(|(price, level)| (*price, level))),
            Side::Sell => Box::new(self.asks.iter().map(|(price, level)| (*price, level))),
        }
    }

    fn record(&mut self, side: Side, price_ticks: Ticks) {
        let size_lots = self.total_at(side, price_ticks);
        self.changes.push(LevelUpdate { side, price_ticks, size_lots });
    }

    /// Drops the level if it is empty and records its total (one lookup when it stays).
    fn prune_and_record(&mut self, side: Side, price_ticks: Ticks) {
        let levels = self.levels_mut(side);
        let total_lots = match levels.get(&price_ticks) {
            Some(level) if level.total_lots() > 0 => level.total_lots(),
            Some(_) => {
                levels.remove(&price_ticks);
                0
            }
            None => 0,
        };
        self.changes.push(LevelUpdate { side, price_ticks, size_lots: total_lots });
    }
}

/// Takes up to `wanted` lots from one level in queue order; returns the lots taken.
fn take_from_level(level: &mut PriceLevel, price_ticks: Ticks, wanted: Lots, fills: &mut Vec<PassiveFill>) -> Lots {
    let mut remaining = wanted;
    let mut others_taken = 0;
    for order in &mut level.ours {
        let others_before_order = (order.ahead_lots - others_taken).max(0);
        let from_others = remaining.min(others_before_order);
        others_taken += from_others;
        remaining -= from_others;
        if remaining == 0 {
            break;
        }
        let from_order = remaining.min(order.leaves_lots);
        order.leaves_lots -= from_order;
        remaining -= from_order;
        fills.push(PassiveFill { order_id: order.order_id, price_ticks, size_lots: from_order, done: order.leaves_lots == 0 });
        if order.leaves_lots > 0 {
            break;
        }
    }
    let tail = remaining.min(level.others_lots - others_taken);
    others_taken += tail;
    remaining -= tail;
    level.others_lots -= others_taken;
    for order in &mut level.ours {
        order.ahead_lots = (order.ahead_lots - others_taken).max(0);
    }
    level.ours.retain(|order| order.leaves_lots > 0);
    wanted - remaining
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exchange::queue::ProportionalCancels;

    fn book() -> ExchangeBook {
        let mut book = ExchangeBook::default();
        assert!(book.add_others(Side::Buy, 100, 10));
        assert!(book.add_others(Side::Buy, 99, 20));
        assert!(book.add_others(Side::Sell, 101, 10));
        assert!(book.add_others(Side::Sell, 102, 30));
        book
    }

    #[test]
    fn crossing_passive_size_is_refused() {
        let mut book = book();
        assert!(!book.add_others(Side::Buy, 101, 5));
        assert!(!book.add_others(Side::Sell, 100, 5));
        assert!(book.is_uncrossed());
    }

    #[test]
    fn our_order_fills_only_after_the_depth_ahead() {
        let mut book = book();
        book.add_ours(Side::Buy, 100, ClientOrderId(1), 5);
        book.add_others(Side::Buy, 100, 7);
        let first = book.sweep(Side::Sell, 8, None);
        assert!(first.passive_fills.is_empty(), "10 lots were ahead of us");
        let second = book.sweep(Side::Sell, 4, None);
        assert_eq!(second.passive_fills, vec![PassiveFill { order_id: ClientOrderId(1), price_ticks: 100, size_lots: 2, done: false }]);
        let third = book.sweep(Side::Sell, 10, None);
        assert_eq!(third.passive_fills[0].size_lots, 3);
        assert!(third.passive_fills[0].done);
        assert_eq!(third.prints, vec![(100, 10)], "the 7 lots behind us traded after us");
        assert_eq!(book.best(Side::Buy), Some(99));
    }

    #[test]
    fn sweep_walks_levels_and_stops_at_the_limit() {
        let mut book = book();
        let sweep = book.sweep(Side::Buy, 25, Some(102));
        assert_eq!(sweep.prints, vec![(101, 10), (102, 15)]);
        let limited = book.sweep(Side::Buy, 100, Some(102));
        assert_eq!(limited.traded_lots, 15);
        assert_eq!(book.best(Side::Sell), None);
    }

    #[test]
    fn cancels_ahead_improve_our_queue_position() {
        let mut book = book();
        book.add_ours(Side::Buy, 100, ClientOrderId(1), 5);
        book.add_others(Side::Buy, 100, 10);
        assert_eq!(book.cancel_others(Side::Buy, 100, 10, &ProportionalCancels), 10);
        let ahead = book.our_orders().next().unwrap().2.ahead_lots;
        assert_eq!(ahead, 5, "half the others canceled: half the queue ahead went");
    }

    #[test]
    fn every_change_is_recorded_for_the_feed() {
        let mut book = book();
        let mut changes = Vec::new();
        book.take_changes(&mut changes);
        assert_eq!(changes.len(), 4);
        book.sweep(Side::Sell, 15, None);
        changes.clear();
        book.take_changes(&mut changes);
        assert_eq!(
            changes,
            vec![
                LevelUpdate { side: Side::Buy, price_ticks: 100, size_lots: 0 },
                LevelUpdate { side: Side::Buy, price_ticks: 99, size_lots: 15 }
            ]
        );
    }
}
