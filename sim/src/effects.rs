//! Measures what each injected event did to the market (and to the engine's
//! exposure), from samples the runner feeds in at every fundamental step:
//!
//! - volatility spike: realized volatility of one-second mid returns in the spike
//!   window divided by that of the equally long window before it;
//! - liquidity gap: mean depth within the affected ticks of the best price during
//!   the gap divided by the mean over the equally long window before;
//! - flash crash: drawdown from the pre-event peak (60 s before) to the trough,
//!   time to the trough, time from the trough until 80 % of the configured recovery
//!   is regained, and when our last quote left the exchange for the rest of the
//!   fall (`quotes_pulled_ms`);
//! - faults: orders the engine sent during the window (after the engine's stale
//!   grace for feed faults) and rejects received.
//!
//! Memory is bounded by the events' windows, not the run's length.

use std::collections::BTreeMap;

use drydock_engine::units::NANOS_PER_S;
use drydock_engine::{Nanos, Side};
use serde::{Deserialize, Serialize};

use crate::config::InjectedEvent;

/// Seconds of history before a crash in which its peak is sought.
pub const CRASH_PEAK_LOOKBACK_S: f64 = 60.0;

/// Names of the effects measured for an event of `kind`.
pub fn measure_names(kind: &str) -> &'static [&'static str] {
    match kind {
        "volatility_spike" => &["realized_vol_ratio", "engine_orders_during", "engine_rejects_during"],
        "liquidity_gap" => &["depth_fraction", "engine_orders_during", "engine_rejects_during"],
        "flash_crash" | "price_shock" => &[
            "drawdown_pct",
            "peak_price",
            "trough_price",
            "time_to_trough_s",
            "time_to_recovery_s",
            "quotes_pulled_ms",
            "engine_orders_during",
            "engine_rejects_during",
        ],
        "fee_change" => &[],
        _ => &["engine_orders_during", "engine_rejects_during"],
    }
}

/// One market sample.
#[derive(Copy, Clone, Debug)]
pub struct Sample {
    /// Time.
    pub time_ns: Nanos,
    /// Exchange mid, fractional ticks (None when one-sided).
    pub mid_ticks: Option<f64>,
    /// Our orders resting at the exchange.
    pub our_resting_orders: usize,
}

/// What one event did, for reports and expectations.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EventEffect {
    /// Name used in expectations: the kind, with `_2`, `_3`… for repeats.
    pub name: String,
    /// Event kind.
    pub kind: String,
    /// Start, seconds.
    pub start_s: f64,
    /// Active time, seconds.
    pub active_s: f64,
    /// Measured effects by name (units in the names).
    pub measured: BTreeMap<String, f64>,
}

#[derive(Clone, Debug, Default)]
struct Window {
    sum: f64,
    count: u64,
}

impl Window {
    fn add(&mut self, value: f64) {
        self.sum += value;
        self.count += 1;
    }

    fn mean(&self) -> Option<f64> {
        (self.count > 0).then(|| self.sum / self.count as f64)
    }
}

#[derive(Clone, Debug, Default)]
struct Tracker {
    start_ns: Nanos,
    end_ns: Nanos,
    before_returns: Vec<f64>,
    during_returns: Vec<f64>,
    last_second_mid: Option<(i64, f64)>,
    before_depth: Window,
    during_depth: Window,
    peak: Option<f64>,
    trough: Option<(Nanos, f64)>,
    recovered_at: Option<Nanos>,
    quotes_gone_at: Option<Nanos>,
    orders_during: u64,
    rejects_during: u64,
}

/// Tracks every injected event's effects.
#[derive(Clone, Debug)]
pub struct EffectMeter {
    events: Vec<InjectedEvent>,
    names: Vec<String>,
    trackers: Vec<Tracker>,
    stale_grace_ns: Nanos,
}

fn to_ns(seconds: f64) -> Nanos {
    (seconds * NANOS_PER_S as f64).round() as Nanos
}

impl EffectMeter {
    /// A meter for `events`; `stale_grace_ns` is the engine's `md_stale_ms`, the
    /// time it may take to notice a dead feed.
    pub fn new(events: &[InjectedEvent], stale_grace_ns: Nanos) -> Self {
        let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
        let names = events
            .iter()
            .map(|event| {
                let count = seen.entry(event.kind()).or_default();
                *count += 1;
                if *count == 1 { event.kind().to_string() } else { format!("{}_{}", event.kind(), count) }
            })
            .collect();
        let trackers = events
            .iter()
            .map(|event| {
                let start_ns = to_ns(event.start_s());
                Tracker { start_ns, end_ns: start_ns + to_ns(event.active_s()), ..Tracker::default() }
            })
            .collect();
        EffectMeter { events: events.to_vec(), names, trackers, stale_grace_ns }
    }

    /// Names of the events, in scenario order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Feeds one market sample; `depth_lots(side, ticks)` reads the exchange book's
    /// depth within `ticks` of the best price.
    pub fn sample(&mut self, sample: &Sample, depth_lots: impl Fn(Side, i64) -> i64) {
        for (event, tracker) in self.events.iter().zip(&mut self.trackers) {
            let lead_ns = tracker.end_ns - tracker.start_ns;
            match *event {
                InjectedEvent::VolatilitySpike { .. } => track_returns(tracker, sample, lead_ns),
                InjectedEvent::LiquidityGap { sides, levels, .. } => {
                    let depth: i64 =
                        [Side::Buy, Side::Sell].into_iter().filter(|side| sides.includes(*side)).map(|side| depth_lots(side, levels)).sum();
                    if sample.time_ns >= tracker.start_ns - lead_ns && sample.time_ns < tracker.start_ns {
                        tracker.before_depth.add(depth as f64);
                    } else if sample.time_ns >= tracker.start_ns && sample.time_ns < tracker.end_ns {
                        tracker.during_depth.add(depth as f64);
                    }
                }
                InjectedEvent::FlashCrash { side, recovery_fraction, fall_duration_s, .. } => {
                    track_crash(tracker, sample, side, recovery_fraction, to_ns(fall_duration_s));
                }
                InjectedEvent::PriceShock { recovery_fraction, fall_s, .. } => {
                    track_crash(tracker, sample, Side::Sell, recovery_fraction, to_ns(fall_s));
                }
                _ => {}
            }
        }
    }

    /// Our orders resting at the exchange are `resting` at `now_ns`. For a crash,
    /// `quotes_pulled_ms` is when the last quote left for good: the moment during
    /// the fall from which none rests again until the fall ends (a quote that comes
    /// back resets it).
    pub fn our_resting_orders(&mut self, now_ns: Nanos, resting: usize) {
        for (event, tracker) in self.events.iter().zip(&mut self.trackers) {
            let fall_s = match *event {
                InjectedEvent::FlashCrash { fall_duration_s, .. } => Some(fall_duration_s),
                InjectedEvent::PriceShock { fall_s, .. } => Some(fall_s),
                _ => None,
            };
            if let Some(fall_duration_s) = fall_s
                && now_ns >= tracker.start_ns
                && now_ns <= tracker.start_ns + to_ns(fall_duration_s)
            {
                if resting > 0 {
                    tracker.quotes_gone_at = None;
                } else if tracker.quotes_gone_at.is_none() {
                    tracker.quotes_gone_at = Some(now_ns);
                }
            }
        }
    }

    /// Counts an order the engine sent at `now_ns` against the fault windows.
    pub fn order_sent(&mut self, now_ns: Nanos) {
        for (event, tracker) in self.events.iter().zip(&mut self.trackers) {
            let grace =
                if matches!(event, InjectedEvent::FeedOutage { .. } | InjectedEvent::Disconnect { .. }) { self.stale_grace_ns } else { 0 };
            if now_ns >= tracker.start_ns + grace && now_ns < tracker.end_ns {
                tracker.orders_during += 1;
            }
        }
    }

    /// Counts a reject the engine received at `now_ns`.
    pub fn reject_received(&mut self, now_ns: Nanos) {
        for tracker in &mut self.trackers {
            if now_ns >= tracker.start_ns && now_ns < tracker.end_ns {
                tracker.rejects_during += 1;
            }
        }
    }

    /// Orders the engine sent while a feed fault had outlived its stale grace.
    pub fn orders_while_feed_stale(&self) -> u64 {
        self.events
            .iter()
            .zip(&self.trackers)
            .filter(|(event, _)| matches!(event, InjectedEvent::FeedOutage { .. } | InjectedEvent::Disconnect { .. }))
            .map(|(_, tracker)| tracker.orders_during)
            .sum()
    }

    /// The measured effects, in scenario order.
    pub fn effects(&self, tick_size: f64) -> Vec<EventEffect> {
        self.events
            .iter()
            .zip(&self.trackers)
            .zip(&self.names)
            .map(|((event, tracker), name)| EventEffect {
                name: name.clone(),
                kind: event.kind().to_string(),
                start_s: event.start_s(),
                active_s: event.active_s(),
                measured: measured(event, tracker, tick_size),
            })
            .collect()
    }
}

fn track_returns(tracker: &mut Tracker, sample: &Sample, lead_ns: Nanos) {
    let Some(mid) = sample.mid_ticks else { return };
    let second = sample.time_ns.div_euclid(NANOS_PER_S);
    if let Some((last_second, last_mid)) = tracker.last_second_mid {
        if second == last_second {
            return;
        }
        let log_return = (mid / last_mid).ln();
        if sample.time_ns > tracker.start_ns - lead_ns && sample.time_ns <= tracker.start_ns {
            tracker.before_returns.push(log_return);
        } else if sample.time_ns > tracker.start_ns && sample.time_ns <= tracker.end_ns {
            tracker.during_returns.push(log_return);
        }
    }
    tracker.last_second_mid = Some((second, mid));
}

fn track_crash(tracker: &mut Tracker, sample: &Sample, side: Side, recovery_fraction: f64, fall_ns: Nanos) {
    let Some(mid) = sample.mid_ticks else { return };
    let time_ns = sample.time_ns;
    let lookback_ns = to_ns(CRASH_PEAK_LOOKBACK_S);
    // A sell crash falls (peak is a max, trough a min); a buy crash mirrors it.
    let sign = if side == Side::Sell { 1.0 } else { -1.0 };
    if time_ns >= tracker.start_ns - lookback_ns && time_ns <= tracker.start_ns {
        tracker.peak = Some(tracker.peak.map_or(mid, |peak: f64| if sign * mid > sign * peak { mid } else { peak }));
    }
    // Samples apply the same rule as exact updates (which catch every transition
    // between samples); they matter when no report arrives during the fall.
    if time_ns >= tracker.start_ns && time_ns <= tracker.start_ns + fall_ns {
        if sample.our_resting_orders > 0 {
            tracker.quotes_gone_at = None;
        } else if tracker.quotes_gone_at.is_none() {
            tracker.quotes_gone_at = Some(time_ns);
        }
    }
    if time_ns < tracker.start_ns || time_ns > tracker.end_ns + lookback_ns {
        return;
    }
    if time_ns <= tracker.end_ns && tracker.trough.is_none_or(|(_, trough)| sign * mid < sign * trough) {
        tracker.trough = Some((time_ns, mid));
        tracker.recovered_at = None;
    }
    if let (Some(peak), Some((trough_ns, trough)), None) = (tracker.peak, tracker.trough, tracker.recovered_at) {
        let target = trough + 0.8 * recovery_fraction * (peak - trough);
        if time_ns > trough_ns && recovery_fraction > 0.0 && sign * mid >= sign * target {
            tracker.recovered_at = Some(time_ns);
        }
    }
}

fn measured(event: &InjectedEvent, tracker: &Tracker, tick_size: f64) -> BTreeMap<String, f64> {
    let mut measured = BTreeMap::new();
    let seconds = |ns: Nanos| ns as f64 / NANOS_PER_S as f64;
    match event {
        InjectedEvent::VolatilitySpike { .. } => {
            let (before, during) = (std_dev(&tracker.before_returns), std_dev(&tracker.during_returns));
            if let (Some(before), Some(during)) = (before, during)
                && before > 0.0
            {
                measured.insert("realized_vol_ratio".to_string(), during / before);
            }
        }
        InjectedEvent::LiquidityGap { .. } => {
            if let (Some(before), Some(during)) = (tracker.before_depth.mean(), tracker.during_depth.mean())
                && before > 0.0
            {
                measured.insert("depth_fraction".to_string(), during / before);
            }
        }
        InjectedEvent::FlashCrash { .. } | InjectedEvent::PriceShock { .. } => {
            if let (Some(peak), Some((trough_ns, trough))) = (tracker.peak, tracker.trough) {
                measured.insert("drawdown_pct".to_string(), ((peak - trough) / peak * 100.0).abs());
                measured.insert("peak_price".to_string(), peak * tick_size);
                measured.insert("trough_price".to_string(), trough * tick_size);
                measured.insert("time_to_trough_s".to_string(), seconds(trough_ns - tracker.start_ns));
                if let Some(recovered_ns) = tracker.recovered_at {
                    measured.insert("time_to_recovery_s".to_string(), seconds(recovered_ns - trough_ns));
                }
            }
            if let Some(gone_ns) = tracker.quotes_gone_at {
                measured.insert("quotes_pulled_ms".to_string(), (gone_ns - tracker.start_ns) as f64 / 1e6);
            }
        }
        _ => {}
    }
    if !matches!(event, InjectedEvent::FeeChange { .. }) {
        measured.insert("engine_orders_during".to_string(), tracker.orders_during as f64);
        measured.insert("engine_rejects_during".to_string(), tracker.rejects_during as f64);
    }
    measured
}

fn std_dev(values: &[f64]) -> Option<f64> {
    if values.len() < 2 {
        return None;
    }
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    let variance = values.iter().map(|value| (value - mean).powi(2)).sum::<f64>() / (values.len() - 1) as f64;
    Some(variance.sqrt())
}
