//! Where a Docker engine is reached (`sandbox.hosts`, `--docker-host`): `unix:///path`,
//! `tcp://host:port` (TLS with the client certificates of `DOCKER_CERT_PATH` when
//! `DOCKER_TLS_VERIFY` is set or the port is 2376, Docker's TLS port), `https://host:port`
//! (always TLS), or `ssh://user@host[:port]` (through an ssh tunnel, `ssh_tunnel`). Each
//! endpoint is written `ENDPOINT[=SLOTS]`, the same on the command line and in settings.

use std::time::Duration;

use bollard::Docker;

use super::ssh_tunnel::SshTunnel;
use super::SandboxError;

/// One engine and how many runs it takes at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DockerEndpoint {
    /// As written; `None` is the local engine (`DOCKER_HOST`, else the default socket).
    pub address: Option<String>,
    /// `None`: `sandbox.concurrency`.
    pub slots: Option<usize>,
}

/// The engine's request timeout: a run's wait has its own, longer one.
const REQUEST_TIMEOUT_S: u64 = 120;

impl DockerEndpoint {
    /// The local engine, as a job with no `sandbox.hosts` uses it.
    pub fn local() -> Self {
        DockerEndpoint {
            address: None,
            slots: None,
        }
    }

    /// Reads `ENDPOINT[=SLOTS]`; the error says what is wrong, for the setting's message.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let (address, slots) = match text.rsplit_once('=') {
            Some((address, slots)) => {
                let slots: usize =
                    slots
                        .trim()
                        .parse()
                        .ok()
                        .filter(|n| *n > 0)
                        .ok_or_else(|| {
                            format!(
                            "`{text}`: the slots after `=` must be a whole number of at least 1"
                        )
                        })?;
                (address.trim(), Some(slots))
            }
            None => (text, None),
        };
        let scheme = address.split_once("://").map(|(scheme, _)| scheme);
        match scheme {
            Some("unix" | "tcp" | "http" | "https" | "ssh")
                if address.len() > scheme.map_or(0, str::len) + 3 =>
            {
                Ok(DockerEndpoint {
                    address: Some(address.to_owned()),
                    slots,
                })
            }
            _ => Err(format!(
                "`{text}` is not a Docker endpoint: write unix:///path, tcp://host:port, \
                 https://host:port or ssh://user@host, optionally followed by =SLOTS"
            )),
        }
    }

    /// As `parse` reads it.
    pub fn written(&self) -> String {
        match self.slots {
            Some(slots) => format!("{}={slots}", self.name()),
            None => self.name(),
        }
    }

    /// The address reports and progress name the engine by.
    pub fn name(&self) -> String {
        self.address.clone().unwrap_or_else(|| {
            std::env::var("DOCKER_HOST")
                .unwrap_or_else(|_| "unix:///var/run/docker.sock".to_owned())
        })
    }

    /// The client for this engine, not yet checked to answer; an ssh endpoint also returns the
    /// tunnel the client goes through, which must live as long as the client is used.
    pub(crate) async fn client(&self) -> Result<(Docker, Option<SshTunnel>), SandboxError> {
        let name = self.name();
        let unavailable = |why: String| unavailable(&name, &why);
        let Some(address) = &self.address else {
            return Docker::connect_with_local_defaults()
                .map(|d| (d, None))
                .map_err(|e| unavailable(e.to_string()));
        };
        let version = bollard::API_DEFAULT_VERSION;
        let (scheme, rest) = address.split_once("://").unwrap_or(("", address));
        let docker = match scheme {
            "unix" => Docker::connect_with_unix(address, REQUEST_TIMEOUT_S, version),
            "ssh" => {
                let tunnel = SshTunnel::open(rest).await.map_err(unavailable)?;
                let docker =
                    Docker::connect_with_unix(&tunnel.socket_uri(), REQUEST_TIMEOUT_S, version)
                        .map_err(|e| unavailable(e.to_string()))?;
                return Ok((docker, Some(tunnel)));
            }
            "https" => tls(rest),
            _ if wants_tls(rest) => tls(rest),
            _ => Docker::connect_with_http(rest, REQUEST_TIMEOUT_S, version),
        };
        docker
            .map(|d| (d, None))
            .map_err(|e| unavailable(e.to_string()))
    }
}

/// TLS as the docker CLI does it: `DOCKER_TLS_VERIFY` asks for it, and 2376 is the port the
/// engine listens on with TLS.
fn wants_tls(host_port: &str) -> bool {
    let asked = std::env::var("DOCKER_TLS_VERIFY").is_ok_and(|v| !v.is_empty() && v != "0");
    asked || host_port.trim_end_matches('/').ends_with(":2376")
}

fn tls(host_port: &str) -> Result<Docker, bollard::errors::Error> {
    let dir = std::env::var_os("DOCKER_CERT_PATH")
        .map(std::path::PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|home| std::path::Path::new(&home).join(".docker"))
        })
        .unwrap_or_default();
    Docker::connect_with_ssl(
        host_port,
        &dir.join("key.pem"),
        &dir.join("cert.pem"),
        &dir.join("ca.pem"),
        REQUEST_TIMEOUT_S,
        bollard::API_DEFAULT_VERSION,
    )
}

pub(crate) fn unavailable(name: &str, why: &str) -> SandboxError {
    SandboxError::DockerUnavailable(format!(
        "no Docker engine answers at {name} ({why}); start one (`dockerd`, `systemctl start docker`, \
         or Docker Desktop), point DOCKER_HOST or sandbox.hosts at it, or use `--sandbox local`"
    ))
}

/// Connects and checks that the engine answers, speaking the engine's API version when it is
/// older than the client's (Debian's docker.io is). Short: an engine that does not answer in
/// seconds is down.
pub(crate) async fn answering(docker: Docker, name: &str) -> Result<Docker, SandboxError> {
    let docker = tokio::time::timeout(PROBE_TIMEOUT, docker.negotiate_version())
        .await
        .map_err(|_| unavailable(name, "no answer within 10 s"))?
        .map_err(|e| unavailable(name, &e.to_string()))?;
    ping(&docker).await.map_err(|why| unavailable(name, &why))?;
    Ok(docker)
}

pub(crate) const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// Whether the engine still answers, bounded.
pub(crate) async fn ping(docker: &Docker) -> Result<(), String> {
    match tokio::time::timeout(PROBE_TIMEOUT, docker.ping()).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("no answer within 10 s".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_read_with_and_without_slots() {
        assert_eq!(
            DockerEndpoint::parse("unix:///run/a.sock=3").unwrap(),
            DockerEndpoint {
                address: Some("unix:///run/a.sock".to_owned()),
                slots: Some(3)
            }
        );
        assert_eq!(
            DockerEndpoint::parse(" ssh://ci@build-1 ")
                .unwrap()
                .address
                .as_deref(),
            Some("ssh://ci@build-1")
        );
        assert_eq!(DockerEndpoint::parse("tcp://b:2376").unwrap().slots, None);
    }

    #[test]
    fn bad_endpoints_are_refused() {
        for bad in [
            "",
            "/var/run/docker.sock",
            "ftp://x",
            "unix://",
            "tcp://b=0",
            "tcp://b=x",
        ] {
            assert!(DockerEndpoint::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn tls_follows_the_port_without_the_variable() {
        if std::env::var_os("DOCKER_TLS_VERIFY").is_none() {
            assert!(wants_tls("build-1:2376"));
            assert!(!wants_tls("build-1:2375"));
        }
    }
}
