//! `compare.html` of `drydock sweep compare --out DIR`: the gate's verdict, the
//! feasibility changes, and per objective a forest plot — each point's paired change
//! with its 95 % interval against a zero line, coloured by verdict — with the table
//! of every point (both means, change, interval, raw and Holm-adjusted p).
//!
//! Deterministic like the CSV it sits beside. Deliberately not here: the statistics
//! (see `sweep::compare`).

use std::fmt::Write;

use super::svg::{Chart, ErrorBar, Layer, PointMark, XAxis, escape};
use super::{STYLE, number_text, section};
use crate::sweep::compare::{ObjectiveChange, SweepComparison};
use crate::sweep::spec::Goal;

/// The page of `comparison` between the folders named `baseline` and `candidate`.
pub fn render(comparison: &SweepComparison, baseline: &str, candidate: &str) -> String {
    let mut page = String::new();
    let class = if comparison.go() { "pass" } else { "fail" };
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>sweep compare — drydock</title><style>{STYLE}</style></head><body>\n\
         <h1>sweep compare <span class=\"verdict {class}\">{}</span></h1>\n",
        comparison.verdict
    );
    let _ = writeln!(
        page,
        "<p class=\"description\">candidate <code>{}</code> (code version {}) against baseline <code>{}</code> (code version {}): {} runs paired \
         by scenario and seed, {} with identical fingerprints, {} with the same configuration; a change is called when {}</p>",
        escape(candidate),
        escape(&comparison.candidate_code_version),
        escape(baseline),
        escape(&comparison.baseline_code_version),
        comparison.pairs,
        comparison.identical_runs,
        comparison.same_config_runs,
        escape(&comparison.rule())
    );
    if let Some(warning) = comparison.power_warning() {
        let _ = writeln!(page, "<p><strong>{}</strong></p>", escape(&warning));
    }
    page.push_str(&feasibility_section(comparison));
    let mut metrics: Vec<&str> = Vec::new();
    for change in &comparison.objectives {
        if !metrics.contains(&change.metric.as_str()) {
            metrics.push(&change.metric);
        }
    }
    for metric in metrics {
        let changes: Vec<&ObjectiveChange> = comparison.objectives.iter().filter(|change| change.metric == metric).collect();
        page.push_str(&section(metric, &format!("{}\n{}", forest_plot(&changes), changes_table(&changes))));
    }
    page.push_str("<footer>NO-GO when an objective is significantly worse at some point or a point breaks a constraint it met; every number is in compare.csv</footer>\n</body></html>\n");
    page
}

fn feasibility_section(comparison: &SweepComparison) -> String {
    if comparison.feasibility.is_empty() {
        return section("Constraints", "<p class=\"note\">no point changed whether it meets every constraint</p>");
    }
    let mut body = String::from("<table><tr><th>point</th><th>baseline</th><th>candidate</th></tr>");
    for change in &comparison.feasibility {
        let word = |feasible: bool| if feasible { ("pass", "meets every constraint") } else { ("fail", "breaks a constraint") };
        let (before_class, before) = word(change.baseline);
        let (after_class, after) = word(change.candidate);
        let _ = write!(
            body,
            "<tr><td class=\"number\">{}</td><td class=\"{before_class}\">{before}</td><td class=\"{after_class}\">{after}</td></tr>",
            change.point
        );
    }
    body.push_str("</table>");
    section("Constraints", &body)
}

/// Each point's change with its interval, one row per point, against zero.
fn forest_plot(changes: &[&ObjectiveChange]) -> String {
    let tested: Vec<&&ObjectiveChange> =
        changes.iter().filter(|change| change.change_ci95.0.is_finite() && change.change_ci95.1.is_finite()).collect();
    let row = |change: &ObjectiveChange| -(change.point as f64);
    let bars = tested.iter().map(|change| ErrorBar {
        x: change.change_mean,
        y: row(change),
        x_interval: change.change_ci95,
        y_interval: (row(change), row(change)),
    });
    let low = tested.iter().map(|change| row(change)).fold(0.0, f64::min);
    let mut layers = vec![Layer::ErrorBars {
        bars: vec![ErrorBar { x: 0.0, y: 0.0, x_interval: (0.0, 0.0), y_interval: (low - 0.5, 0.5) }],
        class: "zero",
    }];
    layers.push(Layer::ErrorBars { bars: bars.collect(), class: "ci" });
    for verdict in ["same", "better", "worse"] {
        let points = tested.iter().filter(|change| change.verdict == verdict).map(|change| PointMark {
            x: change.change_mean,
            y: row(change),
            title: format!(
                "point {}: {} → {} ({verdict})",
                change.point,
                number_text(change.baseline_mean),
                number_text(change.candidate_mean)
            ),
            label: Some(format!("point {}", change.point)),
        });
        layers.push(Layer::Points { points: points.collect(), class: verdict });
    }
    let better = match changes.first().map(|change| change.goal) {
        Some(Goal::Minimize) => "lower is better",
        _ => "higher is better",
    };
    let metric = changes.first().map_or("", |change| change.metric.as_str());
    let height_px = (80.0 + 26.0 * tested.len() as f64).min(900.0);
    let chart = Chart {
        height_px,
        y_label: "point".to_string(),
        y_ticks: false,
        x_axis: XAxis::Value { label: format!("change in {metric}, candidate − baseline ({better})") },
        layers,
        windows: Vec::new(),
    };
    chart.to_svg()
}

fn changes_table(changes: &[&ObjectiveChange]) -> String {
    let mut table = String::from(
        "<table><tr><th>point</th><th>pairs</th><th>baseline</th><th>candidate</th><th>change [95 % interval]</th><th>p</th><th>p (Holm)</th><th>verdict</th></tr>",
    );
    let optional = |value: Option<f64>| value.map_or("—".to_string(), number_text);
    for change in changes {
        let class = match change.verdict {
            "better" => " class=\"pass\"",
            "worse" => " class=\"fail\"",
            _ => "",
        };
        let _ = write!(
            table,
            "<tr><td class=\"number\">{}</td><td class=\"number\">{}</td><td class=\"number\">{}</td><td class=\"number\">{}</td><td class=\"number\">{} [{}, {}]</td>\
             <td class=\"number\">{}</td><td class=\"number\">{}</td><td{class}>{}</td></tr>",
            change.point,
            change.pairs,
            number_text(change.baseline_mean),
            number_text(change.candidate_mean),
            number_text(change.change_mean),
            number_text(change.change_ci95.0),
            number_text(change.change_ci95.1),
            optional(change.p_value),
            optional(change.p_adjusted),
            change.verdict
        );
    }
    table.push_str("</table>");
    table
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::compare::FeasibilityChange;

    fn change(point: usize, change_mean: f64, verdict: &'static str) -> ObjectiveChange {
        ObjectiveChange {
            point,
            metric: "kpis.net_bps".to_string(),
            goal: Goal::Maximize,
            pairs: 6,
            baseline_mean: 1.0,
            candidate_mean: 1.0 + change_mean,
            change_mean,
            change_ci95: (change_mean - 0.1, change_mean + 0.1),
            p_value: Some(0.001),
            p_adjusted: Some(0.002),
            verdict,
        }
    }

    #[test]
    fn the_page_shows_the_verdict_each_change_and_lost_feasibility() {
        let comparison = SweepComparison {
            pairs: 12,
            identical_runs: 0,
            same_config_runs: 12,
            objectives: vec![change(0, -0.5, "worse"), change(1, 0.0, "same")],
            feasibility: vec![FeasibilityChange { point: 1, baseline: true, candidate: false }],
            min_effect_pct: 5.0,
            verdict: "NO-GO",
            t_required: Some(7.5),
            baseline_code_version: "0123456789abcdef".to_string(),
            candidate_code_version: "fedcba9876543210".to_string(),
        };
        let page = render(&comparison, "base", "cand<1>");
        assert!(page.contains("<span class=\"verdict fail\">NO-GO</span>") && page.contains("<code>cand&lt;1&gt;</code>"));
        assert!(page.contains("(paired t, Holm&#39;s correction) and at least 5 % of the baseline mean"));
        assert!(page.contains("<td class=\"pass\">meets every constraint</td><td class=\"fail\">breaks a constraint</td>"));
        assert_eq!(page.matches("<h2>kpis.net_bps</h2>").count(), 1);
        assert!(page.contains("<g class=\"worse\"><title>point 0: 1 → 0.5 (worse)</title>"));
        assert!(page.contains("<td class=\"number\">-0.5 [-0.6, -0.4]</td>") && page.contains("<td class=\"fail\">worse</td>"));
        assert!(page.contains(">change in kpis.net_bps, candidate − baseline (higher is better)</text>"));
        assert!(!page.contains("text-anchor=\"end\">-1</text>"), "rows are labelled by point, not by a value axis");
    }
}
