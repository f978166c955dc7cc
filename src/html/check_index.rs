//! `index.html` of `drydock check --out DIR`: the page a reviewer opens from CI —
//! one row per scenario with its status against the golden (ok, FAILING, CHANGED,
//! MISSING, ERROR), the expectations it fails, and for a changed scenario what
//! changed (staleness, fingerprint, expectation flips, each value golden → new with
//! its delta); each scenario links to its own `report.html`.
//!
//! Deterministic like the rest: no wall time, results in the check's plan order.
//! Deliberately not here: running or comparing (see `check` and `golden`).

use std::fmt::Write;
use std::path::Path;

use super::svg::escape;
use super::{STYLE, number_text};
use crate::check::{CheckResult, CheckStatus, CheckTally};
use crate::golden::Comparison;

/// Changed values listed at most per scenario.
pub const CHANGES_LISTED_MAX: usize = 100;

/// The page for `results`, compared with the goldens in `golden_dir`.
pub fn render(results: &[CheckResult], golden_dir: &Path) -> String {
    let mut page = String::new();
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>drydock check</title><style>{STYLE}</style></head><body>\n"
    );
    let clean = results.iter().all(|result| matches!(result.status, CheckStatus::Match) && result.failed_expectations.is_empty());
    let (class, word) = if clean { ("pass", "PASS") } else { ("fail", "FAIL") };
    let _ = writeln!(page, "<h1>drydock check <span class=\"verdict {class}\">{word}</span></h1>");
    let _ = writeln!(
        page,
        "<p class=\"description\">{} · goldens in <code>{}</code></p>",
        CheckTally::of(results).summary(),
        escape(&golden_dir.display().to_string())
    );
    page.push_str("<table><tr><th>scenario</th><th>status</th><th>fingerprint</th><th>what to look at</th></tr>\n");
    for result in results {
        page.push_str(&row(result, golden_dir));
    }
    page.push_str("</table>\n");
    page.push_str(
        "<footer>a changed scenario is accepted with <code>drydock bless &lt;scenario.toml&gt;</code> once reviewed; \
         a failing one needs the engine or the expectation fixed</footer>\n</body></html>\n",
    );
    page
}

fn row(result: &CheckResult, golden_dir: &Path) -> String {
    let name = result.name.clone().unwrap_or_else(|| result.path.display().to_string());
    let scenario = match (&result.name, &result.fingerprint) {
        // Names are letters, digits, `_`, `-` and `.`: safe in a relative link.
        (Some(name), Some(_)) => format!("<a href=\"{name}/report.html\"><code>{name}</code></a>"),
        _ => format!("<code>{}</code>", escape(&name)),
    };
    let (class, status, detail) = match &result.status {
        CheckStatus::Match if result.failed_expectations.is_empty() => ("pass", "ok", String::new()),
        CheckStatus::Match => ("fail", "FAILING", "matches its golden, but expectations fail".to_string()),
        CheckStatus::Missing => (
            "warn",
            "MISSING",
            format!(
                "no golden in <code>{}</code>: review, then <code>drydock bless {}</code>",
                escape(&golden_dir.display().to_string()),
                escape(&result.path.display().to_string())
            ),
        ),
        CheckStatus::Regression(comparison) => ("warn", "CHANGED", comparison_html(comparison)),
        CheckStatus::Error(message) => ("fail", "ERROR", escape(message)),
    };
    let mut detail = detail;
    for failed in &result.failed_expectations {
        let _ = write!(detail, "<div>FAIL <code>{}</code></div>", escape(failed));
    }
    let fingerprint = result
        .fingerprint
        .as_deref()
        .map_or(String::new(), |fingerprint| format!("<code>{}…</code>", &fingerprint[..fingerprint.len().min(12)]));
    format!("<tr><td>{scenario}</td><td class=\"{class}\">{status}</td><td>{fingerprint}</td><td>{detail}</td></tr>\n")
}

fn comparison_html(comparison: &Comparison) -> String {
    let mut html = String::new();
    if comparison.stale {
        html.push_str("<div>STALE: the scenario file changed since its golden was blessed</div>");
    }
    if comparison.fingerprint_changed {
        html.push_str("<div>fingerprint changed: the engine saw or did something different</div>");
    }
    for flip in &comparison.flips {
        let verdict = |pass: bool| if pass { "PASS" } else { "FAIL" };
        let _ = write!(
            html,
            "<div>expectation <code>{}</code>: {} → {}</div>",
            escape(&flip.expectation),
            verdict(flip.golden_pass),
            verdict(flip.new_pass)
        );
    }
    if comparison.changes.is_empty() {
        return html;
    }
    html.push_str("<table><tr><th>value</th><th>golden</th><th>new</th><th>delta</th><th>delta %</th></tr>");
    for change in comparison.changes.iter().take(CHANGES_LISTED_MAX) {
        let _ = write!(
            html,
            "<tr><td><code>{}</code></td><td class=\"number\">{}</td><td class=\"number\">{}</td><td class=\"number\">{}</td><td class=\"number\">{}</td></tr>",
            escape(&change.path),
            escape(change.golden.as_deref().unwrap_or("(absent)")),
            escape(change.new.as_deref().unwrap_or("(absent)")),
            change.delta.map_or(String::new(), |delta| signed(number_text(delta))),
            change.delta_pct.map_or(String::new(), |pct| format!("{pct:+.2}%")),
        );
    }
    html.push_str("</table>");
    if comparison.changes.len() > CHANGES_LISTED_MAX {
        let _ = write!(html, "<div>… and {} more changed values</div>", comparison.changes.len() - CHANGES_LISTED_MAX);
    }
    html
}

/// A number's text with a `+` in front when it is positive.
fn signed(text: String) -> String {
    if text.starts_with('-') || text == "0" { text } else { format!("+{text}") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::golden::{Change, Flip};
    use std::path::PathBuf;

    fn result(name: &str, status: CheckStatus, failed: &[&str]) -> CheckResult {
        CheckResult {
            path: PathBuf::from(format!("scenarios/{name}.toml")),
            name: Some(name.to_string()),
            fingerprint: Some("0123456789abcdef0123".to_string()),
            failed_expectations: failed.iter().map(|text| text.to_string()).collect(),
            status,
        }
    }

    #[test]
    fn each_status_gets_its_row_and_changes_their_deltas() {
        let comparison = Comparison {
            stale: false,
            fingerprint_changed: true,
            changes: vec![Change {
                path: "kpis.net_bps".to_string(),
                golden: Some("2".to_string()),
                new: Some("2.5".to_string()),
                delta: Some(0.5),
                delta_pct: Some(25.0),
            }],
            flips: vec![Flip { expectation: "kpis.fills >= 5".to_string(), golden_pass: true, new_pass: false }],
        };
        let results = vec![
            result("calm", CheckStatus::Match, &[]),
            result("crash", CheckStatus::Regression(comparison), &["kpis.fills >= 5 (actual 4)"]),
            result("fresh", CheckStatus::Missing, &[]),
            CheckResult {
                path: PathBuf::from("scenarios/<bad>.toml"),
                name: None,
                fingerprint: None,
                failed_expectations: Vec::new(),
                status: CheckStatus::Error("line 3: unknown field".to_string()),
            },
        ];
        let page = render(&results, Path::new("golden"));
        assert!(page.contains("<span class=\"verdict fail\">FAIL</span>"));
        assert!(page.contains("4 scenarios: 1 matches, 2 changed or missing, 0 failing expectations, 1 error"));
        assert!(page.contains("<a href=\"calm/report.html\"><code>calm</code></a></td><td class=\"pass\">ok</td>"));
        assert!(page.contains("<td class=\"warn\">CHANGED</td>") && page.contains("fingerprint changed"));
        assert!(page.contains("<td class=\"number\">+0.5</td><td class=\"number\">+25.00%</td>"));
        assert!(page.contains("expectation <code>kpis.fills &gt;= 5</code>: PASS → FAIL"));
        assert!(page.contains("<div>FAIL <code>kpis.fills &gt;= 5 (actual 4)</code></div>"));
        assert!(page.contains("<code>drydock bless scenarios/fresh.toml</code>"));
        assert!(page.contains("<code>scenarios/&lt;bad&gt;.toml</code></td><td class=\"fail\">ERROR</td>"), "not linked, escaped");
    }

    #[test]
    fn a_clean_check_passes() {
        let page = render(&[result("calm", CheckStatus::Match, &[])], Path::new("golden"));
        assert!(page.contains("<span class=\"verdict pass\">PASS</span>"));
        let failing = render(&[result("calm", CheckStatus::Match, &["kpis.fills >= 5 (actual 4)"])], Path::new("golden"));
        assert!(failing.contains("<span class=\"verdict fail\">FAIL</span>") && failing.contains("<td class=\"fail\">FAILING</td>"));
    }
}
