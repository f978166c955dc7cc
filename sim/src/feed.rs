//! The venue's market-data feed when it publishes in frames (`feed_batch_ms` > 0):
//! everything that changed during a frame goes out together at the frame's
//! boundary — the trades in the order they printed (unless `trades_in_frames` is
//! off: then the runner sends them as they print and they never reach a frame), a
//! snapshot if a resync asked for one, then one delta with the last size of each
//! changed level.
//!
//! A frame opens with the first change after a boundary and is published at the
//! next one. The runner gives it its place on the market-data link when it opens,
//! so a frame costs the event queue one entry however many changes it carries, and
//! nothing has to happen at the boundary itself. Frames leave in the order they
//! opened. This file keeps the frames and conflates their updates; it does not
//! know about latency, the queue or the engine.

use drydock_engine::port::LevelUpdate;
use drydock_engine::{MarketData, Nanos};

use crate::buffers::move_all;

/// What one frame publishes.
#[derive(Debug, Default)]
pub struct FeedFrame {
    /// When the venue publishes the frame (a multiple of the frame length).
    pub publish_ns: Nanos,
    /// Trades, in the order they printed.
    pub trades: Vec<MarketData>,
    /// A full book taken by a resync during the frame; the frame's `updates` are
    /// the changes after it.
    pub snapshot: Option<MarketData>,
    /// Level changes in venue order, not yet conflated.
    pub updates: Vec<LevelUpdate>,
}

/// Frames opened and not yet delivered, oldest first.
#[derive(Debug)]
pub struct FrameFeed {
    frame_ns: Nanos,
    /// A ring: `len` undelivered frames starting at `head`; the other entries are
    /// delivered frames, emptied and kept for their buffers (entries move only when
    /// the ring grows).
    ring: Vec<FeedFrame>,
    head: usize,
    len: usize,
}

impl FrameFeed {
    /// A feed publishing every `frame_ns` (> 0).
    pub fn new(frame_ns: Nanos) -> Self {
        assert!(frame_ns > 0, "a frame feed needs a positive frame length");
        FrameFeed { frame_ns, ring: Vec::new(), head: 0, len: 0 }
    }

    /// Moves `trades` and `updates` produced at `now_ns` into the open frame. When
    /// none was open, opens one and returns its publish time: the caller schedules
    /// its delivery.
    pub fn add(&mut self, now_ns: Nanos, trades: &mut Vec<MarketData>, updates: &mut Vec<LevelUpdate>) -> Option<Nanos> {
        let opened = self.open_frame(now_ns).is_none().then(|| self.open(now_ns));
        let newest = self.index(self.len - 1);
        let frame = &mut self.ring[newest];
        move_all(trades, &mut frame.trades);
        move_all(updates, &mut frame.updates);
        opened
    }

    /// The frame still collecting changes at `now_ns` (published after it), if any.
    pub fn open_frame(&mut self, now_ns: Nanos) -> Option<&mut FeedFrame> {
        let newest = self.len.checked_sub(1).map(|offset| self.index(offset))?;
        Some(&mut self.ring[newest]).filter(|frame| frame.publish_ns > now_ns)
    }

    /// Takes the oldest undelivered frame's contents for delivery (its buffers are
    /// swapped with `into`'s, which must be empty); false when no frame is waiting.
    pub fn take_oldest(&mut self, into: &mut FeedFrame) -> bool {
        if self.len == 0 {
            return false;
        }
        debug_assert!(into.trades.is_empty() && into.snapshot.is_none() && into.updates.is_empty(), "a used frame buffer");
        std::mem::swap(&mut self.ring[self.head], into);
        self.head = self.index(1);
        self.len -= 1;
        true
    }

    fn open(&mut self, now_ns: Nanos) -> Nanos {
        let publish_ns = (now_ns / self.frame_ns + 1) * self.frame_ns;
        if self.len == self.ring.len() {
            // Full: a new entry goes where the tail wraps to, just before the oldest.
            self.ring.insert(self.head, FeedFrame::default());
            self.head = if self.len == 0 { 0 } else { self.head + 1 };
        }
        self.len += 1;
        let newest = self.index(self.len - 1);
        self.ring[newest].publish_ns = publish_ns;
        publish_ns
    }

    /// The ring index `offset` entries after the oldest (`offset` <= the ring's length).
    fn index(&self, offset: usize) -> usize {
        let index = self.head + offset;
        if index >= self.ring.len() { index - self.ring.len() } else { index }
    }
}

impl FeedFrame {
    /// Empties the frame, keeping its buffers.
    pub fn clear(&mut self) {
        self.trades.clear();
        self.snapshot = None;
        self.updates.clear();
    }
}

/// Conflates `updates` in place: one per level (the last in venue order wins),
/// sorted by side and price.
pub fn conflate(updates: &mut Vec<LevelUpdate>) {
    if updates.len() < 2 {
        return;
    }
    // A stable sort by level keeps venue order within a level.
    updates.sort_by_key(|update| (update.side, update.price_ticks));
    updates.dedup_by(|later, kept| {
        let same_level = (later.side, later.price_ticks) == (kept.side, kept.price_ticks);
        if same_level {
            *kept = *later;
        }
        same_level
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use drydock_engine::Side;

    fn update(side: Side, price_ticks: i64, size_lots: i64) -> LevelUpdate {
        LevelUpdate { side, price_ticks, size_lots }
    }

    #[test]
    fn changes_within_a_frame_share_it_and_the_next_boundary_opens_another() {
        let mut feed = FrameFeed::new(10);
        let (mut trades, mut updates) = (Vec::new(), vec![update(Side::Buy, 100, 1)]);
        assert_eq!(feed.add(3, &mut trades, &mut updates), Some(10));
        assert!(updates.is_empty(), "the output is moved into the frame");
        updates.push(update(Side::Buy, 100, 2));
        assert_eq!(feed.add(9, &mut trades, &mut updates), None, "same frame");
        updates.push(update(Side::Sell, 101, 5));
        assert_eq!(feed.add(10, &mut trades, &mut updates), Some(20), "a change at the boundary belongs to the next frame");
        assert!(feed.open_frame(10).is_some() && feed.open_frame(20).is_none());
        let mut frame = FeedFrame::default();
        assert!(feed.take_oldest(&mut frame));
        assert_eq!((frame.publish_ns, frame.updates.len()), (10, 2));
        frame.clear();
        assert!(feed.take_oldest(&mut frame));
        assert_eq!(frame.publish_ns, 20);
        assert!(!feed.take_oldest(&mut frame));
    }

    #[test]
    fn frames_leave_in_the_order_they_opened_while_the_ring_grows_and_wraps() {
        let mut feed = FrameFeed::new(10);
        let mut frame = FeedFrame::default();
        let mut expected = std::collections::VecDeque::new();
        let mut next_ns = 0;
        // Open up to four frames, deliver up to three, repeatedly: the ring wraps and grows.
        for round in 0..40 {
            for _ in 0..(round % 4 + 1) {
                let mut updates = vec![update(Side::Buy, 100, next_ns)];
                let published = feed.add(next_ns, &mut Vec::new(), &mut updates).expect("a new boundary opens a frame");
                expected.push_back((published, next_ns));
                next_ns += 10;
            }
            for _ in 0..(round % 3 + 1) {
                if !feed.take_oldest(&mut frame) {
                    break;
                }
                let (published, size) = expected.pop_front().expect("a frame was expected");
                assert_eq!((frame.publish_ns, frame.updates[0].size_lots), (published, size));
                frame.clear();
            }
        }
        while feed.take_oldest(&mut frame) {
            assert_eq!(Some(frame.publish_ns), expected.pop_front().map(|(published, _)| published));
            frame.clear();
        }
        assert!(expected.is_empty());
    }

    #[test]
    fn conflation_keeps_the_last_size_of_each_level_in_level_order() {
        let mut updates = vec![
            update(Side::Sell, 102, 4),
            update(Side::Buy, 100, 1),
            update(Side::Sell, 102, 0),
            update(Side::Buy, 99, 7),
            update(Side::Buy, 100, 3),
        ];
        conflate(&mut updates);
        assert_eq!(updates, vec![update(Side::Buy, 99, 7), update(Side::Buy, 100, 3), update(Side::Sell, 102, 0)]);
    }

    proptest::proptest! {
        #[test]
        fn conflation_is_the_last_size_per_level_in_level_order(
            changes in proptest::collection::vec((proptest::bool::ANY, 98i64..103, 0i64..5), 0..7),
        ) {
            let side = |buy: bool| if buy { Side::Buy } else { Side::Sell };
            let mut updates: Vec<LevelUpdate> = changes.iter().map(|&(buy, price, size)| update(side(buy), price, size)).collect();
            let mut last = std::collections::BTreeMap::new();
            for change in &updates {
                last.insert((change.side, change.price_ticks), change.size_lots);
            }
            conflate(&mut updates);
            let expected: Vec<LevelUpdate> = last.into_iter().map(|((side, price), size)| update(side, price, size)).collect();
            proptest::prop_assert_eq!(updates, expected);
        }
    }
}
