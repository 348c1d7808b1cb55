//! `window/workDoneProgress/cancel`: the cancel button of a job's progress.

use tower_lsp_server::lsp_types::WorkDoneProgressCancelParams;

use crate::lsp::jobs;
use crate::lsp::session::Session;

pub fn handle(session: &Session, params: WorkDoneProgressCancelParams) {
    let job = session
        .jobs_in_order()
        .into_iter()
        .find(|job| job.progress_token == params.token);
    match job {
        Some(job) => {
            if let Err(e) = jobs::cancel(&job) {
                tracing::info!(job = %job.id, reason = %e.message, "progress cancel ignored");
            }
        }
        None => tracing::info!(token = ?params.token, "cancel for a progress token we do not know"),
    }
}
