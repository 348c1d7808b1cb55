//! A private Python environment with pytest, for the fixtures whose tests run pytest and for the
//! demo: made once under cargo's target directory (`python3 -m venv` + `pip install pytest`) and
//! reused by every later run, so a machine needs only `python3`, not pytest.
//!
//! Test threads share it through a `OnceLock`; test processes (the test binary, the demo, a
//! bench, nextest's one process per test) through an exclusive lock on a file beside it.

use std::ffi::OsString;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// The folder's name under the target directory.
pub const VENV_DIR: &str = "swiss-pytest-venv";

/// A venv whose interpreter imports pytest.
#[derive(Debug, Clone)]
pub struct PytestVenv {
    root: PathBuf,
}

impl PytestVenv {
    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn bin(&self) -> PathBuf {
        self.root.join("bin")
    }

    /// `bin/python3`: named as the detected test command names its interpreter, so a `PATH`
    /// with [`PytestVenv::bin`] first runs it for `python3 -m pytest`.
    pub fn python(&self) -> PathBuf {
        self.bin().join("python3")
    }

    /// `PATH` with the venv's `bin` first, as `bin/activate` sets it: `python3` is then the
    /// venv's for a process and everything it starts.
    pub fn path_env(&self) -> OsString {
        let mut dirs = vec![self.bin()];
        if let Some(path) = std::env::var_os("PATH") {
            dirs.extend(std::env::split_paths(&path));
        }
        std::env::join_paths(dirs).expect("PATH entries hold no separator")
    }

    /// The venv at `root`, made first if it is missing or its interpreter no longer imports
    /// pytest (a partial install, a removed base interpreter). The error is one line naming the
    /// missing piece and the command that provides it.
    pub fn ensure(root: &Path) -> Result<PytestVenv, String> {
        let venv = PytestVenv {
            root: root.to_path_buf(),
        };
        if venv.imports_pytest() {
            return Ok(venv);
        }
        let _lock = lock_beside(root)?;
        // Another process may have made it while this one waited for the lock.
        if venv.imports_pytest() {
            return Ok(venv);
        }
        if root.exists() {
            std::fs::remove_dir_all(root).map_err(|e| {
                format!(
                    "failed to remove the broken venv {} ({e}): remove it by hand",
                    root.display()
                )
            })?;
        }
        venv.create(Path::new("python3"))?;
        venv.install_pytest()?;
        if !venv.imports_pytest() {
            return Err(format!(
                "failed to import pytest with {} after installing it: remove {} and run the tests again",
                venv.python().display(),
                root.display()
            ));
        }
        Ok(venv)
    }

    /// The venv under this build's target directory, made at most once per process.
    pub fn shared() -> Result<&'static PytestVenv, String> {
        static SHARED: OnceLock<Result<PytestVenv, String>> = OnceLock::new();
        SHARED
            .get_or_init(|| PytestVenv::ensure(&target_dir()?.join(VENV_DIR)))
            .as_ref()
            .map_err(Clone::clone)
    }

    fn imports_pytest(&self) -> bool {
        Command::new(self.python())
            .args(["-c", "import pytest"])
            .output()
            .is_ok_and(|out| out.status.success())
    }

    /// `base` is the interpreter the venv is made from: `python3` on PATH outside tests.
    fn create(&self, base: &Path) -> Result<(), String> {
        let made = Command::new(base)
            .args(["-m", "venv"])
            .arg(&self.root)
            .output();
        match made {
            Ok(out) if out.status.success() => Ok(()),
            Ok(out) => {
                let stderr = String::from_utf8_lossy(&out.stderr);
                // Debian's python3 leaves ensurepip to python3-venv and names the package for the
                // interpreter's version (`apt install python3.11-venv`).
                let (why, command) = if stderr.contains("ensurepip") {
                    let named = stderr.lines().map(str::trim).find(|l| {
                        l.starts_with("apt install ") || l.starts_with("apt-get install ")
                    });
                    (
                        "this python3 has no ensurepip".to_owned(),
                        named.unwrap_or("apt-get install python3-venv").to_owned(),
                    )
                } else {
                    (last_line(&out), "apt-get install python3-venv".to_owned())
                };
                Err(format!(
                    "failed to create a venv with `python3 -m venv {}` ({why}): run `{command}` (Debian or Ubuntu, as root), then the tests again",
                    self.root.display(),
                ))
            }
            Err(e) => Err(format!(
                "failed to run python3 ({e}) to make the tests' pytest venv: install it (on Debian or Ubuntu `apt-get install python3 python3-venv`) or put it on PATH"
            )),
        }
    }

    fn install_pytest(&self) -> Result<(), String> {
        let python = self.python();
        let installed = Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "pytest",
            ])
            .output();
        let why = match installed {
            Ok(out) if out.status.success() => return Ok(()),
            Ok(out) => last_line(&out),
            Err(e) => e.to_string(),
        };
        Err(format!(
            "failed to install pytest from PyPI into the tests' venv ({why}): run `{} -m pip install pytest` where PyPI is reachable (once), then the tests again",
            python.display()
        ))
    }
}

/// The venv of this build, or a panic whose message is the one line saying what to install.
pub fn pytest_venv() -> &'static PytestVenv {
    PytestVenv::shared().unwrap_or_else(|line| panic!("{line}"))
}

/// Cargo's target directory: the nearest folder above the running binary that holds a file
/// cargo keeps there, `CACHEDIR.TAG` or `.rustc_info.json` (target/debug/deps/it-…,
/// target/release/examples/demo, target/TRIPLE/…), else `CARGO_TARGET_DIR`. Cargo writes the
/// tag only into a folder it creates, so a `target/` that a setup script made first (the npm
/// fixture's, say) has only the second.
pub fn target_dir() -> Result<PathBuf, String> {
    let exe = std::env::current_exe()
        .map_err(|e| format!("failed to find the running test binary ({e}): set CARGO_TARGET_DIR to cargo's target directory"))?;
    if let Some(dir) = exe
        .ancestors()
        .skip(1)
        .find(|dir| dir.join("CACHEDIR.TAG").is_file() || dir.join(".rustc_info.json").is_file())
    {
        return Ok(dir.to_path_buf());
    }
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if Path::new(&dir).is_absolute() => Ok(PathBuf::from(dir)),
        _ => Err(format!(
            "failed to find cargo's target directory above {}: set CARGO_TARGET_DIR to its absolute path",
            exe.display()
        )),
    }
}

/// Held until dropped: the kernel releases the lock when the file closes, also when the
/// process holding it dies.
fn lock_beside(root: &Path) -> Result<File, String> {
    let path = root.with_extension("lock");
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| format!("failed to open the lock file {} ({e}): check that the target directory is writable", path.display()))?;
    rustix::fs::flock(&file, rustix::fs::FlockOperation::LockExclusive).map_err(|e| {
        format!(
            "failed to lock {} ({e}): check that the target directory is on a local disk",
            path.display()
        )
    })?;
    Ok(file)
}

/// What a failed command said last: tools put the reason there, after any traceback.
fn last_line(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    stderr
        .lines()
        .chain(stdout.lines())
        .map(str::trim)
        .rfind(|line| !line.is_empty())
        .map_or_else(|| format!("exit status {}", out.status), str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn script(path: &Path, body: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[test]
    fn a_missing_python3_is_one_line_naming_what_to_install() {
        let dir = tempfile::tempdir().unwrap();
        let venv = PytestVenv {
            root: dir.path().join("venv"),
        };
        let line = venv.create(&dir.path().join("python3")).unwrap_err();
        assert!(line.starts_with("failed to run python3"), "{line}");
        assert!(
            line.contains("`apt-get install python3 python3-venv`"),
            "{line}"
        );
        assert!(!line.contains('\n'), "{line}");
    }

    #[test]
    fn a_python3_without_venv_support_names_python3_venv() {
        let dir = tempfile::tempdir().unwrap();
        // What Debian's python3 says without python3-venv.
        let python = dir.path().join("python3");
        script(
            &python,
            "cat >&2 <<'EOF'\nThe virtual environment was not created successfully because ensurepip is not\navailable.  On Debian/Ubuntu systems, you need to install the python3-venv\npackage using the following command.\n\n    apt install python3.11-venv\n\nYou may need to use sudo with that command.  After installing the python3-venv\npackage, recreate your virtual environment.\n\nFailing command: /tmp/venv/bin/python3\nEOF\nexit 1",
        );
        let venv = PytestVenv {
            root: dir.path().join("venv"),
        };
        let line = venv.create(&python).unwrap_err();
        assert_eq!(
            line,
            format!(
                "failed to create a venv with `python3 -m venv {}` (this python3 has no ensurepip): run `apt install python3.11-venv` (Debian or Ubuntu, as root), then the tests again",
                venv.root.display()
            )
        );
        // Another failure keeps its own last line, with the usual package.
        script(
            &python,
            "echo 'Error: [Errno 13] Permission denied' >&2; exit 1",
        );
        let line = venv.create(&python).unwrap_err();
        assert!(
            line.contains(
                "(Error: [Errno 13] Permission denied): run `apt-get install python3-venv`"
            ),
            "{line}"
        );
    }

    #[test]
    fn a_failed_pip_install_names_the_command_to_run() {
        let dir = tempfile::tempdir().unwrap();
        let venv = PytestVenv {
            root: dir.path().join("venv"),
        };
        script(
            &venv.python(),
            "echo 'Traceback (most recent call last):' >&2\necho 'ERROR: No matching distribution found for pytest' >&2; exit 1",
        );
        assert!(!venv.imports_pytest());
        let line = venv.install_pytest().unwrap_err();
        assert!(
            line.contains("(ERROR: No matching distribution found for pytest)"),
            "{line}"
        );
        assert!(
            line.contains(&format!(
                "`{} -m pip install pytest`",
                venv.python().display()
            )),
            "{line}"
        );
        assert!(!line.contains('\n'), "{line}");
    }

    #[test]
    fn path_env_puts_the_venv_first() {
        let venv = PytestVenv {
            root: PathBuf::from("/opt/venv"),
        };
        let path = venv.path_env();
        let first = std::env::split_paths(&path).next().unwrap();
        assert_eq!(first, Path::new("/opt/venv/bin"));
    }

    #[test]
    fn the_target_dir_is_found_above_the_test_binary() {
        let dir = target_dir().unwrap();
        assert!(dir.join(".rustc_info.json").is_file(), "{}", dir.display());
        assert!(std::env::current_exe().unwrap().starts_with(&dir));
    }
}
