//! Confinement of local runs: model-written code (reproduction scripts, candidate patches under
//! the project's tests) runs without the network, writing only to its own copy of the repository
//! and a private temporary folder, with the user's credentials hidden and an allow-listed
//! environment, within resource limits. Bubblewrap does it where installed; otherwise the
//! kernel's namespaces and Landlock, directly. Where neither works the local sandbox refuses to
//! run unless `sandbox.allow_unconfined = true`.

pub mod bwrap;
pub mod env;
pub mod limits;
pub mod mask;
pub mod namespaces;

use std::io;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

pub use limits::Limits;
use limits::PidsCgroup;
use mask::Mask;

use crate::config::Settings;

/// What the user chose about confinement (the `sandbox.*` settings).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ConfineSettings {
    /// `sandbox.network`: let the project's tests reach the network.
    pub network: bool,
    /// `sandbox.mask`: more locations to hide (absolute, or `~/…`).
    pub mask: Vec<String>,
    /// `sandbox.pass_env`: more variables to pass, credentials included.
    pub pass_env: Vec<String>,
    /// `sandbox.allow_unconfined`: run unconfined where no confinement is possible.
    pub allow_unconfined: bool,
    pub limits: Limits,
}

impl ConfineSettings {
    pub fn from_settings(settings: &Settings) -> ConfineSettings {
        ConfineSettings {
            network: settings.sandbox_network,
            mask: settings.sandbox_mask.clone(),
            pass_env: settings.sandbox_pass_env.clone(),
            allow_unconfined: settings.allow_unconfined,
            limits: Limits {
                memory_bytes: settings.memory_mb.saturating_mul(1024 * 1024),
                processes: u64::try_from(settings.pids_limit).unwrap_or(1),
                cpus: settings.cpus,
                file_size_bytes: limits::FILE_SIZE_LIMIT,
            },
        }
    }
}

/// How this machine can confine a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mechanism {
    Bubblewrap(PathBuf),
    /// User, mount and network namespaces plus Landlock, from this process.
    Namespaces,
    /// Neither works; `why` says what was tried.
    Unavailable {
        why: String,
    },
}

impl Mechanism {
    pub fn name(&self) -> &'static str {
        match self {
            Mechanism::Bubblewrap(_) => "bubblewrap",
            Mechanism::Namespaces => "namespaces+landlock",
            Mechanism::Unavailable { .. } => "none",
        }
    }
}

/// The mechanism available here, probed once per process (a probe starts a process).
pub fn available() -> &'static Mechanism {
    static AVAILABLE: OnceLock<Mechanism> = OnceLock::new();
    AVAILABLE.get_or_init(|| {
        let mut tried = Vec::new();
        match bwrap::find() {
            Some(path) => match bwrap::probe(&path) {
                Ok(()) => return Mechanism::Bubblewrap(path),
                Err(why) => tried.push(why),
            },
            None => tried.push("bubblewrap (bwrap) is not installed".to_owned()),
        }
        match namespaces::probe() {
            Ok(()) => Mechanism::Namespaces,
            Err(why) => {
                tried.push(why);
                Mechanism::Unavailable {
                    why: tried.join("; "),
                }
            }
        }
    })
}

/// What to do where no confinement works.
pub const HOW_TO_CONFINE: &str = "install bubblewrap (Debian/Ubuntu: `apt-get install bubblewrap`, Fedora: `dnf install bubblewrap`, Arch: `pacman -S bubblewrap`), or use Docker (`--sandbox docker` with sandbox.image set: https://docs.docker.com/engine/install/), or set sandbox.allow_unconfined = true in swiss.toml to run model-written code as yourself, unconfined";

/// The confinement in force, for reports (`verification.confinement` in `--json`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Confinement {
    /// `bubblewrap`, `namespaces+landlock`, or `none`.
    pub mechanism: String,
    /// Whether runs can reach the network (`sandbox.network`).
    pub network: bool,
    /// Locations hidden from runs.
    pub masked: Vec<PathBuf>,
    /// Variables passed beyond the allow-list (`sandbox.pass_env`).
    pub pass_env: Vec<String>,
    pub limits: Limits,
    /// Whether the process limit binds (as root it needs a pids cgroup).
    pub processes_limited: bool,
    /// What the confinement does not cover here, when something.
    pub note: Option<String>,
}

impl Confinement {
    /// One line for the job's output.
    pub fn summary(&self) -> String {
        if self.mechanism == "none" {
            return format!(
                "local runs are NOT confined: {}",
                self.note.as_deref().unwrap_or("no mechanism")
            );
        }
        let network = if self.network {
            "network ALLOWED (sandbox.network = true)"
        } else {
            "no network"
        };
        let processes = if self.processes_limited {
            format!("{} processes", self.limits.processes)
        } else {
            "processes unlimited".to_owned()
        };
        format!(
            "local runs confined by {}: {network}, writes only to the run's copy and its TMPDIR, {} secret locations hidden, environment allow-listed; limits {} MiB memory a process, {processes}, CPU time up to the timeout, {} MiB a file",
            self.mechanism,
            self.masked.len(),
            self.limits.memory_bytes / (1024 * 1024),
            self.limits.file_size_bytes / (1024 * 1024),
        )
    }
}

/// The folders of one run: its copy of the repository, a private temporary folder (TMPDIR),
/// and the folder shown as /dev/shm.
#[derive(Debug, Clone)]
pub struct RunPaths {
    pub run: PathBuf,
    pub tmp: PathBuf,
    pub shm: PathBuf,
}

impl RunPaths {
    /// `run/`, `tmp/` and `shm/` made inside `dir`.
    pub fn inside(dir: &Path) -> io::Result<RunPaths> {
        let paths = RunPaths {
            run: dir.join("run"),
            tmp: dir.join("tmp"),
            shm: dir.join("shm"),
        };
        for path in [&paths.run, &paths.tmp, &paths.shm] {
            std::fs::create_dir_all(path)?;
        }
        Ok(paths)
    }
}

/// Makes confined commands, with the masks resolved once per sandbox.
pub struct Confiner {
    mechanism: Mechanism,
    settings: ConfineSettings,
    masks: Vec<Mask>,
    processes_limited: bool,
}

/// What must live as long as a run: its pids cgroup, removed afterwards.
pub struct RunGuard {
    _cgroup: Option<PidsCgroup>,
}

impl Confiner {
    /// Refuses (with what to do) where no confinement works and the user did not allow running
    /// unconfined.
    pub fn new(settings: ConfineSettings) -> Result<Confiner, String> {
        Confiner::with(available().clone(), settings)
    }

    fn with(mechanism: Mechanism, settings: ConfineSettings) -> Result<Confiner, String> {
        if let Mechanism::Unavailable { why } = &mechanism {
            if !settings.allow_unconfined {
                return Err(format!(
                    "failed to confine local runs of model-written code: {why}. To fix: {HOW_TO_CONFINE}"
                ));
            }
        }
        let home = std::env::var_os("HOME").map(PathBuf::from);
        let agent = std::env::var_os("SSH_AUTH_SOCK").map(PathBuf::from);
        let masks = mask::resolve(home.as_deref(), &settings.mask, agent.as_deref());
        let processes_limited = match mechanism {
            Mechanism::Unavailable { .. } => false,
            _ => !limits::is_root() || PidsCgroup::create(1, &probe_cgroup_name()).is_some(),
        };
        Ok(Confiner {
            mechanism,
            settings,
            masks,
            processes_limited,
        })
    }

    pub fn confinement(&self) -> Confinement {
        let unconfined = matches!(self.mechanism, Mechanism::Unavailable { .. });
        let note = match &self.mechanism {
            Mechanism::Unavailable { why } => Some(format!(
                "{why}; running unconfined because sandbox.allow_unconfined = true"
            )),
            _ if !self.processes_limited => Some(
                "running as root without a pids cgroup to join: the process limit does not bind"
                    .to_owned(),
            ),
            _ => None,
        };
        Confinement {
            mechanism: self.mechanism.name().to_owned(),
            network: self.settings.network || unconfined,
            masked: if unconfined {
                Vec::new()
            } else {
                self.masks.iter().map(|m| m.path.clone()).collect()
            },
            pass_env: self.settings.pass_env.clone(),
            limits: self.settings.limits,
            processes_limited: self.processes_limited,
            note,
        }
    }

    /// The command that runs `command` (with `sh -c`) confined in `paths`, with `explicit_env`
    /// (the run's own variables) over the allow-listed environment.
    pub fn command(
        &self,
        paths: &RunPaths,
        command: &str,
        explicit_env: &[(String, String)],
        timeout: Duration,
    ) -> io::Result<(tokio::process::Command, RunGuard)> {
        let limits = self.settings.limits;
        let mut env = env::build(std::env::vars(), explicit_env, &self.settings.pass_env);
        let tmp = paths.tmp.display().to_string();
        for name in ["TMPDIR", "TMP", "TEMP"] {
            env.push((name.to_owned(), tmp.clone()));
        }
        // HOME is read-only: caches (pip, matplotlib, …) go to the run's own folder.
        env.push((
            "XDG_CACHE_HOME".to_owned(),
            paths.tmp.join(".cache").display().to_string(),
        ));
        let cgroup = match (&self.mechanism, self.processes_limited && limits::is_root()) {
            (Mechanism::Unavailable { .. }, _) | (_, false) => None,
            (_, true) => PidsCgroup::create(limits.processes, &format!("swiss-{}", unique_name())),
        };
        let mut entry = match &self.mechanism {
            Mechanism::Namespaces => Some(namespaces::prepare(
                paths,
                &self.masks,
                self.settings.network,
                (!limits::is_root()).then_some(limits.processes),
            )?),
            _ => None,
        };
        let mut process = match &self.mechanism {
            Mechanism::Bubblewrap(bwrap) => {
                let mut process = tokio::process::Command::new(bwrap);
                process.args(bwrap::args(
                    paths,
                    &self.masks,
                    self.settings.network,
                    limits.processes,
                    command,
                ));
                process
            }
            Mechanism::Namespaces | Mechanism::Unavailable { .. } => {
                let mut process = tokio::process::Command::new("sh");
                process.arg("-c").arg(command);
                process
            }
        };
        process.current_dir(&paths.run).env_clear().envs(env);
        let cgroup_fd = cgroup.as_ref().map(PidsCgroup::procs_fd);
        let cpu_seconds = limits.cpu_seconds(timeout);
        // SAFETY: the closure makes only async-signal-safe system calls (see `namespaces`).
        unsafe {
            process.pre_exec(move || {
                if let Some(fd) = cgroup_fd {
                    limits::join_cgroup(fd)?;
                }
                limits::apply_per_process(&limits, cpu_seconds)?;
                match entry.as_mut() {
                    Some(entry) => namespaces::enter(entry),
                    None => Ok(()),
                }
            });
        }
        Ok((process, RunGuard { _cgroup: cgroup }))
    }
}

fn unique_name() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    format!(
        "{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

fn probe_cgroup_name() -> String {
    format!("swiss-probe-{}", unique_name())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unavailable() -> Mechanism {
        Mechanism::Unavailable {
            why: "bubblewrap (bwrap) is not installed; user namespaces are off".to_owned(),
        }
    }

    #[test]
    fn without_confinement_local_runs_are_refused_and_the_user_told_what_to_do() {
        let refused = Confiner::with(unavailable(), ConfineSettings::default())
            .err()
            .expect("refused");
        assert!(refused.starts_with("failed to confine"), "{refused}");
        for hint in [
            "user namespaces are off",
            "apt-get install bubblewrap",
            "--sandbox docker",
            "sandbox.allow_unconfined = true",
        ] {
            assert!(refused.contains(hint), "{hint:?} missing from: {refused}");
        }
    }

    #[test]
    fn allowed_unconfined_runs_say_so() {
        let settings = ConfineSettings {
            allow_unconfined: true,
            ..ConfineSettings::default()
        };
        let report = Confiner::with(unavailable(), settings)
            .unwrap()
            .confinement();
        assert_eq!(report.mechanism, "none");
        assert!(report.network, "nothing keeps the network away");
        assert!(!report.processes_limited);
        assert!(
            report
                .summary()
                .starts_with("local runs are NOT confined: bubblewrap"),
            "{}",
            report.summary()
        );
    }

    #[test]
    fn the_summary_says_when_the_network_is_allowed() {
        let settings = ConfineSettings {
            network: true,
            ..ConfineSettings::default()
        };
        let report = Confiner::with(Mechanism::Namespaces, settings)
            .unwrap()
            .confinement();
        assert!(
            report
                .summary()
                .contains("network ALLOWED (sandbox.network = true)"),
            "{}",
            report.summary()
        );
    }
}
