//! `swiss fix` end to end: the built binary, a fixture repository with a real bug, and the
//! scripted backend.

use std::path::Path;
use std::process::Command;

use serde_json::Value;
use swiss_testkit::calc;
use swiss_testkit::{Fault, FixtureRepo, PromptKind, Script, ScriptedBackend};

use crate::cli_support::{stderr, stdout_json, swiss_fix as swiss, write_issue};

/// The fixture's own tests, run the way its developers would: whether they passed, and what
/// they printed.
fn fixture_tests(repo: &Path) -> (bool, String) {
    let output = Command::new(swiss_testkit::pytest_venv().python())
        .args(["-m", "unittest", "discover", "-s", "tests", "-t", "."])
        .current_dir(repo)
        .output()
        .expect("the venv's python3 runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// `swiss fix --json` on `issue` with 8 samples from `backend` and no verification: the engine
/// alone.
fn fix_unverified(repo: &Path, issue: &str, backend: &ScriptedBackend) -> Command {
    swiss(
        repo,
        &[
            "--issue",
            issue,
            "--backend-url",
            &backend.base_url(),
            "--samples",
            "8",
            "--json",
            "--sandbox",
            "none",
        ],
    )
}

/// Retries kept short so that failure tests take milliseconds, not the default backoff.
fn fast_failing_config(repo: &FixtureRepo) {
    repo.write(
        "swiss.toml",
        "[backend]\nmax_retries = 1\ntimeout_secs = 5\n",
    );
}

#[test]
fn a_job_past_its_timeout_stops_with_the_reason_and_changes_nothing() {
    let repo = calc::repo();
    let issues = tempfile::tempdir().unwrap();
    let issue = write_issue(issues.path(), calc::ISSUE);
    // The model takes a minute over the repair samples; the job may take two seconds.
    let backend = ScriptedBackend::start_in_background(calc::script().fault_for(
        PromptKind::Repair,
        Fault::Delay(std::time::Duration::from_secs(60)),
    ));
    let before = repo.contents();
    let started = std::time::Instant::now();
    let output = fix_unverified(repo.path(), &issue, &backend)
        .args(["--timeout", "2", "--apply"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(130), "{}", stderr(&output));
    assert!(
        started.elapsed() < std::time::Duration::from_secs(30),
        "took {:?}",
        started.elapsed()
    );
    let json = stdout_json(&output);
    assert_eq!(json["status"], "error");
    assert_eq!(json["error"]["kind"], "cancelled");
    assert_eq!(json["error"]["reason"], "timeout");
    assert!(
        stderr(&output).contains("swiss: stopped after job.timeout_secs; nothing was changed"),
        "{}",
        stderr(&output)
    );
    assert_eq!(repo.contents(), before);
}

#[test]
fn json_picks_the_majority_fix_and_changes_nothing() {
    let repo = calc::repo();
    let issues = tempfile::tempdir().unwrap();
    let issue = write_issue(issues.path(), calc::ISSUE);
    let backend = ScriptedBackend::start_in_background(calc::script());
    let before = repo.contents();

    let output = fix_unverified(repo.path(), &issue, &backend)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "stderr: {}", stderr(&output));
    let json = stdout_json(&output);

    assert_eq!(json["issue"]["title"], "divide() floors its result");
    assert_eq!(json["localized_files"][0], "calc/ops.py");
    let candidates = json["candidates"].as_array().unwrap();
    assert_eq!(
        candidates.len(),
        2,
        "the three formattings of the fix are one candidate: {json:#}"
    );
    let winner = &candidates[0];
    assert_eq!(winner["selected"], true);
    assert_eq!(winner["votes"], 3);
    assert_eq!(winner["sample_indices"], serde_json::json!([0, 2, 4]));
    assert_eq!(json["winner"], winner["id"]);
    let patch = json["winner_patch"].as_str().unwrap();
    assert!(
        patch.contains("-    return a // b\n+    return a / b\n"),
        "{patch}"
    );
    assert!(
        patch.starts_with("diff --git a/calc/ops.py b/calc/ops.py\n"),
        "{patch}"
    );
    assert_eq!(winner["regression_failures"], Value::Null);
    assert_eq!(winner["reproduced"], Value::Null);
    let loser = &candidates[1];
    assert_eq!(
        (loser["votes"].as_u64(), loser["selected"].as_bool()),
        (Some(2), Some(false))
    );
    assert!(winner["score"].as_f64().unwrap() > loser["score"].as_f64().unwrap());
    // How far to trust it: 3 of the 8 samples is the reference's middle band, and nothing was
    // verified, which the caveat says. The runner-up says why it lost.
    let confidence = &json["confidence"];
    assert_eq!(
        (
            confidence["share"].as_f64(),
            confidence["band"].as_str(),
            confidence["resolve_rate"].as_f64()
        ),
        (Some(0.375), Some("medium"), Some(0.62)),
        "{json:#}"
    );
    assert!(
        confidence["source"]
            .as_str()
            .unwrap()
            .contains("github.com/zhenyuhe00/SWE-Swiss"),
        "{confidence}"
    );
    assert_eq!(
        confidence["caveats"],
        serde_json::json!([{"kind": "unverified"}])
    );
    assert_eq!(winner["reasons"], serde_json::json!([]));
    assert_eq!(
        loser["reasons"],
        serde_json::json!([
            {"kind": "never-verified"},
            {"kind": "fewer-votes", "votes": 2, "winner_votes": 3}
        ])
    );
    assert_eq!(json["samples"]["total"], 8);
    assert_eq!(json["samples"]["valid"], 5);
    assert!(json["usage"]["prompt_tokens"].as_u64().unwrap() > 0);

    assert_eq!(
        repo.contents(),
        before,
        "without --apply nothing in the repository changes"
    );
    assert!(!repo.path().parent().unwrap().join("outside.py").exists());

    let requests = backend.requests();
    let repair: Vec<_> = requests
        .iter()
        .filter(|r| r.kind == PromptKind::Repair)
        .collect();
    assert_eq!(
        repair.len(),
        1,
        "the 4 answers agree, so their contexts merge into one, asked for in one request"
    );
    assert_eq!(repair[0].n, Some(8));
    assert_eq!(repair[0].model.as_deref(), Some("SWE-Swiss-32B"));
    assert_eq!(
        (repair[0].temperature, repair[0].top_p),
        (Some(0.6), Some(0.95))
    );
    let prompt = repair[0].prompt();
    assert!(
        prompt.contains("--- BEGIN ISSUE ---\ndivide() floors its result"),
        "{prompt}"
    );
    assert!(
        prompt.contains("--- BEGIN FILE ---\n```\n### calc/ops.py\n"),
        "{prompt}"
    );
    assert!(
        prompt.ends_with("Wrap the *SEARCH/REPLACE* edit in blocks ```python...```."),
        "{prompt}"
    );
    // Every stage's requests: the reference's system message, and its max_tokens where the
    // server reports no context.
    for request in &requests {
        assert_eq!(
            request.system(),
            Some("You are a helpful assistant."),
            "{:?}",
            request.kind
        );
        assert_eq!(request.max_tokens, Some(32_768), "{:?}", request.kind);
    }
    let localize: Vec<_> = requests
        .iter()
        .filter(|r| r.kind == PromptKind::Localize)
        .collect();
    assert_eq!(localize[0].n, Some(4));
    let structure = localize[0].prompt();
    assert!(
        structure.contains("calc/\n    __init__.py\n    fmt.py\n    ops.py\n"),
        "{structure}"
    );
    assert!(
        !structure.contains("test_ops.py"),
        "test files are left out of the structure"
    );
}

#[test]
fn a_server_with_a_short_context_gets_a_smaller_max_tokens_and_the_user_is_told_once() {
    const CONTEXT: u64 = 16_384;
    let repo = calc::repo();
    let issues = tempfile::tempdir().unwrap();
    let issue = write_issue(issues.path(), calc::ISSUE);
    // Like a vLLM started with --max-model-len 16384 whose model list does not say so.
    let backend = ScriptedBackend::start_in_background(calc::script().context_window(CONTEXT));

    let output = fix_unverified(repo.path(), &issue, &backend)
        .output()
        .unwrap();
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(0), "stderr: {err}");
    assert_eq!(
        err.matches("the server's context is too short for max_tokens = 32768")
            .count(),
        1,
        "{err}"
    );

    // The localization request is refused once and asked again; from then on the endpoint's
    // context is known and the repair request fits the first time. The irrelevant-folders
    // question goes out beside the localization request, so it may be refused once too.
    let requests = backend.requests();
    let (folders, requests): (Vec<_>, Vec<_>) = requests
        .into_iter()
        .partition(|r| r.kind == PromptKind::IrrelevantFolders);
    let kinds: Vec<_> = requests.iter().map(|r| r.kind).collect();
    assert_eq!(
        kinds,
        [
            PromptKind::Localize,
            PromptKind::Localize,
            PromptKind::Repair
        ]
    );
    assert!((1..=2).contains(&folders.len()), "{}", folders.len());
    assert_eq!(requests[0].max_tokens, Some(32_768));
    let last_folders = folders.last().expect("an irrelevant-folders request");
    for request in requests[1..].iter().chain([last_folders]) {
        let max_tokens = request.max_tokens.expect("max_tokens is sent");
        assert!(max_tokens > 8_000 && max_tokens < CONTEXT, "{max_tokens}");
    }
}

#[test]
fn apply_writes_the_winner_and_the_repos_own_tests_pass() {
    let repo = calc::repo();
    let issues = tempfile::tempdir().unwrap();
    let issue = write_issue(issues.path(), calc::ISSUE);
    let backend = ScriptedBackend::start_in_background(calc::script());
    let (passed, log) = fixture_tests(repo.path());
    assert!(
        !passed && log.contains("FAIL: test_divide_fraction"),
        "the fixture's bug fails its tests: {log}"
    );
    assert!(log.contains("Ran 5 tests"), "{log}");

    let output = swiss(
        repo.path(),
        &[
            "--issue",
            &issue,
            "--backend-url",
            &backend.base_url(),
            "--samples",
            "8",
            "--apply",
        ],
    )
    .output()
    .unwrap();
    assert_eq!(output.status.code(), Some(0), "stderr: {}", stderr(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("Winning patch (candidate 1)"), "{stdout}");
    assert!(
        stdout.contains("\nConfidence medium: the winner holds 3 of 8 samples (38%)"),
        "{stdout}"
    );
    // Under the table, why the runner-up lost; and the reproduction test that could not be
    // written (the scripted model answers none) lowers what the band means.
    assert!(
        stdout.contains(
            "\n  candidate 2: breaks 1 regression test(s): tests/test_ops.py::OpsTest::test_add\n"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("\nBut the winner passed no reproduction test: none was valid"),
        "{stdout}"
    );
    assert!(stdout.contains("+    return a / b"), "{stdout}");
    let err = stderr(&output);
    assert!(err.contains("swiss: localized: calc/ops.py"), "{err}");
    assert!(
        err.contains("swiss: repair samples 8/8 (5 valid, 2 unique candidates)"),
        "{err}"
    );
    assert!(
        err.contains("swiss: applied candidate 1 to 1 file(s)"),
        "{err}"
    );
    assert!(
        err.contains(
            "swiss: baseline: 3 passing test(s) form the regression set, 2 already failing"
        ),
        "{err}"
    );
    assert!(
        err.contains("swiss: verifying [####################] 2/2 candidates"),
        "{err}"
    );

    assert!(repo.read("calc/ops.py").contains("    return a / b\n"));
    let (passed, log) = fixture_tests(repo.path());
    assert!(
        passed && log.contains("Ran 5 tests"),
        "after --apply the repository's own tests pass: {log}"
    );
}

#[test]
fn issue_from_stdin_and_backend_from_the_environment() {
    let repo = calc::repo();
    let backend = ScriptedBackend::start_in_background(calc::script().ignore_n().omit_usage());
    let mut child = swiss(repo.path(), &["--issue", "-", "--samples", "8", "--json"])
        .env("SWISS_BACKEND_URL", backend.base_url())
        .env("SWISS_MODEL", "local-model")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(calc::ISSUE.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0), "stderr: {}", stderr(&output));
    let json = stdout_json(&output);
    assert_eq!(json["candidates"][0]["votes"], 3);
    assert_eq!(
        json["usage"]["prompt_tokens"], 0,
        "a server without usage counts zero"
    );

    // A server that answers one choice per request is topped up to the N samples asked for.
    let requests = backend.requests();
    assert_eq!(
        requests
            .iter()
            .filter(|r| r.kind == PromptKind::Repair)
            .count(),
        8
    );
    assert_eq!(
        requests
            .iter()
            .filter(|r| r.kind == PromptKind::Localize)
            .count(),
        4
    );
    assert!(requests
        .iter()
        .all(|r| r.model.as_deref() == Some("local-model")));
}

#[test]
fn a_model_without_usable_edits_exits_1_with_the_reasons() {
    let repo = calc::repo();
    let issues = tempfile::tempdir().unwrap();
    let issue = write_issue(issues.path(), calc::ISSUE);
    let backend = ScriptedBackend::start_in_background(
        Script::new()
            .answer(PromptKind::Localize, [calc::LOCALIZE_ANSWER])
            .answer(
                PromptKind::Repair,
                [calc::PROSE, calc::NOT_FOUND, calc::ESCAPE],
            ),
    );
    let before = repo.contents();
    let output = swiss(
        repo.path(),
        &[
            "--issue",
            &issue,
            "--backend-url",
            &backend.base_url(),
            "--samples",
            "3",
            "--json",
            "--apply",
            "--sandbox",
            "none",
        ],
    )
    .output()
    .unwrap();
    assert_eq!(output.status.code(), Some(1), "stderr: {}", stderr(&output));
    let json = stdout_json(&output);
    assert_eq!(json["version"], 1);
    assert_eq!(json["status"], "no-candidate");
    assert_eq!(json["stage"], "repair");
    assert_eq!(json["winner"], Value::Null);
    assert_eq!(json["candidates"], serde_json::json!([]));
    assert!(json["message"]
        .as_str()
        .unwrap()
        .starts_with("no valid candidate: none of the 3 repair samples"));
    let err = stderr(&output);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("swiss: no valid candidate: none of the 3 repair samples"),
        "{err}"
    );
    assert!(err.contains("SEARCH text not found"), "{err}");
    assert!(
        err.contains(".."),
        "the escaping path is named as the reason: {err}"
    );
    assert_eq!(repo.contents(), before);
    assert!(!repo.path().parent().unwrap().join("outside.py").exists());
}

#[test]
fn a_localization_naming_no_repository_file_exits_1() {
    let repo = calc::repo();
    let issues = tempfile::tempdir().unwrap();
    let issue = write_issue(issues.path(), calc::ISSUE);
    let backend = ScriptedBackend::start_in_background(
        Script::new().answer(PromptKind::Localize, ["```\nsrc/missing.py\n```"]),
    );
    let output = swiss(
        repo.path(),
        &[
            "--issue",
            &issue,
            "--backend-url",
            &backend.base_url(),
            "--json",
        ],
    )
    .env("SWISS_LOG", "debug")
    .output()
    .unwrap();
    assert_eq!(output.status.code(), Some(1));
    // Scripts reading --json learn where the job stopped and why (seen against a real
    // llama.cpp server, which printed nothing here before).
    let json = stdout_json(&output);
    assert_eq!(json["status"], "no-candidate");
    assert_eq!(json["stage"], "localize");
    assert!(json["message"]
        .as_str()
        .unwrap()
        .contains("none of the 4 localization answers named a file"));
    assert!(
        stderr(&output).contains("none of the 4 localization answers named a file"),
        "{}",
        stderr(&output)
    );
    assert!(
        stderr(&output).contains("src/missing.py"),
        "the message points at SWISS_LOG=debug, which shows the answers: {}",
        stderr(&output)
    );
}

#[test]
fn bad_input_exits_2_with_one_line() {
    let not_a_repo = tempfile::tempdir().unwrap();
    let issue = write_issue(not_a_repo.path(), calc::ISSUE);
    let output = swiss(not_a_repo.path(), &["--issue", &issue])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(
        err.starts_with("swiss: failed to open") && err.contains("git repository"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");

    let repo = calc::repo();
    let output = swiss(repo.path(), &["--issue", "/nonexistent/issue.md"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("failed to read the issue file /nonexistent/issue.md"));

    let empty = not_a_repo.path().join("empty.md");
    std::fs::write(&empty, "\n  \n").unwrap();
    let empty = empty.display().to_string();
    let output = swiss(repo.path(), &["--issue", &empty]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("is empty"), "{}", stderr(&output));

    // Under --json the same refusal is also one error object on stdout; the last is clap's own.
    for (args, says) in [
        (["--samples", "0"], "repair.samples"),
        (
            ["--backend-url", "localhost:8000"],
            "`localhost:8000` is not an http(s) URL",
        ),
        (["--samples", "many"], "many"),
    ] {
        let output = swiss(
            repo.path(),
            &[&["--issue", &issue, "--json"][..], &args].concat(),
        )
        .output()
        .unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(stderr(&output).contains(says), "{}", stderr(&output));
        let json = stdout_json(&output);
        assert_eq!(json["status"], "error", "{json}");
        assert_eq!(json["error"]["kind"], "bad-input", "{json}");
        assert!(
            json["error"]["message"].as_str().unwrap().contains(says),
            "{json}"
        );
    }
}

#[test]
fn a_backend_that_is_down_or_failing_exits_3_naming_the_url() {
    let repo = calc::repo();
    fast_failing_config(&repo);
    let issues = tempfile::tempdir().unwrap();
    let issue = write_issue(issues.path(), calc::ISSUE);

    // Nothing listens on a port just released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/v1");
    let output = swiss(
        repo.path(),
        &[
            "--issue",
            &issue,
            "--backend-url",
            &url,
            "--api-key",
            "sk-secret",
        ],
    )
    .output()
    .unwrap();
    assert_eq!(output.status.code(), Some(3));
    let err = stderr(&output);
    assert!(err.contains(&format!("127.0.0.1:{port}")), "{err}");
    assert!(!err.contains("sk-secret"), "the key is never echoed: {err}");

    for fault in [
        Fault::status(500, "internal error"),
        Fault::Garbage,
        Fault::EmptyChoices,
    ] {
        // Aimed at the localization request: the irrelevant-folders question goes out at the
        // same time, and its failure alone is only a warning.
        let backend = ScriptedBackend::start_in_background(
            calc::script()
                .fault_for(PromptKind::Localize, fault.clone())
                .fault_for(PromptKind::Localize, fault.clone())
                .fault_for(PromptKind::Localize, fault.clone()),
        );
        let output = swiss(
            repo.path(),
            &[
                "--issue",
                &issue,
                "--backend-url",
                &backend.base_url(),
                "--json",
            ],
        )
        .output()
        .unwrap();
        assert_eq!(
            output.status.code(),
            Some(3),
            "{fault:?}: {}",
            stderr(&output)
        );
        let json = stdout_json(&output);
        assert_eq!(json["status"], "error", "{fault:?}");
        assert_eq!(json["error"]["kind"], "backend", "{fault:?}");
        let err = stderr(&output);
        assert!(
            err.contains(&backend.base_url())
                || err.contains(&backend.base_url().replace("/v1", "")),
            "{err}"
        );
        assert_eq!(err.lines().count(), 1, "{fault:?}: {err}");
    }

    // One fault, then a working server: the retry hides it.
    let backend = ScriptedBackend::start_in_background(
        calc::script().fault(Fault::status(503, "warming up").with_retry_after(0)),
    );
    let output = swiss(
        repo.path(),
        &[
            "--issue",
            &issue,
            "--backend-url",
            &backend.base_url(),
            "--samples",
            "8",
        ],
    )
    .output()
    .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
}

#[test]
fn settings_come_from_swiss_toml_and_a_bad_one_is_only_a_warning() {
    let repo = calc::repo();
    let issues = tempfile::tempdir().unwrap();
    let issue = write_issue(issues.path(), calc::ISSUE);
    let backend = ScriptedBackend::start_in_background(calc::script());
    repo.write(
        "swiss.toml",
        &format!(
            "[backend]\nurls = [\"{}\"]\nmodel = \"from-toml\"\n[sampling]\ntemperature = \"warm\"\ntop_p = 0.5\n[repair]\nsamples = 8\n",
            backend.base_url()
        ),
    );
    let output = swiss(repo.path(), &["--issue", &issue, "--json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("swiss.toml: `sampling.temperature` is ignored"),
        "{}",
        stderr(&output)
    );
    let repair: Vec<_> = backend
        .requests()
        .into_iter()
        .filter(|r| r.kind == PromptKind::Repair)
        .collect();
    assert_eq!(repair[0].n, Some(8));
    assert_eq!(repair[0].model.as_deref(), Some("from-toml"));
    assert_eq!(
        (repair[0].temperature, repair[0].top_p),
        (Some(0.6), Some(0.5))
    );
}

#[test]
fn a_prompt_override_in_the_repo_replaces_the_built_in_template() {
    let repo = calc::repo();
    let issues = tempfile::tempdir().unwrap();
    let issue = write_issue(issues.path(), calc::ISSUE);
    let backend = ScriptedBackend::start_in_background(calc::script());
    repo.write(
        ".swiss/prompts/repair.md",
        "House rules apply. SEARCH/REPLACE edits only.\n{{issue}}\n{{files}}\n",
    );
    let output = swiss(
        repo.path(),
        &[
            "--issue",
            &issue,
            "--backend-url",
            &backend.base_url(),
            "--samples",
            "8",
        ],
    )
    .output()
    .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let repair = backend
        .requests()
        .into_iter()
        .find(|r| r.kind == PromptKind::Repair)
        .unwrap();
    assert!(repair.prompt().starts_with("House rules apply."));

    repo.write(".swiss/prompts/localize.md", "no placeholders here\n");
    let output = swiss(
        repo.path(),
        &["--issue", &issue, "--backend-url", &backend.base_url()],
    )
    .output()
    .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("lacks the placeholder {{issue}}"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_backend_failing_after_some_samples_keeps_them_with_a_warning() {
    let repo = calc::repo();
    fast_failing_config(&repo);
    let issues = tempfile::tempdir().unwrap();
    let issue = write_issue(issues.path(), calc::ISSUE);
    // Like llama.cpp's server: one choice a request. The first repair request answers, every
    // top-up after it fails for good.
    let mut script = calc::script()
        .ignore_n()
        .fault_for(PromptKind::Repair, Fault::Delay(std::time::Duration::ZERO));
    for _ in 0..40 {
        script = script.fault_for(PromptKind::Repair, Fault::status(500, "out of memory"));
    }
    let backend = ScriptedBackend::start_in_background(script);
    let output = fix_unverified(repo.path(), &issue, &backend)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(
        err.contains("swiss: warning: the backend failed after 1 of 8 repair samples"),
        "{err}"
    );
    assert!(err.contains("HTTP 500: out of memory"), "{err}");
    let json = stdout_json(&output);
    assert_eq!(json["samples"]["total"], 1);
    assert!(json["winner_patch"]
        .as_str()
        .unwrap()
        .contains("+    return a / b"));
}

#[test]
fn a_structure_over_its_budget_shows_the_files_the_issue_names() {
    let repo = FixtureRepo::large(3_000);
    repo.write("swiss.toml", "[localize]\nmax_structure_tokens = 2000\n");
    let issues = tempfile::tempdir().unwrap();
    let issue = write_issue(issues.path(), calc::ISSUE);
    let backend = ScriptedBackend::start_in_background(calc::script());

    let output = fix_unverified(repo.path(), &issue, &backend)
        .output()
        .unwrap();
    let stderr = stderr(&output);
    assert_eq!(output.status.code(), Some(0), "stderr: {stderr}");
    assert!(
        stderr.contains(
            "the repository structure is over localize.max_structure_tokens (2000): the model sees"
        ),
        "{stderr}"
    );
    let prompt = backend
        .requests()
        .into_iter()
        .find(|r| r.kind == PromptKind::Localize)
        .unwrap()
        .prompt()
        .to_owned();
    assert!(prompt.contains("calc/\n    __init__.py\n"), "{prompt}");
    assert!(prompt.contains("    ops.py\n"), "{prompt}");
    assert!(prompt.contains("source files shown; the others were left out to fit the prompt)"));
    // 2,000 tokens of structure, plus the template and the issue.
    assert!(prompt.len() < 8_000 + 4_000, "{} bytes", prompt.len());
    assert_eq!(stdout_json(&output)["localized_files"][0], "calc/ops.py");
}

#[test]
fn a_misanchored_search_and_a_comment_only_patch_are_invalid_samples() {
    // `    raise …` (4 spaces) is only the tail of the 8-space line in `divide`: matched there, it
    // would have given a parseable candidate that edits a line the model never quoted.
    const MISANCHORED: &str = "```python\n### calc/ops.py\n<<<<<<< SEARCH\n    raise ZeroDivisionError(\"cannot divide by zero\")\n=======\n    raise ValueError(\"cannot divide by zero\")\n>>>>>>> REPLACE\n```\n";
    const COMMENT_ONLY: &str = "```python\n### calc/ops.py\n<<<<<<< SEARCH\n    \"\"\"Return a divided by b.\"\"\"\n    if b == 0:\n=======\n    \"\"\"Return a divided by b, which must not be 0.\"\"\"\n    # A zero divisor is refused.\n    if b == 0:\n>>>>>>> REPLACE\n```\n";
    let repo = calc::repo();
    let issues = tempfile::tempdir().unwrap();
    let issue = write_issue(issues.path(), calc::ISSUE);
    let script = Script::new()
        .answer(PromptKind::Localize, [calc::LOCALIZE_ANSWER])
        .answer(
            PromptKind::Repair,
            [calc::FIX_A, MISANCHORED, COMMENT_ONLY, calc::FIX_A],
        );
    let backend = ScriptedBackend::start_in_background(script);

    let output = fix_unverified(repo.path(), &issue, &backend)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "stderr: {}", stderr(&output));
    let json = stdout_json(&output);
    assert_eq!(json["samples"]["total"], 8);
    assert_eq!(json["samples"]["valid"], 4, "{json:#}");
    assert_eq!(
        json["samples"]["invalid_reasons"],
        serde_json::json!({
            "SEARCH text not found in calc/ops.py": 2,
            "the patch only changes comments, docstrings or formatting (its normalized key is empty, so it cannot compete)": 2,
        })
    );
    let candidates = json["candidates"].as_array().unwrap();
    assert_eq!(candidates.len(), 1, "{json:#}");
    assert_eq!(
        candidates[0]["sample_indices"],
        serde_json::json!([0, 3, 4, 7])
    );
    let patch = json["winner_patch"].as_str().unwrap();
    assert!(patch.contains("+    return a / b\n"), "{patch}");
    assert!(!patch.contains("ValueError"), "{patch}");

    let output = swiss(
        repo.path(),
        &[
            "--issue",
            &issue,
            "--backend-url",
            &backend.base_url(),
            "--selection-compat",
            "agentless",
        ],
    )
    .output()
    .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("selection.compat: `agentless` is not one of swiss, sweswiss"),
        "{}",
        stderr(&output)
    );
}
