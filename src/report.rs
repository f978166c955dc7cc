//! A run's artifacts: `report.json` (the deterministic summary), `fills.csv` and a
//! downsampled `timeline.csv`, all written atomically (temporary file, then
//! rename) so a reader never sees half a file. CSV rows stream to disk while the
//! simulation runs, so memory stays flat. Nothing non-deterministic (wall time,
//! host) goes into these files; the CLI prints those.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use drydock_engine::Kpis;
use drydock_engine::accounting::FillRecord;
use drydock_engine::port::Liquidity;
use drydock_sim::effects::EventEffect;
use drydock_sim::{RunMetrics, RunObserver, RunOutcome, TimelineRow};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::expect::{ExpectationResult, flatten_metrics};
use crate::scenario::Scenario;
use crate::soak::SoakSummary;

/// Failure to write an artifact.
#[derive(Debug, Error)]
#[error("cannot write {path}: {source}; {}", fix_for(.source))]
pub struct ArtifactError {
    /// The file.
    pub path: PathBuf,
    /// The cause.
    #[source]
    pub source: std::io::Error,
}

/// How to fix a failed write, by its cause.
fn fix_for(source: &std::io::Error) -> &'static str {
    match source.kind() {
        std::io::ErrorKind::NotADirectory => "pass --out a folder, or a path that does not exist yet",
        std::io::ErrorKind::IsADirectory => "a folder has that name: give a file path, or move the folder",
        std::io::ErrorKind::StorageFull => "free some space on that disk, or pass --out a folder on another",
        _ => "check the output folder is writable",
    }
}

/// Creates the output folder `dir` (and its parents). A file already at that path
/// is refused as such (the operating system would only say the file exists).
pub fn create_output_folder(dir: &Path) -> Result<(), ArtifactError> {
    if dir.exists() && !dir.is_dir() {
        let source = std::io::Error::new(std::io::ErrorKind::NotADirectory, "it is a file, not a folder");
        return Err(ArtifactError { path: dir.to_path_buf(), source });
    }
    std::fs::create_dir_all(dir).map_err(|source| ArtifactError { path: dir.to_path_buf(), source })
}

/// `report.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Scenario name.
    pub scenario: String,
    /// Scenario description.
    pub description: String,
    /// Root seed.
    pub seed: u64,
    /// Fingerprint of the run's event stream.
    pub fingerprint: String,
    /// drydock version that produced it.
    pub drydock_version: String,
    /// Version of the engine's port encoding.
    pub engine_port_version: u32,
    /// The code version that produced it ([`crate::CODE_VERSION`]): the same source
    /// gives the same value, so reports stay byte-identical across machines.
    #[serde(default)]
    pub code_version: String,
    /// Profile in force.
    pub profile: String,
    /// BLAKE3 of the scenario file.
    pub scenario_hash: String,
    /// BLAKE3 of the effective configuration.
    pub config_hash: String,
    /// Simulated seconds.
    pub duration_s: f64,
    /// Engine KPIs.
    pub kpis: Kpis,
    /// Dock run metrics.
    pub run: RunMetrics,
    /// Injected events and their measured effects.
    pub events: Vec<EventEffect>,
    /// Expectations and their verdicts.
    pub expectations: Vec<ExpectationResult>,
    /// Rows written to the CSV artifacts.
    pub csv: CsvCounts,
    /// The soak's summary, for scenarios with a `[soak]` section.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub soak: Option<SoakSummary>,
    /// The recording replayed, for scenarios with `market.source`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replay: Option<ReplaySummary>,
    /// `pass` when every expectation holds and a soak was not stopped, else `fail`.
    pub verdict: String,
}

/// What a replay scenario replayed: the tape's identity, clock and counters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReplaySummary {
    /// File names, in session order.
    pub sources: Vec<String>,
    /// The recorded clock that drove virtual time.
    pub clock: drydock_sim::replay::tape::ReplayClock,
    /// Absolute time of virtual time 0, ns since the epoch (clock + offset).
    pub start_ns: i64,
    /// BLAKE3 of the tape (changes when the data or the grid does).
    pub tape_hash: String,
    /// Counters of the tape.
    pub stats: drydock_sim::replay::tape::TapeStats,
    /// The first malformed lines skipped (with `skip_bad_lines`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bad_line_examples: Vec<String>,
}

impl ReplaySummary {
    /// The summary of `scenario`'s tape, if it replays one.
    pub fn of(scenario: &Scenario) -> Option<ReplaySummary> {
        let tape = &scenario.sim.tape.as_ref()?.0;
        let header = tape.header();
        Some(ReplaySummary {
            sources: header.sources.clone(),
            clock: header.clock,
            start_ns: header.start_ns,
            tape_hash: tape.hash().to_string(),
            stats: header.stats.clone(),
            bad_line_examples: header.bad_line_examples.clone(),
        })
    }
}

impl Report {
    /// Builds the report of a finished run (or soak) of `scenario`.
    pub fn new(scenario: &Scenario, outcome: &RunOutcome, soak: Option<SoakSummary>, csv: CsvCounts) -> Report {
        let metrics = flatten_metrics(outcome, soak.as_ref());
        let expectations: Vec<ExpectationResult> = scenario.expectations.iter().map(|expectation| expectation.evaluate(&metrics)).collect();
        let soak_stopped = soak.as_ref().is_some_and(|soak| soak.stopped_by.is_some());
        let verdict = if expectations.iter().all(|result| result.pass) && !soak_stopped { "pass" } else { "fail" };
        Report {
            scenario: scenario.header.name.clone(),
            description: scenario.header.description.clone(),
            seed: scenario.sim.seed,
            fingerprint: outcome.fingerprint.clone(),
            drydock_version: env!("CARGO_PKG_VERSION").to_string(),
            engine_port_version: drydock_engine::PORT_VERSION,
            code_version: crate::CODE_VERSION.to_string(),
            profile: scenario.profile.clone(),
            scenario_hash: scenario.file_hash.clone(),
            config_hash: scenario.config_hash(),
            duration_s: scenario.sim.duration_s,
            kpis: outcome.kpis.clone(),
            run: outcome.metrics.clone(),
            events: outcome.effects.clone(),
            expectations,
            csv,
            soak,
            replay: ReplaySummary::of(scenario),
            verdict: verdict.to_string(),
        }
    }

    /// True when every expectation passed.
    pub fn passed(&self) -> bool {
        self.verdict == "pass"
    }

    /// Pretty JSON with a trailing newline.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("report serializes");
        text.push('\n');
        text
    }
}

/// Writes `bytes` to `path` atomically: a temporary file in the same folder, then a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ArtifactError> {
    let temporary = temporary_path(path);
    let result = std::fs::write(&temporary, bytes).and_then(|()| std::fs::rename(&temporary, path));
    if result.is_err() {
        // Nothing half-done stays behind (the rename may fail after the write).
        let _ = std::fs::remove_file(&temporary);
    }
    result.map_err(|source| ArtifactError { path: path.to_path_buf(), source })
}

pub(crate) fn temporary_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().map(|name| name.to_os_string()).unwrap_or_default();
    name.push(".tmp");
    path.with_file_name(name)
}

type CsvFile = csv::Writer<BufWriter<File>>;

/// Rows of `fills.csv` written at most, so long soaks never grow their output
/// without bound (about 65 MB); further fills are counted, not written.
pub const DEFAULT_MAX_FILL_ROWS: u64 = 500_000;

/// Rows written to the CSV artifacts (and fills left out past the cap).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CsvCounts {
    /// Rows in `fills.csv`.
    pub fill_rows: u64,
    /// Fills not written because the cap was reached.
    pub fill_rows_dropped: u64,
    /// Rows in `timeline.csv`.
    pub timeline_rows: u64,
}

/// Streams `fills.csv` and `timeline.csv` into temporary files; [`CsvArtifacts::commit`]
/// renames them into place.
pub struct CsvArtifacts {
    fills: CsvFile,
    timeline: CsvFile,
    paths: [(PathBuf, PathBuf); 2],
    tick_size: f64,
    prices: PriceDecimals,
    max_fill_rows: u64,
    counts: CsvCounts,
    error: Option<ArtifactError>,
}

impl CsvArtifacts {
    /// Opens both files in `dir`; at most `max_fill_rows` fills are written.
    pub fn create(dir: &Path, tick_size: f64, max_fill_rows: u64) -> Result<Self, ArtifactError> {
        let open = |name: &str| -> Result<(CsvFile, (PathBuf, PathBuf)), ArtifactError> {
            let path = dir.join(name);
            let temporary = temporary_path(&path);
            let file = File::create(&temporary).map_err(|source| ArtifactError { path: temporary.clone(), source })?;
            // Every field is a number, empty, or one of a few fixed words, so nothing
            // ever needs quoting; not checking each byte for it saves ~2 % of a run.
            let writer = csv::WriterBuilder::new().has_headers(false).quote_style(csv::QuoteStyle::Never).from_writer(BufWriter::new(file));
            Ok((writer, (temporary, path)))
        };
        let (mut fills, fills_paths) = open("fills.csv")?;
        let (mut timeline, timeline_paths) = open("timeline.csv")?;
        let header_error = |source: csv::Error| ArtifactError { path: dir.to_path_buf(), source: io_error_of(source) };
        // Headers are written once here; rows are serialized without them.
        fills
            .write_record([
                "time_s",
                "order_id",
                "fill_id",
                "side",
                "price",
                "size_lots",
                "liquidity",
                "fee",
                "fair_value",
                "position_after_lots",
                "spread_captured_bps",
                "adverse_1s_bps",
                "adverse_10s_bps",
            ])
            .map_err(header_error)?;
        timeline
            .write_record(["time_s", "mid", "best_bid", "best_ask", "our_bid", "our_ask", "inventory_lots", "pnl"])
            .map_err(header_error)?;
        Ok(CsvArtifacts {
            fills,
            timeline,
            paths: [fills_paths, timeline_paths],
            tick_size,
            prices: PriceDecimals::of_tick(tick_size),
            max_fill_rows,
            counts: CsvCounts::default(),
            error: None,
        })
    }

    /// Rows written so far.
    pub fn counts(&self) -> &CsvCounts {
        &self.counts
    }

    /// Flushes and renames both files into place.
    pub fn commit(mut self) -> Result<(), ArtifactError> {
        if let Some(error) = self.error.take() {
            return Err(error);
        }
        let flush = |writer: &mut CsvFile, path: &Path| writer.flush().map_err(|source| ArtifactError { path: path.to_path_buf(), source });
        flush(&mut self.fills, &self.paths[0].0)?;
        flush(&mut self.timeline, &self.paths[1].0)?;
        for (temporary, path) in &self.paths {
            std::fs::rename(temporary, path).map_err(|source| ArtifactError { path: path.clone(), source })?;
        }
        Ok(())
    }

    fn remember(&mut self, result: Result<(), csv::Error>, index: usize) {
        if let (Err(error), None) = (result, &self.error) {
            self.error = Some(ArtifactError { path: self.paths[index].1.clone(), source: io_error_of(error) });
        }
    }
}

/// The operating system's error inside a CSV writer's, so its kind (a full disk)
/// picks the fix; csv's own conversion would file every error as `Other`.
fn io_error_of(error: csv::Error) -> std::io::Error {
    if !error.is_io_error() {
        return std::io::Error::other(error);
    }
    match error.into_kind() {
        csv::ErrorKind::Io(source) => source,
        kind => std::io::Error::other(format!("{kind:?}")),
    }
}

impl Drop for CsvArtifacts {
    fn drop(&mut self) {
        // Files never committed (the run failed, or the disk filled) leave nothing
        // half-written behind; after a commit the temporaries are already renamed.
        for (temporary, _) in &self.paths {
            let _ = std::fs::remove_file(temporary);
        }
    }
}

/// How many decimals show a price on the tick grid exactly: a price of 59,993.7 is
/// 599,937 ticks × 0.1, which is 59993.700000000004 in binary floating point; with
/// the tick's decimals it reads as the venue would print it. Mids, on the half-tick
/// grid, take the half tick's decimals.
#[derive(Copy, Clone, Debug, PartialEq)]
struct PriceDecimals {
    tick_size: f64,
    tick: usize,
    half_tick: usize,
    /// The tick in units of the last decimal (0.1 with one decimal: 1), when the
    /// tick's decimals write it exactly: a price in ticks is then written from
    /// integers, the same digits as the float's, without formatting a float.
    tick_units: Option<i64>,
}

impl PriceDecimals {
    fn of_tick(tick_size: f64) -> Self {
        let tick = decimals_of(tick_size);
        let scaled = tick_size * 10f64.powi(tick as i32);
        // Tighter than the decimals' own test: only a tick that is a whole number of
        // units up to the float's rounding (0.1 × 10 is 1 within 1e-16, 1/3 × 10^9 is
        // a third of a unit off) is written from integers.
        let exact = (scaled - scaled.round()).abs() <= 1e-12 * scaled.abs().max(1.0) && scaled.round() <= i64::MAX as f64;
        let tick_units = exact.then(|| scaled.round() as i64).filter(|&units| units >= 1);
        PriceDecimals { tick_size, tick, half_tick: decimals_of(tick_size / 2.0), tick_units }
    }

    /// A price given in ticks, on the tick's decimals.
    fn ticks(&self, price_ticks: i64) -> Fixed {
        match self.tick_units {
            Some(units) => Fixed::Units { units: price_ticks as i128 * units as i128, decimals: self.tick },
            None => self.price(price_ticks as f64 * self.tick_size),
        }
    }

    fn price(&self, value: f64) -> Fixed {
        Fixed::Float { value, decimals: self.tick }
    }

    /// A mid: a whole tick as a price, a half tick with the half tick's decimals.
    fn mid(&self, value: f64) -> Fixed {
        let ticks = value / self.tick_size;
        let whole = (ticks - ticks.round()).abs() < 0.25;
        Fixed::Float { value, decimals: if whole { self.tick } else { self.half_tick } }
    }
}

/// Fewest decimals (at most 12) that write `step` exactly, up to float rounding.
fn decimals_of(step: f64) -> usize {
    (0..=PRICE_DECIMALS_MAX)
        .find(|&decimals| {
            let scaled = step * 10f64.powi(decimals as i32);
            (scaled - scaled.round()).abs() <= 1e-9 * scaled.abs().max(1.0)
        })
        .unwrap_or(PRICE_DECIMALS_MAX)
}

const PRICE_DECIMALS_MAX: usize = 12;

/// A number written with a fixed count of decimals (a CSV field).
#[derive(Copy, Clone, Debug)]
enum Fixed {
    /// A float, rounded to `decimals`.
    Float { value: f64, decimals: usize },
    /// Exactly `units` × 10^-`decimals` (a price on the tick grid).
    Units { units: i128, decimals: usize },
}

impl Fixed {
    /// The number as `units` × 10^-`decimals`, when that writes the same digits as
    /// formatting the float would: always for `Units`; for a float within a quarter
    /// unit of a whole number of units (a price on its grid, the common case), whose
    /// rounding to `decimals` then cannot be a tie or go the other way. Formatting a
    /// float to a fixed count of decimals (`{:.2}`) costs ~1,000 instructions, this
    /// ~100: a run's timeline writes ~10,000 such prices.
    fn units(&self) -> Option<(i128, usize)> {
        match *self {
            Fixed::Units { units, decimals } => Some((units, decimals)),
            Fixed::Float { value, decimals } => float_units(value, decimals).map(|units| (units, decimals)),
        }
    }
}

/// `value` × 10^`decimals` rounded, when that rounding is certain to be the one the
/// exact decimal expansion of `value` has (see [`Fixed::units`]). Below 2^50 the
/// product's own rounding error is at most an eighth of a unit, so a product within
/// a quarter of a whole number is within 3/8 of it exactly: the nearest whole number
/// is unambiguous. A negative value that rounds to zero is left to the formatter,
/// which writes its sign (`-0.00`).
fn float_units(value: f64, decimals: usize) -> Option<i128> {
    const SCALED_MAX: f64 = (1u64 << 50) as f64;
    if decimals > PRICE_DECIMALS_MAX {
        return None;
    }
    let scaled = value * 10f64.powi(decimals as i32);
    let nearest = scaled.round();
    let certain = scaled.abs() < SCALED_MAX && (scaled - nearest).abs() < 0.25;
    let sign_kept = nearest != 0.0 || value.is_sign_positive();
    (certain && sign_kept).then_some(nearest as i128)
}

impl Serialize for Fixed {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.units() {
            Some((units, decimals)) => serializer.serialize_str(DecimalText::of(units, decimals).as_str()),
            None => serializer.collect_str(self),
        }
    }
}

impl std::fmt::Display for Fixed {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Fixed::Units { units, decimals } => formatter.write_str(DecimalText::of(units, decimals).as_str()),
            Fixed::Float { value, decimals } => match float_units(value, decimals) {
                Some(units) => formatter.write_str(DecimalText::of(units, decimals).as_str()),
                None => write!(formatter, "{value:.decimals$}"),
            },
        }
    }
}

/// `units` × 10^-`decimals` written out (at most 12 decimals: an i128 has 39 digits,
/// so the text fits in 64 bytes with its sign, point and leading zero).
struct DecimalText {
    bytes: [u8; 64],
    len: usize,
}

impl DecimalText {
    fn of(units: i128, decimals: usize) -> Self {
        let mut text = DecimalText { bytes: [0; 64], len: 0 };
        let mut digits = itoa::Buffer::new();
        let magnitude = digits.format(units.unsigned_abs()).as_bytes();
        if units < 0 {
            text.push(b"-");
        }
        // The whole part (0 when every digit is a decimal), then the decimals, their
        // leading zeros first.
        let whole_len = magnitude.len().saturating_sub(decimals);
        text.push(if whole_len > 0 { &magnitude[..whole_len] } else { b"0" });
        if decimals > 0 {
            text.push(b".");
            for _ in magnitude.len()..decimals {
                text.push(b"0");
            }
            text.push(&magnitude[whole_len..]);
        }
        text
    }

    fn push(&mut self, bytes: &[u8]) {
        self.bytes[self.len..self.len + bytes.len()].copy_from_slice(bytes);
        self.len += bytes.len();
    }

    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..self.len]).expect("digits, a sign and a point are ASCII")
    }
}

/// One row of `timeline.csv`: prices on the grid's decimals.
#[derive(Serialize)]
struct TimelineCsvRow {
    time_s: f64,
    mid: Option<Fixed>,
    best_bid: Option<Fixed>,
    best_ask: Option<Fixed>,
    our_bid: Option<Fixed>,
    our_ask: Option<Fixed>,
    inventory_lots: i64,
    pnl: f64,
}

/// One row of `fills.csv` (serialized by `csv` with ryu/itoa: fast and deterministic;
/// the price on the tick grid's decimals).
#[derive(Serialize)]
struct FillRow {
    time_s: f64,
    order_id: u64,
    fill_id: u64,
    side: &'static str,
    price: Fixed,
    size_lots: i64,
    liquidity: &'static str,
    fee: f64,
    fair_value: f64,
    position_after_lots: i64,
    spread_captured_bps: f64,
    adverse_1s_bps: Option<f64>,
    adverse_10s_bps: Option<f64>,
}

impl RunObserver for CsvArtifacts {
    fn on_fill(&mut self, fill: &FillRecord) {
        if self.counts.fill_rows >= self.max_fill_rows {
            self.counts.fill_rows_dropped += 1;
            return;
        }
        self.counts.fill_rows += 1;
        let row = FillRow {
            time_s: fill.time_ns as f64 / 1e9,
            order_id: fill.order_id.0,
            fill_id: fill.fill_id,
            side: fill.side.as_str(),
            price: self.prices.ticks(fill.price_ticks),
            size_lots: fill.size_lots,
            liquidity: match fill.liquidity {
                Liquidity::Maker => "maker",
                Liquidity::Taker => "taker",
            },
            fee: fill.fee_quote,
            fair_value: fill.fair_value_ticks * self.tick_size,
            position_after_lots: fill.position_after_lots,
            spread_captured_bps: fill.spread_captured_bps,
            adverse_1s_bps: fill.adverse_1s_bps,
            adverse_10s_bps: fill.adverse_10s_bps,
        };
        let result = self.fills.serialize(row);
        self.remember(result, 0);
    }

    fn on_timeline(&mut self, row: &TimelineRow) {
        self.counts.timeline_rows += 1;
        let prices = self.prices;
        let result = self.timeline.serialize(TimelineCsvRow {
            time_s: row.time_s,
            mid: row.mid.map(|mid| prices.mid(mid)),
            best_bid: row.best_bid.map(|price| prices.price(price)),
            best_ask: row.best_ask.map(|price| prices.price(price)),
            our_bid: row.our_bid.map(|price| prices.price(price)),
            our_ask: row.our_ask.map(|price| prices.price(price)),
            inventory_lots: row.inventory_lots,
            pnl: row.pnl,
        });
        self.remember(result, 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::Just;

    #[test]
    fn a_write_onto_a_folder_says_so_and_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("session.ddtape");
        std::fs::create_dir(&folder).unwrap();
        let error = write_atomic(&folder, b"bytes").unwrap_err();
        assert!(error.to_string().contains("a folder has that name: give a file path"), "{error}");
        assert!(!temporary_path(&folder).exists(), "the temporary file is removed");
        let file = dir.path().join("a_file");
        std::fs::write(&file, "").unwrap();
        let error = create_output_folder(&file).unwrap_err();
        assert!(error.to_string().contains("it is a file, not a folder; pass --out a folder"), "{error}");
    }

    #[test]
    fn artifacts_never_committed_leave_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let artifacts = CsvArtifacts::create(dir.path(), 0.1, 10).unwrap();
        assert!(temporary_path(&dir.path().join("fills.csv")).exists());
        drop(artifacts);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "a failed run leaves no half-written CSV");
        CsvArtifacts::create(dir.path(), 0.1, 10).unwrap().commit().unwrap();
        let mut names: Vec<String> =
            std::fs::read_dir(dir.path()).unwrap().map(|entry| entry.unwrap().file_name().into_string().unwrap()).collect();
        names.sort();
        assert_eq!(names, ["fills.csv", "timeline.csv"]);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_full_disk_says_to_free_space() {
        // /dev/full fails every write with "no space left on device".
        let mut writer = csv::Writer::from_writer(File::create("/dev/full").unwrap());
        let error = writer.write_record(["a"]).and_then(|()| writer.flush().map_err(csv::Error::from)).unwrap_err();
        let error = ArtifactError { path: PathBuf::from("out/fills.csv"), source: io_error_of(error) };
        assert!(error.to_string().ends_with("free some space on that disk, or pass --out a folder on another"), "{error}");
    }

    #[test]
    fn prices_are_written_as_the_grid_prints_them() {
        let text = |fixed: Fixed| fixed.to_string();
        let tenth = PriceDecimals::of_tick(0.1);
        // 599,937 ticks of 0.1 is 59993.700000000004 in binary floating point.
        assert_eq!(text(tenth.price(599_937.0 * 0.1)), "59993.7");
        assert_eq!(text(tenth.ticks(599_937)), "59993.7");
        assert_eq!(text(tenth.mid(599_937.5 * 0.1)), "59993.75");
        assert_eq!(text(tenth.mid(599_937.0 * 0.1)), "59993.7", "a mid on a whole tick reads as a price");
        for (tick_size, ticks, expected) in [
            (0.01, 5_999_663, "59996.63"),
            (0.00000001, 123, "0.00000123"),
            (0.5, 121, "60.5"),
            (1.0, 60_001, "60001"),
            (0.25, 3, "0.75"),
            (0.1, 0, "0.0"),
            (0.1, -7, "-0.7"),
            (0.01, -12_345, "-123.45"),
        ] {
            let decimals = PriceDecimals::of_tick(tick_size);
            assert_eq!(text(decimals.price(ticks as f64 * tick_size)), expected, "tick {tick_size}");
            assert_eq!(text(decimals.ticks(ticks)), expected, "tick {tick_size}, from ticks");
        }
        assert_eq!(text(PriceDecimals::of_tick(1.0).mid(60_001.5)), "60001.5");
        let cent = PriceDecimals::of_tick(0.01);
        assert_eq!((cent.tick, cent.half_tick, cent.tick_units), (2, 3, Some(1)));
        assert_eq!(PriceDecimals::of_tick(0.25).tick_units, Some(25));
        // A tick no count of decimals writes exactly falls back to the float.
        let third = PriceDecimals::of_tick(1.0 / 3.0);
        assert_eq!(third.tick_units, None);
        assert_eq!(text(third.ticks(3)), text(third.price(3.0 * (1.0 / 3.0))));
        assert_eq!(text(third.ticks(3)), "1.000000000");
        // The sign of a negative price that rounds to zero is kept, as the formatter does.
        for (value, expected) in [(-0.001, "-0.00"), (-0.0, "-0.00"), (0.001, "0.00"), (-0.006, "-0.01"), (0.125, "0.12")] {
            assert_eq!(text(Fixed::Float { value, decimals: 2 }), expected, "{value}");
        }
    }

    proptest::proptest! {
        #[test]
        fn a_price_from_ticks_reads_as_the_float_would(ticks in -10_000_000_000i64..10_000_000_000, tick_index in 0usize..8) {
            let tick_size = [0.1, 0.01, 0.5, 1.0, 0.25, 0.00000001, 0.005, 0.0001][tick_index];
            let decimals = PriceDecimals::of_tick(tick_size);
            proptest::prop_assert_eq!(decimals.ticks(ticks).to_string(), decimals.price(ticks as f64 * tick_size).to_string());
        }

        #[test]
        fn a_float_written_from_integers_reads_as_the_formatter_would(
            units in -2_000_000_000_000_000i64..2_000_000_000_000_000,
            offset in proptest::prop_oneof![Just(0.0), Just(0.5), Just(-0.5), -0.6f64..0.6, Just(0.25), Just(0.2499)],
            decimals in 0usize..=13,
        ) {
            // Prices on and off their grid, exact ties, values too large for the
            // integers to be certain and past the decimals the writer takes.
            let value = (units as f64 + offset) / 10f64.powi(decimals as i32);
            let written = Fixed::Float { value, decimals }.to_string();
            proptest::prop_assert_eq!(&written, &format!("{value:.decimals$}"));
            let mut csv_text = csv::WriterBuilder::new().has_headers(false).from_writer(Vec::new());
            csv_text.serialize([Fixed::Float { value, decimals }]).unwrap();
            proptest::prop_assert_eq!(String::from_utf8(csv_text.into_inner().unwrap()).unwrap(), format!("{written}\n"));
        }
    }
}
