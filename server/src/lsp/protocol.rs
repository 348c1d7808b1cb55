//! Swiss's own part of the protocol: command names, their arguments and results, the custom
//! notification we handle and the one we send, and the shape of the `data` we attach to diagnostics. Everything here
//! is documented in docs/lsp.md; the editor shims (VS Code, Neovim) depend on it, so a change
//! here is a change of the public API.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tower_lsp_server::jsonrpc::{Error, ErrorCode};
use tower_lsp_server::lsp_types::notification::Notification;

use crate::job::CancelReason;

pub const FIX_ISSUE: &str = "swiss.fixIssue";
pub const CANCEL: &str = "swiss.cancel";
pub const APPLY_CANDIDATE: &str = "swiss.applyCandidate";
pub const CANDIDATES: &str = "swiss.candidates";
pub const SHOW_DIFF: &str = "swiss.showDiff";
pub const DISMISS: &str = "swiss.dismiss";
pub const CANDIDATE_TEXT: &str = "swiss.candidateText";

pub const COMMANDS: [&str; 7] = [
    FIX_ISSUE,
    CANCEL,
    APPLY_CANDIDATE,
    CANDIDATES,
    SHOW_DIFF,
    DISMISS,
    CANDIDATE_TEXT,
];

/// Standard since LSP 3.15, but tower-lsp-server has no handler for it, so it is registered as a
/// custom method.
pub const WORK_DONE_PROGRESS_CANCEL: &str = "window/workDoneProgress/cancel";

/// Sent once per job when it ends, however it ends: the editors read how it went from this
/// rather than from the progress text.
pub enum JobEnded {}

impl Notification for JobEnded {
    type Params = JobEndedParams;
    const METHOD: &'static str = "swiss/jobEnded";
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct JobEndedParams {
    pub job: String,
    pub state: EndState,
    /// The winning candidate's id when `state` is `succeeded`, else `null`.
    pub winner: Option<u32>,
    /// What the progress ended with, for the user to read.
    pub message: String,
    /// Why a cancelled job was cancelled, else `null`.
    pub reason: Option<CancelReason>,
}

impl JobEndedParams {
    pub fn new(job: &str, ending: Ending, message: String) -> JobEndedParams {
        let (state, winner, reason) = match ending {
            Ending::Succeeded { winner } => (EndState::Succeeded, Some(winner), None),
            Ending::NoCandidate => (EndState::NoCandidate, None, None),
            Ending::Failed => (EndState::Failed, None, None),
            Ending::Cancelled(reason) => (EndState::Cancelled, None, Some(reason)),
        };
        JobEndedParams {
            job: job.to_owned(),
            state,
            winner,
            message,
            reason,
        }
    }
}

/// How a job ended, with what belongs to each end: a winner only to a success, a reason only
/// to a cancel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    Succeeded { winner: u32 },
    NoCandidate,
    Failed,
    Cancelled(CancelReason),
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum EndState {
    Succeeded,
    Failed,
    Cancelled,
    NoCandidate,
}

/// The `source` of every diagnostic Swiss publishes.
pub const DIAGNOSTIC_SOURCE: &str = "swiss";
/// Diagnostic codes: which of the two kinds a diagnostic is.
pub const CODE_LOCALIZED: &str = "localized";
pub const CODE_WINNER: &str = "winner";

/// `swiss.fixIssue` arguments. `issue` is a path to a text or Markdown file (absolute or relative
/// to the workspace root), pasted issue text, or a reference such as `#123`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixIssueArgs {
    pub issue: String,
}

#[derive(Debug, Serialize)]
pub struct FixIssueResult {
    pub job: String,
}

/// Arguments of the commands that only name a job.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobArgs {
    pub job: String,
}

/// `swiss.applyCandidate` and `swiss.showDiff`: the winner when `candidate` is left out.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CandidateArgs {
    pub job: String,
    pub candidate: Option<u32>,
}

/// `swiss.applyCandidate`: the winner when `candidate` is left out, and only the hunks numbered
/// in `hunks` (crate::engine::hunks's order) when it is given.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApplyArgs {
    pub job: String,
    pub candidate: Option<u32>,
    pub hunks: Option<Vec<usize>>,
}

/// `swiss.candidateText`: one file as a candidate leaves it, by repository-relative path.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CandidateTextArgs {
    pub job: String,
    pub candidate: u32,
    pub path: String,
}

#[derive(Debug, Serialize)]
pub struct CandidateTextResult {
    pub path: String,
    /// The file with the candidate applied; `null` when it does not exist then.
    pub text: Option<String>,
    /// The file as the job read it; `null` when it did not exist.
    pub original: Option<String>,
    /// Whether the candidate changes this file.
    pub changed: bool,
}

#[derive(Debug, Serialize)]
pub struct ShowDiffResult {
    pub uri: String,
}

/// What every Swiss diagnostic carries in `data`, so code actions and hovers can find the job
/// without matching messages.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DiagnosticData {
    pub job: String,
    /// Set on the hunks of a winner.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub candidate: Option<u32>,
    /// Set on the hunks of a winner: the hunk's number, for `swiss.applyCandidate {hunks}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hunk: Option<usize>,
}

/// Reads the single argument object of a command, naming the command and the expected shape
/// when it does not fit.
pub fn single_argument<T: serde::de::DeserializeOwned>(
    command: &str,
    arguments: Vec<Value>,
    shape: &str,
) -> Result<T, Error> {
    let mut arguments = arguments.into_iter();
    let (Some(first), None) = (arguments.next(), arguments.next()) else {
        return Err(invalid_params(format!(
            "{command} takes one argument, an object {shape}"
        )));
    };
    serde_json::from_value(first).map_err(|e| {
        invalid_params(format!(
            "{command} takes one argument, an object {shape}: {e}"
        ))
    })
}

pub fn invalid_params(message: impl Into<String>) -> Error {
    Error {
        code: ErrorCode::InvalidParams,
        message: message.into().into(),
        data: None,
    }
}

/// A request that was well-formed but cannot be carried out now (job still running, files
/// changed, client lacks a capability). LSP reserves -32803 for `RequestFailed`.
pub fn request_failed(message: impl Into<String>) -> Error {
    Error {
        code: ErrorCode::ServerError(-32803),
        message: message.into().into(),
        data: None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// The example in docs/lsp.md is what the server sends: it parses into the type and prints
    /// back the same.
    #[test]
    fn the_documented_job_end_is_the_one_sent() {
        let doc = include_str!("../../../docs/lsp.md");
        let section = doc
            .split_once("## Job end (`swiss/jobEnded`)")
            .expect("docs/lsp.md documents swiss/jobEnded")
            .1;
        let example = section
            .split_once("```json\n")
            .and_then(|(_, rest)| rest.split_once("```"))
            .expect("an example")
            .0;
        let documented: Value = serde_json::from_str(example).expect("the example is JSON");
        let params: JobEndedParams =
            serde_json::from_value(documented.clone()).expect("the example fits the type");
        assert_eq!(
            params,
            JobEndedParams::new(
                "job-1",
                Ending::Succeeded { winner: 3 },
                params.message.clone()
            )
        );
        assert_eq!(serde_json::to_value(&params).unwrap(), documented);
        let cancelled = JobEndedParams::new(
            "job-2",
            Ending::Cancelled(CancelReason::Dismiss),
            "cancelled; nothing was changed".to_owned(),
        );
        let sent = serde_json::to_value(cancelled).unwrap();
        assert_eq!(
            (&sent["state"], &sent["reason"]),
            (&json!("cancelled"), &json!("dismiss"))
        );
        assert_eq!(sent["winner"], Value::Null);
        let no_candidate = JobEndedParams::new("job-3", Ending::NoCandidate, String::new());
        assert_eq!(
            serde_json::to_value(no_candidate).unwrap()["state"],
            "no-candidate"
        );
    }
}
