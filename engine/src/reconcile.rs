//! Reconciliation: compares the engine's view of its orders and position with the
//! venue's and grades each mismatch. Critical mismatches are the ones that mean
//! money is at risk (a position difference, an order resting at the venue that the
//! engine does not know, an order the engine believes rests but the venue lost);
//! differences explained by a request still in flight are not critical.
//!
//! This file only compares; the engine decides what to do about the findings.

use serde::{Deserialize, Serialize};

use crate::orders::{OrderRecord, OrderState};
use crate::port::VenueOrder;
use crate::units::{ClientOrderId, Lots, Ticks};

/// One difference between the engine and the venue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Mismatch {
    /// Positions differ.
    Position {
        /// Engine's position, lots.
        engine_lots: Lots,
        /// Venue's position, lots.
        venue_lots: Lots,
    },
    /// The venue holds an order the engine does not consider live.
    UnknownAtEngine {
        /// The order.
        order_id: ClientOrderId,
    },
    /// The engine considers an order live that the venue does not hold.
    MissingAtVenue {
        /// The order.
        order_id: ClientOrderId,
        /// Engine's state of it.
        engine_state: OrderState,
    },
    /// Both hold the order, at different prices or sizes.
    OrderDiffers {
        /// The order.
        order_id: ClientOrderId,
        /// Engine's price and open size.
        engine: (Ticks, Lots),
        /// Venue's price and open size.
        venue: (Ticks, Lots),
    },
}

/// A mismatch and its grade.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GradedMismatch {
    /// What differs.
    pub mismatch: Mismatch,
    /// True when money is at risk.
    pub critical: bool,
}

/// All findings of one reconciliation.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReconciliationReport {
    /// Every mismatch, positions first, then orders by id.
    pub mismatches: Vec<GradedMismatch>,
}

impl ReconciliationReport {
    /// Number of critical mismatches.
    pub fn critical_count(&self) -> usize {
        self.mismatches.iter().filter(|graded| graded.critical).count()
    }
}

/// Compares the engine's live orders and position with the venue's.
pub fn reconcile<'a>(
    engine_orders: impl Iterator<Item = &'a OrderRecord>,
    engine_position_lots: Lots,
    venue_orders: &[VenueOrder],
    venue_position_lots: Lots,
) -> ReconciliationReport {
    let mut mismatches = Vec::new();
    if engine_position_lots != venue_position_lots {
        mismatches.push(GradedMismatch {
            mismatch: Mismatch::Position { engine_lots: engine_position_lots, venue_lots: venue_position_lots },
            critical: true,
        });
    }
    let mut venue_sorted: Vec<&VenueOrder> = venue_orders.iter().collect();
    venue_sorted.sort_by_key(|order| order.order_id);
    let mut engine_sorted: Vec<&OrderRecord> = engine_orders.collect();
    engine_sorted.sort_by_key(|order| order.order_id);
    let mut order_findings = Vec::new();
    for order in &engine_sorted {
        match venue_sorted.binary_search_by_key(&order.order_id, |venue| venue.order_id) {
            Ok(index) => {
                let venue = venue_sorted[index];
                if (order.price_ticks, order.leaves_lots) != (venue.price_ticks, venue.leaves_lots) {
                    order_findings.push(GradedMismatch {
                        mismatch: Mismatch::OrderDiffers {
                            order_id: order.order_id,
                            engine: (order.price_ticks, order.leaves_lots),
                            venue: (venue.price_ticks, venue.leaves_lots),
                        },
                        critical: order.pending_replace.is_none(),
                    });
                }
            }
            Err(_) => order_findings.push(GradedMismatch {
                mismatch: Mismatch::MissingAtVenue { order_id: order.order_id, engine_state: order.state },
                critical: order.is_settled(),
            }),
        }
    }
    for venue in &venue_sorted {
        if engine_sorted.binary_search_by_key(&venue.order_id, |order| order.order_id).is_err() {
            order_findings.push(GradedMismatch { mismatch: Mismatch::UnknownAtEngine { order_id: venue.order_id }, critical: true });
        }
    }
    order_findings.sort_by_key(|graded| match graded.mismatch {
        Mismatch::UnknownAtEngine { order_id } | Mismatch::MissingAtVenue { order_id, .. } | Mismatch::OrderDiffers { order_id, .. } => {
            order_id
        }
        Mismatch::Position { .. } => ClientOrderId(0),
    });
    mismatches.extend(order_findings);
    ReconciliationReport { mismatches }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::orders::OrderPurpose;
    use crate::port::TimeInForce;
    use crate::units::Side;

    fn record(id: u64, state: OrderState) -> OrderRecord {
        OrderRecord {
            order_id: ClientOrderId(id),
            side: Side::Buy,
            price_ticks: 100,
            filled_lots: 0,
            leaves_lots: 5,
            time_in_force: TimeInForce::PostOnly,
            purpose: OrderPurpose::Quote,
            state,
            acknowledged: state != OrderState::PendingNew,
            pending_replace: None,
            last_request_ns: 0,
            timeout_counted: false,
        }
    }

    fn venue(id: u64, price_ticks: Ticks, leaves_lots: Lots) -> VenueOrder {
        VenueOrder { order_id: ClientOrderId(id), side: Side::Buy, price_ticks, leaves_lots }
    }

    #[test]
    fn agreement_has_no_mismatch() {
        let orders = [record(1, OrderState::Open)];
        let report = reconcile(orders.iter(), 3, &[venue(1, 100, 5)], 3);
        assert!(report.mismatches.is_empty());
    }

    #[test]
    fn grades_each_kind_of_difference() {
        let orders = [record(1, OrderState::Open), record(2, OrderState::PendingNew), record(3, OrderState::Open)];
        let report = reconcile(orders.iter(), 3, &[venue(3, 101, 5), venue(9, 100, 1)], 4);
        let kinds: Vec<(bool, &Mismatch)> = report.mismatches.iter().map(|g| (g.critical, &g.mismatch)).collect();
        assert_eq!(report.mismatches.len(), 5, "{kinds:?}");
        assert!(matches!(kinds[0], (true, Mismatch::Position { .. })));
        assert!(matches!(kinds[1], (true, Mismatch::MissingAtVenue { .. })), "open order lost by the venue");
        assert!(matches!(kinds[2], (false, Mismatch::MissingAtVenue { .. })), "still in flight");
        assert!(matches!(kinds[3], (true, Mismatch::OrderDiffers { .. })));
        assert!(matches!(kinds[4], (true, Mismatch::UnknownAtEngine { .. })));
        assert_eq!(report.critical_count(), 4);
    }
}
