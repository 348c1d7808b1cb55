//! `swiss.applyCandidate {job, candidate?, hunks?}` → the client's `workspace/applyEdit` answer.
//! The winner when no candidate is named, only the named hunks when `hunks` is given; refused
//! when a file changed since the job read it.

use std::sync::Arc;

use serde_json::Value;
use tower_lsp_server::jsonrpc::{Error, Result};
use tower_lsp_server::lsp_types::{MessageActionItem, MessageType};

use super::pick;
use crate::engine::hunks::select_hunks;
use crate::lsp::jobs::{self, Finished, Job, JobState};
use crate::lsp::protocol::{invalid_params, request_failed, ApplyArgs};
use crate::lsp::session::Session;
use crate::lsp::{apply, diagnostics};

const RERUN: &str = "Re-run Swiss";

pub async fn run(session: &Arc<Session>, args: ApplyArgs) -> Result<Value> {
    let job = session.job(&args.job)?;
    // One apply at a time per job: a second one waits, then finds the job applied.
    let _applying = job.apply_lock.lock().await;
    let Finished {
        outcome,
        report,
        applied,
    } = job.finished()?;
    if let Some(applied) = applied {
        return Err(request_failed(format!(
            "{} was already applied (candidate {applied})",
            job.id
        )));
    }
    let candidate = pick(&job.id, &outcome, args.candidate)?;
    let support = session.support();
    if !support.apply_edit {
        return Err(request_failed(
            "this editor does not accept workspace/applyEdit; swiss.showDiff shows the patch, and `swiss fix --apply` writes it",
        ));
    }
    let part;
    let files = match &args.hunks {
        None => &candidate.files,
        Some(hunks) => {
            part = select_hunks(&candidate.files, hunks).map_err(|e| {
                invalid_params(format!(
                    "failed to pick hunks {hunks:?} of candidate {} of {}: {e}",
                    candidate.id, job.id
                ))
            })?;
            &part
        }
    };
    let edit = match apply::build_edit(&job, candidate.id, files, &session.documents, support.edits)
    {
        Ok(edit) => edit,
        Err(error) => {
            offer_rerun(session, &job, &error);
            return Err(error);
        }
    };
    let response = session.client.apply_edit(edit).await.map_err(|e| {
        request_failed(format!(
            "failed to apply candidate {} of {}: the editor answered: {}",
            candidate.id, job.id, e.message
        ))
    })?;
    if response.applied {
        job.set_state(JobState::Done {
            outcome: outcome.clone(),
            report,
            applied: Some(candidate.id),
        });
        diagnostics::clear(session, &job).await;
    }
    Ok(serde_json::to_value(response).unwrap_or_default())
}

/// A stale refusal comes with a button to start the same issue again; the question runs on its
/// own task so the refusal is answered at once.
fn offer_rerun(session: &Arc<Session>, job: &Arc<Job>, error: &Error) {
    if error.data.as_ref().and_then(|d| d.get("rerun")).is_none() {
        return;
    }
    let session = session.clone();
    let issue_ref = job.issue_ref.clone();
    let message = error.message.to_string();
    tokio::spawn(async move {
        let choice = session
            .client
            .show_message_request(
                MessageType::WARNING,
                message,
                Some(vec![MessageActionItem {
                    title: RERUN.to_owned(),
                    properties: Default::default(),
                }]),
            )
            .await;
        if let Ok(Some(item)) = choice {
            if item.title == RERUN {
                if let Err(e) = jobs::start(&session, issue_ref).await {
                    session
                        .show_message(MessageType::ERROR, format!("Swiss: {}", e.message))
                        .await;
                }
            }
        }
    });
}
