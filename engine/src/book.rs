//! The engine's view of the market's L2 book, built from snapshots, deltas and
//! best-bid-offer messages. It answers the questions quoting needs (touch prices
//! and sizes, mid, microprice) and says when the view is unusable (one-sided or
//! crossed). It does not hold our own orders and does no matching.
//!
//! Each side is a vector sorted from the worst level to the best, so the touch is
//! the last element and the changes a feed sends most (at and near the touch) move
//! few elements: faster than an ordered map for books of tens to thousands of levels.

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
                self.bids.merge(Side::Buy, updates);
                self.asks.merge(Side::Sell, updates);
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
        self.side(side).levels.len()
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
                self.asks.levels.pop();
            } else {
                self.bids.levels.pop();
            }
        }
    }
}

/// Deltas with more updates than this are merged in one pass (a whole book moving
/// at once) instead of inserted one by one.
const BULK_UPDATES: usize = 32;

/// A side's levels as (rank, size), ascending by rank, so the best is last. The
/// rank is the price for bids and minus the price for asks (see [`rank`]).
#[derive(Clone, Debug, Default)]
struct SideLevels {
    levels: Vec<(Ticks, Lots)>,
    /// Scratch space for [`SideLevels::merge`], kept to avoid allocating.
    scratch: Vec<(Ticks, Lots)>,
}

/// Orders a side's prices worst to best: higher bids and lower asks are better.
fn rank(side: Side, price_ticks: Ticks) -> Ticks {
    side.sign() * price_ticks
}

impl SideLevels {
    /// The best level of `side` as (price, size); [`rank`] is its own inverse.
    fn best(&self, side: Side) -> Option<(Ticks, Lots)> {
        self.levels.last().map(|&(level_rank, size)| (rank(side, level_rank), size))
    }

    fn replace(&mut self, side: Side, levels: &[Level]) {
        self.levels.clear();
        self.levels.extend(levels.iter().filter(|level| level.size_lots > 0).map(|level| (rank(side, level.price_ticks), level.size_lots)));
        self.levels.sort_by_key(|&(rank, _)| rank);
        // A snapshot lists each price once; if not, the last size listed wins.
        self.levels.dedup_by(|later, kept| {
            let same = later.0 == kept.0;
            if same {
                kept.1 = later.1;
            }
            same
        });
    }

    /// Sets the level at `rank` to `size_lots` (0 removes it).
    fn set(&mut self, rank: Ticks, size_lots: Lots) {
        match self.levels.binary_search_by_key(&rank, |&(rank, _)| rank) {
            Ok(index) if size_lots > 0 => self.levels[index].1 = size_lots,
            Ok(index) => {
                self.levels.remove(index);
            }
            Err(index) if size_lots > 0 => self.levels.insert(index, (rank, size_lots)),
            Err(_) => {}
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
        let mut merged = Vec::with_capacity(self.levels.len() + changes.len());
        let mut old = self.levels.iter().copied().peekable();
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
        self.levels = merged;
        self.scratch = changes;
    }

    /// Sets the best level: every better level goes.
    fn set_best(&mut self, rank: Ticks, size_lots: Lots) {
        while self.levels.last().is_some_and(|&(best, _)| best > rank) {
            self.levels.pop();
        }
        self.set(rank, size_lots);
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

    fn any_level() -> impl Strategy<Value = Level> {
        (-20i64..20, 0i64..4).prop_map(|(price_ticks, size_lots)| level(price_ticks, size_lots))
    }

    fn any_message() -> impl Strategy<Value = MarketData> {
        let side = prop_oneof![Just(Side::Buy), Just(Side::Sell)];
        let update = (side, -20i64..20, 0i64..4).prop_map(|(side, price_ticks, size_lots)| LevelUpdate { side, price_ticks, size_lots });
        prop_oneof![
            1 => (prop::collection::vec(any_level(), 0..8), prop::collection::vec(any_level(), 0..8))
                .prop_map(|(bids, asks)| MarketData::Snapshot { bids, asks }),
            6 => prop::collection::vec(update.clone(), 0..4).prop_map(|updates| MarketData::Delta { updates }),
            1 => prop::collection::vec(update, BULK_UPDATES..BULK_UPDATES + 40).prop_map(|updates| MarketData::Delta { updates }),
            1 => (any_level(), any_level()).prop_map(|(bid, ask)| MarketData::BestBidOffer { bid, ask }),
        ]
    }

    proptest! {
        #[test]
        fn sorted_vectors_answer_as_an_ordered_map_would(messages in prop::collection::vec(any_message(), 0..60)) {
            let (mut book, mut model) = (BookView::default(), ModelBook::default());
            for message in &messages {
                book.apply(message);
                model.apply(message);
                prop_assert_eq!(book.touch(), model.touch());
                prop_assert_eq!(book.depth_levels(Side::Buy), model.bids.len());
                prop_assert_eq!(book.depth_levels(Side::Sell), model.asks.len());
                let bids: Vec<(Ticks, Lots)> = book.bids.levels.iter().rev().map(|&(rank, size)| (rank, size)).collect();
                let model_bids: Vec<(Ticks, Lots)> = model.bids.iter().rev().map(|(&price, &size)| (price, size)).collect();
                prop_assert_eq!(bids, model_bids);
                let asks: Vec<(Ticks, Lots)> = book.asks.levels.iter().rev().map(|&(rank, size)| (-rank, size)).collect();
                let model_asks: Vec<(Ticks, Lots)> = model.asks.iter().map(|(&price, &size)| (price, size)).collect();
                prop_assert_eq!(asks, model_asks);
            }
        }
    }
}
