//! Swiss's own part of the protocol: command names, their arguments and results, the custom
//! notification we handle, and the shape of the `data` we attach to diagnostics. Everything here
//! is documented in docs/lsp.md; the editor shims (VS Code, Neovim) depend on it, so a change
//! here is a change of the public API.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tower_lsp_server::jsonrpc::{Error, ErrorCode};

pub const FIX_ISSUE: &str = "swiss.fixIssue";
pub const CANCEL: &str = "swiss.cancel";
pub const APPLY_CANDIDATE: &str = "swiss.applyCandidate";
pub const CANDIDATES: &str = "swiss.candidates";
pub const SHOW_DIFF: &str = "swiss.showDiff";
pub const DISMISS: &str = "swiss.dismiss";

pub const COMMANDS: [&str; 6] = [
    FIX_ISSUE,
    CANCEL,
    APPLY_CANDIDATE,
    CANDIDATES,
    SHOW_DIFF,
    DISMISS,
];

/// Standard since LSP 3.15, but tower-lsp-server has no handler for it, so it is registered as a
/// custom method.
pub const WORK_DONE_PROGRESS_CANCEL: &str = "window/workDoneProgress/cancel";

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
