//! What `report.html` draws, kept while the run streams: the timeline folded into
//! at most [`TRACE_BUCKETS_MAX`] buckets (each with the lowest, highest and last
//! value of what it covers, so a crash's trough or an inventory spike survives any
//! run length), and an evenly thinned sample of fills for markers.
//!
//! Memory is bounded whatever the run's length: when the buckets are full, pairs are
//! merged and each bucket covers twice as many rows; fills are thinned the same way.
//! The result depends only on the rows received, so it is as deterministic as they are.
//! Deliberately not here: drawing (see `svg`), files.

use drydock_engine::Side;
use drydock_engine::accounting::FillRecord;
use drydock_sim::{RunObserver, TimelineRow};

use super::histogram::BpsHistogram;

/// Buckets kept at most (points on a chart's time axis).
pub const TRACE_BUCKETS_MAX: usize = 1_024;

/// Fill markers kept at most.
pub const FILL_MARKS_MAX: usize = 1_000;

/// The lowest, highest and last value of a quantity over a bucket.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Band {
    /// Lowest value.
    pub min: f64,
    /// Highest value.
    pub max: f64,
    /// The value at the bucket's last row.
    pub last: f64,
}

impl Band {
    fn of(value: f64) -> Band {
        Band { min: value, max: value, last: value }
    }

    fn absorb(&mut self, later: Band) {
        self.min = self.min.min(later.min);
        self.max = self.max.max(later.max);
        self.last = later.last;
    }
}

/// Folds `later` into `earlier` (either may be absent).
fn absorb_optional(earlier: &mut Option<Band>, later: Option<Band>) {
    match (earlier.as_mut(), later) {
        (Some(band), Some(later)) => band.absorb(later),
        (None, Some(later)) => *earlier = Some(later),
        (_, None) => {}
    }
}

/// Consecutive timeline rows folded together. An optional quantity's band covers
/// the rows where it was present (`last`: the last of those); it is absent only when
/// no row of the bucket had it.
#[derive(Clone, Debug, PartialEq)]
pub struct Bucket {
    /// Time of the bucket's first row, seconds.
    pub time_first_s: f64,
    /// Time of its last row, seconds.
    pub time_last_s: f64,
    /// Rows folded in.
    pub rows: u64,
    /// Exchange mid (absent while the book is one-sided or empty).
    pub mid: Option<Band>,
    /// Exchange best bid.
    pub best_bid: Option<Band>,
    /// Exchange best ask.
    pub best_ask: Option<Band>,
    /// Our best resting bid.
    pub our_bid: Option<Band>,
    /// Our best resting ask.
    pub our_ask: Option<Band>,
    /// Engine inventory, lots.
    pub inventory_lots: Band,
    /// Engine total PnL, quote currency.
    pub pnl: Band,
}

impl Bucket {
    fn of(row: &TimelineRow) -> Bucket {
        Bucket {
            time_first_s: row.time_s,
            time_last_s: row.time_s,
            rows: 1,
            mid: row.mid.map(Band::of),
            best_bid: row.best_bid.map(Band::of),
            best_ask: row.best_ask.map(Band::of),
            our_bid: row.our_bid.map(Band::of),
            our_ask: row.our_ask.map(Band::of),
            inventory_lots: Band::of(row.inventory_lots as f64),
            pnl: Band::of(row.pnl),
        }
    }

    fn absorb(&mut self, later: &Bucket) {
        self.time_last_s = later.time_last_s;
        self.rows += later.rows;
        absorb_optional(&mut self.mid, later.mid);
        absorb_optional(&mut self.best_bid, later.best_bid);
        absorb_optional(&mut self.best_ask, later.best_ask);
        absorb_optional(&mut self.our_bid, later.our_bid);
        absorb_optional(&mut self.our_ask, later.our_ask);
        self.inventory_lots.absorb(later.inventory_lots);
        self.pnl.absorb(later.pnl);
    }
}

/// One fill, for a marker on the price chart.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FillMark {
    /// When the engine saw it, seconds.
    pub time_s: f64,
    /// Price, ticks.
    pub price_ticks: i64,
    /// Side of our order.
    pub side: Side,
}

/// The run's timeline and fills, bounded; a [`RunObserver`].
#[derive(Clone, Debug, Default)]
pub struct Trace {
    buckets: Vec<Bucket>,
    rows_per_bucket: u64,
    fills: Vec<FillMark>,
    fills_seen: u64,
    fill_stride: u64,
    spread_captured: BpsHistogram,
    adverse_1s: BpsHistogram,
    adverse_10s: BpsHistogram,
}

impl Trace {
    /// An empty trace.
    pub fn new() -> Trace {
        Trace { rows_per_bucket: 1, fill_stride: 1, ..Trace::default() }
    }

    /// The buckets, in time order.
    pub fn buckets(&self) -> &[Bucket] {
        &self.buckets
    }

    /// Timeline rows per full bucket (a power of two).
    pub fn rows_per_bucket(&self) -> u64 {
        self.rows_per_bucket
    }

    /// The fills kept for markers, in time order: every [`Trace::fill_stride`]-th fill.
    pub fn fills(&self) -> &[FillMark] {
        &self.fills
    }

    /// Fills received.
    pub fn fills_seen(&self) -> u64 {
        self.fills_seen
    }

    /// One fill in this many is kept for markers (a power of two).
    pub fn fill_stride(&self) -> u64 {
        self.fill_stride
    }

    /// Every fill's spread captured, 1 s markout and 10 s markout, bps (markouts
    /// that were never measured are not counted).
    pub fn fill_histograms(&self) -> [&BpsHistogram; 3] {
        [&self.spread_captured, &self.adverse_1s, &self.adverse_10s]
    }

    fn add_row(&mut self, row: &TimelineRow) {
        let bucket = Bucket::of(row);
        match self.buckets.last_mut() {
            Some(last) if last.rows < self.rows_per_bucket => last.absorb(&bucket),
            _ => {
                if self.buckets.len() == TRACE_BUCKETS_MAX {
                    self.halve_buckets();
                }
                self.buckets.push(bucket);
            }
        }
    }

    /// Merges neighbouring buckets pairwise; each then covers twice as many rows.
    fn halve_buckets(&mut self) {
        let merged: Vec<Bucket> = self
            .buckets
            .chunks(2)
            .map(|pair| {
                let mut bucket = pair[0].clone();
                if let Some(second) = pair.get(1) {
                    bucket.absorb(second);
                }
                bucket
            })
            .collect();
        self.buckets = merged;
        self.rows_per_bucket *= 2;
    }

    fn add_fill(&mut self, fill: &FillRecord) {
        self.spread_captured.add(fill.spread_captured_bps);
        if let Some(adverse) = fill.adverse_1s_bps {
            self.adverse_1s.add(adverse);
        }
        if let Some(adverse) = fill.adverse_10s_bps {
            self.adverse_10s.add(adverse);
        }
        let index = self.fills_seen;
        self.fills_seen += 1;
        if !index.is_multiple_of(self.fill_stride) {
            return;
        }
        if self.fills.len() == FILL_MARKS_MAX {
            // Keep every other one (those at multiples of the doubled stride).
            let kept: Vec<FillMark> = self.fills.iter().copied().step_by(2).collect();
            self.fills = kept;
            self.fill_stride *= 2;
            if !index.is_multiple_of(self.fill_stride) {
                return;
            }
        }
        self.fills.push(FillMark { time_s: fill.time_ns as f64 / 1e9, price_ticks: fill.price_ticks, side: fill.side });
    }
}

impl RunObserver for Trace {
    fn on_fill(&mut self, fill: &FillRecord) {
        self.add_fill(fill);
    }

    fn on_timeline(&mut self, row: &TimelineRow) {
        self.add_row(row);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use drydock_engine::ClientOrderId;
    use drydock_engine::port::Liquidity;

    fn row(index: u64) -> TimelineRow {
        let wave = ((index * 7919) % 1_000) as f64;
        TimelineRow {
            time_s: index as f64 * 0.5,
            mid: (!index.is_multiple_of(97)).then_some(100.0 + wave / 10.0),
            best_bid: Some(99.0),
            best_ask: Some(101.0),
            our_bid: (!index.is_multiple_of(3)).then_some(98.0),
            our_ask: None,
            inventory_lots: (wave as i64) - 500,
            pnl: -wave,
        }
    }

    fn fill(index: u64) -> FillRecord {
        FillRecord {
            time_ns: index as i64 * 1_000,
            order_id: ClientOrderId(index),
            fill_id: index,
            side: if index.is_multiple_of(2) { Side::Buy } else { Side::Sell },
            price_ticks: index as i64,
            size_lots: 1,
            liquidity: Liquidity::Maker,
            fee_quote: 0.0,
            fair_value_ticks: 0.0,
            position_after_lots: 0,
            spread_captured_bps: 0.0,
            adverse_1s_bps: None,
            adverse_10s_bps: None,
        }
    }

    #[test]
    fn buckets_stay_bounded_and_keep_every_extreme() {
        let rows: Vec<TimelineRow> = (0..100_003).map(row).collect();
        let mut trace = Trace::new();
        for row in &rows {
            trace.on_timeline(row);
        }
        let buckets = trace.buckets();
        assert!(buckets.len() <= TRACE_BUCKETS_MAX && buckets.len() > TRACE_BUCKETS_MAX / 2, "{}", buckets.len());
        assert_eq!(buckets.iter().map(|bucket| bucket.rows).sum::<u64>(), rows.len() as u64);
        assert!(buckets.windows(2).all(|pair| pair[0].time_last_s < pair[1].time_first_s));
        assert!(buckets[..buckets.len() - 1].iter().all(|bucket| bucket.rows == trace.rows_per_bucket()));
        // Each bucket's band is exactly the extremes of the rows it covers.
        let mut start = 0usize;
        for bucket in buckets {
            let covered = &rows[start..start + bucket.rows as usize];
            start += bucket.rows as usize;
            let inventory: Vec<f64> = covered.iter().map(|row| row.inventory_lots as f64).collect();
            assert_eq!(bucket.inventory_lots.min, inventory.iter().copied().fold(f64::INFINITY, f64::min));
            assert_eq!(bucket.inventory_lots.max, inventory.iter().copied().fold(f64::NEG_INFINITY, f64::max));
            assert_eq!(bucket.inventory_lots.last, *inventory.last().unwrap());
            let mids: Vec<f64> = covered.iter().filter_map(|row| row.mid).collect();
            assert_eq!(bucket.mid.map(|band| band.min), mids.iter().copied().reduce(f64::min));
            assert_eq!(bucket.mid.map(|band| band.max), mids.iter().copied().reduce(f64::max));
            assert_eq!(bucket.our_bid.map(|band| band.last), covered.iter().rev().find_map(|row| row.our_bid));
            assert_eq!(bucket.our_ask, None);
        }
    }

    #[test]
    fn a_short_timeline_is_kept_row_by_row() {
        let mut trace = Trace::new();
        for index in 0..10 {
            trace.on_timeline(&row(index));
        }
        assert_eq!(trace.buckets().len(), 10);
        assert_eq!(trace.rows_per_bucket(), 1);
        assert_eq!(trace.buckets()[3].mid, row(3).mid.map(Band::of));
    }

    #[test]
    fn fill_markers_are_an_even_sample_of_all_fills() {
        let mut trace = Trace::new();
        let total = 9_001u64;
        for index in 0..total {
            trace.on_fill(&fill(index));
        }
        assert_eq!(trace.fills_seen(), total);
        let stride = trace.fill_stride();
        assert_eq!(stride, 16);
        assert!(trace.fills().len() <= FILL_MARKS_MAX);
        let expected: Vec<i64> = (0..total).step_by(stride as usize).map(|index| index as i64).collect();
        let kept: Vec<i64> = trace.fills().iter().map(|mark| mark.price_ticks).collect();
        assert_eq!(kept, expected);
    }
}
