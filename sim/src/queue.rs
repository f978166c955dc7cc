//! The event queue: one total order by (time, sequence number given at insertion).
//! Equal times are broken by insertion order, a fixed rule, so the same inputs always
//! pop in the same order. Besides the priority heap it has FIFO lanes for sources
//! that never schedule out of order (an order-preserving link): they share the
//! sequence counter, so popping the smallest (time, sequence) across heap and lanes
//! gives exactly the order one heap would, for less work. Slots hold the single
//! pending event of a recurring source (the next arrival of a process, the next tick
//! of a timer): setting a slot replaces, and so cancels, its previous entry. It does
//! not know what its payloads mean.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};

use drydock_engine::Nanos;

/// A min-queue of payloads by (time, insertion sequence).
#[derive(Debug)]
pub struct EventQueue<T> {
    heap: BinaryHeap<Entry<T>>,
    lanes: Vec<VecDeque<Entry<T>>>,
    slots: Vec<Option<Entry<T>>>,
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
        EventQueue { heap: BinaryHeap::new(), lanes: Vec::new(), slots: Vec::new(), next_sequence: 0 }
    }
}

impl<T> EventQueue<T> {
    /// Schedules `payload` at `time_ns`.
    pub fn push(&mut self, time_ns: Nanos, payload: T) {
        let sequence = self.next_sequence;
        self.next_sequence += 1;
        self.heap.push(Entry { time_ns, sequence, payload });
    }

    /// A queue with `lanes` FIFO lanes and `slots` single-entry slots.
    pub fn with_sources(lanes: usize, slots: usize) -> Self {
        EventQueue {
            heap: BinaryHeap::new(),
            lanes: (0..lanes).map(|_| VecDeque::new()).collect(),
            slots: (0..slots).map(|_| None).collect(),
            next_sequence: 0,
        }
    }

    /// Schedules `payload` at `time_ns` in slot `slot`, replacing what was there.
    pub fn set_slot(&mut self, slot: usize, time_ns: Nanos, payload: T) {
        let sequence = self.next_sequence;
        self.next_sequence += 1;
        self.slots[slot] = Some(Entry { time_ns, sequence, payload });
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
        let source = self.earliest()?;
        let time_ns = match source {
            Source::Heap => self.heap.peek()?.time_ns,
            Source::Lane(lane) => self.lanes[lane].front()?.time_ns,
            Source::Slot(slot) => self.slots[slot].as_ref()?.time_ns,
        };
        if time_ns > end_ns {
            return None;
        }
        let entry = match source {
            Source::Heap => self.heap.pop(),
            Source::Lane(lane) => self.lanes[lane].pop_front(),
            Source::Slot(slot) => self.slots[slot].take(),
        };
        entry.map(|entry| (entry.time_ns, entry.payload))
    }

    /// Time of the earliest entry.
    pub fn peek_time(&self) -> Option<Nanos> {
        match self.earliest()? {
            Source::Heap => self.heap.peek().map(|entry| entry.time_ns),
            Source::Lane(lane) => self.lanes[lane].front().map(|entry| entry.time_ns),
            Source::Slot(slot) => self.slots[slot].as_ref().map(|entry| entry.time_ns),
        }
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.heap.len() + self.lanes.iter().map(VecDeque::len).sum::<usize>() + self.slots.iter().flatten().count()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The source holding the smallest (time, sequence).
    fn earliest(&self) -> Option<Source> {
        let mut best = Source::Heap;
        let mut best_key = self.heap.peek().map_or(NONE, key);
        for index in 0..self.lanes.len() {
            if let Some(front) = self.lanes[index].front() {
                let candidate = key(front);
                if candidate < best_key {
                    best = Source::Lane(index);
                    best_key = candidate;
                }
            }
        }
        for index in 0..self.slots.len() {
            if let Some(entry) = &self.slots[index] {
                let candidate = key(entry);
                if candidate < best_key {
                    best = Source::Slot(index);
                    best_key = candidate;
                }
            }
        }
        (best_key != NONE).then_some(best)
    }
}

/// Key of no entry: larger than any real (time, sequence).
const NONE: (Nanos, u64) = (Nanos::MAX, u64::MAX);

#[derive(Copy, Clone, Debug)]
enum Source {
    Heap,
    Lane(usize),
    Slot(usize),
}

fn key<T>(entry: &Entry<T>) -> (Nanos, u64) {
    (entry.time_ns, entry.sequence)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn slots_replace_their_entry_and_keep_the_global_order() {
        let mut queue = EventQueue::with_sources(1, 2);
        queue.set_slot(0, 10, "stale");
        queue.push(10, "heap");
        queue.set_slot(0, 10, "slot 0");
        queue.push_lane(0, 10, "lane");
        queue.set_slot(1, 5, "slot 1");
        let order: Vec<_> = std::iter::from_fn(|| queue.pop()).map(|(_, payload)| payload).collect();
        assert_eq!(order, ["slot 1", "heap", "slot 0", "lane"]);
    }

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
            let mut with_lanes = EventQueue::with_sources(3, 0);
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
