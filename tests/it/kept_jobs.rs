//! Jobs that outlive the editor: a finished job is kept under the repository's git dir, and a
//! new server lists it, hovers it and applies it (refused once a file it changes has moved).
//! The real server over the in-process client, a fixture repository and the scripted backend.

use std::time::Duration;

use serde_json::{json, Value};
use swiss_testkit::{calc, FixtureRepo, PromptKind, ScriptedBackend};

use crate::lsp_client::{apply_text_edits, uri, TestClient};

const JOB_TIMEOUT: Duration = Duration::from_secs(30);

fn capabilities() -> Value {
    json!({
        "window": {"workDoneProgress": true},
        "workspace": {"applyEdit": true, "workspaceEdit": {"documentChanges": true}},
    })
}

fn options(backend: &ScriptedBackend) -> Value {
    json!({
        "backend": {"urls": [backend.base_url()], "max_retries": 0, "timeout_secs": 10},
        "localize": {"samples": 1},
        "repair": {"samples": 8},
        "sandbox": {"kind": "none"},
    })
}

async fn wait_job_end(client: &TestClient, job: &str) -> Value {
    client
        .wait_notification("swiss/jobEnded", |p| p["job"] == job, JOB_TIMEOUT)
        .await
}

/// Runs `calc`'s issue to the end in a server of its own, then shuts that server down.
async fn run_and_stop(repo: &FixtureRepo, backend: &ScriptedBackend, issue: &str) {
    let client = TestClient::start();
    client
        .initialize(repo.path(), capabilities(), options(backend))
        .await;
    let started = client
        .execute("swiss.fixIssue", json!([{"issue": issue}]))
        .await
        .unwrap();
    assert_eq!(started["job"], "job-1");
    let end = wait_job_end(&client, "job-1").await;
    assert_eq!(end["state"], "succeeded", "{end:#}");
    client.shutdown().await;
}

/// The winner's diagnostics on `ops` once the new server has published them.
async fn winner_diagnostics(client: &TestClient, ops: &str) -> Vec<Value> {
    let published = client
        .wait_notification(
            "textDocument/publishDiagnostics",
            |p| p["uri"] == ops && p["diagnostics"].as_array().is_some_and(|d| !d.is_empty()),
            JOB_TIMEOUT,
        )
        .await;
    published["diagnostics"].as_array().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kept_job_is_listed_hovered_and_applied_after_a_restart() {
    let repo = calc::repo();
    let issues = tempfile::tempdir().unwrap();
    let issue = crate::cli_support::write_issue(issues.path(), calc::ISSUE);
    let backend = ScriptedBackend::start(calc::script()).await;
    run_and_stop(&repo, &backend, &issue).await;
    let kept = repo.path().join(".git/swiss/jobs/job-1");
    for file in ["record.json", "files.json", "job.json"] {
        assert!(kept.join(file).is_file(), "{} is missing", file);
    }
    // A kept job that cannot be read is skipped with a warning.
    let broken = repo.path().join(".git/swiss/jobs/job-7");
    std::fs::create_dir_all(&broken).unwrap();
    std::fs::write(broken.join("job.json"), "{not json").unwrap();

    let client = TestClient::start();
    client
        .initialize(repo.path(), capabilities(), options(&backend))
        .await;
    let listed = client.execute("swiss.jobs", json!([])).await.unwrap();
    let jobs = listed["jobs"].as_array().unwrap();
    assert_eq!(jobs.len(), 1, "{listed:#}");
    let warned = client
        .wait_notification(
            "window/showMessage",
            |m| {
                m["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("skipped the kept job job-7"))
            },
            JOB_TIMEOUT,
        )
        .await;
    assert_eq!(warned["type"], 2, "{warned:#}");
    assert_eq!(jobs[0]["job"], "job-1");
    assert_eq!(jobs[0]["kept"], true);
    assert_eq!(jobs[0]["state"], "done");
    assert_eq!(jobs[0]["winner"], 1);
    assert_eq!(jobs[0]["applied"], Value::Null);
    assert_eq!(jobs[0]["issue"]["title"], "divide() floors its result");
    assert!(jobs[0]["candidates"].as_array().unwrap().len() >= 2);

    // The winner's hunk is shown again, and hovering it shows the candidates.
    let ops = repo.file("calc/ops.py");
    let diagnostics = winner_diagnostics(&client, &uri(&ops)).await;
    let line = diagnostics[0]["range"]["start"]["line"].clone();
    let hover = client
        .request(
            "textDocument/hover",
            json!({"textDocument": {"uri": uri(&ops)}, "position": {"line": line, "character": 4}}),
        )
        .await
        .unwrap();
    let markdown = hover["contents"]["value"].as_str().unwrap_or_default();
    assert!(markdown.contains("job-1"), "{hover:#}");
    assert!(markdown.contains("a / b"), "{markdown}");

    // A file changed since the job ran is refused; as it was, the winner applies.
    repo.write("calc/ops.py", &calc::OPS.replace("helpers", "functions"));
    let refused = client
        .execute("swiss.applyCandidate", json!([{"job": "job-1"}]))
        .await
        .unwrap_err();
    let message = refused["message"].as_str().unwrap();
    assert!(
        message.contains("refused to apply candidate 1 of job-1: calc/ops.py changed on disk"),
        "{refused:#}"
    );
    repo.write("calc/ops.py", calc::OPS);
    let applied = client
        .execute("swiss.applyCandidate", json!([{"job": "job-1"}]))
        .await
        .unwrap();
    assert_eq!(applied["applied"], true, "{applied:#}");
    let edit = client.server_requests("workspace/applyEdit")[0]["edit"].clone();
    let change = &edit["documentChanges"][0];
    assert_eq!(change["textDocument"]["uri"], uri(&ops));
    let patched = apply_text_edits(calc::OPS, change["edits"].as_array().unwrap());
    assert!(patched.contains("    return a / b\n"), "{patched}");

    // The store remembers the apply, and a new job takes a number no kept folder has.
    let meta_path = kept.join("job.json");
    let deadline = std::time::Instant::now() + JOB_TIMEOUT;
    loop {
        let meta: Value =
            serde_json::from_str(&std::fs::read_to_string(&meta_path).unwrap()).unwrap();
        if meta["applied"] == 1 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{meta:#}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let next = client
        .execute("swiss.fixIssue", json!([{"issue": issue}]))
        .await
        .unwrap();
    assert_eq!(next["job"], "job-8");
    wait_job_end(&client, "job-8").await;
    client.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fix_issue_here_pins_the_file_and_asks_the_model_no_localization() {
    let repo = calc::repo();
    let backend = ScriptedBackend::start(calc::script()).await;
    let client = TestClient::start();
    client
        .initialize(repo.path(), capabilities(), options(&backend))
        .await;
    let ops = repo.file("calc/ops.py");
    client.did_open(&ops, 1, calc::OPS).await;
    let actions = client
        .request(
            "textDocument/codeAction",
            json!({
                "textDocument": {"uri": uri(&ops)},
                "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}},
                "context": {"diagnostics": []},
            }),
        )
        .await
        .unwrap();
    let here = actions
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["title"] == "Fix issue here…")
        .unwrap_or_else(|| panic!("no Fix issue here… action: {actions:#}"));
    let mut argument = here["command"]["arguments"][0].clone();
    assert_eq!(argument, json!({"files": [uri(&ops)]}));

    // Without the issue the shim was to ask for, the server says what is missing.
    let missing = client
        .execute("swiss.fixIssue", json!([argument.clone()]))
        .await
        .unwrap_err();
    assert!(
        missing["message"]
            .as_str()
            .unwrap()
            .contains("needs an issue"),
        "{missing:#}"
    );
    argument["issue"] = json!(calc::ISSUE);
    let started = client
        .execute("swiss.fixIssue", json!([argument]))
        .await
        .unwrap();
    let job = started["job"].as_str().unwrap().to_owned();
    let given = client
        .wait_notification(
            "textDocument/publishDiagnostics",
            |p| p["uri"] == uri(&ops) && p["diagnostics"][0]["code"] == "localized",
            JOB_TIMEOUT,
        )
        .await;
    let message = given["diagnostics"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("file 1 of 1 given (localization skipped)"),
        "{message}"
    );
    assert_eq!(wait_job_end(&client, &job).await["state"], "succeeded");
    let kinds: Vec<PromptKind> = backend.requests().iter().map(|r| r.kind).collect();
    assert!(
        !kinds.contains(&PromptKind::Localize) && !kinds.contains(&PromptKind::IrrelevantFolders),
        "{kinds:?}"
    );
    assert!(kinds.contains(&PromptKind::Repair), "{kinds:?}");
    let listed = client.execute("swiss.jobs", json!([])).await.unwrap();
    assert_eq!(listed["jobs"][0]["files"], json!(["calc/ops.py"]));

    // A file outside the repository is the command's error; no job starts.
    let outside = tempfile::tempdir().unwrap();
    let stray = outside.path().join("x.py");
    std::fs::write(&stray, "x = 1\n").unwrap();
    let error = client
        .execute(
            "swiss.fixIssue",
            json!([{"issue": calc::ISSUE, "files": [stray.display().to_string()]}]),
        )
        .await
        .unwrap_err();
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains("failed to use the given file")
            && message.contains("outside the repository"),
        "{error:#}"
    );
    client.shutdown().await;
}
