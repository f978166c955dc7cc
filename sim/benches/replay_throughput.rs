//! Replay throughput on the real BTCUSDT recording (from `DRYDOCK_DATA_DIR`, default
//! `../shared/data`): book events (level updates and trades) per second
//! - from the raw recording: gzip, JSON, exact decimals, sequencing into a tape;
//! - from the converted tape (`.ddtape`): decoding alone, and decoding into a plain
//!   L2 book (an ordered map of levels);
//! - from the converted tape into the mock exchange: decoding plus every level and
//!   trade applied to the venue's book (what a replay run does before the engine).
//!
//! Without the recording it says so and measures nothing.

use std::path::PathBuf;
use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use drydock_engine::Instrument;
use drydock_sim::exchange::{BpsFees, ExchangeOutput, MockExchange};
use drydock_sim::replay::book::GapPolicy;
use drydock_sim::replay::decimal::Grid;
use drydock_sim::replay::driver::ReplayDriver;
use drydock_sim::replay::tape::{ReplayClock, ReplayTape, TapeEvent, TapeOptions};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn recording() -> Option<PathBuf> {
    let dir = std::env::var_os("DRYDOCK_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data"));
    let path = dir.join("binance_spot_btcusdt_20240808.gz");
    if path.exists() {
        Some(path)
    } else {
        eprintln!("SKIPPED replay benchmarks: no recording at {} (set DRYDOCK_DATA_DIR)", path.display());
        None
    }
}

fn book_events(tape: &ReplayTape) -> u64 {
    let stats = &tape.header().stats;
    stats.level_updates + stats.trades
}

fn replay(c: &mut Criterion) {
    let Some(path) = recording() else { return };
    let options =
        TapeOptions { format: None, clock: ReplayClock::Exchange, offset_ns: 0, gap_policy: GapPolicy::Stop, skip_bad_lines: false };
    let (tick, lot) = (Grid::parse("0.01").unwrap(), Grid::parse("0.00000001").unwrap());
    let load = || ReplayTape::load(std::slice::from_ref(&path), &options, tick, lot).expect("the recording loads");
    let tape = load();
    let mut bytes = Vec::new();
    tape.write_to(&mut bytes).unwrap();
    let events = book_events(&tape);
    let mut group = c.benchmark_group("replay_btcusdt");
    group.throughput(Throughput::Elements(events));
    group.sample_size(10);
    group.bench_function("raw_gzip_json_to_tape", |b| b.iter(load));
    group.sample_size(30);
    group.bench_function("converted_decode", |b| b.iter(|| ReplayTape::decode(&bytes).unwrap()));
    group.bench_function("converted_decode_into_l2_book", |b| {
        b.iter(|| {
            let tape = ReplayTape::decode(&bytes).unwrap();
            let mut book: std::collections::BTreeMap<(drydock_engine::Side, i64), i64> = std::collections::BTreeMap::new();
            let mut traded = 0i64;
            for event in tape.events() {
                match event {
                    TapeEvent::Book { levels, .. } | TapeEvent::Depth { levels, .. } => {
                        if matches!(event, TapeEvent::Book { .. }) {
                            book.clear();
                        }
                        for level in tape.levels(levels) {
                            if level.size_lots > 0 {
                                book.insert((level.side, level.price_ticks), level.size_lots);
                            } else {
                                book.remove(&(level.side, level.price_ticks));
                            }
                        }
                    }
                    TapeEvent::Trade { size_lots, .. } => traded += size_lots,
                }
            }
            (book.len(), traded)
        })
    });
    group.bench_function("converted_decode_into_exchange", |b| {
        b.iter(|| {
            let tape = Arc::new(ReplayTape::decode(&bytes).unwrap());
            let instrument = Instrument { tick_size: 0.01, lot_size: 0.00000001, ..Instrument::default() };
            let mut exchange = MockExchange::new(instrument, BpsFees { maker_bps: 0.0, taker_bps: 0.0 }, 50, ChaCha8Rng::seed_from_u64(1));
            let mut driver = ReplayDriver::new(tape, &[]);
            let mut out = ExchangeOutput::default();
            while let Some(time_ns) = driver.next_time_ns() {
                driver.apply_due(time_ns, &mut exchange, &mut out);
                out.updates.clear();
                out.trades.clear();
            }
            exchange.book().mid_ticks()
        })
    });
    group.finish();
}

criterion_group!(benches, replay);
criterion_main!(benches);
