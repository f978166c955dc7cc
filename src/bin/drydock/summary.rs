//! What `drydock run` prints (the run's KPIs, events and their measured effects,
//! expectations, soak verdict, fingerprint and speed-up), what `drydock config
//! show` prints, and a run's exit code. Formatting only: the numbers come from the
//! harness library, and nothing here writes files.

use drydock::report::Report;
use drydock::soak::SoakSummary;
use drydock::{RunResult, Scenario, Verification};

use crate::{EXIT_EXPECTATION_FAILED, EXIT_NONDETERMINISM};

/// The summary of one run, as `drydock run` prints it.
pub(crate) fn print_summary(out: &mut String, result: &RunResult) {
    let report = &result.report;
    let speedup = if result.wall_s > 0.0 { report.duration_s / result.wall_s } else { f64::INFINITY };
    say!(
        out,
        "drydock run: {} (seed {}, profile {}): {} s simulated in {:.3} s ({:.0}x)",
        report.scenario,
        report.seed,
        report.profile,
        report.duration_s,
        result.wall_s,
        speedup
    );
    say!(out, "  fingerprint {}  (code version {})", report.fingerprint, report.code_version);
    print_replay(out, report);
    print_kpis(out, report);
    print_events_and_expectations(out, report);
    if let Some(soak) = &report.soak {
        print_soak(out, soak);
    }
    if let Some(perf) = &result.perf {
        let stages: Vec<String> = perf
            .iter()
            .map(|(stage, timing)| {
                let (total_ms, p50, p95, p99) = (timing.total_ms_estimated, timing.p50_ns, timing.p95_ns, timing.p99_ns);
                format!("{stage} ~{total_ms:.0} ms in all (p50 {p50} / p95 {p95} / p99 {p99} ns)")
            })
            .collect();
        // What the timed stages leave of the run's wall time: the event queue, the
        // feed, latency draws, the fingerprint and the files written as it runs.
        let staged_ms: f64 = perf.values().map(|timing| timing.total_ms_estimated).sum();
        let rest_ms = (result.wall_s * 1_000.0 - staged_ms).max(0.0);
        say!(
            out,
            "  perf (wall clock, sampled; perf.json): {}; the rest ~{rest_ms:.0} ms (queue, feed, latency, fingerprint, files)",
            stages.join("; ")
        );
    }
    match &result.verification {
        Some(Verification::Identical) => say!(out, "  verify: identical fingerprint on a second run on another thread"),
        Some(Verification::Diverged { record, first, second }) => {
            say!(out, "  verify: NONDETERMINISM at record {record}\n    first:  {first}\n    second: {second}")
        }
        None => {}
    }
    say!(out, "  verdict: {}  artifacts: {}", report.verdict, result.out_dir.display());
    if let Some(journal) = &result.journal {
        say!(out, "  journal: {} (replay it with `drydock journal replay {}`)", journal.display(), journal.display());
    }
    say!(out, "  look at it: {}", result.out_dir.join("report.html").display());
}

/// A run's exit code: 3 nondeterminism, 1 an expectation failed, else 0.
pub(crate) fn exit_code(result: &RunResult) -> u8 {
    if matches!(result.verification, Some(Verification::Diverged { .. })) {
        EXIT_NONDETERMINISM
    } else if result.report.passed() {
        0
    } else {
        EXIT_EXPECTATION_FAILED
    }
}

/// Every engine parameter with its effective value and source, then the soak section.
pub(crate) fn print_config(out: &mut String, scenario: &Scenario) {
    say!(out, "# {} ({}), profile {}", scenario.header.name, scenario.path.display(), scenario.profile);
    say!(out, "# precedence: default < scenario < profile < --set");
    let params = serde_json::to_value(&scenario.params).expect("parameters serialize");
    for (name, value) in params.as_object().expect("parameters are a table") {
        let source = scenario.param_sources.get(name).map_or("default".to_string(), ToString::to_string);
        say!(out, "engine.{name} = {value}  ({source})");
    }
    if let Some(soak) = &scenario.soak {
        say!(out, "soak = {}", serde_json::to_string(soak).expect("soak serializes"));
    }
}

fn print_replay(out: &mut String, report: &Report) {
    let Some(replay) = &report.replay else {
        return;
    };
    say!(
        out,
        "  replay {} on {} time: {} diffs, {} trades; tape {}",
        replay.sources.join(" + "),
        replay.clock.name(),
        replay.stats.diffs,
        replay.stats.trades,
        &replay.tape_hash[..16]
    );
    if replay.stats.bad_lines_skipped > 0 {
        say!(out, "  replay skipped {} malformed lines (skip_bad_lines); see report.json", replay.stats.bad_lines_skipped);
    }
}

fn print_kpis(out: &mut String, report: &Report) {
    let kpis = &report.kpis;
    say!(
        out,
        "  kpis: net_bps {:.2}  pnl {:.2}  fills {}  maker/taker lots {}/{}  taker_share {:.1}%  max_inventory {} lots  max_drawdown {:.2}",
        kpis.net_bps,
        kpis.pnl_total,
        kpis.fills,
        kpis.maker_volume,
        kpis.taker_volume,
        kpis.taker_share_pct,
        kpis.max_inventory_abs,
        kpis.max_drawdown
    );
    say!(
        out,
        "        adverse_p95 {:.2} bps  slippage_p95 {:.2} bps  risk_ratio {:.3}  uptime {:.1}%  orders {} (rejected {})",
        kpis.adverse_p95_bps,
        kpis.slippage_p95_bps,
        kpis.risk_ratio,
        kpis.quote_uptime_pct,
        kpis.orders_sent,
        kpis.orders_rejected
    );
    if !kpis.block_reasons.is_empty() {
        let reasons: Vec<String> = kpis.block_reasons.iter().map(|(reason, count)| format!("{reason} {count}")).collect();
        say!(out, "        blocked: {}", reasons.join(", "));
    }
}

/// A measured effect: counts as whole numbers, other values to three decimals.
fn measured_text(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 { format!("{value:.0}") } else { format!("{value:.3}") }
}

fn print_events_and_expectations(out: &mut String, report: &Report) {
    for event in &report.events {
        let measured: Vec<String> = event.measured.iter().map(|(name, value)| format!("{name} {}", measured_text(*value))).collect();
        say!(out, "  event {} at {} s: {}", event.name, event.start_s, measured.join(", "));
    }
    for expectation in &report.expectations {
        let verdict = if expectation.pass { "PASS" } else { "FAIL" };
        say!(out, "  {verdict} {}", expectation.describe());
    }
}

fn print_soak(out: &mut String, soak: &SoakSummary) {
    let verdicts: Vec<String> = soak.verdicts.iter().map(|(verdict, count)| format!("{verdict} {count}")).collect();
    say!(
        out,
        "  soak: {}/{} iterations ({}), panic reverts {}, verdict {}",
        soak.iterations_run,
        soak.iterations,
        verdicts.join(", "),
        soak.panic_reverts,
        soak.verdict
    );
    if let Some(stop) = &soak.stopped_by {
        say!(
            out,
            "  soak STOPPED by {} at {:.0} s: {:.3} > {} over {} min",
            stop.criterion,
            stop.at_s,
            stop.value,
            stop.threshold,
            stop.window_minutes
        );
    }
    for warning in &soak.warnings {
        say!(
            out,
            "  soak warning: {} at {:.0} s: {:.3} > {} over {} min",
            warning.criterion,
            warning.at_s,
            warning.value,
            warning.threshold,
            warning.window_minutes
        );
    }
}
