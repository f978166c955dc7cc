//! The queue-model seam: how our place in a level's queue changes when other
//! participants' size at the level shrinks without trading (cancels, or a recorded
//! depth decrease). Trades at our price always advance us: they consume the queue
//! in order, in the book. Three named models:
//! - [`ProportionalCancels`]: cancels fall evenly across the queue (the generated
//!   market's default);
//! - [`CancelsFromBack`] ("conservative"): cancels come from behind us first, so we
//!   advance only on trades at our price (and when the level shrinks below the size
//!   ahead of us);
//! - [`ProbabilisticQueue`] ("probabilistic"): a decrease comes from ahead of us with
//!   a probability from a power or log function of the size ahead and behind, as
//!   in hftbacktest's probability queue models; applied as its expected value, so
//!   deterministic.
//!
//! What the models are chosen by (the scenario's `[exchange.queue]`) is in
//! `config.rs`; the book applies them.

use drydock_engine::Lots;
use serde::{Deserialize, Serialize};

/// How a decrease of others' size moves our queue position.
pub trait QueueModel {
    /// Others' size ahead of our order after `canceled_lots` of the level's
    /// `others_lots` were canceled (the result is clamped to `0..=ahead_lots`).
    fn ahead_after_cancel(&self, ahead_lots: Lots, others_lots: Lots, canceled_lots: Lots) -> Lots;
}

/// Cancels fall evenly across the queue: the share ahead of us shrinks in
/// proportion (rounded so our position never improves by more than was canceled).
#[derive(Copy, Clone, Debug, Default)]
pub struct ProportionalCancels;

impl QueueModel for ProportionalCancels {
    fn ahead_after_cancel(&self, ahead_lots: Lots, others_lots: Lots, canceled_lots: Lots) -> Lots {
        if others_lots <= 0 {
            return 0;
        }
        let removed_ahead = (ahead_lots as i128 * canceled_lots as i128 / others_lots as i128) as Lots;
        ahead_lots - removed_ahead
    }
}

/// Cancels come from behind us first: our position improves only when more was
/// canceled than queued behind us (pessimistic).
#[derive(Copy, Clone, Debug, Default)]
pub struct CancelsFromBack;

impl QueueModel for CancelsFromBack {
    fn ahead_after_cancel(&self, ahead_lots: Lots, others_lots: Lots, canceled_lots: Lots) -> Lots {
        let behind_lots = (others_lots - ahead_lots).max(0);
        ahead_lots - (canceled_lots - behind_lots).max(0)
    }
}

/// The function f of the probabilistic model: a decrease comes from behind us with
/// probability f(behind) / (f(behind) + f(ahead)).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProbabilityFunction {
    /// f(x) = x^n.
    Power,
    /// f(x) = ln(1 + x).
    Log,
}

/// A decrease of `d` lots takes `(1 − p)·d` from ahead of us, where
/// p = f(behind) / (f(behind) + f(ahead)) is the chance it came from behind; what
/// cannot come from behind (more than is there) comes from ahead. Rounded so our
/// position never improves by more than the expectation.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct ProbabilisticQueue {
    /// The function.
    pub function: ProbabilityFunction,
    /// The power n of [`ProbabilityFunction::Power`].
    pub power: f64,
}

impl ProbabilisticQueue {
    fn f(&self, lots: Lots) -> f64 {
        let x = lots.max(0) as f64;
        match self.function {
            ProbabilityFunction::Power => x.powf(self.power),
            ProbabilityFunction::Log => x.ln_1p(),
        }
    }
}

impl QueueModel for ProbabilisticQueue {
    fn ahead_after_cancel(&self, ahead_lots: Lots, others_lots: Lots, canceled_lots: Lots) -> Lots {
        let behind_lots = (others_lots - ahead_lots).max(0);
        let (f_behind, f_ahead) = (self.f(behind_lots), self.f(ahead_lots));
        let from_behind_probability = if f_behind + f_ahead > 0.0 { f_behind / (f_behind + f_ahead) } else { 1.0 };
        let expected_from_ahead = (1.0 - from_behind_probability) * canceled_lots as f64;
        let overflow_from_behind = (canceled_lots - behind_lots).max(0);
        let from_ahead = (expected_from_ahead.floor() as Lots).max(overflow_from_behind);
        ahead_lots - from_ahead
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn models_bracket_each_other() {
        assert_eq!(ProportionalCancels.ahead_after_cancel(10, 20, 10), 5);
        assert_eq!(CancelsFromBack.ahead_after_cancel(10, 20, 10), 10);
        assert_eq!(CancelsFromBack.ahead_after_cancel(10, 20, 15), 5);
        assert_eq!(ProportionalCancels.ahead_after_cancel(0, 0, 5), 0);
    }

    #[test]
    fn probabilistic_sits_between_conservative_and_eager() {
        let power = ProbabilisticQueue { function: ProbabilityFunction::Power, power: 2.0 };
        let log = ProbabilisticQueue { function: ProbabilityFunction::Log, power: 2.0 };
        // 10 ahead, 30 behind, 8 canceled: p(behind) = 900/1000 → 0.8 lots from ahead → 0 whole.
        assert_eq!(power.ahead_after_cancel(10, 40, 8), 10);
        // 30 ahead, 10 behind: p(behind) = 100/1000 → 7.2 from ahead → 7.
        assert_eq!(power.ahead_after_cancel(30, 40, 8), 23);
        // Log is flatter: ln(11) / (ln(11) + ln(31)) ≈ 0.41 from behind → 4.7 from ahead → 4.
        assert_eq!(log.ahead_after_cancel(30, 40, 8), 26);
        // More canceled than behind: the excess must come from ahead.
        assert_eq!(power.ahead_after_cancel(10, 12, 6), 5);
        for (ahead, others, canceled) in [(0, 5, 5), (5, 5, 5), (7, 100, 1), (100, 100, 100)] {
            let result = power.ahead_after_cancel(ahead, others, canceled);
            assert!(result <= CancelsFromBack.ahead_after_cancel(ahead, others, canceled) && result >= ahead - canceled);
        }
    }
}
