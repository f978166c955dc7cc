//! # drydock-engine
//!
//! A market-making engine as a pure, deterministic state machine: the caller hands
//! it `(now_ns, Event)` and collects the `Command`s it emits. The same engine runs
//! inside Drydock's simulator and, later, behind a live venue adapter.
//!
//! What it does: fair value (mid or microprice), EWMA volatility, Avellaneda–Stoikov
//! reservation price and optimal spread or a vol-adaptive spread, N levels a side
//! with size skew and an impact cap, requote throttling, inventory lean and taker
//! unwind within a taker cap, risk guards (position and notional limits, open
//! orders, order rate, stale data, volatility and error circuit breakers, drawdown
//! kill switch), an order state machine robust to late, reordered and duplicated
//! reports, reconciliation, and accounting with the KPIs Drydock reports.
//!
//! What it deliberately does not do: read a clock, do IO, spawn threads or create
//! randomness (back-off jitter comes from the seeded stream it is given). Prices
//! are integer ticks and sizes integer lots; floats appear only in analytics.
//!
//! Entry points: [`Engine::new`], [`Engine::handle`], [`Engine::kpis`], the port
//! types in [`port`], and [`EngineParams`] with its bounds table [`PARAM_SPECS`].

#![deny(missing_docs)]

/// Version of this engine crate (goldens and reports record it).
pub const ENGINE_VERSION: &str = env!("CARGO_PKG_VERSION");

pub mod accounting;
pub mod book;
mod engine;
pub mod error;
pub mod kpi;
pub mod orders;
pub mod params;
pub mod port;
pub mod quoting;
pub mod reconcile;
pub mod risk;
pub mod signals;
pub mod units;

pub use engine::{Engine, EngineStatus};
pub use error::{EngineError, InstrumentError, ParamError, readable_number};
pub use kpi::{BlockReason, Kpis};
pub use params::{EngineParams, PARAM_SPECS, ParamValue};
pub use port::{Command, Control, Event, MarketData, PORT_VERSION, VenueReport};
pub use units::{ClientOrderId, Instrument, Lots, Nanos, PRICE_TICKS_MAX, SIZE_LOTS_MAX, Side, Ticks};
