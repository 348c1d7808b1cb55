//! Where candidate patches are tested: a sandbox runs a shell command over a copy of the
//! repository with a candidate's files laid over it, and reports what happened. A failed test is
//! data (`RunOutput`), not an error; `SandboxError` means the sandbox itself could not run.

pub mod confine;
pub mod docker;
pub mod leftovers;
pub mod local;
pub mod reports;
pub mod run_marker;

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use tokio_util::sync::CancellationToken;

pub use crate::engine::base_file::BaseFile;

/// What one run lays over the prepared base before running its command.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunSpec {
    /// Run with `sh -c` from the repository root.
    pub command: String,
    /// Files to write (the candidate's changed files, a reproduction script); `None` deletes.
    pub files: Vec<(String, Option<Arc<str>>)>,
    pub env: Vec<(String, String)>,
    pub timeout: Duration,
    /// Report files to read from the run's copy once the command has ended: a glob relative to
    /// the repository root (`reports::ReportGlob`).
    pub reports: Option<String>,
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
    /// The repository root as the command saw it (the run's copy): runners that print absolute
    /// paths are read relative to it.
    #[serde(skip)]
    pub root: Option<String>,
    /// The files `RunSpec::reports` matched, within the output cap; `truncated` says when one
    /// was left out.
    #[serde(skip)]
    pub reports: Vec<reports::ReportFile>,
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
    fn run(
        &self,
        spec: RunSpec,
        cancel: CancellationToken,
    ) -> BoxFuture<'_, Result<RunOutput, SandboxError>>;
    /// How runs are confined, for reports (`verification.confinement`).
    fn confinement(&self) -> Option<confine::Confinement> {
        None
    }
    /// Removes everything the sandbox made (containers, images, temporary folders). Also done on
    /// drop as far as a synchronous drop can.
    fn cleanup(&self) -> BoxFuture<'_, ()>;
}

/// Default cap on each of stdout and stderr (`sandbox.output_limit_mb`): the `-v` lines of a
/// suite of some 200,000 tests, bounded against a test that prints without end.
pub const DEFAULT_OUTPUT_LIMIT: usize = 16 * 1024 * 1024;

/// Checks that a path from a snapshot or a candidate stays inside the sandbox's tree: candidate
/// paths come from model output, and `../../x` must not write outside the copy.
pub(crate) fn relative_path(path: &str) -> Result<PathBuf, String> {
    let mut clean = PathBuf::new();
    for component in Path::new(path).components() {
        match component {
            Component::Normal(part) => clean.push(part),
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => {
                return Err(format!("path `{path}` leaves the repository"));
            }
        }
    }
    if clean.as_os_str().is_empty() {
        return Err(format!("path `{path}` names no file"));
    }
    Ok(clean)
}

/// One captured stream: keeps the first `limit` bytes and counts the rest, so that a reader can
/// go on draining a pipe (a child blocked on a full pipe would never exit) without holding it.
#[derive(Debug, Default)]
pub(crate) struct Capture {
    bytes: Vec<u8>,
    limit: usize,
    truncated: bool,
}

impl Capture {
    pub(crate) fn new(limit: usize) -> Self {
        Capture {
            bytes: Vec::new(),
            limit,
            truncated: false,
        }
    }

    pub(crate) fn push(&mut self, chunk: &[u8]) {
        let room = self.limit.saturating_sub(self.bytes.len());
        if chunk.len() > room {
            self.truncated = true;
        }
        self.bytes
            .extend_from_slice(&chunk[..chunk.len().min(room)]);
    }

    pub(crate) fn truncated(&self) -> bool {
        self.truncated
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Lossy: a test may print anything, and the cap may cut a character in two.
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }
}

/// Durations in reports: seconds as a float, which every JSON reader takes.
pub mod duration_secs {
    pub fn serialize<S: serde::Serializer>(
        d: &std::time::Duration,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(
        d: D,
    ) -> Result<std::time::Duration, D::Error> {
        let secs = <f64 as serde::Deserialize>::deserialize(d)?;
        std::time::Duration::try_from_secs_f64(secs).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_inside_the_tree() {
        assert_eq!(relative_path("a/./b.py").unwrap(), PathBuf::from("a/b.py"));
        for bad in ["../x", "a/../../x", "/etc/passwd", "", "."] {
            assert!(relative_path(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn capture_keeps_the_head_and_counts_the_rest() {
        let mut capture = Capture::new(5);
        capture.push(b"abc");
        assert!(!capture.truncated());
        capture.push(b"defg");
        capture.push(b"hij");
        assert_eq!(capture.text(), "abcde");
        assert!(capture.truncated());
        let mut exact = Capture::new(3);
        exact.push(b"abc");
        assert!(!exact.truncated(), "output exactly at the cap is whole");
    }

    #[test]
    fn a_character_cut_by_the_cap_does_not_fail() {
        let mut capture = Capture::new(2);
        capture.push("é!".as_bytes());
        assert_eq!(capture.text(), "é");
        let mut cut = Capture::new(1);
        cut.push("é".as_bytes());
        assert_eq!(cut.text(), "\u{fffd}");
    }
}
