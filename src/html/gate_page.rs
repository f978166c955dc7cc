//! `gate.html` of `drydock gate`: the verdict, what blocks it and what only warns,
//! then the checklist — each check's status, whether it is critical, why it matters,
//! its summary and what did not hold, linked to the evidence kept beside the page
//! (the catalogue's review page, each failing run's report, the comparison's page).
//!
//! Deterministic like `gate.json`, which holds the same facts. Deliberately not
//! here: evaluating the checks (see `crate::gate`).

use std::fmt::Write;

use super::STYLE;
use super::svg::escape;
use crate::gate::{CheckOutcome, Detail, GateOutcome, Mode, Status};

/// The page of `outcome`.
pub fn render(outcome: &GateOutcome) -> String {
    let mut page = String::new();
    let class = if outcome.go() { "pass" } else { "fail" };
    let mode = match outcome.mode {
        Mode::Provisional => "provisional: advisory checks warn, critical checks block",
        Mode::Strict => "strict: every check blocks",
    };
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>gate {} — drydock</title><style>{STYLE}</style></head><body>\n\
         <h1>gate {} <span class=\"verdict {class}\">{}</span></h1>\n",
        escape(&outcome.gate),
        escape(&outcome.gate),
        outcome.verdict
    );
    if !outcome.description.is_empty() {
        let _ = writeln!(page, "<p class=\"description\">{}</p>", escape(&outcome.description));
    }
    let _ = writeln!(
        page,
        "<p class=\"note\">mode {mode}; drydock {}, code version {}, engine port version {}; a check that cannot be evaluated counts as failed</p>",
        escape(&outcome.drydock_version),
        escape(&outcome.code_version),
        outcome.engine_port_version
    );
    for (title, names) in [("blocking", &outcome.blocking), ("warnings", &outcome.warnings)] {
        if !names.is_empty() {
            let listed: Vec<String> = names.iter().map(|name| format!("<code>{}</code>", escape(name))).collect();
            let _ = writeln!(page, "<p><strong>{title}:</strong> {}</p>", listed.join(", "));
        }
    }
    page.push_str(&super::section("Checklist", &checklist(outcome)));
    page.push_str("<footer>every fact on this page is in gate.json beside it; the evidence folders hold each check's artifacts</footer>\n</body></html>\n");
    page
}

/// `index.html` of a `seeds` check: every run, its status and line, linked to its
/// `report.html` (links relative to the check's folder).
pub fn render_runs(summary: &str, rows: &[(Status, Detail)]) -> String {
    let mut page = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>seeded runs — drydock</title><style>{STYLE}</style></head><body>\n\
         <h1>seeded runs</h1>\n<p class=\"description\">{}</p>\n<table><tr><th>status</th><th>run</th></tr>\n",
        escape(summary)
    );
    for (status, detail) in rows {
        let (class, word) = match status {
            Status::Pass => ("pass", "PASS"),
            Status::Fail => ("fail", "FAIL"),
            Status::Error => ("fail", "ERROR"),
        };
        let text = escape(&detail.text);
        let cell = match &detail.link {
            Some(link) => format!("<a href=\"{}\">{text}</a>", escape(link)),
            None => text,
        };
        let _ = writeln!(page, "<tr><td class=\"{class}\">{word}</td><td>{cell}</td></tr>");
    }
    page.push_str("</table>\n<footer>each run's folder beside this page holds its artifacts</footer>\n</body></html>\n");
    page
}

fn checklist(outcome: &GateOutcome) -> String {
    let mut table = String::from("<table><tr><th>status</th><th>check</th><th>kind</th><th>outcome</th></tr>\n");
    for check in &outcome.checks {
        let _ = writeln!(
            table,
            "<tr><td class=\"{}\">{}</td><td><strong>{}</strong><br><span class=\"note\">{}</span></td><td>{}</td><td>{}</td></tr>",
            status_class(check.status_word(outcome.mode)),
            check.status_word(outcome.mode),
            escape(&check.name),
            if check.critical { "critical" } else { "advisory" },
            check.kind.as_str(),
            outcome_cell(check)
        );
    }
    table.push_str("</table>");
    table
}

/// The cell's colour for a status word: blocking failures red, warnings amber.
fn status_class(word: &str) -> &'static str {
    match word {
        "PASS" => "pass",
        "WARN" => "warn",
        _ => "fail",
    }
}

fn outcome_cell(check: &CheckOutcome) -> String {
    let mut cell = String::new();
    if !check.why.is_empty() {
        let _ = write!(cell, "<em>{}</em><br>", escape(&check.why));
    }
    cell.push_str(&escape(&check.summary));
    if let Some(evidence) = &check.evidence {
        let _ = write!(cell, " — <a href=\"{}\">evidence</a>", escape(evidence));
    }
    if !check.details.is_empty() {
        cell.push_str("<ul>");
        for detail in &check.details {
            match &detail.link {
                Some(link) => {
                    let _ = write!(cell, "<li><a href=\"{}\">{}</a></li>", escape(link), escape(&detail.text));
                }
                None => {
                    let _ = write!(cell, "<li>{}</li>", escape(&detail.text));
                }
            }
        }
        cell.push_str("</ul>");
    }
    cell
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::CheckKind;

    fn check(name: &str, critical: bool, status: Status) -> CheckOutcome {
        CheckOutcome {
            name: name.to_string(),
            kind: CheckKind::Seeds,
            critical,
            why: "crashes must not <break> us".to_string(),
            status,
            summary: "8 runs".to_string(),
            details: vec![Detail {
                text: "FAIL flash_crash seed 1006".to_string(),
                link: Some(format!("{name}/flash_crash-1006/report.html")),
            }],
            evidence: None,
        }
    }

    #[test]
    fn the_page_shows_the_verdict_and_marks_blocking_and_warning_checks() {
        let outcome = GateOutcome {
            gate: "promotion".to_string(),
            description: String::new(),
            mode: Mode::Provisional,
            drydock_version: "0.1.0".to_string(),
            engine_port_version: 1,
            code_version: "0123456789abcdef".to_string(),
            verdict: "NO-GO",
            blocking: vec!["crashes".to_string()],
            warnings: vec!["advice".to_string()],
            checks: vec![check("crashes", true, Status::Fail), check("advice", false, Status::Error), check("calm", true, Status::Pass)],
        };
        let page = render(&outcome);
        assert!(page.contains("<span class=\"verdict fail\">NO-GO</span>"), "{page}");
        assert!(page.contains("<td class=\"fail\">FAIL</td><td><strong>crashes</strong>"), "{page}");
        assert!(page.contains("<td class=\"warn\">WARN</td><td><strong>advice</strong>"), "{page}");
        assert!(page.contains("<td class=\"pass\">PASS</td><td><strong>calm</strong>"), "{page}");
        assert!(page.contains("href=\"crashes/flash_crash-1006/report.html\""), "{page}");
        assert!(page.contains("crashes must not &lt;break&gt; us"), "{page}");
        assert!(!page.contains("<break>"));
    }
}
