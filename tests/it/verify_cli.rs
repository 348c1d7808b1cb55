//! `swiss fix` with verification, end to end in both sandboxes: the majority patch breaks a test
//! that passed before, the runner-up passes the old tests but not the reproduction test, and the
//! right patch, written once, must win.

use std::path::Path;
use std::process::Command;

use serde_json::Value;
use swiss_testkit::calc;
use swiss_testkit::{PromptKind, ScriptedBackend};

use crate::cli_support::{stderr, stdout_json, swiss_fix, write_issue};
use crate::docker_env::docker_test_image;

/// `swiss fix --json` on the calc issue with 6 samples from `backend`, plus `extra` flags.
fn fix_command(repo: &Path, issue: &str, backend: &ScriptedBackend, extra: &[&str]) -> Command {
    let url = backend.base_url();
    let mut args = vec![
        "--issue",
        issue,
        "--backend-url",
        &url,
        "--samples",
        "6",
        "--json",
    ];
    args.extend_from_slice(extra);
    swiss_fix(repo, &args)
}

fn run_fix(repo: &Path, backend: &ScriptedBackend, extra: &[&str]) -> (Option<i32>, Value, String) {
    run_fix_with_env(repo, backend, extra, &[])
}

fn run_fix_with_env(
    repo: &Path,
    backend: &ScriptedBackend,
    extra: &[&str],
    env: &[(&str, &str)],
) -> (Option<i32>, Value, String) {
    let issues = tempfile::tempdir().unwrap();
    let issue = write_issue(issues.path(), calc::ISSUE);
    let output = fix_command(repo, &issue, backend, extra)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let stderr = stderr(&output);
    let json = stdout_json(&output);
    (output.status.code(), json, stderr)
}

fn candidate_with<'a>(json: &'a Value, patch_line: &str) -> &'a Value {
    json["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["patch"].as_str().unwrap().contains(patch_line))
        .unwrap_or_else(|| panic!("no candidate adds {patch_line:?}: {json:#}"))
}

fn assert_verified_choice(code: Option<i32>, json: &Value, stderr: &str, sandbox: &str) {
    assert_eq!(code, Some(0), "stderr: {stderr}");
    let right = candidate_with(json, "+    return a / b\n");
    let breaks = candidate_with(json, "+    return a / b if b else 0.0\n");
    let keeps = candidate_with(json, "+    return sum(values) / len(values)\n");

    assert_eq!(breaks["votes"], 3);
    assert_eq!(breaks["regression_failures"], 1, "{json:#}");
    assert_eq!(breaks["filtered_out"], true);
    assert_eq!(keeps["votes"], 2);
    assert_eq!(keeps["regression_failures"], 0);
    assert_eq!(keeps["reproduced"], true, "the bug is still there with it");
    assert_eq!(keeps["filtered_out"], true);
    assert_eq!(right["votes"], 1);
    assert_eq!(right["regression_failures"], 0);
    assert_eq!(right["reproduced"], false);
    assert_eq!(right["selected"], true);
    assert_eq!(json["winner"], right["id"]);
    // Each loser says why, in data; the winner passed every check, so its band stands as is.
    assert_eq!(
        breaks["reasons"],
        serde_json::json!([{"kind": "breaks-tests", "count": 1,
                            "tests": ["tests/test_ops.py::OpsTest::test_divide_by_zero"]}]),
        "{json:#}"
    );
    assert_eq!(
        keeps["reasons"],
        serde_json::json!([{"kind": "still-reproduced"}]),
        "{json:#}"
    );
    assert_eq!(right["reasons"], serde_json::json!([]));
    let confidence = &json["confidence"];
    assert_eq!(
        (confidence["votes"].as_u64(), confidence["samples"].as_u64()),
        (Some(1), Some(6))
    );
    assert_eq!(confidence["band"], "low", "{json:#}");
    assert_eq!(confidence["caveats"], serde_json::json!([]), "{json:#}");

    let verification = &json["verification"];
    assert_eq!(verification["sandbox"], sandbox);
    assert_eq!(
        verification["test_command"],
        "python3 -m pytest -rA -v -p no:cacheprovider"
    );
    assert_eq!(
        verification["baseline"]["passed"], 3,
        "test_add, test_divide_by_zero, test_divide_exact"
    );
    assert_eq!(
        verification["baseline"]["failed"], 2,
        "test_divide_fraction and test_mean fail before any change"
    );
    // 40 reproduction samples by default (SWE-Swiss's count): the scripted model cycles through
    // its four answers, one of them prose, so 30 hold a script; they are two distinct scripts
    // once normalized, and each runs once on the baseline.
    assert_eq!(verification["reproduction"]["generated"], 30);
    assert_eq!(verification["reproduction"]["baseline_runs"], 2);
    assert_eq!(
        verification["reproduction"]["chosen_index"], 1,
        "two votes (one reformatted) beat the early wrong script"
    );
    // A completed run holds its results directly, never wrapped in `Ok`.
    let broken = &verification["candidates"][breaks["id"].to_string()]["broken"];
    assert_eq!(
        broken,
        &serde_json::json!(["tests/test_ops.py::OpsTest::test_divide_by_zero"]),
        "{verification:#}"
    );
}

#[test]
fn without_verification_the_majority_wins() {
    let repo = calc::repo();
    let backend = ScriptedBackend::start_in_background(calc::verification_script());
    let (code, json, stderr) = run_fix(repo.path(), &backend, &["--sandbox", "none"]);
    assert_eq!(code, Some(0), "{stderr}");
    let winner = &json["candidates"][0];
    assert!(
        winner["patch"]
            .as_str()
            .unwrap()
            .contains("return a / b if b else 0.0"),
        "{json:#}"
    );
    assert_eq!(json["verification"], Value::Null);
    assert!(backend
        .requests()
        .iter()
        .all(|r| r.kind != PromptKind::Reproduce));
}

#[test]
fn local_sandbox_picks_the_only_verified_patch() {
    let repo = calc::repo();
    let before = repo.contents();
    let backend = ScriptedBackend::start_in_background(calc::verification_script());
    let (code, json, stderr) = run_fix(repo.path(), &backend, &["--sandbox", "local"]);
    assert_verified_choice(code, &json, &stderr, "local");
    assert_eq!(
        repo.contents(),
        before,
        "verification never touches the user's tree"
    );
}

#[test]
fn docker_sandbox_picks_the_only_verified_patch() {
    let Some(image) = docker_test_image() else {
        return;
    };
    let repo = calc::repo();
    let before = repo.contents();
    let backend = ScriptedBackend::start_in_background(calc::verification_script());
    let (code, json, stderr) = run_fix(
        repo.path(),
        &backend,
        &["--sandbox", "docker", "--image", &image],
    );
    assert_verified_choice(code, &json, &stderr, "docker");
    assert_eq!(json["verification"]["image"], image.as_str());
    assert_eq!(repo.contents(), before);
}

#[test]
fn auto_without_an_image_warns_and_tests_locally() {
    let repo = calc::repo();
    let backend = ScriptedBackend::start_in_background(calc::verification_script());
    let (code, json, stderr) = run_fix(repo.path(), &backend, &[]);
    assert!(
        stderr.contains("swiss: warning: no sandbox.image set; testing candidates locally"),
        "{stderr}"
    );
    assert_verified_choice(code, &json, &stderr, "local");
}

#[test]
fn no_reproduction_falls_back_to_the_regression_filter() {
    let repo = calc::repo();
    let backend = ScriptedBackend::start_in_background(calc::verification_script());
    let (code, json, stderr) = run_fix(
        repo.path(),
        &backend,
        &["--sandbox", "local", "--no-reproduction"],
    );
    assert_eq!(code, Some(0), "{stderr}");
    // Without the reproduction filter the two regression-clean candidates remain, and the
    // wrong one has more votes.
    let keeps = candidate_with(&json, "+    return sum(values) / len(values)\n");
    assert_eq!(keeps["selected"], true, "{json:#}");
    assert_eq!(keeps["reproduced"], Value::Null);
    assert!(backend
        .requests()
        .iter()
        .all(|r| r.kind != PromptKind::Reproduce));
}

#[test]
fn apply_after_verification_makes_the_repos_tests_pass() {
    let repo = calc::repo();
    let backend = ScriptedBackend::start_in_background(calc::verification_script());
    let (code, _, stderr) = run_fix(repo.path(), &backend, &["--sandbox", "local", "--apply"]);
    assert_eq!(code, Some(0), "{stderr}");
    let pytest = Command::new(swiss_testkit::pytest_venv().python())
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
        .current_dir(repo.path())
        .output()
        .unwrap();
    assert!(
        pytest.status.success(),
        "{}",
        String::from_utf8_lossy(&pytest.stdout)
    );
}

#[test]
fn no_valid_candidate_does_not_wait_for_the_baseline() {
    let repo = calc::repo();
    let backend = ScriptedBackend::start_in_background(
        swiss_testkit::Script::new()
            .answer(PromptKind::Localize, [calc::LOCALIZE_ANSWER])
            .answer(PromptKind::Repair, [calc::PROSE, calc::NOT_FOUND])
            .answer(PromptKind::Reproduce, [calc::REPRODUCE_SCRIPT]),
    );
    let started = std::time::Instant::now();
    let (code, json, stderr) = run_fix(
        repo.path(),
        &backend,
        &["--sandbox", "local", "--test-cmd", "sleep 60"],
    );
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(json["winner"], Value::Null);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "took {:?}: the job waited for a baseline it could not use",
        started.elapsed()
    );
}

/// Starts `swiss fix` whose test command sleeps, waits until `running` says a test run is under
/// way, interrupts it like Ctrl-C does, and returns its exit code and how long it took to exit.
fn interrupt_during_tests(
    repo: &Path,
    extra: &[&str],
    running: &dyn Fn() -> bool,
) -> (Option<i32>, std::time::Duration) {
    let backend = ScriptedBackend::start_in_background(calc::verification_script());
    let issues = tempfile::tempdir().unwrap();
    let issue = write_issue(issues.path(), calc::ISSUE);
    let mut child = fix_command(repo, &issue, &backend, extra)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !running() {
        assert!(std::time::Instant::now() < deadline, "no test run started");
        assert!(
            child.try_wait().unwrap().is_none(),
            "swiss exited before its tests ran"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let interrupted = std::time::Instant::now();
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("cancelled; nothing was changed"),
        "{stderr}"
    );
    let json = stdout_json(&output);
    assert_eq!(json["status"], "error");
    assert_eq!(json["error"]["kind"], "cancelled");
    assert_eq!(json["error"]["reason"], "user");
    (output.status.code(), interrupted.elapsed())
}

fn pgrep(pattern: &str) -> bool {
    Command::new("pgrep")
        .args(["-f", pattern])
        .output()
        .unwrap()
        .status
        .success()
}

#[test]
fn ctrl_c_kills_the_local_test_run() {
    let repo = calc::repo();
    let before = repo.contents();
    let marker = format!("sleep 7{}.25", std::process::id());
    // Anchored: swiss's own command line holds the marker too, and must not count as the run.
    let running = format!("^{}$", marker.replace('.', "\\."));
    let (code, took) = interrupt_during_tests(
        repo.path(),
        &["--sandbox", "local", "--test-cmd", &marker],
        &|| pgrep(&running),
    );
    assert_eq!(code, Some(130));
    assert!(took < std::time::Duration::from_secs(5), "took {took:?}");
    assert!(!pgrep(&running), "the test run outlived swiss");
    assert_eq!(repo.contents(), before);
}

#[test]
fn ctrl_c_removes_the_containers_and_the_job_image() {
    let Some(image) = docker_test_image() else {
        return;
    };
    // An image of this test's own, so that its descendants are told apart from those of tests
    // running in parallel.
    let docker = |args: &[&str]| {
        let out = Command::new("docker").args(args).output().unwrap();
        assert!(
            out.status.success(),
            "docker {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    let tag = format!("swiss-test-ctrl-c:{}", std::process::id());
    let container = docker(&[
        "create",
        "--label",
        &format!("swiss.test={tag}"),
        &image,
        "true",
    ]);
    docker(&["commit", &container, &tag]);
    docker(&["rm", &container]);
    let own_id = docker(&["image", "inspect", "--format", "{{.Id}}", &tag]);

    let descendants = || {
        let containers = docker(&["ps", "-aq", "--filter", &format!("ancestor={own_id}")]);
        let images = docker(&[
            "images",
            "-q",
            "--no-trunc",
            "--filter",
            "label=swiss.managed=1",
        ]);
        let job_images: Vec<String> = images
            .lines()
            .filter(|id| docker(&["image", "inspect", "--format", "{{.Parent}}", id]) == own_id)
            .map(str::to_owned)
            .collect();
        (containers, job_images)
    };
    let repo = calc::repo();
    let (code, took) = interrupt_during_tests(
        repo.path(),
        &[
            "--sandbox",
            "docker",
            "--image",
            &tag,
            "--test-cmd",
            "sleep 60",
        ],
        // Both seen, so that the check after the interrupt could see them too.
        &|| {
            let (containers, job_images) = descendants();
            !containers.is_empty() && !job_images.is_empty()
        },
    );
    assert_eq!(code, Some(130));
    assert!(took < std::time::Duration::from_secs(15), "took {took:?}");
    let (containers, job_images) = descendants();
    docker(&["rmi", &tag]);
    assert_eq!(containers, "", "containers left behind");
    assert!(
        job_images.is_empty(),
        "job images left behind: {job_images:?}"
    );
}

#[test]
fn the_next_job_removes_what_a_killed_swiss_left_in_docker() {
    let Some(image) = docker_test_image() else {
        return;
    };
    let backend = ScriptedBackend::start_in_background(calc::verification_script());
    let issues = tempfile::tempdir().unwrap();
    let issue = write_issue(issues.path(), calc::ISSUE);
    let repo = calc::repo();
    let mut child = fix_command(
        repo.path(),
        &issue,
        &backend,
        &[
            "--sandbox",
            "docker",
            "--image",
            &image,
            "--test-cmd",
            "sleep 60",
        ],
    )
    .stdout(std::process::Stdio::null())
    .stderr(std::process::Stdio::null())
    .spawn()
    .unwrap();
    let owner = format!("label=swiss.pid={}", child.id());
    let docker = |args: &[&str]| {
        let out = Command::new("docker").args(args).output().unwrap();
        assert!(out.status.success(), "docker {args:?}");
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    let left = || {
        (
            docker(&["ps", "-aq", "--filter", &owner]),
            docker(&["images", "-q", "--filter", &owner]),
        )
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let (containers, images) = left();
        if !containers.is_empty() && !images.is_empty() {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no test run started");
        assert!(
            child.try_wait().unwrap().is_none(),
            "swiss exited before its tests ran"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    // No handler runs on SIGKILL: the running container and the job image stay behind. (Not
    // checked here: a Docker job of a test running in parallel may already have removed them.)
    child.kill().unwrap();
    child.wait().unwrap();

    let (code, json, stderr) = run_fix(
        repo.path(),
        &backend,
        &["--sandbox", "docker", "--image", &image],
    );
    assert_verified_choice(code, &json, &stderr, "docker");
    assert_eq!(
        left(),
        (String::new(), String::new()),
        "the killed job's leftovers"
    );
}

#[test]
fn test_output_past_the_cap_is_said_and_the_cap_is_a_setting() {
    // 3 MiB of noise before pytest's own lines.
    let noisy = "python3 -c \"import sys; sys.stdout.write('.' * (3 << 20))\"; python3 -m pytest -rA -v -p no:cacheprovider";
    let backend = ScriptedBackend::start_in_background(calc::verification_script());
    let run = |limit_mb: u32| {
        let repo = calc::repo();
        repo.write(
            "swiss.toml",
            &format!("[sandbox]\noutput_limit_mb = {limit_mb}\n"),
        );
        run_fix(
            repo.path(),
            &backend,
            &[
                "--sandbox",
                "local",
                "--test-cmd",
                noisy,
                "--no-reproduction",
            ],
        )
    };

    let (code, json, stderr) = run(1);
    assert!(
        stderr
            .contains("the baseline's test output passed the 1 MiB cap (sandbox.output_limit_mb)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("passed the 1 MiB cap (sandbox.output_limit_mb): regression tests"),
        "{stderr}"
    );
    let baseline = &json["verification"]["baseline"];
    assert_eq!(baseline["output_truncated"], true, "{baseline:#}");
    assert_eq!(
        baseline["passed"], 0,
        "pytest's lines were past the cap: {baseline:#}"
    );
    assert!(code.is_some(), "{stderr}");

    let (code, json, stderr) = run(8);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(!stderr.contains("MiB cap"), "{stderr}");
    let baseline = &json["verification"]["baseline"];
    assert_eq!(baseline["output_truncated"], false, "{baseline:#}");
    assert_eq!(baseline["passed"], 3, "{baseline:#}");
    let breaks = candidate_with(&json, "+    return a / b if b else 0.0\n");
    assert_eq!(breaks["regression_failures"], 1, "{json:#}");
}

/// Emptying the test file makes every regression test vanish: missing counts as failing.
const DELETES_TESTS: &str = "```python\n### tests/test_ops.py\n<<<<<<< SEARCH\nclass OpsTest(unittest.TestCase):\n    def test_add(self):\n        self.assertEqual(add(2, 3), 5)\n=======\nclass OpsTest(unittest.TestCase):\n    pass\n\n\nclass Removed:\n    def test_add(self):\n        self.assertEqual(add(2, 3), 5)\n>>>>>>> REPLACE\n```\n";

#[test]
fn a_patch_that_removes_tests_counts_them_as_failures() {
    let repo = calc::repo();
    let backend = ScriptedBackend::start_in_background(
        swiss_testkit::Script::new()
            .answer(PromptKind::Localize, [calc::LOCALIZE_ANSWER])
            .answer(
                PromptKind::Repair,
                [
                    DELETES_TESTS,
                    DELETES_TESTS,
                    calc::FIX_A,
                    DELETES_TESTS,
                    calc::PROSE,
                    calc::PROSE,
                ],
            )
            .answer(PromptKind::Reproduce, [calc::REPRODUCE_SCRIPT]),
    );
    let (code, json, stderr) = run_fix(repo.path(), &backend, &["--sandbox", "local"]);
    assert_eq!(code, Some(0), "{stderr}");
    let cheat = candidate_with(&json, "+    pass\n");
    assert_eq!(cheat["votes"], 3);
    assert_eq!(cheat["regression_failures"], 3, "{json:#}");
    assert_eq!(cheat["filtered_out"], true);
    let right = candidate_with(&json, "+    return a / b\n");
    assert_eq!(right["selected"], true);
}

#[test]
fn auto_falls_back_to_local_when_no_docker_engine_answers() {
    let repo = calc::repo();
    let backend = ScriptedBackend::start_in_background(calc::verification_script());
    let (code, json, stderr) = run_fix_with_env(
        repo.path(),
        &backend,
        &["--image", "swiss-python:ci"],
        &[("DOCKER_HOST", "unix:///nonexistent/docker.sock")],
    );
    assert!(
        stderr.contains("swiss: warning: no Docker engine answered"),
        "{stderr}"
    );
    assert_verified_choice(code, &json, &stderr, "local");

    // Asked for Docker by name, the same engine failure is an error, not a silent fallback.
    let (code, json, stderr) = run_fix_with_env(
        repo.path(),
        &backend,
        &["--sandbox", "docker", "--image", "swiss-python:ci"],
        &[("DOCKER_HOST", "unix:///nonexistent/docker.sock")],
    );
    assert_eq!(code, Some(2), "{stderr} {json}");
    assert!(
        stderr.contains("failed to reach the Docker engine"),
        "{stderr}"
    );
}

/// A stand-in for a project venv: untracked, as venvs are, and telling the scripts it ran them.
const VENV_PYTHON: &str = "#!/bin/sh\nexport SWISS_TEST_VENV=yes\nexec python3 \"$@\"\n";

/// Prints "Issue reproduced" only when run by the venv's interpreter.
const REPRODUCE_IN_VENV: &str = "```python\nimport os\nfrom calc.ops import divide\n\nif os.environ.get(\"SWISS_TEST_VENV\") != \"yes\":\n    print(\"Other issues\")\nelif divide(7, 2) == 3:\n    print(\"Issue reproduced\")\nelse:\n    print(\"Issue resolved\")\n```\n";

#[test]
fn the_projects_venv_runs_the_tests_and_the_reproduction_script() {
    use std::os::unix::fs::PermissionsExt;
    let repo = calc::repo();
    repo.write(".venv/bin/python", VENV_PYTHON);
    let python = repo.file(".venv/bin/python");
    std::fs::set_permissions(&python, std::fs::Permissions::from_mode(0o755)).unwrap();
    repo.write("swiss.toml", "[test]\npython = \".venv/bin/python\"\n");
    let backend = ScriptedBackend::start_in_background(
        swiss_testkit::Script::new()
            .answer(PromptKind::Localize, [calc::LOCALIZE_ANSWER])
            .answer(PromptKind::Repair, [calc::FIX_A, calc::WRONG_KEEPS_BUG])
            .answer(PromptKind::Reproduce, [REPRODUCE_IN_VENV]),
    );
    let (code, json, stderr) = run_fix(repo.path(), &backend, &["--sandbox", "local"]);
    assert_eq!(code, Some(0), "{stderr}");
    let verification = &json["verification"];
    assert_eq!(
        verification["test_command"],
        format!("{} -m pytest -rA -v -p no:cacheprovider", python.display()),
    );
    assert_eq!(verification["baseline"]["passed"], 3, "{verification:#}");
    assert_eq!(
        verification["reproduction"]["chosen_index"], 0,
        "{verification:#}"
    );
    let right = candidate_with(&json, "+    return a / b\n");
    assert_eq!(right["reproduced"], false);
    assert_eq!(right["selected"], true);
}

#[test]
fn record_keeps_every_sample_and_verdict() {
    let repo = calc::repo();
    let backend = ScriptedBackend::start_in_background(calc::verification_script());
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("job.json");
    let (code, json, stderr) = run_fix(
        repo.path(),
        &backend,
        &["--sandbox", "local", "--record", record.to_str().unwrap()],
    );
    assert_eq!(code, Some(0), "{stderr}");
    let saved: Value = serde_json::from_slice(&std::fs::read(&record).unwrap()).unwrap();
    let samples = saved["samples"].as_array().unwrap();
    assert_eq!(samples.len(), 6);
    assert_eq!(samples[3]["raw"], calc::FIX_A);
    assert_eq!(samples[3]["edits"][0]["path"], "calc/ops.py");
    assert_eq!(samples[3]["key"], json["candidates"][0]["key"]);
    assert_eq!(
        saved["localization"]["samples"].as_array().unwrap().len(),
        4
    );
    assert_eq!(saved["verification"]["reproduction"]["chosen_index"], 1);
    assert!(saved["ranking"]["winner"].is_u64());
    assert_eq!(
        saved["confidence"], json["confidence"],
        "the record keeps the confidence --json shows"
    );
    assert_eq!(saved["confidence"]["band"], "low");
}

#[test]
fn a_test_command_that_runs_no_test_is_said_and_turns_the_regression_filter_off() {
    let repo = calc::repo();
    let backend = ScriptedBackend::start_in_background(calc::verification_script());
    let flags = [
        "--sandbox",
        "local",
        "--test-cmd",
        "python3 -m nonexistent_module",
        "--no-reproduction",
    ];
    let (code, json, stderr) = run_fix(repo.path(), &backend, &flags);
    assert_eq!(code, Some(0), "{stderr}");
    let python = swiss_testkit::pytest_venv().python();
    let line = format!(
        "the baseline test run did not run any test: {}: No module named nonexistent_module — install nonexistent_module in the interpreter test.python names (python3: `python3 -m pip install nonexistent_module`), or set test.command",
        python.display()
    );
    assert_eq!(json["verification"]["baseline"]["error"], line.as_str());
    assert_eq!(json["verification"]["baseline"]["passed"], 0);
    let warnings: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("did not run any test"))
        .collect();
    assert_eq!(
        warnings,
        [format!(
            "swiss: warning: {line}; the regression filter is off: no candidate is regression-checked"
        )],
        "one line says it: {stderr}"
    );
    assert!(!stderr.contains("\"exit_code\""), "no JSON dump: {stderr}");

    // No candidate is regression-checked, so none is filtered out on regressions: with the
    // reproduction test off, the majority wins although it breaks a test.
    for candidate in json["candidates"].as_array().unwrap() {
        assert_eq!(candidate["regression_failures"], Value::Null, "{json:#}");
        assert_eq!(candidate["filtered_out"], false, "{json:#}");
    }
    let majority = candidate_with(&json, "+    return a / b if b else 0.0\n");
    assert_eq!(majority["selected"], true, "{json:#}");

    // Without --json the report says so next to the winner.
    let issues = tempfile::tempdir().unwrap();
    let issue = write_issue(issues.path(), calc::ISSUE);
    let url = backend.base_url();
    let mut args = vec![
        "--issue",
        issue.as_str(),
        "--backend-url",
        &url,
        "--samples",
        "6",
    ];
    args.extend_from_slice(&flags);
    let output = swiss_fix(repo.path(), &args).output().unwrap();
    let human_stderr = crate::cli_support::stderr(&output);
    assert_eq!(output.status.code(), Some(0), "{human_stderr}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains(&format!(
            "Candidate {} was not regression-checked: {line}",
            majority["id"]
        )),
        "{stdout}"
    );
    assert!(
        !human_stderr.contains("swiss: baseline:"),
        "no regression set is announced: {human_stderr}"
    );
}

/// Scripts that import the project, run by an interpreter that is not the project's.
const NOT_THE_PROJECTS_PYTHON: &str = "#!/bin/sh\nexec python3 -I \"$@\"\n";

#[test]
fn reproduction_scripts_that_cannot_import_the_project_are_said_and_not_used() {
    use std::os::unix::fs::PermissionsExt;
    let repo = calc::repo();
    // `-I` ignores PYTHONPATH, so `calc` does not import, as with a venv the project is not in.
    // The 30 scripts of the 40 samples are 2 distinct ones, each run once.
    repo.write(".venv/bin/python", NOT_THE_PROJECTS_PYTHON);
    std::fs::set_permissions(
        repo.file(".venv/bin/python"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    repo.write("swiss.toml", "[test]\npython = \".venv/bin/python\"\n");
    let backend = ScriptedBackend::start_in_background(calc::verification_script());
    let (code, json, stderr) = run_fix(
        repo.path(),
        &backend,
        &[
            "--sandbox",
            "local",
            "--test-cmd",
            "python3 -m pytest -rA -v -p no:cacheprovider",
        ],
    );
    assert_eq!(code, Some(0), "{stderr}");
    let line = format!(
        "the reproduction scripts could not import the project: all 2 failed with `ModuleNotFoundError: No module named 'calc'` under {} — set test.python to the interpreter where the project and its dependencies are installed (its venv); candidates are not checked by a reproduction test",
        repo.file(".venv/bin/python").display()
    );
    assert!(
        stderr.contains(&format!("swiss: warning: {line}\n")),
        "{stderr}"
    );
    let reproduction = &json["verification"]["reproduction"];
    assert_eq!(reproduction["note"], line.as_str(), "{reproduction:#}");
    assert_eq!(reproduction["chosen_index"], Value::Null);
    // The regression filter still works: of the two regression-clean candidates, the one with
    // more votes wins.
    assert_eq!(json["verification"]["baseline"]["passed"], 3);
    let keeps = candidate_with(&json, "+    return sum(values) / len(values)\n");
    assert_eq!(keeps["selected"], true, "{json:#}");
    assert_eq!(keeps["reproduced"], Value::Null);
}

/// A test that pins the bug: it passes before the fix and must fail with it.
const FLOOR_TEST: (&str, &str) = (
    "tests/test_floor.py",
    "from calc.ops import divide\n\n\ndef test_divide_floors():\n    assert divide(7, 2) == 3\n",
);
const FLOOR_TEST_ID: &str = "tests/test_floor.py::test_divide_floors";

/// The calc repository with [`FLOOR_TEST`], and a model that writes the keeps-the-bug patch
/// four times and the right fix twice, and names the floor test as one the fix may change
/// (unless `selection_fault` makes that request fail).
fn floor_test_job(
    swiss_toml: &str,
    selection_fault: Option<swiss_testkit::Fault>,
) -> (swiss_testkit::FixtureRepo, ScriptedBackend) {
    let mut files = calc::FILES.to_vec();
    files.push(FLOOR_TEST);
    let repo = swiss_testkit::FixtureRepo::with_files(&files);
    repo.write(
        "swiss.toml",
        &format!("[reproduction]\nsamples = 2\n{swiss_toml}"),
    );
    let mut script = swiss_testkit::Script::new();
    if let Some(fault) = selection_fault {
        script = script.fault_for(PromptKind::SelectRegression, fault);
    }
    let backend = ScriptedBackend::start_in_background(
        script
            .answer(PromptKind::Localize, [calc::LOCALIZE_ANSWER])
            .answer(
                PromptKind::Repair,
                [calc::WRONG_KEEPS_BUG, calc::WRONG_KEEPS_BUG, calc::FIX_A],
            )
            .answer(PromptKind::Reproduce, [calc::REPRODUCE_SCRIPT])
            .answer(
                PromptKind::SelectRegression,
                [format!(
                    "<think>The issue asks divide to stop flooring.</think>\n```\n{FLOOR_TEST_ID}\n```\n"
                )],
            ),
    );
    (repo, backend)
}

#[test]
fn a_test_the_model_expects_the_fix_to_change_does_not_count_against_it() {
    let (repo, backend) = floor_test_job("", None);
    let (code, json, stderr) = run_fix(repo.path(), &backend, &["--sandbox", "local"]);
    assert_eq!(code, Some(0), "{stderr}");
    let right = candidate_with(&json, "+    return a / b\n");
    let keeps = candidate_with(&json, "+    return sum(values) / len(values)\n");
    assert_eq!(right["regression_failures"], 0, "{json:#}");
    assert_eq!(right["selected"], true, "{json:#}");
    assert_eq!(keeps["votes"], 4);
    assert_eq!(keeps["filtered_out"], true);
    let verification = &json["verification"];
    assert_eq!(
        verification["excluded_tests"],
        serde_json::json!([FLOOR_TEST_ID])
    );
    assert_eq!(verification["baseline"]["passed"], 4, "{verification:#}");

    // One greedy request with a short answer, listing the passing tests and no other.
    let requests = backend.requests();
    let selections: Vec<_> = requests
        .iter()
        .filter(|r| r.kind == PromptKind::SelectRegression)
        .collect();
    assert_eq!(selections.len(), 1);
    let selection = selections[0];
    assert_eq!(selection.temperature, Some(0.0));
    assert_eq!(selection.max_tokens, Some(1024));
    assert_eq!(selection.n.unwrap_or(1), 1);
    let prompt = &selection.messages.last().unwrap().content;
    for test in [
        FLOOR_TEST_ID,
        "tests/test_ops.py::OpsTest::test_add",
        "tests/test_ops.py::OpsTest::test_divide_exact",
    ] {
        assert!(prompt.contains(test), "{test} is listed: {prompt}");
    }
    assert!(
        !prompt.contains("test_divide_fraction"),
        "a failing test is not listed: {prompt}"
    );
    // Its tokens are the job's too: every request's prompt, as the scripted server counts it.
    let sent: u64 = requests
        .iter()
        .map(|r| {
            let prompt: Vec<&str> = r.messages.iter().map(|m| m.content.as_str()).collect();
            swiss_testkit::scripted_backend::prompt_tokens(&prompt.join("\n"))
        })
        .sum();
    assert_eq!(json["usage"]["prompt_tokens"], sent, "{requests:#?}");

    // Without --json, the progress and the summary say which tests were left out.
    let issues = tempfile::tempdir().unwrap();
    let issue = write_issue(issues.path(), calc::ISSUE);
    let url = backend.base_url();
    let output = swiss_fix(
        repo.path(),
        &[
            "--issue",
            &issue,
            "--backend-url",
            &url,
            "--samples",
            "6",
            "--sandbox",
            "local",
        ],
    )
    .output()
    .unwrap();
    let human_stderr = crate::cli_support::stderr(&output);
    assert_eq!(output.status.code(), Some(0), "{human_stderr}");
    assert!(
        human_stderr.contains(&format!(
            "swiss: regression tests: 1 of 4 passing test(s) left out, the fix may change them: {FLOOR_TEST_ID}\n"
        )),
        "{human_stderr}"
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains(&format!(
            "  1 passing test(s) left out of the regression tests, the model expects the fix to change them: {FLOOR_TEST_ID}\n"
        )),
        "{stdout}"
    );
}

#[test]
fn without_the_exclusion_the_fix_that_changes_a_tested_behaviour_is_filtered_out() {
    let (repo, backend) = floor_test_job("[verification]\nexclude_tests = false\n", None);
    let (code, json, stderr) = run_fix(repo.path(), &backend, &["--sandbox", "local"]);
    assert_eq!(code, Some(0), "{stderr}");
    let right = candidate_with(&json, "+    return a / b\n");
    let keeps = candidate_with(&json, "+    return sum(values) / len(values)\n");
    assert_eq!(right["regression_failures"], 1, "{json:#}");
    assert_eq!(right["filtered_out"], true, "{json:#}");
    assert_eq!(keeps["selected"], true, "{json:#}");
    assert_eq!(
        json["verification"]["excluded_tests"],
        serde_json::json!([])
    );
    assert!(backend
        .requests()
        .iter()
        .all(|r| r.kind != PromptKind::SelectRegression));
}

#[test]
fn a_failed_selection_request_is_a_warning_and_excludes_nothing() {
    let fault = swiss_testkit::Fault::status(400, "the model is not loaded");
    let (repo, backend) = floor_test_job("", Some(fault));
    let (code, json, stderr) = run_fix(repo.path(), &backend, &["--sandbox", "local"]);
    assert_eq!(code, Some(0), "{stderr}");
    let warnings: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("which tests the fix may change"))
        .collect();
    assert_eq!(warnings.len(), 1, "{stderr}");
    assert!(
        warnings[0].starts_with(
            "swiss: warning: failed to ask the model which tests the fix may change ("
        ) && warnings[0].ends_with("): every passing test stays in the regression set"),
        "{stderr}"
    );
    assert_eq!(
        json["verification"]["excluded_tests"],
        serde_json::json!([])
    );
    let right = candidate_with(&json, "+    return a / b\n");
    assert_eq!(right["regression_failures"], 1, "{json:#}");
    assert_eq!(right["filtered_out"], true, "{json:#}");
}
