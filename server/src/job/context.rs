//! What every stage of a job reads: the repository as the job saw it, the issue, the resolved
//! settings and prompts, the backend, where events go and the cancellation. Built once by
//! `setup`, never changed after.

use std::sync::Arc;

use tokio::sync::{mpsc, Semaphore};

use super::cancel::JobCancel;
use super::error::JobError;
use super::events::JobEvent;
use crate::backend::{
    BackendClient, BackendError, ChatMessage, Sample, SamplingParams, Usage, UsageLedger,
};
use crate::config::Settings;
use crate::engine::issue::Issue;
use crate::engine::snapshot::RepoSnapshot;
use crate::prompts::{PromptKind, Prompts};

/// Where a job's events go: the CLI prints them, the language server turns them into progress
/// and diagnostics.
pub type EventSink = Arc<dyn Fn(JobEvent) + Send + Sync>;

pub struct JobContext {
    pub snapshot: Arc<RepoSnapshot>,
    pub issue: Issue,
    /// The issue as every prompt shows it.
    pub issue_text: String,
    pub settings: Settings,
    pub prompts: Prompts,
    /// Shared so that many jobs (`swiss eval`) can spread over one set of servers.
    pub client: Arc<BackendClient>,
    /// What each endpoint served this job, apart from other jobs on the same client.
    pub ledger: UsageLedger,
    pub events: EventSink,
    pub cancel: JobCancel,
    /// Sandbox runs at once across every job holding this semaphore (`swiss eval --jobs N`);
    /// `None`: the job's own cap, `sandbox.concurrency`.
    pub sandbox_permits: Option<Arc<Semaphore>>,
    /// Repository-relative files the user named (`--files`, "Fix issue here…"): they are the
    /// one repair context, and localization and retrieval do not run.
    pub given_files: Option<Vec<String>>,
}

impl JobContext {
    pub fn new(
        snapshot: Arc<RepoSnapshot>,
        issue: Issue,
        settings: Settings,
        prompts: Prompts,
        client: Arc<BackendClient>,
    ) -> JobContext {
        JobContext {
            issue_text: issue.prompt_text(),
            snapshot,
            issue,
            settings,
            prompts,
            ledger: client.ledger(),
            client,
            events: Arc::new(|_| {}),
            cancel: JobCancel::new(),
            sandbox_permits: None,
            given_files: None,
        }
    }

    pub fn with_given_files(mut self, files: Vec<String>) -> JobContext {
        self.given_files = (!files.is_empty()).then_some(files);
        self
    }

    pub fn with_sandbox_permits(mut self, permits: Arc<Semaphore>) -> JobContext {
        self.sandbox_permits = Some(permits);
        self
    }

    pub fn with_events(mut self, events: EventSink) -> JobContext {
        self.events = events;
        self
    }

    pub fn with_cancel(mut self, cancel: JobCancel) -> JobContext {
        self.cancel = cancel;
        self
    }

    pub fn emit(&self, event: JobEvent) {
        (self.events)(event);
    }

    pub fn warn(&self, message: impl Into<String>) {
        self.emit(JobEvent::Warning(message.into()));
    }

    pub fn params(&self) -> SamplingParams {
        SamplingParams {
            temperature: self.settings.temperature,
            top_p: self.settings.top_p,
            max_tokens: self.settings.max_tokens,
        }
    }

    pub fn render(&self, kind: PromptKind, values: &[(&str, &str)]) -> String {
        self.prompts.render(kind, values)
    }

    /// `n` answers to one prompt, each handed to `tx` as it finishes.
    pub async fn sample(
        &self,
        prompt: String,
        n: usize,
        tx: mpsc::UnboundedSender<Sample>,
    ) -> Result<Usage, BackendError> {
        self.sample_with(prompt, n, &self.params(), tx).await
    }

    async fn sample_with(
        &self,
        prompt: String,
        n: usize,
        params: &SamplingParams,
        tx: mpsc::UnboundedSender<Sample>,
    ) -> Result<Usage, BackendError> {
        let messages = [ChatMessage::user(prompt)];
        self.client
            .sample_recorded(
                &messages,
                n,
                params,
                tx,
                self.cancel.token(),
                Some(&self.ledger),
            )
            .await
    }

    /// `n` answers to one prompt, in sample order, once all are in.
    pub async fn sample_all(
        &self,
        prompt: String,
        n: usize,
    ) -> (Vec<Sample>, Result<Usage, BackendError>) {
        self.sample_all_with(prompt, n, &self.params()).await
    }

    /// [`Self::sample_all`] with other sampling parameters than the repair samples' (a greedy
    /// request with a short answer, say).
    pub async fn sample_all_with(
        &self,
        prompt: String,
        n: usize,
        params: &SamplingParams,
    ) -> (Vec<Sample>, Result<Usage, BackendError>) {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let result = self.sample_with(prompt, n, params, tx).await;
        let mut answers = Vec::with_capacity(n);
        while let Ok(sample) = rx.try_recv() {
            answers.push(sample);
        }
        answers.sort_by_key(|s| s.index);
        (answers, result)
    }

    /// The error a stage returns when the token fired: the reason travels with it.
    pub fn cancelled(&self) -> JobError {
        JobError::Cancelled(self.cancel.reason().unwrap_or(super::CancelReason::User))
    }
}
