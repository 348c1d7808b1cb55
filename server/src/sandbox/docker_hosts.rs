//! The Docker engines this process runs on, shared by all its jobs: an engine's slots are its
//! own, not a job's, so the instances of `swiss eval --jobs 4` (or an editor's jobs) count their
//! runs against the same slots. An engine that stops answering is down for everyone until a
//! probe finds it back.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use bollard::Docker;
use tokio::sync::Notify;

use super::docker_endpoint::{answering, DockerEndpoint};
use super::ssh_tunnel::SshTunnel;
use super::SandboxError;

/// How long a host that stopped answering rests before it is probed again.
pub const PROBE_INTERVAL: Duration = Duration::from_secs(30);

/// One engine: its client, its slots, and whether it answers.
pub struct Host {
    pub name: String,
    endpoint: DockerEndpoint,
    state: Mutex<HostState>,
    /// One connection attempt at a time: two would each open an ssh tunnel, and the second
    /// would end the first under the client already handed out.
    connecting: tokio::sync::Mutex<()>,
}

struct HostState {
    slots: usize,
    busy: usize,
    /// `Some`: down, probed again from then on.
    down_until: Option<Instant>,
    client: Option<Docker>,
    /// Dropped (and ssh ended) with the client it carries.
    tunnel: Option<SshTunnel>,
}

/// How busy a host is, for progress and reports.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct HostLoad {
    pub host: String,
    pub busy: usize,
    pub slots: usize,
    pub down: bool,
}

/// `a: 3/4 slots busy, b: down`, for progress lines.
pub fn load_line(hosts: &[HostLoad]) -> String {
    let parts: Vec<String> = hosts
        .iter()
        .map(|h| match h.down {
            true => format!("{}: down", h.host),
            false => format!("{}: {}/{} slots busy", h.host, h.busy, h.slots),
        })
        .collect();
    parts.join(", ")
}

fn registry() -> &'static Mutex<HashMap<String, Arc<Host>>> {
    static HOSTS: OnceLock<Mutex<HashMap<String, Arc<Host>>>> = OnceLock::new();
    HOSTS.get_or_init(Default::default)
}

/// Woken whenever a slot frees anywhere or a host changes state.
pub fn changed() -> &'static Notify {
    static CHANGED: OnceLock<Notify> = OnceLock::new();
    CHANGED.get_or_init(Notify::new)
}

/// The shared host of `endpoint`, its slots set to `slots` (the latest settings win).
pub fn host(endpoint: &DockerEndpoint, slots: usize) -> Arc<Host> {
    let name = endpoint.name();
    let mut hosts = registry().lock().unwrap_or_else(PoisonError::into_inner);
    let host = hosts.entry(name.clone()).or_insert_with(|| {
        Arc::new(Host {
            name,
            endpoint: endpoint.clone(),
            state: Mutex::new(HostState {
                slots,
                busy: 0,
                down_until: None,
                client: None,
                tunnel: None,
            }),
            connecting: tokio::sync::Mutex::new(()),
        })
    });
    host.lock().slots = slots;
    host.clone()
}

impl Host {
    fn lock(&self) -> std::sync::MutexGuard<'_, HostState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The client of a host that answered last time asked, connecting on first use and probing
    /// a down host whose rest is over. `Err` while it is down.
    pub async fn client(&self) -> Result<Docker, SandboxError> {
        let _connecting = self.connecting.lock().await;
        {
            let mut state = self.lock();
            match (state.down_until, &state.client) {
                (None, Some(client)) => return Ok(client.clone()),
                (Some(until), _) if Instant::now() < until => {
                    return Err(super::docker_endpoint::unavailable(
                        &self.name,
                        "it stopped answering; probed again later",
                    ));
                }
                // Claims the probe: others see the host down until it is done.
                (Some(_), _) => state.down_until = Some(Instant::now() + PROBE_INTERVAL),
                (None, None) => {}
            }
        }
        let connected = match self.endpoint.client().await {
            Ok((docker, tunnel)) => answering(docker, &self.name).await.map(|d| (d, tunnel)),
            Err(e) => Err(e),
        };
        let mut state = self.lock();
        match connected {
            Ok((docker, tunnel)) => {
                state.client = Some(docker.clone());
                state.tunnel = tunnel;
                if state.down_until.take().is_some() {
                    tracing::info!(host = %self.name, "the Docker engine answers again");
                }
                drop(state);
                changed().notify_waiters();
                Ok(docker)
            }
            Err(e) => {
                state.down_until = Some(Instant::now() + PROBE_INTERVAL);
                Err(e)
            }
        }
    }

    /// Takes the host out until the next probe; its client (and ssh tunnel) is made anew then.
    pub fn mark_down(&self, why: &str) {
        let mut state = self.lock();
        if state.down_until.is_none() {
            tracing::warn!(host = %self.name, %why, "a Docker engine stopped answering; its runs go elsewhere");
        }
        state.down_until = Some(Instant::now() + PROBE_INTERVAL);
        state.client = None;
        state.tunnel = None;
        drop(state);
        changed().notify_waiters();
    }

    /// Down and not yet due for a probe.
    pub fn resting(&self) -> bool {
        self.lock()
            .down_until
            .is_some_and(|until| Instant::now() < until)
    }

    pub fn load(&self) -> HostLoad {
        let state = self.lock();
        HostLoad {
            host: self.name.clone(),
            busy: state.busy,
            slots: state.slots,
            down: state.down_until.is_some(),
        }
    }

    /// Takes a slot when one is free; the slot is given back when the returned guard drops.
    pub fn try_take(self: &Arc<Self>) -> Option<Slot> {
        let mut state = self.lock();
        (state.busy < state.slots).then(|| {
            state.busy += 1;
            Slot { host: self.clone() }
        })
    }
}

/// A run's claim on one of a host's slots.
pub struct Slot {
    pub host: Arc<Host>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        {
            let mut state = self.host.lock();
            state.busy = state.busy.saturating_sub(1);
        }
        changed().notify_waiters();
    }
}
