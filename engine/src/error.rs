//! Typed errors of the engine crate. Each names the field, the offending value and
//! what is allowed, so a caller can print it as is. Messages are lowercase and say
//! how to fix the input. Nothing here is raised for market or venue events: the
//! engine absorbs those (counting what looks wrong); only invalid configuration or
//! operator input is an error.

use thiserror::Error;

/// `value` as a person would write it in a message: plain for everyday magnitudes,
/// scientific beyond them (`1e300`, not three hundred digits; `1e-9`, not
/// `0.000000001`).
pub fn readable_number(value: f64) -> String {
    let magnitude = value.abs();
    if value.is_finite() && magnitude != 0.0 && !(1e-6..1e15).contains(&magnitude) { format!("{value:e}") } else { format!("{value}") }
}

/// An [`crate::Instrument`] field outside its allowed range.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum InstrumentError {
    /// A numeric field is not finite or outside `[min, max]`.
    #[error(
        "instrument field `{field}` = {} is outside [{}, {}]; set it within that range",
        readable_number(*.value),
        readable_number(*.min),
        readable_number(*.max)
    )]
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
    #[error(
        "parameter `{name}` = {} is outside [{}, {}] ({unit}); set it within that range",
        readable_number(*.value),
        readable_number(*.min),
        readable_number(*.max)
    )]
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
    #[error("parameter `{name}` = {} must be a whole number ({unit})", readable_number(*.value))]
    NotInteger {
        /// Parameter name.
        name: &'static str,
        /// Offending value.
        value: f64,
        /// Unit of the parameter.
        unit: &'static str,
    },
    /// Two parameters that must be ordered are not.
    #[error(
        "parameter `{lower}` = {} must not exceed `{upper}` = {}; lower the first or raise the second",
        readable_number(*.lower_value),
        readable_number(*.upper_value)
    )]
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_in_messages_stay_short() {
        assert_eq!(readable_number(1e300), "1e300");
        assert_eq!(readable_number(-2.5e-300), "-2.5e-300");
        assert_eq!(readable_number(0.25), "0.25");
        assert_eq!(readable_number(60_000.0), "60000");
        assert_eq!(readable_number(0.0), "0");
        assert_eq!(readable_number(f64::NAN), "NaN");
        let error = ParamError::OutOfRange { name: "gamma", value: 1e300, min: 0.0, max: 10.0, unit: "1/quote" };
        assert_eq!(error.to_string(), "parameter `gamma` = 1e300 is outside [0, 10] (1/quote); set it within that range");
        let error = ParamError::OutOfRange { name: "gamma", value: -1.0, min: 1e-9, max: 1_000.0, unit: "1/quote" };
        assert_eq!(error.to_string(), "parameter `gamma` = -1 is outside [1e-9, 1000] (1/quote); set it within that range");
    }
}
