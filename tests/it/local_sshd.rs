//! An sshd on 127.0.0.1 that lets a throwaway key in, for the `ssh://` Docker host test (the
//! second Docker engine is the testkit's, shared with the bench).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// An sshd on 127.0.0.1 that takes one throwaway key; stopped on drop.
pub struct LocalSshd {
    dir: tempfile::TempDir,
    child: Child,
    pub port: u16,
}

impl LocalSshd {
    pub fn start() -> LocalSshd {
        let dir = tempfile::tempdir().unwrap();
        let keygen = |name: &str| {
            let ok = Command::new("ssh-keygen")
                .args(["-q", "-t", "ed25519", "-N", "", "-f"])
                .arg(dir.path().join(name))
                .status()
                .expect("ssh-keygen runs (install openssh-client)");
            assert!(ok.success());
        };
        keygen("host_key");
        keygen("user_key");
        std::fs::copy(
            dir.path().join("user_key.pub"),
            dir.path().join("authorized_keys"),
        )
        .unwrap();
        // sshd refuses to start without its privilege separation folder.
        std::fs::create_dir_all("/run/sshd").unwrap();
        let port = free_port();
        let sshd = which("sshd", &["/usr/sbin/sshd"]);
        let option = |o: String| ["-o".to_owned(), o];
        let mut command = Command::new(sshd);
        command
            .args(["-D", "-e", "-f", "/dev/null", "-p", &port.to_string()])
            .arg("-h")
            .arg(dir.path().join("host_key"));
        for o in [
            "ListenAddress=127.0.0.1".to_owned(),
            format!(
                "AuthorizedKeysFile={}",
                dir.path().join("authorized_keys").display()
            ),
            format!("PidFile={}", dir.path().join("sshd.pid").display()),
            "StrictModes=no".to_owned(),
            "UsePAM=no".to_owned(),
            "PermitRootLogin=prohibit-password".to_owned(),
            "PasswordAuthentication=no".to_owned(),
        ] {
            command.args(option(o));
        }
        let log = std::fs::File::create(dir.path().join("sshd.log")).unwrap();
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("sshd starts (install openssh-server)");
        let sshd = LocalSshd { dir, child, port };
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "sshd did not listen within 20 s: {}",
                sshd.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        sshd
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("sshd.log")).unwrap_or_default()
    }

    /// `SWISS_SSH_COMMAND` for Swiss: the throwaway key, and no known_hosts of the user's.
    pub fn ssh_command(&self) -> String {
        format!(
            "ssh -i {} -o IdentitiesOnly=yes -o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no -o LogLevel=ERROR",
            self.dir.path().join("user_key").display()
        )
    }
}

impl Drop for LocalSshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The program on PATH, else the first of `fallbacks` that exists.
fn which(name: &str, fallbacks: &[&str]) -> PathBuf {
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(name))
            .find(|p| p.is_file())
    });
    on_path
        .or_else(|| {
            fallbacks
                .iter()
                .map(PathBuf::from)
                .find(|p| Path::new(p).is_file())
        })
        .unwrap_or_else(|| PathBuf::from(name))
}

/// The user Swiss runs as, for `ssh://USER@127.0.0.1`.
pub fn user_name() -> String {
    let out = Command::new("id").arg("-un").output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}
