//! How the dock builds a run's engine: the instrument it trades, its starting
//! parameters and profile, and the seed its jitter stream comes from. One
//! [`EngineSetup`] builds the engine of a simulation and, written into a journal's
//! header, the engine that replays that journal, so the two are built the same way
//! (the same named stream, `engine.jitter`, from the same root seed).
//!
//! Deliberately not here: how the setup is stored (the harness's journal writes it
//! as JSON) and anything the engine does once built.

use drydock_engine::{Engine, EngineError, EngineParams, Instrument};
use serde::{Deserialize, Serialize};

use crate::config::SimConfig;
use crate::rng::SeedRoot;

/// Everything the engine of a run is built from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngineSetup {
    /// The run's root seed; the engine's jitter stream is derived from it.
    pub seed: u64,
    /// The instrument as the engine sees it (grid, minimum notional, fees).
    pub instrument: Instrument,
    /// The parameters at the start of the run (operator controls change them later,
    /// as events the engine receives).
    pub params: EngineParams,
    /// The profile the parameters came from, for reports.
    pub profile: String,
}

/// The name of the engine's jitter stream under the root seed.
pub const ENGINE_JITTER_STREAM: &str = "engine.jitter";

impl EngineSetup {
    /// The setup of a simulation of `config` with `params` from `profile`.
    pub fn for_run(config: &SimConfig, params: EngineParams, profile: &str) -> Self {
        EngineSetup {
            seed: config.seed,
            instrument: config.exchange.engine_instrument(&config.market),
            params,
            profile: profile.to_string(),
        }
    }

    /// A fresh engine, as the run started it.
    pub fn build(&self) -> Result<Engine, EngineError> {
        let jitter = SeedRoot::new(self.seed).stream(ENGINE_JITTER_STREAM);
        Engine::new(self.instrument.clone(), self.params.clone(), &self.profile, Box::new(jitter))
    }
}
