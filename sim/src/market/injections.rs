//! The schedule of injected market events as functions of virtual time: the
//! volatility multiplier of a spike, the price path offset and flow burst of a
//! flash crash, and the depth acceptance of a liquidity gap. Pure functions of the
//! configuration and the time; one-shot actions (withdrawing depth at a start) are
//! applied by the generator, and faults by the runner.

use drydock_engine::units::NANOS_PER_S;
use drydock_engine::{Nanos, Side};

use crate::config::{BookSides, InjectedEvent};

/// Market-order baseline multiplier while a crash is falling.
pub const CRASH_FLOW_MULT: f64 = 8.0;

/// The injected events that shape the market.
#[derive(Clone, Debug, Default)]
pub struct Injections {
    events: Vec<InjectedEvent>,
}

fn seconds(time_ns: Nanos) -> f64 {
    time_ns as f64 / NANOS_PER_S as f64
}

impl Injections {
    /// From the scenario's events (faults among them are ignored here).
    pub fn new(events: &[InjectedEvent]) -> Self {
        Injections { events: events.to_vec() }
    }

    /// Volatility multiplier at `now_ns` (product over active spikes).
    pub fn volatility_multiplier(&self, now_ns: Nanos) -> f64 {
        let now_s = seconds(now_ns);
        self.events
            .iter()
            .filter_map(|event| match *event {
                InjectedEvent::VolatilitySpike { start_s, duration_s, multiplier, decay_half_life_s }
                    if now_s >= start_s && now_s < start_s + duration_s =>
                {
                    Some(1.0 + (multiplier - 1.0) * 0.5f64.powf((now_s - start_s) / decay_half_life_s))
                }
                _ => None,
            })
            .product()
    }

    /// Log-price offset of all crashes at `now_ns` (0 before a crash; the
    /// unrecovered part stays after it).
    pub fn crash_log_offset(&self, now_ns: Nanos) -> f64 {
        let now_s = seconds(now_ns);
        self.events
            .iter()
            .map(|event| match *event {
                InjectedEvent::FlashCrash { start_s, side, drop_pct, fall_duration_s, halt_s, recovery_fraction, recovery_s, .. } => {
                    let full = match side {
                        Side::Sell => (1.0 - drop_pct / 100.0).ln(),
                        Side::Buy => (1.0 + drop_pct / 100.0).ln(),
                    };
                    let trough_s = start_s + fall_duration_s;
                    let recovery_start_s = trough_s + halt_s;
                    if now_s < start_s {
                        0.0
                    } else if now_s < trough_s {
                        full * (now_s - start_s) / fall_duration_s
                    } else if now_s < recovery_start_s {
                        full
                    } else {
                        let progress = ((now_s - recovery_start_s) / recovery_s).min(1.0);
                        full * (1.0 - recovery_fraction * progress)
                    }
                }
                _ => 0.0,
            })
            .sum()
    }

    /// The side whose depth is being swept by a falling (or spiking) crash, if any.
    pub fn crash_swept_side(&self, now_ns: Nanos) -> Option<Side> {
        let now_s = seconds(now_ns);
        self.events.iter().find_map(|event| match *event {
            InjectedEvent::FlashCrash { start_s, side, fall_duration_s, .. } if now_s >= start_s && now_s < start_s + fall_duration_s => {
                Some(side.opposite())
            }
            _ => None,
        })
    }

    /// Market-order baseline multiplier at `now_ns`.
    pub fn flow_multiplier(&self, now_ns: Nanos) -> f64 {
        if self.crash_swept_side(now_ns).is_some() { CRASH_FLOW_MULT } else { 1.0 }
    }

    /// Probability that a new limit order `levels_from_touch` levels from the touch
    /// on `side` is placed (1 outside gaps; the depth multiplier in a gap, refilling
    /// with the half-life after it).
    pub fn gap_acceptance(&self, now_ns: Nanos, side: Side, levels_from_touch: i64) -> f64 {
        let now_s = seconds(now_ns);
        self.events
            .iter()
            .filter_map(|event| match *event {
                InjectedEvent::LiquidityGap { start_s, duration_s, sides, depth_multiplier, levels, refill_half_life_s }
                    if sides.includes(side) && levels_from_touch < levels && now_s >= start_s =>
                {
                    let end_s = start_s + duration_s;
                    if now_s < end_s {
                        Some(depth_multiplier)
                    } else {
                        Some(1.0 - (1.0 - depth_multiplier) * 0.5f64.powf((now_s - end_s) / refill_half_life_s))
                    }
                }
                _ => None,
            })
            .fold(1.0, f64::min)
    }

    /// Times at which the market-order baseline changes (crash falls start and end).
    pub fn flow_change_times_ns(&self) -> Vec<Nanos> {
        let to_ns = |s: f64| (s * NANOS_PER_S as f64).round() as Nanos;
        self.events
            .iter()
            .flat_map(|event| match *event {
                InjectedEvent::FlashCrash { start_s, fall_duration_s, .. } => vec![to_ns(start_s), to_ns(start_s + fall_duration_s)],
                _ => Vec::new(),
            })
            .collect()
    }
}

/// Which sides a gap thins at its start, as book sides.
pub fn gap_sides(sides: BookSides) -> Vec<Side> {
    [Side::Buy, Side::Sell].into_iter().filter(|side| sides.includes(*side)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Nanos = NANOS_PER_S;

    #[test]
    fn crash_path_falls_holds_and_recovers() {
        let injections = Injections::new(&[InjectedEvent::FlashCrash {
            start_s: 10.0,
            side: Side::Sell,
            drop_pct: 10.0,
            fall_duration_s: 2.0,
            depth_withdrawn: 0.5,
            halt_s: 1.0,
            recovery_fraction: 0.5,
            recovery_s: 4.0,
        }]);
        let trough = (0.9f64).ln();
        assert_eq!(injections.crash_log_offset(9 * S), 0.0);
        assert!((injections.crash_log_offset(11 * S) - trough / 2.0).abs() < 1e-12);
        assert!((injections.crash_log_offset(12 * S + S / 2) - trough).abs() < 1e-12);
        assert!((injections.crash_log_offset(30 * S) - trough / 2.0).abs() < 1e-12);
        assert_eq!(injections.crash_swept_side(11 * S), Some(Side::Buy));
        assert_eq!(injections.flow_multiplier(13 * S), 1.0);
    }

    #[test]
    fn spike_decays_and_gap_refills() {
        let injections = Injections::new(&[
            InjectedEvent::VolatilitySpike { start_s: 0.0, duration_s: 100.0, multiplier: 5.0, decay_half_life_s: 10.0 },
            InjectedEvent::LiquidityGap {
                start_s: 0.0,
                duration_s: 10.0,
                sides: BookSides::Bid,
                depth_multiplier: 0.1,
                levels: 5,
                refill_half_life_s: 5.0,
            },
        ]);
        assert!((injections.volatility_multiplier(0) - 5.0).abs() < 1e-12);
        assert!((injections.volatility_multiplier(10 * S) - 3.0).abs() < 1e-12);
        assert_eq!(injections.volatility_multiplier(100 * S), 1.0);
        assert_eq!(injections.gap_acceptance(S, Side::Buy, 2), 0.1);
        assert_eq!(injections.gap_acceptance(S, Side::Buy, 5), 1.0);
        assert_eq!(injections.gap_acceptance(S, Side::Sell, 0), 1.0);
        assert!((injections.gap_acceptance(15 * S, Side::Buy, 0) - 0.55).abs() < 1e-12);
    }
}
