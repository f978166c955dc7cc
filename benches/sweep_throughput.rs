//! Sweep throughput: 240 runs of the Avellaneda–Stoikov (2008) scenario (γ × both
//! strategies × 40 seeds) on 1 and on 2 threads. Reported per run; parallel
//! efficiency is time(1 thread) / (2 × time(2 threads)).

use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use drydock::sweep::{run_sweep, spec::Sweep};

fn bench(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let scratch = tempfile::tempdir().expect("a scratch folder");
    let text = std::fs::read_to_string(root.join("sweeps/avellaneda_stoikov_2008.toml"))
        .expect("the bundled sweep")
        .replace("seeds_per_point = 1000", "seeds_per_point = 40");
    let sweep_path = root.join("sweeps").join(format!("bench-{}.toml", std::process::id()));
    std::fs::write(&sweep_path, text).expect("a temporary sweep file beside the bundled one");
    let sweep = Sweep::load(&sweep_path);
    let _ = std::fs::remove_file(&sweep_path);
    let sweep = sweep.expect("a valid sweep");
    let mut group = c.benchmark_group("sweep_as2008");
    group.throughput(Throughput::Elements(240));
    group.sample_size(10);
    for jobs in [1usize, 2] {
        group.bench_function(format!("{jobs}_jobs"), |bencher| {
            bencher.iter(|| {
                let out = scratch.path().join(format!("run-{jobs}"));
                let _ = std::fs::remove_dir_all(&out);
                run_sweep(&sweep, &out, jobs, None, Some(&root.join("profiles"))).expect("the sweep runs")
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
