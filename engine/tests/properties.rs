//! Property tests over random event sequences. A small venue model executes the
//! engine's commands honestly (orders only fill while they rest, never beyond
//! their size) but delivers its reports late, out of order and twice. After every
//! step the test checks:
//!
//! - inventory bound: |position| ≤ `inventory_hard_lots` + the fill lots the engine
//!   had no open exposure for when they arrived (`untracked_fill_lots`: fills that
//!   overtook a cancel ack or a reject, i.e. what was already in flight);
//! - every order is on the tick and lot grid, at or above the minimum notional, and
//!   post-only orders do not cross the touch the engine knew;
//! - no order while market data is stale; while killed, only position-reducing IOC
//!   orders;
//! - no double-counted fill: the position and cash equal the sums over unique fill ids;
//! - the PnL identity: cash + inventory × mark − fees = Σ fills (−side·price·size) −
//!   fees, and realized + unrealized − fees = total PnL.
//!
//! And a hostile venue: any sequence of events within the port's domain (prices 1
//! to `PRICE_TICKS_MAX`, sizes up to `SIZE_LOTS_MAX`, at both ends; crossed books,
//! fills and reports for orders never sent, reconnect snapshots of anything) is
//! handled without a panic or an overflow (tests run with overflow checks where
//! the profile has them).

mod common;

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use common::*;
use drydock_engine::port::{Control, Fill, Level, LevelUpdate, Liquidity, NewOrder, RejectReason, TimeInForce, TimerId, VenueOrder};
use drydock_engine::{
    ClientOrderId, Command, Engine, EngineParams, Event, Instrument, MarketData, PRICE_TICKS_MAX, SIZE_LOTS_MAX, Side, Ticks, VenueReport,
};
use proptest::prelude::*;

#[derive(Clone, Debug)]
enum Action {
    Market { mid_step: i64, half_spread: i64, size: i64 },
    Tick,
    Advance { milliseconds: i64 },
    Process { reject: bool },
    Fill { pick: usize, percent: i64 },
    Deliver { pick: usize },
    Duplicate { pick: usize },
    Kill { engaged: bool },
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        4 => (-40i64..40, 1i64..30, 1i64..2_000).prop_map(|(mid_step, half_spread, size)| Action::Market { mid_step, half_spread, size }),
        3 => Just(Action::Tick),
        2 => (0i64..1_500).prop_map(|milliseconds| Action::Advance { milliseconds }),
        5 => prop::bool::weighted(0.1).prop_map(|reject| Action::Process { reject }),
        3 => (any::<usize>(), 1i64..=100).prop_map(|(pick, percent)| Action::Fill { pick, percent }),
        5 => any::<usize>().prop_map(|pick| Action::Deliver { pick }),
        1 => any::<usize>().prop_map(|pick| Action::Duplicate { pick }),
        1 => prop::bool::weighted(0.6).prop_map(|engaged| Action::Kill { engaged }),
    ]
}

fn params() -> impl Strategy<Value = EngineParams> {
    (1u32..=3, 1i64..30, 5i64..60, 0i64..300, 1.0f64..100.0, 0.0f64..0.5).prop_map(
        |(levels_per_side, quote_size_lots, hard, min_interval_ms, max_taker_share_pct, max_delta_ratio)| EngineParams {
            levels_per_side,
            quote_size_lots,
            inventory_hard_lots: hard,
            inventory_soft_lots: hard / 2,
            min_interval_ms,
            max_taker_share_pct,
            max_delta_ratio,
            max_drawdown_quote: 50.0,
            md_stale_ms: 800,
            ..EngineParams::default()
        },
    )
}

/// The venue: processes requests in order, rests orders, fills honestly.
#[derive(Default)]
struct Venue {
    inbound: VecDeque<Command>,
    /// Side, price, open lots, filled lots.
    resting: BTreeMap<ClientOrderId, (Side, Ticks, i64, i64)>,
    reports: Vec<VenueReport>,
    fills_sent: Vec<Fill>,
    next_fill_id: u64,
    bid: Ticks,
    ask: Ticks,
}

impl Venue {
    fn fill(&mut self, order_id: ClientOrderId, side: Side, price_ticks: Ticks, size_lots: i64, liquidity: Liquidity) {
        self.next_fill_id += 1;
        let instrument = Instrument::default();
        let fee_quote = instrument.fee(instrument.notional(price_ticks, size_lots), liquidity == Liquidity::Maker);
        let fill = Fill { order_id, fill_id: self.next_fill_id, side, price_ticks, size_lots, liquidity, fee_quote };
        self.fills_sent.push(fill.clone());
        self.reports.push(VenueReport::Filled(fill));
    }

    fn process_one(&mut self, reject: bool) {
        let Some(command) = self.inbound.pop_front() else {
            return;
        };
        match command {
            Command::Place(order) => self.place(order, reject),
            Command::Cancel { order_id } => {
                if self.resting.remove(&order_id).is_some() {
                    self.reports.push(VenueReport::Canceled { order_id });
                } else {
                    self.reports.push(VenueReport::CancelRejected { order_id, reason: RejectReason::UnknownOrder });
                }
            }
            Command::Replace { order_id, price_ticks, total_size_lots } => match self.resting.get_mut(&order_id) {
                Some(entry) if total_size_lots > entry.3 => {
                    entry.1 = price_ticks;
                    entry.2 = total_size_lots - entry.3;
                    let leaves_lots = entry.2;
                    self.reports.push(VenueReport::Replaced { order_id, price_ticks, leaves_lots });
                }
                Some(_) => self.reports.push(VenueReport::ReplaceRejected { order_id, reason: RejectReason::InvalidSize }),
                None => self.reports.push(VenueReport::ReplaceRejected { order_id, reason: RejectReason::UnknownOrder }),
            },
            Command::SetTimer { .. } => {}
        }
    }

    fn place(&mut self, order: NewOrder, reject: bool) {
        let order_id = order.order_id;
        let crosses = match order.side {
            Side::Buy => order.price_ticks >= self.ask,
            Side::Sell => order.price_ticks <= self.bid,
        };
        if reject {
            self.reports.push(VenueReport::Rejected { order_id, reason: RejectReason::VenueBusy });
        } else if order.time_in_force == TimeInForce::PostOnly && crosses {
            self.reports.push(VenueReport::Rejected { order_id, reason: RejectReason::PostOnlyWouldCross });
        } else if order.time_in_force == TimeInForce::ImmediateOrCancel {
            self.reports.push(VenueReport::Accepted { order_id });
            if crosses {
                let price = if order.side == Side::Buy { self.ask } else { self.bid };
                self.fill(order_id, order.side, price, order.size_lots, Liquidity::Taker);
            }
            self.reports.push(VenueReport::Canceled { order_id });
        } else {
            self.reports.push(VenueReport::Accepted { order_id });
            self.resting.insert(order_id, (order.side, order.price_ticks, order.size_lots, 0));
        }
    }

    fn fill_resting(&mut self, pick: usize, percent: i64) {
        if self.resting.is_empty() {
            return;
        }
        let order_id = *self.resting.keys().nth(pick % self.resting.len()).expect("index in range");
        let (side, price_ticks, leaves, filled) = self.resting[&order_id];
        let size_lots = (leaves * percent / 100).max(1);
        self.fill(order_id, side, price_ticks, size_lots, Liquidity::Maker);
        let remaining = leaves - size_lots;
        if remaining == 0 {
            self.resting.remove(&order_id);
        } else {
            self.resting.insert(order_id, (side, price_ticks, remaining, filled + size_lots));
        }
    }
}

/// What the test itself tracks to check the engine against.
#[derive(Default)]
struct Ledger {
    fill_ids: BTreeSet<u64>,
    position_lots: i64,
    cash_tick_lots: i128,
    fees_quote: f64,
    last_market_ns: Option<i64>,
}

fn check_commands(engine: &Engine, commands: &[Command], ledger: &Ledger, now_ns: i64, position_before: i64) -> Result<(), TestCaseError> {
    let instrument = engine.instrument();
    let killed = engine.status().killed.is_some();
    for command in commands {
        let Command::Place(order) = command else {
            continue;
        };
        prop_assert!(order.price_ticks > 0 && order.size_lots >= 1, "off the grid: {order:?}");
        prop_assert!(instrument.notional(order.price_ticks, order.size_lots) >= instrument.min_notional, "below min notional: {order:?}");
        let last_market = ledger.last_market_ns.expect("no order before market data");
        prop_assert!(now_ns - last_market <= engine.params().md_stale_ms * 1_000_000, "order while stale: {order:?}");
        if order.time_in_force == TimeInForce::PostOnly {
            let touch = engine.touch().expect("post-only order needs a touch");
            match order.side {
                Side::Buy => prop_assert!(order.price_ticks < touch.ask_ticks, "bid crosses: {order:?} {touch:?}"),
                Side::Sell => prop_assert!(order.price_ticks > touch.bid_ticks, "ask crosses: {order:?} {touch:?}"),
            }
        }
        if killed {
            prop_assert_eq!(order.time_in_force, TimeInForce::ImmediateOrCancel, "quote while killed");
            prop_assert!(
                order.side.sign() * position_before < 0 && order.size_lots <= position_before.abs(),
                "kill flatten must reduce: {:?}",
                order
            );
        }
    }
    Ok(())
}

fn check_books(engine: &Engine, ledger: &Ledger) -> Result<(), TestCaseError> {
    let accounting = engine.accounting();
    let counters = engine.counters();
    prop_assert_eq!(accounting.position_lots, ledger.position_lots, "double-counted or lost fill");
    prop_assert_eq!(accounting.cash_tick_lots(), ledger.cash_tick_lots);
    prop_assert_eq!(accounting.fills, ledger.fill_ids.len() as u64);
    prop_assert!((accounting.fees_quote - ledger.fees_quote).abs() < 1e-9);
    let bound = engine.params().inventory_hard_lots + counters.untracked_fill_lots;
    prop_assert!(accounting.position_lots.abs() <= bound, "position {} beyond {}", accounting.position_lots, bound);
    if let Some(mark) = engine.fair_value_ticks() {
        let instrument = engine.instrument();
        let identity =
            (ledger.cash_tick_lots as f64 + ledger.position_lots as f64 * mark) * instrument.quote_per_tick_lot() - ledger.fees_quote;
        let pnl = engine.pnl_quote();
        prop_assert!((pnl - identity).abs() <= 1e-6 * (1.0 + identity.abs()), "pnl {pnl} vs {identity}");
        let split = accounting.realized_quote + accounting.unrealized_quote(mark, instrument) - accounting.fees_quote;
        prop_assert!((split - pnl).abs() <= 1e-6 * (1.0 + pnl.abs()), "realized+unrealized {split} vs {pnl}");
    }
    Ok(())
}

fn deliver(engine: &mut Engine, ledger: &mut Ledger, now_ns: i64, report: VenueReport) -> Vec<Command> {
    if let VenueReport::Filled(fill) = &report
        && ledger.fill_ids.insert(fill.fill_id)
    {
        ledger.position_lots += fill.side.sign() * fill.size_lots;
        ledger.cash_tick_lots -= (fill.side.sign() * fill.size_lots) as i128 * fill.price_ticks as i128;
        ledger.fees_quote += fill.fee_quote;
    }
    step(engine, now_ns, &Event::Venue(report))
}

fn run(params: EngineParams, actions: Vec<Action>) -> Result<Engine, TestCaseError> {
    let mut engine = engine(params);
    let mut venue = Venue { bid: 600_000, ask: 600_010, ..Venue::default() };
    let mut ledger = Ledger::default();
    let mut now_ns = 0i64;
    let mut mid = 600_005i64;
    for action in actions {
        let position_before = engine.position_lots();
        let commands = match action {
            Action::Market { mid_step, half_spread, size } => {
                mid += mid_step;
                venue.bid = mid - half_spread;
                venue.ask = mid + half_spread;
                ledger.last_market_ns = Some(now_ns);
                step(&mut engine, now_ns, &bbo(venue.bid, venue.ask, size))
            }
            Action::Tick => step(&mut engine, now_ns, &tick()),
            Action::Advance { milliseconds } => {
                now_ns += ms(milliseconds);
                Vec::new()
            }
            Action::Process { reject } => {
                venue.process_one(reject);
                Vec::new()
            }
            Action::Fill { pick, percent } => {
                venue.fill_resting(pick, percent);
                Vec::new()
            }
            Action::Deliver { pick } => {
                if venue.reports.is_empty() {
                    Vec::new()
                } else {
                    let index = pick % venue.reports.len();
                    let report = venue.reports.remove(index);
                    deliver(&mut engine, &mut ledger, now_ns, report)
                }
            }
            Action::Duplicate { pick } => match venue.fills_sent.get(pick % venue.fills_sent.len().max(1)) {
                Some(fill) => {
                    let report = VenueReport::Filled(fill.clone());
                    deliver(&mut engine, &mut ledger, now_ns, report)
                }
                None => Vec::new(),
            },
            Action::Kill { engaged } => step(&mut engine, now_ns, &Event::Control(Control::KillSwitch { engaged })),
        };
        check_commands(&engine, &commands, &ledger, now_ns, position_before)?;
        venue.inbound.extend(commands.into_iter().filter(|command| !matches!(command, Command::SetTimer { .. })));
        check_books(&engine, &ledger)?;
    }
    Ok(engine)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 384, ..ProptestConfig::default() })]

    #[test]
    fn engine_invariants_hold_under_messy_venues(params in params(), actions in prop::collection::vec(action(), 1..400)) {
        run(params, actions)?;
    }
}

#[test]
fn generated_runs_reach_the_interesting_paths() {
    // Guards against a vacuous property: the generator must produce fills, replaces,
    // kills, taker unwinds and fills racing cancels, or the invariants prove little.
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]);
    let mut runner = TestRunner::new_with_rng(Config::default(), rng);
    let strategy = (params(), prop::collection::vec(action(), 200..400));
    let mut totals = [0u64; 5];
    for _ in 0..200 {
        let (params, actions) = strategy.new_tree(&mut runner).expect("strategy generates").current();
        let engine = run(params, actions).expect("invariants hold");
        let counters = engine.counters();
        totals[0] += engine.accounting().fills;
        totals[1] += counters.replaces_sent;
        totals[2] += counters.kill_switch_engagements;
        totals[3] += engine.accounting().taker_volume_lots as u64;
        totals[4] += counters.untracked_fill_lots as u64;
    }
    assert!(totals.iter().all(|total| *total > 0), "fills, replaces, kills, taker lots, untracked lots: {totals:?}");
}

#[test]
fn fills_only_in_flight_push_the_position_past_the_hard_limit() {
    // A deterministic witness of the bound: fills racing a cancel ack count as untracked.
    let params = EngineParams { inventory_hard_lots: 20, inventory_soft_lots: 10, quote_size_lots: 10, ..EngineParams::default() };
    let mut engine = engine(params);
    let placed = places(&step(&mut engine, 0, &bbo(600_000, 600_010, 1_000)));
    let bid = first_on(&placed, Side::Buy);
    step(&mut engine, 0, &Event::Venue(VenueReport::Accepted { order_id: bid.order_id }));
    step(&mut engine, 0, &Event::Venue(VenueReport::Canceled { order_id: bid.order_id }));
    step(&mut engine, 0, &fill(&bid, bid.size_lots, 1));
    assert_eq!(engine.counters().untracked_fill_lots, bid.size_lots);
    assert_eq!(ClientOrderId(1), placed[0].order_id);
}

fn domain_price() -> impl Strategy<Value = Ticks> {
    prop_oneof![Just(1), Just(2), Just(PRICE_TICKS_MAX), Just(PRICE_TICKS_MAX - 1), 1..1_000_000i64, 599_000..601_000i64]
}

fn domain_size(least: i64) -> impl Strategy<Value = i64> {
    prop_oneof![Just(least), Just(SIZE_LOTS_MAX), least..100]
}

fn any_side() -> impl Strategy<Value = Side> {
    prop_oneof![Just(Side::Buy), Just(Side::Sell)]
}

fn domain_level() -> impl Strategy<Value = Level> {
    (domain_price(), domain_size(0)).prop_map(|(price_ticks, size_lots)| Level { price_ticks, size_lots })
}

/// Any event within the port's domain, sensible or not.
fn hostile_event() -> impl Strategy<Value = Event> {
    let order = || (0u64..20).prop_map(ClientOrderId);
    prop_oneof![
        (prop::collection::vec(domain_level(), 0..4), prop::collection::vec(domain_level(), 0..4))
            .prop_map(|(bids, asks)| Event::Market(MarketData::Snapshot { bids, asks })),
        prop::collection::vec(
            (any_side(), domain_price(), domain_size(0)).prop_map(|(side, price_ticks, size_lots)| LevelUpdate {
                side,
                price_ticks,
                size_lots
            }),
            0..4
        )
        .prop_map(|updates| Event::Market(MarketData::Delta { updates })),
        (domain_price(), domain_size(1), any_side()).prop_map(|(price_ticks, size_lots, aggressor)| Event::Market(MarketData::Trade {
            price_ticks,
            size_lots,
            aggressor
        })),
        (domain_level(), domain_level()).prop_map(|(bid, ask)| Event::Market(MarketData::BestBidOffer { bid, ask })),
        Just(Event::Timer { timer_id: TimerId(1) }),
        (order(), 0u64..50, any_side(), domain_price(), domain_size(1), any::<bool>(), -1e9f64..1e9).prop_map(
            |(order_id, fill_id, side, price_ticks, size_lots, maker, fee_quote)| {
                let liquidity = if maker { Liquidity::Maker } else { Liquidity::Taker };
                Event::Venue(VenueReport::Filled(Fill { order_id, fill_id, side, price_ticks, size_lots, liquidity, fee_quote }))
            }
        ),
        order().prop_map(|order_id| Event::Venue(VenueReport::Accepted { order_id })),
        order().prop_map(|order_id| Event::Venue(VenueReport::Canceled { order_id })),
        (order(), domain_price(), domain_size(0)).prop_map(|(order_id, price_ticks, leaves_lots)| Event::Venue(VenueReport::Replaced {
            order_id,
            price_ticks,
            leaves_lots
        })),
        (
            prop::collection::vec(
                (order(), any_side(), domain_price(), domain_size(0)).prop_map(|(order_id, side, price_ticks, leaves_lots)| VenueOrder {
                    order_id,
                    side,
                    price_ticks,
                    leaves_lots
                }),
                0..3
            ),
            -SIZE_LOTS_MAX..=SIZE_LOTS_MAX
        )
            .prop_map(|(orders, position_lots)| Event::Venue(VenueReport::OpenOrders { orders, position_lots })),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn any_events_within_the_ports_domain_are_handled_without_a_panic(
        events in prop::collection::vec((1i64..2_000_000_000, hostile_event()), 1..60),
    ) {
        let mut engine = engine(EngineParams::default());
        let mut now_ns = 0;
        for (elapsed_ns, event) in events {
            now_ns += elapsed_ns;
            // An event the engine refuses (a crossed snapshot) is an error, not a panic.
            let mut commands = Vec::new();
            let _ = engine.handle(now_ns, &event, &mut commands);
            prop_assert!(commands.iter().all(|command| match command {
                // An unwind's limit lies some bps beyond the touch, so past the domain's edge
                // when the touch is at it: positive and not wrapped around is what holds.
                Command::Place(order) => order.price_ticks >= 1 && order.price_ticks <= 2 * PRICE_TICKS_MAX && order.size_lots >= 1,
                Command::Replace { price_ticks, total_size_lots, .. } => *price_ticks >= 1 && *total_size_lots >= 1,
                _ => true,
            }), "an order with a price or size that wrapped: {commands:?}");
        }
        engine.finish(now_ns);
        let _ = engine.kpis();
    }
}
