//! Sweeps end to end: identical bytes for any `--jobs`, shard processes merged equal
//! one run, a killed sweep resumes to the same bytes, a reused folder lends no runs
//! to another sweep, bad sweep files are clear errors.

use std::path::{Path, PathBuf};
use std::process::Command;

const OUTPUTS: [&str; 5] = ["results.csv", "summary.csv", "pareto.csv", "best_profile.toml", "report.html"];

/// A short base scenario and a 2 x 2 grid with 2 seeds (8 runs) in `dir`.
fn fixture(dir: &Path) -> PathBuf {
    let calm = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/calm.toml")).unwrap();
    std::fs::write(dir.join("base.toml"), calm.replace("duration_s = 3600", "duration_s = 120")).unwrap();
    let sweep = r#"
[sweep]
name = "tiny"
scenarios = ["base.toml"]
seeds_per_point = 2

[[params]]
name = "engine.base_spread_bps"
values = [0.2, 0.6]

[[params]]
name = "engine.min_interval_ms"
min = 50.0
max = 150.0
steps = 1
integer = true

[[objectives]]
metric = "kpis.net_bps"
goal = "maximize"

[[objectives]]
metric = "kpis.max_drawdown"
goal = "minimize"

[[constraints]]
metric = "kpis.max_inventory_abs"
op = "<="
value = 200
"#;
    let path = dir.join("tiny.toml");
    std::fs::write(&path, sweep).unwrap();
    path
}

fn drydock(args: &[&str], dir: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_drydock")).args(args).current_dir(dir).output().expect("the binary runs")
}

fn same_outputs(left: &Path, right: &Path) {
    for file in OUTPUTS {
        let (a, b) = (std::fs::read(left.join(file)).unwrap(), std::fs::read(right.join(file)).unwrap());
        assert!(a == b, "{file} differs between {} and {}", left.display(), right.display());
    }
}

#[test]
fn any_jobs_count_gives_identical_bytes() {
    let dir = tempfile::tempdir().unwrap();
    fixture(dir.path());
    for (jobs, out) in [("1", "one"), ("2", "two")] {
        let output = drydock(&["sweep", "tiny.toml", "--jobs", jobs, "--out", out], dir.path());
        assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    }
    same_outputs(&dir.path().join("one"), &dir.path().join("two"));
    let results = std::fs::read_to_string(dir.path().join("one/results.csv")).unwrap();
    assert_eq!(results.lines().count(), 1 + 8, "a header and one row per run");
    assert!(results.lines().next().unwrap().ends_with(",fingerprint"));
    let summary = std::fs::read_to_string(dir.path().join("one/summary.csv")).unwrap();
    assert!(summary.contains("kpis.net_bps.ci95_low") && summary.lines().count() == 1 + 4, "{summary}");
    let profile = std::fs::read_to_string(dir.path().join("one/best_profile.toml")).unwrap();
    assert!(profile.contains("[engine]") && profile.contains("base_spread_bps"), "{profile}");
}

#[test]
fn compare_of_one_plan_twice_is_go_and_of_other_plans_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    fixture(dir.path());
    for out in ["base", "again"] {
        let output = drydock(&["sweep", "tiny.toml", "--out", out], dir.path());
        assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    }
    let same = drydock(&["sweep", "compare", "base", "again", "--out", "cmp"], dir.path());
    let stdout = String::from_utf8_lossy(&same.stdout);
    assert_eq!(same.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&same.stderr));
    assert!(
        stdout.contains("8 runs paired (8 with identical fingerprints, 8 with the same configuration)") && stdout.contains("verdict: GO"),
        "{stdout}"
    );
    let csv = std::fs::read_to_string(dir.path().join("cmp/compare.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 4 * 2, "a row per point and objective:\n{csv}");
    let page = std::fs::read_to_string(dir.path().join("cmp/compare.html")).unwrap();
    assert!(
        page.contains("<span class=\"verdict pass\">GO</span>") && page.matches("<svg class=\"chart\"").count() == 2,
        "a forest plot per objective"
    );
    // Another plan (three seeds a point): its runs have no partners; exit 2.
    std::fs::write(
        dir.path().join("other.toml"),
        std::fs::read_to_string(dir.path().join("tiny.toml")).unwrap().replace("seeds_per_point = 2", "seeds_per_point = 3"),
    )
    .unwrap();
    assert_eq!(drydock(&["sweep", "other.toml", "--out", "other"], dir.path()).status.code(), Some(0));
    let refused = drydock(&["sweep", "compare", "base", "other"], dir.path());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("has no partner") && stderr.contains("same plan"), "{stderr}");
    let not_a_sweep = drydock(&["sweep", "compare", "base", "."], dir.path());
    assert_eq!(not_a_sweep.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&not_a_sweep.stderr).contains("sweep.json"));
}

#[test]
fn a_sweep_on_a_profile_runs_every_point_on_it_and_its_best_profile_carries_it() {
    let dir = tempfile::tempdir().unwrap();
    fixture(dir.path());
    std::fs::create_dir_all(dir.path().join("profiles")).unwrap();
    std::fs::write(dir.path().join("profiles/careful.toml"), "[engine]\nquote_size_lots = 4\nbase_spread_bps = 0.9\n").unwrap();
    let tiny = std::fs::read_to_string(dir.path().join("tiny.toml")).unwrap();
    std::fs::write(dir.path().join("careful.toml"), tiny.replace("seeds_per_point = 2", "seeds_per_point = 2\nprofile = \"careful\""))
        .unwrap();
    for (sweep, out) in [("tiny.toml", "plain"), ("careful.toml", "careful")] {
        let output = drydock(&["sweep", sweep, "--out", out], dir.path());
        assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    }
    let profile = std::fs::read_to_string(dir.path().join("careful/best_profile.toml")).unwrap();
    // The profile's settings the points did not sweep are carried; the swept one is the point's.
    assert!(profile.contains("# from profile careful") && profile.contains("\nquote_size_lots = 4\n"), "{profile}");
    assert_eq!(profile.matches("base_spread_bps =").count(), 1, "{profile}");
    // Same plan, other configuration: compared run by run.
    let compared = drydock(&["sweep", "compare", "plain", "careful"], dir.path());
    let stdout = String::from_utf8_lossy(&compared.stdout);
    assert!(stdout.contains("8 runs paired (0 with identical fingerprints, 0 with the same configuration)"), "{stdout}");
}

#[test]
fn shard_processes_merged_equal_one_run() {
    let dir = tempfile::tempdir().unwrap();
    fixture(dir.path());
    assert_eq!(drydock(&["sweep", "tiny.toml", "--out", "whole"], dir.path()).status.code(), Some(0));
    let shards: Vec<std::process::Child> = (1..=3)
        .map(|k| {
            Command::new(env!("CARGO_BIN_EXE_drydock"))
                .args(["sweep", "tiny.toml", "--jobs", "1", "--shard", &format!("{k}/3"), "--out", &format!("shard{k}")])
                .current_dir(dir.path())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut shard in shards {
        assert!(shard.wait().unwrap().success());
    }
    let merged = drydock(&["sweep", "merge", "shard1", "shard2", "shard3", "--out", "merged"], dir.path());
    assert_eq!(merged.status.code(), Some(0), "{}", String::from_utf8_lossy(&merged.stderr));
    same_outputs(&dir.path().join("whole"), &dir.path().join("merged"));
    // A shard left out: the merge says so and exits 1.
    let partial = drydock(&["sweep", "merge", "shard1", "shard3", "--out", "partial"], dir.path());
    let stdout = String::from_utf8_lossy(&partial.stdout);
    assert_eq!(partial.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("INCOMPLETE: 3 of 8 planned runs"), "{stdout}");
    // A folder that is not a shard: named, exit 2, and no output folder left behind.
    let typo = drydock(&["sweep", "merge", "shard1", "shard9", "--out", "typo"], dir.path());
    let stderr = String::from_utf8_lossy(&typo.stderr);
    assert_eq!(typo.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("cannot read shard9/sweep.json") && stderr.contains("--shard K/N"), "{stderr}");
    assert!(!dir.path().join("typo").exists(), "a refused merge writes nothing");
}

#[test]
fn a_killed_sweep_resumes_to_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    fixture(dir.path());
    assert_eq!(drydock(&["sweep", "tiny.toml", "--out", "clean"], dir.path()).status.code(), Some(0));
    // Kill a sweep part-way (whatever it finished is kept; the rest is redone).
    let mut child = Command::new(env!("CARGO_BIN_EXE_drydock"))
        .args(["sweep", "tiny.toml", "--jobs", "1", "--out", "killed"])
        .current_dir(dir.path())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(150));
    let _ = child.kill();
    let _ = child.wait();
    let output = drydock(&["sweep", "tiny.toml", "--out", "killed"], dir.path());
    assert_eq!(output.status.code(), Some(0));
    same_outputs(&dir.path().join("clean"), &dir.path().join("killed"));
    // Deterministically: drop three records and tear the last line, as a kill
    // mid-write would; rerun, and only those three run again.
    let log = dir.path().join("killed/runs.jsonl");
    let kept: Vec<String> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .filter(|line| !["p00000-x00-s0000", "p00002-x00-s0001", "p00003-x00-s0000"].iter().any(|run| line.contains(run)))
        .map(str::to_string)
        .collect();
    std::fs::write(&log, kept.join("\n") + "\n{\"run_id\": \"p0000").unwrap();
    let output = drydock(&["sweep", "tiny.toml", "--out", "killed"], dir.path());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("8 runs planned, 3 run now, 5 resumed"), "{stdout}");
    same_outputs(&dir.path().join("clean"), &dir.path().join("killed"));
}

#[test]
fn a_folder_another_process_is_writing_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    fixture(dir.path());
    assert_eq!(drydock(&["sweep", "tiny.toml", "--out", "done"], dir.path()).status.code(), Some(0));
    // Two sweeps into one folder both ran every pending run and interleaved their
    // records; a second writer (here: this test holding the lock) is now turned away.
    std::fs::create_dir(dir.path().join("busy")).unwrap();
    let lock = std::fs::File::create(dir.path().join("busy/.sweep.lock")).unwrap();
    lock.lock().unwrap();
    for args in [&["sweep", "tiny.toml", "--out", "busy"][..], &["sweep", "merge", "done", "--out", "busy"]] {
        let output = drydock(args, dir.path());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("busy is being written by another drydock sweep"), "{stderr}");
    }
    assert!(!dir.path().join("busy/runs.jsonl").exists(), "nothing was written");
    drop(lock);
    assert_eq!(drydock(&["sweep", "tiny.toml", "--out", "busy"], dir.path()).status.code(), Some(0));
    same_outputs(&dir.path().join("done"), &dir.path().join("busy"));
}

#[test]
fn a_folder_reused_for_another_sweep_keeps_none_of_its_runs() {
    let dir = tempfile::tempdir().unwrap();
    let path = fixture(dir.path());
    assert_eq!(drydock(&["sweep", "tiny.toml", "--out", "reused"], dir.path()).status.code(), Some(0));
    // The same run ids, other values: the earlier runs must not stand in for these.
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(dir.path().join("other.toml"), text.replace("values = [0.2, 0.6]", "values = [0.4]")).unwrap();
    let output = drydock(&["sweep", "other.toml", "--out", "reused"], dir.path());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("4 runs planned, 4 run now, 0 resumed") && stdout.contains("dropped 8 recorded runs"), "{stdout}");
    assert_eq!(drydock(&["sweep", "other.toml", "--out", "fresh"], dir.path()).status.code(), Some(0));
    same_outputs(&dir.path().join("fresh"), &dir.path().join("reused"));
}

/// `dir/runs.jsonl` with `count` records (all when `None`) stamped with another code version.
fn restamp(dir: &Path, count: Option<usize>) {
    let log = dir.join("runs.jsonl");
    let ours = format!("\"code_version\":\"{}\"", drydock::CODE_VERSION);
    let lines: Vec<String> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .enumerate()
        .map(|(index, line)| {
            assert!(line.contains(&ours), "records carry the code version: {line}");
            if count.is_none_or(|count| index < count) {
                line.replace(&ours, "\"code_version\":\"0000000000000000\"")
            } else {
                line.to_string()
            }
        })
        .collect();
    std::fs::write(&log, lines.join("\n") + "\n").unwrap();
}

#[test]
fn runs_of_other_code_are_never_resumed_merged_or_mixed() {
    let dir = tempfile::tempdir().unwrap();
    fixture(dir.path());
    assert_eq!(drydock(&["sweep", "tiny.toml", "--out", "clean"], dir.path()).status.code(), Some(0));
    assert_eq!(drydock(&["sweep", "tiny.toml", "--out", "old"], dir.path()).status.code(), Some(0));
    // Three runs made by other code (an engine since changed): they are run again.
    restamp(&dir.path().join("old"), Some(3));
    let output = drydock(&["sweep", "tiny.toml", "--out", "old"], dir.path());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("8 runs planned, 3 run now, 5 resumed") && stdout.contains("dropped 3 recorded runs"), "{stdout}");
    same_outputs(&dir.path().join("clean"), &dir.path().join("old"));
    // Shards made by two builds are not merged.
    for k in 1..=2 {
        let shard = drydock(&["sweep", "tiny.toml", "--shard", &format!("{k}/2"), "--out", &format!("shard{k}")], dir.path());
        assert_eq!(shard.status.code(), Some(0));
    }
    restamp(&dir.path().join("shard2"), None);
    let merged = drydock(&["sweep", "merge", "shard1", "shard2", "--out", "merged"], dir.path());
    let stderr = String::from_utf8_lossy(&merged.stderr);
    assert_eq!(merged.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("was made by code version 0000000000000000") && stderr.contains("run every shard with one build"), "{stderr}");
    // A comparison names the code that made each side.
    restamp(&dir.path().join("clean"), None);
    let compare = drydock(&["sweep", "compare", "clean", "old"], dir.path());
    let stdout = String::from_utf8_lossy(&compare.stdout);
    assert!(stdout.contains(&format!("code versions: baseline 0000000000000000, candidate {}", drydock::CODE_VERSION)), "{stdout}");
}

#[test]
fn bad_sweep_files_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = fixture(dir.path());
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(dir.path().join("bad.toml"), text.replace("seeds_per_point = 2", "seeds_per_point = 0")).unwrap();
    let output = drydock(&["sweep", "bad.toml"], dir.path());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("bad.toml:5:1") && stderr.contains("sweep.seeds_per_point"), "{stderr}");
    std::fs::write(dir.path().join("typo.toml"), text.replace("engine.base_spread_bps", "engine.base_sprad_bps")).unwrap();
    let output = drydock(&["sweep", "typo.toml"], dir.path());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("typo.toml:8:1") && stderr.contains("`params[0].name`: engine.base_sprad_bps is not a setting"), "{stderr}");
    let cases = [
        // A value out of range is blamed on its parameter's values, before anything runs.
        ("values = [0.2, 0.6]", "values = [0.2, -0.6]", "range.toml:9:1: `params[0].values`: engine.base_spread_bps = -0.6 does not suit"),
        ("values = [0.2, 0.6]", "values = [0.2, \"wide\"]", "type.toml:9:1: `params[0].values`: engine.base_spread_bps = \"wide\""),
        // Each value fine on its own, not together: the point is named.
        (
            "name = \"engine.base_spread_bps\"\nvalues = [0.2, 0.6]",
            "name = \"engine.inventory_soft_lots\"\nvalues = [150]\n\n[[params]]\nname = \"engine.inventory_hard_lots\"\nvalues = [120]",
            "clash.toml:7:1: `params`: the point engine.inventory_soft_lots=150, engine.inventory_hard_lots=120, engine.min_interval_ms=50",
        ),
        // An objective on a metric no run reports would rank on nothing.
        ("kpis.max_drawdown\"\ngoal", "kpis.max_draw\"\ngoal", "metric.toml:23:1: `objectives[1].metric`: unknown metric `kpis.max_draw`"),
        ("kpis.max_inventory_abs", "soak.panic_reverts", "soak.toml:27:1: `constraints[0].metric`: sweeps run plain scenarios"),
        // A range over a whole-number setting says how to draw whole numbers.
        (
            "name = \"engine.base_spread_bps\"\nvalues = [0.2, 0.6]",
            "name = \"engine.quote_size_lots\"\nmin = 1\nmax = 9\nsteps = 2",
            "whole.toml:9:1: `params[0].min`: engine.quote_size_lots = 1.0 does not suit",
        ),
    ];
    for (from, to, expected) in cases {
        let name = expected.split(':').next().unwrap();
        assert!(text.contains(from), "{from}");
        std::fs::write(dir.path().join(name), text.replace(from, to)).unwrap();
        let output = drydock(&["sweep", name, "--out", "out"], dir.path());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(expected), "expected {expected:?} in {stderr}");
        if name == "whole.toml" {
            assert!(stderr.contains("add `integer = true` to draw them from the range"), "{stderr}");
        }
        assert!(!dir.path().join("out").exists(), "nothing runs before the sweep is checked");
    }
    let output = drydock(&["sweep", "tiny.toml", "--shard", "4/3"], dir.path());
    assert_eq!(output.status.code(), Some(2));
    // A value the base refuses on its own but every point accepts is fine: soft 500
    // exceeds the base's hard limit (200), yet each point raises the hard limit to 600.
    let together = text.replace(
        "name = \"engine.base_spread_bps\"\nvalues = [0.2, 0.6]",
        "name = \"engine.inventory_soft_lots\"\nvalues = [150, 500]\n\n[[params]]\nname = \"engine.inventory_hard_lots\"\nvalues = [600]",
    );
    std::fs::write(dir.path().join("together.toml"), &together).unwrap();
    let output = drydock(&["sweep", "together.toml", "--out", "together"], dir.path());
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    // A bad value among them is still blamed on its own parameter (the point loads without it).
    std::fs::write(dir.path().join("blame.toml"), together.replace("values = [600]", "values = [600, \"x\"]")).unwrap();
    let output = drydock(&["sweep", "blame.toml", "--out", "blame"], dir.path());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("`params[1].values`: engine.inventory_hard_lots = \"x\" does not suit"), "{stderr}");
}
