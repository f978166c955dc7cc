//! The `drydock` command line: a thin layer over the harness library.
//!
//! Exit codes: 0 all expectations pass, 1 an expectation failed, 2 bad input
//! (scenario, profile, flag, unwritable output), 3 nondeterminism found by
//! `--verify`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use drydock::{LoadOptions, RunResult, Scenario, Verification, default_out_dir, run_scenario_with};

/// Deterministic simulation and replay harness for a market-making engine.
#[derive(Parser)]
#[command(name = "drydock", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run one scenario, print its summary and write its artifacts.
    Run {
        /// The scenario file (scenarios/*.toml).
        scenario: PathBuf,
        /// Replace the scenario's seed.
        #[arg(long)]
        seed: Option<u64>,
        /// Override a setting: section.key=value (repeatable), e.g. engine.min_interval_ms=200.
        #[arg(long = "set", value_name = "SECTION.KEY=VALUE")]
        overrides: Vec<String>,
        /// Engine profile: a name in the nearest profiles/ folder above the scenario, or a path
        #[arg(long)]
        profile: Option<String>,
        /// Artifact folder (default artifacts/<scenario>-<seed>/).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Run again on another thread and exit 3 if the fingerprints differ.
        #[arg(long)]
        verify: bool,
        /// Time the dock's stages (wall clock) into perf.json; soaks always do.
        #[arg(long)]
        perf: bool,
    },
    /// Run scenarios in parallel and compare them with their golden snapshots.
    Check {
        /// Scenario files (default: every scenarios/*.toml).
        scenarios: Vec<PathBuf>,
        /// Parallel runs (default, and 0: the number of cores; at most 1024).
        #[arg(long, value_parser = parse_jobs)]
        jobs: Option<usize>,
        /// Golden folder (default: the nearest golden/ at or above the first scenario's folder).
        #[arg(long)]
        golden: Option<PathBuf>,
    },
    /// Accept scenarios' current outputs as their golden snapshots.
    Bless {
        /// Scenario files to bless.
        scenarios: Vec<PathBuf>,
        /// Bless every scenarios/*.toml.
        #[arg(long, conflicts_with = "scenarios")]
        all: bool,
        /// Parallel runs (default, and 0: the number of cores; at most 1024).
        #[arg(long, value_parser = parse_jobs)]
        jobs: Option<usize>,
        /// Golden folder (default: the nearest golden/ at or above the first scenario's folder).
        #[arg(long)]
        golden: Option<PathBuf>,
    },
    /// Run a parameter sweep in parallel (or `sweep merge` shard folders).
    #[command(args_conflicts_with_subcommands = true)]
    Sweep {
        #[command(subcommand)]
        merge: Option<SweepCommand>,
        /// The sweep file (sweeps/*.toml).
        sweep: Option<PathBuf>,
        /// Parallel runs (default, and 0: the number of cores; at most 1024).
        #[arg(long, value_parser = parse_jobs)]
        jobs: Option<usize>,
        /// Output folder (default artifacts/sweeps/<name>/); rerunning into it resumes.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Run only shard K of N (K from 1), e.g. --shard 2/8.
        #[arg(long)]
        shard: Option<drydock::sweep::Shard>,
    },
    /// Compare two report.json (or golden .snap) files metric by metric.
    Diff {
        /// The baseline.
        a: PathBuf,
        /// The new one.
        b: PathBuf,
    },
    /// Work with recorded market data.
    Data {
        #[command(subcommand)]
        command: DataCommand,
    },
    /// Inspect configuration.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Manage artifact folders.
    Artifacts {
        #[command(subcommand)]
        command: ArtifactsCommand,
    },
}

#[derive(Subcommand)]
enum SweepCommand {
    /// Merge shard folders into the outputs an unsharded sweep writes.
    Merge {
        /// Shard output folders.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// The merged output folder.
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
enum DataCommand {
    /// Span, events by kind, gaps, crossings, spread and depth, clock skew of a session.
    Inspect {
        /// Recordings, in session order (the book carries across files).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// binance, bybit, tdepth, csv, tape or hftbacktest (default: detected per file).
        #[arg(long)]
        format: Option<drydock_sim::replay::inspect::Format>,
        /// Price grid (default 0.00000001: exact for every bundled format).
        #[arg(long, default_value = "0.00000001")]
        tick: String,
        /// Quantity grid.
        #[arg(long, default_value = "0.00000001")]
        lot: String,
        /// Count and pass over malformed lines instead of stopping at the first.
        #[arg(long)]
        skip_bad_lines: bool,
    },
    /// Convert a session to Drydock's compact tape (.ddtape) for fast repeated replay;
    /// replaying the tape gives the identical fingerprint.
    Convert {
        /// Recordings, in session order (the book carries across files).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The tape to write.
        #[arg(short = 'o', long = "out")]
        out: PathBuf,
        /// binance, bybit, tdepth, csv, tape or hftbacktest (default: detected per file).
        #[arg(long)]
        format: Option<drydock_sim::replay::inspect::Format>,
        /// Price grid: the scenario's market.instrument.tick_size.
        #[arg(long)]
        tick: String,
        /// Quantity grid: the scenario's market.instrument.lot_size.
        #[arg(long)]
        lot: String,
        /// exchange or local: the recorded clock that becomes virtual time.
        #[arg(long, default_value = "exchange")]
        clock: drydock_sim::replay::tape::ReplayClock,
        /// Added to the clock, milliseconds (at most a day either way, as in a scenario's market.source).
        #[arg(long, default_value_t = 0, allow_hyphen_values = true, value_parser = clap::value_parser!(i64).range(-86_400_000..=86_400_000))]
        offset_ms: i64,
        /// stop or resync at a gap in the update ids.
        #[arg(long, default_value = "stop")]
        gap_policy: drydock_sim::replay::book::GapPolicy,
        /// Count and pass over malformed lines instead of stopping at the first.
        #[arg(long)]
        skip_bad_lines: bool,
    },
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Print every effective engine parameter and where it came from.
    Show {
        /// The scenario file.
        scenario: PathBuf,
        /// Engine profile: a name in the nearest profiles/ folder above the scenario, or a path
        #[arg(long)]
        profile: Option<String>,
        /// Override a setting: section.key=value (repeatable).
        #[arg(long = "set", value_name = "SECTION.KEY=VALUE")]
        overrides: Vec<String>,
    },
}

#[derive(Subcommand)]
enum ArtifactsCommand {
    /// Keep the newest N run folders, then the newest that fit in M megabytes.
    Prune {
        /// Run folders to keep at most.
        #[arg(long)]
        keep: usize,
        /// Total size to keep at most, MB (default: no limit).
        #[arg(long = "max-mb")]
        max_mb: Option<u64>,
        /// The artifacts folder.
        #[arg(long, default_value = "artifacts")]
        dir: PathBuf,
        /// Report what would go without removing anything.
        #[arg(long)]
        dry_run: bool,
    },
}

/// Appends a line to an output buffer (writing to a String cannot fail).
macro_rules! say {
    ($out:expr, $($arg:tt)*) => {{
        use std::fmt::Write as _;
        let _ = writeln!($out, $($arg)*);
    }};
}

/// Writes the output; a reader that went away (a closed pipe) ends it quietly.
fn emit(text: &str) {
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush());
}

const EXIT_EXPECTATION_FAILED: u8 = 1;
const EXIT_BAD_INPUT: u8 = 2;
const EXIT_NONDETERMINISM: u8 = 3;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match execute(cli) {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("error: {}", error_chain(&error));
            ExitCode::from(EXIT_BAD_INPUT)
        }
    }
}

/// The error and its causes joined by ": ", leaving out a cause whose text an outer
/// message already quotes (our typed errors name their cause and say how to fix it).
fn error_chain(error: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in error.chain() {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&cause);
        }
    }
    text
}

fn execute(cli: Cli) -> anyhow::Result<u8> {
    match cli.command {
        Command::Run { scenario, seed, overrides, profile, out, verify, perf } => {
            let options = LoadOptions { profile, overrides, seed, profiles_dir: None, tapes: Default::default() };
            let scenario = Scenario::load(&scenario, &options)?;
            let out_dir = out.unwrap_or_else(|| default_out_dir(&scenario));
            let result =
                run_scenario_with(&scenario, &out_dir, verify, perf).with_context(|| format!("running {}", scenario.path.display()))?;
            let mut out = String::new();
            print_summary(&mut out, &result);
            emit(&out);
            Ok(exit_code(&result))
        }
        Command::Check { scenarios, jobs, golden } => check_command(scenarios, jobs, golden),
        Command::Sweep { merge: Some(SweepCommand::Merge { dirs, out }), .. } => {
            let summary = drydock::sweep::merge(&dirs, &out)?;
            let mut text = format!("merged {} runs from {} folders into {}\n", summary.merged, dirs.len(), out.display());
            let complete = summary.merged as u64 >= summary.planned;
            if !complete {
                let missing = summary.planned - summary.merged as u64;
                say!(
                    text,
                    "INCOMPLETE: {missing} of {} planned runs are in none of these folders (a shard missing or unfinished?); the outputs cover the merged runs only",
                    summary.planned
                );
            }
            emit(&text);
            Ok(if complete { 0 } else { EXIT_EXPECTATION_FAILED })
        }
        Command::Sweep { merge: None, sweep, jobs, out, shard } => {
            let path = sweep.context("name a sweep file, e.g. drydock sweep sweeps/spread_vs_size.toml")?;
            let sweep = drydock::sweep::spec::Sweep::load(&path)?;
            let out = out.unwrap_or_else(|| PathBuf::from("artifacts/sweeps").join(&sweep.file.sweep.name));
            let started = std::time::Instant::now();
            let summary = drydock::sweep::run_sweep(&sweep, &out, jobs_or_cores(jobs), shard, None)?;
            let wall_s = started.elapsed().as_secs_f64();
            let mut text = String::new();
            say!(
                text,
                "sweep {}: {} runs planned, {} run now, {} resumed, {:.2} s ({:.1} runs/s)",
                sweep.file.sweep.name,
                summary.planned,
                summary.executed,
                summary.resumed,
                wall_s,
                summary.executed as f64 / wall_s.max(1e-9)
            );
            if summary.dropped > 0 {
                say!(
                    text,
                    "  dropped {} recorded runs of another sweep or an earlier configuration from {}",
                    summary.dropped,
                    out.display()
                );
            }
            say!(text, "  outputs in {}: results.csv summary.csv pareto.csv best_profile.toml", out.display());
            emit(&text);
            Ok(0)
        }
        Command::Bless { scenarios, all, jobs, golden } => bless_command(scenarios, all, jobs, golden),
        Command::Diff { a, b } => {
            let (left, right, mixed) = drydock::golden::align_for_diff(read_json_or_golden(&a)?, read_json_or_golden(&b)?);
            let comparison = drydock::golden::compare(&left, &right, &Default::default());
            let mut out = String::new();
            if mixed {
                say!(
                    out,
                    "a report and a snapshot: compared on what both hold (a snapshot's numbers may be rounded to its scenario's golden tolerances)"
                );
            }
            if comparison.matches() {
                say!(out, "{} and {} match", a.display(), b.display());
            }
            for line in drydock::golden::describe_pair(&comparison, usize::MAX) {
                say!(out, "{line}");
            }
            emit(&out);
            Ok(if comparison.matches() { 0 } else { EXIT_EXPECTATION_FAILED })
        }
        Command::Data { command: DataCommand::Inspect { files, format, tick, lot, skip_bad_lines } } => {
            let (tick_grid, lot_grid) = (parse_grid(&tick, "tick")?, parse_grid(&lot, "lot")?);
            let inspection = drydock_sim::replay::inspect::inspect(&files, format, tick_grid, lot_grid, skip_bad_lines)?;
            let tick_size: f64 = tick.parse().unwrap_or(0.0);
            let mut out = String::new();
            for file in &inspection.files {
                say!(out, "file {}", file.display());
            }
            let kinds: Vec<String> = inspection.events.iter().map(|(kind, count)| format!("{kind} {count}")).collect();
            say!(out, "events: {}", kinds.join(", "));
            if let Some((first, last)) = inspection.local_span_ns {
                say!(out, "local span: {first} .. {last} ns ({:.3} s)", (last - first) as f64 / 1e9);
            }
            if let Some((first, last)) = inspection.exchange_span_ns {
                say!(out, "exchange span: {first} .. {last} ns ({:.3} s)", (last - first) as f64 / 1e9);
            }
            say!(out, "book: {} snapshots, {} diffs applied, {} gaps", inspection.snapshots, inspection.diffs_applied, inspection.gaps);
            match &inspection.crossing {
                Some(crossing) => say!(out, "CROSSED: {crossing}"),
                None => say!(out, "crossings: none"),
            }
            if let Some((mean, min, max)) = inspection.spread_ticks {
                say!(
                    out,
                    "spread: mean {:.8} min {:.8} max {:.8} (price units)",
                    mean * tick_size,
                    min as f64 * tick_size,
                    max as f64 * tick_size
                );
            }
            if let Some((bids, asks)) = inspection.mean_levels {
                say!(out, "depth: {bids:.1} bid levels, {asks:.1} ask levels on average");
            }
            if let Some((mean, min, max)) = inspection.clock_skew_ms {
                say!(out, "clock skew (local - exchange): mean {mean:.1} ms, min {min:.1} ms, max {max:.1} ms");
            }
            if skip_bad_lines {
                say!(out, "malformed lines skipped: {}", inspection.bad_lines.skipped);
                for example in &inspection.bad_lines.examples {
                    say!(out, "  {example}");
                }
            }
            emit(&out);
            Ok(if inspection.crossing.is_some() { EXIT_EXPECTATION_FAILED } else { 0 })
        }
        Command::Data { command: DataCommand::Convert { files, out, format, tick, lot, clock, offset_ms, gap_policy, skip_bad_lines } } => {
            use drydock_sim::replay::tape::{ReplayTape, TapeOptions};
            let (tick_grid, lot_grid) = (parse_grid(&tick, "tick")?, parse_grid(&lot, "lot")?);
            let options = TapeOptions { format, clock, offset_ns: offset_ms * 1_000_000, gap_policy, skip_bad_lines };
            let tape = ReplayTape::load(&files, &options, tick_grid, lot_grid)?;
            let mut bytes = Vec::new();
            tape.write_to(&mut bytes).context("encoding the tape")?;
            drydock::report::write_atomic(&out, &bytes)?;
            let stats = &tape.header().stats;
            let mut text = String::new();
            say!(
                text,
                "wrote {} ({} bytes): {} books, {} diffs, {} trades, {} level updates over {:.3} s; tape {}",
                out.display(),
                bytes.len(),
                stats.books,
                stats.diffs,
                stats.trades,
                stats.level_updates,
                tape.span_ns() as f64 / 1e9,
                &tape.hash()[..16]
            );
            say!(
                text,
                "clock {}: {} trades placed before the diff recorded ahead of them, {} book changes raised to the previous time, {} gaps resynchronized",
                clock.name(),
                stats.trades_reordered,
                stats.clock_inversions,
                stats.gaps
            );
            if skip_bad_lines {
                say!(text, "malformed lines skipped: {}", stats.bad_lines_skipped);
                for example in &tape.header().bad_line_examples {
                    say!(text, "  {example}");
                }
            }
            emit(&text);
            Ok(0)
        }
        Command::Config { command: ConfigCommand::Show { scenario, profile, overrides } } => {
            let options = LoadOptions { profile, overrides, seed: None, profiles_dir: None, tapes: Default::default() };
            let scenario = Scenario::load(&scenario, &options)?;
            let mut out = String::new();
            print_config(&mut out, &scenario);
            emit(&out);
            Ok(0)
        }
        Command::Artifacts { command: ArtifactsCommand::Prune { keep, max_mb, dir, dry_run } } => {
            let max_bytes = max_mb.map_or(u64::MAX, |megabytes| megabytes.saturating_mul(1024 * 1024));
            let report = drydock::artifacts::prune(&dir, keep, max_bytes, dry_run)?;
            let mut out = String::new();
            for folder in &report.folders {
                let action = if folder.removed { if dry_run { "would remove" } else { "removed" } } else { "kept" };
                say!(out, "{action:>12}  {:>10.3} MB  {}", folder.bytes as f64 / 1_048_576.0, folder.path.display());
            }
            say!(
                out,
                "kept {:.3} MB, freed {:.3} MB",
                report.kept_bytes() as f64 / 1_048_576.0,
                report.removed_bytes() as f64 / 1_048_576.0
            );
            emit(&out);
            Ok(0)
        }
    }
}

fn scenario_paths(scenarios: Vec<PathBuf>) -> anyhow::Result<Vec<PathBuf>> {
    if !scenarios.is_empty() {
        return Ok(scenarios);
    }
    drydock::check::catalogue(std::path::Path::new("scenarios"))
        .context("reading scenarios/ (run from the repository root or name the scenarios)")
}

/// Most parallel runs `--jobs` takes: each run is a thread with its own simulation.
const JOBS_MAX: usize = 1024;

/// `--jobs`: a whole number from 0 (the number of cores) to [`JOBS_MAX`].
fn parse_jobs(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(jobs) if jobs <= JOBS_MAX => Ok(jobs),
        _ => Err(format!("expected a whole number of parallel runs from 0 (the number of cores) to {JOBS_MAX}")),
    }
}

fn jobs_or_cores(jobs: Option<usize>) -> usize {
    jobs.filter(|&jobs| jobs > 0).unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from))
}

fn check_command(scenarios: Vec<PathBuf>, jobs: Option<usize>, golden: Option<PathBuf>) -> anyhow::Result<u8> {
    use drydock::check::CheckStatus;
    let paths = scenario_paths(scenarios)?;
    let golden = &golden_dir(golden, &paths);
    let options = LoadOptions::default();
    let started = std::time::Instant::now();
    let results = drydock::check::check(&paths, golden, &options, jobs_or_cores(jobs));
    let mut out = String::new();
    let (mut regressions, mut errors, mut failing) = (0, 0, 0);
    for result in &results {
        let name = result.name.clone().unwrap_or_else(|| result.path.display().to_string());
        match &result.status {
            CheckStatus::Match if !result.failed_expectations.is_empty() => {
                failing += 1;
                say!(out, "FAILING   {name}: matches its golden, but expectations fail");
                for failed in &result.failed_expectations {
                    say!(out, "          FAIL {failed}");
                }
            }
            CheckStatus::Match => say!(out, "ok        {name}"),
            CheckStatus::Missing => {
                regressions += 1;
                say!(out, "MISSING   {name}: no golden in {} (run `drydock bless {}`)", golden.display(), result.path.display());
            }
            CheckStatus::Regression(comparison) => {
                regressions += 1;
                say!(out, "CHANGED   {name}");
                for line in drydock::golden::describe(comparison, 40) {
                    say!(out, "          {line}");
                }
            }
            CheckStatus::Error(message) => {
                errors += 1;
                say!(out, "ERROR     {name}: {message}");
            }
        }
    }
    say!(
        out,
        "{} scenarios: {} match, {regressions} changed or missing, {failing} failing expectations, {errors} errors ({:.2} s)",
        results.len(),
        results.len() - regressions - errors - failing,
        started.elapsed().as_secs_f64()
    );
    emit(&out);
    Ok(if errors > 0 {
        EXIT_BAD_INPUT
    } else if regressions > 0 || failing > 0 {
        EXIT_EXPECTATION_FAILED
    } else {
        0
    })
}

fn bless_command(scenarios: Vec<PathBuf>, all: bool, jobs: Option<usize>, golden: Option<PathBuf>) -> anyhow::Result<u8> {
    use drydock::check::CheckStatus;
    if scenarios.is_empty() && !all {
        anyhow::bail!("name the scenarios to bless, or pass --all");
    }
    let paths = scenario_paths(scenarios)?;
    let golden = &golden_dir(golden, &paths);
    let options = LoadOptions::default();
    let results = drydock::check::bless(&paths, golden, &options, jobs_or_cores(jobs));
    let mut out = String::new();
    let mut errors = 0;
    for result in &results {
        match (&result.status, &result.name) {
            (CheckStatus::Error(message), _) => {
                errors += 1;
                say!(out, "ERROR     {}: {message}", result.path.display());
            }
            (_, Some(name)) => {
                say!(out, "blessed   {name} -> {}", drydock::golden::golden_path(golden, name).display());
                for failed in &result.failed_expectations {
                    say!(out, "          warning: FAIL {failed} (`drydock check` fails until it passes)");
                }
            }
            _ => {}
        }
    }
    emit(&out);
    Ok(if errors > 0 { EXIT_BAD_INPUT } else { 0 })
}

/// The golden folder: as given, else the nearest `golden/` at or above the first
/// scenario's folder (a repository's goldens, from any working directory), else
/// `golden` here.
fn golden_dir(given: Option<PathBuf>, scenarios: &[PathBuf]) -> PathBuf {
    given
        .or_else(|| scenarios.first().and_then(|path| drydock::scenario::nearest_folder(path, "golden")))
        .unwrap_or_else(|| PathBuf::from("golden"))
}

/// A report.json, or the snapshot inside a golden .snap file.
fn read_json_or_golden(path: &std::path::Path) -> anyhow::Result<serde_json::Value> {
    if path.extension().is_some_and(|extension| extension == "snap") {
        return Ok(drydock::golden::read_golden(path)?);
    }
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))
}

/// Every engine parameter with its effective value and source, then the soak section.
fn print_config(out: &mut String, scenario: &Scenario) {
    say!(out, "# {} ({}), profile {}", scenario.header.name, scenario.path.display(), scenario.profile);
    say!(out, "# precedence: default < scenario < profile < --set");
    let params = serde_json::to_value(&scenario.params).expect("parameters serialize");
    for (name, value) in params.as_object().expect("parameters are a table") {
        let source = scenario.param_sources.get(name).map_or("default".to_string(), ToString::to_string);
        say!(out, "engine.{name} = {value}  ({source})");
    }
    if let Some(soak) = &scenario.soak {
        say!(out, "soak = {}", serde_json::to_string(soak).expect("soak serializes"));
    }
}

fn exit_code(result: &RunResult) -> u8 {
    if matches!(result.verification, Some(Verification::Diverged { .. })) {
        EXIT_NONDETERMINISM
    } else if result.report.passed() {
        0
    } else {
        EXIT_EXPECTATION_FAILED
    }
}

fn print_summary(out: &mut String, result: &RunResult) {
    let report = &result.report;
    let kpis = &report.kpis;
    let speedup = if result.wall_s > 0.0 { report.duration_s / result.wall_s } else { f64::INFINITY };
    say!(
        out,
        "drydock run: {} (seed {}, profile {}): {} s simulated in {:.3} s ({:.0}x)",
        report.scenario,
        report.seed,
        report.profile,
        report.duration_s,
        result.wall_s,
        speedup
    );
    say!(out, "  fingerprint {}", report.fingerprint);
    if let Some(replay) = &report.replay {
        say!(
            out,
            "  replay {} on {} time: {} diffs, {} trades; tape {}",
            replay.sources.join(" + "),
            replay.clock.name(),
            replay.stats.diffs,
            replay.stats.trades,
            &replay.tape_hash[..16]
        );
        if replay.stats.bad_lines_skipped > 0 {
            say!(out, "  replay skipped {} malformed lines (skip_bad_lines); see report.json", replay.stats.bad_lines_skipped);
        }
    }
    say!(
        out,
        "  kpis: net_bps {:.2}  pnl {:.2}  fills {}  maker/taker lots {}/{}  taker_share {:.1}%  max_inventory {} lots  max_drawdown {:.2}",
        kpis.net_bps,
        kpis.pnl_total,
        kpis.fills,
        kpis.maker_volume,
        kpis.taker_volume,
        kpis.taker_share_pct,
        kpis.max_inventory_abs,
        kpis.max_drawdown
    );
    say!(
        out,
        "        adverse_p95 {:.2} bps  slippage_p95 {:.2} bps  risk_ratio {:.3}  uptime {:.1}%  orders {} (rejected {})",
        kpis.adverse_p95_bps,
        kpis.slippage_p95_bps,
        kpis.risk_ratio,
        kpis.quote_uptime_pct,
        kpis.orders_sent,
        kpis.orders_rejected
    );
    if !kpis.block_reasons.is_empty() {
        let reasons: Vec<String> = kpis.block_reasons.iter().map(|(reason, count)| format!("{reason} {count}")).collect();
        say!(out, "        blocked: {}", reasons.join(", "));
    }
    for event in &report.events {
        let measured: Vec<String> = event.measured.iter().map(|(name, value)| format!("{name} {value:.3}")).collect();
        say!(out, "  event {} at {} s: {}", event.name, event.start_s, measured.join(", "));
    }
    for expectation in &report.expectations {
        let verdict = if expectation.pass { "PASS" } else { "FAIL" };
        say!(out, "  {verdict} {}", expectation.describe());
    }
    if let Some(soak) = &report.soak {
        let verdicts: Vec<String> = soak.verdicts.iter().map(|(verdict, count)| format!("{verdict} {count}")).collect();
        say!(
            out,
            "  soak: {}/{} iterations ({}), panic reverts {}, verdict {}",
            soak.iterations_run,
            soak.iterations,
            verdicts.join(", "),
            soak.panic_reverts,
            soak.verdict
        );
        if let Some(stop) = &soak.stopped_by {
            say!(
                out,
                "  soak STOPPED by {} at {:.0} s: {:.3} > {} over {} min",
                stop.criterion,
                stop.at_s,
                stop.value,
                stop.threshold,
                stop.window_minutes
            );
        }
        for warning in &soak.warnings {
            say!(
                out,
                "  soak warning: {} at {:.0} s: {:.3} > {} over {} min",
                warning.criterion,
                warning.at_s,
                warning.value,
                warning.threshold,
                warning.window_minutes
            );
        }
    }
    if let Some(perf) = &result.perf {
        let stages: Vec<String> = perf
            .iter()
            .map(|(stage, timing)| format!("{stage} p50 {} / p95 {} / p99 {} ns", timing.p50_ns, timing.p95_ns, timing.p99_ns))
            .collect();
        say!(out, "  perf (wall clock, sampled; perf.json): {}", stages.join("; "));
    }
    match &result.verification {
        Some(Verification::Identical) => say!(out, "  verify: identical fingerprint on a second run on another thread"),
        Some(Verification::Diverged { record, first, second }) => {
            say!(out, "  verify: NONDETERMINISM at record {record}\n    first:  {first}\n    second: {second}")
        }
        None => {}
    }
    say!(out, "  verdict: {}  artifacts: {}", report.verdict, result.out_dir.display());
}

/// A `--tick` / `--lot` grid step.
fn parse_grid(text: &str, flag: &str) -> anyhow::Result<drydock_sim::replay::decimal::Grid> {
    drydock_sim::replay::decimal::Grid::parse(text).with_context(|| format!("--{flag} {text}: expected a positive decimal step, e.g. 0.01"))
}
