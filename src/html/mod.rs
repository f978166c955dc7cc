//! The pages people look at: a run's `report.html` (here), a check's `index.html`
//! ([`check_index`]), a sweep's `report.html` ([`sweep_page`]) and a sweep
//! comparison's `compare.html` ([`compare_page`]); their charts are
//! drawn by [`svg`], a run's bounded record of its timeline and fills is [`Trace`].
//!
//! A run's page shows the verdict and expectations, charts of price and our quotes
//! with fills, inventory against its limits and PnL over the whole run (injected
//! events and faults shaded), the KPIs, the events' measured effects, the run's
//! counters and a soak's iterations. The pages have no scripts and load nothing:
//! open them from a CI artifact or a laptop. It is made from `report.json`'s content and a [`Trace`] of the timeline
//! and fills, so it is deterministic like them (the same run gives the same bytes;
//! no wall time or host). Deliberately not here: anything a test or a gate reads —
//! `report.json` and the CSV files stay the machine-readable record.

pub mod calibration_page;
pub mod check_index;
pub mod compare_page;
pub mod gate_page;
pub mod histogram;
pub mod svg;
pub mod sweep_page;
pub mod trace;

use std::fmt::Write;

use drydock_sim::effects::EventEffect;
use serde_json::Value;

use crate::report::Report;
use crate::scenario::Scenario;
use crate::soak::IterationSummary;
use crate::soak::gate::GateVerdict;
use svg::{Chart, Layer, Window, XAxis, escape};
pub use trace::Trace;
use trace::{Band, Bucket};

/// Soak iterations listed at most (beyond it, those that warned, failed or changed
/// the parameters).
pub const ITERATION_ROWS_MAX: usize = 200;

/// The page for `report`, drawn from `trace`; `scenario` gives the tick size and
/// the inventory limits; a soak's `iterations` (empty for a plain run) get a table
/// and their WARN and FAIL windows are shaded on the charts.
pub fn render(report: &Report, trace: &Trace, scenario: &Scenario, iterations: &[IterationSummary]) -> String {
    let mut page = String::new();
    let title = format!("{} (seed {})", report.scenario, report.seed);
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{} — drydock</title><style>{STYLE}</style></head><body>\n",
        escape(&title)
    );
    let _ = write!(
        page,
        "<h1>{} <span class=\"verdict {}\">{}</span></h1>\n<p class=\"description\">{}</p>\n",
        escape(&title),
        escape(&report.verdict),
        escape(&report.verdict.to_uppercase()),
        escape(&report.description)
    );
    page.push_str(&identity_table(report));
    page.push_str(&expectations_section(report));
    page.push_str(&charts_section(report, trace, scenario, iterations));
    page.push_str(&fills_section(trace));
    page.push_str(&section("KPIs", &value_table(&to_value(&report.kpis))));
    page.push_str(&events_section(report));
    if let Some(soak) = &report.soak {
        page.push_str(&section("Soak", &value_table(&to_value(soak))));
        page.push_str(&tuning_section(iterations));
        page.push_str(&iterations_section(iterations));
    }
    if let Some(replay) = &report.replay {
        page.push_str(&section("Replay", &value_table(&to_value(replay))));
    }
    page.push_str(&section("Run", &value_table(&to_value(&report.run))));
    page.push_str(&section("Artifacts", &value_table(&to_value(&report.csv))));
    let _ = write!(
        page,
        "<footer>drydock {} · the same scenario, seed, configuration and version give this page byte for byte; \
         machine-readable: report.json, fills.csv, timeline.csv</footer>\n</body></html>\n",
        escape(&report.drydock_version)
    );
    page
}

/// The pages' style sheet (inline: the pages load nothing).
pub(crate) const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:1000px;margin:24px auto;padding:0 12px;color:#1d2330}\
h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #d8dce3}\
.description{color:#4a5262}.verdict{font-size:14px;padding:2px 8px;border-radius:4px;vertical-align:middle;color:#fff}\
.verdict.pass,td.pass{background:#1d7f46;color:#fff}.verdict.fail,td.fail{background:#b3261e;color:#fff}td.warn{background:#f5a623;color:#1d2330}\
table{border-collapse:collapse;font-size:13px}td,th{padding:3px 10px 3px 0;text-align:left;vertical-align:top}\
td.number{text-align:right;font-variant-numeric:tabular-nums}td.pass,td.warn,td.fail{padding:1px 6px;font-weight:600}\
code{font-size:12px}.note{color:#4a5262;font-size:13px}\
svg.chart{width:100%;height:auto;display:block;margin:6px 0 14px}svg .plot{fill:#fbfbfd;stroke:#c5cad3}\
svg .grid{stroke:#eceef2}svg text{font-size:11px;fill:#4a5262}svg .axis{font-size:12px}\
svg .event rect{fill:#f5a623;opacity:.16}svg .event text{fill:#9a5b00}svg .gate rect{fill:#b3261e;opacity:.1}svg .gate text{fill:#b3261e}\
svg polygon.range{fill:#8fa6cc;opacity:.35;stroke:none}svg polyline{fill:none;stroke-width:1.3}\
svg .mid{stroke:#2c4f8c}svg .bbo{stroke:#9aa3b2;stroke-width:.8}svg .our-bid{stroke:#1d7f46}svg .our-ask{stroke:#b3261e}\
svg circle.buy{fill:#1d7f46;opacity:.6}svg circle.sell{fill:#b3261e;opacity:.6}\
svg .inventory{stroke:#2c4f8c}svg .pnl{stroke:#6a3d9a}svg circle.mid,svg circle.inventory,svg circle.pnl{fill:#2c4f8c}\
svg .t0{stroke:#2c4f8c}svg .t1{stroke:#b3261e}svg .t2{stroke:#1d7f46}svg .t3{stroke:#f5a623}svg .t4{stroke:#6a3d9a}svg .t5{stroke:#00838f}svg .t6{stroke:#8d6e63}svg .t7{stroke:#d81b60}\
span.t0{color:#2c4f8c}span.t1{color:#b3261e}span.t2{color:#1d7f46}span.t3{color:#b26a00}span.t4{color:#6a3d9a}span.t5{color:#00838f}span.t6{color:#8d6e63}span.t7{color:#d81b60}\
svg .captured{stroke:#1d7f46}svg .adverse-1s{stroke:#f5a623}svg .adverse-10s{stroke:#b3261e}\
svg path.ci{stroke:#8a92a3;stroke-width:1}svg path.zero{stroke:#1d2330;stroke-width:1}\
svg .better circle{fill:#1d7f46}svg .worse circle{fill:#b3261e}svg .same circle{fill:#9aa3b2}svg .better text{fill:#1d7f46}svg .worse text{fill:#b3261e}\
svg .pareto circle{fill:#2c4f8c}svg .pareto text{fill:#2c4f8c;font-weight:600}\
svg .feasible circle{fill:#9aa3b2}svg .infeasible circle{fill:#fff;stroke:#b3261e;stroke-width:1.2}\
svg line.hard{stroke:#b3261e;stroke-dasharray:6 4}svg line.soft{stroke:#f5a623;stroke-dasharray:4 4}svg line.zero{stroke:#9aa3b2}\
table.heat td{text-align:right;padding:3px 8px;font-variant-numeric:tabular-nums}table.heat td.broken{text-decoration:line-through;color:#6b7280}\
footer{margin:32px 0;color:#8a92a3;font-size:12px}";

pub(crate) fn section(title: &str, body: &str) -> String {
    format!("<h2>{}</h2>\n{body}\n", escape(title))
}

fn identity_table(report: &Report) -> String {
    let rows = [
        ("seed", report.seed.to_string()),
        ("fingerprint", report.fingerprint.clone()),
        ("profile", report.profile.clone()),
        ("simulated", duration_text(report.duration_s)),
        ("scenario hash", report.scenario_hash.clone()),
        ("config hash", report.config_hash.clone()),
        (
            "drydock",
            format!("{} (code version {}, engine port {})", report.drydock_version, report.code_version, report.engine_port_version),
        ),
    ];
    let mut table = String::from("<table>");
    for (key, value) in rows {
        let _ = write!(table, "<tr><th>{key}</th><td><code>{}</code></td></tr>", escape(&value));
    }
    table.push_str("</table>\n");
    table
}

fn expectations_section(report: &Report) -> String {
    if report.expectations.is_empty() {
        return section("Expectations", "<p class=\"note\">the scenario states none</p>");
    }
    let mut table = String::from("<table><tr><th></th><th>metric</th><th>wanted</th><th>actual</th><th>why</th></tr>");
    for result in &report.expectations {
        let (class, verdict) = if result.pass { ("pass", "PASS") } else { ("fail", "FAIL") };
        let actual = result.actual.map_or("not measured".to_string(), number_text);
        let _ = write!(
            table,
            "<tr><td class=\"{class}\">{verdict}</td><td><code>{}</code></td><td>{} {}</td><td class=\"number\">{}</td><td>{}</td></tr>",
            escape(&result.metric),
            escape(&result.op),
            number_text(result.value),
            escape(&actual),
            escape(&result.why)
        );
    }
    table.push_str("</table>");
    section("Expectations", &table)
}

fn events_section(report: &Report) -> String {
    if report.events.is_empty() {
        return section("Injected events and faults", "<p class=\"note\">none</p>");
    }
    let mut table = String::from("<table><tr><th>name</th><th>kind</th><th>start</th><th>active</th><th>measured</th></tr>");
    for event in &report.events {
        let _ = write!(
            table,
            "<tr><td><code>{}</code></td><td>{}</td><td class=\"number\">{}</td><td class=\"number\">{}</td><td>{}</td></tr>",
            escape(&event.name),
            escape(&event.kind),
            duration_text(event.start_s),
            duration_text(event.active_s),
            escape(&measured_text(event))
        );
    }
    table.push_str("</table>");
    section("Injected events and faults", &table)
}

/// How every fill fared against fair value: the distributions of spread captured
/// (positive: bought below or sold above it) and of the 1 s and 10 s markouts
/// (positive: fair value moved against us).
fn fills_section(trace: &Trace) -> String {
    let title = "Fills against fair value";
    let [captured, adverse_1s, adverse_10s] = trace.fill_histograms();
    if captured.total() == 0 {
        return section(title, "<p class=\"note\">no fills</p>");
    }
    // Shown: the bins holding the central 99 % of each distribution, and one more each side.
    let ranges = [captured, adverse_1s, adverse_10s].map(|histogram| histogram.central_bins(0.99));
    let first = ranges.iter().flatten().map(|range| range.0).min().unwrap_or(0).saturating_sub(1);
    let last = ranges.iter().flatten().map(|range| range.1).max().unwrap_or(0) + 1;
    let line = |histogram: &histogram::BpsHistogram, class| Layer::Line {
        points: histogram
            .shares()
            .into_iter()
            .enumerate()
            .filter(|(bin, _)| (first..=last).contains(bin))
            .map(|(_, (centre, share))| Some((centre, share * 100.0)))
            .collect(),
        class,
    };
    let highest = [captured, adverse_1s, adverse_10s]
        .iter()
        .flat_map(|histogram| histogram.shares())
        .map(|(_, share)| share * 100.0)
        .fold(0.0, f64::max);
    let zero = Layer::ErrorBars {
        bars: vec![svg::ErrorBar { x: 0.0, y: 0.0, x_interval: (0.0, 0.0), y_interval: (0.0, highest) }],
        class: "zero",
    };
    let layers = vec![zero, line(captured, "captured"), line(adverse_1s, "adverse-1s"), line(adverse_10s, "adverse-10s")];
    let x_axis = XAxis::Value { label: "bps against fair value (bins of 0.5; the central 99 % of each shown)".to_string() };
    let chart =
        Chart { height_px: 260.0, y_label: "share of fills, %".to_string(), y_ticks: true, x_axis, layers, windows: Vec::new() }.to_svg();
    let outside = |histogram: &histogram::BpsHistogram| {
        let (below, above) = histogram.outside();
        format!("{below} below −{r}, {above} above +{r}", r = histogram::RANGE_BPS)
    };
    let note = format!(
        "<p class=\"note\">spread captured (green; positive: bought below or sold above fair value; {}), markout after 1 s (orange) and after 10 s \
         (red; positive: fair value moved against us; {}, {}) — {} fills, {} and {} with markouts</p>",
        outside(captured),
        outside(adverse_1s),
        outside(adverse_10s),
        captured.total(),
        adverse_1s.total(),
        adverse_10s.total()
    );
    section(title, &format!("{note}\n{chart}"))
}

/// An event's measured effects: `name value, name value`.
fn measured_text(event: &EventEffect) -> String {
    let parts: Vec<String> = event.measured.iter().map(|(key, value)| format!("{key} {}", number_text(*value))).collect();
    parts.join(", ")
}

fn charts_section(report: &Report, trace: &Trace, scenario: &Scenario, iterations: &[IterationSummary]) -> String {
    let buckets = trace.buckets();
    let duration_s = buckets.last().map_or(report.duration_s, |bucket| bucket.time_last_s.max(report.duration_s));
    let mut windows: Vec<Window> = report
        .events
        .iter()
        .map(|event| Window {
            start_s: event.start_s,
            end_s: event.start_s + event.active_s,
            label: event.name.clone(),
            detail: format!(
                "{} from {} for {}: {}",
                event.kind,
                duration_text(event.start_s),
                duration_text(event.active_s),
                measured_text(event)
            ),
            class: "event",
        })
        .collect();
    let gated = iterations.iter().filter(|iteration| iteration.verdict != GateVerdict::Pass).take(ITERATION_ROWS_MAX);
    windows.extend(gated.map(|iteration| Window {
        start_s: iteration.start_s,
        end_s: iteration.end_s,
        label: format!("iteration {} {}", iteration.iteration, verdict_word(iteration.verdict)),
        detail: format!(
            "iteration {} gate {}: {}",
            iteration.iteration,
            verdict_word(iteration.verdict),
            iteration.gate_reasons.join("; ")
        ),
        class: "gate",
    }));
    let chart = |height_px: f64, y_label: &str, layers: Vec<Layer>| {
        Chart {
            height_px,
            y_label: y_label.to_string(),
            y_ticks: true,
            x_axis: XAxis::Time { duration_s },
            layers,
            windows: windows.clone(),
        }
        .to_svg()
    };
    let price = chart(300.0, "price", price_layers(trace, scenario.sim.market.instrument.tick_size));
    let inventory = chart(200.0, "inventory, lots", inventory_layers(buckets, scenario));
    let pnl = chart(200.0, "PnL, quote currency", pnl_layers(buckets));
    let mut body = String::new();
    let _ = writeln!(
        body,
        "<p class=\"note\">{} · shaded: injected events and faults (hover for their measured effects), soak iterations the gate warned on or failed (red) · bands: lowest to highest within {}</p>",
        fills_note(trace),
        bucket_note(trace)
    );
    let _ = write!(body, "{price}\n{inventory}\n{pnl}");
    section("Over the run", &body)
}

fn verdict_word(verdict: GateVerdict) -> &'static str {
    match verdict {
        GateVerdict::Pass => "PASS",
        GateVerdict::Warn => "WARN",
        GateVerdict::Fail => "FAIL",
    }
}

/// Steps of a tuned parameter drawn at most (beyond, an even sample of them).
const TUNING_STEPS_MAX: usize = 2_000;

/// Colours of the tuned parameters' lines, in name order (reused past the last).
const TUNING_CLASSES: [&str; 8] = ["t0", "t1", "t2", "t3", "t4", "t5", "t6", "t7"];

/// The tuned parameters over the soak, each relative to its first iteration's value,
/// as steps: a point where an iteration starts with a new value, and the end.
fn tuning_section(iterations: &[IterationSummary]) -> String {
    let (Some(first), Some(last)) = (iterations.first(), iterations.last()) else {
        return String::new();
    };
    let mut layers = Vec::new();
    let mut legend = Vec::new();
    for (index, (name, start)) in first.params.iter().enumerate() {
        let class = TUNING_CLASSES[index % TUNING_CLASSES.len()];
        layers.push(Layer::Line { points: tuning_steps(iterations, name, *start), class });
        let final_value = last.params.get(name).copied().unwrap_or(*start);
        legend.push(format!("<span class=\"{class}\">{}</span> {} → {}", escape(name), number_text(*start), number_text(final_value)));
    }
    if layers.is_empty() {
        return String::new();
    }
    let duration_s = last.end_s;
    let chart = Chart {
        height_px: 220.0,
        y_label: "% of its first value".to_string(),
        y_ticks: true,
        x_axis: XAxis::Time { duration_s },
        layers,
        windows: Vec::new(),
    }
    .to_svg();
    section(
        "Tuned parameters",
        &format!("<p class=\"note\">each relative to its value in the first iteration: {}</p>\n{chart}", legend.join(" · ")),
    )
}

/// Parameter `name` over the soak, relative to `start` (%): a corner where an
/// iteration starts with a new value, the end of the last iteration, and at most
/// [`TUNING_STEPS_MAX`] corners (an even sample beyond).
fn tuning_steps(iterations: &[IterationSummary], name: &str, start: f64) -> Vec<Option<(f64, f64)>> {
    let relative = |value: f64| if start != 0.0 { value / start * 100.0 } else { 100.0 + value };
    let mut steps: Vec<(f64, f64)> = Vec::new();
    for iteration in iterations {
        let value = relative(iteration.params.get(name).copied().unwrap_or(start));
        if steps.last().is_none_or(|previous| previous.1 != value) {
            if let Some(previous) = steps.last().copied() {
                steps.push((iteration.start_s, previous.1));
            }
            steps.push((iteration.start_s, value));
        }
    }
    let stride = steps.len().div_ceil(TUNING_STEPS_MAX).max(1);
    let mut points: Vec<Option<(f64, f64)>> = steps.iter().step_by(stride).copied().map(Some).collect();
    if let (Some(last), Some(end)) = (iterations.last(), steps.last()) {
        points.push(Some((last.end_s, end.1)));
    }
    points
}

/// One row per soak iteration (when there are many, those that warned, failed,
/// changed the parameters or reverted them).
fn iterations_section(iterations: &[IterationSummary]) -> String {
    let notable = |iteration: &&IterationSummary| {
        iteration.verdict != GateVerdict::Pass
            || iteration.decision.as_ref().is_some_and(|decision| !decision.applied.is_empty() || decision.reverted_to.is_some())
    };
    let shown: Vec<&IterationSummary> = if iterations.len() <= ITERATION_ROWS_MAX {
        iterations.iter().collect()
    } else {
        iterations.iter().filter(notable).take(ITERATION_ROWS_MAX).collect()
    };
    let mut body = String::new();
    if shown.len() < iterations.len() {
        let _ = writeln!(
            body,
            "<p class=\"note\">{} iterations; {} shown: those the gate warned on or failed, or after which the tuner changed or reverted parameters</p>",
            iterations.len(),
            shown.len()
        );
    }
    body.push_str(
        "<table><tr><th>#</th><th>from</th><th>gate</th><th>net bps</th><th>PnL</th><th>fills</th><th>risk ratio</th>\
         <th>adverse p95 bps</th><th>taker %</th><th>max inventory</th><th>gate reasons</th><th>tuning after it</th></tr>",
    );
    for iteration in shown {
        let kpis = &iteration.kpis;
        let numbers = [
            kpis.net_bps,
            kpis.pnl,
            kpis.fills as f64,
            kpis.risk_ratio,
            kpis.adverse_p95_bps,
            kpis.taker_share_pct,
            kpis.max_inventory_abs as f64,
        ]
        .map(|value| format!("<td class=\"number\">{}</td>", number_text(value)))
        .concat();
        let verdict = verdict_word(iteration.verdict);
        let _ = write!(
            body,
            "<tr><td class=\"number\">{}</td><td class=\"number\">{}</td><td class=\"{}\">{verdict}</td>{numbers}<td>{}</td><td>{}</td></tr>",
            iteration.iteration,
            duration_text(iteration.start_s),
            verdict.to_lowercase(),
            escape(&iteration.gate_reasons.join("; ")),
            escape(&tuning_text(iteration))
        );
    }
    body.push_str("</table>");
    section("Soak iterations", &body)
}

/// What happened to the parameters after an iteration.
fn tuning_text(iteration: &IterationSummary) -> String {
    let mut parts = Vec::new();
    if iteration.frozen {
        parts.push("frozen".to_string());
    }
    if let Some(decision) = &iteration.decision {
        if let Some(profile) = &decision.reverted_to {
            parts.push(format!("panic revert to {profile}"));
        }
        let applied = decision.applied.iter().map(|(name, (old, new))| format!("{name} {} → {}", number_text(*old), number_text(*new)));
        parts.extend(applied);
    }
    parts.join("; ")
}

fn fills_note(trace: &Trace) -> String {
    match (trace.fills_seen(), trace.fill_stride()) {
        (0, _) => "price: mid band, best bid and ask (grey), our bid (green) and ask (red); no fills".to_string(),
        (seen, 1) => {
            format!("price: mid band, best bid and ask (grey), our bid (green) and ask (red), {seen} fills (dots: buy green, sell red)")
        }
        (seen, stride) => format!(
            "price: mid band, best bid and ask (grey), our bid (green) and ask (red), every {} of {seen} fills (dots: buy green, sell red)",
            ordinal(stride)
        ),
    }
}

fn bucket_note(trace: &Trace) -> String {
    match trace.rows_per_bucket() {
        1 => "each point (one timeline row)".to_string(),
        rows => format!("each point ({rows} timeline rows)"),
    }
}

/// `2nd`, `16th`, `32nd`, `111th`.
fn ordinal(number: u64) -> String {
    let suffix = match (number % 10, number % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{number}{suffix}")
}

fn price_layers(trace: &Trace, tick_size: f64) -> Vec<Layer> {
    let buckets = trace.buckets();
    let last = |pick: fn(&Bucket) -> Option<Band>| -> Vec<Option<(f64, f64)>> {
        buckets.iter().map(|bucket| pick(bucket).map(|band| (bucket.time_last_s, band.last))).collect()
    };
    let marks = |side: drydock_engine::Side| -> Vec<(f64, f64)> {
        trace.fills().iter().filter(|mark| mark.side == side).map(|mark| (mark.time_s, mark.price_ticks as f64 * tick_size)).collect()
    };
    vec![
        Layer::Band {
            points: buckets.iter().map(|bucket| bucket.mid.map(|band| (bucket.time_last_s, band.min, band.max))).collect(),
            class: "range",
        },
        Layer::Line { points: last(|bucket| bucket.best_bid), class: "bbo" },
        Layer::Line { points: last(|bucket| bucket.best_ask), class: "bbo" },
        Layer::Line { points: last(|bucket| bucket.mid), class: "mid" },
        Layer::Line { points: last(|bucket| bucket.our_bid), class: "our-bid" },
        Layer::Line { points: last(|bucket| bucket.our_ask), class: "our-ask" },
        Layer::Marks { points: marks(drydock_engine::Side::Buy), class: "buy" },
        Layer::Marks { points: marks(drydock_engine::Side::Sell), class: "sell" },
    ]
}

fn inventory_layers(buckets: &[Bucket], scenario: &Scenario) -> Vec<Layer> {
    let soft = scenario.params.inventory_soft_lots as f64;
    let hard = scenario.params.inventory_hard_lots as f64;
    let mut layers = band_and_line(buckets, |bucket| bucket.inventory_lots, "inventory");
    for (y, label, class) in [(hard, "hard limit", "hard"), (soft, "soft limit", "soft"), (-soft, "", "soft"), (-hard, "", "hard")] {
        layers.push(Layer::Level { y, label: label.to_string(), class });
    }
    layers
}

fn pnl_layers(buckets: &[Bucket]) -> Vec<Layer> {
    let mut layers = vec![Layer::Level { y: 0.0, label: String::new(), class: "zero" }];
    layers.extend(band_and_line(buckets, |bucket| bucket.pnl, "pnl"));
    layers
}

fn band_and_line(buckets: &[Bucket], pick: fn(&Bucket) -> Band, class: &'static str) -> Vec<Layer> {
    vec![
        Layer::Band {
            points: buckets.iter().map(|bucket| Some((bucket.time_last_s, pick(bucket).min, pick(bucket).max))).collect(),
            class: "range",
        },
        Layer::Line { points: buckets.iter().map(|bucket| Some((bucket.time_last_s, pick(bucket).last))).collect(), class },
    ]
}

fn to_value(value: &impl serde::Serialize) -> Value {
    serde_json::to_value(value).expect("report sections serialize")
}

/// A two-column table of a JSON object, nested keys joined with dots, in the
/// object's own (sorted or declared) order.
fn value_table(value: &Value) -> String {
    let mut rows = Vec::new();
    flatten(value, "", &mut rows);
    let mut table = String::from("<table>");
    for (key, text, numeric) in rows {
        let class = if numeric { " class=\"number\"" } else { "" };
        let _ = write!(table, "<tr><th><code>{}</code></th><td{class}>{}</td></tr>", escape(&key), escape(&text));
    }
    table.push_str("</table>");
    table
}

fn flatten(value: &Value, prefix: &str, rows: &mut Vec<(String, String, bool)>) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (key, inner) in map {
                let path = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
                flatten(inner, &path, rows);
            }
        }
        Value::Object(_) => rows.push((prefix.to_string(), "none".to_string(), false)),
        Value::Number(number) => {
            let text = match (number.as_i64(), number.as_u64(), number.as_f64()) {
                (Some(integer), _, _) => integer.to_string(),
                (_, Some(integer), _) => integer.to_string(),
                (_, _, Some(real)) => number_text(real),
                _ => number.to_string(),
            };
            rows.push((prefix.to_string(), text, true));
        }
        Value::Null => rows.push((prefix.to_string(), "—".to_string(), false)),
        Value::Bool(flag) => rows.push((prefix.to_string(), flag.to_string(), false)),
        Value::String(text) => rows.push((prefix.to_string(), text.clone(), false)),
        Value::Array(items) if items.iter().all(|item| !item.is_object() && !item.is_array()) => {
            let texts: Vec<String> = items.iter().map(|item| item.as_str().map_or_else(|| item.to_string(), str::to_string)).collect();
            rows.push((prefix.to_string(), if texts.is_empty() { "none".to_string() } else { texts.join(", ") }, false));
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                flatten(item, &format!("{prefix}.{index}"), rows);
            }
        }
    }
}

/// A number with at most four decimals, trailing zeros dropped (and no `-0`).
pub fn number_text(value: f64) -> String {
    if !value.is_finite() {
        return value.to_string();
    }
    let text = format!("{value:.4}");
    let text = if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.').to_string() } else { text };
    if text == "-0" { "0".to_string() } else { text }
}

/// Seconds as `45 s`, `12.5 min` or `3.2 h`.
pub fn duration_text(seconds: f64) -> String {
    if seconds.abs() < 600.0 {
        format!("{} s", number_text(seconds))
    } else if seconds.abs() < 3.0 * 3_600.0 {
        format!("{} min", number_text((seconds / 60.0 * 10.0).round() / 10.0))
    } else {
        format!("{} h", number_text((seconds / 3_600.0 * 100.0).round() / 100.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_short_and_stable() {
        assert_eq!(number_text(3.0), "3");
        assert_eq!(number_text(0.12345678), "0.1235");
        assert_eq!(number_text(-0.00001), "0");
        assert_eq!(number_text(-2.5), "-2.5");
        assert_eq!(number_text(59_945.7), "59945.7");
        assert_eq!(duration_text(90.0), "90 s");
        assert_eq!(duration_text(1_800.0), "30 min");
        assert_eq!(duration_text(86_400.0), "24 h");
        let ordinals: Vec<String> = [1, 2, 3, 4, 11, 12, 32, 111, 1_024].into_iter().map(ordinal).collect();
        assert_eq!(ordinals, ["1st", "2nd", "3rd", "4th", "11th", "12th", "32nd", "111th", "1024th"]);
    }

    #[test]
    fn nested_values_flatten_to_dotted_rows() {
        let value = serde_json::json!({"a": 1, "b": {"c": 2.5, "d": {}}, "e": ["x", "y"], "f": null, "g": [{"h": 1}]});
        let mut rows = Vec::new();
        flatten(&value, "", &mut rows);
        let keys: Vec<&str> = rows.iter().map(|row| row.0.as_str()).collect();
        assert_eq!(keys, ["a", "b.c", "b.d", "e", "f", "g.0.h"]);
        assert_eq!(rows[1].1, "2.5");
        assert_eq!(rows[3].1, "x, y");
    }
}
