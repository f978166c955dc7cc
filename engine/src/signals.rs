//! Signals derived from the mid price over time: an EWMA volatility estimate and the
//! price range over a short window (for the volatility circuit breaker).
//!
//! Both are sampled on the engine's decision ticks, so their cost does not grow with
//! the market-data rate; the current mid is folded into the range on every event so
//! the breaker reacts within one market-data message. No decisions are made here.

use std::collections::VecDeque;

use crate::units::{NANOS_PER_S, Nanos};

/// EWMA of squared log-returns of the mid, as a variance rate per second.
#[derive(Clone, Debug, Default)]
pub struct VolatilityEstimator {
    last_sample: Option<(Nanos, f64)>,
    variance_per_s: f64,
    samples: u64,
}

impl VolatilityEstimator {
    /// Folds in the mid observed at `now_ns`; `half_life_s` sets the memory.
    pub fn sample(&mut self, now_ns: Nanos, mid: f64, half_life_s: f64) {
        if mid <= 0.0 || !mid.is_finite() {
            return;
        }
        if let Some((last_ns, last_mid)) = self.last_sample {
            let dt_s = (now_ns - last_ns) as f64 / NANOS_PER_S as f64;
            if dt_s <= 0.0 {
                return;
            }
            let log_return = (mid / last_mid).ln();
            let alpha = 1.0 - 0.5f64.powf(dt_s / half_life_s);
            self.variance_per_s += alpha * (log_return * log_return / dt_s - self.variance_per_s);
            self.samples += 1;
        }
        self.last_sample = Some((now_ns, mid));
    }

    /// σ of log-returns per √second (0 until the first return).
    pub fn sigma_per_sqrt_s(&self) -> f64 {
        self.variance_per_s.max(0.0).sqrt()
    }

    /// Number of returns folded in so far.
    pub fn samples(&self) -> u64 {
        self.samples
    }
}

/// Mid samples over a trailing window, with their range.
#[derive(Clone, Debug, Default)]
pub struct MoveWindow {
    samples: VecDeque<(Nanos, f64)>,
    min: f64,
    max: f64,
}

impl MoveWindow {
    /// Adds the mid at `now_ns` and forgets samples older than `window_ns`.
    pub fn sample(&mut self, now_ns: Nanos, mid: f64, window_ns: Nanos) {
        self.samples.push_back((now_ns, mid));
        while let Some(&(time_ns, _)) = self.samples.front() {
            if now_ns - time_ns <= window_ns {
                break;
            }
            self.samples.pop_front();
        }
        self.min = f64::INFINITY;
        self.max = f64::NEG_INFINITY;
        for &(_, sample) in &self.samples {
            self.min = self.min.min(sample);
            self.max = self.max.max(sample);
        }
    }

    /// Range of the window and `mid_now`, in basis points of the window's low.
    pub fn range_bps(&self, mid_now: f64) -> f64 {
        let low = self.min.min(mid_now);
        let high = self.max.max(mid_now);
        if low.is_nan() || low <= 0.0 || !high.is_finite() {
            return 0.0;
        }
        (high - low) / low * 10_000.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_mid_has_zero_volatility() {
        let mut estimator = VolatilityEstimator::default();
        for step in 0..100 {
            estimator.sample(step * 100_000_000, 100.0, 5.0);
        }
        assert_eq!(estimator.sigma_per_sqrt_s(), 0.0);
        assert_eq!(estimator.samples(), 99);
    }

    #[test]
    fn alternating_mid_estimates_its_volatility() {
        // ±1 bp every 0.1 s: per-second variance = (1e-4)^2 / 0.1, σ ≈ 3.16e-4.
        let mut estimator = VolatilityEstimator::default();
        for step in 0..2_000 {
            let mid = if step % 2 == 0 { 100.0 } else { 100.01 };
            estimator.sample(step * 100_000_000, mid, 5.0);
        }
        let sigma = estimator.sigma_per_sqrt_s();
        assert!((sigma - 3.16e-4).abs() < 0.1e-4, "{sigma}");
    }

    #[test]
    fn move_window_forgets_old_samples() {
        let mut window = MoveWindow::default();
        window.sample(0, 100.0, 1_000);
        window.sample(500, 101.0, 1_000);
        assert!((window.range_bps(101.0) - 100.0).abs() < 1e-9);
        window.sample(2_000, 101.0, 1_000);
        assert_eq!(window.range_bps(101.0), 0.0);
        assert!(window.range_bps(99.99) > 0.0, "the current mid counts");
    }
}
