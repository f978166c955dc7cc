//! The random-walk market of Avellaneda & Stoikov (2008): no book and no other
//! participants, only a mid that moves ±σ√dt with equal probability every step.
//! The feed publishes it as a one-tick best bid and offer around the mid with a
//! depth no quote can exhaust. Fills come from the exchange's intensity model.

use drydock_engine::port::Level;
use drydock_engine::{Lots, MarketData, Ticks};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;

use crate::config::{MarketConfig, RandomWalkConfig};

/// Depth published at the synthetic touch: more than any quote (no impact cap binds).
const TOUCH_LOTS: Lots = 1_000_000_000;

/// The random-walk mid.
pub struct RandomWalkMarket {
    config: RandomWalkConfig,
    tick_size: f64,
    mid: f64,
    rng: ChaCha8Rng,
}

impl RandomWalkMarket {
    /// A walk from `market.initial_price`, drawing from `rng`.
    pub fn new(market: &MarketConfig, rng: ChaCha8Rng) -> Self {
        RandomWalkMarket { config: market.random_walk.clone(), tick_size: market.instrument.tick_size, mid: market.initial_price, rng }
    }

    /// The mid, quote currency.
    pub fn mid(&self) -> f64 {
        self.mid
    }

    /// The mid in fractional ticks.
    pub fn mid_ticks(&self) -> f64 {
        self.mid / self.tick_size
    }

    /// Moves the mid one step.
    pub fn step(&mut self) {
        let size = self.config.sigma * self.config.step_s.sqrt();
        self.mid += if self.rng.random::<bool>() { size } else { -size };
    }

    /// The feed's view: a one-tick touch around the mid.
    pub fn best_bid_offer(&self) -> MarketData {
        let bid: Ticks = self.mid_ticks().floor() as Ticks;
        MarketData::BestBidOffer {
            bid: Level { price_ticks: bid, size_lots: TOUCH_LOTS },
            ask: Level { price_ticks: bid + 1, size_lots: TOUCH_LOTS },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SeedRoot;

    #[test]
    fn steps_are_plus_or_minus_sigma_root_dt() {
        let market = MarketConfig {
            initial_price: 100.0,
            instrument: crate::config::InstrumentConfig { tick_size: 0.0001, ..Default::default() },
            ..MarketConfig::default()
        };
        let mut walk = RandomWalkMarket::new(&market, SeedRoot::new(1).stream("walk"));
        let step = 2.0 * 0.005f64.sqrt();
        let mut ups = 0;
        for _ in 0..10_000 {
            let before = walk.mid();
            walk.step();
            let moved = walk.mid() - before;
            assert!((moved.abs() - step).abs() < 1e-9);
            ups += usize::from(moved > 0.0);
        }
        assert!((4_800..5_200).contains(&ups), "{ups}");
    }
}
