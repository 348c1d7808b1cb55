//! Confinement without bubblewrap, from the kernel's own interfaces: the run's process enters a
//! new user, mount and (unless the network is allowed) network namespace with only loopback,
//! lays the masks over the file system in its mount namespace, then restricts itself with
//! Landlock: read and execute everywhere, write only in the run's copy, its temporary folder and
//! a few devices. Landlock also forbids it to undo the masks (no mount or umount) and to reach
//! processes outside the run by ptrace or /proc (their environment holds the user's secrets).
//!
//! Everything the child does between fork and exec is prepared here beforehand, so that the
//! child itself makes only system calls.

use std::ffi::CString;
use std::io;
use std::path::Path;

use landlock::{
    Access, AccessFs, CompatLevel, Compatible, PathBeneath, PathFd, Ruleset, RulesetAttr,
    RulesetCreated, RulesetCreatedAttr, Scope, ABI,
};

use super::limits::{self, c_path};
use super::mask::{Mask, MaskKind};
use super::RunPaths;

/// The newest file-system rights this code knows; older kernels enforce what they support.
const FS_ABI: ABI = ABI::V5;
/// Devices a test may write to; every other device stays read-only.
const WRITABLE_DEVICES: &[&str] = &[
    "/dev/null",
    "/dev/zero",
    "/dev/full",
    "/dev/random",
    "/dev/urandom",
];

/// What the child needs to confine itself.
pub struct Entry {
    network: bool,
    uid_map: Vec<u8>,
    gid_map: Vec<u8>,
    masks: Vec<(CString, MaskKind)>,
    shm: Option<(CString, CString)>,
    ruleset: Option<RulesetCreated>,
    /// `None` where the count does not bind (root), and a pids cgroup does the work.
    processes: Option<u64>,
}

pub fn prepare(
    paths: &RunPaths,
    masks: &[Mask],
    network: bool,
    processes: Option<u64>,
) -> io::Result<Entry> {
    // SAFETY: plain getters without failure modes.
    let (uid, gid) = unsafe { (libc::geteuid(), libc::getegid()) };
    let shm = Path::new("/dev/shm");
    let shm = if shm.is_dir() {
        Some((c_path(&paths.shm)?, c_path(shm)?))
    } else {
        None
    };
    Ok(Entry {
        network,
        uid_map: format!("{uid} {uid} 1").into_bytes(),
        gid_map: format!("{gid} {gid} 1").into_bytes(),
        masks: masks
            .iter()
            .map(|m| Ok((c_path(&m.path)?, m.kind)))
            .collect::<io::Result<_>>()?,
        shm,
        ruleset: Some(ruleset(paths).map_err(io::Error::other)?),
        processes,
    })
}

fn ruleset(paths: &RunPaths) -> Result<RulesetCreated, String> {
    let fail = |e: &dyn std::fmt::Display| format!("failed to build the Landlock rules: {e}");
    let beneath = |path: &Path, access| -> Result<PathBeneath<PathFd>, String> {
        Ok(PathBeneath::new(
            PathFd::new(path).map_err(|e| fail(&e))?,
            access,
        ))
    };
    let mut ruleset = Ruleset::default()
        .handle_access(AccessFs::from_all(FS_ABI))
        .map_err(|e| fail(&e))?
        // Signals to processes outside the run, and abstract sockets, where the kernel knows
        // these scopes (6.12 and later).
        .scope(Scope::from_all(ABI::V6))
        .map_err(|e| fail(&e))?
        .create()
        .map_err(|e| fail(&e))?
        .add_rule(beneath(Path::new("/"), AccessFs::from_read(FS_ABI))?)
        .map_err(|e| fail(&e))?;
    for dir in [&paths.run, &paths.tmp, &paths.shm] {
        ruleset = ruleset
            .add_rule(beneath(dir, AccessFs::from_all(FS_ABI))?)
            .map_err(|e| fail(&e))?;
    }
    for device in WRITABLE_DEVICES
        .iter()
        .map(Path::new)
        .filter(|d| d.exists())
    {
        ruleset = ruleset
            .add_rule(beneath(device, AccessFs::from_file(FS_ABI))?)
            .map_err(|e| fail(&e))?;
    }
    Ok(ruleset)
}

/// Whether this kernel lets this process make the namespaces and enforce Landlock; the error
/// says why not.
pub fn probe() -> Result<(), String> {
    Ruleset::default()
        .set_compatibility(CompatLevel::HardRequirement)
        .handle_access(AccessFs::from_all(ABI::V1))
        .and_then(|r| r.create())
        .map_err(|e| format!("Landlock is not available in this kernel ({e})"))?;
    let dir = tempfile::Builder::new()
        .prefix("swiss-probe-")
        .tempdir()
        .map_err(|e| format!("failed to make a folder to probe in: {e}"))?;
    let paths = RunPaths::inside(dir.path()).map_err(|e| e.to_string())?;
    let mut entry = prepare(&paths, &[], false, None).map_err(|e| e.to_string())?;
    let mut command = std::process::Command::new("sh");
    command
        .args(["-c", ":"])
        .current_dir(&paths.run)
        .stdin(std::process::Stdio::null());
    // SAFETY: `enter` makes only async-signal-safe system calls.
    unsafe {
        use std::os::unix::process::CommandExt;
        command.pre_exec(move || enter(&mut entry));
    }
    let status = command
        .status()
        .map_err(|e| format!("failed to enter new namespaces ({e}); user namespaces may be turned off (kernel.unprivileged_userns_clone, or an AppArmor or SELinux policy)"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("a probe run in new namespaces failed ({status})"))
    }
}

fn check(result: libc::c_int) -> io::Result<()> {
    if result == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

fn write_file(path: &std::ffi::CStr, bytes: &[u8]) -> io::Result<()> {
    // SAFETY: open/write/close on a NUL-terminated path and a live buffer.
    unsafe {
        let fd = libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
        check(fd)?;
        let written = libc::write(fd, bytes.as_ptr().cast(), bytes.len());
        libc::close(fd);
        if written != bytes.len() as isize {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Runs in the child between fork and exec.
pub fn enter(entry: &mut Entry) -> io::Result<()> {
    let mut flags = libc::CLONE_NEWUSER | libc::CLONE_NEWNS;
    if !entry.network {
        flags |= libc::CLONE_NEWNET;
    }
    // SAFETY: unshare changes this (single-threaded, forked) process only.
    check(unsafe { libc::unshare(flags) })?;
    // Map the user to itself: files keep their owners, and the run keeps the user's rights on
    // them, minus what Landlock takes away. Root mapped to root has no power outside it.
    write_file(c"/proc/self/setgroups", b"deny")?;
    write_file(c"/proc/self/uid_map", &entry.uid_map)?;
    write_file(c"/proc/self/gid_map", &entry.gid_map)?;
    // SAFETY: mount(2) with NUL-terminated strings that outlive the calls.
    unsafe {
        // Nothing mounted here may propagate back to the user's namespace.
        check(libc::mount(
            std::ptr::null(),
            c"/".as_ptr(),
            std::ptr::null(),
            libc::MS_REC | libc::MS_PRIVATE,
            std::ptr::null(),
        ))?;
        for (path, kind) in &entry.masks {
            let masked = match kind {
                MaskKind::Dir => check(libc::mount(
                    c"tmpfs".as_ptr(),
                    path.as_ptr(),
                    c"tmpfs".as_ptr(),
                    libc::MS_RDONLY | libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
                    c"size=4k,mode=755".as_ptr().cast(),
                )),
                MaskKind::File => check(libc::mount(
                    c"/dev/null".as_ptr(),
                    path.as_ptr(),
                    std::ptr::null(),
                    libc::MS_BIND,
                    std::ptr::null(),
                )),
            };
            match masked {
                // Gone since the sandbox was prepared: nothing left to hide.
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                other => other?,
            }
        }
        // The user's /dev/shm is shared with all their programs: the run gets its own.
        if let Some((source, target)) = &entry.shm {
            check(libc::mount(
                source.as_ptr(),
                target.as_ptr(),
                std::ptr::null(),
                libc::MS_BIND,
                std::ptr::null(),
            ))?;
        }
    }
    if !entry.network {
        loopback_up()?;
    }
    if let Some(processes) = entry.processes {
        limits::apply_processes(processes)?;
    }
    let ruleset = entry
        .ruleset
        .take()
        .ok_or_else(|| io::Error::other("the Landlock rules were used already"))?;
    ruleset.restrict_self().map_err(io::Error::other)?;
    Ok(())
}

/// A new network namespace has a loopback interface, down: tests that serve on 127.0.0.1 need
/// it up.
fn loopback_up() -> io::Result<()> {
    // SAFETY: a socket for ioctl(2) on a zeroed, NUL-terminated interface request.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
        check(fd)?;
        let mut request: libc::ifreq = std::mem::zeroed();
        for (slot, byte) in request.ifr_name.iter_mut().zip(b"lo") {
            *slot = *byte as libc::c_char;
        }
        let result = (|| {
            check(libc::ioctl(fd, libc::SIOCGIFFLAGS, &mut request))?;
            request.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short;
            check(libc::ioctl(fd, libc::SIOCSIFFLAGS, &request))
        })();
        libc::close(fd);
        result
    }
}
