//! Each job keeps the diagnostics it wants shown; a file's `publishDiagnostics` carries the union
//! over all jobs, because a publish replaces everything the server said about that file before
//! and two jobs may point at the same file.

use std::collections::{BTreeSet, HashMap};

use tower_lsp_server::lsp_types::{Diagnostic, Uri};

use super::jobs::Job;
use super::session::Session;

/// Replaces `job`'s diagnostics and republishes every file that gained or lost some.
pub async fn set(session: &Session, job: &Job, diagnostics: HashMap<Uri, Vec<Diagnostic>>) {
    let _publishing = session.publish_lock.lock().await;
    let touched: BTreeSet<Uri> = {
        let mut mine = job.diagnostics.lock().unwrap_or_else(|e| e.into_inner());
        let touched = mine.keys().chain(diagnostics.keys()).cloned().collect();
        *mine = diagnostics;
        touched
    };
    for uri in touched {
        let all = of_file(session, &uri);
        session.client.publish_diagnostics(uri, all, None).await;
    }
}

pub async fn clear(session: &Session, job: &Job) {
    set(session, job, HashMap::new()).await;
}

/// Every job's diagnostics for `uri`, oldest job first.
fn of_file(session: &Session, uri: &Uri) -> Vec<Diagnostic> {
    session
        .jobs_in_order()
        .iter()
        .flat_map(|job| {
            job.diagnostics
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(uri)
                .cloned()
                .unwrap_or_default()
        })
        .collect()
}

/// The diagnostics of `job` on `uri`, for hovers and code actions.
pub fn of_job(job: &Job, uri: &Uri) -> Vec<Diagnostic> {
    job.diagnostics
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(uri)
        .cloned()
        .unwrap_or_default()
}
