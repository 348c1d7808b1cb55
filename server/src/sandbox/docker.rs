//! The Docker sandbox: the snapshot is baked once per job into an image (a container created from
//! the user's image, the files uploaded as a tar archive, committed), and every run is a fresh
//! container from that image, so a candidate costs a container start, not an image build.
//!
//! Each run's container has no network, memory/CPU/pids limits, no mount of the user's tree, and
//! is force-removed on every path. Every container and image Swiss makes carries the labels
//! `swiss.managed=1`, `swiss.job=<job>` and its host and process (`leftovers`), so what a killed
//! process left behind is found and removed by the next job.
//! The command sees only the spec's environment variables, not Swiss's own: the container is
//! another system, and the host's variables (tokens among them) have no business there.
//!
//! What it does NOT protect against: the engine itself (anyone who can reach the Docker socket is
//! root on the host), and kernel exploits (containers share the host kernel).

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bollard::container::LogOutput;
use bollard::errors::Error as DockerError;
use bollard::models::{ContainerConfig, ContainerCreateBody, HostConfig, HostConfigLogConfig};
use bollard::query_parameters::{
    AttachContainerOptionsBuilder, CommitContainerOptionsBuilder, CreateContainerOptions,
    DownloadFromContainerOptionsBuilder, RemoveContainerOptionsBuilder, RemoveImageOptionsBuilder,
    UploadToContainerOptionsBuilder, WaitContainerOptionsBuilder,
};
use bollard::{body_full, Docker};
use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::reports::{collect_tar, ReportFile, ReportGlob};
use super::{
    relative_path, BaseFile, Capture, RunOutput, RunSpec, Sandbox, SandboxError,
    DEFAULT_OUTPUT_LIMIT,
};

/// The label every container and image Swiss creates carries.
pub const MANAGED_LABEL: &str = "swiss.managed";
/// The label naming the job (one prepared sandbox) a container or image belongs to.
pub const JOB_LABEL: &str = "swiss.job";

/// How long to wait for the output stream to end once the container has stopped: the engine
/// closes it right after, so this only bounds an engine that misbehaves.
const DRAIN_GRACE: Duration = Duration::from_secs(5);
/// Bound on a removal done from Drop, where nothing can wait on it.
const DROP_REMOVAL_BOUND: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DockerLimits {
    /// The image runs start from: the project's own image, with its interpreter and dependencies.
    pub image: String,
    pub memory_bytes: u64,
    /// CPU quota in units of 10^-9 CPUs.
    pub nano_cpus: i64,
    pub pids_limit: i64,
    /// Cap on each of stdout and stderr, in bytes.
    pub output_limit: usize,
    /// Where the repository goes inside the container; the command runs there.
    pub workdir: String,
    /// The engine's address (`unix:///path`); `None` is `DOCKER_HOST`, else the default socket.
    pub engine: Option<String>,
}

impl DockerLimits {
    /// Safe defaults: 4 GiB of memory, 2 CPUs, 512 processes (a fork bomb stops there).
    pub fn new(image: impl Into<String>) -> Self {
        DockerLimits {
            image: image.into(),
            ..DockerLimits::default()
        }
    }
}

/// The defaults of `new` with no image: `prepare` refuses it until one is set.
impl Default for DockerLimits {
    fn default() -> Self {
        DockerLimits {
            image: String::new(),
            memory_bytes: 4 * 1024 * 1024 * 1024,
            nano_cpus: 2_000_000_000,
            pids_limit: 512,
            output_limit: DEFAULT_OUTPUT_LIMIT,
            workdir: "/testbed".to_owned(),
            engine: None,
        }
    }
}

pub struct DockerSandbox {
    docker: Docker,
    limits: DockerLimits,
    job: String,
    /// The committed image holding the snapshot; `None` once removed.
    job_image: Mutex<Option<String>>,
    /// Whether each base file is executable, so that a candidate's edit keeps the mode.
    executable: HashMap<String, bool>,
}

impl DockerSandbox {
    /// Connects to the engine and bakes the files into a job image.
    pub async fn prepare(
        files: Vec<BaseFile>,
        limits: DockerLimits,
    ) -> Result<DockerSandbox, SandboxError> {
        if limits.image.trim().is_empty() {
            return Err(SandboxError::Prepare(
                "failed to choose an image: the Docker sandbox needs one with the project's dependencies \
                 (`sandbox.image` or `--image`)"
                    .to_owned(),
            ));
        }
        let docker = connect(limits.engine.as_deref()).await?;
        super::leftovers::sweep(&docker).await;
        let workdir = workdir_in_archive(&limits.workdir)?;
        check_image(&docker, &limits.image).await?;

        let job = new_job_id();
        let (executable, archive) = pack(&files, &workdir)?;

        let started = Instant::now();
        let config = ContainerCreateBody {
            image: Some(limits.image.clone()),
            cmd: Some(vec!["true".to_owned()]),
            working_dir: Some(limits.workdir.clone()),
            labels: Some(labels(&job)),
            network_disabled: Some(true),
            host_config: Some(HostConfig {
                network_mode: Some("none".to_owned()),
                ..Default::default()
            }),
            ..Default::default()
        };
        let failed =
            |what: &str, e: DockerError| SandboxError::Prepare(format!("failed to {what}: {e}"));
        let created = docker
            .create_container(None::<CreateContainerOptions>, config)
            .await
            .map_err(|e| failed("create the preparation container", e))?;
        let guard = ContainerGuard::new(docker.clone(), created.id);
        let tag = job.clone();
        let committed = async {
            upload(&docker, guard.id(), archive)
                .await
                .map_err(|e| failed("upload the repository", e))?;
            let options = CommitContainerOptionsBuilder::default()
                .container(guard.id())
                .repo("swiss-job")
                .tag(&tag)
                .comment("Swiss: repository snapshot for one job")
                .pause(false)
                .build();
            // The container's labels become the image's, so the image is labelled too.
            docker
                .commit_container(options, ContainerConfig::default())
                .await
                .map_err(|e| failed("commit the job image", e))
        }
        .await;
        // Built before the container's removal is awaited, so that the image has an owner whose
        // Drop removes it should this future be dropped there.
        let sandbox = committed.map(|_| DockerSandbox {
            docker: docker.clone(),
            limits,
            job,
            job_image: Mutex::new(Some(format!("swiss-job:{tag}"))),
            executable,
        });
        guard.remove().await;
        tracing::debug!(job = %tag, files = files.len(), elapsed = ?started.elapsed(), "docker sandbox prepared");
        sandbox
    }

    /// The job label's value, for finding this sandbox's containers and image.
    pub fn job(&self) -> &str {
        &self.job
    }

    async fn run_spec(
        &self,
        spec: RunSpec,
        cancel: CancellationToken,
    ) -> Result<RunOutput, SandboxError> {
        if cancel.is_cancelled() {
            return Err(SandboxError::Cancelled);
        }
        let image = self
            .job_image
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .ok_or_else(|| {
                SandboxError::Run("failed to start: the sandbox was already cleaned up".to_owned())
            })?;
        let (archive, deleted) = self.candidate_files(&spec)?;
        let config = self.run_config(image, &deleted, &spec);
        let created = self
            .docker
            .create_container(None::<CreateContainerOptions>, config)
            .await
            .map_err(|e| SandboxError::Run(format!("failed to create the run container: {e}")))?;
        let guard = ContainerGuard::new(self.docker.clone(), created.id);
        let result = self
            .run_container(guard.id(), archive, &spec, &cancel)
            .await;
        guard.remove().await;
        result
    }

    /// The run's files as a tar archive to upload into the workdir, and the paths it deletes.
    fn candidate_files(&self, spec: &RunSpec) -> Result<(Vec<u8>, Vec<PathBuf>), SandboxError> {
        let workdir = workdir_in_archive(&self.limits.workdir)?;
        let mut written = Vec::new();
        let mut deleted = Vec::new();
        for (path, content) in &spec.files {
            let relative = relative_path(path).map_err(SandboxError::Run)?;
            match content {
                Some(text) => {
                    let executable = self.executable.get(path).copied().unwrap_or(false);
                    written.push((workdir.join(relative), text.as_bytes(), executable));
                }
                None => deleted.push(relative),
            }
        }
        let archive = tar_archive(&workdir, written)
            .map_err(|e| SandboxError::Run(format!("failed to pack the candidate files: {e}")))?;
        Ok((archive, deleted))
    }

    /// A container that runs the spec's command within the limits, without network or logs.
    fn run_config(
        &self,
        image: String,
        deleted: &[PathBuf],
        spec: &RunSpec,
    ) -> ContainerCreateBody {
        let memory = i64::try_from(self.limits.memory_bytes).unwrap_or(i64::MAX);
        ContainerCreateBody {
            image: Some(image),
            // Empty, not absent: an ENTRYPOINT in the project's image (common in one built from
            // its Dockerfile) would otherwise receive `sh -c COMMAND` as its arguments.
            entrypoint: Some(Vec::new()),
            cmd: Some(vec![
                "sh".to_owned(),
                "-c".to_owned(),
                with_deletions(deleted, &spec.command),
            ]),
            working_dir: Some(self.limits.workdir.clone()),
            env: Some(spec.env.iter().map(|(k, v)| format!("{k}={v}")).collect()),
            labels: Some(labels(&self.job)),
            network_disabled: Some(true),
            attach_stdout: Some(true),
            attach_stderr: Some(true),
            host_config: Some(HostConfig {
                network_mode: Some("none".to_owned()),
                memory: Some(memory),
                // Equal to `memory`: no swap on top, so the limit is the limit.
                memory_swap: Some(memory),
                nano_cpus: Some(self.limits.nano_cpus),
                pids_limit: Some(self.limits.pids_limit),
                // Output comes through the attach stream; a log driver would also write all of it
                // (100 MB from a runaway test) to the engine's disk.
                log_config: Some(HostConfigLogConfig {
                    typ: Some("none".to_owned()),
                    config: None,
                }),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    async fn run_container(
        &self,
        id: &str,
        archive: Vec<u8>,
        spec: &RunSpec,
        cancel: &CancellationToken,
    ) -> Result<RunOutput, SandboxError> {
        let failed =
            |what: &str, e: DockerError| SandboxError::Run(format!("failed to {what}: {e}"));
        upload(&self.docker, id, archive)
            .await
            .map_err(|e| failed("upload the candidate files", e))?;
        // Attached before the start so that no early output is missed.
        let attach = AttachContainerOptionsBuilder::default()
            .stream(true)
            .stdout(true)
            .stderr(true)
            .build();
        let attached = self
            .docker
            .attach_container(id, Some(attach))
            .await
            .map_err(|e| failed("attach to the run container", e))?;
        let reader = OutputReader::spawn(attached.output, self.limits.output_limit);

        let started = Instant::now();
        self.docker
            .start_container(id, None)
            .await
            .map_err(|e| failed("start the run container", e))?;
        // The client's request timeout covers waiting for response headers, which the engine
        // may hold back until the container stops: give the wait more than the run's timeout.
        let waiter = self
            .docker
            .clone()
            .with_timeout(spec.timeout + Duration::from_secs(60));
        let wait_options = WaitContainerOptionsBuilder::default()
            .condition("not-running")
            .build();
        let mut wait = waiter.wait_container(id, Some(wait_options));
        let ending = tokio::select! {
            status = wait.next() => Some(status),
            () = tokio::time::sleep(spec.timeout) => None,
            () = cancel.cancelled() => return Err(SandboxError::Cancelled),
        };
        let duration = started.elapsed();
        let exit_code = match ending {
            None => None,
            Some(Some(Ok(response))) => Some(exit_code(response.status_code)),
            Some(Some(Err(DockerError::DockerContainerWaitError { code, .. }))) => {
                Some(exit_code(code))
            }
            Some(Some(Err(e))) => return Err(failed("wait for the run container", e)),
            Some(None) => {
                return Err(SandboxError::Run(
                    "failed to wait for the run container: the engine closed the wait".to_owned(),
                ))
            }
        };
        let timed_out = exit_code.is_none();
        if timed_out {
            // Killing it ends the output stream; the caller removes it either way.
            let _ = self
                .docker
                .kill_container(id, None::<bollard::query_parameters::KillContainerOptions>)
                .await;
        }
        let (stdout, stderr, truncated) = reader.finish().await;
        let (reports, reports_truncated) = self.read_reports(id, spec).await?;
        Ok(RunOutput {
            exit_code,
            timed_out,
            stdout,
            stderr,
            truncated: truncated || reports_truncated,
            duration,
            root: Some(self.limits.workdir.clone()),
            reports,
        })
    }

    /// The report files the spec asks for, copied out of the stopped container (the engine
    /// sends a folder as a tar archive) before it is removed. A folder the run never made holds
    /// no report.
    async fn read_reports(
        &self,
        id: &str,
        spec: &RunSpec,
    ) -> Result<(Vec<ReportFile>, bool), SandboxError> {
        let Some(glob) = &spec.reports else {
            return Ok((Vec::new(), false));
        };
        let glob = ReportGlob::new(glob).map_err(SandboxError::Run)?;
        let workdir = self.limits.workdir.trim_end_matches('/');
        let folder = match glob.base() {
            "" => workdir.to_owned(),
            base => format!("{workdir}/{base}"),
        };
        let options = DownloadFromContainerOptionsBuilder::default()
            .path(&folder)
            .build();
        let mut stream = self.docker.download_from_container(id, Some(options));
        // The archive holds whatever else the folder has: bounded apart from the reports' cap.
        let mut archive = Capture::new(self.limits.output_limit.saturating_mul(4));
        while let Some(chunk) = stream.next().await {
            match chunk {
                Ok(bytes) => archive.push(&bytes),
                Err(DockerError::DockerResponseServerError {
                    status_code: 404, ..
                }) => return Ok((Vec::new(), false)),
                Err(e) => {
                    return Err(SandboxError::Run(format!(
                        "failed to copy the report files out of the run container: {e}"
                    )))
                }
            }
        }
        let (reports, truncated) = collect_tar(archive.bytes(), &glob, self.limits.output_limit);
        Ok((reports, truncated || archive.truncated()))
    }

    async fn remove_job_image(&self) {
        let image = self
            .job_image
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(image) = image {
            if let Err(e) = self
                .docker
                .remove_image(&image, Some(remove_image_options()), None)
                .await
            {
                tracing::warn!(%image, error = %e, "failed to remove the job image");
            }
        }
    }
}

impl Sandbox for DockerSandbox {
    fn kind(&self) -> &'static str {
        "docker"
    }

    fn run(
        &self,
        spec: RunSpec,
        cancel: CancellationToken,
    ) -> BoxFuture<'_, Result<RunOutput, SandboxError>> {
        self.run_spec(spec, cancel).boxed()
    }

    fn cleanup(&self) -> BoxFuture<'_, ()> {
        self.remove_job_image().boxed()
    }
}

impl Drop for DockerSandbox {
    fn drop(&mut self) {
        let image = self
            .job_image
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(image) = image {
            let docker = self.docker.clone();
            block_on_side_runtime(async move {
                docker
                    .remove_image(&image, Some(remove_image_options()), None)
                    .await
                    .map(drop)
            });
        }
    }
}

/// Connects and checks that the engine answers, speaking the engine's API version when it is
/// older than the client's (Debian's docker.io is).
/// The image must be in the engine already: no registry may be reachable, and a pull would
/// hide a typo behind minutes of waiting.
async fn check_image(docker: &Docker, image: &str) -> Result<(), SandboxError> {
    match docker.inspect_image(image).await {
        Ok(_) => Ok(()),
        Err(DockerError::DockerResponseServerError {
            status_code: 404, ..
        }) => Err(SandboxError::Prepare(format!(
            "failed to find the image `{image}` in the Docker engine: build it or `docker pull {image}` \
             (or `docker load` it where no registry is reachable), then set `sandbox.image` / \
             `--image` to it"
        ))),
        Err(e) => Err(SandboxError::Prepare(format!(
            "failed to inspect the image `{image}`: {e}"
        ))),
    }
}

/// The repository as a tar archive under the work dir, and which files are executable (a
/// candidate's files are written with the same mode as the originals).
fn pack(
    files: &[BaseFile],
    workdir: &Path,
) -> Result<(HashMap<String, bool>, Vec<u8>), SandboxError> {
    let mut executable = HashMap::with_capacity(files.len());
    let mut entries = Vec::with_capacity(files.len());
    for file in files {
        let path = relative_path(&file.path).map_err(SandboxError::Prepare)?;
        executable.insert(file.path.clone(), file.executable);
        entries.push((workdir.join(path), &file.bytes[..], file.executable));
    }
    let archive = tar_archive(workdir, entries)
        .map_err(|e| SandboxError::Prepare(format!("failed to pack the repository: {e}")))?;
    Ok((executable, archive))
}

pub(crate) async fn connect(engine: Option<&str>) -> Result<Docker, SandboxError> {
    let address = engine
        .map(str::to_owned)
        .or_else(|| std::env::var("DOCKER_HOST").ok())
        .unwrap_or_else(|| "unix:///var/run/docker.sock".to_owned());
    let unavailable = |why: String| {
        SandboxError::DockerUnavailable(format!(
            "no Docker engine answers at {address} ({why}); start one (`dockerd`, `systemctl start docker`, \
             or Docker Desktop), point DOCKER_HOST at it, or use `--sandbox local`"
        ))
    };
    let docker = match engine {
        Some(engine) => Docker::connect_with_unix(engine, 120, bollard::API_DEFAULT_VERSION),
        None => Docker::connect_with_local_defaults(),
    }
    .map_err(|e| unavailable(e.to_string()))?;
    // Short: this runs before every job, and an engine that does not answer in seconds is down.
    let docker = tokio::time::timeout(Duration::from_secs(10), docker.negotiate_version())
        .await
        .map_err(|_| unavailable("no answer within 10 s".to_owned()))?
        .map_err(|e| unavailable(e.to_string()))?;
    docker
        .ping()
        .await
        .map_err(|e| unavailable(e.to_string()))?;
    Ok(docker)
}

fn new_job_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!(
        "{:x}-{:x}-{count}",
        std::process::id(),
        nanos & 0xffff_ffff_ffff
    )
}

fn labels(job: &str) -> HashMap<String, String> {
    let mut labels = HashMap::from([
        (MANAGED_LABEL.to_owned(), "1".to_owned()),
        (JOB_LABEL.to_owned(), job.to_owned()),
    ]);
    labels.extend(super::leftovers::owner_labels());
    labels
}

fn remove_image_options() -> bollard::query_parameters::RemoveImageOptions {
    RemoveImageOptionsBuilder::default().force(true).build()
}

/// The workdir as a path inside an archive extracted at `/`.
fn workdir_in_archive(workdir: &str) -> Result<PathBuf, SandboxError> {
    let trimmed = workdir.trim_start_matches('/');
    relative_path(trimmed)
        .map_err(|e| SandboxError::Prepare(format!("failed to use the workdir `{workdir}`: {e}")))
}

fn exit_code(status: i64) -> i32 {
    i32::try_from(status).unwrap_or(i32::MAX)
}

/// The engine's archive API can add and replace files but not delete them; the command does it.
fn with_deletions(deleted: &[PathBuf], command: &str) -> String {
    if deleted.is_empty() {
        return command.to_owned();
    }
    let mut script = String::from("rm -f --");
    for path in deleted {
        script.push(' ');
        script.push_str(&shell_quote(&path.to_string_lossy()));
    }
    script.push('\n');
    script.push_str(command);
    script
}

fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// A tar archive to extract at `/`: the workdir and every folder on the way to a file get their
/// own entries first, so the layout does not depend on what the image already has.
fn tar_archive(workdir: &Path, files: Vec<(PathBuf, &[u8], bool)>) -> std::io::Result<Vec<u8>> {
    let mtime = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut folders = BTreeSet::new();
    for ancestor in workdir.ancestors() {
        if !ancestor.as_os_str().is_empty() {
            folders.insert(ancestor.to_path_buf());
        }
    }
    for (path, _, _) in &files {
        let mut parent = path.parent();
        while let Some(folder) = parent.filter(|p| !p.as_os_str().is_empty()) {
            if !folders.insert(folder.to_path_buf()) {
                break;
            }
            parent = folder.parent();
        }
    }
    let mut builder = tar::Builder::new(Vec::new());
    // BTreeSet order puts every folder before the folders inside it.
    for folder in &folders {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Directory);
        header.set_mode(0o755);
        header.set_mtime(mtime);
        header.set_size(0);
        builder.append_data(&mut header, folder, std::io::empty())?;
    }
    for (path, bytes, executable) in files {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Regular);
        header.set_mode(if executable { 0o755 } else { 0o644 });
        header.set_mtime(mtime);
        header.set_size(bytes.len() as u64);
        builder.append_data(&mut header, path, bytes)?;
    }
    builder.into_inner()
}

async fn upload(docker: &Docker, id: &str, archive: Vec<u8>) -> Result<(), DockerError> {
    let options = UploadToContainerOptionsBuilder::default().path("/").build();
    docker
        .upload_to_container(id, Some(options), body_full(archive.into()))
        .await
}

/// Removes a container on every path. The normal paths call `remove` and wait for it; Drop covers
/// the others (a panic, a run future dropped mid-flight, a runtime shutting down). Drop cannot
/// `.await`, and a task spawned onto the current runtime may never run when that runtime is
/// shutting down (Ctrl-C on the CLI ends `main`), so Drop removes the container on a thread of its
/// own with its own runtime and waits for it, bounded. Blocking there is acceptable: it happens
/// only on those abnormal paths, and removal takes well under a second.
struct ContainerGuard {
    docker: Docker,
    id: Option<String>,
}

impl ContainerGuard {
    fn new(docker: Docker, id: String) -> Self {
        ContainerGuard {
            docker,
            id: Some(id),
        }
    }

    fn id(&self) -> &str {
        self.id.as_deref().unwrap_or_default()
    }

    async fn remove(mut self) {
        if let Some(id) = self.id.take() {
            if let Err(e) = self
                .docker
                .remove_container(&id, Some(remove_container_options()))
                .await
            {
                tracing::warn!(container = %id, error = %e, "failed to remove a sandbox container");
            }
        }
    }
}

impl Drop for ContainerGuard {
    fn drop(&mut self) {
        if let Some(id) = self.id.take() {
            let docker = self.docker.clone();
            block_on_side_runtime(async move {
                docker
                    .remove_container(&id, Some(remove_container_options()))
                    .await
            });
        }
    }
}

fn remove_container_options() -> bollard::query_parameters::RemoveContainerOptions {
    // `v`: anonymous volumes an image declares would otherwise outlive the container.
    RemoveContainerOptionsBuilder::default()
        .force(true)
        .v(true)
        .build()
}

/// Runs an engine call to completion from synchronous code (Drop), whatever runtime (or none)
/// the caller is on. The Docker client keeps no pooled connections, so its clone works on the
/// side runtime without touching the caller's.
fn block_on_side_runtime<F>(call: F)
where
    F: std::future::Future<Output = Result<(), DockerError>> + Send + 'static,
{
    let thread = std::thread::Builder::new()
        .name("swiss-docker-cleanup".to_owned())
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            match runtime {
                Ok(runtime) => match runtime
                    .block_on(async move { tokio::time::timeout(DROP_REMOVAL_BOUND, call).await })
                {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => {
                        tracing::warn!(error = %e, "failed to clean up after a sandbox run")
                    }
                    Err(_) => {
                        tracing::warn!("the Docker engine did not confirm a cleanup within 30 s")
                    }
                },
                Err(e) => {
                    tracing::warn!(error = %e, "failed to start a runtime for sandbox cleanup")
                }
            }
        });
    match thread {
        Ok(thread) => {
            let _ = thread.join();
        }
        Err(e) => tracing::warn!(error = %e, "failed to start a thread for sandbox cleanup"),
    }
}

/// Reads the attach stream on a task of its own, so the engine never stalls the container on a
/// full buffer; past the cap, output is read and dropped.
struct OutputReader {
    captures: Arc<Mutex<(Capture, Capture)>>,
    task: Option<JoinHandle<()>>,
}

impl OutputReader {
    fn spawn(
        mut output: std::pin::Pin<
            Box<dyn futures::Stream<Item = Result<LogOutput, DockerError>> + Send>,
        >,
        limit: usize,
    ) -> Self {
        let captures = Arc::new(Mutex::new((Capture::new(limit), Capture::new(limit))));
        let shared = Arc::clone(&captures);
        let task = tokio::spawn(async move {
            while let Some(Ok(chunk)) = output.next().await {
                let mut captures = shared.lock().unwrap_or_else(PoisonError::into_inner);
                match chunk {
                    LogOutput::StdOut { message } | LogOutput::Console { message } => {
                        captures.0.push(&message)
                    }
                    LogOutput::StdErr { message } => captures.1.push(&message),
                    LogOutput::StdIn { .. } => {}
                }
            }
        });
        OutputReader {
            captures,
            task: Some(task),
        }
    }

    async fn finish(mut self) -> (String, String, bool) {
        if let Some(mut task) = self.task.take() {
            if tokio::time::timeout(DRAIN_GRACE, &mut task).await.is_err() {
                tracing::warn!(
                    "the Docker engine kept a stopped container's output open; output cut short"
                );
                task.abort();
            }
        }
        let captures = self.captures.lock().unwrap_or_else(PoisonError::into_inner);
        (
            captures.0.text(),
            captures.1.text(),
            captures.0.truncated() || captures.1.truncated(),
        )
    }
}

impl Drop for OutputReader {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deletions_are_quoted_and_run_first() {
        let deleted = vec![
            PathBuf::from("tests/test_a.py"),
            PathBuf::from("it's here.py"),
        ];
        assert_eq!(
            with_deletions(&deleted, "pytest"),
            "rm -f -- 'tests/test_a.py' 'it'\\''s here.py'\npytest"
        );
        assert_eq!(with_deletions(&[], "pytest"), "pytest");
    }

    #[test]
    fn archive_has_folders_first_and_keeps_modes() {
        let workdir = workdir_in_archive("/testbed").unwrap();
        let files = vec![
            (workdir.join("pkg/sub/mod.py"), &b"x = 1\n"[..], false),
            (workdir.join("run.sh"), &b"#!/bin/sh\n"[..], true),
        ];
        let bytes = tar_archive(&workdir, files).unwrap();
        let mut archive = tar::Archive::new(&bytes[..]);
        let entries: Vec<(String, u32, bool)> = archive
            .entries()
            .unwrap()
            .map(|entry| {
                let entry = entry.unwrap();
                let header = entry.header();
                let path = entry.path().unwrap().to_string_lossy().into_owned();
                (path, header.mode().unwrap(), header.entry_type().is_dir())
            })
            .collect();
        assert_eq!(
            entries,
            vec![
                ("testbed".to_owned(), 0o755, true),
                ("testbed/pkg".to_owned(), 0o755, true),
                ("testbed/pkg/sub".to_owned(), 0o755, true),
                ("testbed/pkg/sub/mod.py".to_owned(), 0o644, false),
                ("testbed/run.sh".to_owned(), 0o755, false),
            ]
        );
    }

    #[test]
    fn a_workdir_must_be_a_real_folder() {
        assert!(workdir_in_archive("/").is_err());
        assert!(workdir_in_archive("/a/../..").is_err());
        assert_eq!(
            workdir_in_archive("/src/app").unwrap(),
            PathBuf::from("src/app")
        );
    }
}
