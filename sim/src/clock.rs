//! The [`Clock`] seam and the simulator's [`VirtualClock`]: integer nanoseconds that
//! move only when the event loop says so. Nothing in the dock reads a wall clock; a
//! live runner would implement `Clock` over the system clock outside this crate.

use drydock_engine::Nanos;

/// A source of "now" in nanoseconds.
pub trait Clock {
    /// The current time.
    fn now_ns(&self) -> Nanos;
}

/// Virtual time: starts at a chosen instant and only moves forward when advanced.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct VirtualClock {
    now_ns: Nanos,
}

impl VirtualClock {
    /// A clock at `start_ns`.
    pub fn starting_at(start_ns: Nanos) -> Self {
        VirtualClock { now_ns: start_ns }
    }

    /// Moves to `time_ns`. Time never runs backwards: an earlier time is a bug in the
    /// caller's event ordering.
    pub fn advance_to(&mut self, time_ns: Nanos) {
        debug_assert!(time_ns >= self.now_ns, "virtual time ran backwards: {} -> {}", self.now_ns, time_ns);
        self.now_ns = self.now_ns.max(time_ns);
    }
}

impl Clock for VirtualClock {
    fn now_ns(&self) -> Nanos {
        self.now_ns
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advances_monotonically() {
        let mut clock = VirtualClock::starting_at(5);
        clock.advance_to(9);
        assert_eq!(clock.now_ns(), 9);
    }
}
