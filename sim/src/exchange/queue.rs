//! The queue-model seam: how our place in a level's queue changes when other
//! participants cancel. The generated market uses [`ProportionalCancels`]; replay
//! of recorded data can plug in other models without touching the book.

use drydock_engine::Lots;

/// How cancels by others move our queue position.
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
}
