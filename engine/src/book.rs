//! The engine's view of the market's L2 book, built from snapshots, deltas and
//! best-bid-offer messages. It answers the questions quoting needs (touch prices
//! and sizes, mid, microprice) and says when the view is unusable (one-sided or
//! crossed). It does not hold our own orders and does no matching.

use std::collections::BTreeMap;

use crate::port::{Level, LevelUpdate, MarketData};
use crate::units::{Lots, Side, Ticks};

/// Price-level book: price ticks to total size in lots, per side.
#[derive(Clone, Debug, Default)]
pub struct BookView {
    bids: BTreeMap<Ticks, Lots>,
    asks: BTreeMap<Ticks, Lots>,
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
        let (&bid_ticks, &bid_lots) = self.bids.last_key_value()?;
        let (&ask_ticks, &ask_lots) = self.asks.first_key_value()?;
        (bid_ticks < ask_ticks).then_some(Touch { bid_ticks, bid_lots, ask_ticks, ask_lots })
    }

    /// Number of levels on `side`.
    pub fn depth_levels(&self, side: Side) -> usize {
        self.side(side).len()
    }

    fn side(&self, side: Side) -> &BTreeMap<Ticks, Lots> {
        match side {
            Side::Buy => &self.bids,
            Side::Sell => &self.asks,
        }
    }

    fn side_mut(&mut self, side: Side) -> &mut BTreeMap<Ticks, Lots> {
        match side {
            Side::Buy => &mut self.bids,
            Side::Sell => &mut self.asks,
        }
    }

    fn replace(&mut self, bids: &[Level], asks: &[Level]) {
        self.bids.clear();
        self.asks.clear();
        for level in bids.iter().filter(|level| level.size_lots > 0) {
            self.bids.insert(level.price_ticks, level.size_lots);
        }
        for level in asks.iter().filter(|level| level.size_lots > 0) {
            self.asks.insert(level.price_ticks, level.size_lots);
        }
    }

    fn apply_update(&mut self, update: &LevelUpdate) {
        let levels = self.side_mut(update.side);
        if update.size_lots > 0 {
            levels.insert(update.price_ticks, update.size_lots);
        } else {
            levels.remove(&update.price_ticks);
        }
    }

    /// A top-of-book message is newer than deeper levels: levels better than it go.
    fn apply_best_bid_offer(&mut self, bid: Level, ask: Level) {
        if bid.size_lots > 0 {
            while let Some((&price, _)) = self.bids.last_key_value() {
                if price <= bid.price_ticks {
                    break;
                }
                self.bids.pop_last();
            }
            self.bids.insert(bid.price_ticks, bid.size_lots);
        }
        if ask.size_lots > 0 {
            while let Some((&price, _)) = self.asks.first_key_value() {
                if price >= ask.price_ticks {
                    break;
                }
                self.asks.pop_first();
            }
            self.asks.insert(ask.price_ticks, ask.size_lots);
        }
        // A stale deeper level on the other side can now cross the fresh touch: drop it.
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
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn best_bid_offer_clears_stale_better_levels() {
        let mut book = BookView::default();
        book.apply(&MarketData::Snapshot { bids: vec![level(99, 5), level(98, 1)], asks: vec![level(101, 4), level(103, 1)] });
        book.apply(&MarketData::BestBidOffer { bid: level(102, 3), ask: level(104, 2) });
        let touch = book.touch().unwrap();
        assert_eq!((touch.bid_ticks, touch.ask_ticks), (102, 104));
        assert_eq!(book.depth_levels(Side::Buy), 3);
        assert_eq!(book.depth_levels(Side::Sell), 1);
    }
}
