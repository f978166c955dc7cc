//! Journal throughput: writing a run's journal (the 15-minute `flash_crash`
//! scenario run with and without `--journal`, so the difference is the journal's
//! cost) and replaying it into the engine (shadow parity, with the integrity
//! check). Reported per journal record (event or command).

use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use drydock::journal::parity::replay;
use drydock::{LoadOptions, RunFlags, Scenario, run_scenario_with};

fn bench(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let scratch = tempfile::tempdir().expect("a scratch folder");
    let scenario = Scenario::load(&root.join("scenarios/flash_crash.toml"), &LoadOptions::default()).expect("the bundled scenario");
    let flags = RunFlags { journal: true, ..RunFlags::default() };
    let recorded = run_scenario_with(&scenario, &scratch.path().join("recorded"), flags).expect("the scenario runs");
    let journal = recorded.journal.expect("a journal was asked for");
    let records = replay(&journal, &[]).map(|report| report.events + report.recorded_commands).expect("the journal replays");

    let mut group = c.benchmark_group("journal");
    group.throughput(Throughput::Elements(records));
    group.sample_size(10);
    for (name, journal) in [("run_without_journal", false), ("run_with_journal", true)] {
        group.bench_function(name, |bencher| {
            let out = scratch.path().join(name);
            bencher.iter(|| run_scenario_with(&scenario, &out, RunFlags { journal, ..RunFlags::default() }).expect("the scenario runs"))
        });
    }
    group.bench_function("replay", |bencher| bencher.iter(|| replay(&journal, &[]).expect("the journal replays")));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
