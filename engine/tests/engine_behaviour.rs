//! Behaviour of the whole engine, one concern per test: quoting, requote
//! throttling, each guard, the kill switch, inventory unwind, the order state
//! machine under late and duplicate reports, parameter updates and reconciliation.

mod common;

use std::collections::BTreeMap;

use common::*;
use drydock_engine::kpi::BlockReason;
use drydock_engine::orders::OrderState;
use drydock_engine::port::{Control, Fill, Liquidity, RejectReason, TimeInForce, VenueOrder};
use drydock_engine::{ClientOrderId, Command, EngineParams, Event, ParamValue, Side, VenueReport};

#[test]
fn quotes_both_sides_post_only_inside_the_rules_and_arms_the_timer() {
    let mut engine = engine(EngineParams::default());
    let commands = step(&mut engine, 0, &snapshot(600_000, 600_010, 1_000));
    let orders = places(&commands);
    assert_eq!(orders.len(), 4, "{commands:?}");
    for order in &orders {
        assert_eq!(order.time_in_force, TimeInForce::PostOnly);
        match order.side {
            Side::Buy => assert!(order.price_ticks < 600_010),
            Side::Sell => assert!(order.price_ticks > 600_000),
        }
    }
    assert!(commands.iter().any(|command| matches!(command, Command::SetTimer { at_ns, .. } if *at_ns == ms(100))));
    let bid = first_on(&orders, Side::Buy);
    let ask = first_on(&orders, Side::Sell);
    assert_eq!(600_005 - bid.price_ticks, ask.price_ticks - 600_005, "flat inventory quotes symmetrically");
}

#[test]
fn requotes_only_after_a_fair_value_move_and_the_minimum_interval() {
    let (mut engine, _) = quoting_engine(EngineParams::default());
    let small_move = step(&mut engine, ms(50), &bbo(600_001, 600_011, 1_000));
    assert!(small_move.is_empty(), "a one-tick move is below max_delta_ratio: {small_move:?}");
    let too_soon = step(&mut engine, ms(60), &bbo(600_100, 600_110, 1_000));
    assert!(too_soon.is_empty(), "min_interval_ms has not passed: {too_soon:?}");
    let due = step(&mut engine, ms(150), &bbo(600_100, 600_110, 1_000));
    let replaces = due.iter().filter(|command| matches!(command, Command::Replace { .. })).count();
    assert_eq!(replaces, 4, "{due:?}");
}

#[test]
fn stale_market_data_pulls_quotes_and_blocks_new_orders() {
    let (mut engine, orders) = quoting_engine(EngineParams::default());
    let mut pulled = Vec::new();
    for step_index in 1..=12 {
        let commands = step(&mut engine, ms(100 * step_index), &tick());
        assert!(places(&commands).is_empty(), "no new order while stale");
        pulled.extend(cancels(&commands));
    }
    assert_eq!(pulled.len(), orders.len());
    assert!(engine.status().stale);
    assert!(engine.counters().blocked_by(BlockReason::StaleMarketData) > 0);
    for order in &orders {
        step(&mut engine, ms(1_250), &Event::Venue(VenueReport::Canceled { order_id: order.order_id }));
    }
    let resumed = step(&mut engine, ms(1_300), &bbo(600_000, 600_010, 1_000));
    assert_eq!(places(&resumed).len(), 4, "fresh data resumes quoting");
}

#[test]
fn volatility_breaker_pulls_quotes_and_waits_for_cooldown_and_calm() {
    let (mut engine, orders) = quoting_engine(EngineParams::default());
    for step_index in 1..=5 {
        step(&mut engine, ms(100 * step_index), &bbo(600_000, 600_010, 1_000));
        step(&mut engine, ms(100 * step_index), &tick());
    }
    // A 50 bp drop in one message: over the 40 bp threshold.
    let crash = step(&mut engine, ms(550), &bbo(597_000, 597_010, 1_000));
    assert_eq!(cancels(&crash).len(), orders.len(), "{crash:?}");
    assert!(engine.status().volatility_breaker);
    for order in &orders {
        step(&mut engine, ms(560), &Event::Venue(VenueReport::Canceled { order_id: order.order_id }));
    }
    let mut first_place_ms = None;
    for step_index in 6..=80 {
        let now = ms(100 * step_index);
        let mut commands = step(&mut engine, now, &bbo(597_000, 597_010, 1_000));
        commands.extend(step(&mut engine, now, &tick()));
        if !places(&commands).is_empty() && first_place_ms.is_none() {
            first_place_ms = Some(100 * step_index);
        }
    }
    let resumed_at = first_place_ms.expect("quoting resumes once calm");
    assert!(resumed_at >= 550 + 5_000, "cooldown respected: resumed at {resumed_at} ms");
    assert_eq!(engine.counters().volatility_breaker_trips, 1);
}

#[test]
fn error_breaker_backs_off_after_too_many_rejects() {
    let mut engine = engine(EngineParams::default());
    let mut now = 0;
    let mut rejected = 0;
    while rejected < 5 {
        let commands = step(&mut engine, now, &bbo(600_000, 600_010, 1_000));
        for order in places(&commands) {
            if rejected < 5 {
                step(&mut engine, now, &Event::Venue(VenueReport::Rejected { order_id: order.order_id, reason: RejectReason::VenueBusy }));
                rejected += 1;
            }
        }
        now += ms(100);
    }
    assert_eq!(engine.counters().error_breaker_trips, 1);
    assert!(engine.status().error_backoff);
    let during = step(&mut engine, now, &bbo(600_000, 600_010, 1_000));
    assert!(places(&during).is_empty(), "no orders while backing off: {during:?}");
    let pending: Vec<ClientOrderId> = engine.live_orders().map(|order| order.order_id).collect();
    for order_id in pending {
        step(&mut engine, now, &Event::Venue(VenueReport::Canceled { order_id }));
    }
    assert_eq!(engine.live_orders().count(), 0);
    // Base back-off 500 ms ± 20 %: quoting is back well before a second.
    let after = step(&mut engine, now + ms(700), &bbo(600_000, 600_010, 1_000));
    assert!(!engine.status().error_backoff);
    assert_eq!(places(&after).len(), 4, "{after:?}");
}

#[test]
fn drawdown_kill_cancels_everything_flattens_within_the_taker_cap_and_stays_down() {
    let params = EngineParams { max_drawdown_quote: 5.0, max_taker_share_pct: 50.0, ..EngineParams::default() };
    let (mut engine, orders) = quoting_engine(params);
    let bid = first_on(&orders, Side::Buy);
    step(&mut engine, ms(10), &fill(&bid, bid.size_lots, 1));
    assert_eq!(engine.position_lots(), bid.size_lots);
    let crash = step(&mut engine, ms(200), &bbo(590_000, 590_010, 1_000));
    assert!(engine.status().killed.is_some(), "drawdown beyond 5 quote engages the kill switch");
    assert_eq!(cancels(&crash).len(), orders.len() - 1, "every live order canceled");
    let flatten = places(&step(&mut engine, ms(300), &tick()));
    assert_eq!(flatten.len(), 1, "{flatten:?}");
    assert_eq!(flatten[0].time_in_force, TimeInForce::ImmediateOrCancel);
    assert_eq!((flatten[0].side, flatten[0].size_lots), (Side::Sell, bid.size_lots));
    assert!(flatten[0].price_ticks < 590_000, "through the bid");
    let later = step(&mut engine, ms(5_000), &bbo(600_000, 600_010, 1_000));
    assert!(places(&later).iter().all(|order| order.time_in_force == TimeInForce::ImmediateOrCancel));
    step(&mut engine, ms(5_100), &Event::Control(Control::KillSwitch { engaged: false }));
    assert!(engine.status().killed.is_none());
}

#[test]
fn kill_flatten_respects_the_taker_cap() {
    let params = EngineParams { max_drawdown_quote: 5.0, ..EngineParams::default() };
    let (mut engine, orders) = quoting_engine(params);
    let bid = first_on(&orders, Side::Buy);
    step(&mut engine, ms(10), &fill(&bid, bid.size_lots, 1));
    step(&mut engine, ms(200), &bbo(590_000, 590_010, 1_000));
    let flatten = places(&step(&mut engine, ms(300), &tick()));
    assert!(flatten.is_empty(), "9 % of 10 maker lots allows no taker lot");
    assert!(engine.counters().blocked_by(BlockReason::TakerCap) > 0);
}

#[test]
fn past_the_hard_limit_quotes_stop_growing_and_excess_is_unwound() {
    let params = EngineParams { inventory_soft_lots: 10, inventory_hard_lots: 20, max_taker_share_pct: 50.0, ..EngineParams::default() };
    let (mut engine, _) = quoting_engine(params);
    // The venue reports a fill we have no order for: the position is what it says.
    let stray = Fill {
        order_id: ClientOrderId(999),
        fill_id: 77,
        side: Side::Buy,
        price_ticks: 600_000,
        size_lots: 30,
        liquidity: Liquidity::Maker,
        fee_quote: 0.0,
    };
    step(&mut engine, ms(10), &Event::Venue(VenueReport::Filled(stray)));
    assert_eq!(engine.counters().unknown_order_reports, 1);
    let commands = step(&mut engine, ms(200), &bbo(600_000, 600_010, 1_000));
    assert!(places(&commands).iter().all(|order| order.side == Side::Sell), "no bid may add to a position past the limit");
    let ask_exposure: i64 = engine.live_orders().filter(|order| order.side == Side::Sell).map(|order| order.exposure_lots()).sum();
    let unwind: Vec<_> = places(&step(&mut engine, ms(300), &tick()))
        .into_iter()
        .filter(|order| order.time_in_force == TimeInForce::ImmediateOrCancel)
        .collect();
    assert_eq!(unwind.len(), 1);
    // Down to the soft limit (20 lots), but never so far that the asks still working
    // could carry the position past the hard limit on the short side.
    let room = 20 + 30 - ask_exposure;
    assert!(room > 0 && room < 20, "the test wants a binding room: {room}");
    assert_eq!((unwind[0].side, unwind[0].size_lots), (Side::Sell, room.min(20)));
    assert!(engine.counters().blocked_by(BlockReason::PositionLimit) > 0);
}

#[test]
fn duplicate_and_late_fills_are_never_double_counted() {
    let (mut engine, orders) = quoting_engine(EngineParams::default());
    let bid = first_on(&orders, Side::Buy);
    step(&mut engine, ms(10), &fill(&bid, 3, 1));
    step(&mut engine, ms(11), &fill(&bid, 3, 1));
    assert_eq!(engine.position_lots(), 3);
    assert_eq!(engine.counters().duplicate_fills, 1);
    // Cancel sent (stale data), a fill races it, then the cancel ack, then a late fill.
    let mut cancel_sent = false;
    for step_index in 1..=12 {
        cancel_sent |= cancels(&step(&mut engine, ms(100 * step_index), &tick())).contains(&bid.order_id);
    }
    assert!(cancel_sent);
    step(&mut engine, ms(1_300), &fill(&bid, 2, 2));
    assert_eq!(engine.order_state(bid.order_id), Some(OrderState::PendingCancel));
    step(&mut engine, ms(1_310), &Event::Venue(VenueReport::Canceled { order_id: bid.order_id }));
    assert_eq!(engine.order_state(bid.order_id), Some(OrderState::Canceled));
    step(&mut engine, ms(1_320), &fill(&bid, 1, 3));
    step(&mut engine, ms(1_330), &fill(&bid, 1, 3));
    assert_eq!(engine.position_lots(), 6);
    assert_eq!(engine.counters().late_fills, 1);
    assert_eq!(engine.accounting().fills, 3);
}

#[test]
fn cancel_reject_keeps_the_order_and_unknown_order_ends_it() {
    let (mut engine, orders) = quoting_engine(EngineParams::default());
    let mut pulled = Vec::new();
    for step_index in 1..=12 {
        pulled.extend(cancels(&step(&mut engine, ms(100 * step_index), &tick())));
    }
    let (first, second) = (pulled[0], pulled[1]);
    step(&mut engine, ms(1_300), &Event::Venue(VenueReport::CancelRejected { order_id: first, reason: RejectReason::RateLimited }));
    assert_eq!(engine.order_state(first), Some(OrderState::Open));
    step(&mut engine, ms(1_300), &Event::Venue(VenueReport::CancelRejected { order_id: second, reason: RejectReason::UnknownOrder }));
    assert_eq!(engine.order_state(second), Some(OrderState::Canceled));
    assert_eq!(orders.len(), 4);
}

#[test]
fn parameter_updates_are_validated_and_all_or_nothing() {
    let mut engine = engine(EngineParams::default());
    let mut changes = BTreeMap::new();
    changes.insert("min_interval_ms".to_string(), ParamValue::Number(250.0));
    changes.insert("impact_cap_ratio".to_string(), ParamValue::Number(-1.0));
    let mut out = Vec::new();
    let error = engine.handle(0, &Event::Control(Control::SetParams { changes: changes.clone() }), &mut out).unwrap_err();
    let message = error.to_string();
    assert!(message.contains("impact_cap_ratio") && message.contains("-1"), "{message}");
    assert_eq!(engine.params().min_interval_ms, 100, "nothing applied");
    changes.insert("impact_cap_ratio".to_string(), ParamValue::Number(0.3));
    engine.handle(0, &Event::Control(Control::SetParams { changes }), &mut out).unwrap();
    assert_eq!((engine.params().min_interval_ms, engine.params().impact_cap_ratio), (250, 0.3));
    let safe = EngineParams { quote_size_lots: 5, ..EngineParams::default() };
    let revert = Control::RevertToProfile { profile: "steady_safe".to_string(), params: Box::new(safe) };
    engine.handle(0, &Event::Control(revert), &mut out).unwrap();
    assert_eq!((engine.profile(), engine.params().quote_size_lots), ("steady_safe", 5));
}

#[test]
fn reconnect_snapshot_is_reconciled_and_acted_on() {
    let (mut engine, orders) = quoting_engine(EngineParams::default());
    let kept = orders[0];
    let venue_orders = vec![
        VenueOrder { order_id: kept.order_id, side: kept.side, price_ticks: kept.price_ticks, leaves_lots: kept.size_lots },
        VenueOrder { order_id: ClientOrderId(999), side: Side::Sell, price_ticks: 600_500, leaves_lots: 4 },
    ];
    let commands = step(&mut engine, ms(10), &Event::Venue(VenueReport::OpenOrders { orders: venue_orders, position_lots: 7 }));
    assert!(cancels(&commands).contains(&ClientOrderId(999)), "orphan canceled: {commands:?}");
    let report = engine.last_reconciliation().expect("a report");
    assert_eq!(report.critical_count(), 1 + 1 + 3, "position, orphan, three lost orders");
    assert_eq!(engine.position_lots(), 7);
    for order in &orders[1..] {
        assert_eq!(engine.order_state(order.order_id), Some(OrderState::Canceled));
    }
    let accounting = engine.accounting();
    assert_eq!(accounting.adjustment_lots, 7);
}

#[test]
fn unanswered_orders_time_out_and_are_canceled() {
    let mut engine = engine(EngineParams::default());
    let first = places(&step(&mut engine, 0, &bbo(600_000, 600_010, 1_000)));
    assert_eq!(first.len(), 4);
    let mut canceled = Vec::new();
    for step_index in 1..=25 {
        let now = ms(100 * step_index);
        step(&mut engine, now, &bbo(600_000, 600_010, 1_000));
        canceled.extend(cancels(&step(&mut engine, now, &tick())));
    }
    assert_eq!(engine.counters().timeouts, 4);
    for order in &first {
        assert!(canceled.contains(&order.order_id));
    }
}

#[test]
fn kpis_report_uptime_fills_and_pnl() {
    let (mut engine, orders) = quoting_engine(EngineParams::default());
    for step_index in 1..=10 {
        step(&mut engine, ms(100 * step_index), &bbo(600_000, 600_010, 1_000));
        step(&mut engine, ms(100 * step_index), &tick());
    }
    let ask = first_on(&orders, Side::Sell);
    step(&mut engine, ms(1_050), &fill(&ask, 4, 9));
    engine.finish(ms(1_100));
    let kpis = engine.kpis();
    assert!(kpis.quote_uptime_pct > 99.0, "{}", kpis.quote_uptime_pct);
    assert_eq!((kpis.fills, kpis.maker_volume, kpis.taker_volume), (1, 4, 0));
    assert!(kpis.pnl_total > 0.0, "sold above fair value with a rebate");
    assert_eq!(engine.take_completed_fills().len(), 1);
    let json = serde_json::to_string(&kpis).unwrap();
    for key in ["net_bps", "risk_ratio", "block_reasons", "quote_uptime_pct", "adverse_p95_bps"] {
        assert!(json.contains(key), "{key} missing from {json}");
    }
}
