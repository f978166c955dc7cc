//! Replay readers and book reconstruction against the real recordings in
//! `../shared/data` (or the folder named by `DRYDOCK_DATA_DIR`). When the data is
//! absent the tests say so loudly on stderr and check nothing else.

use std::io::Write;
use std::path::{Path, PathBuf};

use drydock_engine::Side;
use drydock_sim::replay::binance::BinanceReader;
use drydock_sim::replay::book::{BookBuilder, GapPolicy};
use drydock_sim::replay::decimal::Grid;
use drydock_sim::replay::{Recorded, RecordedEvent};

fn data_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("DRYDOCK_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data"));
    if dir.join("binance_spot_btcusdt_20240808.gz").exists() {
        return Some(dir);
    }
    // Past the test harness's capture: this must be seen.
    let _ = writeln!(std::io::stderr(), "SKIPPED replay data tests: no recordings in {} (set DRYDOCK_DATA_DIR)", dir.display());
    None
}

fn btcusdt(dir: &Path) -> (Vec<RecordedEvent>, PathBuf) {
    let path = dir.join("binance_spot_btcusdt_20240808.gz");
    let reader = BinanceReader::open_binance(&path, Grid::parse("0.01").unwrap(), Grid::parse("0.00000001").unwrap()).unwrap();
    (reader.collect::<Result<Vec<_>, _>>().unwrap_or_else(|error| panic!("{error}")), path)
}

#[test]
fn btcusdt_reconstructs_without_gaps_and_the_mid_matches() {
    let Some(dir) = data_dir() else { return };
    let (events, path) = btcusdt(&dir);
    let count = |kind: fn(&Recorded) -> bool| events.iter().filter(|event| kind(&event.message)).count();
    assert_eq!(count(|message| matches!(message, Recorded::Snapshot { .. })), 1);
    assert_eq!(count(|message| matches!(message, Recorded::Depth { .. })), 3_451);
    assert_eq!(count(|message| matches!(message, Recorded::Trade { .. })), 9_757);
    assert_eq!(count(|message| matches!(message, Recorded::BestBidOffer { .. })), 28_040);
    let mut builder = BookBuilder::new(GapPolicy::Stop);
    let (mut first_mid, mut last_mid, mut low, mut high) = (None, 0.0, f64::MAX, f64::MIN);
    for event in &events {
        let changed = builder.apply(&path, event).unwrap_or_else(|error| panic!("{error}"));
        if changed && let Some(mid) = builder.mid_ticks() {
            let mid = mid / 100.0;
            first_mid.get_or_insert(mid);
            last_mid = mid;
            low = low.min(mid);
            high = high.max(mid);
        }
    }
    let stats = builder.stats();
    assert_eq!(stats.diffs_applied, 3_449, "{stats:?}");
    assert_eq!(stats.gaps, 0);
    assert!((first_mid.unwrap() - 61_837.635).abs() < 1e-6, "first mid {first_mid:?}");
    assert!((last_mid - 61_685.995).abs() < 1e-6, "last mid {last_mid}");
    assert!((low - 61_600.455).abs() < 1e-6 && (high - 61_860.795).abs() < 1e-6, "range {low} .. {high}");
}

#[test]
fn a_missing_diff_is_a_gap_with_its_ids_or_a_resync() {
    let Some(dir) = data_dir() else { return };
    let (mut events, path) = btcusdt(&dir);
    let snapshot = events.iter().position(|event| matches!(event.message, Recorded::Snapshot { .. })).unwrap();
    let victim =
        events.iter().enumerate().skip(snapshot).filter(|(_, event)| matches!(event.message, Recorded::Depth { .. })).nth(100).unwrap().0;
    events.remove(victim);
    let mut stop = BookBuilder::new(GapPolicy::Stop);
    let error = events.iter().try_for_each(|event| stop.apply(&path, event).map(|_| ())).unwrap_err().to_string();
    assert!(
        error.contains("gap in depth updates") && error.contains("expected update id") && error.contains("btcusdt_20240808.gz:"),
        "{error}"
    );
    let mut resync = BookBuilder::new(GapPolicy::Resync);
    for event in &events {
        resync.apply(&path, event).unwrap();
    }
    assert_eq!(resync.stats().gaps, 1);
    assert!(!resync.is_synced(), "no later snapshot in this file: waiting for one");
}

#[test]
fn bybit_chains_with_a_one_tick_spread() {
    let Some(dir) = data_dir() else { return };
    let path = dir.join("bybit_linear_xrpusdt_ob500_20241201.jsonl");
    let reader =
        drydock_sim::replay::bybit::BybitReader::open_bybit(&path, Grid::parse("0.0001").unwrap(), Grid::parse("1").unwrap()).unwrap();
    let events: Vec<RecordedEvent> = reader.collect::<Result<_, _>>().unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(events.len(), 50, "a snapshot and 49 deltas");
    let mut builder = BookBuilder::new(GapPolicy::Stop);
    for event in &events {
        builder.apply(&path, event).unwrap_or_else(|error| panic!("{error}"));
        let ((bid, _), (ask, _)) = builder.touch().expect("two-sided");
        assert_eq!(ask - bid, 1, "one tick at line {}", event.line);
    }
    assert_eq!(builder.stats().diffs_applied, 49);
}

#[test]
fn tdepth_csvs_parse() {
    let Some(dir) = data_dir() else { return };
    let (tick, lot) = (Grid::parse("0.1").unwrap(), Grid::parse("0.001").unwrap());
    let snapshot = drydock_sim::replay::tdepth::read_tdepth(&dir.join("binance_usdm_btcusdt_tdepth_snap_20221101.csv"), tick, lot).unwrap();
    assert_eq!(snapshot.len(), 1);
    let Recorded::Snapshot { bids, asks, .. } = &snapshot[0].message else { panic!("a snapshot") };
    assert!(!bids.is_empty() && asks.is_empty(), "bids only, as the data README says");
    let update = drydock_sim::replay::tdepth::read_tdepth(&dir.join("binance_usdm_btcusdt_tdepth_update_20221101.csv"), tick, lot).unwrap();
    assert_eq!(update.len(), 1, "one diff message");
    let Recorded::Depth { bids, asks, previous_update_id, .. } = &update[0].message else { panic!("a diff") };
    assert_eq!((asks.len(), bids.len()), (77, 23));
    assert!(previous_update_id.is_some());
}

#[test]
fn malformed_lines_name_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.jsonl");
    std::fs::write(
        &path,
        "1 {\"lastUpdateId\":5,\"bids\":[[\"100.00\",\"1.0\"]],\"asks\":[[\"100.01\",\"1.0\"]]}\n2 {\"stream\":\"x\",\"data\":{\"e\":\"trade\",\"E\":1,\"p\":\"-5.00\",\"q\":\"1\",\"T\":1,\"m\":true}}\n",
    )
    .unwrap();
    let reader = BinanceReader::open_binance(&path, Grid::parse("0.01").unwrap(), Grid::parse("0.1").unwrap()).unwrap();
    let error = reader.collect::<Result<Vec<_>, _>>().unwrap_err().to_string();
    assert!(error.contains("bad.jsonl:2:") && error.contains("-5.00"), "{error}");
}

/// Times that are not nanoseconds since the epoch in i64 (negative, or a
/// millisecond stamp that overflows when scaled) are located errors in every text
/// format, never a wrapped time.
#[test]
fn out_of_range_times_are_located_errors_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let (tick, lot) = (Grid::parse("0.01").unwrap(), Grid::parse("0.1").unwrap());
    let trade = |local: &str, trade_ms: &str| {
        format!(
            "{local} {{\"stream\":\"x\",\"data\":{{\"e\":\"trade\",\"E\":1,\"p\":\"5.00\",\"q\":\"1\",\"T\":{trade_ms},\"m\":true}}}}\n"
        )
    };
    let bybit = |ts: &str| {
        format!("{{\"topic\":\"orderbook.1.X\",\"type\":\"snapshot\",\"ts\":{ts},\"data\":{{\"s\":\"X\",\"b\":[],\"a\":[],\"u\":1}}}}\n")
    };
    let tdepth = |timestamp: &str| {
        format!("symbol,timestamp,first_update_id,last_update_id,side,update_type,price,qty,pu\nX,{timestamp},1,1,b,snap,5.00,1.0,-1\n")
    };
    let cases = [
        ("binance", trade("-1", "1"), "`local time` = -1 ns"),
        ("binance", trade("1", "99999999999999999"), "`T` = 99999999999999999 ms"),
        ("bybit", bybit("-7"), "`ts` = -7 ms"),
        ("bybit", bybit("9300000000000000"), "`ts` = 9300000000000000 ms"),
        ("tdepth", tdepth("99999999999999999"), "`timestamp` = 99999999999999999 ms"),
        ("csv", "time_ns,kind,side,price,quantity\n-3,trade,buy,5.00,1\n".to_string(), "`time_ns` = -3 ns"),
    ];
    for (index, (format, text, expected)) in cases.iter().enumerate() {
        let path = dir.path().join(format!("case{index}.txt"));
        std::fs::write(&path, text).unwrap();
        let error = match *format {
            "binance" => BinanceReader::open_binance(&path, tick, lot).unwrap().collect::<Result<Vec<_>, _>>().map(|_| ()),
            "bybit" => {
                drydock_sim::replay::bybit::BybitReader::open_bybit(&path, tick, lot).unwrap().collect::<Result<Vec<_>, _>>().map(|_| ())
            }
            "tdepth" => drydock_sim::replay::tdepth::read_tdepth(&path, tick, lot).map(|_| ()),
            _ => drydock_sim::replay::generic_csv::read_generic_csv(&path, tick, lot).map(|_| ()),
        }
        .unwrap_err()
        .to_string();
        let line = if *format == "binance" || *format == "bybit" { ":1:" } else { ":2:" };
        assert!(error.contains(line) && error.contains(expected) && error.contains("from 1970 to 2255"), "{format}: {error}");
    }
}

#[test]
fn zstd_and_gzip_recordings_read_the_same_as_plain_ones() {
    let Some(dir) = data_dir() else { return };
    let (plain, _) = btcusdt(&dir);
    let mut text = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::MultiGzDecoder::new(std::fs::File::open(dir.join("binance_spot_btcusdt_20240808.gz")).unwrap()),
        &mut text,
    )
    .unwrap();
    let temp = tempfile::tempdir().unwrap();
    // Two zstd frames, split at a line boundary: multi-frame files decode whole.
    let middle = text[..text.len() / 2].iter().rposition(|byte| *byte == b'\n').unwrap() + 1;
    let mut compressed = ruzstd::encoding::compress_to_vec(&text[..middle], ruzstd::encoding::CompressionLevel::Fastest);
    compressed.extend(ruzstd::encoding::compress_to_vec(&text[middle..], ruzstd::encoding::CompressionLevel::Fastest));
    let zstd_path = temp.path().join("btcusdt.zst");
    std::fs::write(&zstd_path, compressed).unwrap();
    let (tick, lot) = (Grid::parse("0.01").unwrap(), Grid::parse("0.00000001").unwrap());
    let from_zstd = BinanceReader::open_binance(&zstd_path, tick, lot).unwrap().collect::<Result<Vec<_>, _>>().unwrap();
    assert_eq!(from_zstd, plain);

    let csv_path = dir.join("binance_usdm_btcusdt_tdepth_update_20221101.csv");
    let gzip_path = temp.path().join("update.csv.gz");
    let mut encoder = flate2::write::GzEncoder::new(std::fs::File::create(&gzip_path).unwrap(), flate2::Compression::default());
    encoder.write_all(&std::fs::read(&csv_path).unwrap()).unwrap();
    encoder.finish().unwrap();
    let (tick, lot) = (Grid::parse("0.1").unwrap(), Grid::parse("0.001").unwrap());
    let read = |path: &Path| drydock_sim::replay::tdepth::read_tdepth(path, tick, lot).unwrap();
    assert_eq!(read(&gzip_path), read(&csv_path));
}

/// The BTCUSDT session written in hftbacktest's layout (`.npy`, and `.npz` holding
/// `data.npy`) reads back to the same book and trades.
#[test]
fn hftbacktest_npy_and_npz_replay_the_same_session() {
    use drydock_sim::replay::hftbacktest::{BUY_EVENT, EXCH_EVENT, HftEvent, LOCAL_EVENT, SELL_EVENT, write_npy};
    use drydock_sim::replay::tape::{ReplayClock, ReplayTape, TapeEvent, TapeOptions};
    let Some(dir) = data_dir() else { return };
    let (tick, lot) = (Grid::parse("0.01").unwrap(), Grid::parse("0.00000001").unwrap());
    let options =
        TapeOptions { format: None, clock: ReplayClock::Exchange, offset_ns: 0, gap_policy: GapPolicy::Stop, skip_bad_lines: false };
    let tape = ReplayTape::load(&[dir.join("binance_spot_btcusdt_20240808.gz")], &options, tick, lot).unwrap();
    let flags = |side: Side| EXCH_EVENT | LOCAL_EVENT | if side == Side::Buy { BUY_EVENT } else { SELL_EVENT };
    let mut records = Vec::new();
    for event in tape.events() {
        let exch_ts = tape.header().start_ns + event.time_ns();
        let record =
            |ev: u64, price: i64, size: i64| HftEvent { ev, exch_ts, local_ts: exch_ts, px: price as f64 * 0.01, qty: size as f64 * 1e-8 };
        match event {
            TapeEvent::Book { levels, .. } => {
                records.push(record(EXCH_EVENT | LOCAL_EVENT | BUY_EVENT | 3, 0, 0));
                records.extend(tape.levels(levels).iter().map(|level| record(flags(level.side) | 4, level.price_ticks, level.size_lots)));
            }
            TapeEvent::Depth { levels, .. } => {
                records.extend(tape.levels(levels).iter().map(|level| record(flags(level.side) | 1, level.price_ticks, level.size_lots)))
            }
            TapeEvent::Trade { price_ticks, size_lots, aggressor, .. } => {
                records.push(record(flags(*aggressor) | 2, *price_ticks, *size_lots))
            }
        }
    }
    let out = tempfile::tempdir().unwrap();
    let npy = out.path().join("btcusdt.npy");
    std::fs::write(&npy, write_npy(&records)).unwrap();
    let npz = out.path().join("btcusdt.npz");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&npz).unwrap());
    zip.start_file("data.npy", zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated)).unwrap();
    zip.write_all(&write_npy(&records)).unwrap();
    zip.finish().unwrap();
    for path in [npy, npz] {
        assert_eq!(drydock_sim::replay::inspect::detect(&path).unwrap(), drydock_sim::replay::inspect::Format::Hftbacktest);
        let replayed = ReplayTape::load(std::slice::from_ref(&path), &options, tick, lot).unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(replayed.header().stats.trades, tape.header().stats.trades, "{}", path.display());
        assert_eq!(replayed.header().stats.level_updates, tape.header().stats.level_updates);
        let final_book = |tape: &ReplayTape| {
            let mut book = std::collections::BTreeMap::new();
            for event in tape.events() {
                if let TapeEvent::Book { levels, .. } | TapeEvent::Depth { levels, .. } = event {
                    for level in tape.levels(levels) {
                        if level.size_lots > 0 {
                            book.insert((level.side, level.price_ticks), level.size_lots);
                        } else {
                            book.remove(&(level.side, level.price_ticks));
                        }
                    }
                }
            }
            book
        };
        assert!(final_book(&replayed) == final_book(&tape), "{}: the final book differs", path.display());
    }
}

/// A session split into two daily files (the second with no snapshot of its own)
/// makes the same tape as the whole file: the book carries across files.
#[test]
fn a_session_split_across_files_makes_the_same_tape() {
    use std::io::Read;

    use drydock_sim::replay::tape::{ReplayClock, ReplayTape, TapeOptions};
    let Some(dir) = data_dir() else { return };
    let whole = dir.join("binance_spot_btcusdt_20240808.gz");
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(&whole).unwrap()).read_to_string(&mut text).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let out = tempfile::tempdir().unwrap();
    let (first, second) = (out.path().join("day1.txt"), out.path().join("day2.txt"));
    let middle = lines.len() / 2;
    std::fs::write(&first, lines[..middle].join("\n")).unwrap();
    std::fs::write(&second, lines[middle..].join("\n")).unwrap();
    assert!(!lines[middle..].iter().any(|line| line.contains("lastUpdateId")), "the second file has no snapshot");
    let (tick, lot) = (Grid::parse("0.01").unwrap(), Grid::parse("0.00000001").unwrap());
    let options =
        TapeOptions { format: None, clock: ReplayClock::Exchange, offset_ns: 0, gap_policy: GapPolicy::Stop, skip_bad_lines: false };
    let one = ReplayTape::load(&[whole], &options, tick, lot).unwrap();
    let two = ReplayTape::load(&[first, second], &options, tick, lot).unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(two.header().sources, vec!["day1.txt", "day2.txt"]);
    assert_eq!(one.hash(), two.hash(), "the same events on the same grid");
}
