//! # drydock-sim
//!
//! The dock: everything around the engine that a simulation needs, driving the
//! engine only through its own port. A seeded virtual clock and one event queue
//! ordered by (time, sequence); named ChaCha streams per component derived from
//! one root seed; a mock exchange with an L2 book, FIFO queue positions, latency,
//! fees and faults; a market generator with regime-switching jump-diffusion,
//! Hawkes order flow and injected volatility spikes, liquidity gaps and flash
//! crashes; replay of recorded sessions (readers, book reconstruction, a tape the
//! exchange follows, queue models, price shocks); measured effects of each injected
//! event; and a BLAKE3 fingerprint of every event the engine saw and every command
//! it emitted.
//!
//! Deliberately not here: wall clocks (stage timings use a clock the harness hands
//! in), threads, scenario files and the CLI (those are the harness's), file IO other
//! than reading recordings, and anything the engine decides.

#![deny(missing_docs)]

mod buffers;
pub mod calibrate;
pub mod clock;
pub mod config;
pub mod effects;
pub mod engine_setup;
pub mod error;
pub mod exchange;
pub mod feed;
pub mod fingerprint;
pub mod latency;
pub mod market;
pub mod perf;
pub mod queue;
pub mod replay;
pub mod rng;
pub mod runner;

pub use config::{ExchangeConfig, InjectedEvent, MarketConfig, SimConfig};
pub use engine_setup::EngineSetup;
pub use error::{ConfigError, SimError};
pub use runner::{Discard, RunMetrics, RunObserver, RunOptions, RunOutcome, Simulation, TimelineRow, run};
