//! Golden snapshots: one per scenario in `golden/`, walked in sorted order and
//! asserted with insta, so `cargo insta test` and `cargo insta review` are the
//! review flow (and `drydock check` / `drydock bless` use the same files). With
//! `CI=true` insta writes nothing and a changed output fails. A golden with no
//! scenario fails too. Every scenario also runs on one thread and on several, and
//! the fingerprints must agree.

use std::path::{Path, PathBuf};

use drydock::check::catalogue;
use drydock::golden::snapshot_text;
use drydock::{LoadOptions, Scenario, run_scenario};
use rayon::prelude::*;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn scenarios() -> Vec<PathBuf> {
    catalogue(&root().join("scenarios")).expect("scenarios/ exists")
}

fn load(path: &Path) -> Scenario {
    let options = LoadOptions { profiles_dir: Some(root().join("profiles")), ..LoadOptions::default() };
    Scenario::load(path, &options).unwrap_or_else(|error| panic!("{error}"))
}

/// Runs a scenario into a scratch folder; returns its snapshot text and fingerprint.
fn snapshot(path: &Path) -> (String, String, String) {
    let scenario = load(path);
    let scratch = tempfile::tempdir().unwrap();
    let result = run_scenario(&scenario, scratch.path(), false).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    (scenario.header.name.clone(), snapshot_text(&scenario, &result.report, &result.iterations), result.report.fingerprint)
}

#[test]
fn every_scenario_matches_its_golden_snapshot() {
    let results: Vec<(String, String, String)> = scenarios().par_iter().map(|path| snapshot(path)).collect();
    for (name, text, _) in results {
        insta::with_settings!({snapshot_path => "../golden", prepend_module_to_snapshot => false, omit_expression => true}, {
            insta::assert_snapshot!(name.as_str(), text.trim_end_matches('\n'));
        });
    }
}

#[test]
fn no_golden_lacks_its_scenario() {
    let names: Vec<String> = scenarios().iter().map(|path| load(path).header.name).collect();
    let mut unreferenced = Vec::new();
    for entry in std::fs::read_dir(root().join("golden")).expect("golden/ exists") {
        let path = entry.unwrap().path();
        let file = path.file_name().unwrap().to_string_lossy().to_string();
        match file.strip_suffix(".snap") {
            Some(stem) if names.iter().any(|name| name == stem) => {}
            _ => unreferenced.push(file),
        }
    }
    assert!(unreferenced.is_empty(), "golden files without a scenario (pending or unreferenced): {unreferenced:?}");
}

#[test]
fn fingerprints_agree_on_one_thread_and_on_many() {
    let paths = scenarios();
    let on = |threads: usize| -> Vec<(String, String)> {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| paths.par_iter().map(|path| snapshot(path)).map(|(name, _, fingerprint)| (name, fingerprint)).collect())
    };
    let single = on(1);
    let many = on(4);
    for ((name, one), (_, other)) in single.iter().zip(&many) {
        if one != other {
            // Locate the first differing record for the report.
            let scenario = load(&paths[single.iter().position(|(n, _)| n == name).unwrap()]);
            let out = tempfile::tempdir().unwrap();
            let verification = run_scenario(&scenario, out.path(), true).unwrap().verification;
            panic!("{name}: fingerprint {one} on one thread, {other} on four; {verification:?}");
        }
    }
}
