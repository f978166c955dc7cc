//! # drydock (harness)
//!
//! The harness around the engine and the dock: scenario files with layered
//! configuration and expectations, running them (whole, or as mini-soaks with a
//! KPI gate, an auto-tuner and stop criteria), and the artifacts people read
//! (`report.json`, `report.html`, `fills.csv`, `timeline.csv`, `ITER_SUMMARY_<n>.json`,
//! `TUNING_REPORT.json`). The `drydock` binary is a thin CLI
//! over this library.
//!
//! Deliberately not here: market simulation (in `drydock-sim`) and trading
//! decisions (in `drydock-engine`).

#![deny(missing_docs)]

pub mod artifacts;
pub mod calibration;
pub mod check;
pub mod expect;
pub mod gate;
pub mod golden;
pub mod html;
pub mod journal;
pub mod report;
pub mod run;
pub mod scenario;
pub mod soak;
pub mod sweep;

/// The code version of this build: BLAKE3 over the engine's, the dock's and the
/// harness's source, the manifests and `Cargo.lock` (16 hex digits; see `build.rs`).
/// The same source gives the same code version on any machine and profile.
pub const CODE_VERSION: &str = env!("DRYDOCK_CODE_VERSION");

pub use run::{HarnessError, RunFlags, RunResult, Verification, default_out_dir, run_scenario, run_scenario_with};
pub use scenario::{LoadOptions, Scenario, ScenarioError};
