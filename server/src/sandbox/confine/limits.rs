//! Resource limits of a confined run, as Docker sets them: memory, processes, CPU time, file
//! size. Memory, CPU time and file size are rlimits, inherited by everything the run starts.
//! Processes are counted per user, and root is exempt from that count, so as root they are
//! bounded by a `pids` cgroup instead (the controller Docker uses), where one can be made.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::PathBuf;

/// The largest file a run may write: a test that writes without end fills no disk.
pub const FILE_SIZE_LIMIT: u64 = 1024 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Limits {
    /// Data segment of each process (`RLIMIT_DATA`: heap and private mappings), in bytes.
    pub memory_bytes: u64,
    /// Processes and threads of the run.
    pub processes: u64,
    /// CPU seconds of each process are capped at the run's timeout times this many CPUs.
    pub cpus: f64,
    pub file_size_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            memory_bytes: 4096 * 1024 * 1024,
            processes: 512,
            cpus: 2.0,
            file_size_bytes: FILE_SIZE_LIMIT,
        }
    }
}

impl Limits {
    /// CPU seconds a process may use in a run with this timeout: a run that is busy on every
    /// allowed CPU until the timeout stays under it.
    pub fn cpu_seconds(&self, timeout: std::time::Duration) -> u64 {
        let cpus = self.cpus.max(1.0).ceil() as u64;
        timeout
            .as_secs()
            .max(1)
            .saturating_mul(cpus)
            .saturating_add(1)
    }
}

fn set(resource: libc::__rlimit_resource_t, value: u64) -> io::Result<()> {
    let limit = libc::rlimit {
        rlim_cur: value as libc::rlim_t,
        rlim_max: value as libc::rlim_t,
    };
    // SAFETY: setrlimit reads the struct and nothing else; it is async-signal-safe.
    if unsafe { libc::setrlimit(resource, &limit) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// The per-process limits; called between fork and exec, where only async-signal-safe calls
/// belong, so it allocates nothing.
pub(super) fn apply_per_process(limits: &Limits, cpu_seconds: u64) -> io::Result<()> {
    set(libc::RLIMIT_DATA, limits.memory_bytes)?;
    set(libc::RLIMIT_CPU, cpu_seconds)?;
    set(libc::RLIMIT_FSIZE, limits.file_size_bytes)
}

/// The per-user process count, applied inside the run's own user namespace, where the count
/// starts from the run's processes rather than from all of the user's.
pub(super) fn apply_processes(processes: u64) -> io::Result<()> {
    set(libc::RLIMIT_NPROC, processes)
}

pub(super) fn is_root() -> bool {
    // SAFETY: geteuid has no failure mode and touches no memory.
    unsafe { libc::geteuid() == 0 }
}

/// Where a `pids` controller may be mounted: cgroup v1's own hierarchy, then the v2 root.
const PIDS_HIERARCHIES: &[&str] = &["/sys/fs/cgroup/pids", "/sys/fs/cgroup"];

/// A cgroup of its own for one run, with `pids.max` set; removed when dropped (after the run's
/// processes are dead, which the run's group kill sees to).
pub(super) struct PidsCgroup {
    dir: PathBuf,
    procs: OwnedFd,
}

impl PidsCgroup {
    /// `None` where no pids controller can be used by this process (not root, no cgroup file
    /// system mounted, or a v2 root without the controller).
    pub(super) fn create(max: u64, name: &str) -> Option<PidsCgroup> {
        PIDS_HIERARCHIES.iter().find_map(|root| {
            let dir = PathBuf::from(root).join(name);
            std::fs::create_dir(&dir).ok()?;
            let made = (|| {
                std::fs::write(dir.join("pids.max"), max.to_string())?;
                std::fs::OpenOptions::new()
                    .write(true)
                    .open(dir.join("cgroup.procs"))
                    .map(OwnedFd::from)
            })();
            match made {
                Ok(procs) => Some(PidsCgroup { dir, procs }),
                Err(_) => {
                    let _ = std::fs::remove_dir(&dir);
                    None
                }
            }
        })
    }

    pub(super) fn procs_fd(&self) -> RawFd {
        self.procs.as_raw_fd()
    }
}

/// Moves the calling process into the cgroup whose `cgroup.procs` is open as `fd`; between fork
/// and exec, so by raw write(2).
pub(super) fn join_cgroup(fd: RawFd) -> io::Result<()> {
    // "0" names the writing process, in cgroup v1 and v2 alike.
    // SAFETY: writes one byte from a static buffer to an open descriptor.
    if unsafe { libc::write(fd, b"0".as_ptr().cast(), 1) } == 1 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

impl Drop for PidsCgroup {
    fn drop(&mut self) {
        // A killed process leaves its cgroup once reaped, which may take a moment.
        for _ in 0..50 {
            if std::fs::remove_dir(&self.dir).is_ok() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        tracing::warn!(cgroup = %self.dir.display(), "failed to remove a run's cgroup; remove it by hand once its processes are gone");
    }
}

/// A path for a C call made between fork and exec, converted beforehand.
pub(super) fn c_path(path: &std::path::Path) -> io::Result<CString> {
    use std::os::unix::ffi::OsStrExt;
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a path holds a NUL byte"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn cpu_time_covers_every_cpu_until_the_timeout() {
        let limits = Limits {
            cpus: 1.5,
            ..Limits::default()
        };
        assert_eq!(limits.cpu_seconds(Duration::from_secs(900)), 1801);
        let under_one = Limits {
            cpus: 0.5,
            ..Limits::default()
        };
        assert_eq!(under_one.cpu_seconds(Duration::from_millis(10)), 2);
    }
}
