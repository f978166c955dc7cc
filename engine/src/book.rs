//! The engine's view of the market's L2 book, built from snapshots, deltas and
//! best-bid-offer messages. It answers the questions quoting needs (touch prices
//! and sizes, mid, microprice) and says when the view is unusable (one-sided or
//! crossed). It does not hold our own orders and does no matching.
//!
//! Each side is a dense ladder, one size per price tick between its worst and best
//! levels (with room around them), so a feed's change is an index and the touch is
//! kept as an index: the work per message does not grow with the book's depth. A
//! side whose levels span more than `DENSE_SPAN_MAX` (65,536) ticks (a wide-tick recording
//! with a stray far level, a book that fell through a crash's whole range) is kept
//! instead as a vector sorted worst to best, exact at any span; the next snapshot
//! that fits returns it to a ladder, as does shrinking to a quarter of that span. A
//! sorted side merges a large delta in one pass.

use crate::port::{Level, LevelUpdate, MarketData};
use crate::units::{Lots, Side, Ticks};

/// Price-level book: price ticks to total size in lots, per side.
#[derive(Clone, Debug, Default)]
pub struct BookView {
    bids: SideLevels,
    asks: SideLevels,
}

/// The best bid and ask of a two-sided, uncrossed book.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Touch {
    /// Best bid price, ticks.
    pub bid_ticks: Ticks,
    /// Size at the best bid, lots.
    pub bid_lots: Lots,
    /// Best ask price, ticks.
    pub ask_ticks: Ticks,
    /// Size at the best ask, lots.
    pub ask_lots: Lots,
}

impl Touch {
    /// Midpoint in fractional ticks.
    pub fn mid_ticks(&self) -> f64 {
        (self.bid_ticks + self.ask_ticks) as f64 / 2.0
    }

    /// Size-weighted microprice in fractional ticks; the mid when both sizes are zero.
    pub fn microprice_ticks(&self) -> f64 {
        let total = self.bid_lots + self.ask_lots;
        if total <= 0 {
            return self.mid_ticks();
        }
        (self.bid_ticks as f64 * self.ask_lots as f64 + self.ask_ticks as f64 * self.bid_lots as f64) / total as f64
    }

    /// Best price on `side`.
    pub fn price(&self, side: Side) -> Ticks {
        match side {
            Side::Buy => self.bid_ticks,
            Side::Sell => self.ask_ticks,
        }
    }

    /// Size at the best price on `side`.
    pub fn size(&self, side: Side) -> Lots {
        match side {
            Side::Buy => self.bid_lots,
            Side::Sell => self.ask_lots,
        }
    }
}

impl BookView {
    /// Applies one market-data message; trades do not change the book.
    pub fn apply(&mut self, market_data: &MarketData) {
        match market_data {
            MarketData::Snapshot { bids, asks } => self.replace(bids, asks),
            MarketData::Delta { updates } if updates.len() > BULK_UPDATES => {
                self.bids.apply_bulk(Side::Buy, updates);
                self.asks.apply_bulk(Side::Sell, updates);
            }
            MarketData::Delta { updates } => {
                for update in updates {
                    self.apply_update(update);
                }
            }
            MarketData::BestBidOffer { bid, ask } => self.apply_best_bid_offer(*bid, *ask),
            MarketData::Trade { .. } => {}
        }
    }

    /// The touch, or `None` when a side is empty or the book is crossed or locked.
    pub fn touch(&self) -> Option<Touch> {
        let (bid_ticks, bid_lots) = self.bids.best(Side::Buy)?;
        let (ask_ticks, ask_lots) = self.asks.best(Side::Sell)?;
        (bid_ticks < ask_ticks).then_some(Touch { bid_ticks, bid_lots, ask_ticks, ask_lots })
    }

    /// Number of levels on `side`.
    pub fn depth_levels(&self, side: Side) -> usize {
        self.side(side).len()
    }

    fn side(&self, side: Side) -> &SideLevels {
        match side {
            Side::Buy => &self.bids,
            Side::Sell => &self.asks,
        }
    }

    fn side_mut(&mut self, side: Side) -> &mut SideLevels {
        match side {
            Side::Buy => &mut self.bids,
            Side::Sell => &mut self.asks,
        }
    }

    fn replace(&mut self, bids: &[Level], asks: &[Level]) {
        self.bids.replace(Side::Buy, bids);
        self.asks.replace(Side::Sell, asks);
    }

    fn apply_update(&mut self, update: &LevelUpdate) {
        let side = update.side;
        self.side_mut(side).set(rank(side, update.price_ticks), update.size_lots);
    }

    /// A top-of-book message is newer than deeper levels: levels better than it go.
    fn apply_best_bid_offer(&mut self, bid: Level, ask: Level) {
        if bid.size_lots > 0 {
            self.bids.set_best(rank(Side::Buy, bid.price_ticks), bid.size_lots);
        }
        if ask.size_lots > 0 {
            self.asks.set_best(rank(Side::Sell, ask.price_ticks), ask.size_lots);
        }
        // A stale deeper level on the other side can now cross the fresh touch: drop it.
        while let (Some((bid_price, _)), Some((ask_price, _))) = (self.bids.best(Side::Buy), self.asks.best(Side::Sell)) {
            if bid_price < ask_price {
                break;
            }
            if bid_price == bid.price_ticks {
                self.asks.pop_best();
            } else {
                self.bids.pop_best();
            }
        }
    }
}

/// A sorted side merges deltas with more updates than this in one pass (a whole
/// recorded book moving at once) instead of inserting them one by one.
const BULK_UPDATES: usize = 32;

/// Most ticks a side's ladder spans (its levels and the room kept around them):
/// 512 KiB of sizes a side at most. Wider sides are kept as sorted vectors.
const DENSE_SPAN_MAX: usize = 1 << 16;

/// Ticks a ladder spans at first; it doubles as levels spread.
const DENSE_SPAN_MIN: usize = 1 << 10;

/// Orders a side's prices worst to best: higher bids and lower asks are better.
fn rank(side: Side, price_ticks: Ticks) -> Ticks {
    side.sign() * price_ticks
}

/// One side's levels by rank (see [`rank`]): on a ladder while they fit one,
/// else sorted.
#[derive(Clone, Debug)]
struct SideLevels {
    ladder: Ladder,
    /// The levels as (rank, size), ascending, while `sorted_in_use`.
    sorted: Vec<(Ticks, Lots)>,
    /// Scratch space for [`SideLevels::merge`], kept to avoid allocating.
    scratch: Vec<(Ticks, Lots)>,
    sorted_in_use: bool,
    /// Most ticks the ladder may span (a field, so tests can make it small).
    span_max: usize,
}

impl Default for SideLevels {
    fn default() -> Self {
        SideLevels { ladder: Ladder::default(), sorted: Vec::new(), scratch: Vec::new(), sorted_in_use: false, span_max: DENSE_SPAN_MAX }
    }
}

impl SideLevels {
    /// The best level of `side` as (price, size); [`rank`] is its own inverse.
    fn best(&self, side: Side) -> Option<(Ticks, Lots)> {
        self.best_level().map(|(level_rank, size)| (rank(side, level_rank), size))
    }

    /// The best level as (rank, size).
    fn best_level(&self) -> Option<(Ticks, Lots)> {
        if self.sorted_in_use { self.sorted.last().copied() } else { self.ladder.best() }
    }

    fn len(&self) -> usize {
        if self.sorted_in_use { self.sorted.len() } else { self.ladder.count }
    }

    /// The levels as (rank, size), ascending.
    #[cfg(test)]
    fn levels(&self) -> Vec<(Ticks, Lots)> {
        if self.sorted_in_use { self.sorted.clone() } else { self.ladder.levels().collect() }
    }

    /// Sets the level at `rank` to `size_lots` (0 or less removes it).
    #[inline]
    fn set(&mut self, rank: Ticks, size_lots: Lots) {
        if self.sorted_in_use || !self.ladder.set(rank, size_lots, self.span_max) {
            self.set_sorted(rank, size_lots);
        }
    }

    /// [`SideLevels::set`] on a sorted side, or on a ladder that cannot take `rank`.
    #[cold]
    fn set_sorted(&mut self, rank: Ticks, size_lots: Lots) {
        if !self.sorted_in_use {
            self.sorted.clear();
            self.sorted.extend(self.ladder.levels());
            self.sorted_in_use = true;
        }
        sorted_set(&mut self.sorted, rank, size_lots);
        if size_lots <= 0 {
            self.return_to_ladder_if_narrow();
        }
    }

    /// Replaces every level with `levels` (a snapshot lists each price once; if
    /// not, the last size listed wins). Back on a ladder when they fit one.
    fn replace(&mut self, side: Side, levels: &[Level]) {
        self.ladder.clear();
        self.sorted.clear();
        self.sorted_in_use = false;
        let present = || levels.iter().filter(|level| level.size_lots > 0).map(|level| (rank(side, level.price_ticks), level.size_lots));
        if present().all(|(rank, size_lots)| self.ladder.set(rank, size_lots, self.span_max)) {
            return;
        }
        self.ladder.clear();
        self.sorted.extend(present());
        self.sorted.sort_by_key(|&(rank, _)| rank);
        self.sorted.dedup_by(|later, kept| {
            let same = later.0 == kept.0;
            if same {
                kept.1 = later.1;
            }
            same
        });
        self.sorted_in_use = true;
    }

    /// Applies `side`'s updates among `updates` as if one by one: on a ladder each
    /// is an index; a sorted side merges them in one pass.
    fn apply_bulk(&mut self, side: Side, updates: &[LevelUpdate]) {
        if self.sorted_in_use {
            self.merge(side, updates);
            self.return_to_ladder_if_narrow();
            return;
        }
        for update in updates.iter().filter(|update| update.side == side) {
            self.set(rank(side, update.price_ticks), update.size_lots);
        }
    }

    /// Applies `side`'s updates among `updates` as if one by one (the last update of
    /// a price wins), in one merge pass.
    fn merge(&mut self, side: Side, updates: &[LevelUpdate]) {
        let mut changes = std::mem::take(&mut self.scratch);
        changes.clear();
        changes
            .extend(updates.iter().filter(|update| update.side == side).map(|update| (rank(side, update.price_ticks), update.size_lots)));
        if changes.is_empty() {
            self.scratch = changes;
            return;
        }
        // Stable, so among updates of one price the last listed stays last.
        changes.sort_by_key(|&(rank, _)| rank);
        let mut merged = Vec::with_capacity(self.sorted.len() + changes.len());
        let mut old = self.sorted.iter().copied().peekable();
        let mut index = 0;
        while index < changes.len() {
            let rank = changes[index].0;
            while index + 1 < changes.len() && changes[index + 1].0 == rank {
                index += 1;
            }
            let size_lots = changes[index].1;
            while let Some(level) = old.next_if(|&(old_rank, _)| old_rank < rank) {
                merged.push(level);
            }
            old.next_if(|&(old_rank, _)| old_rank == rank);
            if size_lots > 0 {
                merged.push((rank, size_lots));
            }
            index += 1;
        }
        merged.extend(old);
        self.sorted = merged;
        self.scratch = changes;
    }

    /// Moves a sorted side back onto a ladder once its levels span at most a quarter
    /// of what a ladder may (the margin keeps a side near the limit from switching
    /// back and forth).
    fn return_to_ladder_if_narrow(&mut self) {
        let (Some(&(low, _)), Some(&(high, _))) = (self.sorted.first(), self.sorted.last()) else {
            return;
        };
        if high.abs_diff(low) >= (self.span_max / 4) as u64 {
            return;
        }
        self.ladder.clear();
        for &(rank, size_lots) in &self.sorted {
            let placed = self.ladder.set(rank, size_lots, self.span_max);
            debug_assert!(placed, "a narrow side fits a ladder");
        }
        self.sorted.clear();
        self.sorted_in_use = false;
    }

    /// Removes the best level.
    fn pop_best(&mut self) {
        if self.sorted_in_use {
            self.sorted.pop();
            self.return_to_ladder_if_narrow();
        } else {
            self.ladder.pop_best();
        }
    }

    /// Sets the best level: every better level goes.
    fn set_best(&mut self, rank: Ticks, size_lots: Lots) {
        while self.best_level().is_some_and(|(best, _)| best > rank) {
            self.pop_best();
        }
        self.set(rank, size_lots);
    }
}

/// Sets the level at `rank` in a vector sorted by rank (0 or less removes it).
fn sorted_set(levels: &mut Vec<(Ticks, Lots)>, rank: Ticks, size_lots: Lots) {
    match levels.binary_search_by_key(&rank, |&(rank, _)| rank) {
        Ok(index) if size_lots > 0 => levels[index].1 = size_lots,
        Ok(index) => {
            levels.remove(index);
        }
        Err(index) if size_lots > 0 => levels.insert(index, (rank, size_lots)),
        Err(_) => {}
    }
}

/// Sizes by rank on consecutive ticks: `sizes[i]` is the size at rank `base + i`
/// (0: no level). The lowest and highest levels are kept as indices; removing one
/// looks along the ladder for the next, which near a touch is a tick or two away.
#[derive(Clone, Debug, Default)]
struct Ladder {
    sizes: Vec<Lots>,
    base: Ticks,
    low: usize,
    high: usize,
    count: usize,
}

impl Ladder {
    /// The highest-ranked level as (rank, size).
    fn best(&self) -> Option<(Ticks, Lots)> {
        (self.count > 0).then(|| (self.base + self.high as Ticks, self.sizes[self.high]))
    }

    /// The levels as (rank, size), ascending.
    fn levels(&self) -> impl Iterator<Item = (Ticks, Lots)> + '_ {
        let occupied = if self.count > 0 { self.low..self.high + 1 } else { 0..0 };
        occupied.filter(|&index| self.sizes[index] > 0).map(|index| (self.base + index as Ticks, self.sizes[index]))
    }

    fn clear(&mut self) {
        if self.count > 0 {
            self.sizes[self.low..=self.high].fill(0);
        }
        self.count = 0;
    }

    /// Sets the level at `rank`; false (nothing changed) when the ladder would have
    /// to span more than `span_max` ticks.
    #[inline]
    fn set(&mut self, rank: Ticks, size_lots: Lots, span_max: usize) -> bool {
        let offset = rank.wrapping_sub(self.base) as u64;
        if offset >= self.sizes.len() as u64 {
            return self.set_outside(rank, size_lots, span_max);
        }
        let index = offset as usize;
        let was_level = self.sizes[index] > 0;
        self.sizes[index] = size_lots.max(0);
        match (was_level, size_lots > 0) {
            (false, true) => self.added(index),
            (true, false) => self.removed(index),
            _ => {}
        }
        true
    }

    /// [`Ladder::set`] for a rank outside the ladder: re-laid to fit it, if it can.
    #[cold]
    fn set_outside(&mut self, rank: Ticks, size_lots: Lots, span_max: usize) -> bool {
        if size_lots <= 0 {
            return true;
        }
        self.make_room(rank, span_max) && self.set(rank, size_lots, span_max)
    }

    fn pop_best(&mut self) {
        if self.count > 0 {
            self.sizes[self.high] = 0;
            self.removed(self.high);
        }
    }

    fn added(&mut self, index: usize) {
        if self.count == 0 {
            (self.low, self.high) = (index, index);
        } else {
            self.low = self.low.min(index);
            self.high = self.high.max(index);
        }
        self.count += 1;
    }

    fn removed(&mut self, index: usize) {
        self.count -= 1;
        if self.count == 0 {
            return;
        }
        if index == self.high {
            self.high = self.sizes[..index].iter().rposition(|&size| size > 0).expect("a level remains below the removed best");
        } else if index == self.low {
            self.low =
                index + 1 + self.sizes[index + 1..].iter().position(|&size| size > 0).expect("a level remains above the removed worst");
        }
    }

    /// Re-lays the ladder so `rank` fits, the levels centred with room both ways;
    /// false when levels and `rank` together span more than `span_max` ticks.
    fn make_room(&mut self, rank: Ticks, span_max: usize) -> bool {
        let (low_rank, high_rank) = match self.best() {
            Some((best, _)) => (rank.min(self.base + self.low as Ticks), rank.max(best)),
            None => (rank, rank),
        };
        let Some(span) =
            high_rank.checked_sub(low_rank).and_then(|width| usize::try_from(width).ok()).and_then(|width| width.checked_add(1))
        else {
            return false;
        };
        if span > span_max {
            return false;
        }
        let capacity = (span * 2).next_power_of_two().clamp(DENSE_SPAN_MIN.min(span_max), span_max).max(self.sizes.len().min(span_max));
        let Some(base) = low_rank.checked_sub(((capacity - span) / 2) as Ticks) else {
            return false;
        };
        let mut sizes = vec![0; capacity];
        if self.count > 0 {
            let low = (self.base + self.low as Ticks - base) as usize;
            let high = low + (self.high - self.low);
            sizes[low..=high].copy_from_slice(&self.sizes[self.low..=self.high]);
            (self.low, self.high) = (low, high);
        }
        (self.sizes, self.base) = (sizes, base);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn level(price_ticks: Ticks, size_lots: Lots) -> Level {
        Level { price_ticks, size_lots }
    }

    #[test]
    fn snapshot_then_deltas_move_the_touch() {
        let mut book = BookView::default();
        book.apply(&MarketData::Snapshot { bids: vec![level(99, 5), level(98, 7)], asks: vec![level(101, 4)] });
        assert_eq!(book.touch().unwrap().bid_ticks, 99);
        book.apply(&MarketData::Delta {
            updates: vec![
                LevelUpdate { side: Side::Buy, price_ticks: 99, size_lots: 0 },
                LevelUpdate { side: Side::Sell, price_ticks: 100, size_lots: 2 },
            ],
        });
        let touch = book.touch().unwrap();
        assert_eq!((touch.bid_ticks, touch.ask_ticks, touch.ask_lots), (98, 100, 2));
        assert!((touch.mid_ticks() - 99.0).abs() < 1e-12);
    }

    #[test]
    fn microprice_leans_to_the_thin_side() {
        let touch = Touch { bid_ticks: 100, bid_lots: 9, ask_ticks: 102, ask_lots: 1 };
        assert!(touch.microprice_ticks() > touch.mid_ticks());
    }

    #[test]
    fn one_sided_or_crossed_book_has_no_touch() {
        let mut book = BookView::default();
        book.apply(&MarketData::Snapshot { bids: vec![level(99, 5)], asks: vec![] });
        assert!(book.touch().is_none());
        book.apply(&MarketData::Snapshot { bids: vec![level(101, 5)], asks: vec![level(100, 1)] });
        assert!(book.touch().is_none());
    }

    #[test]
    fn snapshot_with_a_price_listed_twice_keeps_the_last_size() {
        let mut book = BookView::default();
        book.apply(&MarketData::Snapshot {
            bids: vec![level(99, 5), level(98, 7), level(99, 2)],
            asks: vec![level(101, 4), level(102, 0)],
        });
        let touch = book.touch().unwrap();
        assert_eq!((touch.bid_ticks, touch.bid_lots, touch.ask_ticks), (99, 2, 101));
        assert_eq!((book.depth_levels(Side::Buy), book.depth_levels(Side::Sell)), (2, 1));
    }

    #[test]
    fn negative_prices_keep_their_order() {
        let mut book = BookView::default();
        book.apply(&MarketData::Snapshot { bids: vec![level(-5, 1), level(-3, 2)], asks: vec![level(-1, 3), level(2, 4)] });
        let touch = book.touch().unwrap();
        assert_eq!((touch.bid_ticks, touch.bid_lots, touch.ask_ticks, touch.ask_lots), (-3, 2, -1, 3));
    }

    #[test]
    fn best_bid_offer_clears_stale_better_levels() {
        let mut book = BookView::default();
        book.apply(&MarketData::Snapshot { bids: vec![level(99, 5), level(98, 1)], asks: vec![level(101, 4), level(103, 1)] });
        book.apply(&MarketData::BestBidOffer { bid: level(102, 3), ask: level(104, 2) });
        let touch = book.touch().unwrap();
        assert_eq!((touch.bid_ticks, touch.ask_ticks), (102, 104));
        assert_eq!(book.depth_levels(Side::Buy), 3);
        assert_eq!(book.depth_levels(Side::Sell), 1);
    }

    /// The obvious model: an ordered map per side.
    #[derive(Default)]
    struct ModelBook {
        bids: std::collections::BTreeMap<Ticks, Lots>,
        asks: std::collections::BTreeMap<Ticks, Lots>,
    }

    impl ModelBook {
        fn apply(&mut self, message: &MarketData) {
            match message {
                MarketData::Snapshot { bids, asks } => {
                    self.bids = bids.iter().filter(|level| level.size_lots > 0).map(|level| (level.price_ticks, level.size_lots)).collect();
                    self.asks = asks.iter().filter(|level| level.size_lots > 0).map(|level| (level.price_ticks, level.size_lots)).collect();
                }
                MarketData::Delta { updates } => {
                    for update in updates {
                        let levels = if update.side == Side::Buy { &mut self.bids } else { &mut self.asks };
                        if update.size_lots > 0 {
                            levels.insert(update.price_ticks, update.size_lots);
                        } else {
                            levels.remove(&update.price_ticks);
                        }
                    }
                }
                MarketData::BestBidOffer { bid, ask } => {
                    if bid.size_lots > 0 {
                        self.bids.retain(|&price, _| price <= bid.price_ticks);
                        self.bids.insert(bid.price_ticks, bid.size_lots);
                    }
                    if ask.size_lots > 0 {
                        self.asks.retain(|&price, _| price >= ask.price_ticks);
                        self.asks.insert(ask.price_ticks, ask.size_lots);
                    }
                    while let (Some((&bid_price, _)), Some((&ask_price, _))) = (self.bids.last_key_value(), self.asks.first_key_value()) {
                        if bid_price < ask_price {
                            break;
                        }
                        if bid_price == bid.price_ticks {
                            self.asks.pop_first();
                        } else {
                            self.bids.pop_last();
                        }
                    }
                }
                MarketData::Trade { .. } => {}
            }
        }

        fn touch(&self) -> Option<Touch> {
            let (&bid_ticks, &bid_lots) = self.bids.last_key_value()?;
            let (&ask_ticks, &ask_lots) = self.asks.first_key_value()?;
            (bid_ticks < ask_ticks).then_some(Touch { bid_ticks, bid_lots, ask_ticks, ask_lots })
        }
    }

    /// Mostly prices near each other, sometimes one far off (a ladder cannot span it).
    fn any_price() -> impl Strategy<Value = Ticks> {
        prop_oneof![12 => -20i64..20, 1 => -(1i64 << 62)..(1i64 << 62), 1 => 60_000i64..200_000]
    }

    fn any_level() -> impl Strategy<Value = Level> {
        (any_price(), 0i64..4).prop_map(|(price_ticks, size_lots)| level(price_ticks, size_lots))
    }

    fn any_update() -> impl Strategy<Value = LevelUpdate> {
        let side = prop_oneof![Just(Side::Buy), Just(Side::Sell)];
        (side, any_price(), 0i64..4).prop_map(|(side, price_ticks, size_lots)| LevelUpdate { side, price_ticks, size_lots })
    }

    fn any_message() -> impl Strategy<Value = MarketData> {
        prop_oneof![
            1 => (prop::collection::vec(any_level(), 0..8), prop::collection::vec(any_level(), 0..8))
                .prop_map(|(bids, asks)| MarketData::Snapshot { bids, asks }),
            6 => prop::collection::vec(any_update(), 0..4).prop_map(|updates| MarketData::Delta { updates }),
            1 => prop::collection::vec(any_update(), 30..70).prop_map(|updates| MarketData::Delta { updates }),
            1 => (any_level(), any_level()).prop_map(|(bid, ask)| MarketData::BestBidOffer { bid, ask }),
        ]
    }

    /// A book whose ladders span at most `span_max` ticks.
    fn book_with_span_max(span_max: usize) -> BookView {
        let mut book = BookView::default();
        book.bids.span_max = span_max;
        book.asks.span_max = span_max;
        book
    }

    proptest! {
        #[test]
        fn ladders_and_sorted_sides_answer_as_an_ordered_map_would(
            messages in prop::collection::vec(any_message(), 0..60),
            span_max in prop_oneof![Just(DENSE_SPAN_MAX), Just(16usize), Just(1usize)],
        ) {
            let (mut book, mut model) = (book_with_span_max(span_max), ModelBook::default());
            for message in &messages {
                book.apply(message);
                model.apply(message);
                prop_assert_eq!(book.touch(), model.touch());
                prop_assert_eq!(book.depth_levels(Side::Buy), model.bids.len());
                prop_assert_eq!(book.depth_levels(Side::Sell), model.asks.len());
                let bids: Vec<(Ticks, Lots)> = book.bids.levels().iter().rev().map(|&(rank, size)| (rank, size)).collect();
                let model_bids: Vec<(Ticks, Lots)> = model.bids.iter().rev().map(|(&price, &size)| (price, size)).collect();
                prop_assert_eq!(bids, model_bids);
                let asks: Vec<(Ticks, Lots)> = book.asks.levels().iter().rev().map(|&(rank, size)| (-rank, size)).collect();
                let model_asks: Vec<(Ticks, Lots)> = model.asks.iter().map(|(&price, &size)| (price, size)).collect();
                prop_assert_eq!(asks, model_asks);
            }
        }

        #[test]
        fn a_side_that_outgrew_its_ladder_returns_to_one_at_the_next_snapshot_that_fits(far in 100_000i64..1_000_000) {
            let mut book = BookView::default();
            book.apply(&MarketData::Snapshot { bids: vec![level(100, 1), level(100 - far, 1)], asks: vec![level(101, 1)] });
            prop_assert!(book.bids.sorted_in_use, "a {far}-tick span is kept sorted");
            book.apply(&MarketData::Snapshot { bids: vec![level(100, 2), level(99, 1)], asks: vec![level(101, 1)] });
            prop_assert!(!book.bids.sorted_in_use);
            prop_assert_eq!(book.touch().map(|touch| touch.bid_lots), Some(2));
        }
    }
}
