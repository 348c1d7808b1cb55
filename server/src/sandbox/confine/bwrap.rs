//! Confinement by bubblewrap (`bwrap`, as Flatpak uses it): a user, PID, IPC and (unless the
//! network is allowed) network namespace, the whole file system bound read-only, the masks laid
//! over it, and only the run's copy and its private temporary folder bound writable. The PID
//! namespace also means every process of the run dies with it, daemons included.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::mask::{Mask, MaskKind};
use super::RunPaths;

/// The arguments that run `command` (with `sh -c`) confined. `processes` is set inside the
/// run's user namespace by the shell, where the count is the run's own.
pub fn args(
    paths: &RunPaths,
    masks: &[Mask],
    network: bool,
    processes: u64,
    command: &str,
) -> Vec<OsString> {
    let mut args: Vec<OsString> = [
        "--unshare-user",
        "--unshare-pid",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-cgroup-try",
        "--die-with-parent",
        // Out of the user's terminal session: no TIOCSTI into their shell.
        "--new-session",
        "--cap-drop",
        "ALL",
        "--ro-bind",
        "/",
        "/",
        "--dev",
        "/dev",
        "--proc",
        "/proc",
    ]
    .into_iter()
    .map(OsString::from)
    .collect();
    if !network {
        args.push("--unshare-net".into());
    }
    for mask in masks {
        match mask.kind {
            MaskKind::Dir => push(&mut args, &["--tmpfs"], &[&mask.path]),
            MaskKind::File => push(
                &mut args,
                &["--ro-bind"],
                &[Path::new("/dev/null"), &mask.path],
            ),
        }
    }
    push(&mut args, &["--bind"], &[&paths.shm, Path::new("/dev/shm")]);
    push(&mut args, &["--bind"], &[&paths.tmp, &paths.tmp]);
    push(&mut args, &["--bind"], &[&paths.run, &paths.run]);
    push(&mut args, &["--chdir"], &[&paths.run]);
    // dash spells the process limit -p, bash -u; a shell with neither must not run unlimited.
    let limited = format!(
        "ulimit -p {processes} 2>/dev/null || ulimit -u {processes} || exit 126; exec sh -c \"$1\""
    );
    args.extend(
        ["--", "sh", "-c", &limited, "swiss-sandbox", command]
            .into_iter()
            .map(OsString::from),
    );
    args
}

fn push(args: &mut Vec<OsString>, flags: &[&str], paths: &[&Path]) {
    args.extend(flags.iter().map(OsString::from));
    args.extend(paths.iter().map(|p| p.as_os_str().to_owned()));
}

/// `bwrap` on PATH, unless `SWISS_SANDBOX_NO_BWRAP=1` says to act as if it were not installed
/// (how the tests exercise the other mechanism on a machine that has it).
pub fn find() -> Option<PathBuf> {
    if std::env::var_os("SWISS_SANDBOX_NO_BWRAP").is_some_and(|v| v == "1") {
        return None;
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("bwrap"))
        .find(|candidate| {
            use std::os::unix::fs::PermissionsExt;
            std::fs::metadata(candidate)
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// Whether this bwrap can make the namespaces a run needs here (a kernel or a security module
/// may refuse unprivileged user namespaces); the error says why not.
pub fn probe(bwrap: &Path) -> Result<(), String> {
    let output = std::process::Command::new(bwrap)
        .args([
            "--unshare-user",
            "--unshare-pid",
            "--unshare-net",
            "--die-with-parent",
            "--ro-bind",
            "/",
            "/",
            "--dev",
            "/dev",
            "--proc",
            "/proc",
            "--",
            "sh",
            "-c",
            ":",
        ])
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("failed to start {}: {e}", bwrap.display()))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{} could not make a sandbox here: {}",
            bwrap.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}
