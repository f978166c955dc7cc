//! Wall-clock timings of the dock's stages, for the non-golden `perf` section.
//!
//! The dock never reads a wall clock itself: the harness may hand it a [`Clock`]
//! that does (through [`crate::RunOptions::stage_clock`]); without one, nothing is
//! timed. One call in [`SAMPLE_EVERY`] per stage is timed, into an HDR histogram
//! per stage, so profiling costs little and memory stays constant. These numbers
//! vary from run to run and machine to machine; they never reach a fingerprint or
//! a golden file.

use std::collections::BTreeMap;
use std::sync::Arc;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::clock::Clock;

/// One call in this many is timed.
pub const SAMPLE_EVERY: u64 = 16;

/// A stage of the dock's work.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    /// `Engine::handle` for one event.
    Engine,
    /// The exchange handling one of our commands.
    Exchange,
    /// One action of the other participants (generator and matching).
    Market,
}

impl Stage {
    fn name(self) -> &'static str {
        match self {
            Stage::Engine => "engine",
            Stage::Exchange => "exchange",
            Stage::Market => "market",
        }
    }
}

/// Percentiles of one stage, nanoseconds, and its estimated share of the run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StageTimings {
    /// Calls of the stage, timed or not.
    pub calls: u64,
    /// Calls timed.
    pub sampled: u64,
    /// Mean of the timed calls, ns.
    pub mean_ns: f64,
    /// The stage's estimated wall time over the whole run, ms: mean × calls. Each
    /// timed call also pays for two clock readings (tens of ns), so short stages
    /// are overstated.
    pub total_ms_estimated: f64,
    /// Median, ns.
    pub p50_ns: u64,
    /// 95th percentile, ns.
    pub p95_ns: u64,
    /// 99th percentile, ns.
    pub p99_ns: u64,
    /// Slowest, ns.
    pub max_ns: u64,
}

/// Timings per stage.
pub type PerfReport = BTreeMap<String, StageTimings>;

/// Times stages with an injected clock.
pub struct StageTimer {
    clock: Arc<dyn Clock + Send + Sync>,
    calls: [u64; 3],
    histograms: [Histogram<u64>; 3],
}

impl StageTimer {
    /// A timer reading `clock`.
    pub fn new(clock: Arc<dyn Clock + Send + Sync>) -> Self {
        let histogram = || Histogram::<u64>::new(3).expect("3 significant digits is a valid histogram");
        StageTimer { clock, calls: [0; 3], histograms: [histogram(), histogram(), histogram()] }
    }

    /// Runs `work`, timing it if this call is sampled.
    pub fn time<T>(&mut self, stage: Stage, work: impl FnOnce() -> T) -> T {
        let index = stage as usize;
        self.calls[index] += 1;
        if !self.calls[index].is_multiple_of(SAMPLE_EVERY) {
            return work();
        }
        let start = self.clock.now_ns();
        let result = work();
        let elapsed = (self.clock.now_ns() - start).max(0) as u64;
        // Auto-resizing: recording cannot fail for durations that fit in u64.
        let _ = self.histograms[index].record(elapsed);
        result
    }

    /// The percentiles per stage.
    pub fn report(&self) -> PerfReport {
        [Stage::Engine, Stage::Exchange, Stage::Market]
            .into_iter()
            .map(|stage| {
                let histogram = &self.histograms[stage as usize];
                let calls = self.calls[stage as usize];
                let mean_ns = if histogram.is_empty() { 0.0 } else { histogram.mean() };
                let timings = StageTimings {
                    calls,
                    sampled: histogram.len(),
                    mean_ns,
                    total_ms_estimated: mean_ns * calls as f64 / 1e6,
                    p50_ns: histogram.value_at_quantile(0.50),
                    p95_ns: histogram.value_at_quantile(0.95),
                    p99_ns: histogram.value_at_quantile(0.99),
                    max_ns: histogram.max(),
                };
                (stage.name().to_string(), timings)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicI64, Ordering};

    /// A clock that advances 100 ns per reading.
    struct Ticking(AtomicI64);

    impl Clock for Ticking {
        fn now_ns(&self) -> i64 {
            self.0.fetch_add(100, Ordering::Relaxed)
        }
    }

    #[test]
    fn samples_one_call_in_sixteen() {
        let mut timer = StageTimer::new(Arc::new(Ticking(AtomicI64::new(0))));
        for _ in 0..160 {
            timer.time(Stage::Engine, || ());
        }
        let report = timer.report();
        assert_eq!(report["engine"].sampled, 10);
        assert_eq!(report["engine"].calls, 160);
        assert_eq!(report["engine"].p50_ns, 100);
        assert_eq!(report["engine"].mean_ns, 100.0);
        assert_eq!(report["engine"].total_ms_estimated, 0.016, "100 ns for each of 160 calls");
        assert_eq!(report["market"].sampled, 0);
        assert_eq!(report["market"].mean_ns, 0.0, "a stage never timed has no mean, not NaN");
    }
}
