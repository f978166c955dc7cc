//! Units at the engine's edges: integer ticks and lots, sides, order ids, and the
//! [`Instrument`] that converts between them and quote-currency amounts.
//!
//! Everything inside the engine is priced in integer ticks and sized in integer lots;
//! floating point appears only where a quote-currency amount is needed for analytics
//! (PnL, fees, basis points). This file does not know about books, orders or venues.

use serde::{Deserialize, Serialize};

use crate::error::InstrumentError;

/// A price in integer ticks of the instrument (price = ticks × `tick_size`).
pub type Ticks = i64;

/// A size in integer lots of the instrument (quantity = lots × `lot_size`).
pub type Lots = i64;

/// Nanoseconds on the caller's clock (virtual in simulation, wall in live).
pub type Nanos = i64;

/// The largest price the port carries, ticks (2^53: a price of a million on a grid
/// of 10^-9 fits). Prices are at least 1. The engine does not check it (its inputs
/// come from a venue adapter or the dock, which never send more); whoever reads
/// events from outside — a journal, later a venue — refuses what lies beyond, and a
/// property test holds the engine to every sequence of events within it.
pub const PRICE_TICKS_MAX: Ticks = 1 << 53;

/// The largest size the port carries, lots (2^53); sizes are at least 0 (a level's
/// 0 deletes it) and a trade's or fill's at least 1.
pub const SIZE_LOTS_MAX: Lots = 1 << 53;

/// Nanoseconds in one millisecond.
pub const NANOS_PER_MS: Nanos = 1_000_000;

/// Nanoseconds in one second.
pub const NANOS_PER_S: Nanos = 1_000_000_000;

/// Which side of the book an order or a level is on.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// Bid side: buying.
    Buy,
    /// Ask side: selling.
    Sell,
}

impl Side {
    /// +1 for a buy, -1 for a sell: the sign of the position change of a fill.
    pub fn sign(self) -> i64 {
        match self {
            Side::Buy => 1,
            Side::Sell => -1,
        }
    }

    /// The other side.
    pub fn opposite(self) -> Side {
        match self {
            Side::Buy => Side::Sell,
            Side::Sell => Side::Buy,
        }
    }

    /// Index 0 for buy, 1 for sell, for two-element per-side arrays.
    pub fn index(self) -> usize {
        match self {
            Side::Buy => 0,
            Side::Sell => 1,
        }
    }

    /// Lowercase name, as used in CSV and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Buy => "buy",
            Side::Sell => "sell",
        }
    }
}

/// The engine's own id for an order (client order id), unique within one engine run.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ClientOrderId(pub u64);

/// Static facts about the traded instrument, used to convert at the edges.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Instrument {
    /// Venue symbol, for reports only.
    pub symbol: String,
    /// Quote currency per tick (e.g. 0.01 USDT).
    pub tick_size: f64,
    /// Base-asset quantity per lot (e.g. 0.001 BTC).
    pub lot_size: f64,
    /// Smallest order notional the venue accepts, in quote currency.
    pub min_notional: f64,
    /// Fee for liquidity-adding fills in basis points of notional; negative is a rebate.
    pub maker_fee_bps: f64,
    /// Fee for liquidity-taking fills in basis points of notional.
    pub taker_fee_bps: f64,
}

impl Default for Instrument {
    fn default() -> Self {
        Instrument {
            symbol: "BTCUSDT".to_string(),
            tick_size: 0.1,
            lot_size: 0.001,
            min_notional: 5.0,
            maker_fee_bps: -0.5,
            taker_fee_bps: 4.0,
        }
    }
}

impl Instrument {
    /// Checks that sizes are positive and finite and fees are plausible.
    pub fn validate(&self) -> Result<(), InstrumentError> {
        let checks: [(&'static str, f64, f64, f64); 5] = [
            ("tick_size", self.tick_size, 1e-12, 1e9),
            ("lot_size", self.lot_size, 1e-12, 1e9),
            ("min_notional", self.min_notional, 0.0, 1e12),
            ("maker_fee_bps", self.maker_fee_bps, -100.0, 100.0),
            ("taker_fee_bps", self.taker_fee_bps, -100.0, 100.0),
        ];
        for (field, value, min, max) in checks {
            if !value.is_finite() || value < min || value > max {
                return Err(InstrumentError::OutOfRange { field, value, min, max });
            }
        }
        Ok(())
    }

    /// Price in quote currency of a tick count.
    pub fn price(&self, price_ticks: Ticks) -> f64 {
        price_ticks as f64 * self.tick_size
    }

    /// Fractional tick count of a quote-currency price.
    pub fn ticks_f64(&self, price: f64) -> f64 {
        price / self.tick_size
    }

    /// Base-asset quantity of a lot count.
    pub fn quantity(&self, size_lots: Lots) -> f64 {
        size_lots as f64 * self.lot_size
    }

    /// Quote-currency value of one tick × one lot.
    pub fn quote_per_tick_lot(&self) -> f64 {
        self.tick_size * self.lot_size
    }

    /// Notional in quote currency of `size_lots` at `price_ticks`.
    pub fn notional(&self, price_ticks: Ticks, size_lots: Lots) -> f64 {
        price_ticks as f64 * size_lots as f64 * self.quote_per_tick_lot()
    }

    /// Fee in quote currency for a fill of the given notional; negative is a rebate.
    pub fn fee(&self, notional: f64, is_maker: bool) -> f64 {
        let bps = if is_maker { self.maker_fee_bps } else { self.taker_fee_bps };
        notional * bps / 10_000.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_round_trip_at_the_edges() {
        let instrument = Instrument::default();
        assert!((instrument.price(600_000) - 60_000.0).abs() < 1e-9);
        assert!((instrument.notional(600_000, 10) - 600.0).abs() < 1e-9);
        assert!((instrument.fee(600.0, false) - 0.24).abs() < 1e-12);
        assert!(instrument.fee(600.0, true) < 0.0, "negative maker fee is a rebate");
    }

    #[test]
    fn validate_names_the_field() {
        let instrument = Instrument { tick_size: 0.0, ..Instrument::default() };
        let message = instrument.validate().unwrap_err().to_string();
        assert!(message.contains("tick_size"), "{message}");
    }

    #[test]
    fn side_helpers_agree() {
        assert_eq!(Side::Buy.sign(), -Side::Sell.sign());
        assert_eq!(Side::Buy.opposite(), Side::Sell);
        assert_ne!(Side::Buy.index(), Side::Sell.index());
    }
}
