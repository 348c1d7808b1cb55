//! `swiss fix`: one job, headless. Every way it ends is an `Ending`: the exit code scripts rely
//! on, the one line for stderr, and the JSON object `--json` prints, so no exit path can forget
//! either.

use std::io::Write;
use std::path::PathBuf;

use super::args::FixArgs;
use super::exit::Exit;
use super::progress::Progress;
use super::report;
use crate::engine::write_back::write_patch;
use crate::issue_source::Lookup;
use crate::job::report::{ErrorKind, FixOutput, FixReport};
use crate::job::{
    resolve_given_files, run_fix, CancelReason, FixOutcome, JobCancel, JobContext, JobError,
    JobStore, KeepLimits, Setup, SetupError,
};

struct Ending {
    exit: Exit,
    /// Said on stderr, prefixed `swiss: `.
    line: Option<String>,
    /// Boxed: the report is large, and most endings carry none.
    output: Box<FixOutput>,
}

impl Ending {
    fn error(exit: Exit, message: impl std::fmt::Display) -> Ending {
        let kind = match exit {
            Exit::Backend => ErrorKind::Backend,
            Exit::Interrupted => ErrorKind::Cancelled,
            _ => ErrorKind::BadInput,
        };
        let message = message.to_string();
        Ending {
            exit,
            output: Box::new(FixOutput::error(kind, message.clone(), None)),
            line: Some(message),
        }
    }

    fn setup(error: SetupError) -> Ending {
        let exit = if error.is_service_failure() {
            Exit::Backend
        } else {
            Exit::BadInput
        };
        Ending::error(exit, error)
    }
}

pub fn run(args: FixArgs) -> Exit {
    let ending = fix(&args).unwrap_or_else(|ending| ending);
    if args.json {
        let mut stdout = std::io::stdout().lock();
        let written = serde_json::to_writer(&mut stdout, &*ending.output)
            .map_err(std::io::Error::from)
            .and_then(|()| writeln!(stdout))
            .and_then(|()| stdout.flush());
        if let Err(e) = written {
            return Exit::BadInput.with_message(format!("failed to write the result: {e}"));
        }
    }
    match ending.line {
        Some(line) => ending.exit.with_message(line),
        None => ending.exit,
    }
}

fn fix(args: &FixArgs) -> Result<Ending, Ending> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            Ending::error(
                Exit::BadInput,
                format!("failed to start the async runtime: {e}"),
            )
        })?;
    let setup = Setup::open(&args.repo, args.options()).map_err(Ending::setup)?;
    for warning in &setup.warnings {
        let _ = writeln!(std::io::stderr(), "swiss: warning: {warning}");
    }
    let given = resolve_given_files(&setup.snapshot, &args.files)
        .map_err(|e| Ending::error(Exit::BadInput, e))?;
    let lookup = Lookup {
        repo_root: Some(setup.snapshot.root()),
        dirs: vec![PathBuf::new()],
        stdin: true,
        pasted_text: false,
    };
    let resolved = setup
        .resolve_issue(&args.issue, &lookup)
        .map_err(Ending::setup)?;
    let issue = runtime
        .block_on(setup.load_issue(resolved))
        .map_err(Ending::setup)?
        .issue;

    let progress = std::sync::Arc::new(Progress::new(!args.json));
    let cancel = JobCancel::new();
    let events = progress.clone();
    let ctx = setup
        .into_context(issue)
        .with_events(std::sync::Arc::new(move |event| events.event(event)))
        .with_cancel(cancel.clone())
        .with_given_files(given);
    let result = runtime.block_on(async {
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                cancel.cancel(CancelReason::User);
            }
        });
        run_fix(&ctx).await
    });
    progress.finish();
    let outcome = result.map_err(job_error)?;
    if let Some(path) = &args.record {
        write_record(path, &outcome)?;
    }
    if !args.no_keep {
        keep(args, &ctx, &outcome);
    }
    finish(args, &ctx.snapshot, outcome)
}

fn job_error(error: JobError) -> Ending {
    match error {
        JobError::Cancelled(reason) => {
            let message = format!("{}; nothing was changed", reason.describe());
            Ending {
                exit: Exit::Interrupted,
                output: Box::new(FixOutput::error(
                    ErrorKind::Cancelled,
                    message.clone(),
                    Some(reason),
                )),
                line: Some(message),
            }
        }
        e @ JobError::Backend(_) => Ending::error(Exit::Backend, e),
        e @ JobError::NothingLocalized { .. } => Ending {
            exit: Exit::NoCandidate,
            output: Box::new(FixOutput::stopped(
                crate::job::Stage::Localize,
                e.to_string(),
            )),
            line: Some(e.to_string()),
        },
        e @ JobError::Verification(_) => Ending::error(Exit::BadInput, e),
    }
}

fn write_record(path: &std::path::Path, outcome: &FixOutcome) -> Result<(), Ending> {
    std::fs::File::create(path)
        .map(std::io::BufWriter::new)
        .map_err(|e| e.to_string())
        .and_then(|mut file| {
            serde_json::to_writer(&mut file, outcome).map_err(|e| e.to_string())?;
            file.flush().map_err(|e| e.to_string())
        })
        .map_err(|e| {
            Ending::error(
                Exit::BadInput,
                format!("failed to write the record {}: {e}", path.display()),
            )
        })
}

/// Keeps the record under the git dir for the editor; a failure to is a warning, not the job's.
fn keep(args: &FixArgs, ctx: &JobContext, outcome: &FixOutcome) {
    let limits = KeepLimits::from_settings(&ctx.settings);
    if limits.jobs == 0 || !JobStore::worth_keeping(outcome) {
        return;
    }
    // Standard input cannot be read again: the editor's re-run gets the issue itself.
    let issue_ref = match args.issue.as_str() {
        "-" => outcome
            .issue
            .url
            .clone()
            .unwrap_or_else(|| format!("{}\n\n{}", outcome.issue.title, outcome.issue.body)),
        reference => reference.to_owned(),
    };
    let kept = JobStore::for_repo(ctx.snapshot.root())
        .and_then(|store| store.keep(None, &issue_ref, outcome, limits));
    let line = match kept {
        Ok(dir) => format!(
            "kept the job in {} (the editor lists it after a restart; --no-keep skips this)",
            dir.display()
        ),
        Err(e) => format!("warning: {e}"),
    };
    let _ = writeln!(std::io::stderr(), "swiss: {line}");
}

/// Prints the result (the table and the winning diff, unless `--json`) and applies the winner
/// when asked.
fn finish(
    args: &FixArgs,
    snapshot: &crate::engine::snapshot::RepoSnapshot,
    outcome: FixOutcome,
) -> Result<Ending, Ending> {
    let report = FixReport::new(&outcome);
    if !args.json {
        let mut stdout = std::io::stdout().lock();
        report::write_human(&mut stdout, &outcome, &report)
            .and_then(|()| stdout.flush())
            .map_err(|e| {
                Ending::error(Exit::BadInput, format!("failed to write the result: {e}"))
            })?;
    }
    let output = Box::new(FixOutput::finished(report));
    let Some(winner) = outcome.winner() else {
        return Ok(Ending {
            exit: Exit::NoCandidate,
            line: output.message.clone(),
            output,
        });
    };
    if args.apply {
        if let Err(e) = write_patch(snapshot.root(), &winner.files) {
            let mut ending = Ending::error(Exit::BadInput, e);
            ending.output.report = output.report;
            return Err(ending);
        }
        let _ = writeln!(
            std::io::stderr(),
            "swiss: applied candidate {} to {} file(s)",
            winner.id,
            winner.files.changes.len()
        );
    }
    Ok(Ending {
        exit: Exit::Winner,
        line: None,
        output,
    })
}
