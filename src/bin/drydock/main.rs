//! The `drydock` command line: a thin layer over the harness library. `cli.rs`
//! declares the flags, `commands.rs` runs each command, `summary.rs` prints a run,
//! `journal.rs` prints journal replays and diffs.
//! Output is built in a buffer and written once (a closed pipe ends it quietly);
//! errors print their causes once.
//!
//! Exit codes: 0 all expectations pass, 1 an expectation failed, 2 bad input
//! (scenario, profile, flag, unwritable output), 3 nondeterminism found by
//! `--verify`.

use std::process::ExitCode;

use clap::Parser;

/// Appends a line to an output buffer (writing to a String cannot fail).
macro_rules! say {
    ($out:expr, $($arg:tt)*) => {{
        use std::fmt::Write as _;
        let _ = writeln!($out, $($arg)*);
    }};
}

mod cli;
mod commands;
mod journal;
mod summary;

const EXIT_EXPECTATION_FAILED: u8 = 1;
const EXIT_BAD_INPUT: u8 = 2;
const EXIT_NONDETERMINISM: u8 = 3;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match commands::execute(cli) {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("error: {}", error_chain(&error));
            ExitCode::from(EXIT_BAD_INPUT)
        }
    }
}

/// Writes the output; a reader that went away (a closed pipe) ends it quietly.
fn emit(text: &str) {
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush());
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
