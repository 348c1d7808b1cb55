//! A job's `$/progress` stream: server-created (`window/workDoneProgress/create`), cancellable,
//! one report per stage and per sample. A client without progress support gets
//! `window/showMessage` at the start and the end instead. Every client gets the end as
//! `swiss/jobEnded` too.

use tower_lsp_server::lsp_types::notification::Progress;
use tower_lsp_server::lsp_types::request::WorkDoneProgressCreate;
use tower_lsp_server::lsp_types::{
    MessageType, ProgressParams, ProgressParamsValue, ProgressToken, WorkDoneProgress,
    WorkDoneProgressBegin, WorkDoneProgressCreateParams, WorkDoneProgressEnd,
    WorkDoneProgressReport,
};
use tower_lsp_server::Client;

use super::jobs::Job;
use super::protocol::{Ending, JobEnded, JobEndedParams};
use super::session::Session;

#[derive(Clone)]
pub struct JobProgress {
    client: Client,
    /// `None` when the client shows no progress (unsupported, or it refused the token).
    token: Option<ProgressToken>,
    title: String,
    job: String,
}

impl JobProgress {
    pub async fn begin(session: &Session, job: &Job) -> JobProgress {
        let title = format!("Swiss: {}", job.issue.title);
        let mut token = None;
        if session.support().work_done_progress {
            let created = session
                .client
                .send_request::<WorkDoneProgressCreate>(WorkDoneProgressCreateParams {
                    token: job.progress_token.clone(),
                })
                .await;
            match created {
                Ok(()) => token = Some(job.progress_token.clone()),
                Err(e) => tracing::warn!(error = %e.message, "the client refused a progress token"),
            }
        }
        let progress = JobProgress {
            client: session.client.clone(),
            token,
            title,
            job: job.id.clone(),
        };
        match &progress.token {
            Some(_) => {
                progress
                    .send(WorkDoneProgress::Begin(WorkDoneProgressBegin {
                        title: progress.title.clone(),
                        cancellable: Some(true),
                        message: Some(format!("{} started", job.id)),
                        percentage: Some(0),
                    }))
                    .await
            }
            None => {
                session
                    .show_message(
                        MessageType::INFO,
                        format!(
                            "{}: {} started (swiss.cancel {{\"job\": \"{}\"}} stops it)",
                            progress.title, job.id, job.id
                        ),
                    )
                    .await
            }
        }
        progress
    }

    pub fn is_visible(&self) -> bool {
        self.token.is_some()
    }

    pub async fn report(&self, message: String, percentage: u32) {
        self.send(WorkDoneProgress::Report(WorkDoneProgressReport {
            cancellable: Some(true),
            message: Some(message),
            percentage: Some(percentage),
        }))
        .await;
    }

    /// Ends the job for the client: the progress ends with `message`, then `swiss/jobEnded`
    /// says how the job went. The job task calls this once, on whichever path the job ends.
    pub async fn end(&self, ending: Ending, message: impl Into<String>) {
        let message = message.into();
        self.send(WorkDoneProgress::End(WorkDoneProgressEnd {
            message: Some(message.clone()),
        }))
        .await;
        self.client
            .send_notification::<JobEnded>(JobEndedParams::new(&self.job, ending, message))
            .await;
    }

    async fn send(&self, value: WorkDoneProgress) {
        let Some(token) = &self.token else {
            return;
        };
        self.client
            .send_notification::<Progress>(ProgressParams {
                token: token.clone(),
                value: ProgressParamsValue::WorkDone(value),
            })
            .await;
    }
}
