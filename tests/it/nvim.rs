//! The Neovim plugin (editors/nvim) in the real editor: headless Neovim 0.11+ starts the built
//! `swiss lsp` through the plugin, on a fixture repository with a real bug, against the scripted
//! backend. The checks themselves are Lua (editors/nvim/tests/e2e.lua), since they use Neovim's
//! own LSP client, diagnostics and UI hooks; this side builds the fixture and judges the exit
//! status.
//!
//! Neovim comes from $SWISS_NVIM, else PATH (.ci/nvim-setup.sh installs one). Without a usable
//! one these tests say "skipped" and pass, unless SWISS_REQUIRE_NVIM=1 makes that a failure.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use swiss_testkit::{calc, Script, ScriptedBackend};

use crate::docker_env::docker_test_image;
use crate::docker_hosts::local_engine;

/// Far above the few seconds a run takes, so that only a hang reaches it.
const NVIM_TIMEOUT: Duration = Duration::from_secs(120);

fn plugin_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../editors/nvim")
        .canonicalize()
        .expect("editors/nvim exists")
}

fn nvim_required() -> bool {
    crate::required::required("SWISS_REQUIRE_NVIM")
}

/// `NVIM v0.11.4` (or `v0.12.0-dev-…`) → (0, 11).
fn parse_version(first_line: &str) -> Option<(u32, u32)> {
    let version = first_line.strip_prefix("NVIM v")?;
    let mut parts = version.split(['.', '-']);
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

/// Neovim 0.11 or later, or why there is none.
fn find_nvim() -> Result<PathBuf, String> {
    let nvim = match std::env::var_os("SWISS_NVIM").filter(|v| !v.is_empty()) {
        Some(path) => PathBuf::from(path),
        None => std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
            .map(|dir| dir.join("nvim"))
            .find(|p| p.is_file())
            .ok_or("no nvim on PATH and SWISS_NVIM is not set")?,
    };
    let output = Command::new(&nvim)
        .arg("--version")
        .output()
        .map_err(|e| format!("failed to run {} --version: {e}", nvim.display()))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let first = stdout.lines().next().unwrap_or_default();
    match parse_version(first) {
        Some(v) if v >= (0, 11) => Ok(nvim),
        _ => Err(format!(
            "{} is {first:?}; the plugin needs Neovim 0.11 or later",
            nvim.display()
        )),
    }
}

fn nvim_or_skip(test: &str) -> Option<PathBuf> {
    match find_nvim() {
        Ok(nvim) => Some(nvim),
        Err(why) => {
            assert!(
                !nvim_required(),
                "SWISS_REQUIRE_NVIM=1 but {why} (run .ci/nvim-setup.sh and set SWISS_NVIM to the path it prints)"
            );
            #[allow(
                clippy::print_stderr,
                reason = "a skipped test says so where the test runner shows it"
            )]
            {
                eprintln!(
                    "skipped {test}: {why} (set SWISS_REQUIRE_NVIM=1 to make this a failure)"
                );
            }
            None
        }
    }
}

/// Runs Neovim, killing it at `NVIM_TIMEOUT`; the output says so when it had to.
fn run_with_timeout(mut cmd: Command) -> (Output, Duration) {
    let started = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("failed to start nvim");
    // Drained on threads: a full pipe would stall Neovim and look like a hang.
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = pipe.read_to_end(&mut buf);
            buf
        })
    };
    let stdout = drain(Box::new(child.stdout.take().expect("stdout")));
    let stderr = drain(Box::new(child.stderr.take().expect("stderr")));
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for nvim") {
            break status;
        }
        if started.elapsed() > NVIM_TIMEOUT {
            let _ = child.kill();
            break child.wait().expect("wait for killed nvim");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let elapsed = started.elapsed();
    let mut stderr = stderr.join().expect("stderr reader");
    if elapsed > NVIM_TIMEOUT {
        stderr.extend_from_slice(format!("\n[killed after {NVIM_TIMEOUT:?}]\n").as_bytes());
    }
    let output = Output {
        status,
        stdout: stdout.join().expect("stdout reader"),
        stderr,
    };
    (output, elapsed)
}

/// Runs one scenario of editors/nvim/tests/e2e.lua against the calc fixture and `script`, with
/// no sandbox (these are about the editor, not verification).
fn run_scenario(nvim: &Path, scenario: &str, script: Script) {
    run_scenario_with(nvim, scenario, script, json!({"kind": "none"}));
}

/// As `run_scenario`, the editor's `sandbox` settings given.
fn run_scenario_with(nvim: &Path, scenario: &str, script: Script, sandbox: Value) {
    let repo = calc::repo();
    let scratch = tempfile::tempdir().expect("temp dir");
    let issue = scratch.path().join("issue.md");
    std::fs::write(&issue, calc::ISSUE).expect("write the issue");
    let backend = ScriptedBackend::start_in_background(script);
    // What a user would put in setup{settings = …}: the backend, few samples, failures
    // reported at once.
    let settings = json!({
        "backend": {"urls": [backend.base_url()], "max_retries": 0, "timeout_secs": 10},
        "localize": {"samples": 1},
        "repair": {"samples": 8},
        "sandbox": sandbox,
    });
    let plugin = plugin_dir();
    let params = json!({
        "plugin": plugin,
        "swiss": env!("CARGO_BIN_EXE_swiss"),
        "repo": repo.path(),
        "issue": issue,
        "settings": settings,
        "scenario": scenario,
    });
    let params_file = scratch.path().join("params.json");
    std::fs::write(&params_file, params.to_string()).expect("write params");
    let home = scratch.path().join("home");

    let mut cmd = Command::new(nvim);
    cmd.args(["--headless", "--clean", "-i", "NONE", "-n", "-u"])
        .arg(plugin.join("tests/init.lua"))
        .arg("-c")
        .arg(format!(
            "luafile {}",
            plugin.join("tests/e2e.lua").display()
        ))
        .current_dir(repo.path())
        .env("SWISS_NVIM_TEST", &params_file)
        // Neovim's state (lsp.log among it) and any user config stay in the scratch folder.
        .env("HOME", &home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_STATE_HOME", home.join("state"))
        .env("XDG_CACHE_HOME", home.join("cache"));
    for var in [
        "SWISS_BACKEND_URL",
        "SWISS_MODEL",
        "SWISS_API_KEY",
        "SWISS_LOG",
        "NVIM",
        "VIMINIT",
    ] {
        cmd.env_remove(var);
    }
    let (output, elapsed) = run_with_timeout(cmd);
    let lsp_log = std::fs::read_to_string(home.join("state/nvim/lsp.log")).unwrap_or_default();
    assert!(
        output.status.success(),
        "nvim scenario {scenario} exited with {} after {elapsed:.1?}\n--- stdout\n{}\n--- stderr\n{}\n--- lsp.log\n{lsp_log}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
}

/// :SwissFix on the issue file, the winner diagnostic, hover (the raw answer and the built-in
/// window), :SwissCandidates with its diff preview, :SwissApply, then the buffer and the file,
/// and :checkhealth swiss.
#[test]
fn nvim_fix_hover_candidates_apply() {
    let Some(nvim) = nvim_or_skip("nvim_fix_hover_candidates_apply") else {
        return;
    };
    run_scenario(&nvim, "command", calc::script());
}

/// :SwissCancel on a running job, then the built-in vim.lsp.buf.code_action(): "Fix issue…"
/// (the plugin asks for the issue) and "Apply winning patch".
#[test]
fn nvim_cancel_and_code_actions() {
    let Some(nvim) = nvim_or_skip("nvim_cancel_and_code_actions") else {
        return;
    };
    // Slow enough that the cancel lands while the first job waits on the model.
    let script = calc::script().latency(Duration::from_millis(500));
    run_scenario(&nvim, "code_action", script);
}

/// A winner with a hunk in calc/fmt.py and one in calc/ops.py: :SwissCompare opens a diff
/// split of two candidates' calc/fmt.py, and :SwissApply {id} {hunk} applies calc/ops.py's hunk
/// alone.
#[test]
fn nvim_compare_and_apply_one_hunk() {
    let Some(nvim) = nvim_or_skip("nvim_compare_and_apply_one_hunk") else {
        return;
    };
    run_scenario(&nvim, "parts", calc::two_hunk_script());
}

/// A job, then the client stopped and a new server started on the same repository: the job
/// kept under .git/swiss/jobs comes back through swiss.jobs as the plugin's last job, and
/// :SwissCandidates and :SwissApply without a job id work on it.
#[test]
fn nvim_kept_job_after_a_restart() {
    let Some(nvim) = nvim_or_skip("nvim_kept_job_after_a_restart") else {
        return;
    };
    run_scenario(&nvim, "kept", calc::script());
}

/// :checkhealth swiss with two Docker hosts in the editor's settings, one of them not
/// answering: an error for that one with its slots, OK for the engine here with the image, and
/// the confinement report as before.
#[test]
fn nvim_checkhealth_docker_hosts() {
    let Some(nvim) = nvim_or_skip("nvim_checkhealth_docker_hosts") else {
        return;
    };
    let Some(image) = docker_test_image() else {
        return;
    };
    let sandbox = json!({
        "kind": "docker",
        "image": image,
        "concurrency": 2,
        "hosts": ["unix:///nonexistent/docker.sock=5", local_engine()],
    });
    run_scenario_with(&nvim, "health", calc::script(), sandbox);
}

/// The plugin's Lua unit tests (editors/nvim/tests/unit.lua), here so that CI runs them.
#[test]
fn nvim_lua_unit_tests() {
    let Some(nvim) = nvim_or_skip("nvim_lua_unit_tests") else {
        return;
    };
    let scratch = tempfile::tempdir().expect("temp dir");
    let mut cmd = Command::new(nvim);
    cmd.args(["--headless", "--clean", "-n", "-l"])
        .arg(plugin_dir().join("tests/unit.lua"))
        .current_dir(scratch.path())
        .env("XDG_STATE_HOME", scratch.path().join("state"));
    let (output, _) = run_with_timeout(cmd);
    assert!(
        output.status.success(),
        "editors/nvim/tests/unit.lua failed ({})\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
}

#[test]
fn nvim_version_lines() {
    assert_eq!(parse_version("NVIM v0.11.4"), Some((0, 11)));
    assert_eq!(parse_version("NVIM v0.12.0-dev-fbb1caf"), Some((0, 12)));
    assert_eq!(parse_version("VIM - Vi IMproved 9.0"), None);
}
