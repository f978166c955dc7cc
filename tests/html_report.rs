//! `report.html`: written by every run, deterministic, and it shows what report.json
//! says — the verdict, each expectation, the injected events with their measured
//! effects, every KPI — with three charts, text escaped.

use std::path::Path;

use drydock::{LoadOptions, Scenario, run_scenario};

fn load(path: &Path) -> Scenario {
    let options = LoadOptions { profiles_dir: Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("profiles")), ..LoadOptions::default() };
    Scenario::load(path, &options).unwrap_or_else(|error| panic!("{error}"))
}

#[test]
fn a_crash_page_shows_the_verdict_expectations_event_and_kpis() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/flash_crash.toml");
    let out = tempfile::tempdir().unwrap();
    let scenario = load(&path);
    let result = run_scenario(&scenario, out.path(), false).unwrap();
    let page = std::fs::read_to_string(out.path().join("report.html")).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>") && page.ends_with("</html>\n"));
    assert!(page.contains("<span class=\"verdict pass\">PASS</span>"));
    assert!(page.contains(&result.report.fingerprint));
    assert_eq!(page.matches("<td class=\"pass\">PASS</td>").count(), result.report.expectations.len());
    // The crash is shaded on every chart, its tooltip carrying the measured effects.
    let crash = &result.report.events[0];
    let window = format!("<g class=\"event\"><title>flash_crash from {} s for {} s: ", crash.start_s, crash.active_s);
    assert_eq!(page.matches(&window).count(), 3, "{window}");
    for key in crash.measured.keys() {
        assert!(page.contains(key.as_str()), "the page lacks the crash's {key}");
    }
    let kpis = serde_json::to_value(&result.report.kpis).unwrap();
    for key in kpis.as_object().unwrap().keys() {
        assert!(page.contains(&format!("<code>{key}")), "the page lacks the KPI {key}");
    }
    assert!(!page.contains("NaN") && !page.contains("inf<"), "a number the page cannot show");
    // Fill dots: every fill, or every stride-th (the smallest power of two that keeps
    // them within the cap); buys and sells both present.
    let (buys, sells) = (page.matches("<circle class=\"buy\"").count(), page.matches("<circle class=\"sell\"").count());
    let fills = result.report.csv.fill_rows + result.report.csv.fill_rows_dropped;
    let cap = drydock::html::trace::FILL_MARKS_MAX as u64;
    let stride = (0..63).map(|power| 1u64 << power).find(|stride| fills.div_ceil(*stride) <= cap).unwrap();
    assert!(stride > 1, "flash_crash has more fills than the cap ({fills}), so thinning is exercised");
    assert_eq!((buys + sells) as u64, fills.div_ceil(stride));
    assert!(page.contains(&format!(" of {fills} fills (dots")), "the note says how many fills the dots sample");
    assert!(buys > 0 && sells > 0);
    // Every fill (not only the dots) is in the distributions against fair value.
    assert!(page.contains("<h2>Fills against fair value</h2>"));
    assert!(page.contains(&format!("— {fills} fills, ")), "the distributions count every fill");
    assert_eq!(page.matches("<svg class=\"chart\"").count(), 4, "price, inventory, PnL and the fills' distributions");
}

#[test]
fn the_page_is_deterministic_and_a_failed_expectation_shows_escaped() {
    let out = tempfile::tempdir().unwrap();
    let path = out.path().join("short.toml");
    std::fs::write(
        &path,
        "[scenario]\nname = \"short\"\ndescription = \"a <b>short</b> & calm run\"\nseed = 7\nduration_s = 60\n\n\
         [[expect]]\nmetric = \"kpis.fills\"\nop = \"<=\"\nvalue = -1\nwhy = \"never <holds>\"\n",
    )
    .unwrap();
    let scenario = load(&path);
    run_scenario(&scenario, &out.path().join("a"), false).unwrap();
    run_scenario(&scenario, &out.path().join("b"), false).unwrap();
    let page = std::fs::read(out.path().join("a/report.html")).unwrap();
    assert!(page == std::fs::read(out.path().join("b/report.html")).unwrap(), "report.html differs between two runs");
    let page = String::from_utf8(page).unwrap();
    assert!(page.contains("<span class=\"verdict fail\">FAIL</span>"));
    assert!(page.contains("<td class=\"fail\">FAIL</td><td><code>kpis.fills</code></td><td>&lt;= -1</td>"));
    assert!(page.contains("never &lt;holds&gt;") && page.contains("a &lt;b&gt;short&lt;/b&gt; &amp; calm run"));
    assert!(!page.contains("<b>"), "scenario text reached the page unescaped");
    assert!(page.contains("<p class=\"note\">none</p>"), "no injected events, and it says so");
}

#[test]
fn a_soak_page_lists_every_iteration_and_shades_those_the_gate_failed() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/soak_smoke.toml");
    let out = tempfile::tempdir().unwrap();
    let result = run_scenario(&load(&path), out.path(), false).unwrap();
    let page = std::fs::read_to_string(out.path().join("report.html")).unwrap();
    let table = &page[page.find("<h2>Soak iterations</h2>").expect("a soak iterations section")..];
    let table = &table[..table.find("</table>").unwrap()];
    assert_eq!(table.matches("<tr><td class=\"number\">").count(), result.iterations.len());
    let not_passed = result.iterations.iter().filter(|iteration| iteration.verdict != drydock::soak::gate::GateVerdict::Pass).count();
    assert!(not_passed > 0, "soak_smoke has iterations the gate failed");
    assert_eq!(page.matches("<g class=\"gate\"><title>iteration ").count(), 3 * not_passed, "shaded on each chart");
    // The tuned parameters over the soak, each named with its first and last value.
    assert!(page.contains("<h2>Tuned parameters</h2>"));
    for name in result.report.soak.as_ref().unwrap().final_params.keys() {
        assert!(page.contains(&format!("\">{name}</span> ")), "the tuning chart lacks {name}");
    }
    let reverts = result.report.soak.as_ref().unwrap().panic_reverts as usize;
    assert_eq!(table.matches("panic revert to ").count(), reverts);
}
