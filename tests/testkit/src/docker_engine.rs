//! A second Docker engine beside the machine's own, for the Docker host tests and bench: its
//! own socket, data root, exec root and pid file, no bridge and no iptables rules so that the
//! two coexist, holding a copy of the test image.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A `dockerd` of the test's own; stopped on drop.
pub struct SecondEngine {
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl SecondEngine {
    /// Starts an engine that holds no image.
    pub fn bare() -> SecondEngine {
        // Short: a unix socket path has a limit of about 100 bytes.
        let dir = tempfile::Builder::new()
            .prefix("swd")
            .tempdir_in("/tmp")
            .unwrap();
        let mut engine = SecondEngine { dir, child: None };
        engine.restart();
        engine
    }

    /// Starts the engine and loads `image` into it from the machine's engine.
    pub fn start(image: &str) -> SecondEngine {
        let engine = SecondEngine::bare();
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
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
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
