//! A fixed-bin histogram of per-fill values in basis points (spread captured,
//! markouts) for the run page: bins of [`BIN_BPS`] from −[`RANGE_BPS`] to
//! +[`RANGE_BPS`], with the values beyond counted apart, so memory is constant and
//! the result depends only on the values received. Deliberately not here: exact
//! quantiles (the KPIs in `report.json` have them).

/// Width of a bin, bps.
pub const BIN_BPS: f64 = 0.5;

/// The binned range is −RANGE_BPS to +RANGE_BPS.
pub const RANGE_BPS: f64 = 20.0;

const BINS: usize = (2.0 * RANGE_BPS / BIN_BPS) as usize;

/// Counts of values per bin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BpsHistogram {
    counts: Vec<u64>,
    below: u64,
    above: u64,
}

impl Default for BpsHistogram {
    fn default() -> Self {
        BpsHistogram { counts: vec![0; BINS], below: 0, above: 0 }
    }
}

impl BpsHistogram {
    /// Counts `value` (a value that is not finite is not counted).
    pub fn add(&mut self, value: f64) {
        if !value.is_finite() {
            return;
        }
        let position = (value + RANGE_BPS) / BIN_BPS;
        if position < 0.0 {
            self.below += 1;
        } else if position >= BINS as f64 {
            self.above += 1;
        } else {
            self.counts[position as usize] += 1;
        }
    }

    /// Values counted, in range or not.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum::<u64>() + self.below + self.above
    }

    /// Values below −RANGE_BPS and at or above +RANGE_BPS.
    pub fn outside(&self) -> (u64, u64) {
        (self.below, self.above)
    }

    /// The bins (first, last) that hold the central `fraction` of the values: the
    /// tails beyond, (1 − fraction) / 2 each, cut off; `None` when no value is in range.
    pub fn central_bins(&self, fraction: f64) -> Option<(usize, usize)> {
        let total = self.total() as f64;
        let tail = total * (1.0 - fraction) / 2.0;
        let mut cumulative = self.below as f64;
        let mut first = None;
        let mut last = None;
        for (bin, count) in self.counts.iter().enumerate() {
            cumulative += *count as f64;
            if *count > 0 && first.is_none() && cumulative > tail {
                first = Some(bin);
            }
            if *count > 0 && cumulative - (*count as f64) < total - tail {
                last = Some(bin);
            }
        }
        first.zip(last)
    }

    /// (bin centre in bps, share of all values counted) per bin, in order.
    pub fn shares(&self) -> Vec<(f64, f64)> {
        let total = self.total().max(1) as f64;
        self.counts.iter().enumerate().map(|(bin, count)| (-RANGE_BPS + (bin as f64 + 0.5) * BIN_BPS, *count as f64 / total)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_land_in_their_bins_and_the_rest_apart() {
        let mut histogram = BpsHistogram::default();
        for value in [0.0, 0.1, 0.49, 0.5, -0.01, -20.0, 19.99, 20.0, -25.0, f64::NAN] {
            histogram.add(value);
        }
        assert_eq!(histogram.total(), 9, "NaN is not counted");
        assert_eq!(histogram.outside(), (1, 1));
        let shares = histogram.shares();
        let share_at = |centre: f64| shares.iter().find(|(at, _)| (*at - centre).abs() < 1e-9).unwrap().1 * 9.0;
        assert_eq!(share_at(0.25).round(), 3.0, "0, 0.1 and 0.49");
        assert_eq!(share_at(0.75).round(), 1.0);
        assert_eq!(share_at(-0.25).round(), 1.0);
        assert_eq!(share_at(-19.75).round(), 1.0);
        assert_eq!(share_at(19.75).round(), 1.0);
        // 100 values at 0.25 and one far out each side: the central 98 % is the middle bin.
        let mut peaked = BpsHistogram::default();
        (0..100).for_each(|_| peaked.add(0.25));
        peaked.add(-15.0);
        peaked.add(15.0);
        let middle = (RANGE_BPS / BIN_BPS) as usize;
        assert_eq!(peaked.central_bins(0.98), Some((middle, middle)));
        assert_eq!(peaked.central_bins(1.0), Some((middle - 30, middle + 30)));
        assert_eq!(BpsHistogram::default().central_bins(0.99), None);
    }
}
