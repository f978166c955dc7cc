//! Latency: the [`Latency`] seam, its named distributions (constant, uniform,
//! normal and lognormal with a floor), [`BoundedDraws`] for callers that only ask
//! whether each message's delay reaches a bound (thinned: a draw only for the
//! delays that may), and [`Channel`], a one-way link that keeps messages in order
//! (a later message never overtakes an earlier one, as on one TCP session).
//! Scheduled latency spikes are a multiplier the runner passes in; this file does
//! not know the schedule.

use drydock_engine::Nanos;
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Exp1, Normal, StandardNormal};
use serde::{Deserialize, Serialize};
use statrs::function::erf::erfc;

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

/// Largest delay parameter a scenario may give, µs: an hour. Longer is a typo, not a
/// link; draws beyond it (a lognormal's tail) still arrive, or never do within a run.
pub const LATENCY_US_MAX: f64 = 3_600_000_000.0;

impl LatencyModel {
    /// Checks the parameters; `field` names the setting in messages.
    pub fn validate(&self, field: &str) -> Result<(), ConfigError> {
        let bad = |what: String| Err(ConfigError::invalid(field, &what));
        let allowed = |value: f64| value.is_finite() && (0.0..=LATENCY_US_MAX).contains(&value);
        let max = format!("{LATENCY_US_MAX:.0} (an hour)");
        match *self {
            LatencyModel::Constant { us } if !allowed(us) => bad(format!("`us` must be a number from 0 to {max}")),
            LatencyModel::Uniform { min_us, max_us } if !(allowed(min_us) && allowed(max_us) && min_us <= max_us) => {
                bad(format!("needs 0 <= min_us <= max_us <= {max}"))
            }
            LatencyModel::Normal { mean_us, std_us, floor_us } if !(allowed(mean_us) && allowed(std_us) && allowed(floor_us)) => {
                bad(format!("mean_us, std_us and floor_us must be numbers from 0 to {max}"))
            }
            LatencyModel::Lognormal { median_us, sigma, floor_us }
                if !(allowed(median_us) && median_us > 0.0 && (0.0..=5.0).contains(&sigma) && allowed(floor_us)) =>
            {
                bad(format!("needs 0 < median_us <= {max}, 0 <= sigma <= 5 and 0 <= floor_us <= {LATENCY_US_MAX:.0}"))
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
    /// The chance that a draw is not certainly below `bound`: for a lognormal whose
    /// floor lies under the bound, that its logarithm reaches the bound's; 1 for
    /// every other distribution (each of their draws needs its value).
    pub fn beyond_probability(&self, bound: &DelayBound) -> f64 {
        match self.log_tail(bound) {
            Some(tail) => 0.5 * erfc(tail.threshold / std::f64::consts::SQRT_2),
            None => 1.0,
        }
    }

    /// A draw given that it is not certainly below `bound` (see
    /// [`PreparedLatency::beyond_probability`]): a lognormal's logarithm from the
    /// normal's tail beyond the bound's, any other draw as [`Latency::sample_ns`]
    /// gives it.
    pub fn sample_ns_given_beyond(&self, rng: &mut ChaCha8Rng, bound: &DelayBound) -> Nanos {
        match self.log_tail(bound) {
            // A threshold at infinity (a bound no delay reaches, so never asked) or
            // not a number could never be passed: the plain draw instead.
            Some(tail) if tail.threshold < f64::INFINITY => {
                let log_micros = tail.mean + tail.std_dev * standard_normal_beyond(rng, tail.threshold);
                micros_to_ns(log_micros.exp().max(tail.floor_us))
            }
            _ => self.sample_ns(rng),
        }
    }

    /// For a lognormal whose floor lies under `bound`, where the bound falls on its
    /// logarithm's normal, in standard deviations (±∞ without a spread: reached
    /// never or always); none for any other distribution.
    fn log_tail(&self, bound: &DelayBound) -> Option<LogTail> {
        let PreparedLatency::Lognormal { log_normal, floor_us } = *self else { return None };
        if floor_us >= bound.micros {
            return None;
        }
        let (mean, std_dev) = (log_normal.mean(), log_normal.std_dev());
        let threshold = match std_dev {
            0.0 if mean < bound.log_micros => f64::INFINITY,
            0.0 => f64::NEG_INFINITY,
            _ => (bound.log_micros - mean) / std_dev,
        };
        Some(LogTail { mean, std_dev, floor_us, threshold })
    }
}

/// A lognormal's logarithm against a bound (see [`PreparedLatency::log_tail`]).
struct LogTail {
    mean: f64,
    std_dev: f64,
    floor_us: f64,
    threshold: f64,
}

/// Delays drawn one per message for callers that only ask whether a delay is long
/// (the modelled reaction check, one question per market-data message): most
/// answers are "certainly below the bound", and those need no draw at all. Each
/// message's delay reaches the bound independently with the same chance `q`, so
/// the messages before the next one that does are a geometric count: it is drawn
/// once, counted down, and only the message it lands on draws its delay, from the
/// distribution's part beyond the bound. The answers have exactly the
/// distribution of drawing every delay, for one draw per `1/q` messages (none in
/// a run whose bound is far in the tail). A new bound redraws the count (each
/// message is independent of the ones before it, so nothing is lost).
#[derive(Clone, Debug)]
pub struct BoundedDraws {
    latency: PreparedLatency,
    bound: DelayBound,
    /// ln(1 − q), for the geometric count (−∞ when every delay needs its value).
    ln_below: f64,
    /// Messages left before the next one whose delay is drawn.
    skip: u64,
}

impl BoundedDraws {
    /// Draws of `latency` against a bound of `bound_ns`.
    pub fn new(latency: PreparedLatency, bound_ns: f64, rng: &mut ChaCha8Rng) -> Self {
        let mut draws = BoundedDraws { latency, bound: DelayBound::new(0.0), ln_below: f64::NEG_INFINITY, skip: 0 };
        draws.set_bound(bound_ns, rng);
        draws
    }

    /// Moves the bound to `bound_ns` (and redraws the count to the next long delay).
    pub fn set_bound(&mut self, bound_ns: f64, rng: &mut ChaCha8Rng) {
        self.bound = DelayBound::new(bound_ns);
        self.ln_below = (-self.latency.beyond_probability(&self.bound)).ln_1p();
        self.skip = self.next_skip(rng);
    }

    /// The next message's delay, or `None` when it is certainly below the bound.
    #[inline]
    pub fn next(&mut self, rng: &mut ChaCha8Rng) -> Option<Nanos> {
        if self.skip > 0 {
            self.skip -= 1;
            return None;
        }
        let delay_ns = self.latency.sample_ns_given_beyond(rng, &self.bound);
        self.skip = self.next_skip(rng);
        Some(delay_ns)
    }

    /// Failures before the next success of chance `q`: ⌊ln U / ln(1 − q)⌋ (no draw
    /// when every delay needs its value; the largest count when none does).
    fn next_skip(&self, rng: &mut ChaCha8Rng) -> u64 {
        if self.ln_below == f64::NEG_INFINITY {
            return 0;
        }
        if self.ln_below == 0.0 {
            return u64::MAX;
        }
        let uniform = 1.0 - rng.random::<f64>();
        // `as` saturates: a count beyond u64 (a bound far in the tail) is the largest.
        (uniform.ln() / self.ln_below).floor() as u64
    }
}

/// A standard normal draw given that it is at least `threshold`: by rejection from
/// the whole normal at or below 0 (accepted at least half the time), beyond it
/// from an exponential proposal at the optimal rate (Robert, 1995; accepted at
/// least ~76 % of the time however far the tail).
fn standard_normal_beyond(rng: &mut ChaCha8Rng, threshold: f64) -> f64 {
    if threshold <= 0.0 {
        loop {
            let normal: f64 = StandardNormal.sample(rng);
            if normal >= threshold {
                return normal;
            }
        }
    }
    let rate = (threshold + (threshold * threshold + 4.0).sqrt()) / 2.0;
    loop {
        let exponential: f64 = Exp1.sample(rng);
        let candidate = threshold + exponential / rate;
        let accept: f64 = rng.random();
        if accept <= (-(candidate - rate).powi(2) / 2.0).exp() {
            return candidate;
        }
    }
}

/// A delay bound prepared for [`BoundedDraws`]. It keeps a nanosecond of margin
/// below the bound, far more than the rounding of the logarithm, the exponential
/// and the conversion to whole nanoseconds, so a draw it lets pass as short is
/// shorter than the bound however it is computed.
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
    /// the previous message's arrival, and the last representable time (never, in a
    /// run) for a delay that reaches past it.
    pub fn arrival_ns(&mut self, now_ns: Nanos, delay_ns: Nanos) -> Nanos {
        self.last_arrival_ns = self.last_arrival_ns.max(now_ns.saturating_add(delay_ns));
        self.last_arrival_ns
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn a_delay_past_the_last_nanosecond_never_arrives_and_holds_back_what_follows() {
        let mut link = Channel::default();
        assert_eq!(link.arrival_ns(1_000, 500), 1_500);
        assert_eq!(link.arrival_ns(2_000, Nanos::MAX), Nanos::MAX);
        assert_eq!(link.arrival_ns(3_000, 10), Nanos::MAX, "the link keeps its order");
    }

    #[test]
    fn delays_beyond_an_hour_are_refused_naming_the_limit() {
        let too_long = [
            LatencyModel::Constant { us: 1e300 },
            LatencyModel::Uniform { min_us: 0.0, max_us: 4e9 },
            LatencyModel::Normal { mean_us: 4e9, std_us: 1.0, floor_us: 0.0 },
            LatencyModel::Lognormal { median_us: 500.0, sigma: 1.0, floor_us: 4e9 },
        ];
        for model in too_long {
            let message = model.validate("exchange.latency.ack").unwrap_err().to_string();
            assert!(message.contains("3600000000 (an hour)") && message.contains("exchange.latency.ack"), "{message}");
        }
        assert!(LatencyModel::Constant { us: LATENCY_US_MAX }.validate("exchange.latency.ack").is_ok());
    }

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

    /// P(delay ≥ `threshold_ns`) of a lognormal with its floor below the threshold.
    fn lognormal_tail(median_us: f64, sigma: f64, threshold_ns: f64) -> f64 {
        0.5 * erfc(((threshold_ns / 1_000.0).ln() - median_us.ln()) / (sigma * std::f64::consts::SQRT_2))
    }

    #[test]
    fn bounded_draws_count_long_delays_as_often_as_drawing_every_one() {
        // Bounds where a tenth, a hundredth and a thousandth of the delays reach them;
        // the long delays counted at the bound and beyond it, against the exact chance
        // and against drawing every delay (both within five standard deviations).
        let (median_us, sigma, floor_us) = (500.0, 0.8, 100.0);
        let model = LatencyModel::Lognormal { median_us, sigma, floor_us }.prepare();
        let messages = 400_000u64;
        for (seed, quantile_z) in [(1u64, 1.2816), (2, 2.3263), (3, 3.0902)] {
            let bound_ns = median_us * 1_000.0 * (sigma * quantile_z).exp();
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let mut draws = BoundedDraws::new(model, bound_ns, &mut rng);
            let mut bounded = Vec::new();
            for _ in 0..messages {
                if let Some(delay_ns) = draws.next(&mut rng) {
                    bounded.push(delay_ns);
                }
            }
            let every: Vec<Nanos> = (0..messages).map(|_| model.sample_ns(&mut rng)).collect();
            for threshold_ns in [bound_ns, bound_ns * 1.5] {
                let chance = lognormal_tail(median_us, sigma, threshold_ns);
                let (expected, spread) = (messages as f64 * chance, 5.0 * (messages as f64 * chance * (1.0 - chance)).sqrt());
                for (how, delays) in [("bounded", &bounded), ("every", &every)] {
                    let count = delays.iter().filter(|&&delay_ns| delay_ns as f64 >= threshold_ns).count() as f64;
                    assert!((count - expected).abs() < spread, "{how}: {count} delays ≥ {threshold_ns} ns, expected {expected} ± {spread}");
                }
            }
            assert!(bounded.iter().all(|&delay_ns| delay_ns as f64 >= bound_ns - 2.0), "a drawn delay lies beyond the bound");
            let share = bounded.len() as f64 / messages as f64;
            let chance = model.beyond_probability(&DelayBound::new(bound_ns));
            assert!((share - chance).abs() < 5.0 * (chance / messages as f64).sqrt(), "{share} drawn, chance {chance}");
        }
    }

    #[test]
    fn bounded_draws_draw_every_delay_without_a_bound_and_none_far_in_the_tail() {
        let model = LatencyModel::Lognormal { median_us: 500.0, sigma: 0.5, floor_us: 0.0 }.prepare();
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let mut draws = BoundedDraws::new(model, 0.0, &mut rng);
        assert!((0..1_000).all(|_| draws.next(&mut rng).is_some()));
        draws.set_bound(1e12, &mut rng);
        assert!((0..100_000).all(|_| draws.next(&mut rng).is_none()));
        draws.set_bound(0.0, &mut rng);
        assert!(draws.next(&mut rng).is_some(), "a new bound takes effect at once");
        // A floor at the bound: every delay needs its value, and is the plain draw.
        let floored = LatencyModel::Lognormal { median_us: 500.0, sigma: 0.5, floor_us: 30_000.0 }.prepare();
        let (mut bounded_rng, mut plain_rng) = (ChaCha8Rng::seed_from_u64(5), ChaCha8Rng::seed_from_u64(5));
        let mut draws = BoundedDraws::new(floored, 20_000_000.0, &mut bounded_rng);
        assert!((0..1_000).all(|_| draws.next(&mut bounded_rng) == Some(floored.sample_ns(&mut plain_rng))));
        // No spread: the bound is reached always or never.
        let fixed = LatencyModel::Lognormal { median_us: 500.0, sigma: 0.0, floor_us: 0.0 }.prepare();
        let mut draws = BoundedDraws::new(fixed, 400_000.0, &mut rng);
        assert!((0..100).all(|_| draws.next(&mut rng) == Some(500_000)));
        draws.set_bound(600_000.0, &mut rng);
        assert!((0..100).all(|_| draws.next(&mut rng).is_none()));
        // Beyond an infinite bound nothing can be drawn: asked anyway, the plain draw.
        let (mut beyond_rng, mut plain_rng) = (ChaCha8Rng::seed_from_u64(7), ChaCha8Rng::seed_from_u64(7));
        assert_eq!(model.sample_ns_given_beyond(&mut beyond_rng, &DelayBound::new(f64::INFINITY)), model.sample_ns(&mut plain_rng));
        assert_eq!(model.beyond_probability(&DelayBound::new(f64::INFINITY)), 0.0);
    }

    #[test]
    fn normal_tail_draws_lie_beyond_the_threshold_with_the_truncated_mean() {
        let mut rng = ChaCha8Rng::seed_from_u64(6);
        for threshold in [-1.5, 0.0, 0.7, 3.0, 9.0] {
            let draws: Vec<f64> = (0..100_000).map(|_| standard_normal_beyond(&mut rng, threshold)).collect();
            assert!(draws.iter().all(|&draw| draw >= threshold), "{threshold}");
            let mean = draws.iter().sum::<f64>() / draws.len() as f64;
            // E[Z | Z ≥ t] = φ(t) / Q(t).
            let density = (-threshold * threshold / 2.0f64).exp() / (2.0 * std::f64::consts::PI).sqrt();
            let expected = density / (0.5 * erfc(threshold / std::f64::consts::SQRT_2));
            assert!((mean - expected).abs() < 0.01, "threshold {threshold}: mean {mean}, expected {expected}");
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
