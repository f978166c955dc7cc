//! The event queue: one total order by (time, sequence number given at insertion).
//! Equal times are broken by insertion order, a fixed rule, so the same inputs always
//! pop in the same order. Besides the priority heap it has FIFO lanes for sources
//! that never schedule out of order (an order-preserving link): they share the
//! sequence counter, so popping the smallest (time, sequence) across heap and lanes
//! gives exactly the order one heap would, for less work. Slots hold the single
//! pending event of a recurring source (the next arrival of a process, the next tick
//! of a timer): setting a slot replaces, and so cancels, its previous entry.
//!
//! Each source's earliest (time, sequence) is kept packed in one `u128` in a small
//! fixed array, so finding the next event is a branch-free scan of a few integers
//! rather than a walk over the sources' containers. It does not know what its
//! payloads mean.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};

use drydock_engine::Nanos;

/// Most sources (the heap, lanes and slots together) a queue can have: what the
/// runner uses, since every pop compares them all.
pub const SOURCES_MAX: usize = 10;

/// A min-queue of payloads by (time, insertion sequence).
#[derive(Debug)]
pub struct EventQueue<T> {
    heap: BinaryHeap<Entry<T>>,
    lanes: Vec<VecDeque<Entry<T>>>,
    slots: Vec<Option<T>>,
    /// The earliest key of each source: the heap, then the lanes, then the slots;
    /// [`EMPTY`] for a source with nothing pending (and for unused entries).
    keys: [u128; SOURCES_MAX],
    next_sequence: u64,
}

#[derive(Debug)]
struct Entry<T> {
    key: u128,
    payload: T,
}

impl<T> PartialEq for Entry<T> {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
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
        other.key.cmp(&self.key)
    }
}

impl<T> Default for EventQueue<T> {
    fn default() -> Self {
        Self::with_sources(0, 0)
    }
}

impl<T> EventQueue<T> {
    /// A queue with `lanes` FIFO lanes and `slots` single-entry slots; together with
    /// the heap at most [`SOURCES_MAX`] sources.
    pub fn with_sources(lanes: usize, slots: usize) -> Self {
        assert!(1 + lanes + slots <= SOURCES_MAX, "an event queue has at most {SOURCES_MAX} sources");
        EventQueue {
            heap: BinaryHeap::new(),
            lanes: (0..lanes).map(|_| VecDeque::new()).collect(),
            slots: (0..slots).map(|_| None).collect(),
            keys: [EMPTY; SOURCES_MAX],
            next_sequence: 0,
        }
    }

    /// Schedules `payload` at `time_ns`.
    pub fn push(&mut self, time_ns: Nanos, payload: T) {
        let key = self.next_key(time_ns);
        self.heap.push(Entry { key, payload });
        self.keys[HEAP] = self.keys[HEAP].min(key);
    }

    /// Schedules `payload` at `time_ns` in slot `slot`, replacing what was there.
    #[inline]
    pub fn set_slot(&mut self, slot: usize, time_ns: Nanos, payload: T) {
        let key = self.next_key(time_ns);
        self.slots[slot] = Some(payload);
        self.keys[1 + self.lanes.len() + slot] = key;
    }

    /// Schedules `payload` at `time_ns` on FIFO lane `lane`; times on one lane must
    /// not decrease (an order-preserving link guarantees it).
    #[inline]
    pub fn push_lane(&mut self, lane: usize, time_ns: Nanos, payload: T) {
        let key = self.next_key(time_ns);
        let queue = &mut self.lanes[lane];
        debug_assert!(queue.back().is_none_or(|last| last.key <= key), "lane {lane} scheduled out of order");
        if queue.is_empty() {
            self.keys[1 + lane] = key;
        }
        queue.push_back(Entry { key, payload });
    }

    /// Removes and returns the earliest entry across the heap and the lanes.
    pub fn pop(&mut self) -> Option<(Nanos, T)> {
        self.pop_until(Nanos::MAX)
    }

    /// Removes and returns the earliest entry if its time is at most `end_ns`.
    pub fn pop_until(&mut self, end_ns: Nanos) -> Option<(Nanos, T)> {
        let (source, key) = self.earliest();
        let time_ns = time_of(key);
        if key == EMPTY || time_ns > end_ns {
            return None;
        }
        let lanes = self.lanes.len();
        let payload = if source == HEAP {
            let entry = self.heap.pop().expect("a heap key has its entry");
            self.keys[HEAP] = self.heap.peek().map_or(EMPTY, |next| next.key);
            entry.payload
        } else if source <= lanes {
            let queue = &mut self.lanes[source - 1];
            let entry = queue.pop_front().expect("a lane key has its entry");
            self.keys[source] = queue.front().map_or(EMPTY, |next| next.key);
            entry.payload
        } else {
            self.keys[source] = EMPTY;
            self.slots[source - 1 - lanes].take().expect("a slot key has its payload")
        };
        Some((time_ns, payload))
    }

    /// Time of the earliest entry.
    pub fn peek_time(&self) -> Option<Nanos> {
        let (_, key) = self.earliest();
        (key != EMPTY).then(|| time_of(key))
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.heap.len() + self.lanes.iter().map(VecDeque::len).sum::<usize>() + self.slots.iter().flatten().count()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn next_key(&mut self, time_ns: Nanos) -> u128 {
        assert!(time_ns >= 0, "event scheduled before time zero ({time_ns} ns)");
        let sequence = self.next_sequence;
        self.next_sequence += 1;
        ((time_ns as u128) << 64) | sequence as u128
    }

    /// The source holding the smallest key, and that key ([`EMPTY`] when none).
    /// A fixed number of selects, no data-dependent branches.
    fn earliest(&self) -> (usize, u128) {
        let (mut best, mut best_key) = (HEAP, self.keys[HEAP]);
        for source in 1..SOURCES_MAX {
            let key = self.keys[source];
            let earlier = key < best_key;
            best = if earlier { source } else { best };
            best_key = if earlier { key } else { best_key };
        }
        (best, best_key)
    }
}

/// Index of the heap's key.
const HEAP: usize = 0;

/// Key of a source with nothing pending: larger than any real (time, sequence).
const EMPTY: u128 = u128::MAX;

fn time_of(key: u128) -> Nanos {
    (key >> 64) as Nanos
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

        #[test]
        fn heap_lanes_and_slots_interleaved_with_pops_match_an_ordered_model(
            operations in prop::collection::vec((0usize..7, 0i64..6), 0..400),
        ) {
            // Kinds 0..=1: the heap; 2..=3: lanes 0 and 1 (times never decrease);
            // 4..=5: slots 0 and 1 (replacing); 6: a pop, checked against the model.
            let mut queue = EventQueue::with_sources(2, 2);
            let mut model = std::collections::BTreeMap::new();
            let mut slot_keys: [Option<(i64, u64)>; 2] = [None, None];
            let (mut now, mut lane_clock, mut sequence) = (0i64, [0i64; 2], 0u64);
            for (index, &(kind, step)) in operations.iter().enumerate() {
                match kind {
                    0 | 1 => {
                        queue.push(now + step, index);
                        model.insert((now + step, sequence), index);
                    }
                    2 | 3 => {
                        let lane = kind - 2;
                        lane_clock[lane] = lane_clock[lane].max(now) + step;
                        queue.push_lane(lane, lane_clock[lane], index);
                        model.insert((lane_clock[lane], sequence), index);
                    }
                    4 | 5 => {
                        let slot = kind - 4;
                        queue.set_slot(slot, now + step, index);
                        if let Some(replaced) = slot_keys[slot].replace((now + step, sequence)) {
                            model.remove(&replaced);
                        }
                        model.insert((now + step, sequence), index);
                    }
                    _ => {
                        let expected = model.pop_first().map(|((time, popped_sequence), payload)| {
                            slot_keys.iter_mut().filter(|key| **key == Some((time, popped_sequence))).for_each(|key| *key = None);
                            (time, payload)
                        });
                        prop_assert_eq!(queue.pop(), expected);
                        now = expected.map_or(now, |(time, _)| time);
                        continue;
                    }
                }
                sequence += 1;
            }
            prop_assert_eq!(queue.len(), model.len());
            let rest: Vec<(i64, usize)> = std::iter::from_fn(|| queue.pop()).collect();
            let expected: Vec<(i64, usize)> = model.into_iter().map(|((time, _), payload)| (time, payload)).collect();
            prop_assert_eq!(rest, expected);
        }
    }
}
