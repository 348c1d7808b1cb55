//! Whether a language toolchain the tests need runs here. A missing one skips its tests, and
//! fails them with `SWISS_REQUIRE_<TOOL>=1` (`SWISS_REQUIRE_GO`, `SWISS_REQUIRE_NODE`): CI
//! installs the toolchains and sets these, so a skip there cannot report a pass for a test
//! that tested nothing.

use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;

use crate::required::skip_unless_required;

/// Whether `tool --version` (Go: `go version`) runs; a panic where it does not and
/// `SWISS_REQUIRE_<TOOL>=1`. `install` says how to get it.
pub fn available(tool: &str, install: &str, test: &str) -> bool {
    let version = if tool == "go" { "version" } else { "--version" };
    let why = match Command::new(tool).arg(version).output() {
        Ok(output) if output.status.success() => return true,
        Ok(output) => format!(
            "`{tool} {version}` failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ),
        Err(e) => format!("`{tool}` does not run: {e}"),
    };
    let variable = format!("SWISS_REQUIRE_{}", tool.to_ascii_uppercase());
    skip_unless_required(&variable, test, &format!("{why}: {install}"));
    false
}

/// The npm packages the TypeScript fixture runs with (vitest, tsx), installed by
/// `.ci/npm-fixture-setup.sh` into `target/swiss-npm-fixture/node_modules` (or where
/// `SWISS_NPM_FIXTURE` points), by the first test that needs them when npm is here: the runs
/// themselves have no network. Missing, the tests skip, and fail with `SWISS_REQUIRE_NODE=1`.
#[allow(clippy::print_stderr)]
pub fn npm_fixture(test: &str) -> Option<PathBuf> {
    if !available("node", "install Node.js (Debian's nodejs and npm)", test) {
        return None;
    }
    let dir = std::env::var_os("SWISS_NPM_FIXTURE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/swiss-npm-fixture")
        });
    let modules = dir.join("node_modules");
    let ready = || {
        ["vitest", "tsx"]
            .iter()
            .all(|bin| modules.join(".bin").join(bin).exists())
    };
    // A fresh clone has no fixture packages yet: install them once (the registry is reachable
    // where the tests are set up), one test at a time, as the suite makes its own pytest venv.
    static SETUP: Mutex<()> = Mutex::new(());
    let _setup = SETUP.lock().unwrap_or_else(|e| e.into_inner());
    if !ready() && Command::new("npm").arg("--version").output().is_ok() {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.ci/npm-fixture-setup.sh");
        let status = Command::new("bash")
            .arg(&script)
            .env("SWISS_NPM_FIXTURE", &dir)
            .stdout(std::process::Stdio::null())
            .status();
        eprintln!("{test}: ran .ci/npm-fixture-setup.sh for the TypeScript fixture: {status:?}");
    }
    if ready() {
        return Some(modules.canonicalize().unwrap_or(modules));
    }
    let why = format!(
        "the npm packages of the TypeScript fixture are not in {} (run `bash .ci/npm-fixture-setup.sh`)",
        modules.display()
    );
    skip_unless_required("SWISS_REQUIRE_NODE", test, &why);
    None
}
