//! Counters, block reasons and the KPI summary the engine reports. Computed inside
//! the engine so a simulation and a live run derive them the same way.
//!
//! Percentiles come from HDR histograms (3 significant digits, constant memory in
//! run length). Floats here are analytics only; nothing in this file feeds back into
//! trading decisions.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// Why a quote or an order was not sent. Each decision counts each reason at most once.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BlockReason {
    /// The kill switch is engaged.
    KillSwitch,
    /// Market data is older than `md_stale_ms`.
    StaleMarketData,
    /// The volatility circuit breaker is tripped.
    VolatilityBreaker,
    /// The error circuit breaker is backing off.
    ErrorBreaker,
    /// A quote would take the position past the hard limit.
    PositionLimit,
    /// A quote would take the position value past `max_notional_quote`.
    NotionalLimit,
    /// No two-sided, uncrossed book to price from.
    NoMarket,
    /// The impact cap reduced or removed a quote.
    ImpactCap,
    /// `max_open_orders` live orders already.
    MaxOpenOrders,
    /// The order rate limit is used up.
    RateLimit,
    /// A requote was due but `min_interval_ms` had not passed.
    MinInterval,
    /// An order would be below the venue's minimum notional.
    MinNotional,
    /// An unwind was needed but the taker cap allows none.
    TakerCap,
}

impl BlockReason {
    /// Every reason, in a fixed order.
    pub const ALL: [BlockReason; 13] = [
        BlockReason::KillSwitch,
        BlockReason::StaleMarketData,
        BlockReason::VolatilityBreaker,
        BlockReason::ErrorBreaker,
        BlockReason::PositionLimit,
        BlockReason::NotionalLimit,
        BlockReason::NoMarket,
        BlockReason::ImpactCap,
        BlockReason::MaxOpenOrders,
        BlockReason::RateLimit,
        BlockReason::MinInterval,
        BlockReason::MinNotional,
        BlockReason::TakerCap,
    ];

    /// Snake-case name, as in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            BlockReason::KillSwitch => "kill_switch",
            BlockReason::StaleMarketData => "stale_market_data",
            BlockReason::VolatilityBreaker => "volatility_breaker",
            BlockReason::ErrorBreaker => "error_breaker",
            BlockReason::PositionLimit => "position_limit",
            BlockReason::NotionalLimit => "notional_limit",
            BlockReason::NoMarket => "no_market",
            BlockReason::ImpactCap => "impact_cap",
            BlockReason::MaxOpenOrders => "max_open_orders",
            BlockReason::RateLimit => "rate_limit",
            BlockReason::MinInterval => "min_interval",
            BlockReason::MinNotional => "min_notional",
            BlockReason::TakerCap => "taker_cap",
        }
    }

    /// Risk guards (these make a decision count towards `risk_ratio`); the others are
    /// throttles and venue rules.
    pub fn is_risk(self) -> bool {
        matches!(
            self,
            BlockReason::KillSwitch
                | BlockReason::StaleMarketData
                | BlockReason::VolatilityBreaker
                | BlockReason::ErrorBreaker
                | BlockReason::PositionLimit
                | BlockReason::NotionalLimit
        )
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

/// The reasons recorded during one decision.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct BlockSet(u16);

impl BlockSet {
    /// Records a reason.
    pub fn add(&mut self, reason: BlockReason) {
        self.0 |= reason.bit();
    }

    /// True when the reason was recorded.
    pub fn contains(self, reason: BlockReason) -> bool {
        self.0 & reason.bit() != 0
    }

    /// True when any risk guard blocked.
    pub fn any_risk(self) -> bool {
        BlockReason::ALL.iter().any(|reason| reason.is_risk() && self.contains(*reason))
    }
}

/// Event counters of one engine run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Counters {
    /// New orders sent.
    pub orders_sent: u64,
    /// Replaces sent.
    pub replaces_sent: u64,
    /// Cancels sent.
    pub cancels_sent: u64,
    /// New orders rejected by the venue.
    pub orders_rejected: u64,
    /// Of those, post-only orders that would have crossed.
    pub post_only_rejects: u64,
    /// Cancels rejected by the venue.
    pub cancels_rejected: u64,
    /// Replaces rejected by the venue.
    pub replaces_rejected: u64,
    /// Orders confirmed canceled.
    pub orders_canceled: u64,
    /// Requests without an answer within `ack_timeout_ms`.
    pub timeouts: u64,
    /// Fill reports dropped as duplicates (same fill id).
    pub duplicate_fills: u64,
    /// Fills for orders the engine already considered finished.
    pub late_fills: u64,
    /// Fill lots the engine had no open exposure for (late, unknown or over-fills):
    /// the amount by which the position may exceed the hard limit.
    pub untracked_fill_lots: i64,
    /// Reports naming an order the engine never knew (or forgot).
    pub unknown_order_reports: u64,
    /// Quote decisions evaluated.
    pub decisions: u64,
    /// Decisions in which a risk guard blocked.
    pub risk_blocked_decisions: u64,
    /// Decision timer ticks.
    pub decision_ticks: u64,
    /// Market-data messages handled.
    pub market_events: u64,
    /// Times the kill switch engaged.
    pub kill_switch_engagements: u64,
    /// Times the volatility breaker tripped.
    pub volatility_breaker_trips: u64,
    /// Times the error breaker tripped.
    pub error_breaker_trips: u64,
    /// Venue snapshots reconciled.
    pub reconciliations: u64,
    /// Mismatches found by reconciliation, critical or not.
    pub reconciliation_mismatches: u64,
    /// Operator parameter updates applied.
    pub param_updates: u64,
    /// Operator parameter updates refused.
    pub param_updates_refused: u64,
    block_reasons: [u64; BlockReason::ALL.len()],
}

impl Counters {
    /// Counts the reasons of one finished decision.
    pub fn record_decision(&mut self, blocked: BlockSet) {
        self.decisions += 1;
        if blocked.any_risk() {
            self.risk_blocked_decisions += 1;
        }
        for reason in BlockReason::ALL {
            if blocked.contains(reason) {
                self.block_reasons[reason as usize] += 1;
            }
        }
    }

    /// Decisions blocked by each reason, by name (only reasons that occurred).
    pub fn block_reasons(&self) -> BTreeMap<String, u64> {
        BlockReason::ALL
            .iter()
            .filter(|reason| self.block_reasons[**reason as usize] > 0)
            .map(|reason| (reason.as_str().to_string(), self.block_reasons[*reason as usize]))
            .collect()
    }

    /// Decisions blocked by one reason.
    pub fn blocked_by(&self, reason: BlockReason) -> u64 {
        self.block_reasons[reason as usize]
    }
}

/// A histogram of signed values in basis points, with 0.001 bps resolution and 3
/// significant digits: negatives and non-negatives kept apart so both keep precision.
#[derive(Clone, Debug)]
pub struct SignedHistogram {
    negative: Histogram<u64>,
    non_negative: Histogram<u64>,
}

impl Default for SignedHistogram {
    fn default() -> Self {
        let histogram = || Histogram::<u64>::new(3).expect("3 significant digits is a valid histogram");
        SignedHistogram { negative: histogram(), non_negative: histogram() }
    }
}

const HISTOGRAM_UNITS_PER_BPS: f64 = 1_000.0;
const HISTOGRAM_MAX_UNITS: f64 = 1e12;

impl SignedHistogram {
    /// Records one value (non-finite values are ignored; huge ones are clamped).
    pub fn record(&mut self, value_bps: f64) {
        if !value_bps.is_finite() {
            return;
        }
        let units = (value_bps.abs() * HISTOGRAM_UNITS_PER_BPS).round().min(HISTOGRAM_MAX_UNITS) as u64;
        let target = if value_bps < 0.0 { &mut self.negative } else { &mut self.non_negative };
        // `record` grows the auto-resizing histogram; it cannot fail below the clamp.
        let _ = target.record(units);
    }

    /// Number of values recorded.
    pub fn len(&self) -> u64 {
        self.negative.len() + self.non_negative.len()
    }

    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Nearest-rank quantile (`q` in 0..=1) in bps; 0 when empty.
    pub fn quantile(&self, q: f64) -> f64 {
        let total = self.len();
        if total == 0 {
            return 0.0;
        }
        let rank = ((q.clamp(0.0, 1.0) * total as f64).ceil() as u64).clamp(1, total);
        let negatives = self.negative.len();
        let units = if rank <= negatives {
            let from_top = negatives - rank + 1;
            -(self.negative.value_at_quantile((from_top as f64 - 0.5) / negatives as f64) as f64)
        } else {
            let k = rank - negatives;
            let count = self.non_negative.len();
            self.non_negative.value_at_quantile((k as f64 - 0.5) / count as f64) as f64
        };
        units / HISTOGRAM_UNITS_PER_BPS
    }
}

/// The engine's KPI summary. Units: quote currency for money, lots for sizes,
/// basis points for `_bps`, percent for `_pct`, a fraction 0..1 for `risk_ratio`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Kpis {
    /// Net PnL per traded notional, bps (0 with no fills).
    pub net_bps: f64,
    /// Total PnL after fees, marked at fair value, quote currency.
    pub pnl_total: f64,
    /// Realized PnL before fees, quote currency.
    pub pnl_realized: f64,
    /// Unrealized PnL of the open position, quote currency.
    pub pnl_unrealized: f64,
    /// Fees paid, quote currency (negative: net rebates).
    pub fees: f64,
    /// Fills.
    pub fills: u64,
    /// Maker volume, lots.
    pub maker_volume: i64,
    /// Taker volume, lots.
    pub taker_volume: i64,
    /// Traded notional, quote currency.
    pub traded_notional: f64,
    /// Taker share of our volume, percent.
    pub taker_share_pct: f64,
    /// 95th percentile of the 1-second adverse selection over all fills, bps.
    pub adverse_p95_bps: f64,
    /// 95th percentile of the 10-second adverse selection over all fills, bps.
    pub adverse_10s_p95_bps: f64,
    /// Mean spread captured against fair value over maker fills, bps.
    pub spread_captured_mean_bps: f64,
    /// 95th percentile of taker slippage against fair value, bps.
    pub slippage_p95_bps: f64,
    /// Share of decisions in which a risk guard blocked quoting, 0..1.
    pub risk_ratio: f64,
    /// Decisions blocked by each reason.
    pub block_reasons: BTreeMap<String, u64>,
    /// Position at the end, lots.
    pub inventory_final: i64,
    /// Largest absolute position, lots.
    pub max_inventory_abs: i64,
    /// Largest drop of total PnL from its running peak, quote currency.
    pub max_drawdown: f64,
    /// Time with at least one resting quote on both sides, percent of run time.
    pub quote_uptime_pct: f64,
    /// New orders sent.
    pub orders_sent: u64,
    /// New orders rejected.
    pub orders_rejected: u64,
    /// Cancels sent.
    pub cancels_sent: u64,
    /// Replaces sent.
    pub replaces_sent: u64,
    /// Decisions evaluated.
    pub decisions: u64,
    /// Times the kill switch engaged.
    pub kill_switch_engagements: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_quantiles_follow_nearest_rank() {
        let mut histogram = SignedHistogram::default();
        for value in -50..50 {
            histogram.record(value as f64 / 10.0);
        }
        assert_eq!(histogram.len(), 100);
        assert!((histogram.quantile(0.95) - 4.4).abs() < 0.01, "{}", histogram.quantile(0.95));
        assert!((histogram.quantile(0.05) + 4.6).abs() < 0.01, "{}", histogram.quantile(0.05));
        assert!((histogram.quantile(0.0) + 5.0).abs() < 0.01);
        assert!((histogram.quantile(1.0) - 4.9).abs() < 0.01);
    }

    #[test]
    fn empty_histogram_reads_zero() {
        assert_eq!(SignedHistogram::default().quantile(0.95), 0.0);
    }

    #[test]
    fn decisions_count_each_reason_once_and_risk_separately() {
        let mut counters = Counters::default();
        let mut blocked = BlockSet::default();
        blocked.add(BlockReason::ImpactCap);
        blocked.add(BlockReason::ImpactCap);
        counters.record_decision(blocked);
        blocked.add(BlockReason::PositionLimit);
        counters.record_decision(blocked);
        assert_eq!(counters.blocked_by(BlockReason::ImpactCap), 2);
        assert_eq!(counters.risk_blocked_decisions, 1);
        assert_eq!(counters.block_reasons().len(), 2);
    }
}
