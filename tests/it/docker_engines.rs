//! Real components for the Docker host tests: a second Docker engine beside the machine's own
//! (its own socket, data root, exec root and pid file, no bridge and no iptables rules so the
//! two coexist), holding a copy of the test image, and an sshd on 127.0.0.1 that lets a
//! throwaway key in.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A `dockerd` of the test's own; stopped on drop.
pub struct SecondEngine {
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl SecondEngine {
    /// Starts the engine and loads `image` into it from the machine's engine.
    pub fn start(image: &str) -> SecondEngine {
        // Short: a unix socket path has a limit of about 100 bytes.
        let dir = tempfile::Builder::new()
            .prefix("swd")
            .tempdir_in("/tmp")
            .unwrap();
        let mut engine = SecondEngine { dir, child: None };
        engine.restart();
        let mut save = Command::new("docker")
            .args(["save", image])
            .stdout(Stdio::piped())
            .spawn()
            .expect("docker save runs");
        let load = Command::new("docker")
            .args(["-H", &engine.address(), "load"])
            .stdin(save.stdout.take().unwrap())
            .output()
            .unwrap();
        assert!(save.wait().unwrap().success(), "docker save {image}");
        assert!(
            load.status.success(),
            "failed to load {image} into the second engine: {}",
            String::from_utf8_lossy(&load.stderr)
        );
        engine
    }

    pub fn address(&self) -> String {
        format!("unix://{}", self.path("d.sock").display())
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Starts the engine (again) on the same data root, and waits until it answers.
    pub fn restart(&mut self) {
        let log = std::fs::File::create(self.path("dockerd.log")).unwrap();
        let child = Command::new("dockerd")
            .arg("--host")
            .arg(self.address())
            .arg("--data-root")
            .arg(self.path("data"))
            .arg("--exec-root")
            .arg(self.path("exec"))
            .arg("--pidfile")
            .arg(self.path("d.pid"))
            .args(["--bridge", "none", "--iptables=false", "--ip6tables=false"])
            // Its containers are killed at once when it stops: the tests stop it mid-run.
            .args(["--shutdown-timeout", "1"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("dockerd starts (install docker.io)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        while !self.docker(&["info"]).0 {
            assert!(
                Instant::now() < deadline,
                "the second engine did not answer within 60 s: {}",
                std::fs::read_to_string(self.path("dockerd.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Stops the engine as a service manager does (SIGTERM) and waits for it to exit.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let pid = i32::try_from(child.id()).unwrap();
            // SAFETY: signalling a child this test started and has not reaped.
            unsafe { libc::kill(pid, libc::SIGTERM) };
            child.wait().unwrap();
        }
    }

    /// `docker -H <this engine> ARGS`: whether it succeeded, and its stdout.
    pub fn docker(&self, args: &[&str]) -> (bool, String) {
        let out = Command::new("docker")
            .args(["-H", &self.address()])
            .args(args)
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).trim().to_owned(),
        )
    }
}

impl Drop for SecondEngine {
    fn drop(&mut self) {
        self.stop();
        // The data root holds read-only layers the engine made; removing them as root works.
        let _ = Command::new("rm").arg("-rf").arg(self.dir.path()).status();
    }
}

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
