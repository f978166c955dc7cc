//! Position, cash and PnL, and the per-fill analytics (spread captured, slippage,
//! adverse selection after 1 s and 10 s).
//!
//! Cash is kept exactly, as an integer count of tick×lot units, so the PnL identity
//! `cash + inventory × mark − fees = Σ over fills of −side·price·size − fees` holds
//! to the last unit; quote-currency figures are derived from it. The realized /
//! unrealized split (average cost) is analytics only. This file never decides
//! whether to trade.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use crate::port::Liquidity;
use crate::units::{ClientOrderId, Instrument, Lots, NANOS_PER_MS, Nanos, Side, Ticks};

/// Fair-value horizon of the short adverse-selection markout, milliseconds.
pub const MARKOUT_SHORT_MS: Nanos = 1_000;
/// Fair-value horizon of the long adverse-selection markout, milliseconds.
pub const MARKOUT_LONG_MS: Nanos = 10_000;

/// Position and cash.
#[derive(Clone, Debug, Default)]
pub struct Accounting {
    /// Position, lots (positive long).
    pub position_lots: Lots,
    /// Cash in tick×lot units: −Σ side·price·size over fills and adjustments.
    cash_tick_lots: i128,
    /// `cash_tick_lots` as a float, kept beside it: the PnL is marked on every
    /// market-data message and the conversion from 128 bits is a library call.
    cash_tick_lots_f64: f64,
    /// Fees paid, quote currency (negative when rebates dominate).
    pub fees_quote: f64,
    /// Realized PnL before fees on the average-cost method, quote currency.
    pub realized_quote: f64,
    average_entry_ticks: f64,
    /// Maker fills' total size, lots.
    pub maker_volume_lots: Lots,
    /// Taker fills' total size, lots.
    pub taker_volume_lots: Lots,
    /// Σ price × size over fills, tick×lot units.
    pub traded_tick_lots: i128,
    /// Number of fills applied.
    pub fills: u64,
    /// Position changes booked by reconciliation rather than by fills, lots.
    pub adjustment_lots: Lots,
}

impl Accounting {
    /// Books a fill (already deduplicated).
    pub fn apply_fill(
        &mut self,
        side: Side,
        price_ticks: Ticks,
        size_lots: Lots,
        liquidity: Liquidity,
        fee_quote: f64,
        instrument: &Instrument,
    ) {
        self.book_trade(side, price_ticks, size_lots, instrument);
        self.fees_quote += fee_quote;
        self.traded_tick_lots += price_ticks as i128 * size_lots as i128;
        self.fills += 1;
        match liquidity {
            Liquidity::Maker => self.maker_volume_lots += size_lots,
            Liquidity::Taker => self.taker_volume_lots += size_lots,
        }
    }

    /// Books a position correction found by reconciliation at the given price, so
    /// the PnL identity still holds (the difference is a fill we never saw).
    pub fn apply_adjustment(&mut self, delta_lots: Lots, price_ticks: Ticks, instrument: &Instrument) {
        if delta_lots == 0 {
            return;
        }
        let side = if delta_lots > 0 { Side::Buy } else { Side::Sell };
        self.book_trade(side, price_ticks, delta_lots.abs(), instrument);
        self.adjustment_lots += delta_lots;
    }

    /// Cash in tick×lot units: −Σ side·price·size over fills and adjustments.
    pub fn cash_tick_lots(&self) -> i128 {
        self.cash_tick_lots
    }

    /// Total PnL in quote currency, marking the position at `mark_ticks`.
    pub fn pnl_quote(&self, mark_ticks: f64, instrument: &Instrument) -> f64 {
        (self.cash_tick_lots_f64 + self.position_lots as f64 * mark_ticks) * instrument.quote_per_tick_lot() - self.fees_quote
    }

    /// Unrealized PnL (before fees) of the open position at `mark_ticks`, quote currency.
    pub fn unrealized_quote(&self, mark_ticks: f64, instrument: &Instrument) -> f64 {
        self.position_lots as f64 * (mark_ticks - self.average_entry_ticks) * instrument.quote_per_tick_lot()
    }

    /// Traded notional, quote currency.
    pub fn traded_notional_quote(&self, instrument: &Instrument) -> f64 {
        self.traded_tick_lots as f64 * instrument.quote_per_tick_lot()
    }

    fn book_trade(&mut self, side: Side, price_ticks: Ticks, size_lots: Lots, instrument: &Instrument) {
        let signed = side.sign() * size_lots;
        self.cash_tick_lots -= signed as i128 * price_ticks as i128;
        self.cash_tick_lots_f64 = self.cash_tick_lots as f64;
        let old = self.position_lots;
        let new = old + signed;
        if old == 0 || old.signum() == signed.signum() {
            let total = old.abs() + size_lots;
            self.average_entry_ticks = (self.average_entry_ticks * old.abs() as f64 + price_ticks as f64 * size_lots as f64) / total as f64;
        } else {
            let closed = size_lots.min(old.abs());
            self.realized_quote +=
                old.signum() as f64 * closed as f64 * (price_ticks as f64 - self.average_entry_ticks) * instrument.quote_per_tick_lot();
            if new.signum() != old.signum() {
                self.average_entry_ticks = if new == 0 { 0.0 } else { price_ticks as f64 };
            }
        }
        self.position_lots = new;
    }
}

/// One fill with its analytics; complete once both markouts are known.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FillRecord {
    /// When the engine saw the fill.
    pub time_ns: Nanos,
    /// Our order.
    pub order_id: ClientOrderId,
    /// The venue's fill id.
    pub fill_id: u64,
    /// Side of our order.
    pub side: Side,
    /// Price, ticks.
    pub price_ticks: Ticks,
    /// Size, lots.
    pub size_lots: Lots,
    /// Maker or taker.
    pub liquidity: Liquidity,
    /// Fee, quote currency.
    pub fee_quote: f64,
    /// Fair value when the fill was seen, fractional ticks.
    pub fair_value_ticks: f64,
    /// Position after the fill, lots.
    pub position_after_lots: Lots,
    /// Edge against fair value, bps (positive: bought below or sold above fair value).
    pub spread_captured_bps: f64,
    /// Fair-value move against the fill after 1 s, bps (positive is adverse).
    pub adverse_1s_bps: Option<f64>,
    /// Fair-value move against the fill after 10 s, bps (positive is adverse).
    pub adverse_10s_bps: Option<f64>,
}

impl FillRecord {
    /// Cost of a taker fill against fair value, bps (the negative of spread captured).
    pub fn slippage_bps(&self) -> f64 {
        -self.spread_captured_bps
    }
}

/// Signed move of fair value against a fill, in bps of the fill-time fair value.
fn adverse_bps(side: Side, fair_value_at_fill: f64, fair_value_now: f64) -> f64 {
    if fair_value_at_fill <= 0.0 {
        return 0.0;
    }
    side.sign() as f64 * (fair_value_at_fill - fair_value_now) / fair_value_at_fill * 10_000.0
}

/// Fills waiting for their markouts, in time order.
#[derive(Clone, Debug, Default)]
pub struct Markouts {
    pending: VecDeque<FillRecord>,
    short_resolved: usize,
}

impl Markouts {
    /// Starts tracking a fill.
    pub fn push(&mut self, record: FillRecord) {
        self.pending.push_back(record);
    }

    /// Resolves markouts whose horizon has passed, at fair value `fair_value_ticks`,
    /// and hands completed records to `complete`.
    pub fn resolve(&mut self, now_ns: Nanos, fair_value_ticks: f64, mut complete: impl FnMut(FillRecord)) {
        while let Some(record) = self.pending.get_mut(self.short_resolved) {
            if now_ns < record.time_ns + MARKOUT_SHORT_MS * NANOS_PER_MS {
                break;
            }
            record.adverse_1s_bps = Some(adverse_bps(record.side, record.fair_value_ticks, fair_value_ticks));
            self.short_resolved += 1;
        }
        while let Some(record) = self.pending.front() {
            if now_ns < record.time_ns + MARKOUT_LONG_MS * NANOS_PER_MS || record.adverse_1s_bps.is_none() {
                break;
            }
            let mut record = self.pending.pop_front().expect("front exists");
            self.short_resolved -= 1;
            record.adverse_10s_bps = Some(adverse_bps(record.side, record.fair_value_ticks, fair_value_ticks));
            complete(record);
        }
    }

    /// Ends the run: every pending fill is marked at `fair_value_ticks` and handed out.
    pub fn flush(&mut self, fair_value_ticks: f64, mut complete: impl FnMut(FillRecord)) {
        for mut record in self.pending.drain(..) {
            let adverse = adverse_bps(record.side, record.fair_value_ticks, fair_value_ticks);
            record.adverse_1s_bps.get_or_insert(adverse);
            record.adverse_10s_bps.get_or_insert(adverse);
            complete(record);
        }
        self.short_resolved = 0;
    }

    /// Fills still waiting.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }
}

/// Builds the record of a fill seen at fair value `fair_value_ticks`.
pub fn fill_record(fill: &crate::port::Fill, time_ns: Nanos, fair_value_ticks: f64, position_after_lots: Lots) -> FillRecord {
    let spread_captured_bps = if fair_value_ticks > 0.0 {
        fill.side.sign() as f64 * (fair_value_ticks - fill.price_ticks as f64) / fair_value_ticks * 10_000.0
    } else {
        0.0
    };
    FillRecord {
        time_ns,
        order_id: fill.order_id,
        fill_id: fill.fill_id,
        side: fill.side,
        price_ticks: fill.price_ticks,
        size_lots: fill.size_lots,
        liquidity: fill.liquidity,
        fee_quote: fill.fee_quote,
        fair_value_ticks,
        position_after_lots,
        spread_captured_bps,
        adverse_1s_bps: None,
        adverse_10s_bps: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_realizes_pnl_and_keeps_identity() {
        let instrument = Instrument::default();
        let mut accounting = Accounting::default();
        accounting.apply_fill(Side::Buy, 1_000, 10, Liquidity::Maker, -0.01, &instrument);
        accounting.apply_fill(Side::Sell, 1_010, 4, Liquidity::Taker, 0.02, &instrument);
        assert_eq!(accounting.position_lots, 6);
        let per = instrument.quote_per_tick_lot();
        assert!((accounting.realized_quote - 4.0 * 10.0 * per).abs() < 1e-12);
        let pnl = accounting.pnl_quote(1_005.0, &instrument);
        let expected = (-10_000.0 + 4_040.0 + 6.0 * 1_005.0) * per - 0.01;
        assert!((pnl - expected).abs() < 1e-12);
        let unrealized = accounting.unrealized_quote(1_005.0, &instrument);
        assert!((accounting.realized_quote + unrealized - accounting.fees_quote - pnl).abs() < 1e-9);
    }

    #[test]
    fn flipping_through_zero_resets_the_entry() {
        let instrument = Instrument::default();
        let mut accounting = Accounting::default();
        accounting.apply_fill(Side::Buy, 100, 5, Liquidity::Maker, 0.0, &instrument);
        accounting.apply_fill(Side::Sell, 110, 8, Liquidity::Maker, 0.0, &instrument);
        assert_eq!(accounting.position_lots, -3);
        let unrealized = accounting.unrealized_quote(110.0, &instrument);
        assert!(unrealized.abs() < 1e-12);
    }

    #[test]
    fn markouts_resolve_at_one_and_ten_seconds() {
        let fill = crate::port::Fill {
            order_id: ClientOrderId(1),
            fill_id: 1,
            side: Side::Buy,
            price_ticks: 999,
            size_lots: 1,
            liquidity: Liquidity::Maker,
            fee_quote: 0.0,
        };
        let mut markouts = Markouts::default();
        markouts.push(fill_record(&fill, 0, 1_000.0, 1));
        let mut done = Vec::new();
        markouts.resolve(999_999_999, 990.0, |r| done.push(r));
        assert!(done.is_empty());
        markouts.resolve(1_000_000_000, 990.0, |r| done.push(r));
        markouts.resolve(10_000_000_000, 1_010.0, |r| done.push(r));
        assert_eq!(done.len(), 1);
        let record = &done[0];
        assert!((record.adverse_1s_bps.unwrap() - 100.0).abs() < 1e-9, "price fell after a buy: adverse");
        assert!((record.adverse_10s_bps.unwrap() + 100.0).abs() < 1e-9);
        assert!(record.spread_captured_bps > 0.0);
        assert_eq!(markouts.pending(), 0);
    }
}
