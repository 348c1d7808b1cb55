//! Jobs that outlive the server: each finished job is kept in the repository's job store
//! (`crate::job::JobStore`, under the git dir), and a new server reads the store back once, so
//! `swiss.jobs`, hovers and `swiss.applyCandidate` work for them again. A kept job's buffers
//! are not open any more: its stale check compares the text it read with the file as it is.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use tower_lsp_server::lsp_types::MessageType;

use super::apply::first_stale;
use super::convert::{self, IssueLink};
use super::job_task::show_winner;
use super::jobs::{editor_spelling, Job, JobState};
use super::session::Session;
use crate::job::report::FixReport;
use crate::job::{job_number, FixOutcome, JobCancel, JobStore, KeepLimits, KeptJob};

/// Writes a finished job to the store, off the async threads. Keeping is a convenience: a
/// failure is logged and the job goes on as if it were not kept.
pub async fn keep(job: &Job, outcome: Arc<FixOutcome>, limits: KeepLimits) {
    if limits.jobs == 0 || !JobStore::worth_keeping(&outcome) {
        return;
    }
    let (root, id, issue_ref) = (job.root.clone(), job.id.clone(), job.issue_ref.clone());
    let kept = tokio::task::spawn_blocking(move || {
        JobStore::for_repo(&root)?.keep(Some(&id), &issue_ref, &outcome, limits)
    })
    .await
    .map_err(|e| e.to_string())
    .and_then(|kept| kept);
    match kept {
        Ok(dir) if dir.ends_with(&job.id) => tracing::info!(dir = %dir.display(), "job kept"),
        Ok(dir) => tracing::warn!(
            dir = %dir.display(),
            "another job took this id in the store meanwhile; kept under the next free one"
        ),
        Err(e) => tracing::warn!(error = %e, "failed to keep the job"),
    }
}

/// Notes in the store that `candidate` was applied, so a later server does not offer it again.
pub fn mark_applied(job: &Job, candidate: u32) {
    let (root, id) = (job.root.clone(), job.id.clone());
    tokio::task::spawn_blocking(move || {
        let marked = JobStore::for_repo(&root).and_then(|store| store.mark_applied(&id, candidate));
        if let Err(e) = marked {
            tracing::warn!(error = %e, "failed to mark the kept job applied");
        }
    });
}

/// Reads the store of the workspace's repository into the session, once per server; every
/// command awaits it, so none can run before the kept jobs are there.
pub async fn restore_once(session: &Arc<Session>) {
    session.kept_restored.get_or_init(|| restore(session)).await;
}

async fn restore(session: &Arc<Session>) {
    let workspace = session.root();
    let read = tokio::task::spawn_blocking(move || {
        let store = JobStore::for_repo(&workspace).ok()?;
        let root = editor_spelling(&workspace, store.work_tree()?);
        Some((root, store.load_all()))
    })
    .await;
    let Ok(Some((root, (kept, warnings)))) = read else {
        return;
    };
    for warning in warnings {
        tracing::warn!("{warning}");
        session
            .show_message(MessageType::WARNING, format!("Swiss: {warning}"))
            .await;
    }
    let mut highest = 0;
    for kept in kept {
        let job = Arc::new(restored_job(kept, root.clone()));
        highest = highest.max(job.number);
        if session.job(&job.id).is_ok() {
            continue;
        }
        session.insert_job(job.clone());
        show_winner_if_fresh(session, &job).await;
    }
    session.skip_job_numbers_below(highest + 1);
}

fn restored_job(kept: KeptJob, root: PathBuf) -> Job {
    let KeptJob { meta, outcome, .. } = kept;
    let given = outcome.localization.given;
    Job {
        progress_token: convert::progress_token(&meta.id),
        number: job_number(&meta.id).unwrap_or(0),
        issue: outcome.issue.clone(),
        issue_ref: meta.issue_ref,
        files: if given {
            outcome.localization.files.clone()
        } else {
            Vec::new()
        },
        kept: true,
        link: IssueLink::new(&outcome.issue, None),
        cancel: JobCancel::new(),
        root,
        versions: HashMap::new(),
        state: Mutex::new(JobState::Done {
            report: Arc::new(FixReport::new(&outcome)),
            outcome: Arc::new(outcome),
            applied: meta.applied,
        }),
        diagnostics: Mutex::new(HashMap::new()),
        apply_lock: tokio::sync::Mutex::new(()),
        id: meta.id,
    }
}

/// A kept winner is shown again only while every file it changes is as the job read it: on
/// changed text its hunks would point at the wrong lines.
async fn show_winner_if_fresh(session: &Session, job: &Job) {
    let JobState::Done {
        outcome,
        applied: None,
        ..
    } = job.state()
    else {
        return;
    };
    let Some(winner) = outcome.winner() else {
        return;
    };
    if let Some(stale) = first_stale(job, &winner.files, &session.documents) {
        tracing::info!(job = %job.id, path = %stale.path, "kept job is stale; not shown");
        return;
    }
    show_winner(session, job, &outcome, winner).await;
}
