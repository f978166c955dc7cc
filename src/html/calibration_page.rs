//! `calibration.html` of `drydock data calibrate`: how close the fitted generator
//! comes to the recording — the warnings, the depth behind the best price and the
//! market-order sizes (recorded against simulated, as charts), every statistic side
//! by side, and each fitted value with its basis.
//!
//! Made from the calibration report alone, so the same recording and flags give the
//! same bytes. Deliberately not here: measuring or fitting (see
//! `drydock_sim::calibrate`).

use std::fmt::Write;

use drydock_sim::calibrate::MarketStats;

use super::svg::{Chart, Layer, XAxis, escape};
use super::{STYLE, number_text, section};
use crate::calibration::{CalibrationReport, comparison, format_stat};

/// Points a size curve is drawn with at most.
const SIZE_CURVE_POINTS_MAX: usize = 200;

/// The page of a calibration that wrote the scenario `name`.
pub fn render(report: &CalibrationReport, name: &str) -> String {
    let mut page = String::new();
    let title = format!("calibration {name}");
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{} — drydock</title><style>{STYLE}</style></head><body>\n<h1>{}</h1>\n",
        escape(&title),
        escape(&title)
    );
    page.push_str(&summary_paragraph(report));
    if !report.calibration.warnings.is_empty() {
        let items: Vec<String> = report.calibration.warnings.iter().map(|warning| format!("<li>{}</li>", escape(warning))).collect();
        page.push_str(&section("Warnings", &format!("<ul>{}</ul>", items.join(""))));
    }
    let key = "<p class=\"note\"><span class=\"t0\">blue: recorded</span> · <span class=\"t1\">red: simulated with the fitted generator</span></p>";
    page.push_str(&section("Depth behind the best price", &format!("{key}\n{}", depth_chart(&report.recorded, &report.simulated))));
    page.push_str(&section(
        "Market-order sizes",
        &format!(
            "{key}\n<p class=\"note\">share of market orders of at least a size, both on log scales: a Pareto tail is a straight line of slope −α</p>\n{}",
            size_chart(&report.recorded, &report.simulated)
        ),
    ));
    page.push_str(&section("Statistics", &statistics_table(report)));
    page.push_str(&section("Fitted [market] values", &fitted_table(report)));
    page.push_str("<footer>the same recording and flags give this page byte for byte</footer>\n</body></html>\n");
    page
}

fn summary_paragraph(report: &CalibrationReport) -> String {
    let recorded = &report.recorded;
    let options = &report.options;
    format!(
        "<p>{} recorded ({} market orders, {} book samples) from {}; the generator fitted directly, then refined by simulated moments: {} rounds of {} (seed {}), round {} kept as the closest to the recording (0: the direct fit). The simulated feed conflates every {} ms, as the recording's did, with trades {}.</p>\n",
        escape(&super::duration_text(recorded.span_s)),
        recorded.market_order_times_s.len(),
        recorded.book_samples,
        escape(&report.sources.join(", ")),
        options.rounds,
        escape(&super::duration_text(options.simulate_s)),
        options.seed,
        report.calibration.kept_round,
        report.exchange.feed_batch_ms,
        if report.exchange.trades_in_frames { "in the frames" } else { "sent as they print (a trade stream of their own)" }
    )
}

fn depth_chart(recorded: &MarketStats, simulated: &MarketStats) -> String {
    let line = |stats: &MarketStats, class| Layer::Line {
        points: stats.depth_profile_lots.iter().enumerate().map(|(ticks, lots)| Some((ticks as f64, *lots))).collect(),
        class,
    };
    let chart = Chart {
        height_px: 240.0,
        y_label: "mean size, lots".to_string(),
        y_ticks: true,
        x_axis: XAxis::Value { label: "ticks behind the best price".to_string() },
        layers: vec![line(recorded, "mid"), line(simulated, "our-ask")],
        windows: Vec::new(),
    };
    chart.to_svg()
}

fn size_chart(recorded: &MarketStats, simulated: &MarketStats) -> String {
    let chart = Chart {
        height_px: 240.0,
        y_label: "log10 share at least".to_string(),
        y_ticks: true,
        x_axis: XAxis::Value { label: "log10 size, lots".to_string() },
        layers: vec![
            Layer::Line { points: size_curve(&recorded.market_order_sizes_lots), class: "mid" },
            Layer::Line { points: size_curve(&simulated.market_order_sizes_lots), class: "our-ask" },
        ],
        windows: Vec::new(),
    };
    chart.to_svg()
}

/// (log10 size, log10 share of sizes at least it), at most [`SIZE_CURVE_POINTS_MAX`]
/// points spread over the sorted sizes.
fn size_curve(sizes: &[i64]) -> Vec<Option<(f64, f64)>> {
    let mut sorted: Vec<i64> = sizes.iter().copied().filter(|size| *size > 0).collect();
    sorted.sort_unstable();
    let count = sorted.len();
    if count == 0 {
        return Vec::new();
    }
    let step = count.div_ceil(SIZE_CURVE_POINTS_MAX).max(1);
    (0..count).step_by(step).map(|index| Some(((sorted[index] as f64).log10(), ((count - index) as f64 / count as f64).log10()))).collect()
}

fn statistics_table(report: &CalibrationReport) -> String {
    let mut table = String::from("<table><tr><th>statistic</th><th>recorded</th><th>simulated</th><th>steered</th></tr>");
    for row in comparison(report) {
        let _ = write!(
            table,
            "<tr><td>{}</td><td class=\"number\">{}</td><td class=\"number\">{}</td><td>{}</td></tr>",
            escape(row.name),
            escape(&format_stat(row.recorded)),
            escape(&format_stat(row.simulated)),
            if row.steered { "yes" } else { "" }
        );
    }
    table.push_str("</table>\n<p class=\"note\">steered: a parameter was moved until this statistic, simulated, met the recorded one; the others are what the generator does on its own</p>");
    table
}

fn fitted_table(report: &CalibrationReport) -> String {
    let mut table = String::from("<table><tr><th>key</th><th>value</th><th>basis</th></tr>");
    for param in &report.calibration.fitted {
        let _ = write!(
            table,
            "<tr><td><code>{}</code></td><td class=\"number\">{}</td><td>{}</td></tr>",
            escape(&param.key),
            escape(&number_text(param.value)),
            escape(&param.basis)
        );
    }
    for choice in &report.calibration.choices {
        let _ = write!(
            table,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
            escape(&choice.key),
            escape(&choice.value),
            escape(&choice.basis)
        );
    }
    table.push_str("</table>");
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_size_curve_falls_from_everything_and_is_thinned() {
        let sizes: Vec<i64> = (1..=1_000).collect();
        let curve = size_curve(&sizes);
        assert!(curve.len() <= SIZE_CURVE_POINTS_MAX, "{}", curve.len());
        assert_eq!(curve[0], Some((0.0, 0.0)), "every order is at least the smallest");
        let shares: Vec<f64> = curve.iter().flatten().map(|point| point.1).collect();
        assert!(shares.windows(2).all(|pair| pair[1] < pair[0]), "the share falls");
        assert!(size_curve(&[]).is_empty() && size_curve(&[0, -3]).is_empty());
    }
}
