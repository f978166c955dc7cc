//! `drydock journal replay` and `drydock journal diff`: what they print and their
//! exit codes. The replay and the comparison are the library's
//! (`drydock::journal`); formatting only here.

use std::path::Path;

use drydock::journal::diff::{JournalDiff, diff};
use drydock::journal::parity::{Integrity, ParityReport, replay_with};
use drydock_engine::ParamValue;

use crate::{EXIT_BAD_INPUT, EXIT_EXPECTATION_FAILED, emit};

/// Replays a journal into this build's engine: 0 identical, 1 diverged, 2 when
/// the journal is not intact (its records do not hash to its fingerprint).
pub(crate) fn replay_command(journal: &Path, profile: Option<&str>, changes: &[String]) -> anyhow::Result<u8> {
    let report = replay_with(journal, profile, changes)?;
    let mut out = String::new();
    print_parity(&mut out, journal, &report);
    emit(&out);
    Ok(if report.integrity() == Integrity::Damaged {
        EXIT_BAD_INPUT
    } else if report.identical() {
        0
    } else {
        EXIT_EXPECTATION_FAILED
    })
}

fn print_parity(out: &mut String, journal: &Path, report: &ParityReport) {
    let header = &report.header;
    say!(
        out,
        "journal replay: {} ({}, seed {}, recorded by code version {}; this build {})",
        journal.display(),
        header.scenario,
        header.engine.seed,
        header.code_version,
        drydock::CODE_VERSION
    );
    let span_s = report.span_ns.map_or(0.0, |(first_ns, last_ns)| (last_ns - first_ns) as f64 / 1e9);
    say!(out, "  records: {} events and {} commands over {:.3} s", report.events, report.recorded_commands, span_s);
    match report.integrity() {
        Integrity::CutShort => {
            say!(out, "  integrity: CUT SHORT — no end record (the run that wrote it did not finish); replayed what is there")
        }
        Integrity::Intact => {
            say!(out, "  integrity: intact (the records hash to the run's fingerprint {})", short(&report.records_fingerprint))
        }
        Integrity::Damaged => {
            let end = report.end.as_ref().expect("a damaged journal has an end record");
            say!(
                out,
                "  integrity: DAMAGED — the records hash to {} but the end record names {} ({} events, {} commands): the file was edited or damaged; record it again with `drydock run --journal`",
                short(&report.records_fingerprint),
                short(&end.fingerprint),
                end.events,
                end.commands
            )
        }
    }
    let changes: Vec<String> = report.changes.iter().map(|(name, value)| format!("{name} = {}", value_text(value))).collect();
    match (&report.profile, changes.is_empty()) {
        (None, true) => say!(out, "  engine: as recorded (profile {})", header.engine.profile),
        (None, false) => say!(out, "  engine: as recorded (profile {}) with {}", header.engine.profile, changes.join(", ")),
        (Some(profile), _) => say!(
            out,
            "  engine: profile {profile} over the recorded (profile {}): {}",
            header.engine.profile,
            if changes.is_empty() { "no parameter differs".to_string() } else { changes.join(", ") }
        ),
    }
    match &report.divergence {
        None => say!(
            out,
            "  parity: IDENTICAL — this engine emitted the recorded {} commands for the {} events",
            report.recorded_commands,
            report.events
        ),
        Some(divergence) => {
            say!(
                out,
                "  parity: DIVERGED at event {} of {} (t = {:.9} s, line {}): the {} events before it got the recorded commands ({:.1} % of the span)",
                divergence.event_number,
                report.events,
                divergence.t_ns as f64 / 1e9,
                divergence.line,
                report.agreed_events,
                report.agreed_span_pct()
            );
            say!(out, "    event:    {}", clipped(serde_json::to_string(&divergence.event).expect("events serialize")));
            say!(out, "    recorded: {}", clipped(serde_json::to_string(&divergence.recorded).expect("commands serialize")));
            say!(out, "    replayed: {}", clipped(serde_json::to_string(&divergence.replayed).expect("commands serialize")));
            say!(
                out,
                "  (the comparison stops here: later reports answer orders this engine did not send; run the scenario for the closed loop)"
            );
        }
    }
}

/// Compares two journals: 0 when every record is the same, 1 otherwise.
pub(crate) fn diff_command(a: &Path, b: &Path) -> anyhow::Result<u8> {
    let comparison = diff(a, b)?;
    let mut out = String::new();
    print_diff(&mut out, a, b, &comparison);
    emit(&out);
    Ok(if comparison.first_difference.is_none() { 0 } else { EXIT_EXPECTATION_FAILED })
}

fn print_diff(out: &mut String, a: &Path, b: &Path, comparison: &JournalDiff) {
    say!(out, "journal diff: a = {}, b = {}", a.display(), b.display());
    if comparison.header_differences.is_empty() {
        say!(out, "  headers: the same (scenario, code version, engine setup)");
    } else {
        let count = comparison.header_differences.len();
        say!(out, "  headers differ in {count} field{}:", if count == 1 { "" } else { "s" });
        for (name, a_value, b_value) in &comparison.header_differences {
            say!(out, "    {name}: {a_value} (a), {b_value} (b)");
        }
    }
    match &comparison.first_difference {
        None => say!(out, "  records: all {} the same", comparison.common_records),
        Some(difference) => {
            say!(
                out,
                "  records: the first {} are the same; record {} (line {}) differs",
                comparison.common_records,
                difference.record_number,
                difference.record_number + 1
            );
            for line in &difference.context {
                say!(out, "      {}", clipped(line.clone()));
            }
            let record = |line: &Option<String>| line.clone().map_or_else(|| "(the journal ends here)".to_string(), clipped);
            say!(out, "    a {}", record(&difference.a));
            say!(out, "    b {}", record(&difference.b));
        }
    }
}

fn value_text(value: &ParamValue) -> String {
    match value {
        ParamValue::Number(number) => number.to_string(),
        ParamValue::Flag(flag) => flag.to_string(),
        ParamValue::Choice(choice) => choice.clone(),
    }
}

/// Characters of an event or commands printed at most (a snapshot holds thousands);
/// the journal's line has it whole.
const CLIPPED_CHARS: usize = 600;

/// `text` cut to [`CLIPPED_CHARS`], saying how much was left out.
fn clipped(text: String) -> String {
    match text.char_indices().nth(CLIPPED_CHARS) {
        Some((cut, _)) => format!("{}… ({} more characters; the whole record is on its line)", &text[..cut], text[cut..].chars().count()),
        None => text,
    }
}

/// The first 16 hex digits of a fingerprint.
fn short(fingerprint: &str) -> &str {
    &fingerprint[..fingerprint.len().min(16)]
}
