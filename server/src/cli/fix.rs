//! `swiss fix`: one job, headless.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use super::args::FixArgs;
use super::exit::Exit;
use super::progress::Progress;
use super::report;
use crate::backend::BackendClient;
use crate::config::{Options, Settings};
use crate::engine::snapshot::{RepoSnapshot, DEFAULT_MAX_FILE_BYTES};
use crate::engine::write_back::write_patch;
use crate::issue_source::{IssueSourceError, IssueSources, Lookup, Resolved};
use crate::job::json_report::no_candidate_summary;
use crate::job::{run_fix, FixRequest, JobError};
use crate::prompts::Prompts;

pub fn run(args: FixArgs) -> Exit {
    let snapshot = match RepoSnapshot::open(&args.repo, DEFAULT_MAX_FILE_BYTES) {
        Ok(snapshot) => Arc::new(snapshot),
        Err(e) => return Exit::BadInput.with_message(e),
    };
    let mut warnings = Vec::new();
    let options = Options::from_repo_file(snapshot.root(), &mut warnings)
        .merged(Options::from_env(|name| std::env::var(name).ok()))
        .merged(args.options());
    for warning in &warnings {
        let _ = writeln!(std::io::stderr(), "swiss: warning: {warning}");
    }
    let settings = match Settings::resolve(&options) {
        Ok(settings) => settings,
        Err(e) => return Exit::BadInput.with_message(e),
    };
    let sources = match IssueSources::new(&settings) {
        Ok(sources) => sources,
        Err(e) => return issue_exit(e),
    };
    let lookup = Lookup {
        repo_root: Some(snapshot.root()),
        dirs: vec![PathBuf::new()],
        stdin: true,
        pasted_text: false,
    };
    let resolved = match sources.resolve(&args.issue, &lookup) {
        Ok(resolved) => resolved,
        Err(e) => return issue_exit(e),
    };
    let prompts = match Prompts::with_overrides(&snapshot.root().join(&settings.prompts_dir)) {
        Ok(prompts) => prompts,
        Err(e) => return Exit::BadInput.with_message(e),
    };
    let client = match BackendClient::new(settings.backend_config()) {
        Ok(client) => client,
        Err(e) => return Exit::BadInput.with_message(e),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            return Exit::BadInput.with_message(format!("failed to start the async runtime: {e}"))
        }
    };

    let issue = match resolved {
        Resolved::Ready(loaded) => loaded.issue,
        Resolved::Remote(remote) => match runtime.block_on(sources.fetch(&remote)) {
            Ok(issue) => issue,
            Err(e) => return issue_exit(e),
        },
    };
    let request = FixRequest {
        issue,
        settings,
        prompts,
    };
    let progress = Progress::new(!args.json);
    let cancel = CancellationToken::new();
    let outcome = runtime.block_on(async {
        let ctrl_c_cancel = cancel.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                ctrl_c_cancel.cancel();
            }
        });
        run_fix(
            snapshot.clone(),
            &request,
            &client,
            &|event| progress.event(event),
            &cancel,
        )
        .await
    });
    progress.finish();
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(JobError::Cancelled) => {
            return Exit::Interrupted.with_message("cancelled; nothing was changed")
        }
        Err(e @ JobError::Backend(_)) => return Exit::Backend.with_message(e),
        Err(e @ JobError::NothingLocalized { .. }) => return Exit::NoCandidate.with_message(e),
        Err(e @ JobError::Verification(_)) => return Exit::BadInput.with_message(e),
    };

    if let Some(path) = &args.record {
        let written = std::fs::File::create(path)
            .map(std::io::BufWriter::new)
            .map_err(|e| e.to_string())
            .and_then(|mut file| {
                serde_json::to_writer(&mut file, &outcome).map_err(|e| e.to_string())?;
                file.flush().map_err(|e| e.to_string())
            });
        if let Err(e) = written {
            return Exit::BadInput.with_message(format!(
                "failed to write the record {}: {e}",
                path.display()
            ));
        }
    }
    let mut stdout = std::io::stdout().lock();
    let printed = if args.json {
        report::write_json(&mut stdout, &outcome)
    } else {
        report::write_human(&mut stdout, &outcome)
    };
    if let Err(e) = printed.and_then(|_| stdout.flush()) {
        return Exit::BadInput.with_message(format!("failed to write the result: {e}"));
    }
    let Some(winner) = outcome.winner() else {
        return Exit::NoCandidate.with_message(no_candidate_summary(&outcome));
    };
    if args.apply {
        if let Err(e) = write_patch(snapshot.root(), &winner.files) {
            return Exit::BadInput.with_message(e);
        }
        let _ = writeln!(
            std::io::stderr(),
            "swiss: applied candidate {} to {} file(s)",
            winner.id,
            winner.files.changes.len()
        );
    }
    Exit::Winner
}

/// A tracker that does not answer (or fails on its side) is "unreachable" like the backend;
/// a wrong reference, token or permission is bad input.
fn issue_exit(error: IssueSourceError) -> Exit {
    let exit = if error.is_service_failure() {
        Exit::Backend
    } else {
        Exit::BadInput
    };
    exit.with_message(error)
}
