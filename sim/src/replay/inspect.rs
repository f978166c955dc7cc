//! `data inspect`: reads a session of recordings (one or more files in order, the
//! book carried across them) and reports their span, events by kind, diffs
//! applied, gaps (the book resynchronizes at the next snapshot and counting goes
//! on), crossings, spread and depth statistics, and the skew between the local and
//! the exchange clock.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::book::{BookBuilder, GapPolicy};
use super::decimal::Grid;
use super::{BadLineLog, BadLines, Recorded, RecordedEvent, ReplayError};

/// A recording format.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// Binance combined streams (`<local ns> <json>`), spot or USD-M.
    Binance,
    /// Bybit `orderbook.N` JSONL.
    Bybit,
    /// Binance `T_DEPTH` CSV.
    Tdepth,
    /// The generic CSV (`time_ns,kind,side,price,quantity`).
    Csv,
    /// Drydock's converted tape (`.ddtape`, from `drydock data convert`).
    Tape,
    /// hftbacktest's normalized events (`.npy`, or `.npz` holding `data.npy`).
    Hftbacktest,
}

impl std::str::FromStr for Format {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        super::parse_name(text, "format")
    }
}

/// The format of each file of a session: `format` when given, else each detected. A
/// session is one venue's recording, so files of different formats are refused
/// (their books cannot carry across from one to the next).
pub fn session_formats(files: &[PathBuf], format: Option<Format>) -> Result<Vec<Format>, ReplayError> {
    let formats = files.iter().map(|path| format.map_or_else(|| detect(path), Ok)).collect::<Result<Vec<_>, _>>()?;
    if let (Some(first), Some(position)) = (formats.first(), formats.iter().position(|format| Some(format) != formats.first())) {
        return Err(ReplayError::at(
            &files[position],
            1,
            format!(
                "is a {} recording but {} is {}; a session is one venue's recording: read them separately",
                format_name(formats[position]),
                files[0].display(),
                format_name(*first)
            ),
        ));
    }
    let symbols: Vec<(usize, String)> =
        formats.iter().enumerate().filter_map(|(index, format)| Some((index, recorded_symbol(&files[index], *format)?))).collect();
    if let Some((index, symbol)) = symbols.iter().find(|(_, symbol)| *symbol != symbols[0].1) {
        let (first_index, first_symbol) = &symbols[0];
        return Err(ReplayError::at(
            &files[*index],
            1,
            format!(
                "holds {symbol} but {} holds {first_symbol}; a session is one instrument's recording: read them separately",
                files[*first_index].display()
            ),
        ));
    }
    Ok(formats)
}

/// The instrument a recording names near its start, where its format names one:
/// `"s":"BTCUSDT"` in Binance and Bybit messages, the first column of a T_DEPTH row.
fn recorded_symbol(path: &Path, format: Format) -> Option<String> {
    use std::io::{BufRead, BufReader};
    let mut lines = BufReader::new(super::open_recording(path).ok()?).lines().take(SYMBOL_SCAN_LINES).map_while(Result::ok);
    match format {
        Format::Binance | Format::Bybit => lines
            .filter_map(|line| {
                let (_, rest) = line.split_once("\"s\":\"")?;
                rest.split_once('"').map(|(symbol, _)| symbol.to_string())
            })
            .next(),
        Format::Tdepth => lines.nth(1)?.split(',').next().map(str::to_string),
        Format::Csv | Format::Tape | Format::Hftbacktest => None,
    }
}

/// Lines read from the start of a recording to find the instrument it names (a
/// Binance session may open with a depth snapshot, which names none).
const SYMBOL_SCAN_LINES: usize = 100;

/// The name a format has in scenario files and flags.
fn format_name(format: Format) -> String {
    format!("{format:?}").to_lowercase()
}

/// Guesses a file's format from its first line.
pub fn detect(path: &Path) -> Result<Format, ReplayError> {
    use std::io::{BufRead, BufReader};
    if super::tape::is_tape(path)? {
        return Ok(Format::Tape);
    }
    let mut magic = [0u8; 6];
    let mut file = std::fs::File::open(path).map_err(|error| ReplayError::at(path, 0, format!("cannot open: {error}")))?;
    if std::io::Read::read_exact(&mut file, &mut magic).is_ok()
        && (&magic == b"\x93NUMPY" || (magic.starts_with(b"PK\x03\x04") && path.extension().is_some_and(|extension| extension == "npz")))
    {
        return Ok(Format::Hftbacktest);
    }
    let mut first = String::new();
    let read = BufReader::new(super::open_recording(path)?)
        .read_line(&mut first)
        .map_err(|error| ReplayError::at(path, 1, format!("cannot read: {error}")))?;
    if read == 0 {
        return Err(ReplayError::at(path, 1, "the file is empty (decompressed, if compressed); check it is the recording you meant"));
    }
    let first = first.trim_start();
    if first.starts_with("symbol,timestamp,first_update_id") {
        Ok(Format::Tdepth)
    } else if first.starts_with("time_ns,kind,side,price,quantity") {
        Ok(Format::Csv)
    } else if first.starts_with('{') && first.contains("\"topic\"") {
        Ok(Format::Bybit)
    } else if first.split_once(' ').is_some_and(|(time, rest)| time.chars().all(|ch| ch.is_ascii_digit()) && rest.starts_with('{')) {
        Ok(Format::Binance)
    } else {
        Err(ReplayError::at(path, 1, "unrecognized format; pass --format binance|bybit|tdepth|csv|tape|hftbacktest"))
    }
}

/// Reads every event of one file in `format`; malformed lines go to `bad_lines`.
pub fn read_file(
    path: &Path,
    format: Format,
    tick: Grid,
    lot: Grid,
    bad_lines: &BadLines,
) -> Result<Box<dyn Iterator<Item = Result<RecordedEvent, ReplayError>>>, ReplayError> {
    let bad = bad_lines.clone();
    Ok(match format {
        Format::Binance => Box::new(super::binance::BinanceReader::open_binance(path, tick, lot)?.with_bad_lines(bad)),
        Format::Bybit => Box::new(super::bybit::BybitReader::open_bybit(path, tick, lot)?.with_bad_lines(bad)),
        Format::Tdepth => Box::new(super::tdepth::read_tdepth_with(path, tick, lot, &bad)?.into_iter().map(Ok)),
        Format::Csv => Box::new(super::generic_csv::read_generic_csv_with(path, tick, lot, &bad)?.into_iter().map(Ok)),
        Format::Hftbacktest => Box::new(super::hftbacktest::read_hftbacktest(path, tick, lot, &bad)?.into_iter().map(Ok)),
        Format::Tape => {
            let tape = super::tape::ReplayTape::read(path)?;
            tape.check_grid(path, tick, lot)?;
            Box::new(tape.recorded_events().into_iter().map(Ok))
        }
    })
}

/// Statistics of a session.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Inspection {
    /// The files, in order.
    pub files: Vec<PathBuf>,
    /// Events by kind.
    pub events: BTreeMap<String, u64>,
    /// First and last local time, ns.
    pub local_span_ns: Option<(i64, i64)>,
    /// First and last exchange time, ns.
    pub exchange_span_ns: Option<(i64, i64)>,
    /// Diffs applied to a synchronized book.
    pub diffs_applied: u64,
    /// Snapshots.
    pub snapshots: u64,
    /// Gaps in the update ids (each followed by a resync at the next snapshot).
    pub gaps: u64,
    /// The first crossed book, if any (reading stops there).
    pub crossing: Option<String>,
    /// Spread after each book change: mean, min, max, in grid steps of the price.
    pub spread_ticks: Option<(f64, i64, i64)>,
    /// Mean levels per side after each book change.
    pub mean_levels: Option<(f64, f64)>,
    /// Local − exchange clock over events carrying both: mean, min, max, ms.
    pub clock_skew_ms: Option<(f64, f64, f64)>,
    /// Malformed lines skipped (under the skip policy).
    pub bad_lines: BadLineLog,
}

/// Inspects `files` as one session (the book carries across them).
/// With `skip_bad_lines`, malformed lines are counted and passed over, else the first is an error.
pub fn inspect(files: &[PathBuf], format: Option<Format>, tick: Grid, lot: Grid, skip_bad_lines: bool) -> Result<Inspection, ReplayError> {
    let bad_lines = BadLines::new(skip_bad_lines);
    let mut inspection = Inspection { files: files.to_vec(), ..Inspection::default() };
    let mut builder = BookBuilder::new(GapPolicy::Resync);
    let (mut spread_sum, mut spread_n, mut spread_min, mut spread_max) = (0.0, 0u64, i64::MAX, i64::MIN);
    let (mut levels_bid, mut levels_ask) = (0.0, 0.0);
    let (mut skew_sum, mut skew_n, mut skew_min, mut skew_max) = (0.0, 0u64, f64::MAX, f64::MIN);
    let formats = session_formats(files, format)?;
    'files: for (path, &format) in files.iter().zip(&formats) {
        for event in read_file(path, format, tick, lot, &bad_lines)? {
            let event = event?;
            let kind = match &event.message {
                Recorded::Snapshot { .. } => "snapshot",
                Recorded::Depth { .. } => "depth",
                Recorded::Trade { .. } => "trade",
                Recorded::BestBidOffer { .. } => "best_bid_offer",
            };
            *inspection.events.entry(kind.to_string()).or_default() += 1;
            widen(&mut inspection.local_span_ns, event.local_ns);
            if let Some(exchange_ns) = event.exchange_ns {
                widen(&mut inspection.exchange_span_ns, exchange_ns);
                let skew = (event.local_ns - exchange_ns) as f64 / 1e6;
                skew_sum += skew;
                skew_n += 1;
                skew_min = skew_min.min(skew);
                skew_max = skew_max.max(skew);
            }
            match builder.apply(path, &event) {
                Ok(true) => {
                    if let Some(((bid, _), (ask, _))) = builder.touch() {
                        let spread = ask - bid;
                        spread_sum += spread as f64;
                        spread_n += 1;
                        spread_min = spread_min.min(spread);
                        spread_max = spread_max.max(spread);
                        let (bids, asks) = builder.depth();
                        levels_bid += bids as f64;
                        levels_ask += asks as f64;
                    }
                }
                Ok(false) => {}
                Err(error) => {
                    inspection.crossing = Some(error.to_string());
                    break 'files;
                }
            }
        }
    }
    inspection.bad_lines = bad_lines.log();
    let stats = builder.stats();
    inspection.diffs_applied = stats.diffs_applied;
    inspection.snapshots = stats.snapshots;
    inspection.gaps = stats.gaps;
    if spread_n > 0 {
        inspection.spread_ticks = Some((spread_sum / spread_n as f64, spread_min, spread_max));
        inspection.mean_levels = Some((levels_bid / spread_n as f64, levels_ask / spread_n as f64));
    }
    if skew_n > 0 {
        inspection.clock_skew_ms = Some((skew_sum / skew_n as f64, skew_min, skew_max));
    }
    Ok(inspection)
}

fn widen(span: &mut Option<(i64, i64)>, time: i64) {
    *span = Some(match *span {
        Some((first, last)) => (first.min(time), last.max(time)),
        None => (time, time),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_of_two_formats_is_refused_at_the_file_that_differs() {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("a.csv");
        let bybit = dir.path().join("b.jsonl");
        std::fs::write(&csv, "time_ns,kind,side,price,quantity\n").unwrap();
        std::fs::write(&bybit, "{\"topic\":\"orderbook.50.XRPUSDT\"}\n").unwrap();
        assert_eq!(session_formats(&[csv.clone(), csv.clone()], None).unwrap(), [Format::Csv, Format::Csv]);
        let error = session_formats(&[csv.clone(), bybit.clone()], None).unwrap_err();
        assert_eq!((error.path.as_path(), error.line), (bybit.as_path(), 1));
        assert!(error.message.contains("is a bybit recording but") && error.message.contains("is csv"), "{error}");
        // Two instruments of one format.
        let btc = dir.path().join("btc.csv");
        let eth = dir.path().join("eth.csv");
        let header = "symbol,timestamp,first_update_id,last_update_id,side,update_type,price,qty,pu\n";
        std::fs::write(&btc, format!("{header}BTCUSDT,1,1,1,b,snap,1.0,1.0,-1\n")).unwrap();
        std::fs::write(&eth, format!("{header}ETHUSDT,1,1,1,b,snap,1.0,1.0,-1\n")).unwrap();
        assert!(session_formats(&[btc.clone(), btc.clone()], None).is_ok());
        let error = session_formats(&[btc, eth.clone()], None).unwrap_err();
        assert!(error.path == eth && error.message.contains("holds ETHUSDT but") && error.message.contains("holds BTCUSDT"), "{error}");
        // A format given for all is taken for all.
        assert_eq!(session_formats(&[csv, bybit], Some(Format::Csv)).unwrap(), [Format::Csv, Format::Csv]);
    }

    #[test]
    fn an_empty_file_is_said_to_be_empty_and_an_unknown_one_asks_for_its_format() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.jsonl");
        std::fs::write(&empty, "").unwrap();
        let error = detect(&empty).unwrap_err();
        assert!(error.line == 1 && error.message.starts_with("the file is empty"), "{error}");
        let unknown = dir.path().join("notes.txt");
        std::fs::write(&unknown, "hello\n").unwrap();
        assert!(detect(&unknown).unwrap_err().message.starts_with("unrecognized format; pass --format"));
    }
}
