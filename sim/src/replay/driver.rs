//! Drives the mock exchange from a tape: the first book at virtual time 0, then
//! every event at its time, with the price shift of any `price_shock` applied to
//! every recorded price. The runner owns timing and the feed; this file decides
//! only what the recording does to the exchange at a given time.
//!
//! A price shock bends the session along a crash path: the shift grows linearly to
//! `drop_pct` of the mid at the shock's start over `fall_s`, holds for `trough_s`,
//! and gives back `recovery_fraction` of it over `recovery_s`. When the shift
//! changes, the whole recorded book moves (so it falls through our resting bids);
//! that needs the unshifted book, which is kept only when the scenario has a shock.

use std::collections::BTreeMap;
use std::sync::Arc;

use drydock_engine::units::NANOS_PER_S;
use drydock_engine::{Lots, Nanos, Side, Ticks};

use super::tape::{ReplayTape, TapeEvent, TapeLevel};
use crate::config::InjectedEvent;
use crate::exchange::{ExchangeOutput, MockExchange};

/// A tape being replayed into the exchange.
pub struct ReplayDriver {
    tape: Arc<ReplayTape>,
    next: usize,
    shocks: Vec<ShockPath>,
    /// The unshifted recorded book, kept when there are shocks.
    recorded: Option<BTreeMap<(Side, Ticks), Lots>>,
    shift_ticks: Ticks,
}

/// One price shock's path.
#[derive(Clone, Debug)]
struct ShockPath {
    event_index: usize,
    start_ns: Nanos,
    fall_ns: Nanos,
    trough_ns: Nanos,
    recovery_ns: Nanos,
    drop_fraction: f64,
    recovery_fraction: f64,
    /// Mid at the start, ticks (set when the shock starts).
    reference_mid_ticks: Option<f64>,
}

impl ShockPath {
    /// Share of the drop in force at `now_ns`, 0..1.
    fn depth(&self, now_ns: Nanos) -> f64 {
        let elapsed = now_ns - self.start_ns;
        if elapsed <= 0 {
            return 0.0;
        }
        if elapsed < self.fall_ns {
            return elapsed as f64 / self.fall_ns as f64;
        }
        let recovering = elapsed - self.fall_ns - self.trough_ns;
        if recovering <= 0 {
            return 1.0;
        }
        let recovered = (recovering as f64 / self.recovery_ns as f64).min(1.0);
        1.0 - self.recovery_fraction * recovered
    }

    fn shift_ticks(&self, now_ns: Nanos) -> Ticks {
        let Some(mid) = self.reference_mid_ticks else { return 0 };
        -(mid * self.drop_fraction * self.depth(now_ns)).round() as Ticks
    }
}

impl ReplayDriver {
    /// A driver for `tape` with the price shocks among `events`.
    pub fn new(tape: Arc<ReplayTape>, events: &[InjectedEvent]) -> Self {
        let seconds = |value: f64| (value * NANOS_PER_S as f64).round() as Nanos;
        let shocks: Vec<ShockPath> = events
            .iter()
            .enumerate()
            .filter_map(|(event_index, event)| match *event {
                InjectedEvent::PriceShock { start_s, drop_pct, fall_s, trough_s, recovery_fraction, recovery_s } => Some(ShockPath {
                    event_index,
                    start_ns: seconds(start_s),
                    fall_ns: seconds(fall_s).max(1),
                    trough_ns: seconds(trough_s),
                    recovery_ns: seconds(recovery_s).max(1),
                    drop_fraction: drop_pct / 100.0,
                    recovery_fraction,
                    reference_mid_ticks: None,
                }),
                _ => None,
            })
            .collect();
        let recorded = (!shocks.is_empty()).then(BTreeMap::new);
        ReplayDriver { tape, next: 0, shocks, recorded, shift_ticks: 0 }
    }

    /// The tape.
    pub fn tape(&self) -> &ReplayTape {
        &self.tape
    }

    /// Time of the next event, if any is left.
    pub fn next_time_ns(&self) -> Option<Nanos> {
        self.tape.events().get(self.next).map(TapeEvent::time_ns)
    }

    /// Applies every event due at `now_ns`; returns how many.
    pub fn apply_due(&mut self, now_ns: Nanos, exchange: &mut MockExchange, out: &mut ExchangeOutput) -> u64 {
        let tape = Arc::clone(&self.tape);
        let mut applied = 0;
        while let Some(event) = tape.events().get(self.next).filter(|event| event.time_ns() <= now_ns) {
            self.next += 1;
            applied += 1;
            match event {
                TapeEvent::Book { levels, .. } => {
                    let levels = tape.levels(levels);
                    if let Some(recorded) = &mut self.recorded {
                        recorded.clear();
                        apply_levels(recorded, levels);
                    }
                    exchange.replay_book(levels, self.shift_ticks, out);
                }
                TapeEvent::Depth { levels, .. } => {
                    let levels = tape.levels(levels);
                    if let Some(recorded) = &mut self.recorded {
                        apply_levels(recorded, levels);
                    }
                    exchange.replay_depth(levels, self.shift_ticks, out);
                }
                TapeEvent::Trade { price_ticks, size_lots, aggressor, .. } => {
                    exchange.replay_trade(*aggressor, price_ticks + self.shift_ticks, *size_lots, out)
                }
            }
        }
        applied
    }

    /// Starts the shock of scenario event `event_index` from the exchange's mid now.
    pub fn start_shock(&mut self, event_index: usize, mid_ticks: Option<f64>) {
        for shock in self.shocks.iter_mut().filter(|shock| shock.event_index == event_index) {
            shock.reference_mid_ticks = mid_ticks;
        }
    }

    /// Recomputes the shocks' shift at `now_ns`; when it changed, moves the whole
    /// recorded book to it.
    pub fn update_shift(&mut self, now_ns: Nanos, exchange: &mut MockExchange, out: &mut ExchangeOutput) {
        let Some(recorded) = &self.recorded else { return };
        let shift_ticks: Ticks = self.shocks.iter().map(|shock| shock.shift_ticks(now_ns)).sum();
        if shift_ticks == self.shift_ticks {
            return;
        }
        self.shift_ticks = shift_ticks;
        let levels: Vec<TapeLevel> =
            recorded.iter().map(|(&(side, price_ticks), &size_lots)| TapeLevel { side, price_ticks, size_lots }).collect();
        exchange.replay_book(&levels, shift_ticks, out);
    }
}

fn apply_levels(recorded: &mut BTreeMap<(Side, Ticks), Lots>, levels: &[TapeLevel]) {
    for level in levels {
        if level.size_lots > 0 {
            recorded.insert((level.side, level.price_ticks), level.size_lots);
        } else {
            recorded.remove(&(level.side, level.price_ticks));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shock_path_falls_holds_and_recovers() {
        let shock = ShockPath {
            event_index: 0,
            start_ns: 10,
            fall_ns: 10,
            trough_ns: 5,
            recovery_ns: 10,
            drop_fraction: 0.1,
            recovery_fraction: 0.5,
            reference_mid_ticks: Some(1_000.0),
        };
        let shifts: Vec<Ticks> = [0, 10, 15, 20, 25, 30, 35, 100].iter().map(|&t| shock.shift_ticks(t)).collect();
        assert_eq!(shifts, vec![0, 0, -50, -100, -100, -75, -50, -50]);
    }
}
