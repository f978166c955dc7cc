//! Journals: a run's journal holds exactly the records its fingerprint hashes and
//! is byte-identical across runs; replaying it into the same engine is identical
//! (plain runs, disconnects and soaks with operator controls); a parameter change
//! diverges at a located event; a cut-short, edited or malformed journal is said
//! to be so (a located error for malformed lines, never a panic); two journals
//! are compared record by record. And the `drydock journal` commands' exit codes.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use drydock::journal::diff::diff;
use drydock::journal::parity::{replay, replay_with};
use drydock::journal::{JOURNAL_FILE, JournalReader, Record};
use drydock::{LoadOptions, RunFlags, Scenario, run_scenario_with};
use proptest::prelude::*;

fn scenario_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios").join(name)
}

/// Runs a bundled scenario with a journal into `dir`; its fingerprint and journal.
fn record(name: &str, seed: Option<u64>, dir: &Path) -> (String, PathBuf) {
    let options = LoadOptions { seed, ..LoadOptions::default() };
    let scenario = Scenario::load(&scenario_path(name), &options).unwrap();
    let result = run_scenario_with(&scenario, dir, RunFlags { journal: true, ..RunFlags::default() }).unwrap();
    let journal = result.journal.expect("a journal was asked for");
    assert_eq!(journal, dir.join(JOURNAL_FILE));
    (result.report.fingerprint, journal)
}

fn unzip(path: &Path) -> String {
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap()).read_to_string(&mut text).unwrap();
    text
}

fn write_plain(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::File::create(&path).unwrap().write_all(text.as_bytes()).unwrap();
    path
}

#[test]
fn a_journal_replays_identically_and_proves_its_fingerprint() {
    let dir = tempfile::tempdir().unwrap();
    let (fingerprint, journal) = record("flash_crash.toml", None, &dir.path().join("a"));
    let report = replay(&journal, &[]).unwrap();
    assert!(report.identical(), "{:?}", report.divergence);
    assert!(report.intact());
    assert_eq!(report.records_fingerprint, fingerprint);
    assert_eq!(report.end.as_ref().unwrap().fingerprint, fingerprint);
    assert!(report.events > 10_000 && report.recorded_commands > 1_000, "{} events, {} commands", report.events, report.recorded_commands);
    assert_eq!(report.agreed_events, report.events);
    assert_eq!(report.header.scenario, "flash_crash");
    assert_eq!(report.header.code_version, drydock::CODE_VERSION);
    // The same run again writes the same bytes (no wall time, no gzip time stamp).
    let (_, again) = record("flash_crash.toml", None, &dir.path().join("b"));
    assert_eq!(std::fs::read(&journal).unwrap(), std::fs::read(&again).unwrap());
}

#[test]
fn disconnects_and_soaks_with_operator_controls_replay_identically() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["disconnect_open_orders.toml", "soak_smoke.toml"] {
        let (fingerprint, journal) = record(name, None, &dir.path().join(name));
        let report = replay(&journal, &[]).unwrap();
        assert!(report.identical(), "{name}: {:?}", report.divergence);
        assert!(report.intact() && report.records_fingerprint == fingerprint, "{name}");
    }
    let soak = unzip(&dir.path().join("soak_smoke.toml").join(JOURNAL_FILE));
    assert!(soak.contains("\"type\":\"control\""), "the soak's tuning reaches the engine as controls, which the journal holds");
}

#[test]
fn a_parameter_change_diverges_at_a_located_event() {
    let dir = tempfile::tempdir().unwrap();
    let (_, journal) = record("flash_crash.toml", None, dir.path());
    let report = replay(&journal, &["engine.gamma=0.05".to_string()]).unwrap();
    let divergence = report.divergence.as_ref().expect("another risk aversion quotes other prices");
    assert_ne!(divergence.recorded, divergence.replayed);
    assert_eq!(report.agreed_events, divergence.event_number - 1);
    assert!(report.agreed_span_pct() < 100.0);
    assert!(report.intact(), "the journal itself is untouched");
    // The divergence's line holds its event.
    let text = unzip(&journal);
    let line = text.lines().nth(divergence.line as usize - 1).unwrap();
    assert!(line.starts_with(&format!("{{\"t_ns\":{},\"event\":", divergence.t_ns)), "{line}");
    // A change the engine refuses names its flag.
    let refused = replay(&journal, &["engine.inventory_hard_lots=1".to_string()]).unwrap_err().to_string();
    assert!(refused.starts_with("--set engine.inventory_hard_lots=1: "), "{refused}");
    let other = replay(&journal, &["market.volatility_annual=2".to_string()]).unwrap_err().to_string();
    assert!(other.contains("engine parameters only"), "{other}");
    // A profile over the recorded parameters: what differs is listed, flags go on top.
    let profiles = Path::new(env!("CARGO_MANIFEST_DIR")).join("profiles");
    let safe = profiles.join("ultra_safe.toml").display().to_string();
    let report = replay_with(&journal, Some(&safe), &["engine.quote_size_lots=4".to_string()]).unwrap();
    assert!(report.divergence.is_some());
    assert_eq!(report.profile.as_deref(), Some("ultra_safe"));
    assert_eq!(report.changes.get("quote_size_lots"), Some(&drydock_engine::ParamValue::Number(4.0)));
    assert!(report.changes.contains_key("inventory_hard_lots"), "{:?}", report.changes);
    let same = replay_with(&journal, Some(&profiles.join("default.toml").display().to_string()), &[]).unwrap();
    assert!(same.identical() && same.changes.is_empty(), "the recorded run used the default profile: {:?}", same.changes);
    let missing = replay_with(&journal, Some("no_such_profile"), &[]).unwrap_err().to_string();
    assert!(missing.contains("cannot read profile") && missing.contains("no_such_profile"), "{missing}");
}

#[test]
fn cut_short_edited_and_malformed_journals_are_said_to_be() {
    let dir = tempfile::tempdir().unwrap();
    let (_, journal) = record("disconnect_open_orders.toml", None, &dir.path().join("run"));
    let text = unzip(&journal);
    let lines: Vec<&str> = text.lines().collect();

    // Cut short: no end record; what is there still replays.
    let cut = write_plain(dir.path(), "cut.jsonl", &(lines[..lines.len() / 2].join("\n") + "\n"));
    let report = replay(&cut, &[]).unwrap();
    assert!(report.end.is_none() && !report.intact() && report.identical());
    // A gzip stream cut short (its writer killed) reads up to where it stops.
    let bytes = std::fs::read(&journal).unwrap();
    let cut_gz = dir.path().join("cut.jsonl.gz");
    std::fs::write(&cut_gz, &bytes[..bytes.len() / 2]).unwrap();
    let report = replay(&cut_gz, &[]).unwrap();
    assert!(report.end.is_none() && report.events > 0 && report.identical());

    // Edited: a recorded command changed. The records no longer hash to the
    // fingerprint, and the replay parts from the edited record.
    let command = lines.iter().position(|line| line.contains("\"command\":{\"type\":\"place\"")).unwrap();
    let mut edited: Vec<String> = lines.iter().map(|line| line.to_string()).collect();
    edited[command] = edited[command].replacen("\"size_lots\":", "\"size_lots\":1", 1);
    let edited = write_plain(dir.path(), "edited.jsonl", &(edited.join("\n") + "\n"));
    let report = replay(&edited, &[]).unwrap();
    assert!(report.end.is_some() && !report.intact());
    assert!(report.divergence.is_some());

    // Malformed: located errors.
    let huge = "{\"t_ns\":5,\"event\":{\"type\":\"market\",\"kind\":\"trade\",\"price_ticks\":9223372036854775807,\"size_lots\":1,\"aggressor\":\"buy\"}}";
    let fractional = lines[1].replacen("\"t_ns\":", "\"t_ns\":0.5,\"x\":", 1);
    let cases: [(&str, String, &str); 10] = [
        ("fractional.jsonl", format!("{}\n{fractional}\n", lines[0]), ":2:11: invalid type: floating point `0.5`, expected a whole number"),
        ("huge_price.jsonl", format!("{}\n{huge}\n", lines[0]), ":2:1: price_ticks 9223372036854775807 is outside [1, 9007199254740992]"),
        ("other_params.jsonl", lines[0].replace("\"gamma\":", "\"gamma_v0\":") + "\n", "bad header: unknown field `gamma_v0`"),
        ("empty.jsonl", String::new(), "the journal is empty"),
        ("not_journal.jsonl", "{\"format\":\"other\"}\n".to_string(), "not a drydock journal"),
        ("not_json.jsonl", "time,price\n".to_string(), "not a drydock journal: its first line is not JSON"),
        ("port.jsonl", lines[0].replace("\"port_version\":1", "\"port_version\":99") + "\n", "engine port version 99"),
        ("garbage.jsonl", format!("{}\n{}\nnot json\n", lines[0], lines[1]), ":3:"),
        ("orphan.jsonl", format!("{}\n{}\n", lines[0], lines[command]), "does not follow an event"),
        ("after_end.jsonl", format!("{}\n{}\n{}\n", text.trim_end(), lines[1], lines[1]), "after the end record"),
    ];
    for (name, body, expected) in cases {
        let path = write_plain(dir.path(), name, &body);
        let error = replay(&path, &[]).unwrap_err().to_string();
        assert!(error.contains(expected), "{name}: {error}");
        assert!(error.contains(name), "{name}: the error names the file: {error}");
    }
}

/// Every record and line of a journal, then its error if any, read `ahead` or in line.
fn read_all(path: &Path, ahead: bool) -> (Vec<(Record, u64)>, Option<String>) {
    let reader = JournalReader::open(path).unwrap();
    let mut records = if ahead {
        reader.read_ahead()
    } else {
        rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap().install(|| reader.records())
    };
    let mut read = Vec::new();
    loop {
        match records.next_record() {
            Ok(Some(record)) => read.push(record),
            Ok(None) => return (read, None),
            Err(error) => return (read, Some(error.to_string())),
        }
    }
}

#[test]
fn reading_ahead_gives_the_records_and_the_error_reading_in_line_does() {
    let dir = tempfile::tempdir().unwrap();
    let (_, journal) = record("flash_crash.toml", None, &dir.path().join("a"));
    let text = unzip(&journal);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.len() > 50_000, "batches of a few thousand lines: {} lines make many", lines.len());
    // Faults deep in the file, in a later batch than the first.
    let mut bad_json = lines.clone();
    bad_json[40_001] = "{\"t_ns\":";
    let mut out_of_order = lines.clone();
    let event = (30_000..).find(|&index| lines[index].contains("\"event\"")).unwrap();
    let (_, rest) = lines[event].split_once(',').unwrap();
    let at_zero = format!("{{\"t_ns\":0,{rest}");
    out_of_order[event] = &at_zero;
    let mut after_end = lines.clone();
    after_end.push(lines[1]);
    for (name, body) in
        [("intact.jsonl", lines), ("bad_json.jsonl", bad_json), ("out_of_order.jsonl", out_of_order), ("after_end.jsonl", after_end)]
    {
        let path = write_plain(dir.path(), name, &(body.join("\n") + "\n"));
        let (ahead, in_line) = (read_all(&path, true), read_all(&path, false));
        assert_eq!(ahead.1, in_line.1, "{name}: the same error");
        assert!(ahead.0 == in_line.0, "{name}: the same records before it");
        let located = match name {
            "bad_json.jsonl" => ":40002:".to_string(),
            "out_of_order.jsonl" => format!(":{}:1: event at t_ns 0 is earlier", event + 1),
            "after_end.jsonl" => format!(":{}:1: a record after the end record", text.lines().count() + 1),
            _ => String::new(),
        };
        assert_eq!(
            ahead.1.as_ref().map(|error| error.contains(&located)),
            (name != "intact.jsonl").then_some(true),
            "{name}: {:?}",
            ahead.1
        );
    }
}

#[test]
fn two_journals_part_at_their_first_differing_record() {
    let dir = tempfile::tempdir().unwrap();
    let (_, a) = record("flash_crash.toml", None, &dir.path().join("a"));
    let (_, b) = record("flash_crash.toml", None, &dir.path().join("b"));
    let (_, other_seed) = record("flash_crash.toml", Some(7), &dir.path().join("c"));
    let same = diff(&a, &b).unwrap();
    assert!(same.first_difference.is_none() && same.header_differences.is_empty());
    let parted = diff(&a, &other_seed).unwrap();
    assert!(
        parted.header_differences.iter().any(|(name, a, b)| name == "engine.seed" && a == "1005" && b == "7"),
        "{:?}",
        parted.header_differences
    );
    let difference = parted.first_difference.expect("another seed is another market");
    assert_eq!(difference.record_number, parted.common_records + 1);
    assert!(difference.a.is_some() && difference.b.is_some() && difference.a != difference.b);
    // A journal against its own first half: it ends there.
    let text = unzip(&a);
    let half: Vec<&str> = text.lines().take(1_001).collect();
    let cut = write_plain(dir.path(), "half.jsonl", &(half.join("\n") + "\n"));
    let ended = diff(&a, &cut).unwrap().first_difference.unwrap();
    assert_eq!(ended.record_number, 1_001);
    assert!(ended.a.is_some() && ended.b.is_none());
}

fn drydock(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_drydock")).args(args).current_dir(dir).output().expect("the binary runs")
}

#[test]
fn the_journal_commands_exit_zero_one_or_two() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = scenario_path("flash_crash.toml").display().to_string();
    let run = drydock(&["run", &scenario, "--journal", "--out", "a"], dir.path());
    assert_eq!(run.status.code(), Some(0), "{}", String::from_utf8_lossy(&run.stderr));
    assert!(String::from_utf8_lossy(&run.stdout).contains("journal: a/journal.jsonl.gz"));
    let journal = "a/journal.jsonl.gz";
    let identical = drydock(&["journal", "replay", journal], dir.path());
    let stdout = String::from_utf8_lossy(&identical.stdout);
    assert_eq!(identical.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("parity: IDENTICAL") && stdout.contains("integrity: intact"), "{stdout}");
    let changed = drydock(&["journal", "replay", journal, "--set", "engine.gamma=0.05"], dir.path());
    let stdout = String::from_utf8_lossy(&changed.stdout);
    assert_eq!(changed.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("parity: DIVERGED at event") && stdout.contains("with gamma = 0.05"), "{stdout}");
    let refused = drydock(&["journal", "replay", journal, "--set", "engine.gamma=-1"], dir.path());
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--set engine.gamma=-1"));
    let missing = drydock(&["journal", "replay", "nope.jsonl.gz"], dir.path());
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("cannot read journal nope.jsonl.gz"));
    assert_eq!(drydock(&["journal", "diff", journal, journal], dir.path()).status.code(), Some(0));
    let b = drydock(&["run", &scenario, "--journal", "--seed", "7", "--out", "b"], dir.path());
    assert_eq!(b.status.code(), Some(0));
    let parted = drydock(&["journal", "diff", journal, "b/journal.jsonl.gz"], dir.path());
    let stdout = String::from_utf8_lossy(&parted.stdout);
    assert_eq!(parted.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("engine.seed: 1005 (a), 7 (b)") && stdout.contains("differs"), "{stdout}");
    // A run folder stands for its journal.
    let folders = drydock(&["journal", "diff", "a", "b"], dir.path());
    assert_eq!(folders.status.code(), Some(1), "{}", String::from_utf8_lossy(&folders.stderr));
    assert!(String::from_utf8_lossy(&folders.stdout).contains("engine.seed: 1005 (a), 7 (b)"));
    assert_eq!(drydock(&["journal", "replay", "a"], dir.path()).status.code(), Some(0));
    let no_journal = drydock(&["journal", "replay", "."], dir.path());
    assert_eq!(no_journal.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&no_journal.stderr).contains("or the run folder holding it"));
    // Without --journal there is none, and a run into a folder that holds an earlier
    // run's journal removes it (the folder never mixes runs).
    let plain = drydock(&["run", &scenario, "--out", "c"], dir.path());
    assert_eq!(plain.status.code(), Some(0));
    assert!(!dir.path().join("c").join(JOURNAL_FILE).exists());
    assert!(dir.path().join("b").join(JOURNAL_FILE).exists());
    // An interrupted run's half-written journal goes with it.
    let half_written = dir.path().join("b").join(format!("{JOURNAL_FILE}.tmp"));
    std::fs::write(&half_written, b"cut off").unwrap();
    let over = drydock(&["run", &scenario, "--out", "b"], dir.path());
    assert_eq!(over.status.code(), Some(0));
    assert!(!dir.path().join("b").join(JOURNAL_FILE).exists(), "the seed-7 journal no longer sits beside this run's report");
    assert!(!half_written.exists(), "nor an interrupted run's temporary");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// A journal with one line replaced by hostile text, or dropped, reads as records
    /// or stops at a located error; never a panic.
    #[test]
    fn a_hostile_journal_line_is_an_error_or_records_never_a_panic(
        line in 0usize..40,
        hostile in prop::sample::select(vec![
            "", "{}", "null", "[]", "{\"t_ns\":-1,\"event\":{\"type\":\"timer\",\"timer_id\":1}}",
            "{\"t_ns\":1e300,\"event\":{}}", "{\"end\":{\"events\":0,\"commands\":0,\"fingerprint\":\"x\"}}",
            "{\"t_ns\":5,\"command\":{\"type\":\"cancel\",\"order_id\":18446744073709551615}}",
            "{\"t_ns\":5,\"event\":{\"type\":\"market\",\"kind\":\"delta\",\"updates\":[{\"side\":\"up\"}]}}",
            "\u{0}\u{1}", "{\"format\":\"drydock-journal\",\"format_version\":1}", "DROP",
        ]),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let source = journal_lines();
        let mut lines: Vec<&str> = source.lines().collect();
        let index = line.min(lines.len() - 1);
        if hostile == "DROP" { lines.remove(index); } else { lines[index] = hostile; }
        let path = write_plain(dir.path(), "hostile.jsonl", &(lines.join("\n") + "\n"));
        let outcome = std::panic::catch_unwind(|| {
            if let Ok(mut reader) = JournalReader::open(&path) {
                while let Ok(Some(record)) = reader.next_record() {
                    if let Record::End(_) = record { break; }
                }
            }
            let _ = replay(&path, &[]);
        });
        prop_assert!(outcome.is_ok(), "line {index} set to {hostile:?} panicked");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// A header with one setting made hostile (the engine's setup among them) is an
    /// error or a replay; never a panic.
    #[test]
    fn a_hostile_header_setting_is_an_error_or_a_replay_never_a_panic(
        leaf in any::<prop::sample::Index>(),
        hostile in prop::sample::select(vec![
            "0", "-1", "1e308", "-1e308", "1e-320", "9007199254740993", "18446744073709551615", "\"x\"", "null", "true", "[]", "{}",
        ]),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let source = journal_lines();
        let mut lines: Vec<String> = source.lines().map(str::to_string).collect();
        let mut header: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
        let mut leaves = Vec::new();
        leaf_paths(&header, String::new(), &mut leaves);
        let path = leaf.get(&leaves).clone();
        *header.pointer_mut(&path).unwrap() = serde_json::from_str(hostile).unwrap();
        lines[0] = header.to_string();
        let journal = write_plain(dir.path(), "hostile.jsonl", &(lines.join("\n") + "\n"));
        let outcome = std::panic::catch_unwind(|| {
            let _ = replay(&journal, &[]);
            let _ = replay(&journal, &["engine.gamma=0.5".to_string()]);
        });
        prop_assert!(outcome.is_ok(), "{path} set to {hostile} panicked");
    }
}

/// JSON pointers to every leaf of `value`.
fn leaf_paths(value: &serde_json::Value, at: String, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(fields) => fields.iter().for_each(|(name, field)| leaf_paths(field, format!("{at}/{name}"), out)),
        serde_json::Value::Array(items) => {
            items.iter().enumerate().for_each(|(index, item)| leaf_paths(item, format!("{at}/{index}"), out))
        }
        _ => out.push(at),
    }
}

/// The first 40 lines of a short run's journal, recorded once per test process.
fn journal_lines() -> String {
    static LINES: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    LINES
        .get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let (_, journal) = record("disconnect_open_orders.toml", None, dir.path());
            unzip(&journal).lines().take(40).collect::<Vec<_>>().join("\n")
        })
        .clone()
}
