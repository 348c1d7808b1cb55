//! A job's Docker sandbox over several engines (`sandbox.hosts`): the job image is baked on a
//! host the first time a run goes there, each run takes a slot on a host that already holds the
//! job image, else on the least loaded one, and a run whose host stopped answering is run again
//! elsewhere, so that each run yields one result. A result counts only if its host still
//! answers afterwards: an engine shutting down kills its containers before the client notices
//! the connection gone, and such an exit says nothing about the candidate.
//!
//! Everything the job made carries its job label, and cleanup removes by label on every host,
//! so containers of runs cut short and images of sandboxes left behind on a host that went
//! down go too when that host is back; one still down is swept by the next job.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use bollard::query_parameters::{RemoveContainerOptionsBuilder, RemoveImageOptionsBuilder};
use bollard::Docker;
use futures::future::{join_all, BoxFuture};
use futures::FutureExt;
use tokio_util::sync::CancellationToken;

use super::docker::{check_image, DockerLimits, DockerSandbox, JOB_LABEL};
use super::docker_endpoint::{ping, DockerEndpoint};
use super::docker_hosts::{changed, host, Host, HostLoad, Slot, PROBE_INTERVAL};
use super::image_pull::pull;
use super::{BaseFile, RunOutput, RunSpec, Sandbox, SandboxError};

/// How long cleanup waits on one host.
const CLEANUP_BOUND: std::time::Duration = std::time::Duration::from_secs(60);

pub struct DockerPool {
    hosts: Vec<PoolHost>,
    files: Vec<BaseFile>,
    limits: DockerLimits,
    pull: bool,
}

/// What the job has on one host.
struct PoolHost {
    host: Arc<Host>,
    /// Made on the first run that goes there; the lock makes concurrent first runs wait for one
    /// preparation.
    sandbox: tokio::sync::Mutex<Option<Arc<DockerSandbox>>>,
    prepared: AtomicBool,
    /// False once the job cannot run here for a reason of its own (the image is missing).
    usable: AtomicBool,
    /// The job labels of every sandbox made here, for cleanup.
    jobs: Mutex<Vec<String>>,
}

/// How the pool is asked for.
pub struct PoolSettings {
    pub endpoints: Vec<DockerEndpoint>,
    /// Slots of an endpoint that names none.
    pub default_slots: usize,
    /// Pull the image on a host that lacks it (`sandbox.pull`).
    pub pull: bool,
}

enum Attempt {
    Done(Result<RunOutput, SandboxError>),
    /// The host failed the run, not the candidate: run it again elsewhere.
    HostFailed(SandboxError),
}

impl DockerPool {
    /// Sweeps every answering host, finds those holding the image, and bakes the job image on
    /// the first of them; the others are prepared when runs reach them.
    pub async fn prepare(
        files: Vec<BaseFile>,
        limits: DockerLimits,
        settings: PoolSettings,
    ) -> Result<DockerPool, SandboxError> {
        let hosts: Vec<PoolHost> = settings
            .endpoints
            .iter()
            .map(|e| PoolHost::new(host(e, e.slots.unwrap_or(settings.default_slots))))
            .collect();
        let image = limits.image.clone();
        let found = join_all(hosts.iter().map(|h| survey(&h.host, &image))).await;
        let mut first = None;
        let mut missing = None;
        for (index, (pool_host, found)) in hosts.iter().zip(&found).enumerate() {
            match found {
                Ok(true) => first = first.or(Some(index)),
                Ok(false) if settings.pull => {}
                Ok(false) => pool_host.usable.store(false, Ordering::Relaxed),
                Err(_) => {}
            }
            if let Ok(false) = found {
                missing.get_or_insert(index);
            }
        }
        if found.iter().all(Result::is_err) {
            return Err(none_answers(found));
        }
        let pool = DockerPool {
            hosts,
            files,
            limits,
            pull: settings.pull,
        };
        let first = match first.or(missing.filter(|_| settings.pull)) {
            Some(index) => index,
            None => {
                // Every answering host lacks the image: its own message says what to do.
                let Some(index) = missing else {
                    return Err(none_answers(found));
                };
                check_image(&pool.hosts[index].host.client().await?, &image).await?;
                index
            }
        };
        pool.sandbox_on(first).await?;
        Ok(pool)
    }

    /// The job's sandbox on host `index`, baked there on first use.
    async fn sandbox_on(&self, index: usize) -> Result<Arc<DockerSandbox>, SandboxError> {
        let pool_host = &self.hosts[index];
        let mut sandbox = pool_host.sandbox.lock().await;
        if let Some(sandbox) = &*sandbox {
            return Ok(sandbox.clone());
        }
        let docker = pool_host.host.client().await?;
        if self.pull {
            pull(&docker, &self.limits.image).await?;
        }
        let made =
            Arc::new(DockerSandbox::prepare_on(docker, &self.files, self.limits.clone()).await?);
        pool_host
            .jobs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(made.job().to_owned());
        *sandbox = Some(made.clone());
        pool_host.prepared.store(true, Ordering::Relaxed);
        changed().notify_waiters();
        Ok(made)
    }

    async fn run_spec(
        &self,
        spec: RunSpec,
        cancel: CancellationToken,
    ) -> Result<RunOutput, SandboxError> {
        let mut failure = None;
        loop {
            let Some((index, slot)) = self.acquire(&cancel).await? else {
                return Err(failure.unwrap_or_else(|| self.all_down()));
            };
            match self.run_on(index, &spec, &cancel).await {
                Attempt::Done(result) => return result,
                Attempt::HostFailed(e) => {
                    tracing::info!(host = %slot.host.name, error = %e, "run again on another Docker host");
                    failure = Some(e);
                }
            }
        }
    }

    async fn run_on(&self, index: usize, spec: &RunSpec, cancel: &CancellationToken) -> Attempt {
        let pool_host = &self.hosts[index];
        let sandbox = match self.sandbox_on(index).await {
            Ok(sandbox) => sandbox,
            Err(SandboxError::Cancelled) => return Attempt::Done(Err(SandboxError::Cancelled)),
            Err(e) => {
                // An engine that answers but cannot take this job (no image) is left out for
                // the job; one that does not answer is down for everyone.
                match pool_host.host.client().await {
                    Ok(docker) if ping(&docker).await.is_ok() => {
                        pool_host.usable.store(false, Ordering::Relaxed)
                    }
                    _ => pool_host.host.mark_down(&e.to_string()),
                }
                return Attempt::HostFailed(e);
            }
        };
        let result = sandbox.run(spec.clone(), cancel.clone()).await;
        if let Err(SandboxError::Cancelled) = result {
            return Attempt::Done(result);
        }
        if let Err(why) = ping(sandbox.docker()).await {
            pool_host.host.mark_down(&why);
            self.retire(index).await;
            return Attempt::HostFailed(SandboxError::DockerUnavailable(format!(
                "the Docker engine at {} stopped answering during a run ({why})",
                pool_host.host.name
            )));
        }
        Attempt::Done(result.map(|mut output| {
            output.host = Some(pool_host.host.name.clone());
            output
        }))
    }

    /// Forgets the sandbox of a host that went down: it is baked anew when the host is back,
    /// and the old image goes with the job's label at cleanup.
    async fn retire(&self, index: usize) {
        let pool_host = &self.hosts[index];
        if let Some(old) = pool_host.sandbox.lock().await.take() {
            old.forget_job_image();
        }
        pool_host.prepared.store(false, Ordering::Relaxed);
    }

    /// A slot on the best host: one holding the job image with a slot free, else the least
    /// loaded. `None` when no host can take the run any more.
    async fn acquire(
        &self,
        cancel: &CancellationToken,
    ) -> Result<Option<(usize, Slot)>, SandboxError> {
        loop {
            let notified = changed().notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let mut live: Vec<(usize, HostLoad, bool)> = self
                .hosts
                .iter()
                .enumerate()
                .filter(|(_, h)| h.usable.load(Ordering::Relaxed) && !h.host.resting())
                .map(|(i, h)| (i, h.host.load(), h.prepared.load(Ordering::Relaxed)))
                .collect();
            if live.is_empty() {
                return Ok(None);
            }
            // Prepared first, then the lowest share of busy slots.
            live.sort_by(|a, b| {
                b.2.cmp(&a.2)
                    .then((a.1.busy * b.1.slots).cmp(&(b.1.busy * a.1.slots)))
            });
            for (index, _, _) in &live {
                if let Some(slot) = self.hosts[*index].host.try_take() {
                    return Ok(Some((*index, slot)));
                }
            }
            tokio::select! {
                () = &mut notified => {}
                () = cancel.cancelled() => return Err(SandboxError::Cancelled),
                // A down host becomes due for its probe without anyone noticing.
                () = tokio::time::sleep(PROBE_INTERVAL) => {}
            }
        }
    }

    fn all_down(&self) -> SandboxError {
        let names: Vec<String> = self.hosts.iter().map(|h| h.host.name.clone()).collect();
        SandboxError::DockerUnavailable(format!(
            "no Docker host can take the run: {} stopped answering or lack the image",
            names.join(", ")
        ))
    }

    async fn remove_everything(&self) {
        let cleanups = self.hosts.iter().map(|pool_host| async move {
            if let Some(sandbox) = pool_host.sandbox.lock().await.take() {
                sandbox.forget_job_image();
            }
            let jobs = std::mem::take(
                &mut *pool_host
                    .jobs
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner),
            );
            if jobs.is_empty() {
                return;
            }
            let removal = async {
                let docker = pool_host.host.client().await?;
                remove_labelled(&docker, &jobs).await;
                Ok::<_, SandboxError>(())
            };
            match tokio::time::timeout(CLEANUP_BOUND, removal).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::warn!(host = %pool_host.host.name, error = %e,
                    "failed to clean up a Docker host; the next job's sweep removes what is left"),
                Err(_) => tracing::warn!(host = %pool_host.host.name,
                    "a Docker host did not confirm the cleanup within 60 s"),
            }
        });
        join_all(cleanups).await;
    }
}

impl PoolHost {
    fn new(host: Arc<Host>) -> Self {
        PoolHost {
            host,
            sandbox: tokio::sync::Mutex::new(None),
            prepared: AtomicBool::new(false),
            usable: AtomicBool::new(true),
            jobs: Mutex::new(Vec::new()),
        }
    }
}

/// Whether a host answers (it is swept then) and holds the image.
async fn survey(host: &Host, image: &str) -> Result<bool, SandboxError> {
    let docker = host.client().await?;
    super::leftovers::sweep(&docker).await;
    Ok(docker.inspect_image(image).await.is_ok())
}

fn none_answers(found: Vec<Result<bool, SandboxError>>) -> SandboxError {
    let mut errors: Vec<String> = found
        .into_iter()
        .filter_map(Result::err)
        .map(|e| match e {
            SandboxError::DockerUnavailable(why) => why,
            other => other.to_string(),
        })
        .collect();
    if errors.len() == 1 {
        return SandboxError::DockerUnavailable(errors.remove(0));
    }
    SandboxError::DockerUnavailable(format!(
        "none of the {} Docker hosts answers: {}",
        errors.len(),
        errors.join("; ")
    ))
}

/// Containers first: they hold their images.
async fn remove_labelled(docker: &Docker, jobs: &[String]) {
    for job in jobs {
        let label = [format!("{JOB_LABEL}={job}")];
        for container in super::leftovers::containers(docker, &label)
            .await
            .unwrap_or_default()
        {
            let options = RemoveContainerOptionsBuilder::default()
                .force(true)
                .v(true)
                .build();
            if let Err(e) = docker.remove_container(&container.id, Some(options)).await {
                tracing::warn!(container = %container.id, error = %e, "failed to remove a sandbox container");
            }
        }
        for image in super::leftovers::images(docker, &label)
            .await
            .unwrap_or_default()
        {
            let options = RemoveImageOptionsBuilder::default().force(true).build();
            if let Err(e) = docker.remove_image(&image.id, Some(options), None).await {
                tracing::warn!(image = %image.id, error = %e, "failed to remove a job image");
            }
        }
    }
}

impl Sandbox for DockerPool {
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

    fn capacity(&self) -> Option<usize> {
        Some(self.hosts.iter().map(|h| h.host.load().slots).sum())
    }

    fn load(&self) -> Vec<HostLoad> {
        self.hosts.iter().map(|h| h.host.load()).collect()
    }

    fn cleanup(&self) -> BoxFuture<'_, ()> {
        self.remove_everything().boxed()
    }
}
