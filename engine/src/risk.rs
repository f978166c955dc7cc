//! Risk guards with memory: the order rate limiter, the volatility circuit breaker,
//! the error circuit breaker with jittered exponential back-off, the kill switch, and
//! the taker-cap arithmetic. Each is a small state machine fed with times and
//! observations; the engine decides when to consult them and what to cancel. The
//! only randomness (back-off jitter) comes from the stream the engine was handed.

use std::collections::VecDeque;

use rand::{Rng, RngExt};
use serde::{Deserialize, Serialize};

use crate::units::{Lots, NANOS_PER_MS, NANOS_PER_S, Nanos};

/// Sliding one-second window of order sends.
#[derive(Clone, Debug, Default)]
pub struct RateLimiter {
    sends: VecDeque<Nanos>,
}

impl RateLimiter {
    /// True when one more send at `now_ns` stays within `max_per_s`.
    pub fn allows(&mut self, now_ns: Nanos, max_per_s: u32) -> bool {
        while let Some(&time_ns) = self.sends.front() {
            if now_ns - time_ns < NANOS_PER_S {
                break;
            }
            self.sends.pop_front();
        }
        self.sends.len() < max_per_s as usize
    }

    /// Records a send.
    pub fn record(&mut self, now_ns: Nanos) {
        self.sends.push_back(now_ns);
    }
}

/// Pulls quotes when the price range over a short window exceeds a threshold; lets
/// them back after a cooldown, and only once the market is calm again.
#[derive(Clone, Debug, Default)]
pub struct VolatilityBreaker {
    tripped_at: Option<Nanos>,
}

impl VolatilityBreaker {
    /// Feeds the current window range; returns true when this call trips the breaker.
    pub fn observe(&mut self, now_ns: Nanos, range_bps: f64, trip_bps: f64) -> bool {
        if range_bps > trip_bps {
            let newly = self.tripped_at.is_none();
            self.tripped_at = Some(now_ns);
            return newly;
        }
        false
    }

    /// Re-arms after `cooldown_ms` since the last over-threshold observation, if the
    /// range is now below `calm_bps`.
    pub fn maybe_reset(&mut self, now_ns: Nanos, range_bps: f64, cooldown_ms: Nanos, calm_bps: f64) {
        if let Some(tripped_at) = self.tripped_at
            && now_ns - tripped_at >= cooldown_ms * NANOS_PER_MS
            && range_bps < calm_bps
        {
            self.tripped_at = None;
        }
    }

    /// True while tripped.
    pub fn is_tripped(&self) -> bool {
        self.tripped_at.is_some()
    }
}

/// Counts rejects and timeouts; too many in a window stop quoting for a jittered,
/// exponentially growing back-off.
#[derive(Clone, Debug, Default)]
pub struct ErrorBreaker {
    errors: VecDeque<Nanos>,
    backoff_until: Option<Nanos>,
    consecutive_trips: u32,
}

/// Settings of the error breaker, taken from the engine parameters.
#[derive(Copy, Clone, Debug)]
pub struct ErrorBreakerSettings {
    /// Counting window, ms.
    pub window_ms: Nanos,
    /// Errors in the window that trip it.
    pub max_count: u32,
    /// First back-off, ms.
    pub backoff_base_ms: Nanos,
    /// Longest back-off, ms.
    pub backoff_max_ms: Nanos,
    /// ± jitter fraction.
    pub jitter_ratio: f64,
}

impl ErrorBreaker {
    /// Records an error; returns true when this error trips the breaker.
    pub fn record_error(&mut self, now_ns: Nanos, settings: ErrorBreakerSettings, jitter: &mut dyn Rng) -> bool {
        self.errors.push_back(now_ns);
        while let Some(&time_ns) = self.errors.front() {
            if now_ns - time_ns <= settings.window_ms * NANOS_PER_MS {
                break;
            }
            self.errors.pop_front();
        }
        if self.errors.len() < settings.max_count as usize || self.is_backing_off(now_ns) {
            return false;
        }
        self.errors.clear();
        if self.backoff_until.is_some_and(|until| now_ns - until > settings.backoff_max_ms * NANOS_PER_MS) {
            self.consecutive_trips = 0;
        }
        let doubling = 2f64.powi(self.consecutive_trips.min(30) as i32);
        let base_ms = (settings.backoff_base_ms as f64 * doubling).min(settings.backoff_max_ms as f64);
        let unit: f64 = jitter.random();
        let jittered_ms = base_ms * (1.0 + settings.jitter_ratio * (2.0 * unit - 1.0));
        self.backoff_until = Some(now_ns + (jittered_ms * NANOS_PER_MS as f64) as Nanos);
        self.consecutive_trips += 1;
        true
    }

    /// True while in back-off.
    pub fn is_backing_off(&self, now_ns: Nanos) -> bool {
        self.backoff_until.is_some_and(|until| now_ns < until)
    }

    /// When the current back-off ends, if any was ever set.
    pub fn backoff_until(&self) -> Option<Nanos> {
        self.backoff_until
    }
}

/// Why the kill switch is engaged.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KillCause {
    /// An operator engaged it.
    Operator,
    /// PnL fell more than `max_drawdown_quote` from its peak.
    Drawdown,
}

/// Largest taker order (lots) that keeps taker volume within `max_share_pct` of our
/// total volume: `(taker + x) / (maker + taker + x) ≤ c` ⇔ `x ≤ (c·total − taker) / (1 − c)`.
pub fn taker_allowance_lots(maker_lots: Lots, taker_lots: Lots, max_share_pct: f64) -> Lots {
    let share = max_share_pct / 100.0;
    if share >= 1.0 {
        return Lots::MAX;
    }
    let total = (maker_lots + taker_lots) as f64;
    let allowance = ((share * total - taker_lots as f64) / (1.0 - share)).max(0.0);
    // Float rounding may land a hair either side of a whole lot: nudge, then verify.
    let mut lots = (allowance + 1e-9).floor() as Lots;
    while lots > 0 && (taker_lots + lots) as f64 > share * (total + lots as f64) * (1.0 + 1e-12) {
        lots -= 1;
    }
    lots
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn settings() -> ErrorBreakerSettings {
        ErrorBreakerSettings { window_ms: 1_000, max_count: 3, backoff_base_ms: 100, backoff_max_ms: 1_000, jitter_ratio: 0.2 }
    }

    #[test]
    fn rate_limiter_slides() {
        let mut limiter = RateLimiter::default();
        for step in 0..3 {
            assert!(limiter.allows(step, 3));
            limiter.record(step);
        }
        assert!(!limiter.allows(10, 3));
        assert!(limiter.allows(NANOS_PER_S, 3));
    }

    #[test]
    fn volatility_breaker_needs_cooldown_and_calm() {
        let mut breaker = VolatilityBreaker::default();
        assert!(breaker.observe(0, 60.0, 50.0));
        assert!(!breaker.observe(1, 60.0, 50.0), "already tripped");
        breaker.maybe_reset(2_000 * NANOS_PER_MS, 40.0, 1_000, 25.0);
        assert!(breaker.is_tripped(), "not calm yet");
        breaker.maybe_reset(2_000 * NANOS_PER_MS, 10.0, 1_000, 25.0);
        assert!(!breaker.is_tripped());
    }

    #[test]
    fn error_breaker_backs_off_exponentially_with_bounded_jitter() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let mut breaker = ErrorBreaker::default();
        let mut now = 0;
        let mut lengths = Vec::new();
        for _ in 0..4 {
            let mut tripped = false;
            for _ in 0..3 {
                tripped = breaker.record_error(now, settings(), &mut rng);
            }
            assert!(tripped);
            let until = breaker.backoff_until().unwrap();
            lengths.push((until - now) / NANOS_PER_MS);
            assert!(breaker.is_backing_off(now));
            now = until + NANOS_PER_MS;
        }
        assert!((80..=120).contains(&lengths[0]), "{lengths:?}");
        assert!((160..=240).contains(&lengths[1]), "{lengths:?}");
        assert!((800..=1_200).contains(&lengths[3]), "{lengths:?}");
    }

    #[test]
    fn taker_allowance_keeps_the_share() {
        assert_eq!(taker_allowance_lots(0, 0, 9.0), 0);
        let allowance = taker_allowance_lots(910, 0, 9.0);
        assert_eq!(allowance, 90);
        let share = allowance as f64 / (910 + allowance) as f64;
        assert!(share <= 0.09 + 1e-12);
        assert_eq!(taker_allowance_lots(100, 50, 9.0), 0);
    }
}
