//! The `swiss` command line: raw flags (clap) become `Options`, merged with the other sources
//! into validated `Settings`, then one engine call.

mod args;
mod exit;
mod fix;
mod progress;
mod report;

use std::process::ExitCode;

use clap::Parser;

pub use args::{Cli, Command, FixArgs, LspArgs};
// The language server answers `swiss.candidates` with exactly what `swiss fix --json` prints.
pub(crate) use report::{json_value, no_candidate_summary};
pub use exit::Exit;

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    let exit = match cli.command {
        Command::Fix(args) => fix::run(args),
        Command::Lsp(_) => return crate::lsp::run(),
    };
    exit.code()
}

/// Logs go to stderr: stdout carries the result (and, for `swiss lsp`, the protocol).
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SWISS_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("error"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}
