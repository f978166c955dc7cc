//! The command line's flags and subcommands (clap): what each takes and its help
//! text. Checking a flag's value belongs here when clap can do it at parse time
//! (`--jobs`); what a command does with its flags is in `commands.rs`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Deterministic simulation and replay harness for a market-making engine.
#[derive(Parser)]
#[command(name = "drydock", version, about)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Subcommand)]
pub(crate) enum Command {
    /// Run one scenario, print its summary and write its artifacts.
    Run(RunArgs),
    /// Run scenarios in parallel and compare them with their golden snapshots.
    Check {
        /// Scenario files, or folders of them (default: every scenarios/*.toml).
        scenarios: Vec<PathBuf>,
        /// Parallel runs (default, and 0: the number of cores; at most 1024).
        #[arg(long, value_parser = parse_jobs)]
        jobs: Option<usize>,
        /// Golden folder (default: the nearest golden/ at or above the first scenario's folder).
        #[arg(long)]
        golden: Option<PathBuf>,
        /// Keep each scenario's artifacts in DIR/<scenario>/ and write DIR/index.html,
        /// the results to review (default: the artifacts are discarded).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Accept scenarios' current outputs as their golden snapshots.
    Bless {
        /// Scenario files to bless, or folders of them.
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
    /// Decide whether an engine build may be promoted: run a gate file's checks
    /// (goldens, expectations over seeds, sweep comparisons, journal parity) and say GO or NO-GO.
    Gate {
        /// The gate file (gates/*.toml).
        gate: PathBuf,
        /// Every check blocks, advisory ones too (default: provisional, where a failed
        /// advisory check only warns).
        #[arg(long)]
        strict: bool,
        /// Parallel runs (default, and 0: the number of cores; at most 1024).
        #[arg(long, value_parser = parse_jobs)]
        jobs: Option<usize>,
        /// Output folder (default artifacts/gates/<name>/): gate.json, gate.html and
        /// each check's evidence in a folder named after it.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Compare two report.json (or golden .snap) files metric by metric.
    Diff {
        /// The baseline.
        a: PathBuf,
        /// The new one.
        b: PathBuf,
    },
    /// Replay a run's journal (the engine's every event and command) into this build's
    /// engine, or find where two journals part.
    Journal {
        #[command(subcommand)]
        command: JournalCommand,
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
pub(crate) enum SweepCommand {
    /// Merge shard folders into the outputs an unsharded sweep writes.
    Merge {
        /// Shard output folders.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// The merged output folder.
        #[arg(long)]
        out: PathBuf,
    },
    /// Compare a candidate sweep with a baseline of the same plan, run by run: GO, or
    /// NO-GO when an objective got significantly worse or a point broke a constraint.
    Compare {
        /// The baseline's output folder.
        baseline: PathBuf,
        /// The candidate's output folder (the same points, scenarios and seeds).
        candidate: PathBuf,
        /// Also write compare.csv (every point and objective) and compare.html into this folder.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Call a change only when it is at least this percent of the baseline mean
        /// (default 0: any significant change).
        #[arg(long, default_value_t = 0.0, value_parser = parse_percent)]
        min_effect_pct: f64,
    },
}

#[derive(Subcommand)]
pub(crate) enum JournalCommand {
    /// Shadow parity: hand the journal's events to this build's engine, built as the
    /// recorded one was (with parameter changes if asked), and compare its commands
    /// with the recorded ones; exit 0 identical, 1 at the first event they differ.
    Replay {
        /// The journal (journal.jsonl.gz from `drydock run --journal`, or the run folder holding it).
        journal: PathBuf,
        /// Engine profile over the recorded parameters: a name in the nearest profiles/
        /// folder above the journal, or a path
        #[arg(long)]
        profile: Option<String>,
        /// Change an engine parameter before the first event: engine.KEY=VALUE (repeatable).
        #[arg(long = "set", value_name = "engine.KEY=VALUE")]
        changes: Vec<String>,
    },
    /// The first record where two journals part (the same scenario on two machines,
    /// builds or settings); exit 0 when every record is the same, 1 otherwise.
    Diff {
        /// The first journal (or the run folder holding it).
        a: PathBuf,
        /// The second journal (or the run folder holding it).
        b: PathBuf,
    },
}

#[derive(Subcommand)]
pub(crate) enum DataCommand {
    /// Span, events by kind, gaps, crossings, spread and depth, clock skew of a session.
    Inspect(InspectArgs),
    /// Convert a session to Drydock's compact tape (.ddtape) for fast repeated replay;
    /// replaying the tape gives the identical fingerprint.
    Convert(ConvertArgs),
    /// Fit the market generator to a session and write a scenario whose generated
    /// market behaves like it (with the recorded and simulated statistics side by side).
    Calibrate(CalibrateArgs),
}

#[derive(Subcommand)]
pub(crate) enum ConfigCommand {
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
pub(crate) enum ArtifactsCommand {
    /// Keep the newest N run folders, then the newest that fit in M megabytes.
    Prune(PruneArgs),
}

#[derive(Args)]
pub(crate) struct RunArgs {
    /// The scenario file (scenarios/*.toml).
    pub(crate) scenario: PathBuf,
    /// Replace the scenario's seed.
    #[arg(long)]
    pub(crate) seed: Option<u64>,
    /// Override a setting: section.key=value (repeatable), e.g. engine.min_interval_ms=200.
    #[arg(long = "set", value_name = "SECTION.KEY=VALUE")]
    pub(crate) overrides: Vec<String>,
    /// Engine profile: a name in the nearest profiles/ folder above the scenario, or a path
    #[arg(long)]
    pub(crate) profile: Option<String>,
    /// Artifact folder (default artifacts/<scenario>-<seed>/).
    #[arg(long)]
    pub(crate) out: Option<PathBuf>,
    /// Run again on another thread and exit 3 if the fingerprints differ.
    #[arg(long)]
    pub(crate) verify: bool,
    /// Time the dock's stages (wall clock) into perf.json; soaks always do.
    #[arg(long)]
    pub(crate) perf: bool,
    /// Write journal.jsonl.gz: every event the engine was handed and every command it
    /// emitted, for `drydock journal replay` and `drydock journal diff`.
    #[arg(long)]
    pub(crate) journal: bool,
}

#[derive(Args)]
pub(crate) struct InspectArgs {
    /// Recordings, in session order (the book carries across files).
    #[arg(required = true)]
    pub(crate) files: Vec<PathBuf>,
    /// binance, bybit, tdepth, csv, tape or hftbacktest (default: detected per file).
    #[arg(long)]
    pub(crate) format: Option<drydock_sim::replay::inspect::Format>,
    /// Price grid (default: a tape's own, else 0.00000001, exact for every bundled format).
    #[arg(long)]
    pub(crate) tick: Option<String>,
    /// Quantity grid (default: a tape's own, else 0.00000001).
    #[arg(long)]
    pub(crate) lot: Option<String>,
    /// Count and pass over malformed lines instead of stopping at the first.
    #[arg(long)]
    pub(crate) skip_bad_lines: bool,
}

/// A recorded session read onto a tape: what `data convert` and `data calibrate` share.
#[derive(Args)]
pub(crate) struct SessionArgs {
    /// Recordings, in session order (the book carries across files).
    #[arg(required = true)]
    pub(crate) files: Vec<PathBuf>,
    /// binance, bybit, tdepth, csv, tape or hftbacktest (default: detected per file).
    #[arg(long)]
    pub(crate) format: Option<drydock_sim::replay::inspect::Format>,
    /// Price grid: the scenario's market.instrument.tick_size.
    #[arg(long)]
    pub(crate) tick: String,
    /// Quantity grid: the scenario's market.instrument.lot_size.
    #[arg(long)]
    pub(crate) lot: String,
    /// exchange or local: the recorded clock that becomes virtual time.
    #[arg(long, default_value = "exchange")]
    pub(crate) clock: drydock_sim::replay::tape::ReplayClock,
    /// stop or resync at a gap in the update ids.
    #[arg(long, default_value = "stop")]
    pub(crate) gap_policy: drydock_sim::replay::book::GapPolicy,
    /// Count and pass over malformed lines instead of stopping at the first.
    #[arg(long)]
    pub(crate) skip_bad_lines: bool,
}

#[derive(Args)]
pub(crate) struct ConvertArgs {
    #[command(flatten)]
    pub(crate) session: SessionArgs,
    /// The tape to write.
    #[arg(short = 'o', long = "out")]
    pub(crate) out: PathBuf,
    /// Added to the clock, milliseconds (at most a day either way, as in a scenario's market.source).
    #[arg(long, default_value_t = 0, allow_hyphen_values = true, value_parser = clap::value_parser!(i64).range(-86_400_000..=86_400_000))]
    pub(crate) offset_ms: i64,
}

#[derive(Args)]
pub(crate) struct CalibrateArgs {
    #[command(flatten)]
    pub(crate) session: SessionArgs,
    /// The scenario to write; its file name (without .toml) names the scenario.
    #[arg(short = 'o', long = "out")]
    pub(crate) out: PathBuf,
    /// The instrument's symbol in the scenario.
    #[arg(long, default_value = "BTCUSDT")]
    pub(crate) symbol: String,
    /// The instrument's minimum order notional, quote currency.
    #[arg(long, default_value_t = 5.0)]
    pub(crate) min_notional: f64,
    /// Seed of the refining simulations and of the scenario written.
    #[arg(long, default_value_t = 1)]
    pub(crate) seed: u64,
    /// Rounds of simulated moments after the direct fit (0: the direct fit only).
    #[arg(long, default_value_t = 6, value_parser = clap::value_parser!(u32).range(0..=50))]
    pub(crate) rounds: u32,
    /// Folder for calibration.html, the page to look at (default artifacts/calibrations/<name>/).
    #[arg(long)]
    pub(crate) report_dir: Option<PathBuf>,
    /// Simulated seconds per round, 60 to 86400 (default: the recording's span, within 600 to 3600).
    #[arg(long)]
    pub(crate) simulate_s: Option<f64>,
}

#[derive(Args)]
pub(crate) struct PruneArgs {
    /// Run folders to keep at most.
    #[arg(long)]
    pub(crate) keep: usize,
    /// Total size to keep at most, MB (default: no limit).
    #[arg(long = "max-mb")]
    pub(crate) max_mb: Option<u64>,
    /// The artifacts folder.
    #[arg(long, default_value = "artifacts")]
    pub(crate) dir: PathBuf,
    /// Report what would go without removing anything.
    #[arg(long)]
    pub(crate) dry_run: bool,
}

/// Most parallel runs `--jobs` takes: each run is a thread with its own simulation.
pub(crate) const JOBS_MAX: usize = 1024;

/// `--jobs`: a whole number from 0 (the number of cores) to [`JOBS_MAX`].
/// A percentage from 0 to 1,000.
fn parse_percent(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(value) if (0.0..=1_000.0).contains(&value) => Ok(value),
        _ => Err(format!("`{text}` is not a percentage from 0 to 1000")),
    }
}

fn parse_jobs(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(jobs) if jobs <= JOBS_MAX => Ok(jobs),
        _ => Err(format!("expected a whole number of parallel runs from 0 (the number of cores) to {JOBS_MAX}")),
    }
}
