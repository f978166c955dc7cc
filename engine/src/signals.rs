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
    /// Samples in the window whose mid no later sample undercuts, oldest first
    /// (mids ascending): the front is the window's minimum.
    lows: VecDeque<(Nanos, f64)>,
    /// Likewise for the maximum (mids descending).
    highs: VecDeque<(Nanos, f64)>,
    min: f64,
    max: f64,
}

impl MoveWindow {
    /// Adds the mid at `now_ns` and forgets samples older than `window_ns`.
    pub fn sample(&mut self, now_ns: Nanos, mid: f64, window_ns: Nanos) {
        // Monotonic queues: O(1) amortized per sample instead of a scan of the window.
        if !mid.is_nan() {
            while self.lows.back().is_some_and(|&(_, low)| low >= mid) {
                self.lows.pop_back();
            }
            self.lows.push_back((now_ns, mid));
            while self.highs.back().is_some_and(|&(_, high)| high <= mid) {
                self.highs.pop_back();
            }
            self.highs.push_back((now_ns, mid));
        }
        for extremes in [&mut self.lows, &mut self.highs] {
            while extremes.front().is_some_and(|&(time_ns, _)| now_ns - time_ns > window_ns) {
                extremes.pop_front();
            }
        }
        self.min = self.lows.front().map_or(f64::INFINITY, |&(_, low)| low);
        self.max = self.highs.front().map_or(f64::NEG_INFINITY, |&(_, high)| high);
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

    proptest::proptest! {
        #[test]
        fn window_extremes_match_a_scan_of_the_window(
            steps in proptest::collection::vec((0i64..400, 95u32..106), 1..200),
            window_ns in 0i64..1_500,
        ) {
            let mut window = MoveWindow::default();
            let mut all: Vec<(Nanos, f64)> = Vec::new();
            let mut now_ns = 0;
            for (step_ns, mid) in steps {
                now_ns += step_ns;
                let mid = f64::from(mid);
                window.sample(now_ns, mid, window_ns);
                all.push((now_ns, mid));
                let inside: Vec<f64> = all.iter().filter(|(time_ns, _)| now_ns - time_ns <= window_ns).map(|(_, mid)| *mid).collect();
                let low = inside.iter().copied().fold(f64::INFINITY, f64::min);
                let high = inside.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                proptest::prop_assert_eq!((window.min, window.max), (low, high));
            }
        }
    }
}
