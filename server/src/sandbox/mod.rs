//! Where candidate patches are tested: a sandbox runs a shell command over a copy of the
//! repository with a candidate's files laid over it, and reports what happened. A failed test is
//! data (`RunOutput`), not an error; `SandboxError` means the sandbox itself could not run.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use tokio_util::sync::CancellationToken;

/// One file of the repository as the sandbox receives it: bytes, not text, so that binary test
/// data travels too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseFile {
    pub path: String,
    pub bytes: Arc<[u8]>,
    pub executable: bool,
}

/// What one run lays over the prepared base before running its command.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunSpec {
    /// Run with `sh -c` from the repository root.
    pub command: String,
    /// Files to write (the candidate's changed files, a reproduction script); `None` deletes.
    pub files: Vec<(String, Option<Arc<str>>)>,
    pub env: Vec<(String, String)>,
    pub timeout: Duration,
}

/// How a run ended. Output is capped (`output_limit` bytes each); `truncated` says so.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RunOutput {
    /// `None` when the command was killed (timeout, cancel) or died by a signal.
    pub exit_code: Option<i32>,
    pub timed_out: bool,
    pub stdout: String,
    pub stderr: String,
    pub truncated: bool,
    #[serde(with = "duration_secs")]
    pub duration: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("failed to prepare the sandbox: {0}")]
    Prepare(String),
    #[error("failed to run in the sandbox: {0}")]
    Run(String),
    #[error("failed to reach the Docker engine: {0}")]
    DockerUnavailable(String),
    #[error("the sandbox run was cancelled")]
    Cancelled,
}

/// A prepared sandbox: the base files are in place; each `run` starts from them afresh, so runs
/// never see each other's changes, and several may run at once.
pub trait Sandbox: Send + Sync {
    /// `"docker"` or `"local"`, for reports.
    fn kind(&self) -> &'static str;
    fn run(&self, spec: RunSpec, cancel: CancellationToken) -> BoxFuture<'_, Result<RunOutput, SandboxError>>;
    /// Removes everything the sandbox made (containers, images, temporary folders). Also done on
    /// drop as far as a synchronous drop can.
    fn cleanup(&self) -> BoxFuture<'_, ()>;
}

/// Default cap on each of stdout and stderr: enough for a verbose pytest run, bounded against a
/// test that prints without end.
pub const DEFAULT_OUTPUT_LIMIT: usize = 1024 * 1024;

mod duration_secs {
    pub fn serialize<S: serde::Serializer>(d: &std::time::Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }
}
