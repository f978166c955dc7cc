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
