//! `drydock gate` end to end: GO with an advisory warning, strict mode blocking on
//! missing evidence (fail-closed, exit 2), a seed that breaks an expectation
//! blocking with a link to its report (exit 1), a sweep comparison that finds a
//! change for the worse, identical gate.json bytes on reruns, a parity check over
//! recorded journals (identical, diverged, damaged, missing), and bad gate files.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn drydock(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_drydock")).args(args).current_dir(dir).output().expect("the binary runs")
}

fn repo(path: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path).display().to_string()
}

/// A gzip'd journal's text.
fn unzip(path: &Path) -> String {
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap()), &mut text).unwrap();
    text
}

fn gate_json(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("gate.json")).unwrap()).unwrap()
}

/// A two-minute calm scenario named `name` in `dir`, with `extra` appended.
fn short_calm(dir: &Path, name: &str, extra: &str) -> PathBuf {
    let calm = std::fs::read_to_string(repo("scenarios/calm.toml")).unwrap();
    let text = calm.replace("duration_s = 3600", "duration_s = 120").replace("name = \"calm\"", &format!("name = \"{name}\"")) + extra;
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).unwrap();
    path
}

/// A gate with a catalogue check of two bundled scenarios, a seeds check of a short
/// calm market and an advisory comparison with sweeps that do not exist.
fn gate_file(dir: &Path) -> PathBuf {
    short_calm(dir, "short_calm", "");
    let text = format!(
        r#"[gate]
name = "test-gate"

[[checks]]
name = "catalogue"
kind = "golden"
scenarios = ["{}", "{}"]

[[checks]]
name = "seeds"
kind = "seeds"
scenarios = ["short_calm.toml"]
seeds = 3

[[checks]]
name = "against-baseline"
kind = "compare"
baseline = "sweeps/baseline"
candidate = "sweeps/candidate"
critical = false
"#,
        repo("scenarios/calm.toml"),
        repo("scenarios/feed_outage.toml")
    );
    let path = dir.join("gate.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn the_build_is_stamped_with_its_code_version() {
    let version = drydock::CODE_VERSION;
    assert!(version.len() == 16 && version.bytes().all(|byte| byte.is_ascii_hexdigit()), "{version}");
    let dir = tempfile::tempdir().unwrap();
    gate_file(dir.path());
    let output = drydock(&["run", "short_calm.toml", "--out", "run"], dir.path());
    assert!(String::from_utf8_lossy(&output.stdout).contains(&format!("(code version {version})")));
    let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join("run/report.json")).unwrap()).unwrap();
    assert_eq!(report["code_version"], version);
}

#[test]
fn every_bundled_gate_and_sweep_loads() {
    for folder in ["gates", "sweeps"] {
        let paths = drydock::check::catalogue(&Path::new(env!("CARGO_MANIFEST_DIR")).join(folder)).unwrap();
        assert!(!paths.is_empty(), "{folder}/ holds files");
        for path in paths {
            let loaded = if folder == "gates" {
                drydock::gate::Gate::load(&path).map(|_| ())
            } else {
                drydock::sweep::spec::Sweep::load(&path).map(|_| ())
            };
            assert!(loaded.is_ok(), "{}: {:?}", path.display(), loaded.err());
        }
    }
}

#[test]
fn provisional_mode_warns_on_missing_advisory_evidence_and_strict_mode_blocks() {
    let dir = tempfile::tempdir().unwrap();
    gate_file(dir.path());
    let output = drydock(&["gate", "gate.toml", "--out", "out", "--jobs", "2"], dir.path());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("PASS      catalogue (critical, golden): 2 scenarios: 2 match"), "{stdout}");
    assert!(stdout.contains("PASS      seeds (critical, seeds): 3 runs (1 scenario × 3 seeds): 3 meet every expectation"), "{stdout}");
    assert!(stdout.contains("WARN      against-baseline (advisory, compare): no usable evidence"), "{stdout}");
    assert!(stdout.contains("verdict: GO (warnings: against-baseline)"), "{stdout}");
    let out = dir.path().join("out");
    let outcome = gate_json(&out);
    assert_eq!(outcome["verdict"], "GO");
    assert_eq!(outcome["mode"], "provisional");
    assert_eq!(outcome["checks"][2]["status"], "error");
    assert!(
        out.join("gate.html").is_file() && out.join("catalogue/index.html").is_file() && out.join("catalogue/calm/report.html").is_file()
    );
    assert!(!out.join("seeds/short_calm-1003").exists(), "a passing seeded run keeps no artifacts: its seed reproduces it");
    let runs_page = std::fs::read_to_string(out.join("seeds/index.html")).unwrap();
    assert!(runs_page.contains("<td class=\"pass\">PASS</td><td>PASS short_calm seed 1003"), "{runs_page}");
    assert_eq!(outcome["checks"][1]["evidence"], "seeds/index.html");
    let first = std::fs::read(out.join("gate.json")).unwrap();
    let again = drydock(&["gate", "gate.toml", "--out", "again", "--jobs", "1"], dir.path());
    assert_eq!(again.status.code(), Some(0));
    assert_eq!(first, std::fs::read(dir.path().join("again/gate.json")).unwrap(), "gate.json is the same bytes on any --jobs");

    let strict = drydock(&["gate", "gate.toml", "--out", "strict", "--strict"], dir.path());
    let stdout = String::from_utf8_lossy(&strict.stdout);
    assert_eq!(strict.status.code(), Some(2), "missing evidence blocks in strict mode, as bad input: {stdout}");
    assert!(stdout.contains("ERROR     against-baseline") && stdout.contains("verdict: NO-GO (blocking: against-baseline)"), "{stdout}");
    assert_eq!(gate_json(&dir.path().join("strict"))["mode"], "strict");
}

#[test]
fn a_seed_that_breaks_an_expectation_blocks_and_links_its_report() {
    let dir = tempfile::tempdir().unwrap();
    let never_flat = "\n[[expect]]\nmetric = \"kpis.fills\"\nop = \"==\"\nvalue = 0\nwhy = \"cannot hold: the engine trades\"\n";
    short_calm(dir.path(), "trades", never_flat);
    let gate = "[gate]\nname = \"g\"\n\n[[checks]]\nname = \"seeds\"\nkind = \"seeds\"\nscenarios = [\"trades.toml\"]\nseeds = 2\n";
    std::fs::write(dir.path().join("gate.toml"), gate).unwrap();
    let output = drydock(&["gate", "gate.toml", "--out", "out"], dir.path());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
    assert!(
        stdout.contains("FAIL      seeds (critical, seeds): 2 runs (1 scenario × 2 seeds): 0 meet every expectation, 2 fail"),
        "{stdout}"
    );
    assert!(stdout.contains("FAIL trades seed 1001: kpis.fills == 0 (actual"), "{stdout}");
    let outcome = gate_json(&dir.path().join("out"));
    assert_eq!(outcome["verdict"], "NO-GO");
    let link = outcome["checks"][0]["details"][0]["link"].as_str().unwrap();
    assert_eq!(link, "seeds/trades-1001/report.html");
    assert!(dir.path().join("out").join(link).is_file());
}

#[test]
fn a_seeds_check_runs_each_file_once_and_refuses_two_scenarios_of_one_name() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("stress")).unwrap();
    short_calm(&dir.path().join("stress"), "short_calm", "");
    // The folder and a file in it name it twice; the two ran at once into one
    // evidence folder and tripped over each other's files.
    let gate = "[gate]\nname = \"g\"\n\n[[checks]]\nname = \"seeds\"\nkind = \"seeds\"\nscenarios = [\"stress\", \"stress/short_calm.toml\"]\nseeds = 2\n";
    std::fs::write(dir.path().join("gate.toml"), gate).unwrap();
    let output = drydock(&["gate", "gate.toml", "--out", "out"], dir.path());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("PASS      seeds (critical, seeds): 2 runs (1 scenario × 2 seeds): 2 meet every expectation"), "{stdout}");

    // Another file of the same scenario name would write the same evidence folders.
    std::fs::copy(dir.path().join("stress/short_calm.toml"), dir.path().join("copy.toml")).unwrap();
    let gate = gate.replace("\"stress/short_calm.toml\"", "\"copy.toml\"");
    std::fs::write(dir.path().join("gate.toml"), gate).unwrap();
    let output = drydock(&["gate", "gate.toml", "--out", "named-twice"], dir.path());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(2), "{stdout}");
    assert!(
        stdout.contains("2 runs (1 scenario × 2 seeds), 1 scenario refused: 2 meet every expectation, 0 fail, 1 could not run"),
        "{stdout}"
    );
    assert!(stdout.contains("copy.toml: scenario name `short_calm` is already that of"), "{stdout}");
}

#[test]
fn a_soak_stopped_by_its_stop_criteria_fails_a_seeds_check() {
    let dir = tempfile::tempdir().unwrap();
    let slow = std::fs::read_to_string(repo("scenarios/soak_smoke.toml"))
        .unwrap()
        .replace("[soak]", "[[events]]\nkind = \"latency_spike\"\nstart_s = 1000\nduration_s = 1500\nmultiplier = 500\n\n[soak]");
    std::fs::write(dir.path().join("slow.toml"), slow).unwrap();
    // The soak's safe profile, found in the nearest profiles/ folder.
    std::fs::create_dir_all(dir.path().join("profiles")).unwrap();
    for profile in std::fs::read_dir(repo("profiles")).unwrap() {
        let profile = profile.unwrap().path();
        std::fs::copy(&profile, dir.path().join("profiles").join(profile.file_name().unwrap())).unwrap();
    }
    let gate = "[gate]\nname = \"g\"\n\n[[checks]]\nname = \"soak\"\nkind = \"seeds\"\nscenarios = [\"slow.toml\"]\nseeds = 1\n";
    std::fs::write(dir.path().join("gate.toml"), gate).unwrap();
    let output = drydock(&["gate", "gate.toml", "--out", "out"], dir.path());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("the soak was stopped by deadline_miss_pct at"), "{stdout}");
}

#[test]
fn a_comparison_that_finds_a_change_for_the_worse_blocks() {
    let dir = tempfile::tempdir().unwrap();
    short_calm(dir.path(), "base", "");
    let sweep = |size: u32| {
        format!(
            "[sweep]\nname = \"sizes\"\nscenarios = [\"base.toml\"]\nseeds_per_point = 4\n\n[[params]]\nname = \"engine.quote_size_lots\"\nvalues = [{size}]\n\n\
             [[objectives]]\nmetric = \"kpis.maker_volume\"\ngoal = \"maximize\"\n"
        )
    };
    std::fs::write(dir.path().join("baseline.toml"), sweep(10)).unwrap();
    std::fs::write(dir.path().join("candidate.toml"), sweep(2)).unwrap();
    for side in ["baseline", "candidate"] {
        let output = drydock(&["sweep", &format!("{side}.toml"), "--out", side], dir.path());
        assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    }
    let gate =
        "[gate]\nname = \"g\"\n\n[[checks]]\nname = \"volume\"\nkind = \"compare\"\nbaseline = \"baseline\"\ncandidate = \"candidate\"\n";
    std::fs::write(dir.path().join("gate.toml"), gate).unwrap();
    let output = drydock(&["gate", "gate.toml", "--out", "out"], dir.path());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("FAIL      volume (critical, compare): NO-GO: 4 runs paired; 1 objectives significantly worse"), "{stdout}");
    assert!(stdout.contains("WORSE point 0 kpis.maker_volume"), "{stdout}");
    assert!(dir.path().join("out/volume/compare.html").is_file() && dir.path().join("out/volume/compare.csv").is_file());
    // A candidate sweep made by other code cannot be evidence for this build.
    let log = dir.path().join("candidate/runs.jsonl");
    let text = std::fs::read_to_string(&log).unwrap();
    std::fs::write(&log, text.replace(drydock::CODE_VERSION, "0000000000000000")).unwrap();
    let stale = drydock(&["gate", "gate.toml", "--out", "stale"], dir.path());
    let stdout = String::from_utf8_lossy(&stale.stdout);
    assert_eq!(stale.status.code(), Some(2), "{stdout}");
    assert!(
        stdout.contains("ERROR     volume") && stdout.contains("was made by code version 0000000000000000, not by this build's"),
        "{stdout}"
    );
}

#[test]
fn bad_gate_files_name_the_line_and_the_field() {
    let dir = tempfile::tempdir().unwrap();
    short_calm(dir.path(), "base", "");
    let cases = [
        (
            "[gate]\nname = \"g\"\ncolour = 1\n[[checks]]\nname = \"a\"\nkind = \"golden\"\nscenarios = [\"base.toml\"]\n",
            "gate.toml:3",
            "colour",
        ),
        ("[gate]\nname = \"g\"\n", "gate.toml:1", "add at least one [[checks]] entry"),
        (
            "[gate]\nname = \"g\"\n[[checks]]\nname = \"a\"\nkind = \"seeds\"\nscenarios = [\"base.toml\"]\n",
            "checks[0].seeds",
            "needs seeds",
        ),
        (
            "[gate]\nname = \"g\"\n[[checks]]\nname = \"a\"\nkind = \"golden\"\nscenarios = [\"nope.toml\"]\n",
            "gate.toml:6",
            "does not exist",
        ),
        (
            "[gate]\nname = \"g\"\n[[checks]]\nname = \"a\"\nkind = \"compare\"\nbaseline = \"b\"\ncandidate = \"c\"\nscenarios = [\"base.toml\"]\n",
            "checks[0].scenarios",
            "is not a setting of a `compare` check",
        ),
        (
            "[gate]\nname = \"g\"\n[[checks]]\nname = \"a\"\nkind = \"golden\"\nscenarios = [\"base.toml\"]\n[[checks]]\nname = \"a\"\nkind = \"golden\"\nscenarios = [\"base.toml\"]\n",
            "checks[1].name",
            "already names checks[0]",
        ),
        (
            "[gate]\nname = \"g\"\n[[checks]]\nname = \"a b\"\nkind = \"golden\"\nscenarios = [\"base.toml\"]\n",
            "checks[0].name",
            "cannot name files",
        ),
        (
            "[gate]\nname = \"g\"\n[[checks]]\nname = \"gate.json\"\nkind = \"golden\"\nscenarios = [\"base.toml\"]\n",
            "checks[0].name",
            "own output file",
        ),
        ("[gate]\nname = \"g\"\n[[checks]]\nname = \"a\"\nkind = \"vibes\"\n", "gate.toml:5", "golden"),
        ("[gate]\nname = \"g\"\n[[checks]]\nname = \"a\"\nkind = \"parity\"\n", "checks[0].journals", "needs journals"),
        (
            "[gate]\nname = \"g\"\n[[checks]]\nname = \"a\"\nkind = \"parity\"\njournals = [\"j\"]\nseeds = 2\n",
            "checks[0].seeds",
            "is not a setting of a `parity` check",
        ),
    ];
    for (text, place, words) in cases {
        std::fs::write(dir.path().join("gate.toml"), text).unwrap();
        let output = drydock(&["gate", "gate.toml", "--out", "out"], dir.path());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{text}: {stderr}");
        assert!(stderr.contains(place) && stderr.contains(words), "{text}: wanted {place} and {words}, got {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn a_parity_check_replays_recorded_journals_into_this_build() {
    let dir = tempfile::tempdir().unwrap();
    short_calm(dir.path(), "short_calm", "");
    for (seed, out) in [("1001", "journals/a"), ("1002", "journals/b")] {
        let run = drydock(&["run", "short_calm.toml", "--seed", seed, "--journal", "--out", out], dir.path());
        assert_eq!(run.status.code(), Some(0), "{}", String::from_utf8_lossy(&run.stderr));
    }
    // A journal named twice (its folder, and itself) is replayed once.
    let gate = "[gate]\nname = \"parity-gate\"\n[[checks]]\nname = \"parity\"\nkind = \"parity\"\njournals = [\"journals\", \"journals/a/journal.jsonl.gz\"]\n";
    std::fs::write(dir.path().join("gate.toml"), gate).unwrap();
    let output = drydock(&["gate", "gate.toml", "--out", "out"], dir.path());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("PASS      parity (critical, parity): 2 journals replayed into this build's engine: 2 identical"), "{stdout}");
    let parity: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("out/parity/parity.json")).unwrap()).unwrap();
    assert_eq!(parity[0]["outcome"], "identical");
    assert_eq!(parity[1]["scenario"], "short_calm");

    // A recorded command edited: the journal no longer proves itself (ERROR, exit 2).
    let journal = dir.path().join("journals/b/journal.jsonl.gz");
    let text = unzip(&journal);
    let edited = text.replacen("\"command\":{\"type\":\"place\",\"order_id\":1,", "\"command\":{\"type\":\"place\",\"order_id\":9,", 1);
    assert_ne!(edited, text);
    std::fs::remove_file(&journal).unwrap();
    std::fs::write(dir.path().join("journals/b/journal.jsonl"), &edited).unwrap();
    let damaged = drydock(&["gate", "gate.toml", "--out", "damaged"], dir.path());
    let stdout = String::from_utf8_lossy(&damaged.stdout);
    assert_eq!(damaged.status.code(), Some(2), "{stdout}");
    assert!(stdout.contains("ERROR     parity") && stdout.contains("DAMAGED"), "{stdout}");

    // A journal recorded with other engine parameters: this build diverges (FAIL, exit 1).
    std::fs::remove_dir_all(dir.path().join("journals/b")).unwrap();
    let other = drydock(&["run", "short_calm.toml", "--set", "engine.gamma=0.05", "--journal", "--out", "journals/b"], dir.path());
    assert_eq!(other.status.code(), Some(0));
    // The header says what the engine was built with, so the replay is identical...
    let identical = drydock(&["gate", "gate.toml", "--out", "same"], dir.path());
    assert_eq!(identical.status.code(), Some(0), "{}", String::from_utf8_lossy(&identical.stdout));
    // A journal whose engine decided otherwise (as another build's would): a recorded
    // price moved, and the end record resealed so the journal is intact. FAIL, exit 1.
    let journal = dir.path().join("journals/b/journal.jsonl.gz");
    let text = unzip(&journal);
    let first_place = text.find("\"type\":\"place\"").unwrap();
    let price_at = first_place + text[first_place..].find("\"price_ticks\":").unwrap() + "\"price_ticks\":".len();
    let mut moved = text.clone();
    moved.insert(price_at, '1');
    std::fs::remove_file(&journal).unwrap();
    let plain = dir.path().join("journals/b/journal.jsonl");
    std::fs::write(&plain, &moved).unwrap();
    let report = drydock::journal::parity::replay(&plain, &[]).unwrap();
    let recorded = report.end.as_ref().unwrap().fingerprint.clone();
    std::fs::write(&plain, moved.replace(&recorded, &report.records_fingerprint)).unwrap();
    let parted = drydock(&["gate", "gate.toml", "--out", "parted"], dir.path());
    let stdout = String::from_utf8_lossy(&parted.stdout);
    assert_eq!(parted.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("FAIL      parity") && stdout.contains("1 diverged") && stdout.contains("DIVERGED"), "{stdout}");
    assert!(stdout.contains("instead of the recorded"), "{stdout}");

    // Missing evidence fails closed.
    std::fs::remove_dir_all(dir.path().join("journals")).unwrap();
    let missing = drydock(&["gate", "gate.toml", "--out", "missing"], dir.path());
    let stdout = String::from_utf8_lossy(&missing.stdout);
    assert_eq!(missing.status.code(), Some(2), "{stdout}");
    assert!(stdout.contains("ERROR     parity") && stdout.contains("does not exist"), "{stdout}");
}
