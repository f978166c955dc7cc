//! Every bundled scenario (walked in sorted order) runs and meets its expectations;
//! the same seed gives a byte-identical report.json; different seeds differ.

use std::path::{Path, PathBuf};

use drydock::{LoadOptions, Scenario, run_scenario};

fn bundled() -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios"))
        .expect("scenarios/ exists")
        .map(|entry| entry.expect("readable entry").path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "toml"))
        .collect();
    paths.sort();
    paths
}

fn load(path: &Path, seed: Option<u64>) -> Scenario {
    let options =
        LoadOptions { seed, profiles_dir: Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("profiles")), ..LoadOptions::default() };
    Scenario::load(path, &options).unwrap_or_else(|error| panic!("{error}"))
}

#[test]
fn every_bundled_scenario_meets_its_expectations() {
    let paths = bundled();
    assert!(paths.len() >= 9, "the nine bundled scenarios: {paths:?}");
    let out = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for path in &paths {
        let scenario = load(path, None);
        assert!(!scenario.expectations.is_empty(), "{} has no expectations", path.display());
        let result = run_scenario(&scenario, &out.path().join(&scenario.header.name), false).unwrap();
        for expectation in result.report.expectations.iter().filter(|expectation| !expectation.pass) {
            failures.push(format!(
                "{}: {} {} {} (actual {:?})",
                scenario.header.name, expectation.metric, expectation.op, expectation.value, expectation.actual
            ));
        }
        assert_eq!(result.report.run.book_crossings, 0, "{}", scenario.header.name);
    }
    assert!(failures.is_empty(), "failed expectations:\n{}", failures.join("\n"));
}

#[test]
fn same_seed_gives_byte_identical_artifacts_and_other_seeds_differ() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/flash_crash.toml");
    let out = tempfile::tempdir().unwrap();
    let read = |dir: &str, file: &str| std::fs::read(out.path().join(dir).join(file)).unwrap();
    let scenario = load(&path, None);
    run_scenario(&scenario, &out.path().join("a"), false).unwrap();
    run_scenario(&scenario, &out.path().join("b"), false).unwrap();
    for file in ["report.json", "report.html", "fills.csv", "timeline.csv"] {
        assert!(read("a", file) == read("b", file), "{file} differs between two runs of the same seed");
    }
    let other = load(&path, Some(scenario.sim.seed + 1));
    run_scenario(&other, &out.path().join("c"), false).unwrap();
    assert!(read("a", "report.json") != read("c", "report.json"));
}

#[test]
fn report_has_the_documented_keys() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/feed_outage.toml");
    let out = tempfile::tempdir().unwrap();
    run_scenario(&load(&path, None), out.path(), false).unwrap();
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(out.path().join("report.json")).unwrap()).unwrap();
    for key in ["scenario", "seed", "fingerprint", "kpis", "events", "expectations", "verdict"] {
        assert!(report.get(key).is_some(), "report.json lacks {key}");
    }
    for kpi in [
        "net_bps",
        "pnl_total",
        "fills",
        "maker_volume",
        "taker_volume",
        "taker_share_pct",
        "adverse_p95_bps",
        "slippage_p95_bps",
        "risk_ratio",
        "block_reasons",
        "max_inventory_abs",
        "max_drawdown",
        "quote_uptime_pct",
        "orders_sent",
        "orders_rejected",
    ] {
        assert!(report["kpis"].get(kpi).is_some(), "kpis lacks {kpi}");
    }
    let fills = std::fs::read_to_string(out.path().join("fills.csv")).unwrap();
    assert!(fills.lines().count() > 1, "fills.csv has rows");
    let timeline = std::fs::read_to_string(out.path().join("timeline.csv")).unwrap();
    assert!(timeline.starts_with("time_s,mid,best_bid,best_ask,our_bid,our_ask,inventory_lots,pnl"));
    // Prices read as the venue prints them (tick 0.1 here): at most two decimals for a
    // mid, one for the rest, never binary floating point's 59993.700000000004.
    let decimals = |field: &str| field.split_once('.').map_or(0, |(_, fraction)| fraction.len());
    for row in fills.lines().skip(1) {
        let price = row.split(',').nth(4).unwrap();
        assert!(decimals(price) <= 1, "fills.csv price {price} in {row}");
    }
    for row in timeline.lines().skip(1) {
        let fields: Vec<&str> = row.split(',').collect();
        assert!(decimals(fields[1]) <= 2 && fields[2..6].iter().all(|price| decimals(price) <= 1), "timeline.csv row {row}");
    }
}
