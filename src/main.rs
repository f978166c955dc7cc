//! The `drydock` command line: a thin layer over the harness library.
//!
//! Exit codes: 0 all expectations pass, 1 an expectation failed, 2 bad input
//! (scenario, profile, flag, unwritable output), 3 nondeterminism found by
//! `--verify`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use drydock::{LoadOptions, RunResult, Scenario, Verification, default_out_dir, run_scenario};

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
        /// Engine profile: a name in profiles/ or a path.
        #[arg(long)]
        profile: Option<String>,
        /// Artifact folder (default artifacts/<scenario>-<seed>/).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Run again on another thread and exit 3 if the fingerprints differ.
        #[arg(long)]
        verify: bool,
    },
}

const EXIT_EXPECTATION_FAILED: u8 = 1;
const EXIT_BAD_INPUT: u8 = 2;
const EXIT_NONDETERMINISM: u8 = 3;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match execute(cli) {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(EXIT_BAD_INPUT)
        }
    }
}

fn execute(cli: Cli) -> anyhow::Result<u8> {
    match cli.command {
        Command::Run { scenario, seed, overrides, profile, out, verify } => {
            let options = LoadOptions { profile, overrides, seed, profiles_dir: PathBuf::from("profiles") };
            let scenario = Scenario::load(&scenario, &options)?;
            let out_dir = out.unwrap_or_else(|| default_out_dir(&scenario));
            let result = run_scenario(&scenario, &out_dir, verify).with_context(|| format!("running {}", scenario.path.display()))?;
            print_summary(&result);
            Ok(exit_code(&result))
        }
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

fn print_summary(result: &RunResult) {
    let report = &result.report;
    let kpis = &report.kpis;
    let speedup = if result.wall_s > 0.0 { report.duration_s / result.wall_s } else { f64::INFINITY };
    println!(
        "drydock run: {} (seed {}, profile {}): {} s simulated in {:.3} s ({:.0}x)",
        report.scenario, report.seed, report.profile, report.duration_s, result.wall_s, speedup
    );
    println!("  fingerprint {}", report.fingerprint);
    println!(
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
    println!(
        "        adverse_p95 {:.2} bps  slippage_p95 {:.2} bps  risk_ratio {:.3}  uptime {:.1}%  orders {} (rejected {})",
        kpis.adverse_p95_bps, kpis.slippage_p95_bps, kpis.risk_ratio, kpis.quote_uptime_pct, kpis.orders_sent, kpis.orders_rejected
    );
    if !kpis.block_reasons.is_empty() {
        let reasons: Vec<String> = kpis.block_reasons.iter().map(|(reason, count)| format!("{reason} {count}")).collect();
        println!("        blocked: {}", reasons.join(", "));
    }
    for event in &report.events {
        let measured: Vec<String> = event.measured.iter().map(|(name, value)| format!("{name} {value:.3}")).collect();
        println!("  event {} at {} s: {}", event.name, event.start_s, measured.join(", "));
    }
    for expectation in &report.expectations {
        let actual = expectation.actual.map_or("not measured".to_string(), |actual| format!("{actual:.4}"));
        let verdict = if expectation.pass { "PASS" } else { "FAIL" };
        println!("  {verdict} {} {} {} (actual {actual})", expectation.metric, expectation.op, expectation.value);
    }
    match &result.verification {
        Some(Verification::Identical) => println!("  verify: identical fingerprint on a second run on another thread"),
        Some(Verification::Diverged { record, first, second }) => {
            println!("  verify: NONDETERMINISM at record {record}\n    first:  {first}\n    second: {second}")
        }
        None => {}
    }
    println!("  verdict: {}  artifacts: {}", report.verdict, result.out_dir.display());
}
