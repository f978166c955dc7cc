//! Reconstructs the L2 book from recorded messages with the venue's sequencing
//! rules: diffs are buffered until a snapshot; the diff that covers the snapshot
//! (`U ≤ lastUpdateId + 1 ≤ u`) applies first; after that ids must chain (`U` =
//! previous `u` + 1, or `pu` = previous `u` on futures streams). On a gap the
//! policy decides: stop with an error naming time, expected and found ids, or
//! resynchronize at the next snapshot. A crossed book is an error with context.
//! One builder may read several files in order (a day's file continues the
//! previous day's book when it has no snapshot of its own).

use std::collections::BTreeMap;
use std::path::Path;

use drydock_engine::{Lots, Nanos, Side, Ticks};

use super::{Recorded, RecordedEvent, ReplayError};

/// What to do when diff ids do not chain.
#[derive(Copy, Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GapPolicy {
    /// Stop with an error.
    Stop,
    /// Drop the book and wait for the next snapshot.
    Resync,
}

impl std::str::FromStr for GapPolicy {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        super::parse_name(text, "gap policy")
    }
}

/// Counters of a reconstruction.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BookStats {
    /// Diffs applied after a snapshot.
    pub diffs_applied: u64,
    /// Diffs older than the book, dropped.
    pub diffs_stale: u64,
    /// Diffs buffered while waiting for a snapshot and then dropped as older.
    pub diffs_before_snapshot: u64,
    /// Snapshots applied.
    pub snapshots: u64,
    /// Gaps found (with the resync policy; the stop policy errors on the first).
    pub gaps: u64,
}

/// Most diffs buffered while waiting for a snapshot.
pub const MAX_BUFFERED: usize = 100_000;

/// The reconstructed book and its sequencing state.
#[derive(Clone, Debug)]
pub struct BookBuilder {
    policy: GapPolicy,
    bids: BTreeMap<Ticks, Lots>,
    asks: BTreeMap<Ticks, Lots>,
    last_update_id: Option<u64>,
    /// Right after a snapshot: the next diff must cover it rather than chain.
    awaiting_cover: bool,
    buffered: Vec<RecordedEvent>,
    stats: BookStats,
}

impl BookBuilder {
    /// An empty builder waiting for a snapshot.
    pub fn new(policy: GapPolicy) -> Self {
        BookBuilder {
            policy,
            bids: BTreeMap::new(),
            asks: BTreeMap::new(),
            last_update_id: None,
            awaiting_cover: false,
            buffered: Vec::new(),
            stats: BookStats::default(),
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> &BookStats {
        &self.stats
    }

    /// True once a snapshot has synchronized the book.
    pub fn is_synced(&self) -> bool {
        self.last_update_id.is_some()
    }

    /// Best bid and ask.
    pub fn touch(&self) -> Option<((Ticks, Lots), (Ticks, Lots))> {
        let (bid, bid_size) = self.bids.last_key_value()?;
        let (ask, ask_size) = self.asks.first_key_value()?;
        Some(((*bid, *bid_size), (*ask, *ask_size)))
    }

    /// Mid in fractional ticks.
    pub fn mid_ticks(&self) -> Option<f64> {
        self.touch().map(|((bid, _), (ask, _))| (bid + ask) as f64 / 2.0)
    }

    /// Every level, bids then asks, each best price first.
    pub fn levels(&self) -> impl Iterator<Item = (Side, Ticks, Lots)> + '_ {
        let bids = self.bids.iter().rev().map(|(price, size)| (Side::Buy, *price, *size));
        bids.chain(self.asks.iter().map(|(price, size)| (Side::Sell, *price, *size)))
    }

    /// Levels per side.
    pub fn depth(&self) -> (usize, usize) {
        (self.bids.len(), self.asks.len())
    }

    /// Applies one recorded event from `path`; returns true when the book changed.
    pub fn apply(&mut self, path: &Path, event: &RecordedEvent) -> Result<bool, ReplayError> {
        match &event.message {
            Recorded::Snapshot { last_update_id, bids, asks } => {
                self.bids = bids.iter().filter(|(_, size)| *size > 0).copied().collect();
                self.asks = asks.iter().filter(|(_, size)| *size > 0).copied().collect();
                self.last_update_id = Some(*last_update_id);
                self.awaiting_cover = true;
                self.stats.snapshots += 1;
                self.check_uncrossed(path, event)?;
                let buffered = std::mem::take(&mut self.buffered);
                for diff in &buffered {
                    self.apply_diff(path, diff)?;
                }
                Ok(true)
            }
            Recorded::Depth { .. } if self.last_update_id.is_none() => {
                if self.buffered.len() >= MAX_BUFFERED {
                    return Err(ReplayError::at(
                        path,
                        event.line,
                        format!(
                            "{MAX_BUFFERED} diffs and no snapshot yet; the recording needs a depth snapshot (or an earlier file that has one)"
                        ),
                    ));
                }
                self.buffered.push(event.clone());
                Ok(false)
            }
            Recorded::Depth { .. } => self.apply_diff(path, event),
            Recorded::Trade { .. } | Recorded::BestBidOffer { .. } => Ok(false),
        }
    }

    fn apply_diff(&mut self, path: &Path, event: &RecordedEvent) -> Result<bool, ReplayError> {
        let Recorded::Depth { first_update_id, last_update_id, previous_update_id, bids, asks } = &event.message else { return Ok(false) };
        let Some(last) = self.last_update_id else { return Ok(false) };
        if *last_update_id <= last {
            // Older than the book: buffered before the snapshot, or delivered twice.
            if self.awaiting_cover {
                self.stats.diffs_before_snapshot += 1
            } else {
                self.stats.diffs_stale += 1
            }
            return Ok(false);
        }
        let (chains, expected, found) = match (self.awaiting_cover, previous_update_id) {
            // The diff covering the snapshot: U <= lastUpdateId + 1 <= u (u > lastUpdateId holds here).
            (true, _) => (*first_update_id <= last + 1, last + 1, *first_update_id),
            // Futures streams chain by `pu`; spot by U = previous u + 1.
            (false, Some(previous)) => (*previous == last, last, *previous),
            (false, None) => (*first_update_id == last + 1, last + 1, *first_update_id),
        };
        if !chains {
            return self.gap(path, event, expected, found);
        }
        for (price, size) in bids {
            set_level(&mut self.bids, *price, *size);
        }
        for (price, size) in asks {
            set_level(&mut self.asks, *price, *size);
        }
        self.last_update_id = Some(*last_update_id);
        self.awaiting_cover = false;
        self.stats.diffs_applied += 1;
        self.check_uncrossed(path, event)?;
        Ok(true)
    }

    fn gap(&mut self, path: &Path, event: &RecordedEvent, expected: u64, found: u64) -> Result<bool, ReplayError> {
        self.stats.gaps += 1;
        match self.policy {
            GapPolicy::Stop => Err(ReplayError::at(
                path,
                event.line,
                format!(
                    "gap in depth updates at {}: expected update id {expected}, found {found}; replay with the resync policy to continue at the next snapshot",
                    describe_time(event)
                ),
            )),
            GapPolicy::Resync => {
                self.bids.clear();
                self.asks.clear();
                self.last_update_id = None;
                self.awaiting_cover = false;
                Ok(true)
            }
        }
    }

    fn check_uncrossed(&self, path: &Path, event: &RecordedEvent) -> Result<(), ReplayError> {
        match self.touch() {
            Some(((bid, _), (ask, _))) if bid >= ask => Err(ReplayError::at(
                path,
                event.line,
                format!(
                    "the book crossed at {}: best bid {bid} >= best ask {ask} (ticks); the recording is inconsistent here",
                    describe_time(event)
                ),
            )),
            _ => Ok(()),
        }
    }
}

fn set_level(levels: &mut BTreeMap<Ticks, Lots>, price: Ticks, size: Lots) {
    if size > 0 {
        levels.insert(price, size);
    } else {
        levels.remove(&price);
    }
}

fn describe_time(event: &RecordedEvent) -> String {
    let exchange = event.exchange_ns.map_or(String::new(), |ns: Nanos| format!("exchange time {ns} ns, "));
    format!("{exchange}local time {} ns", event.local_ns)
}
