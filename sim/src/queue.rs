//! The event queue: one total order by (time, sequence number given at insertion).
//! Equal times are broken by insertion order, a fixed rule, so the same inputs always
//! pop in the same order. Besides the priority heap it has FIFO lanes for sources
//! that never schedule out of order (an order-preserving link): they share the
//! sequence counter, so popping the smallest (time, sequence) across heap and lanes
//! gives exactly the order one heap would, for less work. It does not know what its
//! payloads mean.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};

use drydock_engine::Nanos;

/// A min-queue of payloads by (time, insertion sequence).
#[derive(Debug)]
pub struct EventQueue<T> {
    heap: BinaryHeap<Entry<T>>,
    lanes: Vec<VecDeque<Entry<T>>>,
    next_sequence: u64,
}

#[derive(Debug)]
struct Entry<T> {
    time_ns: Nanos,
    sequence: u64,
    payload: T,
}

impl<T> PartialEq for Entry<T> {
    fn eq(&self, other: &Self) -> bool {
        (self.time_ns, self.sequence) == (other.time_ns, other.sequence)
    }
}

impl<T> Eq for Entry<T> {}

impl<T> PartialOrd for Entry<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<T> Ord for Entry<T> {
    /// Reversed, so the std max-heap pops the earliest (time, sequence) first.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.time_ns, other.sequence).cmp(&(self.time_ns, self.sequence))
    }
}

impl<T> Default for EventQueue<T> {
    fn default() -> Self {
        EventQueue { heap: BinaryHeap::new(), lanes: Vec::new(), next_sequence: 0 }
    }
}

impl<T> EventQueue<T> {
    /// Schedules `payload` at `time_ns`.
    pub fn push(&mut self, time_ns: Nanos, payload: T) {
        let sequence = self.next_sequence;
        self.next_sequence += 1;
        self.heap.push(Entry { time_ns, sequence, payload });
    }

    /// A queue with `lanes` FIFO lanes.
    pub fn with_lanes(lanes: usize) -> Self {
        EventQueue { heap: BinaryHeap::new(), lanes: (0..lanes).map(|_| VecDeque::new()).collect(), next_sequence: 0 }
    }

    /// Schedules `payload` at `time_ns` on FIFO lane `lane`; times on one lane must
    /// not decrease (an order-preserving link guarantees it).
    pub fn push_lane(&mut self, lane: usize, time_ns: Nanos, payload: T) {
        let sequence = self.next_sequence;
        self.next_sequence += 1;
        let queue = &mut self.lanes[lane];
        debug_assert!(queue.back().is_none_or(|last| last.time_ns <= time_ns), "lane {lane} scheduled out of order");
        queue.push_back(Entry { time_ns, sequence, payload });
    }

    /// Removes and returns the earliest entry across the heap and the lanes.
    pub fn pop(&mut self) -> Option<(Nanos, T)> {
        self.pop_until(Nanos::MAX)
    }

    /// Removes and returns the earliest entry if its time is at most `end_ns`.
    pub fn pop_until(&mut self, end_ns: Nanos) -> Option<(Nanos, T)> {
        let lane = self.earliest_lane();
        let from_lane = match (lane, self.heap.peek()) {
            (Some(lane), Some(top)) => key(&self.lanes[lane][0]) < key(top),
            (Some(_), None) => true,
            (None, _) => false,
        };
        let time_ns = if from_lane { self.lanes[lane?][0].time_ns } else { self.heap.peek()?.time_ns };
        if time_ns > end_ns {
            return None;
        }
        let entry = if from_lane { self.lanes[lane?].pop_front() } else { self.heap.pop() };
        entry.map(|entry| (entry.time_ns, entry.payload))
    }

    /// Time of the earliest entry.
    pub fn peek_time(&self) -> Option<Nanos> {
        let lane_time = self.earliest_lane().map(|lane| self.lanes[lane][0].time_ns);
        let heap_time = self.heap.peek().map(|entry| entry.time_ns);
        match (lane_time, heap_time) {
            (Some(lane), Some(heap)) => Some(lane.min(heap)),
            (lane, heap) => lane.or(heap),
        }
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.heap.len() + self.lanes.iter().map(VecDeque::len).sum::<usize>()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn earliest_lane(&self) -> Option<usize> {
        let mut best: Option<(usize, (Nanos, u64))> = None;
        for (index, lane) in self.lanes.iter().enumerate() {
            if let Some(front) = lane.front()
                && best.is_none_or(|(_, best_key)| key(front) < best_key)
            {
                best = Some((index, key(front)));
            }
        }
        best.map(|(index, _)| index)
    }
}

fn key<T>(entry: &Entry<T>) -> (Nanos, u64) {
    (entry.time_ns, entry.sequence)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ties_pop_in_insertion_order() {
        let mut queue = EventQueue::default();
        queue.push(10, "b");
        queue.push(5, "a");
        queue.push(10, "c");
        queue.push(10, "d");
        let order: Vec<_> = std::iter::from_fn(|| queue.pop()).map(|(_, payload)| payload).collect();
        assert_eq!(order, ["a", "b", "c", "d"]);
    }

    proptest! {
        #[test]
        fn lanes_pop_exactly_as_one_heap_would(items in prop::collection::vec((0usize..4, 0i64..5), 0..300)) {
            // Lane 0 is the heap; lanes 1..=3 receive non-decreasing times.
            let mut with_lanes = EventQueue::with_lanes(3);
            let mut heap_only = EventQueue::default();
            let mut lane_clock = [0i64; 3];
            for (index, (lane, step)) in items.iter().enumerate() {
                let time = if *lane == 0 {
                    *step * 3
                } else {
                    lane_clock[lane - 1] += step;
                    lane_clock[lane - 1]
                };
                if *lane == 0 { with_lanes.push(time, index) } else { with_lanes.push_lane(lane - 1, time, index) }
                heap_only.push(time, index);
            }
            let left: Vec<_> = std::iter::from_fn(|| with_lanes.pop()).collect();
            let right: Vec<_> = std::iter::from_fn(|| heap_only.pop()).collect();
            prop_assert_eq!(left, right);
        }

        #[test]
        fn pops_sorted_by_time_then_sequence(times in prop::collection::vec(0i64..20, 0..200)) {
            let mut queue = EventQueue::default();
            for (index, time) in times.iter().enumerate() {
                queue.push(*time, index);
            }
            let popped: Vec<(i64, usize)> = std::iter::from_fn(|| queue.pop()).collect();
            let mut expected: Vec<(i64, usize)> = times.iter().copied().zip(0..).collect();
            expected.sort();
            prop_assert_eq!(popped, expected);
        }
    }
}
