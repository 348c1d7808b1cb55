//! Running the built `swiss fix` in tests: a clean environment and its output read back.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

/// `swiss fix --repo REPO ARGS…`, blind to the developer's own Swiss settings and tokens, with
/// the tests' pytest venv first on PATH like an activated venv: the fixtures' detected test
/// command, `python3 -m pytest`, then works on a machine whose own python3 has no pytest.
pub fn swiss_fix(repo: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_swiss"));
    cmd.arg("fix").arg("--repo").arg(repo).args(args);
    cmd.env("PATH", swiss_testkit::pytest_venv().path_env());
    for var in [
        "SWISS_BACKEND_URL",
        "SWISS_MODEL",
        "SWISS_API_KEY",
        "SWISS_LOG",
        "GITHUB_TOKEN",
        "GITLAB_TOKEN",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// Writes `text` as `issue.md` in `dir` and returns its path.
pub fn write_issue(dir: &Path, text: &str) -> String {
    let path = dir.join("issue.md");
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The one JSON object `--json` prints on stdout, on every exit.
pub fn stdout_json(output: &Output) -> Value {
    assert!(
        !output.stdout.is_empty(),
        "--json printed nothing on stdout (exit {:?}); stderr:\n{}",
        output.status.code(),
        stderr(output)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON object ({e}):\n{stdout}\nstderr:\n{}",
            stderr(output)
        )
    })
}
