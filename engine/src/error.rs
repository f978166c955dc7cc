//! Typed errors of the engine crate. Each names the field, the offending value and
//! what is allowed, so a caller can print it as is. Messages are lowercase and say
//! how to fix the input. Nothing here is raised for market or venue events: the
//! engine absorbs those (counting what looks wrong); only invalid configuration or
//! operator input is an error.

use thiserror::Error;

/// An [`crate::Instrument`] field outside its allowed range.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum InstrumentError {
    /// A numeric field is not finite or outside `[min, max]`.
    #[error("instrument field `{field}` = {value} is outside [{min}, {max}]; set it within that range")]
    OutOfRange {
        /// Field name.
        field: &'static str,
        /// Offending value.
        value: f64,
        /// Smallest allowed value.
        min: f64,
        /// Largest allowed value.
        max: f64,
    },
}

/// An [`crate::EngineParams`] value that breaks the bounds table or a cross-field rule.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ParamError {
    /// A numeric parameter is not finite or outside its bounds.
    #[error("parameter `{name}` = {value} is outside [{min}, {max}] ({unit}); set it within that range")]
    OutOfRange {
        /// Parameter name.
        name: &'static str,
        /// Offending value.
        value: f64,
        /// Smallest allowed value.
        min: f64,
        /// Largest allowed value.
        max: f64,
        /// Unit of the parameter.
        unit: &'static str,
    },
    /// An integer parameter was given a fractional value.
    #[error("parameter `{name}` = {value} must be a whole number ({unit})")]
    NotInteger {
        /// Parameter name.
        name: &'static str,
        /// Offending value.
        value: f64,
        /// Unit of the parameter.
        unit: &'static str,
    },
    /// Two parameters that must be ordered are not.
    #[error("parameter `{lower}` = {lower_value} must not exceed `{upper}` = {upper_value}; lower the first or raise the second")]
    Ordering {
        /// The parameter that must be the smaller.
        lower: &'static str,
        /// Its value.
        lower_value: f64,
        /// The parameter that must be the larger.
        upper: &'static str,
        /// Its value.
        upper_value: f64,
    },
    /// A parameter update names a parameter that does not exist.
    #[error("unknown parameter `{name}`; known parameters are: {known}")]
    Unknown {
        /// The name given.
        name: String,
        /// Comma-separated list of valid names.
        known: String,
    },
    /// A choice parameter was given a value it does not accept.
    #[error("parameter `{name}` does not accept `{value}`; use one of: {allowed}")]
    BadChoice {
        /// Parameter name.
        name: String,
        /// The value given.
        value: String,
        /// Comma-separated list of valid values.
        allowed: String,
    },
}

/// Errors the engine returns from [`crate::Engine::handle`]: only operator controls fail.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum EngineError {
    /// A parameter update or profile revert was refused; the old parameters stay in force.
    #[error("parameter update refused: {0}")]
    Params(#[from] ParamError),
    /// The instrument given to the engine is invalid.
    #[error("invalid instrument: {0}")]
    Instrument(#[from] InstrumentError),
}
