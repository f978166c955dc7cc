//! The `drydock` binary: exit codes (0 pass, 1 expectation failed, 2 bad input,
//! 3 nondeterminism), located errors for bad input, and `--verify`.

use std::path::Path;
use std::process::{Command, Output};

fn drydock(args: &[&str], dir: &Path) -> Output {
    drydock_command(args, dir).output().expect("the binary runs")
}

fn drydock_command(args: &[&str], dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_drydock"));
    command.args(args).current_dir(dir);
    command
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
    assert!(String::from_utf8_lossy(&missing.stderr).contains("check the path"));
    // A catalogue scenario named without its folder or extension: the message says which file exists.
    let by_name = drydock(&["run", "calm"], Path::new(env!("CARGO_MANIFEST_DIR")));
    assert_eq!(by_name.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&by_name.stderr).contains("did you mean scenarios/calm.toml?"),
        "{}",
        String::from_utf8_lossy(&by_name.stderr)
    );
    let bad_flag = drydock(&["run", &scenario("calm.toml"), "--set", "engine.no_such_param=1"], out.path());
    let stderr = String::from_utf8_lossy(&bad_flag.stderr);
    assert_eq!(bad_flag.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("no_such_param"), "{stderr}");
    // An output folder that cannot be made: the cause once, and how to fix it.
    std::fs::write(out.path().join("a_file"), "").unwrap();
    let unwritable = drydock(&["run", &scenario("calm.toml"), "--set", "scenario.duration_s=5", "--out", "a_file/run"], out.path());
    let stderr = String::from_utf8_lossy(&unwritable.stderr);
    assert_eq!(unwritable.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("cannot write a_file/run") && stderr.contains("pass --out a folder"), "{stderr}");
    assert_eq!(stderr.matches("(os error").count(), 1, "the cause is said once: {stderr}");
    // A clock offset that would overflow nanoseconds: refused at the flag.
    let offset = drydock(
        &["data", "convert", "x.gz", "-o", "x.ddtape", "--tick", "0.01", "--lot", "0.01", "--offset-ms", &i64::MAX.to_string()],
        out.path(),
    );
    let stderr = String::from_utf8_lossy(&offset.stderr);
    assert_eq!(offset.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("'--offset-ms <OFFSET_MS>'") && stderr.contains("-86400000..=86400000"), "{stderr}");
    // Too many parallel runs: refused at the flag (a thread per run would swamp the machine).
    let jobs = drydock(&["check", "--jobs", "100000", &scenario("calm.toml")], out.path());
    let stderr = String::from_utf8_lossy(&jobs.stderr);
    assert_eq!(jobs.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("'--jobs <JOBS>'") && stderr.contains("to 1024"), "{stderr}");
    // Any unsigned 64-bit seed is a seed (a TOML integer is signed: the flag bypasses it).
    let seed = u64::MAX.to_string();
    let big_seed =
        drydock(&["run", &scenario("calm.toml"), "--seed", &seed, "--set", "scenario.duration_s=5", "--out", "big_seed"], out.path());
    let stdout = String::from_utf8_lossy(&big_seed.stdout);
    assert_eq!(big_seed.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&big_seed.stderr));
    assert!(stdout.contains(&format!("(seed {seed},")), "{stdout}");
    // A file where the output folder should be: said as such, not as "file exists".
    let a_file = drydock(&["run", &scenario("calm.toml"), "--set", "scenario.duration_s=5", "--out", "a_file"], out.path());
    let stderr = String::from_utf8_lossy(&a_file.stderr);
    assert_eq!(a_file.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("cannot write a_file: it is a file, not a folder; pass --out a folder"), "{stderr}");
}

#[test]
fn config_show_names_each_value_and_its_source() {
    let out = tempfile::tempdir().unwrap();
    let profiles = Path::new(env!("CARGO_MANIFEST_DIR")).join("profiles/steady_safe.toml").display().to_string();
    let output =
        drydock(&["config", "show", &scenario("calm.toml"), "--profile", &profiles, "--set", "engine.min_interval_ms=90"], out.path());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("engine.min_interval_ms = 90  (--set)"), "{stdout}");
    assert!(stdout.contains("engine.base_spread_bps = 0.8  (profile steady_safe)"), "{stdout}");
    assert!(stdout.contains("engine.gamma = 0.02  (default)"), "{stdout}");
}

#[test]
fn artifacts_prune_keeps_the_newest_runs() {
    let out = tempfile::tempdir().unwrap();
    for name in ["feed_outage.toml", "reject_storm.toml"] {
        assert_eq!(drydock(&["run", &scenario(name)], out.path()).status.code(), Some(0));
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let dry = drydock(&["artifacts", "prune", "--keep", "1", "--dry-run"], out.path());
    let dry_stdout = String::from_utf8_lossy(&dry.stdout);
    assert!(dry_stdout.contains("would remove") && dry_stdout.contains("(dry run: nothing removed)"), "{dry_stdout}");
    assert!(out.path().join("artifacts/feed_outage-1006").exists(), "a dry run removes nothing");
    let output = drydock(&["artifacts", "prune", "--keep", "1"], out.path());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(out.path().join("artifacts/reject_storm-1008").exists());
    assert!(!out.path().join("artifacts/feed_outage-1006").exists(), "{stdout}");
    assert!(stdout.contains("removed"), "{stdout}");
}

#[test]
fn check_shows_a_readable_diff_for_a_changed_parameter() {
    let out = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(out.path().join("scenarios")).unwrap();
    let original = std::fs::read_to_string(scenario("feed_outage.toml")).unwrap();
    std::fs::write(out.path().join("scenarios/feed_outage.toml"), &original).unwrap();
    let blessed = drydock(&["bless", "--all"], out.path());
    assert_eq!(blessed.status.code(), Some(0), "{}", String::from_utf8_lossy(&blessed.stdout));
    let same = drydock(&["check", "--jobs", "1"], out.path());
    assert_eq!(same.status.code(), Some(0), "{}", String::from_utf8_lossy(&same.stdout));
    // A folder names its scenarios; an empty one is an error.
    let folder = drydock(&["check", "scenarios", "--jobs", "1"], out.path());
    assert!(String::from_utf8_lossy(&folder.stdout).contains("1 scenario: 1 match"), "{}", String::from_utf8_lossy(&folder.stderr));
    std::fs::create_dir_all(out.path().join("empty")).unwrap();
    let empty = drydock(&["check", "empty"], out.path());
    assert_eq!(empty.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&empty.stderr).contains("empty holds no scenario (*.toml) files"));
    // Deliberately change a parameter: quote twice as wide.
    std::fs::write(
        out.path().join("scenarios/feed_outage.toml"),
        original.replace("[[events]]", "[engine]\nbase_spread_bps = 0.8\n\n[[events]]"),
    )
    .unwrap();
    let changed = drydock(&["check", "--out", "review"], out.path());
    let stdout = String::from_utf8_lossy(&changed.stdout);
    assert_eq!(changed.status.code(), Some(1), "{stdout}");
    for needle in
        ["CHANGED   feed_outage", "STALE", "fingerprint changed", "kpis.net_bps", "delta %", "metric", "review: review/index.html"]
    {
        assert!(stdout.contains(needle), "missing {needle:?} in:\n{stdout}");
    }
    // --out keeps the run's artifacts and a page of the results for review.
    let index = std::fs::read_to_string(out.path().join("review/index.html")).unwrap();
    for needle in ["<a href=\"feed_outage/report.html\">", "<td class=\"warn\">CHANGED</td>", "STALE", "<code>kpis.net_bps</code>"] {
        assert!(index.contains(needle), "missing {needle:?} in the index page");
    }
    assert!(out.path().join("review/feed_outage/report.html").exists() && out.path().join("review/feed_outage/report.json").exists());
    let report_a = out.path().join("a.json");
    let report_b = out.path().join("b.json");
    assert_eq!(drydock(&["run", "scenarios/feed_outage.toml", "--out", "ra"], out.path()).status.code(), Some(0));
    std::fs::copy(out.path().join("ra/report.json"), &report_a).unwrap();
    std::fs::write(out.path().join("scenarios/feed_outage.toml"), &original).unwrap();
    assert_eq!(drydock(&["run", "scenarios/feed_outage.toml", "--out", "rb"], out.path()).status.code(), Some(0));
    std::fs::copy(out.path().join("rb/report.json"), &report_b).unwrap();
    let diff = drydock(&["diff", "a.json", "b.json"], out.path());
    assert_eq!(diff.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&diff.stdout).contains("kpis.fills"));
    // Other JSON a run folder holds is not a report: refused, not diffed line by line.
    std::fs::write(out.path().join("perf.json"), "{\"engine\": {\"p50_ns\": 90}}").unwrap();
    std::fs::write(out.path().join("notes.json"), "time,price\n").unwrap();
    for (other, expected) in [("perf.json", "perf.json is not a run's report.json"), ("notes.json", "notes.json is not JSON")] {
        let refused = drydock(&["diff", "a.json", other], out.path());
        assert_eq!(refused.status.code(), Some(2), "{other}");
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert!(stderr.contains(expected), "{stderr}");
    }
}

#[test]
fn data_inspect_reports_span_gaps_and_clock_skew() {
    use std::io::Write as _;
    let data = std::env::var_os("DRYDOCK_DATA_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data"));
    let file = data.join("binance_spot_btcusdt_20240808.gz");
    if !file.exists() {
        let _ = writeln!(std::io::stderr(), "SKIPPED data inspect test: no recordings in {} (set DRYDOCK_DATA_DIR)", data.display());
        return;
    }
    let out = tempfile::tempdir().unwrap();
    let output = drydock(&["data", "inspect", &file.display().to_string()], out.path());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
    for needle in ["depth 3451", "3449 diffs applied, 0 gaps", "crossings: none", "clock skew (local - exchange): mean -12"] {
        assert!(stdout.contains(needle), "missing {needle:?} in:\n{stdout}");
    }
    let bad = drydock(&["data", "inspect", &file.display().to_string(), "--format", "nasdaq"], out.path());
    assert_eq!(bad.status.code(), Some(2));
    // A tape is read on its own grid unless told otherwise; told another, it says which it has.
    let file = file.display().to_string();
    let convert = drydock(&["data", "convert", &file, "-o", "btc.ddtape", "--tick", "0.01", "--lot", "0.00000001"], out.path());
    assert_eq!(convert.status.code(), Some(0), "{}", String::from_utf8_lossy(&convert.stderr));
    let tape = drydock(&["data", "inspect", "btc.ddtape"], out.path());
    assert_eq!(tape.status.code(), Some(0), "{}", String::from_utf8_lossy(&tape.stderr));
    assert!(String::from_utf8_lossy(&tape.stdout).contains("crossings: none"));
    let other = drydock(&["data", "inspect", "btc.ddtape", "--tick", "0.1"], out.path());
    assert_eq!(other.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&other.stderr).contains("converted on tick 0.01"), "{}", String::from_utf8_lossy(&other.stderr));
    // A tape written over the recording it came from destroyed it; now refused, the
    // recording untouched (and a tape over itself likewise).
    let copy = out.path().join("recording.gz");
    std::fs::copy(&file, &copy).unwrap();
    let before = std::fs::read(&copy).unwrap();
    let grid = ["--tick", "0.01", "--lot", "0.00000001"];
    for (input, target, expected) in [
        ("recording.gz", "recording.gz", "-o recording.gz: name the tape *.ddtape"),
        ("btc.ddtape", "./btc.ddtape", "-o ./btc.ddtape: that is btc.ddtape, one of the files being converted"),
    ] {
        let refused = drydock(&[&["data", "convert", input, "-o", target][..], &grid].concat(), out.path());
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert_eq!(refused.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(expected), "{stderr}");
    }
    assert_eq!(std::fs::read(&copy).unwrap(), before);
    assert!(drydock(&["data", "inspect", "btc.ddtape"], out.path()).status.success(), "the tape is intact");
}

#[test]
fn profiles_are_found_beside_the_scenarios_from_any_folder() {
    let elsewhere = tempfile::tempdir().unwrap();
    // The soak's safe profile and a --profile name resolve in the repository's profiles/.
    let soak = drydock(&["run", &scenario("soak_smoke.toml"), "--out", "soak"], elsewhere.path());
    assert_eq!(soak.status.code(), Some(0), "{}", String::from_utf8_lossy(&soak.stderr));
    let profiled = drydock(
        &["run", &scenario("calm.toml"), "--profile", "ultra_safe", "--set", "scenario.duration_s=60", "--out", "calm"],
        elsewhere.path(),
    );
    let stdout = String::from_utf8_lossy(&profiled.stdout);
    assert!(stdout.contains("profile ultra_safe"), "{stdout}{}", String::from_utf8_lossy(&profiled.stderr));
    let missing = drydock(&["run", &scenario("calm.toml"), "--profile", "no_such_profile"], elsewhere.path());
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert_eq!(missing.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("put no_such_profile.toml there") && stderr.contains("profiles"), "{stderr}");
    assert!(stderr.contains("(there: default, steady_safe, ultra_safe)"), "the bundled profiles are listed: {stderr}");
}

/// Runs use the C library's `exp`, `ln`, `pow` and `log1p`. glibc picks one of
/// several builds of them by the CPU (FMA, AVX, SSE2); told to ignore FMA and AVX
/// it uses its SSE2 build, as on a CPU without them, and the whole catalogue must
/// still match its goldens byte for byte. (Elsewhere than glibc the setting is
/// ignored and this is the golden check again.)
#[test]
fn the_whole_catalogue_matches_its_goldens_with_the_c_librarys_math_for_older_cpus() {
    let out = tempfile::tempdir().unwrap();
    let review = out.path().join("review").display().to_string();
    let output = drydock_command(&["check", "--out", &review], Path::new(env!("CARGO_MANIFEST_DIR")))
        .env("GLIBC_TUNABLES", "glibc.cpu.hwcaps=-FMA,-AVX2,-AVX")
        .output()
        .expect("the binary runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains(" 0 changed or missing, 0 failing expectations, 0 errors"), "{stdout}");
}

#[test]
fn check_finds_the_repository_goldens_from_any_folder() {
    let elsewhere = tempfile::tempdir().unwrap();
    let output = drydock(&["check", &scenario("feed_outage.toml"), "--jobs", "1"], elsewhere.path());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("1 scenario: 1 matches, 0 changed or missing"), "{stdout}");
    assert!(!elsewhere.path().join("golden").exists());
    // Inside scenarios/, with a bare file name: the goldens above the working directory.
    let inside = drydock(&["check", "feed_outage.toml", "--jobs", "1"], &Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios"));
    let stdout = String::from_utf8_lossy(&inside.stdout);
    assert_eq!(inside.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&inside.stderr));
    // Another golden folder: the command that blesses into it names it.
    let other = drydock(&["check", &scenario("feed_outage.toml"), "--jobs", "1", "--golden", "elsewhere"], elsewhere.path());
    let stdout = String::from_utf8_lossy(&other.stdout);
    assert_eq!(other.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains(&format!("(run `drydock bless {} --golden elsewhere`)", scenario("feed_outage.toml"))), "{stdout}");
}

#[test]
fn replays_find_the_shared_recordings_from_any_folder() {
    // The recordings sit beside the checkout (../shared/data); skip where they do not.
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/binance_spot_btcusdt_20240808.gz");
    if !shared.exists() || std::env::var_os("DRYDOCK_DATA_DIR").is_some() {
        eprintln!("SKIPPED: no recording at {} (or DRYDOCK_DATA_DIR set)", shared.display());
        return;
    }
    let elsewhere = tempfile::tempdir().unwrap();
    let replay = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/replay/btcusdt_20240808.toml");
    let output = drydock(&["run", &replay.display().to_string(), "--out", "replay"], elsewhere.path());
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    // Named relative to the working directory, from a folder where ../shared/data is
    // not the recordings' folder: found above the scenario all the same.
    let scenarios = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let out = elsewhere.path().join("inside").display().to_string();
    let output = drydock(&["run", "replay/btcusdt_20240808.toml", "--out", &out], &scenarios);
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let output = drydock(&["run", "btcusdt_20240808.toml", "--out", &out], &scenarios.join("replay"));
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
}

#[test]
fn a_golden_does_not_make_a_failing_scenario_pass() {
    let out = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(out.path().join("scenarios")).unwrap();
    // An expectation the run cannot meet, blessed as it is.
    let failing = std::fs::read_to_string(scenario("feed_outage.toml")).unwrap().replacen(
        "[[expect]]",
        "[[expect]]\nmetric = \"kpis.fills\"\nop = \">=\"\nvalue = 1e9\n\n[[expect]]",
        1,
    );
    std::fs::write(out.path().join("scenarios/feed_outage.toml"), failing).unwrap();
    let blessed = drydock(&["bless", "--all"], out.path());
    let stdout = String::from_utf8_lossy(&blessed.stdout);
    assert_eq!(blessed.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("warning: FAIL kpis.fills >= 1000000000"), "{stdout}");
    let checked = drydock(&["check", "--jobs", "1"], out.path());
    let stdout = String::from_utf8_lossy(&checked.stdout);
    assert_eq!(checked.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("FAILING   feed_outage") && stdout.contains("FAIL kpis.fills >= 1000000000"), "{stdout}");
}

#[test]
fn check_runs_a_file_named_twice_once_and_refuses_two_files_with_one_name() {
    let out = tempfile::tempdir().unwrap();
    let short = std::fs::read_to_string(scenario("calm.toml")).unwrap().replace("duration_s = 3600", "duration_s = 30");
    std::fs::write(out.path().join("calm.toml"), &short).unwrap();
    std::fs::write(out.path().join("calm_copy.toml"), &short).unwrap();
    let twice = drydock(&["bless", "calm.toml", "./calm.toml", "--golden", "golden"], out.path());
    let stdout = String::from_utf8_lossy(&twice.stdout);
    assert_eq!(twice.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&twice.stderr));
    assert_eq!(stdout.matches("blessed").count(), 1, "{stdout}");
    let clash = drydock(&["check", "calm.toml", "calm_copy.toml", "--golden", "golden"], out.path());
    let stdout = String::from_utf8_lossy(&clash.stdout);
    assert_eq!(clash.status.code(), Some(2), "{stdout}");
    assert!(stdout.contains("ok        calm"), "{stdout}");
    assert!(stdout.contains("ERROR     calm_copy.toml: scenario name `calm` is already that of calm.toml"), "{stdout}");
}

#[test]
fn diff_compares_a_run_report_with_its_golden_snapshot() {
    let out = tempfile::tempdir().unwrap();
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("golden/feed_outage.snap").display().to_string();
    let run = drydock(&["run", &scenario("feed_outage.toml"), "--out", "run"], out.path());
    assert_eq!(run.status.code(), Some(0), "{}", String::from_utf8_lossy(&run.stderr));
    let same = drydock(&["diff", "run/report.json", &golden], out.path());
    let stdout = String::from_utf8_lossy(&same.stdout);
    assert_eq!(same.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("a report and a snapshot") && stdout.contains("match"), "{stdout}");
    // Another seed: a real difference, shown in the snapshot's terms.
    let other = drydock(&["run", &scenario("feed_outage.toml"), "--seed", "99", "--out", "other"], out.path());
    assert!(other.status.code().is_some_and(|code| code <= 1), "{}", String::from_utf8_lossy(&other.stderr));
    let differs = drydock(&["diff", &golden, "other/report.json"], out.path());
    let stdout = String::from_utf8_lossy(&differs.stdout);
    assert_eq!(differs.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("header.seed"), "{stdout}");
    assert!(
        !stdout.contains("header.engine_version") && !stdout.contains("header.scenario_file"),
        "snapshot-only fields left out: {stdout}"
    );
    let metrics: Vec<&str> = stdout.lines().filter_map(|line| line.split_whitespace().next()).collect();
    assert!(!metrics.iter().any(|metric| ["seed", "description", "duration_s"].contains(metric) || metric.starts_with("csv.")), "{stdout}");
    // Two reports alike but for the code that made them: the same behaviour, and said so.
    let text = std::fs::read_to_string(out.path().join("run/report.json")).unwrap();
    let older = text.replace(drydock::CODE_VERSION, "0000000000000000");
    assert_ne!(older, text, "the report carries the code version");
    std::fs::write(out.path().join("older.json"), older).unwrap();
    let builds = drydock(&["diff", "older.json", "run/report.json"], out.path());
    let stdout = String::from_utf8_lossy(&builds.stdout);
    assert_eq!(builds.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("made by different code: code version 0000000000000000 (a)") && stdout.contains("match"), "{stdout}");
    // Files that are not reports: what diff compares, at the file.
    for (file, said) in [("missing.json", "cannot read missing.json"), ("run/fills.csv", "run/fills.csv is not JSON")] {
        let wrong = drydock(&["diff", file, "run/report.json"], out.path());
        let stderr = String::from_utf8_lossy(&wrong.stderr);
        assert_eq!(wrong.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(said) && stderr.contains("diff compares two report.json files or golden .snap files"), "{stderr}");
    }
}

#[test]
fn perf_times_each_stage_and_a_run_without_it_removes_the_old_timings() {
    let out = tempfile::tempdir().unwrap();
    let timed = drydock(&["run", &scenario("reject_storm.toml"), "--perf", "--out", "run"], out.path());
    let stdout = String::from_utf8_lossy(&timed.stdout);
    assert_eq!(timed.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("perf (wall clock, sampled; perf.json): engine ~"), "{stdout}");
    assert!(stdout.contains("; the rest ~"), "{stdout}");
    let perf: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.path().join("run/perf.json")).unwrap()).unwrap();
    for stage in ["engine", "exchange", "market"] {
        let timings = &perf[stage];
        let calls = timings["calls"].as_u64().unwrap();
        let sampled = timings["sampled"].as_u64().unwrap();
        assert!(calls > 0 && sampled == calls / 16, "{stage}: one call in 16 is timed: {timings}");
        let mean_ns = timings["mean_ns"].as_f64().unwrap();
        assert!(mean_ns > 0.0, "{stage}: {timings}");
        let total_ms = timings["total_ms_estimated"].as_f64().unwrap();
        assert!((total_ms - mean_ns * calls as f64 / 1e6).abs() < 1e-9, "{stage}: the estimate is mean × calls: {timings}");
    }
    let untimed = drydock(&["run", &scenario("reject_storm.toml"), "--out", "run"], out.path());
    assert_eq!(untimed.status.code(), Some(0));
    assert!(!String::from_utf8_lossy(&untimed.stdout).contains("perf ("));
    assert!(!out.path().join("run/perf.json").exists(), "a run without --perf leaves no timings of an earlier run");
}
