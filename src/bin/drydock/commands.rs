//! One function per command: load what the flags name, call the harness library,
//! format the result and choose the exit code. No simulation logic lives here; a
//! command that grows logic of its own moves it into the library, where it is
//! tested without the binary.

use std::path::{Path, PathBuf};

use anyhow::Context;
use drydock::{LoadOptions, RunFlags, Scenario, default_out_dir, run_scenario_with};
use drydock_sim::config::InstrumentConfig;
use drydock_sim::replay::decimal::Grid;
use drydock_sim::replay::tape::{ReplayTape, TapeOptions};

use crate::cli::{
    ArtifactsCommand, CalibrateArgs, Cli, Command, ConfigCommand, ConvertArgs, DataCommand, InspectArgs, JournalCommand, PruneArgs,
    RunArgs, SessionArgs, SweepCommand,
};
use crate::summary::{exit_code, print_config, print_summary};
use crate::{EXIT_BAD_INPUT, EXIT_EXPECTATION_FAILED, emit};

/// Runs the command the flags name; the exit code, or an error for bad input.
pub(crate) fn execute(cli: Cli) -> anyhow::Result<u8> {
    match cli.command {
        Command::Run(args) => run_command(args),
        Command::Check { scenarios, jobs, golden, out } => check_command(scenarios, jobs, golden, out),
        Command::Bless { scenarios, all, jobs, golden } => bless_command(scenarios, all, jobs, golden),
        Command::Sweep { merge: Some(SweepCommand::Merge { dirs, out }), .. } => sweep_merge_command(&dirs, &out),
        Command::Sweep { merge: Some(SweepCommand::Compare { baseline, candidate, out, min_effect_pct }), .. } => {
            sweep_compare_command(&baseline, &candidate, out.as_deref(), min_effect_pct)
        }
        Command::Sweep { merge: None, sweep, jobs, out, shard } => sweep_command(sweep, jobs, out, shard),
        Command::Gate { gate, strict, jobs, out } => gate_command(&gate, strict, jobs, out),
        Command::Diff { a, b } => diff_command(&a, &b),
        Command::Journal { command: JournalCommand::Replay { journal, profile, changes } } => {
            crate::journal::replay_command(&journal, profile.as_deref(), &changes)
        }
        Command::Journal { command: JournalCommand::Diff { a, b } } => crate::journal::diff_command(&a, &b),
        Command::Data { command: DataCommand::Inspect(args) } => data_inspect_command(args),
        Command::Data { command: DataCommand::Convert(args) } => data_convert_command(args),
        Command::Data { command: DataCommand::Calibrate(args) } => data_calibrate_command(args),
        Command::Config { command: ConfigCommand::Show { scenario, profile, overrides } } => {
            config_show_command(&scenario, profile, overrides)
        }
        Command::Artifacts { command: ArtifactsCommand::Prune(args) } => artifacts_prune_command(args),
    }
}

fn run_command(args: RunArgs) -> anyhow::Result<u8> {
    let RunArgs { scenario, seed, overrides, profile, out, verify, perf, journal } = args;
    let options = LoadOptions { profile, overrides, seed, profiles_dir: None, tapes: Default::default() };
    let scenario = Scenario::load(&scenario, &options)?;
    let out_dir = out.unwrap_or_else(|| default_out_dir(&scenario));
    let result = run_scenario_with(&scenario, &out_dir, RunFlags { verify, perf, journal })
        .with_context(|| format!("running {}", scenario.path.display()))?;
    let mut out = String::new();
    print_summary(&mut out, &result);
    emit(&out);
    Ok(exit_code(&result))
}

fn sweep_command(
    sweep: Option<PathBuf>,
    jobs: Option<usize>,
    out: Option<PathBuf>,
    shard: Option<drydock::sweep::Shard>,
) -> anyhow::Result<u8> {
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
            "  dropped {} recorded runs of another sweep, an earlier configuration or other code from {}",
            summary.dropped,
            out.display()
        );
    }
    say!(text, "  outputs in {}: results.csv summary.csv pareto.csv best_profile.toml report.html", out.display());
    emit(&text);
    Ok(0)
}

fn sweep_merge_command(dirs: &[PathBuf], out: &Path) -> anyhow::Result<u8> {
    let summary = drydock::sweep::merge(dirs, out)?;
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

fn sweep_compare_command(baseline: &Path, candidate: &Path, out: Option<&Path>, min_effect_pct: f64) -> anyhow::Result<u8> {
    let comparison = drydock::sweep::compare::compare(baseline, candidate, min_effect_pct)?;
    if let Some(dir) = out {
        drydock::report::create_output_folder(dir)?;
        drydock::report::write_atomic(&dir.join("compare.csv"), drydock::sweep::compare::to_csv(&comparison).as_bytes())?;
        let page = drydock::html::compare_page::render(&comparison, &baseline.display().to_string(), &candidate.display().to_string());
        drydock::report::write_atomic(&dir.join("compare.html"), page.as_bytes())?;
    }
    let mut text = String::new();
    say!(
        text,
        "sweep compare: {} runs paired ({} with identical fingerprints, {} with the same configuration); a change is called when {}",
        comparison.pairs,
        comparison.identical_runs,
        comparison.same_config_runs,
        comparison.rule()
    );
    say!(text, "  code versions: baseline {}, candidate {}", comparison.baseline_code_version, comparison.candidate_code_version);
    if let Some(warning) = comparison.power_warning() {
        say!(text, "  {warning}");
    }
    let called: Vec<_> = comparison.objectives.iter().filter(|change| matches!(change.verdict, "better" | "worse")).collect();
    let untested = comparison.objectives.iter().filter(|change| change.verdict == "untested").count();
    if untested > 0 {
        say!(
            text,
            "  {untested} of {} points and objectives have fewer than two paired runs: not tested (add seeds)",
            comparison.objectives.len()
        );
    }
    if called.is_empty() {
        say!(text, "  no significant change at any of {} points and objectives", comparison.objectives.len() - untested);
    }
    for change in called {
        say!(
            text,
            "  {:<6} point {:<4} {:<32} {:.4} -> {:.4}  change {:+.4} [{:+.4}, {:+.4}]  p (Holm) {:.4}",
            change.verdict.to_uppercase(),
            change.point,
            change.metric,
            change.baseline_mean,
            change.candidate_mean,
            change.change_mean,
            change.change_ci95.0,
            change.change_ci95.1,
            change.p_adjusted.unwrap_or(1.0)
        );
    }
    for change in &comparison.feasibility {
        let word = if change.candidate { "now meets every constraint" } else { "BROKE a constraint it met" };
        say!(text, "  point {} {word}", change.point);
    }
    if let Some(dir) = out {
        say!(text, "  every point and objective: {} and {}", dir.join("compare.csv").display(), dir.join("compare.html").display());
    }
    say!(text, "verdict: {}", comparison.verdict);
    emit(&text);
    Ok(if comparison.go() { 0 } else { EXIT_EXPECTATION_FAILED })
}

fn diff_command(a: &Path, b: &Path) -> anyhow::Result<u8> {
    let (mut left, mut right) = (read_json_or_golden(a)?, read_json_or_golden(b)?);
    // Which code made each report is provenance, not behaviour: said, not compared.
    let code_versions = [&mut left, &mut right].map(|value| value.as_object_mut().and_then(|object| object.remove("code_version")));
    let (left, right, mixed) = drydock::golden::align_for_diff(left, right);
    let comparison = drydock::golden::compare(&left, &right, &Default::default());
    let mut out = String::new();
    if let [Some(left_version), Some(right_version)] = &code_versions
        && left_version != right_version
    {
        say!(
            out,
            "made by different code: code version {} (a) and {} (b)",
            left_version.as_str().unwrap_or("?"),
            right_version.as_str().unwrap_or("?")
        );
    }
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

fn data_inspect_command(args: InspectArgs) -> anyhow::Result<u8> {
    let InspectArgs { files, format, tick, lot, skip_bad_lines } = args;
    let (tick, lot) = inspect_grid(&files, tick, lot)?;
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
        say!(out, "spread: mean {:.8} min {:.8} max {:.8} (price units)", mean * tick_size, min as f64 * tick_size, max as f64 * tick_size);
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

fn data_convert_command(args: ConvertArgs) -> anyhow::Result<u8> {
    let ConvertArgs { session, out, offset_ms } = args;
    check_tape_out(&out, &session.files)?;
    let (clock, skip_bad_lines) = (session.clock, session.skip_bad_lines);
    let (tape, _) = load_session(&session, offset_ms)?;
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

fn data_calibrate_command(args: CalibrateArgs) -> anyhow::Result<u8> {
    use drydock::calibration::{CalibrateOptions, calibrate_tape, comparison, format_stat, render_scenario};
    let CalibrateArgs { session, out, symbol, min_notional, seed, rounds, report_dir, simulate_s } = args;
    let name = scenario_name_of(&out)?;
    if let Some(seconds) = simulate_s.filter(|seconds| !(60.0..=86_400.0).contains(seconds)) {
        anyhow::bail!(
            "--simulate-s {seconds}: expected 60 to 86400 simulated seconds a round (fewer cannot measure the statistics the rounds compare)"
        );
    }
    if !(0.0..=1e9).contains(&min_notional) {
        anyhow::bail!("--min-notional {min_notional}: expected 0 to 1e9 (quote currency)");
    }
    if let Err(error) = drydock_sim::config::check_symbol(&symbol) {
        anyhow::bail!("--symbol {symbol:?}: {}", error.message);
    }
    let (tape, (tick_grid, lot_grid)) = load_session(&session, 0)?;
    let files = &session.files;
    let span_s = tape.span_ns() as f64 / 1e9;
    if span_s < CALIBRATION_SPAN_MIN_S {
        let gaps = tape.header().stats.gaps;
        let skipped = if gaps > 0 {
            let plural = if gaps == 1 { "" } else { "s" };
            format!(" of usable data: after {gaps} gap{plural} in the update ids the resync policy skips to the next snapshot")
        } else {
            String::new()
        };
        anyhow::bail!(
            "{}: the recording spans {span_s:.1} s{skipped}; calibration needs at least {CALIBRATION_SPAN_MIN_S:.0} s of data (give more files of the session)",
            files[0].display()
        );
    }
    let instrument = InstrumentConfig { symbol, tick_size: tick_grid.step_f64(), lot_size: lot_grid.step_f64(), min_notional };
    let options = CalibrateOptions { instrument, seed, rounds, simulate_s: simulate_s.unwrap_or(span_s.clamp(600.0, 3_600.0).ceil()) };
    let report =
        calibrate_tape(&tape, &options).with_context(|| format!("the market fitted to {} cannot be simulated", files[0].display()))?;
    let text = render_scenario(&report, &name);
    if let Some(folder) = out.parent().filter(|folder| !folder.as_os_str().is_empty()) {
        std::fs::create_dir_all(folder)
            .with_context(|| format!("cannot create {}; check the output folder is writable", folder.display()))?;
    }
    drydock::report::write_atomic(&out, text.as_bytes())?;
    // The file must load as written: a scenario that does not is a bug here, not bad input.
    Scenario::load(&out, &LoadOptions::default())
        .with_context(|| format!("the calibrated scenario {} does not load (a drydock bug)", out.display()))?;
    let mut summary = String::new();
    say!(
        summary,
        "calibrated {} to {:.0} s of {} ({} market orders)",
        name,
        span_s,
        files.iter().map(|file| file.display().to_string()).collect::<Vec<_>>().join(", "),
        report.recorded.market_order_times_s.len()
    );
    for param in &report.calibration.fitted {
        say!(summary, "  {:<26} {:>16}  {}", param.key, format!("{:.6}", param.value), param.basis);
    }
    for warning in &report.calibration.warnings {
        say!(summary, "  warning: {warning}");
    }
    say!(summary, "  {:<32} {:>14} {:>14}", "statistic", "recorded", "simulated");
    for row in comparison(&report) {
        let mark = if row.steered { "*" } else { " " };
        say!(summary, "  {:<31}{mark} {:>14} {:>14}", row.name, format_stat(row.recorded), format_stat(row.simulated));
    }
    let report_dir = report_dir.unwrap_or_else(|| PathBuf::from("artifacts").join("calibrations").join(&name));
    std::fs::create_dir_all(&report_dir)
        .with_context(|| format!("cannot create {}; check the folder is writable", report_dir.display()))?;
    let page = report_dir.join("calibration.html");
    drydock::report::write_atomic(&page, drydock::html::calibration_page::render(&report, &name).as_bytes())?;
    say!(summary, "wrote {} (run it: drydock run {})", out.display(), out.display());
    say!(summary, "look at it: {}", page.display());
    emit(&summary);
    Ok(0)
}

/// Reads a session's files onto a tape (clock shifted by `offset_ms`), with its grids.
fn load_session(session: &SessionArgs, offset_ms: i64) -> anyhow::Result<(ReplayTape, (Grid, Grid))> {
    let (tick_grid, lot_grid) = (parse_grid(&session.tick, "tick")?, parse_grid(&session.lot, "lot")?);
    let options = TapeOptions {
        format: session.format,
        clock: session.clock,
        offset_ns: offset_ms * 1_000_000,
        gap_policy: session.gap_policy,
        skip_bad_lines: session.skip_bad_lines,
    };
    Ok((ReplayTape::load(&session.files, &options, tick_grid, lot_grid)?, (tick_grid, lot_grid)))
}

/// The grid `data inspect` reads on: the flags', else a tape's own (the first file's,
/// when it is a tape), else one fine enough for every bundled format.
fn inspect_grid(files: &[PathBuf], tick: Option<String>, lot: Option<String>) -> anyhow::Result<(String, String)> {
    const FINE_GRID: &str = "0.00000001";
    if let (Some(tick), Some(lot)) = (&tick, &lot) {
        return Ok((tick.clone(), lot.clone()));
    }
    let tape = match files.first() {
        Some(first) if drydock_sim::replay::tape::is_tape(first)? => Some(ReplayTape::read(first)?),
        _ => None,
    };
    let own = |grid: fn(&ReplayTape) -> &str| tape.as_ref().map_or(FINE_GRID.to_string(), |tape| grid(tape).to_string());
    Ok((tick.unwrap_or_else(|| own(|tape| &tape.header().tick_size)), lot.unwrap_or_else(|| own(|tape| &tape.header().lot_size))))
}

/// Shortest recording worth fitting a market to, seconds.
const CALIBRATION_SPAN_MIN_S: f64 = 10.0;

/// `data convert -o`: a `.ddtape` file that is none of the recordings converted
/// (writing over one would destroy it before anyone noticed).
fn check_tape_out(out: &Path, inputs: &[PathBuf]) -> anyhow::Result<()> {
    if out.extension().is_none_or(|extension| extension != "ddtape") {
        anyhow::bail!("-o {}: name the tape *.ddtape (it is Drydock's own format, not a recording)", out.display());
    }
    let same_file = |input: &PathBuf| match (std::fs::canonicalize(input), std::fs::canonicalize(out)) {
        (Ok(input), Ok(out)) => input == out,
        _ => false,
    };
    if let Some(input) = inputs.iter().find(|input| same_file(input)) {
        anyhow::bail!(
            "-o {}: that is {}, one of the files being converted; write the tape to another file",
            out.display(),
            input.display()
        );
    }
    Ok(())
}

/// A scenario name from the file it goes to: its stem, which must be a valid name.
fn scenario_name_of(out: &Path) -> anyhow::Result<String> {
    let stem = out.file_stem().and_then(|stem| stem.to_str()).unwrap_or_default();
    if out.extension().is_none_or(|extension| extension != "toml") {
        anyhow::bail!("-o {}: the scenario file must end in .toml", out.display());
    }
    if stem.is_empty() || !stem.chars().all(|ch| ch.is_ascii_alphanumeric() || "_-.".contains(ch)) {
        anyhow::bail!("-o {}: the file name names the scenario; use letters, digits, _ - . only", out.display());
    }
    Ok(stem.to_string())
}

fn config_show_command(scenario: &Path, profile: Option<String>, overrides: Vec<String>) -> anyhow::Result<u8> {
    let options = LoadOptions { profile, overrides, seed: None, profiles_dir: None, tapes: Default::default() };
    let scenario = Scenario::load(scenario, &options)?;
    let mut out = String::new();
    print_config(&mut out, &scenario);
    emit(&out);
    Ok(0)
}

fn artifacts_prune_command(args: PruneArgs) -> anyhow::Result<u8> {
    let PruneArgs { keep, max_mb, dir, dry_run } = args;
    let max_bytes = max_mb.map_or(u64::MAX, |megabytes| megabytes.saturating_mul(1024 * 1024));
    let report = drydock::artifacts::prune(&dir, keep, max_bytes, dry_run)?;
    let mut out = String::new();
    for folder in &report.folders {
        let action = if folder.removed { if dry_run { "would remove" } else { "removed" } } else { "kept" };
        say!(out, "{action:>12}  {:>10.3} MB  {}", folder.bytes as f64 / 1_048_576.0, folder.path.display());
    }
    let (kept_mb, removed_mb) = (report.kept_bytes() as f64 / 1_048_576.0, report.removed_bytes() as f64 / 1_048_576.0);
    if dry_run {
        say!(out, "would keep {kept_mb:.3} MB and free {removed_mb:.3} MB (dry run: nothing removed)");
    } else {
        say!(out, "kept {kept_mb:.3} MB, freed {removed_mb:.3} MB");
    }
    emit(&out);
    Ok(0)
}

/// The scenario files named, a named folder standing for its sorted `*.toml`;
/// none named: every `scenarios/*.toml`.
fn scenario_paths(scenarios: Vec<PathBuf>) -> anyhow::Result<Vec<PathBuf>> {
    if scenarios.is_empty() {
        return drydock::check::catalogue(Path::new("scenarios"))
            .context("reading scenarios/ (run from the repository root or name the scenarios)");
    }
    let mut paths = Vec::new();
    for named in scenarios {
        if !named.is_dir() {
            paths.push(named);
            continue;
        }
        let found = drydock::check::catalogue(&named).with_context(|| format!("cannot list {}", named.display()))?;
        if found.is_empty() {
            anyhow::bail!("{} holds no scenario (*.toml) files; name a folder of scenarios or the files", named.display());
        }
        paths.extend(found);
    }
    Ok(paths)
}

fn jobs_or_cores(jobs: Option<usize>) -> usize {
    jobs.filter(|&jobs| jobs > 0).unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from))
}

fn check_command(scenarios: Vec<PathBuf>, jobs: Option<usize>, golden: Option<PathBuf>, keep: Option<PathBuf>) -> anyhow::Result<u8> {
    let paths = scenario_paths(scenarios)?;
    let golden = &golden_dir(golden, &paths);
    let options = LoadOptions::default();
    if let Some(dir) = &keep {
        drydock::report::create_output_folder(dir)?;
    }
    let started = std::time::Instant::now();
    let results = drydock::check::check(&paths, golden, &options, jobs_or_cores(jobs), keep.as_deref());
    if let Some(dir) = &keep {
        drydock::check::write_index(dir, &results, golden)?;
    }
    let mut out = String::new();
    for result in &results {
        describe_check_result(&mut out, result, golden);
    }
    let tally = drydock::check::CheckTally::of(&results);
    say!(out, "{} ({:.2} s)", tally.summary(), started.elapsed().as_secs_f64());
    if let Some(dir) = &keep {
        say!(out, "review: {}", dir.join("index.html").display());
    }
    emit(&out);
    Ok(if tally.errors > 0 {
        EXIT_BAD_INPUT
    } else if tally.changed > 0 || tally.failing > 0 {
        EXIT_EXPECTATION_FAILED
    } else {
        0
    })
}

/// One scenario's lines of `drydock check` output.
fn describe_check_result(out: &mut String, result: &drydock::check::CheckResult, golden: &Path) {
    use drydock::check::CheckStatus;
    let name = result.name.clone().unwrap_or_else(|| result.path.display().to_string());
    match &result.status {
        CheckStatus::Match if !result.failed_expectations.is_empty() => {
            say!(out, "FAILING   {name}: matches its golden, but expectations fail");
            for failed in &result.failed_expectations {
                say!(out, "          FAIL {failed}");
            }
        }
        CheckStatus::Match => say!(out, "ok        {name}"),
        CheckStatus::Missing => {
            say!(
                out,
                "MISSING   {name}: no golden in {} (run `{}`)",
                golden.display(),
                drydock::check::bless_command(&result.path, golden)
            );
        }
        CheckStatus::Regression(comparison) => {
            say!(out, "CHANGED   {name}");
            for line in drydock::golden::describe(comparison, 40) {
                say!(out, "          {line}");
            }
        }
        CheckStatus::Error(message) => {
            say!(out, "ERROR     {name}: {message}");
        }
    }
}

fn gate_command(path: &Path, strict: bool, jobs: Option<usize>, out: Option<PathBuf>) -> anyhow::Result<u8> {
    use drydock::gate::{Gate, GateOptions, Mode};
    let gate = Gate::load(path)?;
    let out_dir = out.unwrap_or_else(|| PathBuf::from("artifacts").join("gates").join(&gate.file.gate.name));
    drydock::report::create_output_folder(&out_dir)?;
    let mode = if strict { Mode::Strict } else { Mode::Provisional };
    let options = GateOptions { mode, jobs: jobs_or_cores(jobs), out_dir: out_dir.clone() };
    let started = std::time::Instant::now();
    let outcome = drydock::gate::evaluate(&gate, &options);
    drydock::gate::write_outputs(&out_dir, &outcome)?;
    let mut text = String::new();
    say!(text, "gate {} ({}): {} checks", outcome.gate, mode.as_str(), outcome.checks.len());
    for check in &outcome.checks {
        let word = check.status_word(mode);
        let weight = if check.critical { "critical" } else { "advisory" };
        say!(text, "{word:<9} {} ({weight}, {}): {}", check.name, check.kind.as_str(), check.summary);
        for detail in &check.details {
            say!(text, "          {}", detail.text);
        }
    }
    let mut verdict = outcome.verdict.to_string();
    if !outcome.blocking.is_empty() {
        verdict.push_str(&format!(" (blocking: {})", outcome.blocking.join(", ")));
    }
    if !outcome.warnings.is_empty() {
        verdict.push_str(&format!(" (warnings: {})", outcome.warnings.join(", ")));
    }
    say!(text, "verdict: {verdict} ({:.2} s)", started.elapsed().as_secs_f64());
    say!(text, "look at it: {}", out_dir.join("gate.html").display());
    emit(&text);
    Ok(if outcome.go() {
        0
    } else if outcome.blocked_by_error() {
        EXIT_BAD_INPUT
    } else {
        EXIT_EXPECTATION_FAILED
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
    given.or_else(|| drydock::check::nearest_golden_dir(scenarios)).unwrap_or_else(|| PathBuf::from("golden"))
}

/// A report.json, or the snapshot inside a golden .snap file.
fn read_json_or_golden(path: &Path) -> anyhow::Result<serde_json::Value> {
    if path.extension().is_some_and(|extension| extension == "snap") {
        return Ok(drydock::golden::read_golden(path)?);
    }
    const WHAT: &str = "diff compares two report.json files or golden .snap files";
    let text = std::fs::read_to_string(path).map_err(|error| anyhow::anyhow!("cannot read {}: {error}; {WHAT}", path.display()))?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|error| anyhow::anyhow!("{} is not JSON ({error}); {WHAT}", path.display()))?;
    // perf.json, a sweep's summary or an iteration summary would "differ" in every line.
    if value.get("fingerprint").and_then(serde_json::Value::as_str).is_none() || value.get("kpis").is_none() {
        anyhow::bail!("{} is not a run's report.json (it has no fingerprint and kpis); {WHAT}", path.display());
    }
    Ok(value)
}

/// A `--tick` / `--lot` grid step.
fn parse_grid(text: &str, flag: &str) -> anyhow::Result<drydock_sim::replay::decimal::Grid> {
    drydock_sim::replay::decimal::Grid::parse(text).with_context(|| format!("--{flag} {text}: expected a positive decimal step, e.g. 0.01"))
}
