//! Property: whatever the other participants and we do, the exchange's book is
//! never crossed, our orders' sizes are conserved (open + filled = placed), and the
//! venue's position equals the sum of our fills.

use drydock_engine::port::{NewOrder, TimeInForce};
use drydock_engine::{ClientOrderId, Command, Instrument, Side, VenueReport};
use drydock_sim::exchange::{BpsFees, ExchangeOutput, MockExchange};
use proptest::prelude::*;
use rand::SeedableRng;

#[derive(Clone, Debug)]
enum Op {
    Limit { buy: bool, offset: i64, size: i64 },
    Cancel { buy: bool, offset: i64, size: i64 },
    Market { buy: bool, size: i64 },
    Ours { buy: bool, offset: i64, size: i64, ioc: bool },
    CancelOurs { pick: u64 },
    ReplaceOurs { pick: u64, offset: i64, total: i64 },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => (any::<bool>(), -20i64..20, 1i64..50).prop_map(|(buy, offset, size)| Op::Limit { buy, offset, size }),
        2 => (any::<bool>(), -20i64..20, 1i64..50).prop_map(|(buy, offset, size)| Op::Cancel { buy, offset, size }),
        2 => (any::<bool>(), 1i64..120).prop_map(|(buy, size)| Op::Market { buy, size }),
        2 => (any::<bool>(), -10i64..10, 1i64..30, any::<bool>()).prop_map(|(buy, offset, size, ioc)| Op::Ours { buy, offset, size, ioc }),
        1 => (0u64..40).prop_map(|pick| Op::CancelOurs { pick }),
        1 => (0u64..40, -10i64..10, 1i64..40).prop_map(|(pick, offset, total)| Op::ReplaceOurs { pick, offset, total }),
    ]
}

fn side(buy: bool) -> Side {
    if buy { Side::Buy } else { Side::Sell }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn book_never_crosses_and_fills_are_conserved(ops in prop::collection::vec(op(), 1..300)) {
        let instrument = Instrument { min_notional: 0.0, ..Instrument::default() };
        let mut exchange = MockExchange::new(instrument, BpsFees { maker_bps: 0.0, taker_bps: 0.0 }, 1_000_000, rand_chacha::ChaCha8Rng::seed_from_u64(1));
        let mid = 600_000i64;
        let mut next_id = 1u64;
        let mut filled_sum = 0i64;
        for (step, op) in ops.into_iter().enumerate() {
            let mut out = ExchangeOutput::default();
            let now = step as i64 * 1_000;
            match op {
                Op::Limit { buy, offset, size } => exchange.others_limit(side(buy), mid + offset, size, &mut out),
                Op::Cancel { buy, offset, size } => {
                    exchange.others_cancel(side(buy), mid + offset, size, &mut out);
                }
                Op::Market { buy, size } => exchange.others_market(side(buy), size, &mut out),
                Op::Ours { buy, offset, size, ioc } => {
                    let time_in_force = if ioc { TimeInForce::ImmediateOrCancel } else { TimeInForce::PostOnly };
                    let order = NewOrder { order_id: ClientOrderId(next_id), side: side(buy), price_ticks: mid + offset, size_lots: size, time_in_force };
                    next_id += 1;
                    exchange.on_command(now, &Command::Place(order), &mut out);
                }
                Op::CancelOurs { pick } => exchange.on_command(now, &Command::Cancel { order_id: ClientOrderId(pick) }, &mut out),
                Op::ReplaceOurs { pick, offset, total } => {
                    let command = Command::Replace { order_id: ClientOrderId(pick), price_ticks: mid + offset, total_size_lots: total };
                    exchange.on_command(now, &command, &mut out);
                }
            }
            prop_assert!(exchange.book().is_uncrossed(), "crossed after step {step}");
            for report in &out.reports {
                if let VenueReport::Filled(fill) = report {
                    filled_sum += fill.side.sign() * fill.size_lots;
                }
            }
            prop_assert_eq!(exchange.position_lots(), filled_sum);
        }
    }
}

/// One step of a replayed market: a recorded book state (as the diff from the last
/// one), a recorded trade, a price-shock shift of the whole book, or our order.
#[derive(Clone, Debug)]
enum ReplayOp {
    Book { mid: i64, half_spread: i64, sizes: Vec<i64> },
    Trade { buy: bool, offset: i64, size: i64 },
    Shift { ticks: i64 },
    Ours { buy: bool, offset: i64, size: i64 },
    CancelOurs { pick: u64 },
}

fn replay_op() -> impl Strategy<Value = ReplayOp> {
    prop_oneof![
        4 => (-8i64..8, 1i64..4, prop::collection::vec(0i64..40, 6)).prop_map(|(mid, half_spread, sizes)| ReplayOp::Book { mid, half_spread, sizes }),
        3 => (any::<bool>(), -6i64..6, 1i64..60).prop_map(|(buy, offset, size)| ReplayOp::Trade { buy, offset, size }),
        1 => (-10i64..10).prop_map(|ticks| ReplayOp::Shift { ticks }),
        3 => (any::<bool>(), -8i64..8, 1i64..20).prop_map(|(buy, offset, size)| ReplayOp::Ours { buy, offset, size }),
        1 => (0u64..40).prop_map(|pick| ReplayOp::CancelOurs { pick }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Whatever a recording does (including shifted books and trades through our
    /// prices), under every queue model the book never crosses, fills never exceed
    /// what we placed, and the venue's position equals the sum of our fills.
    #[test]
    fn replayed_book_never_crosses_and_fills_are_conserved(ops in prop::collection::vec(replay_op(), 1..200), model in 0usize..3) {
        use drydock_sim::config::{QueueConfig, QueueModelKind};
        use drydock_sim::replay::tape::TapeLevel;
        let instrument = Instrument { min_notional: 0.0, ..Instrument::default() };
        let mut exchange = MockExchange::new(instrument, BpsFees { maker_bps: 0.0, taker_bps: 0.0 }, 1_000_000, rand_chacha::ChaCha8Rng::seed_from_u64(1));
        let kinds = [QueueModelKind::Conservative, QueueModelKind::Probabilistic, QueueModelKind::Proportional];
        exchange.set_queue_model(QueueConfig { model: kinds[model], ..QueueConfig::default() }.build());
        let base = 600_000i64;
        let (mut recorded, mut shift) = (Vec::<TapeLevel>::new(), 0i64);
        let (mut next_id, mut placed, mut filled_abs, mut filled_sum) = (1u64, 0i64, 0i64, 0i64);
        for (step, op) in ops.into_iter().enumerate() {
            let mut out = ExchangeOutput::default();
            let op_kind = match &op {
                ReplayOp::Book { .. } => "book",
                ReplayOp::Shift { .. } => "shift",
                _ => "other",
            };
            match op {
                ReplayOp::Book { mid, half_spread, sizes } => {
                    let mut state: Vec<TapeLevel> = Vec::new();
                    for (index, size) in sizes.iter().enumerate() {
                        let (side, price) = if index < 3 {
                            (Side::Buy, base + mid - half_spread - index as i64)
                        } else {
                            (Side::Sell, base + mid + half_spread + (index as i64 - 3))
                        };
                        state.push(TapeLevel { side, price_ticks: price, size_lots: *size });
                    }
                    // The diff: every old level not in the new state goes to 0.
                    let mut diff: Vec<TapeLevel> = recorded
                        .iter()
                        .filter(|old| !state.iter().any(|new| (new.side, new.price_ticks) == (old.side, old.price_ticks)))
                        .map(|old| TapeLevel { size_lots: 0, ..*old })
                        .collect();
                    diff.extend(state.iter().copied());
                    exchange.replay_depth(&diff, shift, &mut out);
                    recorded = state.into_iter().filter(|level| level.size_lots > 0).collect();
                }
                ReplayOp::Trade { buy, offset, size } => exchange.replay_trade(side(buy), base + offset + shift, size, &mut out),
                ReplayOp::Shift { ticks } => {
                    shift = ticks;
                    exchange.replay_book(&recorded, shift, &mut out);
                }
                ReplayOp::Ours { buy, offset, size } => {
                    let order = NewOrder { order_id: ClientOrderId(next_id), side: side(buy), price_ticks: base + offset, size_lots: size, time_in_force: TimeInForce::PostOnly };
                    next_id += 1;
                    exchange.on_command(step as i64, &Command::Place(order), &mut out);
                    if matches!(out.reports.first(), Some(VenueReport::Accepted { .. })) {
                        placed += size;
                    }
                }
                ReplayOp::CancelOurs { pick } => exchange.on_command(step as i64, &Command::Cancel { order_id: ClientOrderId(pick) }, &mut out),
            }
            prop_assert!(exchange.book().is_uncrossed(), "crossed after step {step}");
            if matches!(op_kind, "book" | "shift") {
                for level in &recorded {
                    let price = level.price_ticks + shift;
                    prop_assert_eq!(exchange.book().others_at(level.side, price), level.size_lots, "step {}: the book does not follow the recording at {:?} {}", step, level.side, price);
                }
            }
            for report in &out.reports {
                if let VenueReport::Filled(fill) = report {
                    filled_sum += fill.side.sign() * fill.size_lots;
                    filled_abs += fill.size_lots;
                }
            }
            prop_assert!(filled_abs <= placed, "filled {filled_abs} of {placed} placed");
            prop_assert_eq!(exchange.position_lots(), filled_sum);
        }
    }
}
