//! A self-exciting (Hawkes) arrival process with exponential kernel,
//! `λ(t) = μ + Σ α·e^{−β(t − tᵢ)}`, simulated exactly by Ogata's thinning: between
//! arrivals the intensity only decays, so its current value bounds it from above;
//! draw a candidate from that bound and accept it with probability λ(t)/bound.
//! The baseline μ is piecewise constant; the caller redraws when it changes.

use drydock_engine::Nanos;
use drydock_engine::units::NANOS_PER_S;
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Exp1};

/// Excitation state of the process.
#[derive(Clone, Debug, Default)]
pub struct Hawkes {
    excitation_per_s: f64,
    updated_ns: Nanos,
}

impl Hawkes {
    /// Intensity at `now_ns` with baseline `baseline_per_s`, per second.
    pub fn intensity(&self, now_ns: Nanos, baseline_per_s: f64, beta_per_s: f64) -> f64 {
        let elapsed_s = (now_ns - self.updated_ns).max(0) as f64 / NANOS_PER_S as f64;
        baseline_per_s + self.excitation_per_s * (-beta_per_s * elapsed_s).exp()
    }

    /// Records an arrival at `now_ns`: the intensity jumps by `alpha_per_s`.
    pub fn on_arrival(&mut self, now_ns: Nanos, alpha_per_s: f64, beta_per_s: f64) {
        self.excitation_per_s = self.intensity(now_ns, 0.0, beta_per_s) + alpha_per_s;
        self.updated_ns = now_ns;
    }

    /// The next arrival after `now_ns` by thinning, or `None` if the intensity is zero.
    pub fn next_arrival(&self, now_ns: Nanos, baseline_per_s: f64, beta_per_s: f64, rng: &mut ChaCha8Rng) -> Option<Nanos> {
        let mut time_ns = now_ns;
        loop {
            let bound = self.intensity(time_ns, baseline_per_s, beta_per_s);
            if bound <= 1e-12 {
                return None;
            }
            let exponential: f64 = Exp1.sample(rng);
            let wait_s = exponential / bound;
            time_ns += ((wait_s * NANOS_PER_S as f64).ceil() as Nanos).max(1);
            if rng.random::<f64>() * bound <= self.intensity(time_ns, baseline_per_s, beta_per_s) {
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
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut hawkes = Hawkes::default();
        let (baseline, beta) = (2.0, 3.0);
        let mut times = Vec::new();
        let mut now = 0;
        while let Some(next) = hawkes.next_arrival(now, baseline, beta, &mut rng) {
            if next > seconds * NANOS_PER_S {
                break;
            }
            hawkes.on_arrival(next, alpha, beta);
            times.push(next);
            now = next;
        }
        times
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
