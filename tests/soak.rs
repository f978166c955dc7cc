//! Mini-soaks end to end: artifacts and their determinism, the freeze, panic
//! revert, retention, configuration precedence and stop criteria.

use std::path::{Path, PathBuf};

use drydock::scenario::ParamSource;
use drydock::{LoadOptions, Scenario, run_scenario};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn load(path: &Path, overrides: &[&str], profile: Option<&str>) -> Scenario {
    let options = LoadOptions {
        overrides: overrides.iter().map(|text| text.to_string()).collect(),
        profile: profile.map(str::to_string),
        profiles_dir: Some(root().join("profiles")),
        ..LoadOptions::default()
    };
    Scenario::load(path, &options).unwrap_or_else(|error| panic!("{error}"))
}

fn json(path: PathBuf) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))).unwrap()
}

#[test]
fn smoke_soak_writes_every_artifact_identically_twice() {
    let scenario = load(&root().join("scenarios/soak_smoke.toml"), &[], None);
    let out = tempfile::tempdir().unwrap();
    let first = run_scenario(&scenario, &out.path().join("a"), false).unwrap();
    run_scenario(&scenario, &out.path().join("b"), false).unwrap();
    let soak = first.report.soak.as_ref().expect("a soak section");
    assert_eq!(soak.iterations_run, 6);
    for iteration in 1..=6 {
        let name = format!("ITER_SUMMARY_{iteration}.json");
        let summary = json(out.path().join("a").join(&name));
        for key in ["kpis", "verdict", "gate_reasons", "params", "decision"] {
            assert!(summary.get(key).is_some(), "{name} lacks {key}");
        }
        assert!(std::fs::read(out.path().join("a").join(&name)).unwrap() == std::fs::read(out.path().join("b").join(&name)).unwrap());
    }
    let tuning = json(out.path().join("a/TUNING_REPORT.json"));
    assert_eq!(tuning["decisions"].as_array().unwrap().len(), 6);
    assert_eq!(tuning["trajectory"]["min_interval_ms"].as_array().unwrap().len(), 6);
    for file in ["report.json", "TUNING_REPORT.json", "fills.csv"] {
        assert!(
            std::fs::read(out.path().join("a").join(file)).unwrap() == std::fs::read(out.path().join("b").join(file)).unwrap(),
            "{file}"
        );
    }
}

#[test]
fn three_fails_revert_to_steady_safe() {
    let scenario = load(&root().join("scenarios/soak_smoke.toml"), &[], None);
    let out = tempfile::tempdir().unwrap();
    run_scenario(&scenario, out.path(), false).unwrap();
    let third = json(out.path().join("ITER_SUMMARY_3.json"));
    assert_eq!(third["verdict"], "FAIL");
    assert_eq!(third["decision"]["reverted_to"], "steady_safe");
    let fourth = json(out.path().join("ITER_SUMMARY_4.json"));
    assert_eq!(fourth["params"]["min_interval_ms"], 75.0, "steady_safe's value is in force after the revert");
}

#[test]
fn freeze_activates_when_stable_and_frozen_iterations_say_so() {
    let scenario = load(&root().join("scenarios/soak_stable.toml"), &[], None);
    let out = tempfile::tempdir().unwrap();
    run_scenario(&scenario, out.path(), false).unwrap();
    let second = json(out.path().join("ITER_SUMMARY_2.json"));
    let guards: Vec<&str> = second["decision"]["guards"].as_array().unwrap().iter().map(|guard| guard["guard"].as_str().unwrap()).collect();
    assert!(guards.contains(&"freeze"), "{guards:?}");
    for iteration in 3..=6 {
        let summary = json(out.path().join(format!("ITER_SUMMARY_{iteration}.json")));
        assert_eq!(summary["frozen"], true, "iteration {iteration}");
        assert!(summary["decision"]["applied"].get("impact_cap_ratio").is_none());
    }
    assert_eq!(json(out.path().join("ITER_SUMMARY_1.json"))["frozen"], false);
}

#[test]
fn retention_keeps_the_newest_iteration_summaries() {
    let scenario = load(&root().join("scenarios/soak_smoke.toml"), &["soak.keep_iteration_summaries=3"], None);
    let out = tempfile::tempdir().unwrap();
    run_scenario(&scenario, out.path(), false).unwrap();
    let mut kept: Vec<String> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().to_string())
        .filter(|name| name.starts_with("ITER_SUMMARY_"))
        .collect();
    kept.sort();
    assert_eq!(kept, ["ITER_SUMMARY_4.json", "ITER_SUMMARY_5.json", "ITER_SUMMARY_6.json"]);
}

#[test]
fn configuration_precedence_is_default_scenario_profile_override() {
    let out = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(root().join("scenarios/calm.toml"))
        .unwrap()
        .replace("[market]", "[engine]\nmin_interval_ms = 150\nlevels_per_side = 3\n\n[market]");
    let path = out.path().join("layered.toml");
    std::fs::write(&path, text).unwrap();
    let plain = load(&path, &[], None);
    assert_eq!((plain.params.min_interval_ms, plain.param_sources["min_interval_ms"].clone()), (150, ParamSource::Scenario));
    assert!(!plain.param_sources.contains_key("gamma"), "defaults carry no source entry");
    let profiled = load(&path, &[], Some("steady_safe"));
    assert_eq!(profiled.params.min_interval_ms, 75, "the profile beats the scenario");
    assert_eq!(profiled.params.levels_per_side, 2, "steady_safe sets levels_per_side too");
    assert_eq!(profiled.param_sources["min_interval_ms"], ParamSource::Profile("steady_safe".to_string()));
    let overridden = load(&path, &["engine.min_interval_ms=90"], Some("steady_safe"));
    assert_eq!(overridden.params.min_interval_ms, 90, "--set beats the profile");
    assert_eq!(overridden.param_sources["min_interval_ms"], ParamSource::Override);
    assert_eq!(overridden.params.base_spread_bps, 0.8, "other profile values stay");
}

#[test]
fn a_stop_criterion_ends_the_soak_and_fails_it() {
    let out = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(root().join("scenarios/soak_smoke.toml"))
        .unwrap()
        .replace("[soak]", "[[events]]\nkind = \"latency_spike\"\nstart_s = 1000\nduration_s = 1500\nmultiplier = 500\n\n[soak]");
    let path = out.path().join("slow.toml");
    std::fs::write(&path, text).unwrap();
    let result = run_scenario(&load(&path, &[], None), &out.path().join("run"), false).unwrap();
    let soak = result.report.soak.expect("a soak section");
    let stop = soak.stopped_by.expect("deadline misses stop the soak");
    assert_eq!(stop.criterion, "deadline_miss_pct");
    assert!(stop.value > 5.0 && (1_000.0..2_600.0).contains(&stop.at_s), "{stop:?}");
    assert!(soak.iterations_run < 6);
    assert_eq!(soak.verdict, "fail");
    assert_eq!(result.report.verdict, "fail");
}

#[test]
fn soak_thresholds_that_cannot_work_are_located_errors() {
    let path = root().join("scenarios/soak_smoke.toml");
    let refused = |setting: &str| {
        let options =
            LoadOptions { overrides: vec![setting.to_string()], profiles_dir: Some(root().join("profiles")), ..LoadOptions::default() };
        match Scenario::load(&path, &options) {
            Ok(_) => panic!("{setting} was accepted"),
            Err(error) => error.to_string(),
        }
    };
    // Each was accepted and ran: a NaN zone never matched, a WARN level above the
    // FAIL level never warned, a 0-minute window was averaged over 1 minute.
    for (setting, expected) in [
        ("soak.tuner.aggressive_risk=nan", "`soak.tuner.aggressive_risk`: NaN is not allowed: use a number in [0, 1]"),
        ("soak.tuner.aggressive_risk=0.1", "`soak.tuner.moderate_risk`: 0.4 is above aggressive_risk 0.1: the risk zones must be in order"),
        ("soak.tuner.panic_after_fails=0", "`soak.tuner.panic_after_fails`: 0 is outside [1, 1000]"),
        ("soak.tuner.oscillation_window=1", "`soak.tuner.oscillation_window`: 1 holds only the value in force"),
        ("soak.gate.fail_risk_ratio=-1", "`soak.gate.fail_risk_ratio`: -1 is not allowed: use a number in [0, 1]"),
        ("soak.gate.warn_risk_ratio=0.9", "`soak.gate.warn_risk_ratio`: 0.9 is above fail_risk_ratio 0.5"),
        ("soak.gate.fail_net_bps=inf", "`soak.gate.fail_net_bps`: inf is not allowed: use a finite number"),
        ("soak.stop.deadline_miss_stop_pct=200", "`soak.stop.deadline_miss_stop_pct`: 200 is not allowed: use a number in [0, 100]"),
        ("soak.stop.deadline_miss_stop_minutes=0", "`soak.stop.deadline_miss_stop_minutes`: 0 is outside [1, 10080]"),
    ] {
        let message = refused(setting);
        assert!(message.contains(expected) && message.contains(&format!("--set {setting}")), "{setting}: {message}");
    }
    // A guard turned off, and levels at their edges, are allowed.
    for setting in ["soak.tuner.oscillation_window=0", "soak.tuner.cooldown_iterations=0", "soak.gate.warn_risk_ratio=0.5"] {
        load(&path, &[setting], None);
    }
}
