//! The `drydock` binary: exit codes (0 pass, 1 expectation failed, 2 bad input,
//! 3 nondeterminism), located errors for bad input, and `--verify`.

use std::path::Path;
use std::process::{Command, Output};

fn drydock(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_drydock")).args(args).current_dir(dir).output().expect("the binary runs")
}

fn scenario(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios").join(name).display().to_string()
}

#[test]
fn passing_scenario_exits_zero_and_verify_finds_no_difference() {
    let out = tempfile::tempdir().unwrap();
    let output = drydock(&["run", &scenario("reject_storm.toml"), "--verify", "--out", "run"], out.path());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("fingerprint "), "{stdout}");
    assert!(stdout.contains("verify: identical"), "{stdout}");
    assert!(out.path().join("run/report.json").exists());
}

#[test]
fn failing_expectation_exits_one() {
    let out = tempfile::tempdir().unwrap();
    // Make the engine refuse to quote at all: the uptime expectation must fail.
    let output = drydock(
        &[
            "run",
            &scenario("feed_outage.toml"),
            "--set",
            "engine.quote_size_lots=1",
            "--set",
            "engine.impact_cap_ratio=0.01",
            "--out",
            "run",
        ],
        out.path(),
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("FAIL kpis.quote_uptime_pct"), "{stdout}");
}

#[test]
fn bad_input_exits_two_with_file_line_and_field() {
    let out = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(scenario("calm.toml")).unwrap().replace("jumps_per_hour = 0.0", "jumps_per_hour = -3.0");
    std::fs::write(out.path().join("bad.toml"), text).unwrap();
    let output = drydock(&["run", "bad.toml"], out.path());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("bad.toml:10:1") && stderr.contains("market.jumps_per_hour"), "{stderr}");
    let missing = drydock(&["run", "no_such.toml"], out.path());
    assert_eq!(missing.status.code(), Some(2));
    let bad_flag = drydock(&["run", &scenario("calm.toml"), "--set", "engine.no_such_param=1"], out.path());
    let stderr = String::from_utf8_lossy(&bad_flag.stderr);
    assert_eq!(bad_flag.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("no_such_param"), "{stderr}");
}
