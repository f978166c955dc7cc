//! Replay as a market source, end to end: the bundled replay scenarios on the real
//! BTCUSDT recording (from `DRYDOCK_DATA_DIR`, default `../shared/data`) run with
//! each queue model, deterministically, and meet their expectations; a converted
//! tape replays to the identical fingerprint; bad replay settings are errors with
//! file:line. Tests that need the recording say so loudly on stderr and check
//! nothing else when it is absent.

use std::io::Write;
use std::path::{Path, PathBuf};

use drydock::{LoadOptions, Scenario, run_scenario};
use drydock_sim::replay::book::GapPolicy;
use drydock_sim::replay::decimal::Grid;
use drydock_sim::replay::tape::{ReplayClock, ReplayTape, TapeOptions};

const RECORDING: &str = "binance_spot_btcusdt_20240808.gz";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn data_dir() -> Option<PathBuf> {
    let dir = drydock::scenario::data_dir();
    let dir = if dir.is_absolute() { dir } else { root().join(dir) };
    if dir.join(RECORDING).exists() {
        return Some(dir);
    }
    let _ = writeln!(std::io::stderr(), "SKIPPED replay scenario tests: no {RECORDING} in {} (set DRYDOCK_DATA_DIR)", dir.display());
    None
}

fn load(path: &Path, overrides: &[&str]) -> Result<Scenario, drydock::ScenarioError> {
    let options = LoadOptions {
        overrides: overrides.iter().map(|text| text.to_string()).collect(),
        profiles_dir: Some(root().join("profiles")),
        ..LoadOptions::default()
    };
    Scenario::load(path, &options)
}

fn replay_scenario(name: &str) -> PathBuf {
    root().join("scenarios/replay").join(name)
}

/// Runs `scenario` into `out` and returns (fingerprint, report.json bytes, failed expectations).
fn run(scenario: &Scenario, out: &Path) -> (String, Vec<u8>, Vec<String>) {
    let result = run_scenario(scenario, out, false).unwrap_or_else(|error| panic!("{error}"));
    let failed = result
        .report
        .expectations
        .iter()
        .filter(|expectation| !expectation.pass)
        .map(|expectation| format!("{} {} {} (actual {:?})", expectation.metric, expectation.op, expectation.value, expectation.actual))
        .collect();
    (result.report.fingerprint.clone(), std::fs::read(out.join("report.json")).unwrap(), failed)
}

#[test]
fn the_btcusdt_replay_runs_with_each_queue_model_deterministically() {
    let Some(_) = data_dir() else { return };
    let out = tempfile::tempdir().unwrap();
    let path = replay_scenario("btcusdt_20240808.toml");
    let mut fingerprints = Vec::new();
    for model in ["conservative", "probabilistic", "proportional"] {
        let set = format!("exchange.queue.model={model}");
        let scenario = load(&path, &[&set]).unwrap_or_else(|error| panic!("{error}"));
        let (first, first_report, failed) = run(&scenario, &out.path().join(format!("{model}-a")));
        assert!(failed.is_empty(), "{model}: {failed:?}");
        // Again, on another thread: the same bytes.
        let again = std::thread::scope(|scope| scope.spawn(|| run(&scenario, &out.path().join(format!("{model}-b")))).join().unwrap());
        assert_eq!(first, again.0, "{model}: the fingerprint changed between two runs");
        assert!(first_report == again.1, "{model}: report.json differs between two runs");
        let report: serde_json::Value = serde_json::from_slice(&first_report).unwrap();
        assert!(report["kpis"]["fills"].as_u64().unwrap() > 50, "{model}: our quotes trade against the recorded flow");
        fingerprints.push(first);
    }
    fingerprints.sort();
    fingerprints.dedup();
    assert_eq!(fingerprints.len(), 3, "the three queue models fill differently");
}

#[test]
fn a_converted_tape_replays_to_the_identical_fingerprint() {
    let Some(dir) = data_dir() else { return };
    let out = tempfile::tempdir().unwrap();
    let options =
        TapeOptions { format: None, clock: ReplayClock::Exchange, offset_ns: 0, gap_policy: GapPolicy::Stop, skip_bad_lines: false };
    let (tick, lot) = (Grid::parse("0.01").unwrap(), Grid::parse("0.00000001").unwrap());
    let raw = ReplayTape::load(&[dir.join(RECORDING)], &options, tick, lot).unwrap_or_else(|error| panic!("{error}"));
    let stats = &raw.header().stats;
    // The covering diff is folded into the first book: 1 + 3,448 = the 3,449 diffs applied.
    assert_eq!((stats.books, stats.diffs, stats.trades, stats.gaps), (1, 3_448, 9_756, 0));
    let tape_path = out.path().join("btcusdt.ddtape");
    let mut bytes = Vec::new();
    raw.write_to(&mut bytes).unwrap();
    std::fs::write(&tape_path, &bytes).unwrap();
    let read = ReplayTape::load(std::slice::from_ref(&tape_path), &options, tick, lot).unwrap();
    assert!(read == raw, "the tape reads back identical");
    let other_grid = ReplayTape::load(std::slice::from_ref(&tape_path), &options, Grid::parse("0.1").unwrap(), lot).err().unwrap();
    assert!(
        other_grid.to_string().contains("converted on tick 0.01 and lot 0.00000001; read it on that grid (`--tick` and `--lot`"),
        "{other_grid}"
    );
    let path = replay_scenario("btcusdt_20240808.toml");
    let from_raw = load(&path, &[]).unwrap();
    let set = format!("market.source.replay=[{:?}]", tape_path.display().to_string());
    let from_tape = load(&path, &[&set]).unwrap_or_else(|error| panic!("{error}"));
    let (raw_fingerprint, _, _) = run(&from_raw, &out.path().join("raw"));
    let (tape_fingerprint, _, _) = run(&from_tape, &out.path().join("tape"));
    assert_eq!(raw_fingerprint, tape_fingerprint);
}

#[test]
fn the_stressed_real_day_meets_its_expectations() {
    let Some(_) = data_dir() else { return };
    let out = tempfile::tempdir().unwrap();
    let scenario = load(&replay_scenario("btcusdt_20240808_stress.toml"), &[]).unwrap_or_else(|error| panic!("{error}"));
    let (_, report, failed) = run(&scenario, out.path());
    assert!(failed.is_empty(), "{failed:?}");
    let report: serde_json::Value = serde_json::from_slice(&report).unwrap();
    let shock = report["events"].as_array().unwrap().iter().find(|event| event["kind"] == "price_shock").expect("the shock is reported");
    let drawdown = shock["measured"]["drawdown_pct"].as_f64().unwrap();
    assert!((1.8..3.0).contains(&drawdown), "a 2 % shock on a session that moved 0.4 %: {drawdown}");
}

#[test]
fn bad_replay_settings_name_the_file_line_and_field() {
    let scenario_dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = scenario_dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let header = "[scenario]\nname = \"r\"\nseed = 1\nduration_s = 60\n\n[market]\n";
    let missing = write("missing.toml", &format!("{header}source = {{ replay = [\"no_such_recording.gz\"] }}\n"));
    let error = load(&missing, &[]).unwrap_err().to_string();
    assert!(error.contains("missing.toml:7:") && error.contains("market.source") && error.contains("DRYDOCK_DATA_DIR"), "{error}");
    let generator_event = write(
        "spike.toml",
        &format!(
            "{header}source = {{ replay = [\"x.gz\"] }}\n\n[[events]]\nkind = \"volatility_spike\"\nstart_s = 1\nduration_s = 5\nmultiplier = 2\ndecay_half_life_s = 1\n"
        ),
    );
    let error = load(&generator_event, &[]).unwrap_err().to_string();
    assert!(error.contains("spike.toml:") && error.contains("price_shock"), "{error}");
    let shock_without_replay = write(
        "shock.toml",
        &format!(
            "{header}\n[[events]]\nkind = \"price_shock\"\nstart_s = 1\ndrop_pct = 1\nfall_s = 1\ntrough_s = 1\nrecovery_fraction = 0.5\nrecovery_s = 1\n"
        ),
    );
    let error = load(&shock_without_replay, &[]).unwrap_err().to_string();
    assert!(error.contains("shock.toml:") && error.contains("recorded session"), "{error}");
    if data_dir().is_some() {
        let path = replay_scenario("btcusdt_20240808.toml");
        let error = load(&path, &["scenario.duration_s=900"]).unwrap_err().to_string();
        assert!(error.contains("longer than the recording"), "{error}");
        let error = load(&path, &["market.instrument.lot_size=0.001"]).unwrap_err().to_string();
        // The file alone loads: the flag that brings the error about is blamed.
        assert!(error.contains("--set market.instrument.lot_size=0.001") && error.contains("lot grid"), "{error}");
    }
}

#[test]
fn malformed_lines_stop_the_replay_or_are_counted_under_skip_bad_lines() {
    let Some(dir) = data_dir() else { return };
    let out = tempfile::tempdir().unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(std::fs::File::open(dir.join(RECORDING)).unwrap()), &mut text).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    let bad_trade = r#"1723161300000000000 {"stream":"btcusdt@trade","data":{"e":"trade","E":1723161300000,"p":"-5.00","q":"0.1","T":1723161300000,"m":true}}"#;
    lines.insert(5_000, "1723161300000000000 {not json");
    lines.insert(9_000, bad_trade);
    let corrupted = out.path().join("corrupted.txt");
    std::fs::write(&corrupted, lines.join("\n")).unwrap();
    let path = replay_scenario("btcusdt_20240808.toml");
    let set_file = format!("market.source.replay=[{:?}]", corrupted.display().to_string());
    let error = load(&path, &[&set_file]).unwrap_err().to_string();
    assert!(error.contains("corrupted.txt:5001:") && error.contains("bad JSON"), "{error}");
    let scenario = load(&path, &[&set_file, "market.source.skip_bad_lines=true"]).unwrap_or_else(|error| panic!("{error}"));
    let (_, report, failed) = run(&scenario, &out.path().join("skipped"));
    assert!(failed.is_empty(), "{failed:?}");
    let report: serde_json::Value = serde_json::from_slice(&report).unwrap();
    assert_eq!(report["replay"]["stats"]["bad_lines_skipped"], 2);
    let examples = report["replay"]["bad_line_examples"].as_array().unwrap();
    assert!(examples[1].as_str().unwrap().contains("corrupted.txt:9001:"), "{examples:?}");
}

#[test]
fn a_recording_is_loaded_once_and_shared_between_scenarios_and_sweep_points() {
    let Some(_) = data_dir() else { return };
    let path = replay_scenario("btcusdt_20240808.toml");
    let options = LoadOptions { profiles_dir: Some(root().join("profiles")), ..LoadOptions::default() };
    let first = Scenario::load(&path, &options).unwrap();
    let second =
        Scenario::load(&path, &LoadOptions { overrides: vec!["engine.base_spread_bps=0.8".to_string()], ..options.clone() }).unwrap();
    let (first_tape, second_tape) = (&first.sim.tape.as_ref().unwrap().0, &second.sim.tape.as_ref().unwrap().0);
    assert!(std::sync::Arc::ptr_eq(first_tape, second_tape), "one tape in memory for both");
    let fresh = Scenario::load(&path, &LoadOptions { profiles_dir: Some(root().join("profiles")), ..LoadOptions::default() }).unwrap();
    assert!(!std::sync::Arc::ptr_eq(first_tape, &fresh.sim.tape.as_ref().unwrap().0), "another cache loads its own");
}
