//! Typed errors of the dock. Configuration errors name the setting by its dotted
//! path (`market.volatility_annual`, `events[2].duration_s`); the harness turns the
//! path into file:line:column of the scenario file. Messages are lowercase and say
//! what is allowed.

use thiserror::Error;

/// A configuration value the dock cannot run with.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("`{field}`: {message}")]
pub struct ConfigError {
    /// Dotted path of the setting, e.g. `events[1].start_s`.
    pub field: String,
    /// What is wrong and what is allowed.
    pub message: String,
}

impl ConfigError {
    /// An invalid value at `field`.
    pub fn invalid(field: &str, message: &str) -> Self {
        ConfigError { field: field.to_string(), message: message.to_string() }
    }
}

/// Errors from building or running a simulation.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum SimError {
    /// The configuration is invalid.
    #[error("invalid scenario setting {0}")]
    Config(#[from] ConfigError),
    /// The engine refused its parameters.
    #[error("engine setup failed: {0}")]
    Engine(#[from] drydock_engine::EngineError),
}
