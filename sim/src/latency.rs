//! Latency: the [`Latency`] seam, its named distributions (constant, uniform,
//! normal and lognormal with a floor), and [`Channel`], a one-way link that keeps
//! messages in order (a later message never overtakes an earlier one, as on one TCP
//! session). Scheduled latency spikes are a multiplier the runner passes in; this
//! file does not know the schedule.

use drydock_engine::Nanos;
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use serde::{Deserialize, Serialize};

use crate::error::ConfigError;

/// Draws one delay.
pub trait Latency {
    /// A delay in nanoseconds, never negative.
    fn sample_ns(&self, rng: &mut ChaCha8Rng) -> Nanos;
}

/// A latency distribution, in microseconds as written in scenario files.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum LatencyModel {
    /// Always the same delay.
    Constant {
        /// Delay, µs.
        us: f64,
    },
    /// Uniform between two bounds.
    Uniform {
        /// Smallest delay, µs.
        min_us: f64,
        /// Largest delay, µs.
        max_us: f64,
    },
    /// Normal, cut at a floor.
    Normal {
        /// Mean, µs.
        mean_us: f64,
        /// Standard deviation, µs.
        std_us: f64,
        /// Smallest delay, µs.
        floor_us: f64,
    },
    /// Lognormal (heavy right tail), cut at a floor.
    Lognormal {
        /// Median, µs.
        median_us: f64,
        /// σ of the underlying normal (shape).
        sigma: f64,
        /// Smallest delay, µs.
        floor_us: f64,
    },
}

impl LatencyModel {
    /// Checks the parameters; `field` names the setting in messages.
    pub fn validate(&self, field: &str) -> Result<(), ConfigError> {
        let bad = |what: &str| Err(ConfigError::invalid(field, what));
        let non_negative = |value: f64| value.is_finite() && value >= 0.0;
        match *self {
            LatencyModel::Constant { us } if !non_negative(us) => bad("`us` must be a finite number >= 0"),
            LatencyModel::Uniform { min_us, max_us } if !(non_negative(min_us) && non_negative(max_us) && min_us <= max_us) => {
                bad("needs 0 <= min_us <= max_us")
            }
            LatencyModel::Normal { mean_us, std_us, floor_us }
                if !(non_negative(mean_us) && non_negative(std_us) && non_negative(floor_us)) =>
            {
                bad("mean_us, std_us and floor_us must be finite numbers >= 0")
            }
            LatencyModel::Lognormal { median_us, sigma, floor_us }
                if !(median_us.is_finite() && median_us > 0.0 && non_negative(sigma) && sigma <= 5.0 && non_negative(floor_us)) =>
            {
                bad("needs median_us > 0, 0 <= sigma <= 5 and floor_us >= 0")
            }
            _ => Ok(()),
        }
    }
}

impl LatencyModel {
    /// The distribution ready to sample (parameters checked and transformed once).
    pub fn prepare(&self) -> PreparedLatency {
        let ns = |micros: f64| (micros * 1_000.0).round().max(0.0) as Nanos;
        match *self {
            LatencyModel::Constant { us } => PreparedLatency::Constant(ns(us)),
            LatencyModel::Uniform { min_us, max_us } => PreparedLatency::Uniform { min_ns: ns(min_us), max_ns: ns(max_us.max(min_us)) },
            LatencyModel::Normal { mean_us, std_us, floor_us } => match Normal::new(mean_us, std_us) {
                Ok(normal) => PreparedLatency::Normal { normal, floor_us },
                Err(_) => PreparedLatency::Constant(ns(mean_us.max(floor_us))),
            },
            // exp(Normal(ln median, σ)): rand_distr's LogNormal, with the normal kept so a
            // draw can be compared on the log scale (see `sample_ns_beyond`).
            LatencyModel::Lognormal { median_us, sigma, floor_us } => match Normal::new(median_us.ln(), sigma) {
                Ok(log_normal) => PreparedLatency::Lognormal { log_normal, floor_us },
                Err(_) => PreparedLatency::Constant(ns(median_us.max(floor_us))),
            },
        }
    }
}

/// A latency distribution prepared for sampling.
#[derive(Copy, Clone, Debug)]
pub enum PreparedLatency {
    /// Fixed delay, ns.
    Constant(Nanos),
    /// Uniform over whole nanoseconds.
    Uniform {
        /// Smallest, ns.
        min_ns: Nanos,
        /// Largest, ns.
        max_ns: Nanos,
    },
    /// Normal in µs, cut at a floor.
    Normal {
        /// The distribution, µs.
        normal: Normal<f64>,
        /// Floor, µs.
        floor_us: f64,
    },
    /// Lognormal in µs, cut at a floor.
    Lognormal {
        /// The distribution of the delay's natural logarithm (µs).
        log_normal: Normal<f64>,
        /// Floor, µs.
        floor_us: f64,
    },
}

impl Latency for PreparedLatency {
    fn sample_ns(&self, rng: &mut ChaCha8Rng) -> Nanos {
        let micros = match *self {
            PreparedLatency::Constant(ns) => return ns,
            PreparedLatency::Uniform { min_ns, max_ns } => return if max_ns > min_ns { rng.random_range(min_ns..=max_ns) } else { min_ns },
            PreparedLatency::Normal { normal, floor_us } => normal.sample(rng).max(floor_us),
            PreparedLatency::Lognormal { log_normal, floor_us } => log_normal.sample(rng).exp().max(floor_us),
        };
        micros_to_ns(micros)
    }
}

impl PreparedLatency {
    /// Draws one delay exactly as [`Latency::sample_ns`] does (the same randomness,
    /// the same value), but answers `None` when the delay is certainly below
    /// `bound`: a lognormal draw is then compared on the log scale and its
    /// exponential never computed. For callers that only ask whether a delay is
    /// long (the modelled reaction check draws one per market-data message).
    pub fn sample_ns_beyond(&self, rng: &mut ChaCha8Rng, bound: &DelayBound) -> Option<Nanos> {
        if let PreparedLatency::Lognormal { log_normal, floor_us } = *self {
            let log_micros = log_normal.sample(rng);
            if log_micros < bound.log_micros && floor_us < bound.micros {
                return None;
            }
            return Some(micros_to_ns(log_micros.exp().max(floor_us)));
        }
        Some(self.sample_ns(rng))
    }
}

/// A delay bound prepared for [`PreparedLatency::sample_ns_beyond`]. It keeps a
/// nanosecond of margin below the bound, far more than the rounding of the
/// logarithm, the exponential and the conversion to whole nanoseconds, so a draw
/// it lets pass as short is shorter than the bound however it is computed.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct DelayBound {
    micros: f64,
    log_micros: f64,
}

impl DelayBound {
    /// Delays under `bound_ns` (no draw is certainly under a bound of 1 ns or less).
    pub fn new(bound_ns: f64) -> Self {
        let micros = (bound_ns - 1.0) / 1_000.0;
        if micros > 0.0 {
            DelayBound { micros, log_micros: micros.ln() }
        } else {
            DelayBound { micros: 0.0, log_micros: f64::NEG_INFINITY }
        }
    }
}

/// Whole nanoseconds of a delay in µs (negative delays are 0).
fn micros_to_ns(micros: f64) -> Nanos {
    (micros * 1_000.0).round().max(0.0) as Nanos
}

impl Latency for LatencyModel {
    fn sample_ns(&self, rng: &mut ChaCha8Rng) -> Nanos {
        self.prepare().sample_ns(rng)
    }
}

/// A one-way link that preserves message order.
#[derive(Copy, Clone, Debug, Default)]
pub struct Channel {
    last_arrival_ns: Nanos,
}

impl Channel {
    /// Arrival time of a message sent at `now_ns` with delay `delay_ns`: never before
    /// the previous message's arrival.
    pub fn arrival_ns(&mut self, now_ns: Nanos, delay_ns: Nanos) -> Nanos {
        self.last_arrival_ns = self.last_arrival_ns.max(now_ns + delay_ns);
        self.last_arrival_ns
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn distributions_respect_floor_and_shape() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let lognormal = LatencyModel::Lognormal { median_us: 500.0, sigma: 0.6, floor_us: 200.0 };
        let mut draws: Vec<Nanos> = (0..10_001).map(|_| lognormal.sample_ns(&mut rng)).collect();
        draws.sort();
        assert!(draws[0] >= 200_000);
        let median = draws[5_000];
        assert!((450_000..550_000).contains(&median), "{median}");
        assert!(draws[9_900] > 3 * median, "heavy right tail");
        let uniform = LatencyModel::Uniform { min_us: 10.0, max_us: 20.0 };
        assert!((0..1_000).map(|_| uniform.sample_ns(&mut rng)).all(|ns| (10_000..=20_000).contains(&ns)));
    }

    proptest::proptest! {
        #[test]
        fn a_bounded_draw_is_skipped_only_when_under_the_bound_and_is_otherwise_the_plain_draw(
            seed in 0u64..1_000,
            median_us in 1.0f64..5_000.0,
            sigma in 0.0f64..3.0,
            floor_us in 0.0f64..2_000.0,
            bound_ns in 0.0f64..20_000_000.0,
        ) {
            let model = LatencyModel::Lognormal { median_us, sigma, floor_us }.prepare();
            let bound = DelayBound::new(bound_ns);
            let (mut plain_rng, mut bounded_rng) = (ChaCha8Rng::seed_from_u64(seed), ChaCha8Rng::seed_from_u64(seed));
            for _ in 0..64 {
                let plain = model.sample_ns(&mut plain_rng);
                match model.sample_ns_beyond(&mut bounded_rng, &bound) {
                    None => proptest::prop_assert!((plain as f64) < bound_ns, "{plain} ns skipped under a {bound_ns} ns bound"),
                    Some(bounded) => proptest::prop_assert_eq!(bounded, plain),
                }
            }
        }
    }

    #[test]
    fn channel_never_reorders() {
        let mut channel = Channel::default();
        assert_eq!(channel.arrival_ns(0, 100), 100);
        assert_eq!(channel.arrival_ns(10, 5), 100, "a faster later message waits");
        assert_eq!(channel.arrival_ns(200, 5), 205);
    }

    #[test]
    fn validation_names_the_field() {
        let model = LatencyModel::Uniform { min_us: 5.0, max_us: 1.0 };
        let message = model.validate("exchange.latency.order_entry").unwrap_err().to_string();
        assert!(message.contains("exchange.latency.order_entry"), "{message}");
    }
}
