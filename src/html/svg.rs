//! Time-series charts as inline SVG for `report.html`: bands (lowest to highest of
//! a bucket), lines with gaps where a value is absent, point markers, dashed
//! horizontal limits, shaded time windows with labels, and axes with round ticks.
//!
//! Written by hand rather than with a plotting crate: a plotting library needs a
//! font on the host to lay out its labels, so its bytes would depend on the machine;
//! here the browser lays out the text and the file is the same everywhere. Colours
//! come from CSS classes the page defines. Deliberately not here: what to draw.

use std::fmt::Write;

/// Chart width, px (the page scales it to its column).
pub const CHART_WIDTH_PX: f64 = 960.0;

const MARGIN_LEFT_PX: f64 = 76.0;
const MARGIN_RIGHT_PX: f64 = 12.0;
const MARGIN_TOP_PX: f64 = 14.0;
const MARGIN_BOTTOM_PX: f64 = 26.0;
const Y_TICKS_WANTED: f64 = 5.0;
const X_TICKS_WANTED: f64 = 8.0;

/// What a chart draws, in data units (x in seconds).
#[derive(Clone, Debug)]
pub enum Layer {
    /// A filled band from `low` to `high` per point; `None` breaks it.
    Band {
        /// (x, low, high) per point.
        points: Vec<Option<(f64, f64, f64)>>,
        /// CSS class.
        class: &'static str,
    },
    /// A line through the points; `None` breaks it.
    Line {
        /// (x, y) per point.
        points: Vec<Option<(f64, f64)>>,
        /// CSS class.
        class: &'static str,
    },
    /// A small dot per point.
    Marks {
        /// (x, y) per point.
        points: Vec<(f64, f64)>,
        /// CSS class.
        class: &'static str,
    },
    /// A dashed horizontal line across the chart, labelled at its right end.
    Level {
        /// Its height.
        y: f64,
        /// Its label.
        label: String,
        /// CSS class.
        class: &'static str,
    },
}

/// A shaded span of time (an injected event or fault), with a label and a tooltip.
#[derive(Clone, Debug, PartialEq)]
pub struct Window {
    /// Start, seconds.
    pub start_s: f64,
    /// End, seconds.
    pub end_s: f64,
    /// Short label drawn at the top.
    pub label: String,
    /// Tooltip text.
    pub detail: String,
    /// CSS class of the window's group (its colours).
    pub class: &'static str,
}

/// One chart: a time axis from 0 to `duration_s`, a value axis fitted to the layers.
#[derive(Clone, Debug)]
pub struct Chart {
    /// Height, px.
    pub height_px: f64,
    /// Label of the value axis (with its unit).
    pub y_label: String,
    /// Length of the time axis, seconds.
    pub duration_s: f64,
    /// What to draw, bottom first.
    pub layers: Vec<Layer>,
    /// Shaded windows, drawn under the layers.
    pub windows: Vec<Window>,
}

impl Chart {
    /// The chart as an `<svg>` element.
    pub fn to_svg(&self) -> String {
        let frame = Frame::new(self);
        let mut svg = String::new();
        let _ = write!(
            svg,
            "<svg class=\"chart\" viewBox=\"0 0 {} {}\" role=\"img\" aria-label=\"{}\">",
            CHART_WIDTH_PX,
            self.height_px,
            escape(&self.y_label)
        );
        frame.draw_background(&mut svg);
        frame.draw_windows(&mut svg, &self.windows);
        frame.draw_axes(&mut svg, &self.y_label);
        match frame.y_range {
            Some(_) => {
                for layer in &self.layers {
                    frame.draw_layer(&mut svg, layer);
                }
            }
            None => {
                let _ = write!(svg, "<text class=\"empty\" x=\"{}\" y=\"{}\">no data</text>", px(frame.left + 8.0), px(frame.top + 16.0));
            }
        }
        svg.push_str("</svg>");
        svg
    }
}

/// Escapes text for HTML and SVG (element content and quoted attributes).
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}

/// A round step (1, 2 or 5 times a power of ten) near `span / wanted`.
pub fn round_step(span: f64, wanted: f64) -> f64 {
    let raw = span / wanted;
    let magnitude = 10f64.powf(raw.log10().floor());
    let normalized = raw / magnitude;
    let factor = [1.0, 2.0, 5.0].into_iter().find(|factor| *factor >= normalized).unwrap_or(10.0);
    factor * magnitude
}

/// `value` with as many decimals as `step` needs, and no `-0`.
pub fn tick_label(value: f64, step: f64) -> String {
    let decimals = (-step.log10().floor()).max(0.0) as usize;
    let text = format!("{value:.decimals$}");
    if text.trim_start_matches('-').chars().all(|character| character == '0' || character == '.') {
        text.trim_start_matches('-').to_string()
    } else {
        text
    }
}

/// Where the plot area is and how data maps onto it.
struct Frame {
    left: f64,
    right: f64,
    top: f64,
    bottom: f64,
    duration_s: f64,
    /// (low, high) of the value axis; `None` when no layer has a finite value.
    y_range: Option<(f64, f64)>,
}

impl Frame {
    fn new(chart: &Chart) -> Frame {
        Frame {
            left: MARGIN_LEFT_PX,
            right: CHART_WIDTH_PX - MARGIN_RIGHT_PX,
            top: MARGIN_TOP_PX,
            bottom: chart.height_px - MARGIN_BOTTOM_PX,
            duration_s: chart.duration_s.max(f64::MIN_POSITIVE),
            y_range: value_range(&chart.layers),
        }
    }

    fn x(&self, time_s: f64) -> f64 {
        self.left + (time_s / self.duration_s).clamp(0.0, 1.0) * (self.right - self.left)
    }

    fn y(&self, value: f64) -> f64 {
        let (low, high) = self.y_range.unwrap_or((0.0, 1.0));
        self.bottom - ((value - low) / (high - low)).clamp(0.0, 1.0) * (self.bottom - self.top)
    }

    fn draw_windows(&self, svg: &mut String, windows: &[Window]) {
        for (index, window) in windows.iter().enumerate() {
            let (x0, x1) = (self.x(window.start_s), self.x(window.end_s));
            let _ = write!(
                svg,
                "<g class=\"{}\"><title>{}</title><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/><text x=\"{}\" y=\"{}\">{}</text></g>",
                window.class,
                escape(&window.detail),
                px(x0),
                px(self.top),
                px((x1 - x0).max(1.0)),
                px(self.bottom - self.top),
                px(x0 + 2.0),
                px(self.top + 10.0 + (index % 3) as f64 * 11.0),
                escape(&window.label)
            );
        }
    }

    fn draw_background(&self, svg: &mut String) {
        let _ = write!(
            svg,
            "<rect class=\"plot\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/>",
            px(self.left),
            px(self.top),
            px(self.right - self.left),
            px(self.bottom - self.top)
        );
    }

    fn draw_axes(&self, svg: &mut String, y_label: &str) {
        let (unit, seconds_per_unit) = time_unit(self.duration_s);
        let step = round_step(self.duration_s / seconds_per_unit, X_TICKS_WANTED);
        let mut tick = 0.0;
        while tick * seconds_per_unit <= self.duration_s * (1.0 + 1e-9) {
            let x = self.x(tick * seconds_per_unit);
            let _ = write!(
                svg,
                "<line class=\"grid\" x1=\"{x}\" y1=\"{}\" x2=\"{x}\" y2=\"{}\"/><text class=\"tick\" x=\"{x}\" y=\"{}\" text-anchor=\"middle\">{} {unit}</text>",
                px(self.top),
                px(self.bottom),
                px(self.bottom + 16.0),
                tick_label(tick, step),
                x = px(x)
            );
            tick += step;
        }
        if let Some((low, high)) = self.y_range {
            let step = round_step(high - low, Y_TICKS_WANTED);
            let mut value = (low / step).ceil() * step;
            while value <= high + step * 1e-9 {
                let y = self.y(value);
                let _ = write!(
                    svg,
                    "<line class=\"grid\" x1=\"{}\" y1=\"{y}\" x2=\"{}\" y2=\"{y}\"/><text class=\"tick\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
                    px(self.left),
                    px(self.right),
                    px(self.left - 6.0),
                    px(self.y(value) + 4.0),
                    tick_label(value, step),
                    y = px(y)
                );
                value += step;
            }
        }
        let _ = write!(
            svg,
            "<text class=\"axis\" transform=\"translate(14 {}) rotate(-90)\" text-anchor=\"middle\">{}</text>",
            px((self.top + self.bottom) / 2.0),
            escape(y_label)
        );
    }

    fn draw_layer(&self, svg: &mut String, layer: &Layer) {
        match layer {
            Layer::Band { points, class } => {
                for segment in points.split(Option::is_none) {
                    let segment: Vec<(f64, f64, f64)> = segment.iter().flatten().copied().collect();
                    if segment.is_empty() {
                        continue;
                    }
                    let upper = segment.iter().map(|&(x, _, high)| (x, high));
                    let lower = segment.iter().rev().map(|&(x, low, _)| (x, low));
                    let _ = write!(svg, "<polygon class=\"{class}\" points=\"{}\"/>", self.path(upper.chain(lower)));
                }
            }
            Layer::Line { points, class } => {
                for segment in points.split(Option::is_none) {
                    let segment: Vec<(f64, f64)> = segment.iter().flatten().copied().collect();
                    match segment.as_slice() {
                        [] => {}
                        [(x, y)] => {
                            let _ =
                                write!(svg, "<circle class=\"{class}\" cx=\"{}\" cy=\"{}\" r=\"1.5\"/>", px(self.x(*x)), px(self.y(*y)));
                        }
                        _ => {
                            let _ = write!(svg, "<polyline class=\"{class}\" points=\"{}\"/>", self.path(segment.into_iter()));
                        }
                    }
                }
            }
            Layer::Marks { points, class } => {
                for &(x, y) in points {
                    let _ = write!(svg, "<circle class=\"{class}\" cx=\"{}\" cy=\"{}\" r=\"1.8\"/>", px(self.x(x)), px(self.y(y)));
                }
            }
            Layer::Level { y, label, class } => {
                let y_px = px(self.y(*y));
                let _ = write!(
                    svg,
                    "<line class=\"{class}\" x1=\"{}\" y1=\"{y_px}\" x2=\"{}\" y2=\"{y_px}\"/><text class=\"level\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
                    px(self.left),
                    px(self.right),
                    px(self.right - 4.0),
                    px(self.y(*y) - 3.0),
                    escape(label)
                );
            }
        }
    }

    fn path(&self, points: impl Iterator<Item = (f64, f64)>) -> String {
        let mut path = String::new();
        for (x, y) in points {
            if !path.is_empty() {
                path.push(' ');
            }
            let _ = write!(path, "{},{}", px(self.x(x)), px(self.y(y)));
        }
        path
    }
}

/// The value axis: every finite value of the layers, with a little room; a flat
/// series gets a unit-wide range around it.
fn value_range(layers: &[Layer]) -> Option<(f64, f64)> {
    let mut values: Vec<f64> = Vec::new();
    for layer in layers {
        match layer {
            Layer::Band { points, .. } => values.extend(points.iter().flatten().flat_map(|&(_, low, high)| [low, high])),
            Layer::Line { points, .. } => values.extend(points.iter().flatten().map(|&(_, y)| y)),
            Layer::Marks { points, .. } => values.extend(points.iter().map(|&(_, y)| y)),
            Layer::Level { y, .. } => values.push(*y),
        }
    }
    let finite = values.into_iter().filter(|value| value.is_finite());
    let (low, high) = finite.fold(None, |range: Option<(f64, f64)>, value| match range {
        None => Some((value, value)),
        Some((low, high)) => Some((low.min(value), high.max(value))),
    })?;
    if high - low < 1e-12 * high.abs().max(1.0) {
        return Some((low - 1.0, high + 1.0));
    }
    let room = (high - low) * 0.04;
    Some((low - room, high + room))
}

/// The unit of the time axis for a chart `duration_s` long: seconds, minutes or hours.
fn time_unit(duration_s: f64) -> (&'static str, f64) {
    if duration_s <= 300.0 {
        ("s", 1.0)
    } else if duration_s <= 5.0 * 3_600.0 {
        ("min", 60.0)
    } else {
        ("h", 3_600.0)
    }
}

/// A pixel coordinate with one decimal.
fn px(value: f64) -> String {
    format!("{value:.1}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_round() {
        assert_eq!(round_step(100.0, 5.0), 20.0);
        assert_eq!(round_step(7.0, 5.0), 2.0);
        assert_eq!(round_step(0.03, 5.0), 0.01);
        assert_eq!(round_step(86_400.0 / 3_600.0, 8.0), 5.0);
        assert_eq!(round_step(900.0, 5.0), 200.0);
    }

    #[test]
    fn tick_labels_have_the_step_decimals_and_no_negative_zero() {
        assert_eq!(tick_label(59_990.0, 10.0), "59990");
        assert_eq!(tick_label(0.25, 0.05), "0.25");
        assert_eq!(tick_label(-0.0, 0.5), "0.0");
        assert_eq!(tick_label(-1e-17, 2.0), "0");
        assert_eq!(tick_label(-3.0, 1.0), "-3");
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(escape("a<b & \"c\" 'd'>"), "a&lt;b &amp; &quot;c&quot; &#39;d&#39;&gt;");
    }

    fn chart(layers: Vec<Layer>) -> Chart {
        Chart { height_px: 200.0, y_label: "price".to_string(), duration_s: 600.0, layers, windows: Vec::new() }
    }

    #[test]
    fn gaps_split_lines_and_bands_into_segments() {
        let points = vec![Some((0.0, 1.0)), Some((60.0, 2.0)), None, Some((120.0, 3.0)), Some((180.0, 2.5)), None, Some((240.0, 1.0))];
        let svg = chart(vec![Layer::Line { points, class: "mid" }]).to_svg();
        assert_eq!(svg.matches("<polyline class=\"mid\"").count(), 2);
        assert_eq!(svg.matches("<circle class=\"mid\"").count(), 1, "a lone point is still drawn");
        let band = vec![Some((0.0, 1.0, 2.0)), None, Some((60.0, 1.5, 3.0)), Some((120.0, 1.0, 4.0))];
        let svg = chart(vec![Layer::Band { points: band, class: "range" }]).to_svg();
        assert_eq!(svg.matches("<polygon class=\"range\"").count(), 2);
    }

    #[test]
    fn extremes_land_on_the_plot_edges_and_minutes_label_a_ten_minute_axis() {
        let points = vec![Some((0.0, 10.0)), Some((600.0, 20.0))];
        let svg = chart(vec![Layer::Line { points, class: "mid" }]).to_svg();
        // 4 % room: 10 maps 0.4/10.8 of the height above the bottom.
        let bottom = 200.0 - MARGIN_BOTTOM_PX;
        let height = bottom - MARGIN_TOP_PX;
        let expected_low = bottom - height * 0.4 / 10.8;
        let first_point = format!("{},{}", px(MARGIN_LEFT_PX), px(expected_low));
        assert!(svg.contains(&first_point), "{first_point} not in {svg}");
        assert!(svg.contains(">10 min<"), "{svg}");
        assert!(svg.contains(">0 min<"));
    }

    #[test]
    fn a_chart_without_values_says_so() {
        let svg = chart(vec![Layer::Line { points: vec![None, None], class: "mid" }]).to_svg();
        assert!(svg.contains("no data"));
        let flat = chart(vec![Layer::Line { points: vec![Some((0.0, 5.0)), Some((600.0, 5.0))], class: "mid" }]).to_svg();
        assert!(flat.contains(">5<") || flat.contains(">5.0<"), "{flat}");
    }

    #[test]
    fn windows_are_shaded_labelled_and_escaped() {
        let mut chart = chart(vec![Layer::Line { points: vec![Some((0.0, 1.0)), Some((600.0, 2.0))], class: "mid" }]);
        chart.windows.push(Window {
            start_s: 120.0,
            end_s: 180.0,
            label: "flash_crash".to_string(),
            detail: "drop <8 %>".to_string(),
            class: "event",
        });
        let svg = chart.to_svg();
        assert!(svg.contains("<g class=\"event\"><title>drop &lt;8 %&gt;</title>"));
        assert!(svg.contains(">flash_crash</text>"));
    }
}
