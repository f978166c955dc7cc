//! Charts as inline SVG for the HTML pages: over time (bands from lowest to highest
//! of a bucket, lines with gaps where a value is absent, dots, dashed horizontal
//! limits, shaded time windows with labels) or one value against another (points
//! with tooltips and labels, 95 % interval bars); axes with round ticks.
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
/// Below a value axis, room for its label too.
const MARGIN_BOTTOM_VALUE_AXIS_PX: f64 = 42.0;
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
    /// Points with a tooltip each and an optional label beside them.
    Points {
        /// The points.
        points: Vec<PointMark>,
        /// CSS class.
        class: &'static str,
    },
    /// Interval bars, horizontal and vertical, through each centre.
    ErrorBars {
        /// The bars.
        bars: Vec<ErrorBar>,
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

/// A point of a [`Layer::Points`].
#[derive(Clone, Debug, PartialEq)]
pub struct PointMark {
    /// Position.
    pub x: f64,
    /// Position.
    pub y: f64,
    /// Tooltip text.
    pub title: String,
    /// Text drawn beside it, if any.
    pub label: Option<String>,
}

/// Intervals around a centre, on both axes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ErrorBar {
    /// Centre.
    pub x: f64,
    /// Centre.
    pub y: f64,
    /// Interval on x, (low, high).
    pub x_interval: (f64, f64),
    /// Interval on y, (low, high).
    pub y_interval: (f64, f64),
}

/// The horizontal axis of a chart.
#[derive(Clone, Debug, PartialEq)]
pub enum XAxis {
    /// Time from 0 to `duration_s`, ticks in seconds, minutes or hours.
    Time {
        /// Length, seconds.
        duration_s: f64,
    },
    /// A value, its range fitted to the layers.
    Value {
        /// Its label (with its unit).
        label: String,
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

/// One chart: a time or value axis across, a value axis up fitted to the layers.
#[derive(Clone, Debug)]
pub struct Chart {
    /// Height, px.
    pub height_px: f64,
    /// Label of the value axis (with its unit).
    pub y_label: String,
    /// Whether the value axis gets ticks (not when its values only order rows).
    pub y_ticks: bool,
    /// The horizontal axis.
    pub x_axis: XAxis,
    /// What to draw, bottom first.
    pub layers: Vec<Layer>,
    /// Shaded windows (of time), drawn under the layers.
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
        frame.draw_x_axis(&mut svg);
        frame.draw_y_axis(&mut svg, &self.y_label, self.y_ticks);
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
    /// (low, high) of the horizontal axis.
    x_range: (f64, f64),
    /// The horizontal axis's label; `None` for a time axis.
    x_label: Option<String>,
    /// (low, high) of the value axis; `None` when no layer has a finite value.
    y_range: Option<(f64, f64)>,
}

impl Frame {
    fn new(chart: &Chart) -> Frame {
        let (x_range, x_label, margin_bottom) = match &chart.x_axis {
            XAxis::Time { duration_s } => ((0.0, duration_s.max(f64::MIN_POSITIVE)), None, MARGIN_BOTTOM_PX),
            XAxis::Value { label } => {
                let range = padded_range(chart.layers.iter().flat_map(x_values)).unwrap_or((0.0, 1.0));
                (range, Some(label.clone()), MARGIN_BOTTOM_VALUE_AXIS_PX)
            }
        };
        Frame {
            left: MARGIN_LEFT_PX,
            right: CHART_WIDTH_PX - MARGIN_RIGHT_PX,
            top: MARGIN_TOP_PX,
            bottom: chart.height_px - margin_bottom,
            x_range,
            x_label,
            y_range: padded_range(chart.layers.iter().flat_map(y_values)),
        }
    }

    fn x(&self, value: f64) -> f64 {
        let (low, high) = self.x_range;
        self.left + ((value - low) / (high - low)).clamp(0.0, 1.0) * (self.right - self.left)
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

    fn draw_x_axis(&self, svg: &mut String) {
        // Ticks in the axis's unit: seconds, minutes or hours of time, or the value's.
        let (low, high) = self.x_range;
        let (unit, per_unit) = match &self.x_label {
            None => time_unit(high),
            Some(_) => ("", 1.0),
        };
        let step = round_step((high - low) / per_unit, X_TICKS_WANTED);
        let mut tick = (low / per_unit / step).ceil() * step;
        while tick * per_unit <= high + step * per_unit * 1e-9 {
            let x = px(self.x(tick * per_unit));
            let text = if unit.is_empty() { tick_label(tick, step) } else { format!("{} {unit}", tick_label(tick, step)) };
            let _ = write!(
                svg,
                "<line class=\"grid\" x1=\"{x}\" y1=\"{}\" x2=\"{x}\" y2=\"{}\"/><text class=\"tick\" x=\"{x}\" y=\"{}\" text-anchor=\"middle\">{text}</text>",
                px(self.top),
                px(self.bottom),
                px(self.bottom + 16.0),
            );
            tick += step;
        }
        if let Some(label) = &self.x_label {
            let _ = write!(
                svg,
                "<text class=\"axis\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
                px((self.left + self.right) / 2.0),
                px(self.bottom + 34.0),
                escape(label)
            );
        }
    }

    fn draw_y_axis(&self, svg: &mut String, y_label: &str, ticks: bool) {
        if let Some((low, high)) = self.y_range.filter(|_| ticks) {
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
            Layer::Band { points, class } => self.draw_band(svg, points, class),
            Layer::Line { points, class } => self.draw_line(svg, points, class),
            Layer::Marks { points, class } => {
                for &(x, y) in points {
                    let _ = write!(svg, "<circle class=\"{class}\" cx=\"{}\" cy=\"{}\" r=\"1.8\"/>", px(self.x(x)), px(self.y(y)));
                }
            }
            Layer::Points { points, class } => self.draw_points(svg, points, class),
            Layer::ErrorBars { bars, class } => {
                for bar in bars {
                    let (x, y) = (px(self.x(bar.x)), px(self.y(bar.y)));
                    let (x_low, x_high) = (px(self.x(bar.x_interval.0)), px(self.x(bar.x_interval.1)));
                    let (y_low, y_high) = (px(self.y(bar.y_interval.0)), px(self.y(bar.y_interval.1)));
                    let _ = write!(svg, "<path class=\"{class}\" d=\"M{x_low},{y}H{x_high}M{x},{y_low}V{y_high}\"/>");
                }
            }
            Layer::Level { y, label, class } => self.draw_level(svg, *y, label, class),
        }
    }

    /// One polygon per run of present points: along the highs, back along the lows.
    fn draw_band(&self, svg: &mut String, points: &[Option<(f64, f64, f64)>], class: &str) {
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

    /// One polyline per run of present points (a lone point as a dot).
    fn draw_line(&self, svg: &mut String, points: &[Option<(f64, f64)>], class: &str) {
        for segment in points.split(Option::is_none) {
            let segment: Vec<(f64, f64)> = segment.iter().flatten().copied().collect();
            match segment.as_slice() {
                [] => {}
                [(x, y)] => {
                    let _ = write!(svg, "<circle class=\"{class}\" cx=\"{}\" cy=\"{}\" r=\"1.5\"/>", px(self.x(*x)), px(self.y(*y)));
                }
                _ => {
                    let _ = write!(svg, "<polyline class=\"{class}\" points=\"{}\"/>", self.path(segment.into_iter()));
                }
            }
        }
    }

    fn draw_points(&self, svg: &mut String, points: &[PointMark], class: &str) {
        for point in points {
            let (x, y) = (self.x(point.x), self.y(point.y));
            let _ = write!(
                svg,
                "<g class=\"{class}\"><title>{}</title><circle cx=\"{}\" cy=\"{}\" r=\"4\"/>",
                escape(&point.title),
                px(x),
                px(y)
            );
            if let Some(label) = &point.label {
                let _ = write!(svg, "<text x=\"{}\" y=\"{}\">{}</text>", px(x + 6.0), px(y - 5.0), escape(label));
            }
            svg.push_str("</g>");
        }
    }

    fn draw_level(&self, svg: &mut String, y: f64, label: &str, class: &str) {
        let y_px = px(self.y(y));
        let _ = write!(
            svg,
            "<line class=\"{class}\" x1=\"{}\" y1=\"{y_px}\" x2=\"{}\" y2=\"{y_px}\"/><text class=\"level\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
            px(self.left),
            px(self.right),
            px(self.right - 4.0),
            px(self.y(y) - 3.0),
            escape(label)
        );
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

/// The values a layer puts on the vertical axis.
fn y_values(layer: &Layer) -> Vec<f64> {
    match layer {
        Layer::Band { points, .. } => points.iter().flatten().flat_map(|&(_, low, high)| [low, high]).collect(),
        Layer::Line { points, .. } => points.iter().flatten().map(|&(_, y)| y).collect(),
        Layer::Marks { points, .. } => points.iter().map(|&(_, y)| y).collect(),
        Layer::Points { points, .. } => points.iter().map(|point| point.y).collect(),
        Layer::ErrorBars { bars, .. } => bars.iter().flat_map(|bar| [bar.y_interval.0, bar.y_interval.1]).collect(),
        Layer::Level { y, .. } => vec![*y],
    }
}

/// The values a layer puts on the horizontal axis (a level spans it, adding none).
fn x_values(layer: &Layer) -> Vec<f64> {
    match layer {
        Layer::Band { points, .. } => points.iter().flatten().map(|&(x, _, _)| x).collect(),
        Layer::Line { points, .. } => points.iter().flatten().map(|&(x, _)| x).collect(),
        Layer::Marks { points, .. } => points.iter().map(|&(x, _)| x).collect(),
        Layer::Points { points, .. } => points.iter().map(|point| point.x).collect(),
        Layer::ErrorBars { bars, .. } => bars.iter().flat_map(|bar| [bar.x_interval.0, bar.x_interval.1]).collect(),
        Layer::Level { .. } => Vec::new(),
    }
}

/// The range of the finite `values`, with a little room; a flat series gets a
/// unit-wide range around it; `None` when there is no finite value.
fn padded_range(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    let finite = values.filter(|value| value.is_finite());
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

/// A pixel coordinate, written with one decimal.
fn px(value: f64) -> Px {
    Px(value)
}

/// A pixel coordinate written with one decimal from whole tenths: a page has tens
/// of thousands of them, and exact float formatting cost ~10 ms a page.
#[derive(Clone, Copy, Debug)]
struct Px(f64);

impl std::fmt::Display for Px {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const TENTHS: [&str; 10] = [".0", ".1", ".2", ".3", ".4", ".5", ".6", ".7", ".8", ".9"];
        // Coordinates lie within a chart; anything else (never expected) is pinned.
        let tenths = (self.0 * 10.0).round().clamp(-1e9, 1e9) as i64;
        if tenths < 0 {
            formatter.write_str("-")?;
        }
        let magnitude = tenths.unsigned_abs();
        formatter.write_str(itoa::Buffer::new().format(magnitude / 10))?;
        formatter.write_str(TENTHS[(magnitude % 10) as usize])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pixels_have_one_decimal() {
        let texts: Vec<String> =
            [0.0, 12.34, 12.35, 959.99, -0.04, -0.06, -3.25, f64::NAN].into_iter().map(|value| px(value).to_string()).collect();
        assert_eq!(texts, ["0.0", "12.3", "12.4", "960.0", "0.0", "-0.1", "-3.3", "0.0"]);
    }

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
        Chart {
            height_px: 200.0,
            y_label: "price".to_string(),
            y_ticks: true,
            x_axis: XAxis::Time { duration_s: 600.0 },
            layers,
            windows: Vec::new(),
        }
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
    fn a_value_axis_fits_the_points_and_their_intervals() {
        let point = PointMark { x: 2.0, y: 5.0, title: "point <1>".to_string(), label: Some("1".to_string()) };
        let bar = ErrorBar { x: 2.0, y: 5.0, x_interval: (1.0, 3.0), y_interval: (4.0, 6.0) };
        let chart = Chart {
            height_px: 300.0,
            y_label: "drawdown".to_string(),
            y_ticks: true,
            x_axis: XAxis::Value { label: "net bps".to_string() },
            layers: vec![Layer::ErrorBars { bars: vec![bar], class: "ci" }, Layer::Points { points: vec![point], class: "pareto" }],
            windows: Vec::new(),
        };
        let svg = chart.to_svg();
        assert!(svg.contains("<g class=\"pareto\"><title>point &lt;1&gt;</title><circle"), "{svg}");
        assert!(svg.contains(">net bps</text>") && svg.contains(">drawdown</text>"));
        // The interval's ends set the ranges: x from 1 to 3 with 4 % room either side.
        let left_end = format!("M{},", px(MARGIN_LEFT_PX + (CHART_WIDTH_PX - MARGIN_LEFT_PX - MARGIN_RIGHT_PX) * 0.08 / 2.16));
        assert!(svg.contains(&left_end), "{left_end} not in {svg}");
        assert!(svg.contains(">1.0<") && svg.contains(">3.0<") && !svg.contains(" s<"), "value ticks, not time");
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
