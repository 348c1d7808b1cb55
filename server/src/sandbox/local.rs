//! The local sandbox: a fresh temporary copy of the repository per run, the command confined
//! (`confine`: no network, writes only to that copy and a private TMPDIR, secrets hidden, an
//! allow-listed environment, resource limits) and in its own process group so that everything
//! it started can be killed at once. A process that leaves its group (`setsid`, a daemon) is
//! found by its environment (`run_marker`) and killed too; under bubblewrap it also dies with
//! the run's PID namespace.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use futures::FutureExt;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::confine::{ConfineSettings, Confinement, Confiner, RunGuard, RunPaths};
use super::reports::{collect_local, ReportFile, ReportGlob};
use super::run_marker;
use super::{
    relative_path, BaseFile, Capture, RunOutput, RunSpec, Sandbox, SandboxError,
    DEFAULT_OUTPUT_LIMIT,
};

/// How long to wait for the output pipes to close once the process group is dead. Only a process
/// that left the group can hold them open longer; its output is then given up.
const DRAIN_GRACE: Duration = Duration::from_secs(2);

#[derive(Debug, Clone, PartialEq)]
pub struct LocalLimits {
    /// Cap on each of stdout and stderr, in bytes.
    pub output_limit: usize,
    pub confine: ConfineSettings,
}

impl Default for LocalLimits {
    fn default() -> Self {
        LocalLimits {
            output_limit: DEFAULT_OUTPUT_LIMIT,
            confine: ConfineSettings::default(),
        }
    }
}

pub struct LocalSandbox {
    /// `None` once cleaned up. Dropping the `TempDir` removes the base, so Drop needs no code.
    base: Mutex<Option<tempfile::TempDir>>,
    output_limit: usize,
    confiner: Confiner,
}

impl LocalSandbox {
    /// Writes the base files into a temporary folder that every run copies from. Fails where
    /// runs cannot be confined, unless `limits.confine.allow_unconfined`.
    pub async fn prepare(
        files: Vec<BaseFile>,
        limits: LocalLimits,
    ) -> Result<LocalSandbox, SandboxError> {
        let confine = limits.confine;
        // Probing the mechanism starts processes once: blocking work.
        let confiner = tokio::task::spawn_blocking(move || Confiner::new(confine))
            .await
            .map_err(|e| SandboxError::Prepare(format!("failed to probe the confinement: {e}")))?
            .map_err(SandboxError::Prepare)?;
        // Thousands of small writes: blocking work, kept off the runtime's workers.
        let base = tokio::task::spawn_blocking(move || write_base(&files))
            .await
            .map_err(|e| SandboxError::Prepare(format!("failed to write the base copy: {e}")))??;
        Ok(LocalSandbox {
            base: Mutex::new(Some(base)),
            output_limit: limits.output_limit,
            confiner,
        })
    }

    fn base_path(&self) -> Option<PathBuf> {
        let base = self.base.lock().unwrap_or_else(PoisonError::into_inner);
        base.as_ref().map(|dir| dir.path().to_path_buf())
    }

    async fn run_spec(
        &self,
        spec: RunSpec,
        cancel: CancellationToken,
    ) -> Result<RunOutput, SandboxError> {
        if cancel.is_cancelled() {
            return Err(SandboxError::Cancelled);
        }
        let base = self.base_path().ok_or_else(|| {
            SandboxError::Run("failed to start: the sandbox was already cleaned up".to_owned())
        })?;
        let files = spec.files.clone();
        // The copy is a blocking walk over the whole tree; keep it off the runtime's workers.
        let (run_dir, scratch) = tokio::task::spawn_blocking(move || make_run_dir(&base, &files))
            .await
            .map_err(|e| SandboxError::Run(format!("failed to copy the repository: {e}")))??;
        let paths = RunPaths {
            run: run_dir.path().to_path_buf(),
            tmp: scratch.path().join("tmp"),
            shm: scratch.path().join("shm"),
        };

        let result = self.run_in(&paths, &spec, &cancel).await;

        // Removed here on the normal paths; on a dropped future their own Drop does it.
        let _ = tokio::task::spawn_blocking(move || (run_dir.close(), scratch.close())).await;
        result
    }
}

impl Sandbox for LocalSandbox {
    fn kind(&self) -> &'static str {
        "local"
    }

    fn confinement(&self) -> Option<Confinement> {
        Some(self.confiner.confinement())
    }

    fn run(
        &self,
        spec: RunSpec,
        cancel: CancellationToken,
    ) -> BoxFuture<'_, Result<RunOutput, SandboxError>> {
        self.run_spec(spec, cancel).boxed()
    }

    fn cleanup(&self) -> BoxFuture<'_, ()> {
        async move {
            let base = self
                .base
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take();
            if let Some(base) = base {
                let _ = tokio::task::spawn_blocking(move || base.close()).await;
            }
        }
        .boxed()
    }
}

fn write_base(files: &[BaseFile]) -> Result<tempfile::TempDir, SandboxError> {
    let prepare =
        |e: io::Error| SandboxError::Prepare(format!("failed to write the base copy: {e}"));
    let base = tempfile::Builder::new()
        .prefix("swiss-base-")
        .tempdir()
        .map_err(prepare)?;
    for file in files {
        let relative = relative_path(&file.path).map_err(SandboxError::Prepare)?;
        write_file(
            &base.path().join(relative),
            &file.bytes,
            Some(file.executable),
        )
        .map_err(prepare)?;
    }
    tracing::debug!(base = %base.path().display(), files = files.len(), "local sandbox prepared");
    Ok(base)
}

fn write_file(path: &Path, bytes: &[u8], executable: Option<bool>) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)?;
    }
    fs::write(path, bytes)?;
    // `None` keeps the mode of the file written over: a candidate's edit to a script must not
    // change whether it can run.
    if let Some(executable) = executable {
        let mode = if executable { 0o755 } else { 0o644 };
        fs::set_permissions(path, fs::Permissions::from_mode(mode))?;
    }
    Ok(())
}

/// The run's copy, and a scratch folder beside it holding its TMPDIR (`tmp/`) and /dev/shm
/// (`shm/`).
fn make_run_dir(
    base: &Path,
    files: &[(String, Option<Arc<str>>)],
) -> Result<(tempfile::TempDir, tempfile::TempDir), SandboxError> {
    let failed = |what: &str, e: io::Error| SandboxError::Run(format!("failed to {what}: {e}"));
    let run_dir = tempfile::Builder::new()
        .prefix("swiss-run-")
        .tempdir()
        .map_err(|e| failed("create the run folder", e))?;
    let scratch = tempfile::Builder::new()
        .prefix("swiss-tmp-")
        .tempdir()
        .map_err(|e| failed("create the run's temporary folder", e))?;
    for sub in ["tmp", "shm"] {
        fs::create_dir(scratch.path().join(sub))
            .map_err(|e| failed("create the run's temporary folder", e))?;
    }
    copy_tree(base, run_dir.path()).map_err(|e| failed("copy the repository", e))?;
    for (path, content) in files {
        let target = run_dir
            .path()
            .join(relative_path(path).map_err(SandboxError::Run)?);
        match content {
            Some(text) => write_file(&target, text.as_bytes(), None)
                .map_err(|e| failed("write a candidate file", e))?,
            None => match fs::remove_file(&target) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(failed("delete a candidate file", e)),
            },
        }
    }
    Ok((run_dir, scratch))
}

/// A plain copy, not hard links: tests write into their tree, and a write through a link would
/// reach the base and every later run.
fn copy_tree(from: &Path, to: &Path) -> io::Result<()> {
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        let kind = entry.file_type()?;
        if kind.is_dir() {
            fs::create_dir(&target)?;
            copy_tree(&entry.path(), &target)?;
        } else if kind.is_symlink() {
            std::os::unix::fs::symlink(fs::read_link(entry.path())?, &target)?;
        } else {
            fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

enum Ending {
    Exited(io::Result<ExitStatus>),
    TimedOut,
    Cancelled,
}

impl LocalSandbox {
    async fn run_in(
        &self,
        paths: &RunPaths,
        spec: &RunSpec,
        cancel: &CancellationToken,
    ) -> Result<RunOutput, SandboxError> {
        let marker = run_marker::new_marker();
        let mut env = spec.env.clone();
        env.push((run_marker::VARIABLE.to_owned(), marker.clone()));
        let (mut command, guard): (_, RunGuard) = self
            .confiner
            .command(paths, &spec.command, &env, spec.timeout)
            .map_err(|e| SandboxError::Run(format!("failed to set up the confined run: {e}")))?;
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true);
        let started = Instant::now();
        let mut child = command.spawn().map_err(|e| {
            SandboxError::Run(format!(
                "failed to start the confined command ({}): {e}",
                self.confiner.confinement().mechanism
            ))
        })?;
        // process_group(0) makes the child its own group leader, so its pid is the group id.
        let group = GroupKill {
            pgid: child.id().map(|pid| pid as i32),
            marker,
            done: std::cell::Cell::new(false),
        };

        let stdout = spawn_reader(child.stdout.take(), self.output_limit);
        let stderr = spawn_reader(child.stderr.take(), self.output_limit);

        let timeout = tokio::time::sleep(spec.timeout);
        let ending = tokio::select! {
            status = child.wait() => Ending::Exited(status),
            () = timeout => Ending::TimedOut,
            () = cancel.cancelled() => Ending::Cancelled,
        };
        let duration = started.elapsed();
        // Always, also after a normal exit: `sleep 300 &` in a test must not outlive the run.
        group.kill();
        let exit_code = match &ending {
            Ending::Exited(Ok(status)) => status.code(),
            Ending::Exited(Err(e)) => {
                return Err(SandboxError::Run(format!(
                    "failed to wait for the command: {e}"
                )))
            }
            Ending::TimedOut | Ending::Cancelled => {
                // Reap the leader so it leaves no zombie; SIGKILL makes this immediate.
                let _ = child.wait().await;
                None
            }
        };
        let (stdout, stdout_truncated) = stdout.finish().await;
        let (stderr, stderr_truncated) = stderr.finish().await;
        // Removing the run's cgroup waits for its last processes to be reaped: off the workers.
        let _ = tokio::task::spawn_blocking(move || drop(guard)).await;
        if matches!(ending, Ending::Cancelled) {
            return Err(SandboxError::Cancelled);
        }
        let (reports, reports_truncated) = self.read_reports(&paths.run, spec).await?;
        Ok(RunOutput {
            exit_code,
            timed_out: matches!(ending, Ending::TimedOut),
            stdout,
            stderr,
            truncated: stdout_truncated || stderr_truncated || reports_truncated,
            duration,
            root: Some(paths.run.to_string_lossy().into_owned()),
            reports,
        })
    }
}

impl LocalSandbox {
    /// The report files the spec asks for, read from the run's copy before it is removed.
    async fn read_reports(
        &self,
        run: &Path,
        spec: &RunSpec,
    ) -> Result<(Vec<ReportFile>, bool), SandboxError> {
        let Some(glob) = &spec.reports else {
            return Ok((Vec::new(), false));
        };
        let glob = ReportGlob::new(glob).map_err(SandboxError::Run)?;
        let (run, limit) = (run.to_path_buf(), self.output_limit);
        tokio::task::spawn_blocking(move || collect_local(&run, &glob, limit))
            .await
            .map_err(|e| SandboxError::Run(format!("failed to read the report files: {e}")))
    }
}

/// Kills the run's whole process group, and the processes that left it, when told to and again
/// when dropped, so a run future dropped mid-flight (its job cancelled by dropping, a panic)
/// leaves no process behind.
struct GroupKill {
    pgid: Option<i32>,
    marker: String,
    /// The /proc sweep costs a scan of every process: once per run is enough.
    done: std::cell::Cell<bool>,
}

impl GroupKill {
    fn kill(&self) {
        if self.done.replace(true) {
            return;
        }
        if let Some(pgid) = self.pgid {
            // SAFETY: kill(2) with a negative pid signals a process group and touches no memory.
            // ESRCH (the group is already gone) is the expected case after a clean exit.
            unsafe {
                libc::kill(-pgid, libc::SIGKILL);
            }
        }
        run_marker::kill_marked(&self.marker);
    }
}

impl Drop for GroupKill {
    fn drop(&mut self) {
        self.kill();
    }
}

struct Reader {
    capture: Arc<Mutex<Capture>>,
    task: Option<JoinHandle<()>>,
}

/// Reads on a task of its own so that the pipe drains while the command runs, whatever the
/// caller is waiting on.
fn spawn_reader<R: AsyncRead + Unpin + Send + 'static>(pipe: Option<R>, limit: usize) -> Reader {
    let capture = Arc::new(Mutex::new(Capture::new(limit)));
    let task = pipe.map(|mut pipe| {
        let capture = Arc::clone(&capture);
        tokio::spawn(async move {
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                match pipe.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => capture
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .push(&buf[..n]),
                }
            }
        })
    });
    Reader { capture, task }
}

impl Reader {
    async fn finish(mut self) -> (String, bool) {
        if let Some(mut task) = self.task.take() {
            if tokio::time::timeout(DRAIN_GRACE, &mut task).await.is_err() {
                tracing::warn!("a process outside the run's group still holds its output open; output cut short");
                task.abort();
            }
        }
        let capture = self.capture.lock().unwrap_or_else(PoisonError::into_inner);
        (capture.text(), capture.truncated())
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
