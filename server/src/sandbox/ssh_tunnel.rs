//! An `ssh://user@host` engine, reached the way `ssh -L` forwards a socket: one `ssh -N`
//! process per host forwards a private local unix socket to the remote engine's socket, and the
//! Docker client speaks to the local socket as to any local engine.
//!
//! Chosen over bollard's own ssh transport (its `ssh` feature) and over the docker CLI's
//! `ssh HOST docker system dial-stdio`: both start an ssh session per HTTP connection, and a
//! run holds three at once (attach, wait, the calls around them), so a job of 40 runs would pay
//! hundreds of handshakes; both also need the docker CLI on the remote host. One forwarding
//! session authenticates once, multiplexes every connection, needs only sshd (stream-local
//! forwarding is on by default) and the user's access to the socket, and when it dies the
//! engine stops answering like any other engine that went down, which the pool already handles.
//! The ssh command honours the user's ~/.ssh/config; `SWISS_SSH_COMMAND` replaces `ssh` (with
//! options, e.g. `ssh -i KEY -o UserKnownHostsFile=FILE`), as GIT_SSH_COMMAND does for git.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

/// The engine's socket on the remote host when the URL names none.
const REMOTE_SOCKET: &str = "/var/run/docker.sock";
/// How long ssh may take to log in and set up the forward.
const OPEN_TIMEOUT: Duration = Duration::from_secs(20);

pub struct SshTunnel {
    child: Child,
    dir: tempfile::TempDir,
}

impl SshTunnel {
    /// Starts `ssh -N -L` for `user@host[:port][/socket]` and waits until the local socket
    /// exists; the error carries ssh's own message.
    pub async fn open(target: &str) -> Result<SshTunnel, String> {
        let (authority, remote) = match target.find('/') {
            Some(at) => (&target[..at], &target[at..]),
            None => (target, REMOTE_SOCKET),
        };
        let (destination, port) = split_port(authority)?;
        let dir = tempfile::Builder::new()
            .prefix("swiss-ssh-")
            .tempdir()
            .map_err(|e| format!("failed to make a folder for the ssh socket: {e}"))?;
        let socket = dir.path().join("docker.sock");
        let log = dir.path().join("ssh.log");
        let mut command = ssh_command()?;
        command
            .args([
                "-N",
                "-o",
                "BatchMode=yes",
                "-o",
                "ExitOnForwardFailure=yes",
            ])
            // A dead link is noticed in 15 s, and the engine is then down like any other.
            .args(["-o", "ServerAliveInterval=5", "-o", "ServerAliveCountMax=3"])
            .arg("-L")
            .arg(format!("{}:{remote}", socket.display()));
        if let Some(port) = port {
            command.args(["-p", port]);
        }
        command.arg("--").arg(destination);
        let log_file =
            std::fs::File::create(&log).map_err(|e| format!("failed to make the ssh log: {e}"))?;
        command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log_file)
            .kill_on_drop(true);
        die_with_parent(&mut command);
        let child = command
            .spawn()
            .map_err(|e| format!("failed to start ssh: {e}; install an OpenSSH client"))?;
        let mut tunnel = SshTunnel { child, dir };
        tunnel.wait_for_socket(&socket, &log).await?;
        Ok(tunnel)
    }

    async fn wait_for_socket(&mut self, socket: &Path, log: &Path) -> Result<(), String> {
        let started = Instant::now();
        loop {
            if socket.exists() {
                return Ok(());
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                let said = std::fs::read_to_string(log).unwrap_or_default();
                return Err(format!(
                    "ssh exited ({status}) before forwarding the engine's socket: {}",
                    said.trim()
                ));
            }
            if started.elapsed() > OPEN_TIMEOUT {
                return Err("ssh did not forward the engine's socket within 20 s".to_owned());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The forwarded socket, as a `unix://` address.
    pub fn socket_uri(&self) -> String {
        format!("unix://{}", self.dir.path().join("docker.sock").display())
    }
}

fn split_port(authority: &str) -> Result<(&str, Option<&str>), String> {
    match authority.rsplit_once(':') {
        Some((host, port)) if port.parse::<u16>().is_ok() => Ok((host, Some(port))),
        Some(_) => Err(format!("`{authority}`: the port after `:` is not a number")),
        None => Ok((authority, None)),
    }
}

fn ssh_command() -> Result<Command, String> {
    let words = match std::env::var("SWISS_SSH_COMMAND") {
        Ok(line) => shlex::split(&line)
            .filter(|w| !w.is_empty())
            .ok_or_else(|| format!("failed to read SWISS_SSH_COMMAND `{line}` as shell words"))?,
        Err(_) => vec!["ssh".to_owned()],
    };
    let mut command = Command::new(&words[0]);
    command.args(&words[1..]);
    Ok(command)
}

/// A Swiss killed by SIGKILL runs no destructor: the kernel ends ssh with it, so no forward
/// outlives the process that needed it. (The signal follows the thread that started ssh: a
/// runtime worker, which lives as long as the runtime, never a blocking-pool thread.)
fn die_with_parent(command: &mut Command) {
    // SAFETY: prctl is async-signal-safe and touches only the child being started.
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) == 0 {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_read_after_the_host() {
        assert_eq!(split_port("ci@b").unwrap(), ("ci@b", None));
        assert_eq!(split_port("ci@b:2222").unwrap(), ("ci@b", Some("2222")));
        assert!(split_port("ci@b:x").is_err());
    }
}
