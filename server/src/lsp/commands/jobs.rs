//! `swiss.jobs` → `{jobs: [...]}`: every job the server knows, oldest first, with its
//! candidates once done; jobs kept from earlier sessions (`.git/swiss/jobs/`) included.

use serde_json::Value;
use tower_lsp_server::jsonrpc::Result;

use crate::lsp::jobs::{Job, JobState};
use crate::lsp::protocol::{request_failed, JobSummary, JobsResult};
use crate::lsp::session::Session;

pub fn run(session: &Session) -> Result<Value> {
    let jobs = session
        .jobs_in_order()
        .iter()
        .map(|job| summary(job))
        .collect();
    serde_json::to_value(JobsResult { jobs })
        .map_err(|e| request_failed(format!("failed to encode the jobs: {e}")))
}

fn summary(job: &Job) -> JobSummary {
    let mut summary = JobSummary {
        job: job.id.clone(),
        issue: job.issue.clone(),
        state: "running",
        kept: job.kept,
        files: job.files.clone(),
        winner: None,
        applied: None,
        candidates: Vec::new(),
    };
    match job.state() {
        JobState::Running { .. } => {}
        JobState::Done {
            report, applied, ..
        } => {
            summary.state = "done";
            summary.winner = report.winner;
            summary.applied = applied;
            summary.candidates = report.candidates.clone();
        }
        JobState::Failed(_) => summary.state = "failed",
        JobState::Cancelled => summary.state = "cancelled",
    }
    summary
}
