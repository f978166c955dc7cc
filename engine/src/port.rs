//! The engine's port: the events it consumes and the commands it emits. The
//! simulator (`sim/`) and, later, a live venue adapter implement the other side of
//! this port; the engine cannot tell them apart.
//!
//! Types are small, serde-serializable and versioned by [`PORT_VERSION`]: journals of
//! `(now_ns, Event)` and `(now_ns, Command)` are replayed, so a change that alters
//! their encoding must bump the version. This file holds data only, no behaviour.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::params::{EngineParams, ParamValue};
use crate::units::{ClientOrderId, Lots, Nanos, Side, Ticks};

/// Version of the event and command encoding; bump on any incompatible change.
pub const PORT_VERSION: u32 = 1;

/// One price level: a price and the total size resting there.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Level {
    /// Price, ticks.
    pub price_ticks: Ticks,
    /// Total size at the price, lots.
    pub size_lots: Lots,
}

/// A change to one level of an L2 book; `size_lots == 0` deletes the level.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LevelUpdate {
    /// Side of the level.
    pub side: Side,
    /// Price, ticks.
    pub price_ticks: Ticks,
    /// New total size at the price, lots (0 deletes).
    pub size_lots: Lots,
}

/// Market data as the engine receives it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MarketData {
    /// A full L2 book; replaces whatever the engine knew. Levels best first.
    Snapshot {
        /// Bid levels, highest price first.
        bids: Vec<Level>,
        /// Ask levels, lowest price first.
        asks: Vec<Level>,
    },
    /// Level changes applied together (one venue message).
    Delta {
        /// The changes, in venue order.
        updates: Vec<LevelUpdate>,
    },
    /// A trade printed on the venue (anyone's).
    Trade {
        /// Trade price, ticks.
        price_ticks: Ticks,
        /// Trade size, lots.
        size_lots: Lots,
        /// Side of the aggressor (buy = someone lifted the ask).
        aggressor: Side,
    },
    /// Best bid and offer (a venue's top-of-book stream).
    BestBidOffer {
        /// Best bid.
        bid: Level,
        /// Best ask.
        ask: Level,
    },
}

/// How long an order may rest.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeInForce {
    /// Rests; rejected by the venue if it would cross (maker only).
    PostOnly,
    /// Rests until canceled; may take liquidity on arrival.
    GoodTillCancel,
    /// Takes what it can on arrival; the rest is canceled.
    ImmediateOrCancel,
}

/// Whether a fill added or removed liquidity.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Liquidity {
    /// Our resting order was hit.
    Maker,
    /// Our order hit resting liquidity.
    Taker,
}

/// Why the venue refused an order, a cancel or a replace.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectReason {
    /// A post-only order would have crossed the book.
    PostOnlyWouldCross,
    /// Price not on the tick grid or not positive.
    InvalidPrice,
    /// Size not a positive whole number of lots.
    InvalidSize,
    /// Notional below the venue minimum.
    BelowMinNotional,
    /// The venue's rate limit was hit.
    RateLimited,
    /// Trading is halted.
    Halted,
    /// The session is disconnected.
    Disconnected,
    /// The venue refused for its own reasons (overload, reject storm).
    VenueBusy,
    /// The venue does not know the order (already done or never seen).
    UnknownOrder,
    /// The order would trade with one of our own.
    SelfTrade,
}

/// One fill of one of our orders, as the venue reports it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Fill {
    /// Our order.
    pub order_id: ClientOrderId,
    /// The venue's unique id of this fill; a second report with the same id is a duplicate.
    pub fill_id: u64,
    /// Side of our order.
    pub side: Side,
    /// Fill price, ticks.
    pub price_ticks: Ticks,
    /// Fill size, lots.
    pub size_lots: Lots,
    /// Maker or taker.
    pub liquidity: Liquidity,
    /// Fee charged in quote currency; negative is a rebate.
    pub fee_quote: f64,
}

/// An order as the venue sees it, in a reconnect snapshot.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VenueOrder {
    /// Our id of the order.
    pub order_id: ClientOrderId,
    /// Side.
    pub side: Side,
    /// Resting price, ticks.
    pub price_ticks: Ticks,
    /// Size still open, lots.
    pub leaves_lots: Lots,
}

/// What the venue tells us about our orders.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum VenueReport {
    /// A new order was accepted and rests (or is being matched).
    Accepted {
        /// Our order.
        order_id: ClientOrderId,
    },
    /// A new order was refused.
    Rejected {
        /// Our order.
        order_id: ClientOrderId,
        /// Why.
        reason: RejectReason,
    },
    /// A fill, full or partial.
    Filled(Fill),
    /// The order is done without (further) fills: cancel ack, IOC remainder, venue cancel.
    Canceled {
        /// Our order.
        order_id: ClientOrderId,
    },
    /// A cancel was refused (too late, unknown order).
    CancelRejected {
        /// Our order.
        order_id: ClientOrderId,
        /// Why.
        reason: RejectReason,
    },
    /// A replace took effect: the order now rests at this price with this much open.
    Replaced {
        /// Our order.
        order_id: ClientOrderId,
        /// New price, ticks.
        price_ticks: Ticks,
        /// Size now open, lots.
        leaves_lots: Lots,
    },
    /// A replace was refused; the order keeps its old price and size.
    ReplaceRejected {
        /// Our order.
        order_id: ClientOrderId,
        /// Why.
        reason: RejectReason,
    },
    /// The venue's full view of our open orders and position (after a reconnect).
    OpenOrders {
        /// Every order the venue holds open for us.
        orders: Vec<VenueOrder>,
        /// Our position at the venue, lots.
        position_lots: Lots,
    },
}

/// Names a timer the engine asked for.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TimerId(pub u32);

/// The engine's periodic decision timer.
pub const DECISION_TIMER: TimerId = TimerId(1);

/// What an operator (or the soak harness) tells the engine.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Control {
    /// Engage (true) or reset (false) the kill switch. Resetting also clears a drawdown kill.
    KillSwitch {
        /// True to stop trading, false to resume.
        engaged: bool,
    },
    /// Change parameters by name; validated as a whole, all or nothing.
    SetParams {
        /// Parameter name to new value.
        changes: BTreeMap<String, ParamValue>,
    },
    /// Replace all parameters with a named profile's (the caller reads the profile file).
    RevertToProfile {
        /// Profile name, for reports.
        profile: String,
        /// The profile's parameters.
        params: Box<EngineParams>,
    },
}

/// Everything the engine consumes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// Market data.
    Market(MarketData),
    /// A report about our orders.
    Venue(VenueReport),
    /// A timer the engine set has fired.
    Timer {
        /// Which timer.
        timer_id: TimerId,
    },
    /// An operator control.
    Control(Control),
}

/// A new order.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewOrder {
    /// Our id, unique within the run.
    pub order_id: ClientOrderId,
    /// Side.
    pub side: Side,
    /// Limit price, ticks.
    pub price_ticks: Ticks,
    /// Size, lots.
    pub size_lots: Lots,
    /// Time in force.
    pub time_in_force: TimeInForce,
}

/// Everything the engine emits.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Command {
    /// Send a new order.
    Place(NewOrder),
    /// Cancel an order.
    Cancel {
        /// Our order.
        order_id: ClientOrderId,
    },
    /// Move an order to a new price and total quantity (queue priority is the venue's
    /// rule). The total includes what has already filled, as on venues' amend
    /// endpoints, so fills racing the replace can never push the order past it; the
    /// venue rejects a total at or below the filled quantity.
    Replace {
        /// Our order.
        order_id: ClientOrderId,
        /// New price, ticks.
        price_ticks: Ticks,
        /// New total quantity (filled + open), lots.
        total_size_lots: Lots,
    },
    /// Deliver `Event::Timer { timer_id }` at `at_ns` (replaces an earlier one of the same id).
    SetTimer {
        /// Which timer.
        timer_id: TimerId,
        /// When, on the caller's clock.
        at_ns: Nanos,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_and_commands_round_trip_through_json() {
        let event = Event::Venue(VenueReport::Filled(Fill {
            order_id: ClientOrderId(7),
            fill_id: 99,
            side: Side::Buy,
            price_ticks: 600_000,
            size_lots: 3,
            liquidity: Liquidity::Maker,
            fee_quote: -0.009,
        }));
        let text = serde_json::to_string(&event).unwrap();
        assert_eq!(serde_json::from_str::<Event>(&text).unwrap(), event);
        let command = Command::Replace { order_id: ClientOrderId(7), price_ticks: 600_001, total_size_lots: 5 };
        let text = serde_json::to_string(&command).unwrap();
        assert!(text.contains("\"type\":\"replace\""), "{text}");
        assert_eq!(serde_json::from_str::<Command>(&text).unwrap(), command);
    }
}
