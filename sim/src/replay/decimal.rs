//! Exact conversion of venue decimal strings ("61737.63000000") into integer ticks
//! and lots. No floating point: a value off the grid is an error, never a rounding.

use drydock_engine::{Lots, PRICE_TICKS_MAX, SIZE_LOTS_MAX, Ticks};

/// A grid step written as a decimal, e.g. 0.01, kept exactly as mantissa × 10^-scale.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Grid {
    mantissa: i128,
    scale: u32,
}

impl Grid {
    /// The grid of a step given as decimal text, e.g. "0.01".
    pub fn parse(step: &str) -> Option<Grid> {
        let (mantissa, scale) = parse_decimal(step)?;
        (mantissa > 0).then_some(Grid { mantissa, scale })
    }

    /// The grid of a step given as a float (from a scenario), e.g. 0.01.
    pub fn from_f64(step: f64) -> Option<Grid> {
        Grid::parse(&format!("{step}"))
    }

    /// The step as a float (for formats that carry floats).
    pub fn step_f64(&self) -> f64 {
        self.mantissa as f64 / 10f64.powi(self.scale as i32)
    }

    /// `text` as a whole number of steps; `None` when it is not a non-negative
    /// decimal on the grid.
    pub fn count(&self, text: &str) -> Option<i64> {
        let (mantissa, scale) = parse_decimal(text)?;
        if mantissa < 0 {
            return None;
        }
        // value / step = (m / 10^s) / (g / 10^t) = m · 10^t / (g · 10^s)
        let numerator = mantissa.checked_mul(10i128.checked_pow(self.scale)?)?;
        let denominator = self.mantissa.checked_mul(10i128.checked_pow(scale)?)?;
        (numerator % denominator == 0).then(|| numerator / denominator).and_then(|steps| i64::try_from(steps).ok())
    }

    /// `text` as a price on this (tick) grid, which must be positive; the error
    /// names the recording's `field`.
    pub fn price_ticks(&self, field: &str, text: &str) -> Result<i64, String> {
        let ticks = self.count(text).filter(|ticks| *ticks > 0).ok_or_else(|| {
            format!(
                "{field} `{text}` is not a positive price on the tick grid of {self}; use the venue's tick size \
                 (`--tick` in data commands, `market.instrument.tick_size` in a scenario)"
            )
        })?;
        within_domain(field, text, ticks, PRICE_TICKS_MAX, "ticks", "tick")
    }

    /// `text` as a size on this (lot) grid; the error names the recording's `field`.
    pub fn size_lots(&self, field: &str, text: &str) -> Result<i64, String> {
        let lots = self.count(text).ok_or_else(|| {
            format!(
                "{field} `{text}` is not a non-negative size on the lot grid of {self}; use the venue's lot size \
                 (`--lot` in data commands, `market.instrument.lot_size` in a scenario)"
            )
        })?;
        within_domain(field, text, lots, SIZE_LOTS_MAX, "lots", "lot")
    }
}

impl std::fmt::Display for Grid {
    /// The step as decimal text, e.g. `0.01`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let digits = format!("{:0>width$}", self.mantissa, width = self.scale as usize + 1);
        let (whole, fraction) = digits.split_at(digits.len() - self.scale as usize);
        if fraction.is_empty() { write!(f, "{whole}") } else { write!(f, "{whole}.{fraction}") }
    }
}

/// `steps` when it is at most `max` (the engine port's domain, 2^53), else an error
/// naming the recording's `field`.
pub fn within_domain(field: &str, text: &str, steps: i64, max: i64, unit: &str, grid: &str) -> Result<i64, String> {
    if steps <= max {
        Ok(steps)
    } else {
        Err(format!("{field} `{text}` is {steps} {unit}, more than the {max} the engine's port carries; use a coarser {grid} size"))
    }
}

/// Ticks of a price string on `grid`.
pub fn ticks(grid: &Grid, text: &str) -> Option<Ticks> {
    grid.count(text)
}

/// Lots of a quantity string on `grid`.
pub fn lots(grid: &Grid, text: &str) -> Option<Lots> {
    grid.count(text)
}

/// Parses "-12.3400" into (-123400, 4); rejects anything else.
fn parse_decimal(text: &str) -> Option<(i128, u32)> {
    let text = text.trim();
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty() && fraction.is_empty() || !whole.chars().chain(fraction.chars()).all(|ch| ch.is_ascii_digit()) {
        return None;
    }
    let fraction = fraction.trim_end_matches('0');
    let mantissa: i128 = format!("{whole}{fraction}").parse().ok()?;
    Some((if negative { -mantissa } else { mantissa }, fraction.len() as u32))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_and_sizes_beyond_the_ports_domain_are_refused() {
        let grid = Grid::parse("0.00000001").unwrap();
        assert_eq!(grid.price_ticks("price", "61737.63").unwrap(), 6_173_763_000_000);
        let error = grid.price_ticks("price", "10000000000").unwrap_err();
        assert!(error.contains("1000000000000000000 ticks, more than the 9007199254740992"), "{error}");
        assert!(grid.size_lots("quantity", "90071992.54740992").is_ok());
        assert!(grid.size_lots("quantity", "90071992.54740993").unwrap_err().contains("coarser lot size"));
    }

    #[test]
    fn exact_on_the_grid_and_refused_off_it() {
        let tick = Grid::parse("0.01").unwrap();
        assert_eq!(ticks(&tick, "61737.63000000"), Some(6_173_763));
        assert_eq!(ticks(&tick, "61737.635"), None, "off the grid");
        assert_eq!(ticks(&tick, "-1.00"), None, "negative");
        assert_eq!(ticks(&tick, "abc"), None);
        let lot = Grid::from_f64(0.00001).unwrap();
        assert_eq!(lots(&lot, "0.00000000"), Some(0));
        assert_eq!(lots(&lot, "1.54698000"), Some(154_698));
        assert_eq!(Grid::from_f64(0.0001).unwrap().count("1.9531"), Some(19_531));
        for step in ["0.00001", "0.01", "2.5", "10", "0.5"] {
            assert_eq!(Grid::parse(step).unwrap().to_string(), step);
        }
    }
}
