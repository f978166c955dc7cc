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
//!
//! Each side is a vector sorted worst to best (`BookSide`): the touch, the
//! worst level and the n-th level from the touch are O(1), and the changes a market
//! makes most (near the touch) move few elements. Replacing a whole book goes
//! through the bulk methods, which remove and insert once per side.

use drydock_engine::port::{Level as PortLevel, LevelUpdate};
use drydock_engine::{ClientOrderId, Lots, Side, Ticks};
use thin_vec::ThinVec;

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

/// Emptied queues of ours kept for reuse, at most (we quote a few levels a side).
const SPARE_OURS_MAX: usize = 64;

#[derive(Clone, Debug, Default)]
struct PriceLevel {
    others_lots: Lots,
    /// Our orders here, in queue order. A thin vector (one pointer, nothing
    /// allocated while empty) keeps levels small, so a side's sorted vector moves
    /// less memory when a level comes or goes.
    ours: ThinVec<QueuedOrder>,
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
#[derive(Clone, Debug)]
pub struct ExchangeBook {
    bids: BookSide,
    asks: BookSide,
    changes: Vec<LevelUpdate>,
    /// Emptied queues of our orders from removed levels, reused when our next order
    /// opens a queue at a level (each replace moves an order to another level:
    /// without them, an allocation and a free per replace).
    spare_ours: Vec<ThinVec<QueuedOrder>>,
}

impl Default for ExchangeBook {
    fn default() -> Self {
        ExchangeBook { bids: BookSide::new(Side::Buy), asks: BookSide::new(Side::Sell), changes: Vec::new(), spare_ours: Vec::new() }
    }
}

impl ExchangeBook {
    /// Best price on `side` (highest bid, lowest ask).
    pub fn best(&self, side: Side) -> Option<Ticks> {
        self.side(side).best()
    }

    /// Worst (farthest from the touch) price on `side`.
    pub fn worst(&self, side: Side) -> Option<Ticks> {
        self.side(side).worst()
    }

    /// Midpoint in fractional ticks, when both sides have depth.
    pub fn mid_ticks(&self) -> Option<f64> {
        Some((self.best(Side::Buy)? + self.best(Side::Sell)?) as f64 / 2.0)
    }

    /// Total size (others and ours) at a price.
    pub fn total_at(&self, side: Side, price_ticks: Ticks) -> Lots {
        self.side(side).get(price_ticks).map_or(0, PriceLevel::total_lots)
    }

    /// Total size of the best `levels` levels on `side`.
    pub fn depth_lots(&self, side: Side, levels: usize) -> Lots {
        self.side(side).best_first().take(levels).map(|(_, level)| level.total_lots()).sum()
    }

    /// Total size within `ticks` ticks behind (and at) the best price on `side`.
    pub fn depth_within_ticks(&self, side: Side, ticks: i64) -> Lots {
        self.side(side).within_ticks(ticks).map(|(_, level)| level.total_lots()).sum()
    }

    /// Prices within `ticks` ticks behind (and at) the best price on `side`, lowest first.
    pub fn prices_within_ticks(&self, side: Side, ticks: i64) -> Vec<Ticks> {
        let mut prices: Vec<Ticks> = self.side(side).within_ticks(ticks).map(|(price, _)| price).collect();
        if side == Side::Buy {
            prices.reverse();
        }
        prices
    }

    /// Number of price levels on `side`.
    pub fn level_count(&self, side: Side) -> usize {
        self.side(side).levels.len()
    }

    /// Price and total size of the `index`-th level from the touch (0 is the touch).
    pub fn level_at_index(&self, side: Side, index: usize) -> Option<(Ticks, Lots)> {
        let book_side = self.side(side);
        let position = book_side.levels.len().checked_sub(index.checked_add(1)?)?;
        Some((book_side.price(position), book_side.levels[position].1.total_lots()))
    }

    /// The best `levels` levels per side, as the feed's snapshot.
    pub fn snapshot(&self, levels: usize) -> (Vec<PortLevel>, Vec<PortLevel>) {
        let side_levels = |side| {
            self.side(side)
                .best_first()
                .take(levels)
                .map(|(price_ticks, level)| PortLevel { price_ticks, size_lots: level.total_lots() })
                .collect()
        };
        (side_levels(Side::Buy), side_levels(Side::Sell))
    }

    /// Level changes recorded since the last call, in order.
    pub fn take_changes(&mut self, into: &mut Vec<LevelUpdate>) {
        crate::buffers::move_all(&mut self.changes, into);
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
        let level = self.side_mut(side).entry(price_ticks);
        level.others_lots += size_lots;
        let total_lots = level.total_lots();
        self.changes.push(LevelUpdate { side, price_ticks, size_lots: total_lots });
        true
    }

    /// Removes up to `size_lots` of others' size at a price; our queue positions
    /// improve as the queue model says. Returns the size removed.
    pub fn cancel_others(&mut self, side: Side, price_ticks: Ticks, size_lots: Lots, queue_model: &dyn QueueModel) -> Lots {
        let Ok(index) = self.side(side).find(price_ticks) else {
            return 0;
        };
        let level = &mut self.side_mut(side).levels[index].1;
        let removed = size_lots.min(level.others_lots);
        if removed <= 0 {
            return 0;
        }
        let others_before = level.others_lots;
        for order in &mut level.ours {
            order.ahead_lots = queue_model.ahead_after_cancel(order.ahead_lots, others_before, removed).clamp(0, order.ahead_lots);
        }
        level.others_lots -= removed;
        self.prune_and_record_at(side, index);
        removed
    }

    /// Rests one of our orders at the back of the queue at its price.
    pub fn add_ours(&mut self, side: Side, price_ticks: Ticks, order_id: ClientOrderId, size_lots: Lots) {
        let book_side = match side {
            Side::Buy => &mut self.bids,
            Side::Sell => &mut self.asks,
        };
        let level = book_side.entry(price_ticks);
        if level.ours.capacity() == 0
            && let Some(spare) = self.spare_ours.pop()
        {
            level.ours = spare;
        }
        let ahead_lots = level.others_lots;
        level.ours.push(QueuedOrder { order_id, leaves_lots: size_lots, ahead_lots });
        let total_lots = level.total_lots();
        self.changes.push(LevelUpdate { side, price_ticks, size_lots: total_lots });
    }

    /// Removes one of our orders; returns its open size if it was there.
    pub fn remove_ours(&mut self, side: Side, price_ticks: Ticks, order_id: ClientOrderId) -> Option<Lots> {
        let index = self.side(side).find(price_ticks).ok()?;
        let level = &mut self.side_mut(side).levels[index].1;
        let position = level.ours.iter().position(|order| order.order_id == order_id)?;
        let order = level.ours.remove(position);
        self.prune_and_record_at(side, index);
        Some(order.leaves_lots)
    }

    /// Shrinks one of our orders in place (keeps its queue position).
    pub fn reduce_ours(&mut self, side: Side, price_ticks: Ticks, order_id: ClientOrderId, leaves_lots: Lots) {
        let Ok(index) = self.side(side).find(price_ticks) else {
            self.changes.push(LevelUpdate { side, price_ticks, size_lots: 0 });
            return;
        };
        if let Some(order) = self.side_mut(side).levels[index].1.ours.iter_mut().find(|order| order.order_id == order_id) {
            order.leaves_lots = leaves_lots;
        }
        self.prune_and_record_at(side, index);
    }

    /// True when one of our orders rests on `side` at a price an aggressive order on
    /// the other side limited at `limit_ticks` would reach.
    pub fn ours_within(&self, side: Side, limit_ticks: Ticks) -> bool {
        self.side(side)
            .best_first()
            .take_while(|(price, _)| reaches(side, *price, limit_ticks, true))
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
            if limit_ticks.is_some_and(|limit| !reaches(resting, price_ticks, limit, true)) {
                break;
            }
            let book_side = self.side_mut(resting);
            let index = book_side.levels.len() - 1;
            let taken = take_from_level(&mut book_side.levels[index].1, price_ticks, remaining, &mut sweep.passive_fills);
            if taken == 0 {
                break;
            }
            remaining -= taken;
            sweep.traded_lots += taken;
            sweep.prints.push((price_ticks, taken));
            self.prune_and_record_at(resting, index);
        }
        sweep
    }

    /// Others' size at a price.
    pub fn others_at(&self, side: Side, price_ticks: Ticks) -> Lots {
        self.side(side).get(price_ticks).map_or(0, |level| level.others_lots)
    }

    /// Prices on `side` where others have size, lowest first.
    pub fn others_prices(&self, side: Side) -> Vec<Ticks> {
        self.others_levels(side).map(|(price, _)| price).collect()
    }

    /// The price of the level on `side` nearest to `price_ticks` (the one nearer the
    /// touch when two are as near); none when the side is empty.
    pub fn nearest_price(&self, side: Side, price_ticks: Ticks) -> Option<Ticks> {
        let book_side = self.side(side);
        match book_side.find(price_ticks) {
            Ok(_) => Some(price_ticks),
            // Sorted worst to best: `index - 1` lies behind the price, `index` nearer the touch.
            Err(index) => {
                let behind = index.checked_sub(1).map(|index| book_side.price(index));
                let ahead = (index < book_side.levels.len()).then(|| book_side.price(index));
                match (behind, ahead) {
                    (Some(behind), Some(ahead)) => {
                        Some(if (price_ticks - behind).abs() < (ahead - price_ticks).abs() { behind } else { ahead })
                    }
                    (behind, ahead) => ahead.or(behind),
                }
            }
        }
    }

    /// Others' size at each price on `side` where they have some, lowest first.
    pub fn others_levels(&self, side: Side) -> impl Iterator<Item = (Ticks, Lots)> + '_ {
        self.side(side).lowest_first().filter(|(_, level)| level.others_lots > 0).map(|(price, level)| (price, level.others_lots))
    }

    /// Shrinks others' size at a level to `size_lots` if it is larger (a recorded
    /// decrease); our queue positions move as the queue model says. One lookup.
    pub fn shrink_others_to(&mut self, side: Side, price_ticks: Ticks, size_lots: Lots, queue_model: &dyn QueueModel) {
        if let Some(index) = self.shrink_in_place(side, price_ticks, size_lots, queue_model) {
            self.prune_and_record_at(side, index);
        }
    }

    /// As [`ExchangeBook::shrink_others_to`], but an emptied level stays in place,
    /// empty, until [`ExchangeBook::purge_empty_levels`] (until then nothing may read
    /// the touch or depth: the empty level would show). Replacing a whole book this
    /// way moves each side's vector once instead of once per level.
    pub fn shrink_others_to_in_bulk(&mut self, side: Side, price_ticks: Ticks, size_lots: Lots, queue_model: &dyn QueueModel) {
        if let Some(index) = self.shrink_in_place(side, price_ticks, size_lots, queue_model) {
            let total_lots = self.side(side).levels[index].1.total_lots();
            self.changes.push(LevelUpdate { side, price_ticks, size_lots: total_lots.max(0) });
        }
    }

    /// Drops the levels [`ExchangeBook::shrink_others_to_in_bulk`] emptied.
    pub fn purge_empty_levels(&mut self) {
        for book_side in [&mut self.bids, &mut self.asks] {
            book_side.levels.retain(|(_, level)| level.total_lots() > 0);
        }
    }

    /// Shrinks others' size at a level; the index of the level when it changed.
    fn shrink_in_place(&mut self, side: Side, price_ticks: Ticks, size_lots: Lots, queue_model: &dyn QueueModel) -> Option<usize> {
        let index = self.side(side).find(price_ticks).ok()?;
        let level = &mut self.side_mut(side).levels[index].1;
        if size_lots >= level.others_lots {
            return None;
        }
        let (others_before, removed) = (level.others_lots, level.others_lots - size_lots.max(0));
        for order in &mut level.ours {
            order.ahead_lots = queue_model.ahead_after_cancel(order.ahead_lots, others_before, removed).clamp(0, order.ahead_lots);
        }
        level.others_lots -= removed;
        Some(index)
    }

    /// Grows others' size at a level to `size_lots` if it is smaller (a recorded
    /// increase joins the back of the queue). Refused (false) when a new level would
    /// cross the book.
    pub fn grow_others_to(&mut self, side: Side, price_ticks: Ticks, size_lots: Lots) -> bool {
        self.grow(side, price_ticks, size_lots, false)
    }

    /// As [`ExchangeBook::grow_others_to`], but a new level waits, unseen, until
    /// [`ExchangeBook::merge_deferred_levels`] merges all of `side`'s at once. Until
    /// then nothing may read `side`, and each price may be grown once.
    pub fn grow_others_to_in_bulk(&mut self, side: Side, price_ticks: Ticks, size_lots: Lots) -> bool {
        self.grow(side, price_ticks, size_lots, true)
    }

    /// Merges the levels [`ExchangeBook::grow_others_to_in_bulk`] deferred on `side`.
    pub fn merge_deferred_levels(&mut self, side: Side) {
        self.side_mut(side).merge_deferred();
    }

    fn grow(&mut self, side: Side, price_ticks: Ticks, size_lots: Lots, defer_new_levels: bool) -> bool {
        if price_ticks <= 0 || size_lots <= 0 {
            return true;
        }
        let index = match self.side(side).find(price_ticks) {
            Ok(index) => index,
            Err(_) if self.would_cross(side, price_ticks) => return false,
            Err(_) if defer_new_levels => {
                self.side_mut(side).defer(price_ticks, size_lots);
                self.changes.push(LevelUpdate { side, price_ticks, size_lots });
                return true;
            }
            Err(index) => self.side_mut(side).insert_at(index, price_ticks),
        };
        let level = &mut self.side_mut(side).levels[index].1;
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
        // Best price first, as aggressive flow would reach them; queue order within a level.
        self.side(side)
            .best_first()
            .take_while(|(price, _)| reaches(side, *price, limit_ticks, inclusive))
            .flat_map(|(price, level)| level.ours.iter().map(move |order| (order.order_id, price, order.leaves_lots)))
            .collect()
    }

    /// A trade of `size_lots` against the queue of one level of `resting` side, in
    /// queue order (others ahead of our orders first); other levels are untouched.
    pub fn trade_at(&mut self, resting: Side, price_ticks: Ticks, size_lots: Lots) -> Vec<PassiveFill> {
        let mut fills = Vec::new();
        if let Ok(index) = self.side(resting).find(price_ticks) {
            take_from_level(&mut self.side_mut(resting).levels[index].1, price_ticks, size_lots, &mut fills);
            self.prune_and_record_at(resting, index);
        }
        fills
    }

    /// Our resting orders, with their prices, on both sides (bids then asks, each
    /// lowest price first).
    pub fn our_orders(&self) -> impl Iterator<Item = (Side, Ticks, &QueuedOrder)> {
        let bids = self.bids.lowest_first().flat_map(|(price, level)| level.ours.iter().map(move |order| (Side::Buy, price, order)));
        let asks = self.asks.lowest_first().flat_map(|(price, level)| level.ours.iter().map(move |order| (Side::Sell, price, order)));
        bids.chain(asks)
    }

    fn side(&self, side: Side) -> &BookSide {
        match side {
            Side::Buy => &self.bids,
            Side::Sell => &self.asks,
        }
    }

    fn side_mut(&mut self, side: Side) -> &mut BookSide {
        match side {
            Side::Buy => &mut self.bids,
            Side::Sell => &mut self.asks,
        }
    }

    /// Drops the level at `index` if it is empty and records its total.
    fn prune_and_record_at(&mut self, side: Side, index: usize) {
        let book_side = self.side_mut(side);
        let price_ticks = book_side.price(index);
        let total_lots = book_side.levels[index].1.total_lots();
        if total_lots <= 0 {
            let (_, level) = book_side.levels.remove(index);
            if level.ours.capacity() > 0 && self.spare_ours.len() < SPARE_OURS_MAX {
                let mut ours = level.ours;
                ours.clear();
                self.spare_ours.push(ours);
            }
        }
        self.changes.push(LevelUpdate { side, price_ticks, size_lots: total_lots.max(0) });
    }
}

/// True when a resting price on `side` is reached by aggressive flow limited at
/// `limit_ticks` (at the limit too when `inclusive`).
fn reaches(side: Side, price_ticks: Ticks, limit_ticks: Ticks, inclusive: bool) -> bool {
    match side {
        Side::Buy => price_ticks > limit_ticks || (inclusive && price_ticks == limit_ticks),
        Side::Sell => price_ticks < limit_ticks || (inclusive && price_ticks == limit_ticks),
    }
}

/// One side's levels in a vector sorted worst to best, so the touch is the last
/// element and the changes near it (most of them) move few elements. Levels are
/// kept by rank: the price for bids, minus the price for asks.
#[derive(Clone, Debug)]
struct BookSide {
    side: Side,
    levels: Vec<(Ticks, PriceLevel)>,
    /// New levels of a bulk update, not yet merged into `levels`.
    deferred: Vec<(Ticks, PriceLevel)>,
}

impl BookSide {
    fn new(side: Side) -> Self {
        BookSide { side, levels: Vec::new(), deferred: Vec::new() }
    }

    fn defer(&mut self, price_ticks: Ticks, others_lots: Lots) {
        self.deferred.push((self.rank(price_ticks), PriceLevel { others_lots, ours: ThinVec::new() }));
    }

    /// Merges the deferred levels (all at prices `levels` lacks) in one pass.
    fn merge_deferred(&mut self) {
        if self.deferred.is_empty() {
            return;
        }
        self.deferred.sort_unstable_by_key(|(rank, _)| *rank);
        let mut merged = Vec::with_capacity(self.levels.len() + self.deferred.len());
        let mut existing = std::mem::take(&mut self.levels).into_iter().peekable();
        for (rank, level) in self.deferred.drain(..) {
            while let Some(earlier) = existing.next_if(|(existing_rank, _)| *existing_rank < rank) {
                merged.push(earlier);
            }
            merged.push((rank, level));
        }
        merged.extend(existing);
        self.levels = merged;
    }

    /// Rank of a price, and price of a rank (the map is its own inverse).
    fn rank(&self, ticks: Ticks) -> Ticks {
        self.side.sign() * ticks
    }

    fn price(&self, index: usize) -> Ticks {
        self.rank(self.levels[index].0)
    }

    fn find(&self, price_ticks: Ticks) -> Result<usize, usize> {
        let rank = self.rank(price_ticks);
        self.levels.binary_search_by_key(&rank, |(rank, _)| *rank)
    }

    fn get(&self, price_ticks: Ticks) -> Option<&PriceLevel> {
        self.find(price_ticks).ok().map(|index| &self.levels[index].1)
    }

    /// The level at a price, created empty if absent.
    fn entry(&mut self, price_ticks: Ticks) -> &mut PriceLevel {
        let index = match self.find(price_ticks) {
            Ok(index) => index,
            Err(index) => self.insert_at(index, price_ticks),
        };
        &mut self.levels[index].1
    }

    fn insert_at(&mut self, index: usize, price_ticks: Ticks) -> usize {
        self.levels.insert(index, (self.rank(price_ticks), PriceLevel::default()));
        index
    }

    fn best(&self) -> Option<Ticks> {
        self.levels.last().map(|(rank, _)| self.rank(*rank))
    }

    fn worst(&self) -> Option<Ticks> {
        self.levels.first().map(|(rank, _)| self.rank(*rank))
    }

    fn best_first(&self) -> impl Iterator<Item = (Ticks, &PriceLevel)> {
        self.levels.iter().rev().map(|(rank, level)| (self.rank(*rank), level))
    }

    /// Levels within `ticks` of the best (the best included), best first.
    fn within_ticks(&self, ticks: i64) -> impl Iterator<Item = (Ticks, &PriceLevel)> {
        let best_rank = self.levels.last().map_or(0, |(rank, _)| *rank);
        self.levels.iter().rev().take_while(move |(rank, _)| best_rank - rank < ticks).map(|(rank, level)| (self.rank(*rank), level))
    }

    fn lowest_first(&self) -> Box<dyn Iterator<Item = (Ticks, &PriceLevel)> + '_> {
        let levels = self.levels.iter().map(|(rank, level)| (self.rank(*rank), level));
        match self.side {
            Side::Buy => Box::new(levels),
            Side::Sell => Box::new(levels.rev()),
        }
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
    use proptest::prelude::*;

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
    fn the_nearest_level_is_found_either_side_of_a_price_the_touch_winning_ties() {
        let mut book = book();
        assert!(book.add_others(Side::Buy, 95, 5));
        assert!(book.add_others(Side::Sell, 106, 5));
        // Bids at 95, 99, 100; asks at 101, 102, 106.
        let nearest = |side, price| book.nearest_price(side, price);
        assert_eq!((nearest(Side::Buy, 99), nearest(Side::Buy, 98), nearest(Side::Buy, 96)), (Some(99), Some(99), Some(95)));
        assert_eq!(nearest(Side::Buy, 97), Some(99), "95 and 99 lie as near: the one nearer the touch");
        assert_eq!((nearest(Side::Buy, 120), nearest(Side::Buy, 3)), (Some(100), Some(95)), "beyond either end, the end");
        assert_eq!((nearest(Side::Sell, 104), nearest(Side::Sell, 105), nearest(Side::Sell, 500)), (Some(102), Some(106), Some(106)));
        assert_eq!(ExchangeBook::default().nearest_price(Side::Sell, 101), None);
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

    /// A book with others' size at `levels` (bids below 100, asks above) and one of
    /// our orders at each side's third level.
    fn seeded(levels: &[(Side, Ticks, Lots)]) -> ExchangeBook {
        let mut book = ExchangeBook::default();
        for &(side, price_ticks, size_lots) in levels {
            book.add_others(side, price_ticks, size_lots);
        }
        for (side, order_id) in [(Side::Buy, 1), (Side::Sell, 2)] {
            if let Some((price_ticks, _)) = book.level_at_index(side, 2) {
                book.add_ours(side, price_ticks, ClientOrderId(order_id), 3);
            }
        }
        book.take_changes(&mut Vec::new());
        book
    }

    fn side_levels() -> impl Strategy<Value = Vec<(Side, Ticks, Lots)>> {
        let bids = prop::collection::vec((60i64..100, 0i64..9), 0..30)
            .prop_map(|levels| levels.into_iter().map(|(price, size)| (Side::Buy, price, size)).collect::<Vec<_>>());
        let asks = prop::collection::vec((101i64..140, 0i64..9), 0..30)
            .prop_map(|levels| levels.into_iter().map(|(price, size)| (Side::Sell, price, size)).collect::<Vec<_>>());
        (bids, asks).prop_map(|(bids, asks)| bids.into_iter().chain(asks).collect())
    }

    proptest! {
        #[test]
        fn bulk_replacement_matches_level_by_level(start in side_levels(), target in side_levels()) {
            let mut updates: std::collections::BTreeMap<(Side, Ticks), Lots> = std::collections::BTreeMap::new();
            for &(side, price, size) in &target {
                updates.insert((side, price), size);
            }
            let (mut one_by_one, mut bulk) = (seeded(&start), seeded(&start));
            for (&(side, price), &size) in &updates {
                one_by_one.shrink_others_to(side, price, size, &ProportionalCancels);
                bulk.shrink_others_to_in_bulk(side, price, size, &ProportionalCancels);
            }
            bulk.purge_empty_levels();
            for (&(side, price), &size) in &updates {
                if side == Side::Sell {
                    // The bids' new levels are merged before anything reads the bids.
                    bulk.merge_deferred_levels(Side::Buy);
                }
                prop_assert_eq!(one_by_one.grow_others_to(side, price, size), bulk.grow_others_to_in_bulk(side, price, size));
            }
            bulk.merge_deferred_levels(Side::Buy);
            bulk.merge_deferred_levels(Side::Sell);
            prop_assert_eq!(one_by_one.snapshot(usize::MAX), bulk.snapshot(usize::MAX));
            let (mut left, mut right) = (Vec::new(), Vec::new());
            one_by_one.take_changes(&mut left);
            bulk.take_changes(&mut right);
            prop_assert_eq!(left, right);
            let ours = |book: &ExchangeBook| book.our_orders().map(|(side, price, order)| (side, price, order.clone())).collect::<Vec<_>>();
            prop_assert_eq!(ours(&one_by_one), ours(&bulk));
        }
    }
}
