//! The task that runs one job: the engine's `run_fix`, with its events turned into progress
//! reports and diagnostics as they happen, and the outcome into the job's final state.

use std::collections::HashMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use tokio::sync::mpsc;
use tower_lsp_server::lsp_types::{Diagnostic, MessageType, Uri};
use tracing::Instrument;

use super::convert::{self, ProgressTally};
use super::diagnostics;
use super::jobs::{Job, JobState};
use super::kept_jobs;
use super::progress::JobProgress;
use super::protocol::Ending;
use super::session::Session;
use crate::engine::hunks::file_hunks;
use crate::job::confidence::Confidence;
use crate::job::report::FixReport;
use crate::job::{
    run_fix, CancelReason, CandidateRecord, FixOutcome, JobContext, JobError, JobEvent, KeepLimits,
};

/// How long a cancelled job may take to wind down by itself (the engine stops sampling and
/// kills sandbox runs on the token) before its future is dropped.
const CANCEL_GRACE: Duration = Duration::from_secs(2);

pub async fn run(session: Arc<Session>, job: Arc<Job>, ctx: JobContext) {
    let span = tracing::info_span!("job", id = %job.id);
    async move {
        let progress = JobProgress::begin(&session, &job).await;
        let (events_tx, events_rx) = mpsc::unbounded_channel();
        let watcher = tokio::spawn(
            watch(session.clone(), job.clone(), progress.clone(), events_rx)
                .instrument(tracing::Span::current()),
        );
        let ctx = ctx.with_events(Arc::new(move |event: JobEvent| {
            let _ = events_tx.send(event);
        }));
        let result = {
            let fix = contained(run_fix(&ctx));
            tokio::pin!(fix);
            tokio::select! {
                result = &mut fix => result,
                () = async {
                    job.cancel.cancelled().await;
                    tokio::time::sleep(CANCEL_GRACE).await;
                } => {
                    tracing::warn!("the engine did not stop within the grace period; dropping it");
                    Ok(Err(JobError::Cancelled(job.cancel.reason().unwrap_or(CancelReason::User))))
                }
            }
        };
        let limits = KeepLimits::from_settings(&ctx.settings);
        // The sender lives in the context's event sink; dropping it lets the watcher drain and
        // stop, so every report is out before the progress ends.
        drop(ctx);
        let _ = watcher.await;
        match result {
            Ok(result) => finish(&session, &job, &progress, result, limits).await,
            Err(panic) => {
                let message = format!(
                    "internal error: {panic} (a bug in Swiss: the server log says where; the server keeps running)"
                );
                fail(&session, &job, &progress, message).await;
            }
        }
    }
    .instrument(span)
    .await;
}

/// Turns events into progress reports and, once localization is done, diagnostics on the
/// localized files. Events arrive in order through one channel.
async fn watch(
    session: Arc<Session>,
    job: Arc<Job>,
    progress: JobProgress,
    mut events: mpsc::UnboundedReceiver<JobEvent>,
) {
    let mut tally = ProgressTally::default();
    let mut stage_span = tracing::Span::none();
    while let Some(event) = events.recv().await {
        if let JobEvent::StageStarted { stage, samples } = &event {
            stage_span = tracing::info_span!("stage", name = stage.label(), samples);
            tracing::info!(parent: &stage_span, "stage started");
            if job.is_running() {
                job.set_state(JobState::Running {
                    stage: Some(*stage),
                });
            }
        }
        tracing::debug!(parent: &stage_span, ?event, "job event");
        if let Some((message, percentage)) = tally.report(&event) {
            progress.report(message, percentage).await;
        }
        if let JobEvent::Localized { files, given, .. } = &event {
            if job.cancel.is_cancelled() {
                continue;
            }
            let mut by_file: HashMap<Uri, Vec<_>> = HashMap::new();
            for (rank, path) in files.iter().enumerate() {
                if let Some(uri) = convert::file_uri(&job.root, path) {
                    by_file
                        .entry(uri)
                        .or_default()
                        .push(convert::localized_diagnostic(
                            &job.id,
                            &job.link,
                            rank + 1,
                            files.len(),
                            *given,
                        ));
                }
            }
            diagnostics::set(&session, &job, by_file).await;
        }
    }
}

async fn finish(
    session: &Session,
    job: &Job,
    progress: &JobProgress,
    result: Result<FixOutcome, JobError>,
    limits: KeepLimits,
) {
    // A job cancelled (or dismissed) while its last stage ran ends as cancelled, whatever the
    // engine returned: the user asked for it to go away.
    let result = match result {
        Ok(_) if job.cancel.is_cancelled() => Err(JobError::Cancelled(
            job.cancel.reason().unwrap_or(CancelReason::User),
        )),
        other => other,
    };
    match result {
        Ok(outcome) => finished(session, job, progress, outcome, limits).await,
        Err(JobError::Cancelled(reason)) => cancelled(session, job, progress, reason).await,
        Err(e) => fail(session, job, progress, e.to_string()).await,
    }
}

/// A job that ran to the end: its winner's hunks become diagnostics, or it found none.
async fn finished(
    session: &Session,
    job: &Job,
    progress: &JobProgress,
    outcome: FixOutcome,
    limits: KeepLimits,
) {
    let report = Arc::new(FixReport::new(&outcome));
    let outcome = Arc::new(outcome);
    job.set_state(JobState::Done {
        outcome: outcome.clone(),
        report: report.clone(),
        applied: None,
    });
    kept_jobs::keep(job, outcome.clone(), limits).await;
    let Some(winner) = outcome.winner() else {
        diagnostics::clear(session, job).await;
        let summary = report.no_candidate_summary();
        progress
            .end(Ending::NoCandidate, format!("finished: {summary}"))
            .await;
        session
            .show_message(MessageType::WARNING, format!("Swiss {}: {summary}", job.id))
            .await;
        return;
    };
    let ranked = outcome.winner_rank();
    show_winner(session, job, &outcome, winner).await;
    let mut summary = format!(
        "winner: candidate {} (score {:.2}, {} vote(s)) of {} unique candidate(s) from {} sample(s)",
        winner.id,
        ranked.0,
        ranked.1,
        outcome.candidates.len(),
        outcome.samples.len()
    );
    if let Some(stop) = &outcome.early_stop {
        summary = format!("{summary}; {}", stop.summary());
    }
    tracing::info!(%summary, "job finished");
    progress
        .end(Ending::Succeeded { winner: winner.id }, summary.clone())
        .await;
    let message = format!("Swiss {}: {summary}; the code actions apply it", job.id);
    tell_without_progress(session, progress, message).await;
}

/// The winner's hunks as diagnostics, on a job just done or kept from an earlier session.
pub(super) async fn show_winner(
    session: &Session,
    job: &Job,
    outcome: &FixOutcome,
    winner: &CandidateRecord,
) {
    let ranked = outcome.winner_rank();
    let diagnostics = winner_diagnostics(job, winner, ranked, outcome.confidence.as_ref());
    diagnostics::set(session, job, diagnostics).await;
}

/// The winner's hunks by file; `ranked` is its score and votes.
fn winner_diagnostics(
    job: &Job,
    winner: &CandidateRecord,
    ranked: (f64, usize),
    confidence: Option<&Confidence>,
) -> HashMap<Uri, Vec<Diagnostic>> {
    let label = convert::WinnerLabel {
        job: &job.id,
        link: &job.link,
        candidate: winner.id,
        score: ranked.0,
        votes: ranked.1,
        confidence,
    };
    let mut by_file: HashMap<Uri, Vec<_>> = HashMap::new();
    // Hunks are numbered across the files, in the order the engine cuts them.
    let mut first_hunk = 0;
    for change in &winner.files.changes {
        if let Some(uri) = convert::file_uri(&job.root, &change.path) {
            by_file
                .entry(uri)
                .or_default()
                .extend(convert::winner_diagnostics(&label, change, first_hunk));
        }
        first_hunk += file_hunks(change).len();
    }
    by_file
}

async fn cancelled(session: &Session, job: &Job, progress: &JobProgress, reason: CancelReason) {
    tracing::info!(?reason, "job cancelled");
    job.set_state(JobState::Cancelled);
    diagnostics::clear(session, job).await;
    progress
        .end(Ending::Cancelled(reason), "cancelled; nothing was changed")
        .await;
    let message = format!("Swiss {} cancelled; nothing was changed", job.id);
    tell_without_progress(session, progress, message).await;
}

/// The end of a job is said once: in the progress UI when the editor shows it, else as a message.
async fn tell_without_progress(session: &Session, progress: &JobProgress, message: String) {
    if !progress.is_visible() {
        session.show_message(MessageType::INFO, message).await;
    }
}

async fn fail(session: &Session, job: &Job, progress: &JobProgress, message: String) {
    tracing::warn!(error = %message, "job failed");
    job.set_state(JobState::Failed(message.clone()));
    diagnostics::clear(session, job).await;
    progress
        .end(Ending::Failed, format!("failed: {message}"))
        .await;
    session
        .show_message(
            MessageType::ERROR,
            format!("Swiss {} failed: {message}", job.id),
        )
        .await;
}

/// Runs `future`, turning a panic into an error with its message: a bug in the engine must end
/// the job (and its progress in the editor) rather than leave it running forever.
async fn contained<T>(future: impl Future<Output = T>) -> Result<T, String> {
    AssertUnwindSafe(future)
        .catch_unwind()
        .await
        .map_err(|payload| {
            payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic without a message".to_owned())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panicking_engine_becomes_an_error_with_its_message() {
        assert_eq!(contained(async { 7 }).await, Ok(7));
        let literal = contained(async { panic!("index out of bounds") }).await;
        assert_eq!(literal, Err::<(), _>("index out of bounds".to_owned()));
        let formatted = contained(async { panic!("candidate {} missing", 3) }).await;
        assert_eq!(formatted, Err::<(), _>("candidate 3 missing".to_owned()));
    }
}
