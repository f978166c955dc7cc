//! Bad input never panics (property): bundled scenarios with one setting replaced by
//! a hostile value, or one line dropped, either load with a located error or load
//! and simulate their first seconds; bundled sweep files so mutated either load with
//! a located error or load and lay out their plan; bundled profiles so mutated, the
//! same under a scenario; bundled gate files so mutated either load with a located
//! error or load with what each check needs; settings at the edges of their ranges
//! that once broke a run run whole scenarios. Assertions are for our bugs, not for
//! input.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use drydock::gate::{CheckKind, Gate};
use drydock::sweep::spec::{MAX_PLANNED_RUNS, Sweep};
use drydock::{LoadOptions, Scenario};
use drydock_engine::units::NANOS_PER_S;
use drydock_sim::{Discard, RunOptions, Simulation};
use proptest::prelude::*;

/// Values no setting should accept silently or choke on.
const HOSTILE: [&str; 16] = [
    "0",
    "-1",
    "1e300",
    "-1e300",
    "1e-300",
    "nan",
    "inf",
    "9223372036854775807",
    "-9223372036854775808",
    "0.5",
    "\"\"",
    "\"x\"",
    "true",
    "[]",
    "{}",
    "[1, \"a\"]",
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

/// Bundled scenarios that need no recording (replays are covered where data exists).
fn scenarios() -> Vec<(PathBuf, String)> {
    toml_files("scenarios")
}

/// The `.toml` files directly in `folder`, sorted, with their text.
fn toml_files(folder: &str) -> Vec<(PathBuf, String)> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(root().join(folder))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "toml"))
        .collect();
    paths.sort();
    paths.into_iter().map(|path| (path.clone(), std::fs::read_to_string(&path).unwrap())).collect()
}

/// `text` with line `line` (of the `key = value` lines) given `value`, or dropped.
fn mutate(text: &str, line: usize, value: Option<&str>) -> String {
    let settings: Vec<usize> = text
        .lines()
        .enumerate()
        .filter(|(_, text)| !text.trim_start().starts_with('#') && text.contains('='))
        .map(|(index, _)| index)
        .collect();
    let target = settings[line % settings.len()];
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    match value {
        Some(value) => {
            let key = lines[target].split('=').next().unwrap().to_string();
            lines[target] = format!("{key}= {value}");
        }
        None => lines[target].clear(),
    }
    lines.join("\n")
}

/// `text` mutated and written under its file name into `folder` (a file others resolve).
fn mutated_copy(folder: &Path, path: &Path, text: &str, line: usize, value: Option<&str>) -> PathBuf {
    let copy = folder.join(path.file_name().unwrap());
    std::fs::write(&copy, mutate(text, line, value)).unwrap();
    copy
}

/// Runs `action` on a copy of one of `folder`'s files (picked by `index`) with line
/// `line` given `value`; the error says which file and change panicked.
fn with_mutated_copy(
    folder: &str,
    index: prop::sample::Index,
    line: usize,
    value: Option<&str>,
    action: impl FnOnce(&Path),
) -> Result<(), String> {
    let files = toml_files(folder);
    let (path, text) = index.get(&files);
    let scratch = tempfile::tempdir().unwrap();
    let copy = mutated_copy(scratch.path(), path, text, line, value);
    catch_unwind(AssertUnwindSafe(|| action(&copy))).map_err(|_| format!("{} with line {line} set to {value:?} panicked", path.display()))
}

/// Loads `text` and, when it loads, simulates up to its first two seconds; else
/// returns the error's text.
fn load_and_start(path: &Path, text: &str) -> Option<String> {
    let options = LoadOptions { profiles_dir: Some(root().join("profiles")), ..LoadOptions::default() };
    match Scenario::parse(path, text, &options) {
        Ok(scenario) => {
            start(&scenario);
            None
        }
        Err(error) => Some(error.to_string()),
    }
}

/// The Rust type a message names where its reader wants the values allowed.
fn rust_type_named(message: &str) -> Option<&'static str> {
    ["u8", "u16", "u32", "u64", "usize", "i8", "i16", "i32", "i64", "f64"]
        .into_iter()
        .find(|rust_type| message.ends_with(&format!("expected {rust_type}")) || message.contains(&format!("expected {rust_type},")))
}

/// Builds the scenario's simulation and runs up to its first two seconds.
fn start(scenario: &Scenario) {
    simulate_for(scenario, scenario.sim.duration_s.min(2.0));
}

/// Builds the scenario's simulation and runs its first `seconds`.
fn simulate_for(scenario: &Scenario, seconds: f64) {
    let end_ns = (seconds * NANOS_PER_S as f64) as i64;
    let mut simulation =
        Simulation::new(&scenario.sim, scenario.params.clone(), &scenario.profile, RunOptions::for_duration(scenario.sim.duration_s))
            .expect("a scenario that loads builds its simulation");
    simulation.run_until(end_ns, &mut Discard);
}

/// A hostile value, or (one time in ten) none: the line is dropped.
fn hostile_or_dropped() -> impl Strategy<Value = Option<&'static str>> {
    prop::option::weighted(0.9, prop::sample::select(HOSTILE.to_vec()))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn a_hostile_setting_is_an_error_or_a_run_never_a_panic(
        scenario in any::<prop::sample::Index>(),
        line in 0usize..400,
        value in hostile_or_dropped(),
    ) {
        let scenarios = scenarios();
        let (path, text) = scenario.get(&scenarios);
        let mutated = mutate(text, line, value);
        let outcome = catch_unwind(AssertUnwindSafe(|| load_and_start(path, &mutated)));
        prop_assert!(outcome.is_ok(), "{} with line {line} set to {value:?} panicked", path.display());
        if let Ok(Some(message)) = outcome {
            prop_assert!(rust_type_named(&message).is_none(), "{message}: say which numbers are allowed, not the Rust type");
        }
    }

    #[test]
    fn a_hostile_profile_setting_is_an_error_or_a_run_never_a_panic(
        profile in any::<prop::sample::Index>(),
        line in 0usize..100,
        value in hostile_or_dropped(),
    ) {
        let outcome = with_mutated_copy("profiles", profile, line, value, |copy| {
            let options = LoadOptions { profile: Some(copy.display().to_string()), ..LoadOptions::default() };
            if let Ok(scenario) = Scenario::load(&root().join("scenarios/calm.toml"), &options) {
                start(&scenario);
            }
        });
        prop_assert!(outcome.is_ok(), "{}", outcome.unwrap_err());
    }

    #[test]
    fn a_hostile_gate_setting_is_an_error_or_a_gate_never_a_panic(
        gate in any::<prop::sample::Index>(),
        line in 0usize..100,
        value in hostile_or_dropped(),
    ) {
        // The copy lives elsewhere: its paths up to the repository are made absolute.
        let files = toml_files("gates");
        let (path, text) = gate.get(&files);
        let text = text.replace("\"../", &format!("\"{}/", root().display()));
        let scratch = tempfile::tempdir().unwrap();
        let copy = mutated_copy(scratch.path(), path, &text, line, value);
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            if let Ok(gate) = Gate::load(&copy) {
                for (check, scenarios) in gate.file.checks.iter().zip(&gate.scenario_paths) {
                    match check.kind {
                        CheckKind::Golden | CheckKind::Seeds => assert!(!scenarios.is_empty() && scenarios.iter().all(|path| path.is_file())),
                        CheckKind::Compare => assert!(check.baseline.is_some() && check.candidate.is_some()),
                        CheckKind::Parity => assert!(!check.journals.is_empty()),
                    }
                    assert_eq!(check.kind == CheckKind::Seeds, check.seeds.is_some_and(|seeds| seeds >= 1));
                }
            }
        }));
        prop_assert!(outcome.is_ok(), "{} with line {line} set to {value:?} panicked", path.display());
    }

    #[test]
    fn a_hostile_sweep_setting_is_an_error_or_a_plan_never_a_panic(
        sweep in any::<prop::sample::Index>(),
        line in 0usize..100,
        value in hostile_or_dropped(),
    ) {
        let outcome = with_mutated_copy("sweeps", sweep, line, value, |copy| {
            if let Ok(sweep) = Sweep::load(copy) {
                let points = sweep.points();
                assert!(points.len() as u64 <= MAX_PLANNED_RUNS);
            }
        });
        prop_assert!(outcome.is_ok(), "{}", outcome.unwrap_err());
    }
}

/// Settings at the edges of what they allow, each of which once broke a whole run
/// (found by running every bundled scenario with each setting at such values): the
/// scenario runs to its end. A market-order rate of 1e-12 a second, multiplied in a
/// flash crash, put the next arrival past the last representable nanosecond.
#[test]
fn settings_at_the_edges_of_their_range_run_a_whole_scenario() {
    let cases = [("flash_crash.toml", "market.market_rate_per_s=1e-12")];
    for (file, setting) in cases {
        let options =
            LoadOptions { overrides: vec![setting.to_string()], profiles_dir: Some(root().join("profiles")), ..LoadOptions::default() };
        let scenario = Scenario::load(&root().join("scenarios").join(file), &options).unwrap();
        let outcome = catch_unwind(AssertUnwindSafe(|| simulate_for(&scenario, scenario.sim.duration_s)));
        assert!(outcome.is_ok(), "{file} with {setting} panicked");
    }
}
