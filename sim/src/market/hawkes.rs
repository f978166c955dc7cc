//! A self-exciting (Hawkes) arrival process whose kernel is one exponential or the
//! sum of two, `λ(t) = μ + Σᵢ (α·e^{−β(t − tᵢ)} + α_s·e^{−β_s(t − tᵢ)})`: order flow
//! that clusters on two timescales (orders answering each other within
//! milliseconds, bursts lasting fractions of a second) as well as one. Simulated
//! exactly by Ogata's thinning: between arrivals the intensity only decays, so its
//! current value bounds it from above; draw a candidate from that bound and accept
//! it with probability λ(t)/bound. The baseline μ is piecewise constant; the caller
//! redraws when it changes. With the second kernel off (α_s = 0) no term of it is
//! computed, so the arrivals are exactly those of the one-exponential process.

use drydock_engine::Nanos;
use drydock_engine::units::NANOS_PER_S;
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Exp1};

/// The kernel: each arrival raises the intensity by `alpha_per_s` decaying at
/// `beta_per_s`, and by `slow_alpha_per_s` decaying at `slow_beta_per_s`.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct HawkesKernels {
    /// Jump of the first exponential, per second.
    pub alpha_per_s: f64,
    /// Decay rate of the first exponential, per second.
    pub beta_per_s: f64,
    /// Jump of the second exponential, per second (0: one exponential).
    pub slow_alpha_per_s: f64,
    /// Decay rate of the second exponential, per second.
    pub slow_beta_per_s: f64,
}

impl HawkesKernels {
    /// One exponential.
    pub fn single(alpha_per_s: f64, beta_per_s: f64) -> Self {
        HawkesKernels { alpha_per_s, beta_per_s, slow_alpha_per_s: 0.0, slow_beta_per_s: 1.0 }
    }

    /// Expected arrivals each arrival triggers (below 1 for a stationary process).
    pub fn branching_ratio(&self) -> f64 {
        self.alpha_per_s / self.beta_per_s + self.slow_alpha_per_s / self.slow_beta_per_s
    }
}

/// Excitation state of the process.
#[derive(Clone, Debug, Default)]
pub struct Hawkes {
    excitation_per_s: f64,
    slow_excitation_per_s: f64,
    updated_ns: Nanos,
}

impl Hawkes {
    /// Intensity at `now_ns` with baseline `baseline_per_s`, per second.
    pub fn intensity(&self, now_ns: Nanos, baseline_per_s: f64, kernels: &HawkesKernels) -> f64 {
        let elapsed_s = (now_ns - self.updated_ns).max(0) as f64 / NANOS_PER_S as f64;
        let intensity = baseline_per_s + self.excitation_per_s * (-kernels.beta_per_s * elapsed_s).exp();
        if self.slow_excitation_per_s == 0.0 {
            return intensity;
        }
        intensity + self.slow_excitation_per_s * (-kernels.slow_beta_per_s * elapsed_s).exp()
    }

    /// Records an arrival at `now_ns`: the intensity jumps by both kernels' jumps.
    pub fn on_arrival(&mut self, now_ns: Nanos, kernels: &HawkesKernels) {
        let elapsed_s = (now_ns - self.updated_ns).max(0) as f64 / NANOS_PER_S as f64;
        self.excitation_per_s = self.excitation_per_s * (-kernels.beta_per_s * elapsed_s).exp() + kernels.alpha_per_s;
        if self.slow_excitation_per_s != 0.0 || kernels.slow_alpha_per_s != 0.0 {
            self.slow_excitation_per_s =
                self.slow_excitation_per_s * (-kernels.slow_beta_per_s * elapsed_s).exp() + kernels.slow_alpha_per_s;
        }
        self.updated_ns = now_ns;
    }

    /// The next arrival after `now_ns` by thinning, or `None` if the intensity is zero
    /// or so small that the arrival lies beyond the last representable time.
    pub fn next_arrival(&self, now_ns: Nanos, baseline_per_s: f64, kernels: &HawkesKernels, rng: &mut ChaCha8Rng) -> Option<Nanos> {
        let mut time_ns = now_ns;
        loop {
            let bound = self.intensity(time_ns, baseline_per_s, kernels);
            if bound <= 1e-12 {
                return None;
            }
            let exponential: f64 = Exp1.sample(rng);
            let wait_s = exponential / bound;
            // `as` saturates; an arrival beyond the last representable time never comes.
            time_ns = time_ns.checked_add(((wait_s * NANOS_PER_S as f64).ceil() as Nanos).max(1))?;
            if rng.random::<f64>() * bound <= self.intensity(time_ns, baseline_per_s, kernels) {
                return Some(time_ns);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn simulate(alpha: f64, seconds: i64, seed: u64) -> Vec<Nanos> {
        simulate_kernels(2.0, &HawkesKernels::single(alpha, 3.0), seconds, seed)
    }

    fn simulate_kernels(baseline: f64, kernels: &HawkesKernels, seconds: i64, seed: u64) -> Vec<Nanos> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut hawkes = Hawkes::default();
        let mut times = Vec::new();
        let mut now = 0;
        while let Some(next) = hawkes.next_arrival(now, baseline, kernels, &mut rng) {
            if next > seconds * NANOS_PER_S {
                break;
            }
            hawkes.on_arrival(next, kernels);
            times.push(next);
            now = next;
        }
        times
    }

    /// Variance over mean of the counts in windows of `window_s` seconds.
    fn dispersion(times: &[Nanos], seconds: i64, window_s: i64) -> f64 {
        let mut counts = vec![0f64; (seconds / window_s) as usize];
        for time in times {
            if let Some(count) = counts.get_mut((*time / (window_s * NANOS_PER_S)) as usize) {
                *count += 1.0;
            }
        }
        let mean = counts.iter().sum::<f64>() / counts.len() as f64;
        counts.iter().map(|count| (count - mean).powi(2)).sum::<f64>() / counts.len() as f64 / mean
    }

    #[test]
    fn a_second_kernel_adds_its_branching_and_clusters_over_its_own_timescale() {
        // μ / (1 − n − n_s) = 1 / (1 − 0.3 − 0.4) = 3.33 per second.
        let two = HawkesKernels { alpha_per_s: 15.0, beta_per_s: 50.0, slow_alpha_per_s: 0.2, slow_beta_per_s: 0.5 };
        let times = simulate_kernels(1.0, &two, 40_000, 11);
        let rate = times.len() as f64 / 40_000.0;
        assert!((rate - 1.0 / 0.3).abs() < 0.15, "{rate}");
        // Clustering (count variance over mean) builds up over the slow kernel's 2 s;
        // the same branching on the 20 ms kernel alone has all of it within a second.
        let (short, long) = (dispersion(&times, 40_000, 1), dispersion(&times, 40_000, 40));
        assert!(short < 0.5 * long, "two timescales: {short} over 1 s, {long} over 40 s");
        let fast = simulate_kernels(1.0, &HawkesKernels::single(35.0, 50.0), 40_000, 11);
        let (fast_short, fast_long) = (dispersion(&fast, 40_000, 1), dispersion(&fast, 40_000, 40));
        assert!(fast_short > 0.75 * fast_long, "one timescale: {fast_short} over 1 s, {fast_long} over 40 s");
        // Both head for 1 / (1 − n)² ≈ 11 over long windows.
        assert!((long / 11.1 - 1.0).abs() < 0.35 && (fast_long / 11.1 - 1.0).abs() < 0.35, "{long} and {fast_long} over 40 s");
    }

    #[test]
    fn a_second_kernel_switched_off_leaves_the_arrivals_as_they_were() {
        let off = HawkesKernels { slow_alpha_per_s: 0.0, slow_beta_per_s: 7.0, ..HawkesKernels::single(1.5, 3.0) };
        assert_eq!(simulate_kernels(2.0, &off, 2_000, 12), simulate(1.5, 2_000, 12));
    }

    #[test]
    fn a_rate_so_small_its_arrival_lies_beyond_time_gives_none_or_a_later_time() {
        // 1e-11 a second: most waits (1e20 ns on average) pass the last nanosecond.
        let kernels = HawkesKernels::single(0.0, 3.0);
        let (mut nones, mut later) = (0, 0);
        for seed in 0..200 {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            match Hawkes::default().next_arrival(5, 1e-11, &kernels, &mut rng) {
                None => nones += 1,
                Some(time_ns) => {
                    assert!(time_ns > 5, "{time_ns}");
                    later += 1;
                }
            }
        }
        assert!(nones > 150 && later > 0, "{nones} none, {later} later");
    }

    #[test]
    fn mean_rate_matches_the_stationary_formula() {
        // Stationary rate μ / (1 − α/β) = 2 / (1 − 0.5) = 4 per second.
        let times = simulate(1.5, 20_000, 9);
        let rate = times.len() as f64 / 20_000.0;
        assert!((rate - 4.0).abs() < 0.15, "{rate}");
    }

    #[test]
    fn excitation_clusters_arrivals() {
        // Overdispersion: counts per second vary more than a Poisson process's.
        let times = simulate(1.5, 20_000, 10);
        let mut counts = vec![0f64; 20_000];
        for time in &times {
            counts[(*time / NANOS_PER_S) as usize] += 1.0;
        }
        let mean = counts.iter().sum::<f64>() / counts.len() as f64;
        let variance = counts.iter().map(|count| (count - mean).powi(2)).sum::<f64>() / counts.len() as f64;
        assert!(variance / mean > 1.5, "index of dispersion {}", variance / mean);
    }
}
