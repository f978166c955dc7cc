//! `report.html` of a sweep: the plan (scenarios, sampling, seeds, objectives,
//! constraints), the best feasible point, a chart of the points on the objectives
//! (the first against the second, with 95 % intervals over seeds; feasible, on the
//! Pareto front or not, and infeasible points told apart), and the points ranked
//! with their parameters and statistics.
//!
//! Made from the same summaries as `summary.csv` and `pareto.csv`, so it is as
//! deterministic as they are (byte-identical for any `--jobs` or shard split).
//! Deliberately not here: statistics and ranking (see `sweep::outputs`).

use std::fmt::Write;

use super::svg::{Chart, ErrorBar, Layer, PointMark, XAxis, escape};
use super::{STYLE, number_text, section};
use crate::sweep::outputs::{PointSummary, Stats};
use crate::sweep::spec::{Goal, Sampling, SweepFile};

/// Points listed at most in the ranked table (best first).
pub const POINT_ROWS_MAX: usize = 500;

/// The page of a sweep whose points are summarized in `summaries` (in point order),
/// `pareto` the indices of those on the front, from `runs` runs; `tables` are the
/// sweep's grouped tables, (file name, CSV text), shown as they are.
pub fn render(file: &SweepFile, summaries: &[PointSummary], pareto: &[usize], runs: usize, tables: &[(String, String)]) -> String {
    let mut page = String::new();
    let title = format!("sweep {}", file.sweep.name);
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{} — drydock</title><style>{STYLE}</style></head><body>\n<h1>{}</h1>\n",
        escape(&title),
        escape(&title)
    );
    page.push_str(&plan_paragraph(file, summaries.len(), runs));
    page.push_str(&best_paragraph(file, summaries));
    page.push_str(&section("Objectives", &objectives_chart(file, summaries, pareto)));
    for objective in &file.objectives {
        if let Some(map) = heat_map(&objective.metric, objective.goal, summaries) {
            page.push_str(&section(&format!("{} over the two parameters", objective.metric), &map));
        }
    }
    page.push_str(&section("Points, best first", &points_table(file, summaries, pareto)));
    for (name, text) in tables {
        page.push_str(&section(name, &csv_table(text)));
    }
    let mut files = vec!["results.csv", "summary.csv", "pareto.csv", "best_profile.toml"];
    files.extend(file.tables.iter().map(|table| table.name.as_str()));
    let links: Vec<String> = files.iter().map(|name| format!("<a href=\"{}\">{}</a>", escape(name), escape(name))).collect();
    let _ = write!(
        page,
        "<footer>machine-readable: {} · the same sweep and code give this page byte for byte</footer>\n</body></html>\n",
        links.join(", ")
    );
    page
}

fn plan_paragraph(file: &SweepFile, points: usize, runs: usize) -> String {
    let scenarios: Vec<String> = file.sweep.scenarios.iter().map(|path| path.display().to_string()).collect();
    let objectives: Vec<String> =
        file.objectives.iter().map(|objective| format!("{} {}", goal_word(objective.goal), objective.metric)).collect();
    let constraints: Vec<String> = file
        .constraints
        .iter()
        .map(|constraint| format!("{} {} {}", constraint.metric, constraint.op.as_str(), number_text(constraint.value)))
        .collect();
    let mut text = format!(
        "<p class=\"description\">{points} points × {} seeds on {}: {runs} runs ({} sampling). Objectives: {}.",
        file.sweep.seeds_per_point,
        escape(&scenarios.join(", ")),
        sampling_word(file.sweep.sampling),
        escape(&objectives.join("; "))
    );
    if let Some(profile) = &file.sweep.profile {
        let _ = write!(text, " Every point on engine profile <code>{}</code>.", escape(profile));
    }
    if !constraints.is_empty() {
        let _ = write!(text, " Constraints on the means over seeds: {}.", escape(&constraints.join("; ")));
    }
    text.push_str("</p>\n");
    text
}

fn goal_word(goal: Goal) -> &'static str {
    match goal {
        Goal::Maximize => "maximize",
        Goal::Minimize => "minimize",
    }
}

fn best_paragraph(file: &SweepFile, summaries: &[PointSummary]) -> String {
    let primary = &file.objectives[0].metric;
    match summaries.iter().find(|summary| summary.rank == Some(1)) {
        Some(best) => format!(
            "<p><b>Best feasible point: {}</b> ({}): {} {} (<code>best_profile.toml</code>)</p>\n",
            best.point,
            escape(&params_text(best)),
            escape(primary),
            interval_text(&best.metrics[primary])
        ),
        None => "<p><b>No point met every constraint</b>: there is no best profile.</p>\n".to_string(),
    }
}

fn params_text(summary: &PointSummary) -> String {
    let parts: Vec<String> = summary.params.iter().map(|(name, value)| format!("{name} = {}", value_text(value))).collect();
    parts.join(", ")
}

/// A parameter's value: a word without its JSON quotes, a number as written.
fn value_text(value: &serde_json::Value) -> String {
    value.as_str().map_or_else(|| value.to_string(), str::to_string)
}

fn sampling_word(sampling: Sampling) -> &'static str {
    match sampling {
        Sampling::Grid => "grid",
        Sampling::Random => "random",
        Sampling::LatinHypercube => "Latin hypercube",
    }
}

/// `mean [low, high]` of the 95 % interval (just the mean for one seed; a dash when
/// no run measured the metric).
fn interval_text(stats: &Stats) -> String {
    match stats.n {
        0 => return "—".to_string(),
        1 => return number_text(stats.mean),
        _ => {}
    }
    format!("{} [{}, {}]", number_text(stats.mean), number_text(stats.ci95_low), number_text(stats.ci95_high))
}

/// The first objective across and the second up (or the point number across when
/// there is one objective), each point with its 95 % intervals.
fn objectives_chart(file: &SweepFile, summaries: &[PointSummary], pareto: &[usize]) -> String {
    let standing = |index: usize| -> Standing {
        match (pareto.contains(&index), summaries[index].feasible) {
            (true, _) => Standing::Front,
            (false, true) => Standing::Feasible,
            (false, false) => Standing::Infeasible,
        }
    };
    let group = |wanted: Standing| -> Vec<PointMark> {
        let members = (0..summaries.len()).filter(|&index| standing(index) == wanted);
        members.filter_map(|index| point_mark(file, &summaries[index], wanted)).collect()
    };
    let layers = vec![
        Layer::ErrorBars { bars: summaries.iter().filter_map(|summary| point_position(file, summary)).collect(), class: "ci" },
        Layer::Points { points: group(Standing::Infeasible), class: "infeasible" },
        Layer::Points { points: group(Standing::Feasible), class: "feasible" },
        Layer::Points { points: group(Standing::Front), class: "pareto" },
    ];
    let (x_axis, y_label) = match file.objectives.len() {
        1 => (XAxis::Value { label: "point".to_string() }, axis_label(file, 0)),
        _ => (XAxis::Value { label: axis_label(file, 0) }, axis_label(file, 1)),
    };
    let chart = Chart { height_px: 420.0, y_label, y_ticks: true, x_axis, layers, windows: Vec::new() }.to_svg();
    format!(
        "<p class=\"note\">each point's mean over seeds with its 95 % interval; filled blue: on the Pareto front (numbered), grey: feasible, hollow: breaks a constraint · hover for parameters</p>\n{chart}"
    )
}

/// Where a point stands among the others.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Standing {
    Front,
    Feasible,
    Infeasible,
}

/// A point's place on the chart with its intervals; `None` when a value is not finite.
fn point_position(file: &SweepFile, summary: &PointSummary) -> Option<ErrorBar> {
    let first = &summary.metrics[&file.objectives[0].metric];
    let bar = match file.objectives.get(1) {
        Some(second) => {
            let second = &summary.metrics[&second.metric];
            ErrorBar {
                x: first.mean,
                y: second.mean,
                x_interval: (first.ci95_low, first.ci95_high),
                y_interval: (second.ci95_low, second.ci95_high),
            }
        }
        None => {
            let point = summary.point as f64;
            ErrorBar { x: point, y: first.mean, x_interval: (point, point), y_interval: (first.ci95_low, first.ci95_high) }
        }
    };
    let values = [bar.x, bar.y, bar.x_interval.0, bar.x_interval.1, bar.y_interval.0, bar.y_interval.1];
    values.iter().all(|value| value.is_finite()).then_some(bar)
}

/// A point's dot, its tooltip (standing, parameters, objectives) and, on the front, its number.
fn point_mark(file: &SweepFile, summary: &PointSummary, standing: Standing) -> Option<PointMark> {
    let bar = point_position(file, summary)?;
    let stats: Vec<String> = file
        .objectives
        .iter()
        .map(|objective| format!("{} {}", objective.metric, interval_text(&summary.metrics[&objective.metric])))
        .collect();
    let word = match standing {
        Standing::Front => "on the Pareto front",
        Standing::Feasible => "feasible",
        Standing::Infeasible => "infeasible",
    };
    Some(PointMark {
        x: bar.x,
        y: bar.y,
        title: format!("point {} ({word}): {} · {}", summary.point, params_text(summary), stats.join(" · ")),
        label: (standing == Standing::Front).then(|| summary.point.to_string()),
    })
}

/// Distinct values a heat map's axis takes at most.
pub const HEAT_MAP_VALUES_MAX: usize = 40;

/// For a sweep over exactly two parameters, each point once: a table of `metric`'s
/// mean, the first parameter across and the second down, each cell coloured from
/// worst (red) through middling (yellow) to best (green) for `goal`; a point that
/// breaks a constraint is struck through. `None` for any other sweep.
fn heat_map(metric: &str, goal: Goal, summaries: &[PointSummary]) -> Option<String> {
    let names: Vec<&String> = summaries.first()?.params.keys().collect();
    let [across, down] = names.as_slice() else { return None };
    let (columns, rows) = (heat_axis(across, summaries)?, heat_axis(down, summaries)?);
    if columns.len() * rows.len() != summaries.len() {
        return None; // not a grid: some cell empty or held twice
    }
    let means: Vec<f64> = summaries.iter().map(|summary| summary.metrics.get(metric).map_or(f64::NAN, |stats| stats.mean)).collect();
    let low = means.iter().copied().filter(|mean| mean.is_finite()).fold(f64::INFINITY, f64::min);
    let high = means.iter().copied().filter(|mean| mean.is_finite()).fold(f64::NEG_INFINITY, f64::max);
    let mut table = format!("<table class=\"heat\"><tr><th><code>{}</code> ↓ <code>{}</code> →</th>", escape(down), escape(across));
    for column in &columns {
        let _ = write!(table, "<th class=\"number\">{}</th>", escape(&value_text(column)));
    }
    table.push_str("</tr>");
    for row in &rows {
        let _ = write!(table, "<tr><th class=\"number\">{}</th>", escape(&value_text(row)));
        for column in &columns {
            let cell = summaries
                .iter()
                .position(|summary| summary.params.get(*across) == Some(column) && summary.params.get(*down) == Some(row))?;
            let mean = means[cell];
            let goodness = if high > low { (mean - low) / (high - low) } else { 0.5 };
            let goodness = if goal == Goal::Maximize { goodness } else { 1.0 - goodness };
            let struck = if summaries[cell].feasible { "" } else { " class=\"broken\"" };
            let _ = write!(
                table,
                "<td{struck} style=\"background:{}\">{}</td>",
                heat_colour(goodness),
                if mean.is_finite() { number_text(mean) } else { "—".to_string() }
            );
        }
        table.push_str("</tr>");
    }
    table.push_str("</table>");
    Some(format!("<p class=\"note\">mean over seeds; green best, red worst; struck through: breaks a constraint</p>\n{table}"))
}

/// The distinct values parameter `name` takes, numbers in numeric order; `None`
/// when a point lacks it or there are too many to draw.
fn heat_axis(name: &str, summaries: &[PointSummary]) -> Option<Vec<serde_json::Value>> {
    let mut values: Vec<serde_json::Value> = Vec::new();
    for summary in summaries {
        let value = summary.params.get(name)?;
        if !values.contains(value) {
            values.push(value.clone());
        }
    }
    values.sort_by(|left, right| match (left.as_f64(), right.as_f64()) {
        (Some(left), Some(right)) => left.total_cmp(&right),
        _ => left.to_string().cmp(&right.to_string()),
    });
    (values.len() <= HEAT_MAP_VALUES_MAX).then_some(values)
}

/// Red (0) through yellow (0.5) to green (1), pale enough for dark text.
fn heat_colour(goodness: f64) -> String {
    const RED: [f64; 3] = [244.0, 199.0, 195.0];
    const YELLOW: [f64; 3] = [255.0, 242.0, 204.0];
    const GREEN: [f64; 3] = [183.0, 225.0, 205.0];
    let goodness = if goodness.is_finite() { goodness.clamp(0.0, 1.0) } else { 0.5 };
    let (from, to, t) = if goodness < 0.5 { (RED, YELLOW, goodness * 2.0) } else { (YELLOW, GREEN, goodness * 2.0 - 1.0) };
    let channel = |index: usize| (from[index] + (to[index] - from[index]) * t).round() as u8;
    format!("#{:02x}{:02x}{:02x}", channel(0), channel(1), channel(2))
}

/// A CSV text (header first) as a table; numbers shortened as elsewhere on the page.
fn csv_table(text: &str) -> String {
    let mut table = String::from("<table>");
    let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(text.as_bytes());
    for (index, record) in reader.records().enumerate() {
        let Ok(record) = record else { continue };
        table.push_str("<tr>");
        for cell in &record {
            match (index, cell.parse::<f64>()) {
                (0, _) => {
                    let _ = write!(table, "<th><code>{}</code></th>", escape(cell));
                }
                (_, Ok(number)) => {
                    let _ = write!(table, "<td class=\"number\">{}</td>", number_text(number));
                }
                (_, Err(_)) => {
                    let _ = write!(table, "<td>{}</td>", escape(cell));
                }
            }
        }
        table.push_str("</tr>");
    }
    table.push_str("</table>");
    table
}

fn axis_label(file: &SweepFile, objective: usize) -> String {
    let objective = &file.objectives[objective];
    let better = match objective.goal {
        Goal::Maximize => "higher is better",
        Goal::Minimize => "lower is better",
    };
    format!("{} ({better})", objective.metric)
}

fn points_table(file: &SweepFile, summaries: &[PointSummary], pareto: &[usize]) -> String {
    let mut order: Vec<usize> = (0..summaries.len()).collect();
    order.sort_by_key(|&index| (summaries[index].rank.unwrap_or(usize::MAX), summaries[index].point));
    let params: Vec<&String> = summaries.first().map(|summary| summary.params.keys().collect()).unwrap_or_default();
    let metrics: Vec<&String> = summaries.first().map(|summary| summary.metrics.keys().collect()).unwrap_or_default();
    let mut table = String::new();
    if order.len() > POINT_ROWS_MAX {
        let _ = writeln!(table, "<p class=\"note\">the best {POINT_ROWS_MAX} of {} points; all are in summary.csv</p>", order.len());
    }
    table.push_str("<table><tr><th>rank</th><th>point</th>");
    for name in params.iter().chain(&metrics) {
        let _ = write!(table, "<th><code>{}</code></th>", escape(name));
    }
    table.push_str("<th>constraints</th><th>Pareto</th></tr>");
    for &index in order.iter().take(POINT_ROWS_MAX) {
        let summary = &summaries[index];
        let rank = summary.rank.map_or("—".to_string(), |rank| rank.to_string());
        let _ = write!(table, "<tr><td class=\"number\">{rank}</td><td class=\"number\">{}</td>", summary.point);
        for name in &params {
            let value = summary.params.get(*name).map_or(String::new(), value_text);
            let _ = write!(table, "<td class=\"number\">{}</td>", escape(&value));
        }
        for name in &metrics {
            let _ = write!(table, "<td class=\"number\">{}</td>", interval_text(&summary.metrics[*name]));
        }
        let (class, feasible) = if summary.feasible { ("pass", "hold") } else { ("fail", "broken") };
        let front = if pareto.contains(&index) { "yes" } else { "" };
        let _ = write!(table, "<td class=\"{class}\">{feasible}</td><td>{front}</td></tr>");
    }
    table.push_str("</table>");
    if file.constraints.is_empty() {
        table = table.replace("<th>constraints</th>", "<th>constraints (none)</th>");
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn file(text: &str) -> SweepFile {
        toml::from_str(text).unwrap()
    }

    fn stats(mean: f64) -> Stats {
        Stats { n: 3, mean, std: 1.0, ci95_low: mean - 1.0, ci95_high: mean + 1.0 }
    }

    fn summary(point: usize, net: f64, drawdown: f64, feasible: bool, rank: Option<usize>) -> PointSummary {
        PointSummary {
            point,
            params: BTreeMap::from([("engine.base_spread_bps".to_string(), serde_json::json!([0.2, 0.4, 0.6][point]))]),
            metrics: BTreeMap::from([("kpis.max_drawdown".to_string(), stats(drawdown)), ("kpis.net_bps".to_string(), stats(net))]),
            feasible,
            rank,
        }
    }

    const SWEEP: &str = "[sweep]\nname = \"s\"\nscenarios = [\"calm.toml\"]\nseeds_per_point = 3\n\n\
        [[params]]\nname = \"engine.base_spread_bps\"\nvalues = [0.2, 0.4, 0.6]\n\n\
        [[objectives]]\nmetric = \"kpis.net_bps\"\ngoal = \"maximize\"\n\n\
        [[objectives]]\nmetric = \"kpis.max_drawdown\"\ngoal = \"minimize\"\n\n\
        [[constraints]]\nmetric = \"kpis.max_drawdown\"\nop = \"<=\"\nvalue = 50.0\n";

    #[test]
    fn points_are_ranked_charted_and_told_apart() {
        let summaries =
            vec![summary(0, 0.2, 10.0, true, Some(2)), summary(1, 0.5, 20.0, true, Some(1)), summary(2, 0.9, 80.0, false, None)];
        let tables = [("grouped.csv".to_string(), "engine.base_spread_bps,n,kpis.net_bps.mean\n0.2,3,0.123456\n".to_string())];
        let page = render(&file(SWEEP), &summaries, &[0, 1], 9, &tables);
        assert!(page.contains("3 points × 3 seeds on calm.toml: 9 runs (grid sampling)"));
        assert!(page.contains("Constraints on the means over seeds: kpis.max_drawdown &lt;= 50."));
        assert!(page.contains("<b>Best feasible point: 1</b> (engine.base_spread_bps = 0.4): kpis.net_bps 0.5 [-0.5, 1.5]"));
        // Best first, infeasible last, with their standing.
        let rows: Vec<&str> = page.split("<tr><td class=\"number\">").skip(1).collect();
        assert!(rows[0].starts_with("1</td><td class=\"number\">1</td>") && rows[1].starts_with("2</td><td class=\"number\">0</td>"));
        assert!(rows[2].starts_with("—</td><td class=\"number\">2</td>") && rows[2].contains("<td class=\"fail\">broken</td>"));
        assert_eq!(page.matches("<g class=\"pareto\">").count(), 2);
        assert_eq!(page.matches("<g class=\"infeasible\">").count(), 1);
        assert!(page.contains("<title>point 2 (infeasible): engine.base_spread_bps = 0.6 · kpis.net_bps 0.9 [-0.1, 1.9]"));
        assert!(page.contains(">kpis.net_bps (higher is better)</text>") && page.contains(">kpis.max_drawdown (lower is better)</text>"));
        assert!(page.contains("<h2>grouped.csv</h2>\n<table><tr><th><code>engine.base_spread_bps</code></th><th><code>n</code></th>"));
        assert!(!page.contains("class=\"heat\""), "one parameter: no heat map");
        assert!(page.contains("<td class=\"number\">0.2</td><td class=\"number\">3</td><td class=\"number\">0.1235</td>"));
    }

    #[test]
    fn a_two_parameter_grid_gets_a_heat_map_per_objective() {
        let point = |index: usize, spread: f64, size: i64, net: f64, feasible: bool| PointSummary {
            point: index,
            params: BTreeMap::from([
                ("engine.base_spread_bps".to_string(), serde_json::json!(spread)),
                ("engine.quote_size_lots".to_string(), serde_json::json!(size)),
            ]),
            metrics: BTreeMap::from([("kpis.max_drawdown".to_string(), stats(net * 10.0)), ("kpis.net_bps".to_string(), stats(net))]),
            feasible,
            rank: None,
        };
        let summaries =
            vec![point(0, 0.2, 10, 0.1, true), point(1, 0.2, 5, 0.3, true), point(2, 0.4, 10, 0.2, false), point(3, 0.4, 5, 0.4, true)];
        let page = render(&file(SWEEP), &summaries, &[], 12, &[]);
        assert_eq!(page.matches("<table class=\"heat\">").count(), 2, "one per objective");
        // Rows down in value order (5 before 10); the best net bps green, the worst red.
        assert!(
            page.contains(
                "<tr><th class=\"number\">5</th><td style=\"background:#e7eccc\">0.3</td><td style=\"background:#b7e1cd\">0.4</td></tr>"
            ),
            "{page}"
        );
        assert!(page.contains("<td style=\"background:#f4c7c3\">0.1</td><td class=\"broken\" style=\"background:#fbe4c9\">0.2</td>"));
        // Drawdown is minimized: the same cell order, colours reversed.
        assert!(page.contains("<td style=\"background:#b7e1cd\">1</td>"));
        assert_eq!(heat_colour(0.25), "#faddc8");
        let gap = vec![summaries[0].clone(), summaries[1].clone(), summaries[2].clone()];
        assert!(heat_map("kpis.net_bps", Goal::Maximize, &gap).is_none(), "a missing cell is not a grid");
    }

    #[test]
    fn a_metric_no_run_measured_is_a_dash() {
        let empty = Stats { n: 0, mean: f64::NAN, std: f64::NAN, ci95_low: f64::NAN, ci95_high: f64::NAN };
        assert_eq!(interval_text(&empty), "—");
        assert_eq!(interval_text(&Stats { n: 1, ..stats(2.5) }), "2.5");
        let mut unmeasured = summary(0, 0.2, 10.0, true, Some(1));
        unmeasured.metrics.insert("kpis.net_bps".to_string(), empty);
        let page = render(&file(SWEEP), &[unmeasured], &[], 3, &[]);
        assert!(!page.contains("NaN"), "{page}");
    }

    #[test]
    fn no_feasible_point_is_said_and_one_objective_charts_by_point() {
        let one = SWEEP.replace("[[objectives]]\nmetric = \"kpis.max_drawdown\"\ngoal = \"minimize\"\n\n", "");
        let summaries = vec![summary(0, 0.2, 90.0, false, None)];
        let page = render(&file(&one), &summaries, &[], 3, &[]);
        assert!(page.contains("<b>No point met every constraint</b>"));
        assert!(page.contains(">point</text>"), "the point number across");
    }
}
