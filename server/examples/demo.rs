//! Swiss's main job end to end on a machine without a GPU: a small Python repository with a real
//! bug, a stand-in model (the scripted OpenAI-compatible server the tests use, on 127.0.0.1) that
//! answers like SWE-Swiss would, and the real `swiss fix` with verification in the local sandbox.
//! Run with `cargo run --release --example demo`; add `-- --json` or other `swiss fix` flags.
//!
//! Its point is the verification (the majority patch breaks a test, the right one is written
//! once), which runs the repository's tests with pytest: without a `python3` that imports pytest
//! it makes a private venv with pytest under cargo's target directory first, or stops and says
//! what to install, rather than run with no regression filter.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, ExitCode};

use swiss_testkit::pytest_venv::{target_dir, PytestVenv, VENV_DIR};
use swiss_testkit::{calc, ScriptedBackend};

fn main() -> ExitCode {
    let python = match pytest_interpreter() {
        Ok(python) => python,
        Err(line) => {
            say(&line);
            return ExitCode::from(2);
        }
    };
    let repo = calc::repo();
    if let Some(python) = python {
        // Untracked, so the snapshot leaves it out; it is how a user names a project's venv.
        let path = toml::Value::String(python.display().to_string());
        repo.write("swiss.toml", &format!("[test]\npython = {path}\n"));
    }
    let issue = repo.path().join(".git").join("demo-issue.md");
    if let Err(e) = std::fs::write(&issue, calc::ISSUE) {
        say(&format!("failed to write the issue: {e}"));
        return ExitCode::from(2);
    }
    let backend = ScriptedBackend::start_in_background(calc::verification_script());
    let url = backend.base_url();
    let mut args: Vec<String> = ["swiss", "fix", "--repo"].map(String::from).to_vec();
    args.push(repo.path().display().to_string());
    args.extend(["--issue".to_owned(), issue.display().to_string()]);
    args.extend([
        "--backend-url".to_owned(),
        url,
        "--samples".to_owned(),
        "6".to_owned(),
    ]);
    // The fixture is a temporary repository, gone when the demo ends: a job kept in its git
    // dir would be lost, and "kept the job in …" would promise what no editor can list.
    args.extend([
        "--sandbox".to_owned(),
        "local".to_owned(),
        "--no-keep".to_owned(),
    ]);
    args.extend(std::env::args().skip(1));
    swiss::cli::main_from(args)
}

/// `None` when `python3` imports pytest; else the interpreter of the private venv with pytest,
/// made on first use. The error is one line saying what to install.
fn pytest_interpreter() -> Result<Option<PathBuf>, String> {
    match Command::new("python3").args(["-c", "import pytest"]).output() {
        Ok(out) if out.status.success() => return Ok(None),
        Ok(_) => {}
        Err(e) => {
            return Err(format!(
                "failed to run python3 ({e}), which runs the demo repository's tests: install it (on Debian or Ubuntu `apt-get install python3 python3-venv`)"
            ))
        }
    }
    let dir = target_dir()?.join(VENV_DIR);
    say(&format!(
        "python3 has no pytest: the demo's tests run with a private venv at {} (made once with `python3 -m venv` and `pip install pytest`)",
        dir.display()
    ));
    PytestVenv::ensure(&dir)
        .map(|venv| Some(venv.python()))
        .map_err(|line| {
            format!("{line} (or install pytest for python3: `apt-get install python3-pytest` on Debian or Ubuntu, `python3 -m pip install pytest` elsewhere)")
        })
}

fn say(line: &str) {
    let _ = writeln!(std::io::stderr(), "demo: {line}");
}
