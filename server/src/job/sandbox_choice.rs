//! Which sandbox a job verifies in (`sandbox.kind`): Docker when asked for or when `auto` finds
//! an engine and an image, else the local one (confined), with a warning that says why.

use std::sync::Arc;

use super::context::JobContext;
use crate::config::{SandboxChoice, Settings};
use crate::sandbox::docker::DockerLimits;
use crate::sandbox::docker_endpoint::DockerEndpoint;
use crate::sandbox::docker_pool::{DockerPool, PoolSettings};
use crate::sandbox::local::{LocalLimits, LocalSandbox};
use crate::sandbox::{BaseFile, Sandbox, SandboxError};

type Chosen = (Arc<dyn Sandbox>, Option<String>);

fn output_limit(settings: &Settings) -> usize {
    usize::try_from(settings.output_limit_mb.saturating_mul(1024 * 1024)).unwrap_or(usize::MAX)
}

async fn local(settings: &Settings, files: Vec<BaseFile>) -> Result<Chosen, SandboxError> {
    let limits = LocalLimits {
        output_limit: output_limit(settings),
        confine: crate::sandbox::confine::ConfineSettings::from_settings(settings),
    };
    let sandbox = LocalSandbox::prepare(files, limits).await?;
    Ok((Arc::new(sandbox), None))
}

async fn docker(
    settings: &Settings,
    files: Vec<BaseFile>,
    image: String,
) -> Result<Chosen, SandboxError> {
    let limits = DockerLimits {
        image: image.clone(),
        memory_bytes: settings.memory_mb * 1024 * 1024,
        nano_cpus: (settings.cpus * 1e9) as i64,
        pids_limit: settings.pids_limit,
        output_limit: output_limit(settings),
        ..DockerLimits::default()
    };
    let sandbox = DockerPool::prepare(files, limits, pool_settings(settings)).await?;
    Ok((Arc::new(sandbox), Some(image)))
}

/// The Docker hosts of `sandbox.hosts`, or the local engine alone with `sandbox.concurrency`
/// slots, as before there were hosts.
fn pool_settings(settings: &Settings) -> PoolSettings {
    let endpoints = if settings.docker_hosts.is_empty() {
        vec![DockerEndpoint::local()]
    } else {
        settings.docker_hosts.clone()
    };
    PoolSettings {
        endpoints,
        default_slots: settings.concurrency,
        pull: settings.pull,
    }
}

/// Sandbox runs at once: the slots of all Docker hosts when there are several.
pub fn sandbox_capacity(settings: &Settings) -> usize {
    if settings.docker_hosts.is_empty() {
        return settings.concurrency;
    }
    settings
        .docker_hosts
        .iter()
        .map(|h| h.slots.unwrap_or(settings.concurrency))
        .sum()
}

pub(super) async fn create_sandbox(
    ctx: &JobContext,
    files: Vec<BaseFile>,
) -> Result<Chosen, SandboxError> {
    create_sandbox_for(&ctx.settings, files, &|warning| ctx.warn(warning)).await
}

/// The sandbox `settings` ask for, outside a job too (`swiss eval --grade` tests a prediction
/// with the same choice its job was verified with).
pub async fn create_sandbox_for(
    settings: &Settings,
    files: Vec<BaseFile>,
    warn: &(dyn Fn(String) + Sync),
) -> Result<Chosen, SandboxError> {
    match (settings.sandbox, settings.image.clone()) {
        (SandboxChoice::Docker, Some(image)) => docker(settings, files, image).await,
        (SandboxChoice::Docker, None) => Err(SandboxError::Prepare(
            "--sandbox docker needs an image with the project's dependencies: set sandbox.image in swiss.toml or pass --image".to_owned(),
        )),
        (SandboxChoice::Auto, Some(image)) => match docker(settings, files.clone(), image).await {
            Err(SandboxError::DockerUnavailable(why)) => {
                warn(format!(
                    "no Docker engine answered ({why}); testing candidates locally"
                ));
                local(settings, files).await
            }
            other => other,
        },
        (SandboxChoice::Auto, None) => {
            warn("no sandbox.image set; testing candidates locally (set one, or pass --sandbox local to silence this)".to_owned());
            local(settings, files).await
        }
        (SandboxChoice::Local | SandboxChoice::None, _) => local(settings, files).await,
    }
}
