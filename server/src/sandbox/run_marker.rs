//! Finding a local run's processes after they left its process group. A test that daemonizes a
//! server (`setsid`, a double fork) is out of reach of the group kill, but it still carries the
//! environment it was started with: every run gets a variable naming it, and the processes that
//! hold it are found under /proc (Linux) and killed. A process that clears its environment, or one
//! running as another user, still escapes.

use std::sync::atomic::{AtomicU64, Ordering};

/// The variable every local run's command is started with.
pub const VARIABLE: &str = "SWISS_SANDBOX_RUN";

/// A scan that finds nothing new ends the sweep; a process may fork while one runs.
const MAX_SCANS: usize = 4;

/// A value unique to one run of this process.
pub fn new_marker() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    format!(
        "{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// SIGKILLs every process of this user whose environment holds `VARIABLE=marker`; returns how
/// many it killed.
pub fn kill_marked(marker: &str) -> usize {
    let needle = format!("{VARIABLE}={marker}");
    let mut killed = std::collections::BTreeSet::new();
    for _ in 0..MAX_SCANS {
        let found = marked_processes(needle.as_bytes());
        if found.iter().all(|pid| killed.contains(pid)) {
            break;
        }
        for pid in found {
            // SAFETY: kill(2) touches no memory; a process gone meanwhile is ESRCH, ignored.
            if unsafe { libc::kill(pid, libc::SIGKILL) } == 0 {
                killed.insert(pid);
            }
        }
    }
    killed.len()
}

fn marked_processes(needle: &[u8]) -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let own = std::process::id();
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| pid != own)
        .filter(|pid| {
            // Another user's processes (and zombies) are unreadable or empty: never ours.
            std::fs::read(format!("/proc/{pid}/environ"))
                .is_ok_and(|environ| environ.split(|&b| b == 0).any(|var| var == needle))
        })
        .filter_map(|pid| i32::try_from(pid).ok())
        .collect()
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn kills_the_marked_process_and_only_it() {
        let marker = new_marker();
        let spawn = |value: &str| {
            std::process::Command::new("sleep")
                .arg("30")
                .env(VARIABLE, value)
                .spawn()
                .unwrap()
        };
        let mut marked = spawn(&marker);
        let mut other = spawn(&format!("{marker}0"));
        // The child's environ is readable once exec has happened.
        std::thread::sleep(std::time::Duration::from_millis(100));
        assert_eq!(kill_marked(&marker), 1);
        assert!(!marked.wait().unwrap().success());
        assert!(
            other.try_wait().unwrap().is_none(),
            "a similar marker is not this run's"
        );
        other.kill().unwrap();
        other.wait().unwrap();
        assert_eq!(kill_marked(&marker), 0);
    }
}
