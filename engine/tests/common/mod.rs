//! Helpers shared by the engine's integration tests: building an engine, market
//! data events, and picking commands out of the engine's output.

#![allow(dead_code)]

use drydock_engine::port::{Fill, Level, Liquidity, NewOrder, TimeInForce};
use drydock_engine::units::NANOS_PER_MS;
use drydock_engine::{ClientOrderId, Command, Engine, EngineParams, Event, Instrument, MarketData, Nanos, Side, Ticks, VenueReport};
use rand::SeedableRng;

/// An engine on the default instrument with `params`.
pub fn engine(params: EngineParams) -> Engine {
    let jitter = Box::new(rand_chacha::ChaCha8Rng::seed_from_u64(11));
    Engine::new(Instrument::default(), params, "test", jitter).expect("test params are valid")
}

/// Milliseconds to nanoseconds.
pub fn ms(milliseconds: i64) -> Nanos {
    milliseconds * NANOS_PER_MS
}

/// A two-level snapshot around `bid`/`ask` with `size` lots per level.
pub fn snapshot(bid: Ticks, ask: Ticks, size: i64) -> Event {
    Event::Market(MarketData::Snapshot {
        bids: vec![Level { price_ticks: bid, size_lots: size }, Level { price_ticks: bid - 1, size_lots: size }],
        asks: vec![Level { price_ticks: ask, size_lots: size }, Level { price_ticks: ask + 1, size_lots: size }],
    })
}

/// A best-bid-offer update.
pub fn bbo(bid: Ticks, ask: Ticks, size: i64) -> Event {
    Event::Market(MarketData::BestBidOffer {
        bid: Level { price_ticks: bid, size_lots: size },
        ask: Level { price_ticks: ask, size_lots: size },
    })
}

/// The decision timer firing.
pub fn tick() -> Event {
    Event::Timer { timer_id: drydock_engine::port::DECISION_TIMER }
}

/// Handles one event and returns the commands it produced.
pub fn step(engine: &mut Engine, now_ns: Nanos, event: &Event) -> Vec<Command> {
    let mut out = Vec::new();
    engine.handle(now_ns, event, &mut out).expect("event accepted");
    out
}

/// The new orders among `commands`.
pub fn places(commands: &[Command]) -> Vec<NewOrder> {
    commands
        .iter()
        .filter_map(|command| match command {
            Command::Place(order) => Some(*order),
            _ => None,
        })
        .collect()
}

/// The order ids canceled among `commands`.
pub fn cancels(commands: &[Command]) -> Vec<ClientOrderId> {
    commands
        .iter()
        .filter_map(|command| match command {
            Command::Cancel { order_id } => Some(*order_id),
            _ => None,
        })
        .collect()
}

/// Acknowledges every new order among `commands` at `now_ns`.
pub fn ack_all(engine: &mut Engine, now_ns: Nanos, commands: &[Command]) {
    for order in places(commands) {
        step(engine, now_ns, &Event::Venue(VenueReport::Accepted { order_id: order.order_id }));
    }
}

/// A maker fill of `order` for `size_lots` with venue fill id `fill_id`.
pub fn fill(order: &NewOrder, size_lots: i64, fill_id: u64) -> Event {
    let liquidity = if order.time_in_force == TimeInForce::PostOnly { Liquidity::Maker } else { Liquidity::Taker };
    let fee_quote = Instrument::default().fee(Instrument::default().notional(order.price_ticks, size_lots), liquidity == Liquidity::Maker);
    Event::Venue(VenueReport::Filled(Fill {
        order_id: order.order_id,
        fill_id,
        side: order.side,
        price_ticks: order.price_ticks,
        size_lots,
        liquidity,
        fee_quote,
    }))
}

/// Starts an engine quoting on a 600,000 / 600,010 tick book and acks its quotes.
pub fn quoting_engine(params: EngineParams) -> (Engine, Vec<NewOrder>) {
    let mut engine = engine(params);
    let commands = step(&mut engine, 0, &snapshot(600_000, 600_010, 1_000));
    ack_all(&mut engine, 0, &commands);
    (engine, places(&commands))
}

/// The first order on `side` among `orders`.
pub fn first_on(orders: &[NewOrder], side: Side) -> NewOrder {
    *orders.iter().find(|order| order.side == side).expect("an order on that side")
}
