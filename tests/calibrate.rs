//! `drydock data calibrate` end to end: a recording of a generated market (written
//! as a generic CSV, so these tests always run) is calibrated into a scenario that
//! loads, runs, comes out byte-identical twice and recovers the market it was made
//! from; the real BTCUSDT recording (when `DRYDOCK_DATA_DIR` or `../shared/data`
//! holds it) calibrates to a scenario whose steered statistics meet the recorded
//! ones; bad flags are clear errors.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Output;

use drydock::{LoadOptions, Scenario};
use drydock_engine::port::{Control, Event, MarketData};
use drydock_engine::{EngineParams, Lots, Nanos, Side, Ticks};
use drydock_sim::config::{ExchangeConfig, MarketConfig, ReactionConfig, SimConfig};
use drydock_sim::{RunObserver, RunOptions, Simulation};

const EPOCH_NS: Nanos = 1_700_000_000_000_000_000;

fn drydock(args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_drydock")).args(args).output().expect("drydock runs")
}

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

/// Writes what the engine's feed delivered as a generic CSV (tick 0.1, lot 0.001):
/// the first book as a snapshot, then depth and trade rows.
#[derive(Default)]
struct CsvRecorder {
    rows: String,
    book: BTreeMap<(bool, Ticks), Lots>,
    snapshot_written: bool,
}

impl CsvRecorder {
    fn row(&mut self, time_ns: Nanos, kind: &str, side: &str, price_ticks: Ticks, size_lots: Lots) {
        let _ = writeln!(
            self.rows,
            "{},{kind},{side},{}.{},{}.{:03}",
            EPOCH_NS + time_ns,
            price_ticks / 10,
            price_ticks % 10,
            size_lots / 1000,
            size_lots % 1000
        );
    }
}

impl RunObserver for CsvRecorder {
    fn wants_engine_stream(&self) -> bool {
        true
    }

    fn on_engine_event(&mut self, now_ns: Nanos, event: &Event) {
        let Event::Market(market_data) = event else { return };
        match market_data {
            MarketData::Delta { updates } if self.snapshot_written => {
                for update in updates {
                    let side = if update.side == Side::Buy { "bid" } else { "ask" };
                    self.row(now_ns, "depth", side, update.price_ticks, update.size_lots);
                }
            }
            MarketData::Delta { updates } => {
                for update in updates {
                    self.book.insert((update.side == Side::Buy, update.price_ticks), update.size_lots);
                }
                let levels: Vec<((bool, Ticks), Lots)> =
                    self.book.iter().filter(|(_, lots)| **lots > 0).map(|(key, lots)| (*key, *lots)).collect();
                for ((bid, price_ticks), size_lots) in levels {
                    self.row(now_ns, "snapshot", if bid { "bid" } else { "ask" }, price_ticks, size_lots);
                }
                self.snapshot_written = true;
            }
            MarketData::Trade { price_ticks, size_lots, aggressor } => {
                let side = if *aggressor == Side::Buy { "buy" } else { "sell" };
                self.row(now_ns, "trade", side, *price_ticks, *size_lots);
            }
            MarketData::Snapshot { .. } | MarketData::BestBidOffer { .. } => {}
        }
    }
}

/// The default generated market (regimes and jumps off) for `duration_s`, as a CSV recording.
fn generated_recording(dir: &Path, duration_s: f64) -> PathBuf {
    let market = MarketConfig { stress_per_hour: 0.0, jumps_per_hour: 0.0, ..MarketConfig::default() };
    let config = SimConfig {
        seed: 21,
        duration_s,
        market,
        exchange: ExchangeConfig::default(),
        events: Vec::new(),
        reaction: ReactionConfig::default(),
        tape: None,
    };
    let mut simulation = Simulation::new(&config, EngineParams::default(), "test", RunOptions::for_duration(duration_s)).unwrap();
    let mut recorder = CsvRecorder { rows: "time_ns,kind,side,price,quantity\n".to_string(), ..CsvRecorder::default() };
    simulation.control(Control::KillSwitch { engaged: true }, &mut recorder).unwrap();
    simulation.run_until((duration_s * 1e9) as Nanos, &mut recorder);
    let path = dir.join("generated.csv");
    std::fs::write(&path, recorder.rows).unwrap();
    path
}

fn market_value(scenario_text: &str, key: &str) -> f64 {
    let table: toml::Table = scenario_text.parse().unwrap();
    table["market"][key]
        .as_float()
        .or_else(|| table["market"][key].as_integer().map(|value| value as f64))
        .unwrap_or_else(|| panic!("no market.{key}"))
}

#[test]
fn a_generated_recording_calibrates_to_a_scenario_that_loads_runs_and_recovers_it() {
    let dir = tempfile::tempdir().unwrap();
    let recording = generated_recording(dir.path(), 1_200.0);
    let out = dir.path().join("scenarios/calibrated_generated.toml");
    let pages = dir.path().join("page");
    let (recording_path, out_path, pages_path) = (recording.to_str().unwrap(), out.to_str().unwrap(), pages.to_str().unwrap());
    let args = [
        "data",
        "calibrate",
        recording_path,
        "--tick",
        "0.1",
        "--lot",
        "0.001",
        "--rounds",
        "4",
        "-o",
        out_path,
        "--report-dir",
        pages_path,
    ];
    let first = drydock(&args);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first));
    assert!(text(&first).contains("market orders per s") && text(&first).contains("calibration.html"), "{}", text(&first));
    let written = std::fs::read_to_string(&out).unwrap();
    let page = std::fs::read_to_string(pages.join("calibration.html")).unwrap();
    let parts = [
        "Depth behind the best price",
        "Market-order sizes",
        "class=\"our-ask\"",
        "Fitted [market] values",
        "depth_decay_ticks",
        "market_size_model",
        "with trades in the frames",
    ];
    for part in parts {
        assert!(page.contains(part), "the page shows {part}");
    }
    let again = drydock(&args);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), written, "the same recording calibrates to the same bytes");
    assert_eq!(std::fs::read_to_string(pages.join("calibration.html")).unwrap(), page, "and the same page");

    let scenario = Scenario::load(&out, &LoadOptions::default()).unwrap();
    assert_eq!(scenario.header.name, "calibrated_generated");
    let truth = MarketConfig::default();
    let near = |key: &str, made_with: f64, relative: f64| {
        let fitted = market_value(&written, key);
        assert!((fitted / made_with - 1.0).abs() <= relative, "market.{key} = {fitted}, made with {made_with}\n{written}");
    };
    near("volatility_annual", truth.volatility_annual, 0.15);
    near("limit_rate_per_s", truth.limit_rate_per_s, 0.15);
    near("limit_size_lots", truth.limit_size_lots, 0.15);
    near("cancel_rate_per_s", truth.cancel_rate_per_s, 0.25);
    near("depth_decay_ticks", truth.depth_decay_ticks, 0.3);
    near("initial_price", truth.initial_price, 0.01);
    assert_eq!(market_value(&written, "stress_per_hour"), 0.0);
    assert!(written.contains("# statistic") && written.contains("[engine]"), "{written}");
    // Its price moves ~11 ticks a step within a depth of ~12-tick decay: quotes stay put.
    assert!(written.contains("quotes_follow_fundamental = false  # the price moves"), "{written}");
    // The generated feed framed its trades (10 ms apart at the shortest): so does the scenario.
    assert!(written.contains("trades_in_frames = true  # market orders came"), "{written}");

    let run_dir = dir.path().join("run");
    let run = drydock(&["run", out.to_str().unwrap(), "--out", run_dir.to_str().unwrap()]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run));
    assert!(text(&run).contains("fills"), "{}", text(&run));
}

/// Calibrates the Binance spot recording `file` (tick 0.01) into a scenario in `dir`:
/// its path and text, or none (said on stderr) when the recording is absent.
fn calibrate_recording(file: &str, dir: &Path) -> Option<(PathBuf, String)> {
    let data = drydock::scenario::data_dir();
    let data = if data.is_absolute() { data } else { PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(data) };
    let recording = data.join(file);
    if !recording.exists() {
        let _ = writeln!(std::io::stderr(), "SKIPPED calibration of the real recording: no {} (set DRYDOCK_DATA_DIR)", recording.display());
        return None;
    }
    let out = dir.join("calibrated.toml");
    let pages = dir.join("page");
    let (recording, out_path, pages_path) = (recording.to_str().unwrap(), out.to_str().unwrap(), pages.to_str().unwrap());
    let output =
        drydock(&["data", "calibrate", recording, "--tick", "0.01", "--lot", "0.00000001", "-o", out_path, "--report-dir", pages_path]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let written = std::fs::read_to_string(&out).unwrap();
    Some((out, written))
}

/// The recorded and simulated figures of a statistic's row in a calibrated scenario's table.
fn table_row(written: &str, row: &str) -> (f64, f64) {
    let line = written.lines().find(|line| line.starts_with(&format!("# {row}"))).unwrap_or_else(|| panic!("no row {row}\n{written}"));
    let numbers: Vec<f64> = line.split_whitespace().filter_map(|word| word.parse().ok()).collect();
    let [recorded, simulated] = numbers[numbers.len() - 2..] else { panic!("{line}") };
    (recorded, simulated)
}

#[test]
fn the_btcusdt_recording_calibrates_to_its_steered_statistics() {
    let dir = tempfile::tempdir().unwrap();
    let Some((out, written)) = calibrate_recording("binance_spot_btcusdt_20240808.gz", dir.path()) else { return };
    // Each steered statistic, recorded against simulated, from the table in the file:
    // met within 25 %, or named in a warning.
    let rows = [
        ("realized volatility (annual)", "realized_vol_annual"),
        ("level adds per s", "level_adds_per_s"),
        ("mean added size (lots)", "added_lots_mean"),
        ("cancels per s", "cancels_per_s"),
        ("market orders per s", "market_orders_per_s"),
        ("depth decay (ticks)", "depth_profile_lots"),
    ];
    let mut met = 0;
    for (row, statistic) in rows {
        let (recorded, simulated) = table_row(&written, row);
        if (simulated / recorded).ln().abs() <= 0.22 {
            met += 1;
        } else {
            assert!(written.contains(&format!("# warning: {statistic}")), "{row} is missed without a warning\n{written}");
        }
    }
    assert!(met >= 4, "most steered statistics are met:\n{written}");
    assert!(written.contains("kurtosis is"), "the fat tails left out are said: {written}");
    // The price moves ~220 ticks a step at this tick: the others' quotes must follow it.
    assert!(written.contains("quotes_follow_fundamental = true  # the price moves"), "{written}");
    assert!(written.contains("# one-sided book (% of samples)"), "{written}");
    // Binance's trade stream is not framed: market orders come a millisecond apart.
    assert!(written.contains("trades_in_frames = false  # market orders came"), "{written}");
    // The flow clusters on two timescales: a second exponential is fitted, and the
    // simulated clustering over a second rises from ~4 (one exponential, three seeds)
    // towards the recorded 13.
    assert!(written.contains("hawkes_slow_alpha_per_s = ") && written.contains("with two exponentials"), "{written}");
    let (_, clustering) = table_row(&written, "count dispersion (1 s)");
    assert!(clustering > 4.5, "clustering over a second {clustering}\n{written}");
    let page = std::fs::read_to_string(dir.path().join("page").join("calibration.html")).unwrap();
    assert!(page.contains("with trades sent as they print"), "the page says how trades are sent");
    Scenario::load(&out, &LoadOptions::default()).unwrap();
}

#[test]
fn the_ethusdt_recording_calibrates_with_the_quotes_near_the_touch_following() {
    let dir = tempfile::tempdir().unwrap();
    let Some((out, written)) = calibrate_recording("binance_spot_ethusdt_20240808.gz", dir.path()) else { return };
    // A ~9.5-tick step against a one-tick spread and a depth reaching hundreds of
    // ticks: quotes staying put leave a ~10-tick spread, so those near the touch follow.
    assert!(written.contains("quotes_follow_fundamental = true  # the price moves"), "{written}");
    assert!(written.contains("those near the touch follow"), "{written}");
    assert!(market_value(&written, "follow_depth_ticks") >= 5.0, "{written}");
    let (recorded, simulated) = table_row(&written, "spread (ticks)");
    assert!(simulated < 4.0 * recorded, "the spread comes within 4x of the recorded one (10x with quotes staying put): {simulated}");
    Scenario::load(&out, &LoadOptions::default()).unwrap();
}

#[test]
fn bad_calibrate_flags_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let recording = dir.path().join("tiny.csv");
    std::fs::write(
        &recording,
        "time_ns,kind,side,price,quantity\n1700000000000000000,snapshot,bid,100.0,1.000\n1700000000000000000,snapshot,ask,100.1,1.000\n",
    )
    .unwrap();
    let path = recording.to_str().unwrap();
    let short = dir.path().join("short.toml");
    let cases: [(&[&str], &str); 7] = [
        (&["-o", "out.txt"], "must end in .toml"),
        (&["-o", "bad name!.toml"], "letters, digits"),
        (&["-o", "ok.toml", "--simulate-s", "0"], "--simulate-s"),
        (&["-o", "ok.toml", "--tick", "abc"], "--tick"),
        (&["-o", "ok.toml", "--min-notional=-3"], "--min-notional"),
        (&["-o", "ok.toml", "--symbol", "BTC USDT"], "--symbol \"BTC USDT\": \"BTC USDT\" is not a symbol"),
        (&["-o", short.to_str().unwrap()], "at least 10 s"),
    ];
    for (extra, expected) in cases {
        let mut args = vec!["data", "calibrate", path, "--tick", "0.1", "--lot", "0.001"];
        args.extend_from_slice(extra);
        let output = drydock(&args);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {}", text(&output));
        assert!(text(&output).contains(expected), "{args:?}: {}", text(&output));
    }
    assert!(!short.exists(), "nothing is written for a refused calibration");
    let missing = drydock(&["data", "calibrate", "no-such.csv", "--tick", "0.1", "--lot", "0.001", "-o", "x.toml"]);
    assert_eq!(missing.status.code(), Some(2), "{}", text(&missing));
    assert!(text(&missing).contains("no-such.csv"), "{}", text(&missing));
}

#[test]
fn a_session_the_resync_policy_leaves_too_short_says_why() {
    let data = drydock::scenario::data_dir();
    let data = if data.is_absolute() { data } else { PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(data) };
    let (snapshot, updates) =
        (data.join("binance_usdm_btcusdt_tdepth_snap_20221101.csv"), data.join("binance_usdm_btcusdt_tdepth_update_20221101.csv"));
    if !snapshot.exists() || !updates.exists() {
        let _ =
            writeln!(std::io::stderr(), "SKIPPED calibration of the tdepth recording: none in {} (set DRYDOCK_DATA_DIR)", data.display());
        return;
    }
    // The sample's updates start past its snapshot: the first diff is a gap.
    let dir = tempfile::tempdir().unwrap();
    let (snapshot, updates) = (snapshot.to_str().unwrap(), updates.to_str().unwrap());
    let out = dir.path().join("td.toml");
    let out = out.to_str().unwrap();
    let output = drydock(&["data", "calibrate", snapshot, updates, "--tick", "0.1", "--lot", "0.001", "-o", out, "--gap-policy", "resync"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(text(&output).contains("of usable data: after 1 gap in the update ids the resync policy skips"), "{}", text(&output));
}
