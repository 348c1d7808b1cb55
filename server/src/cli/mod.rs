//! The `swiss` command line: raw flags (clap) become `Options`, merged with the other sources
//! into validated `Settings`, then one engine call.

mod args;
mod config;
mod doctor;
mod eval;
mod exit;
mod fix;
mod progress;
mod report;
mod rerank;

use std::process::ExitCode;

use std::io::Write;

use clap::Parser;

use crate::job::report::{ErrorKind, FixOutput};

pub use args::{Cli, Command, ConfigArgs, DoctorArgs, EvalArgs, FixArgs, LspArgs, RerankArgs};
pub use exit::Exit;

pub fn main() -> ExitCode {
    main_from(std::env::args_os())
}

/// The command line from given arguments (the first is the program name), for callers that
/// drive the real CLI in-process, such as the demo example.
pub fn main_from<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let args: Vec<std::ffi::OsString> = args.into_iter().map(Into::into).collect();
    match Cli::try_parse_from(&args) {
        Ok(cli) => run(cli),
        Err(e) => {
            let _ = e.print();
            if !e.use_stderr() {
                // --help and --version.
                return ExitCode::SUCCESS;
            }
            // A script that asked for --json reads one object even when the flags are wrong.
            if args.iter().any(|a| a == "--json") {
                let rendered = e.to_string();
                let first = rendered.lines().next().unwrap_or_default();
                let message = format!(
                    "{} (swiss fix --help lists the flags)",
                    first.trim_start_matches("error: ")
                );
                let output = FixOutput::error(ErrorKind::BadInput, message, None);
                let mut stdout = std::io::stdout().lock();
                let _ = serde_json::to_writer(&mut stdout, &output);
                let _ = writeln!(stdout);
            }
            ExitCode::from(Exit::BadInput as u8)
        }
    }
}

fn run(cli: Cli) -> ExitCode {
    init_logging();
    let exit = match cli.command {
        Command::Fix(args) => fix::run(args),
        Command::Doctor(args) => doctor::run(args),
        Command::Lsp(_) => return crate::lsp::run(),
        Command::Config(args) => config::run(args),
        Command::Eval(args) => eval::run(args),
        Command::Rerank(args) => rerank::run(args),
    };
    exit.code()
}

/// Logs go to stderr: stdout carries the result (and, for `swiss lsp`, the protocol). Besides
/// errors, the default shows the warnings a user should see once whatever the job
/// ([`crate::backend::NOTICE`]).
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SWISS_LOG").unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(format!("error,{}=warn", crate::backend::NOTICE))
    });
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}
