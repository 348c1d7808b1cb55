//! `swiss lsp` end to end: the real server in-process over `tokio::io::duplex`, a fixture
//! repository with a real bug, and the scripted backend.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use swiss_testkit::{calc, Fault, FixtureRepo, PromptKind, Script, ScriptedBackend};

use crate::lsp_client::{self, apply_text_edits, apply_to_disk, uri, TestClient};

const JOB_TIMEOUT: Duration = Duration::from_secs(30);

fn calc_script() -> Script {
    Script::new()
        .answer(PromptKind::Localize, [calc::LOCALIZE_ANSWER])
        .answer(
            PromptKind::Repair,
            [
                calc::FIX_A,
                calc::WRONG_ADD,
                calc::FIX_B,
                calc::NOT_FOUND,
                calc::FIX_C,
                calc::PROSE,
                calc::ESCAPE,
                calc::WRONG_ADD,
            ],
        )
}

/// An editor like VS Code: progress, versioned edits with file creation, showDocument.
pub(crate) fn full_capabilities() -> Value {
    json!({
        "window": {"workDoneProgress": true, "showDocument": {"support": true}},
        "workspace": {
            "applyEdit": true,
            "workspaceEdit": {"documentChanges": true, "resourceOperations": ["create"]},
        },
    })
}

/// Settings as an editor would send them: the scripted backend, few samples, no sandbox (these
/// tests are about the protocol, not verification), failures reported at once.
pub(crate) fn options(backend: &ScriptedBackend) -> Value {
    json!({
        "backend": {"urls": [backend.base_url()], "max_retries": 0, "timeout_secs": 10},
        "localize": {"samples": 1},
        "repair": {"samples": 8},
        "sandbox": {"kind": "none"},
    })
}

fn write_issue(dir: &Path) -> String {
    let path = dir.join("issue.md");
    std::fs::write(&path, calc::ISSUE).unwrap();
    path.display().to_string()
}

pub(crate) fn line_of(text: &str, needle: &str) -> u64 {
    text.lines()
        .position(|l| l == needle)
        .expect("line in text") as u64
}

fn progress_of<'a>(notes: &'a [Value], token: &str) -> Vec<&'a Value> {
    notes
        .iter()
        .filter(|p| p["token"] == token)
        .map(|p| &p["value"])
        .collect()
}

pub(crate) async fn wait_progress_end(client: &TestClient, token: &str) -> Value {
    client
        .wait_notification(
            "$/progress",
            |p| p["token"] == token && p["value"]["kind"] == "end",
            JOB_TIMEOUT,
        )
        .await["value"]
        .clone()
}

pub(crate) fn titles(actions: &Value) -> Vec<String> {
    actions
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["title"].as_str().unwrap().to_owned())
        .collect()
}

pub(crate) async fn code_actions(
    client: &TestClient,
    file: &Path,
    line: u64,
    diagnostics: Value,
) -> Value {
    client
        .request(
            "textDocument/codeAction",
            json!({
                "textDocument": {"uri": uri(file)},
                "range": {"start": {"line": line, "character": 0}, "end": {"line": line, "character": 0}},
                "context": {"diagnostics": diagnostics},
            }),
        )
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_flow_from_code_action_to_applied_edit() {
    let repo = calc::repo();
    let issues = tempfile::tempdir().unwrap();
    let issue = write_issue(issues.path());
    let backend = ScriptedBackend::start(calc_script()).await;
    let client = TestClient::start();
    let init = client
        .initialize(repo.path(), full_capabilities(), options(&backend))
        .await;
    let commands = init["capabilities"]["executeCommandProvider"]["commands"].clone();
    assert!(
        commands
            .as_array()
            .unwrap()
            .contains(&json!("swiss.fixIssue")),
        "{init:#}"
    );
    let ops = repo.file("calc/ops.py");
    client.did_open(&ops, 1, calc::OPS).await;

    // The code action that starts it all, without arguments: the shim asks for the issue.
    let actions = code_actions(&client, &ops, 0, json!([])).await;
    let fix = actions
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["title"] == "Fix issue…")
        .unwrap_or_else(|| panic!("no Fix issue… action: {actions:#}"));
    assert_eq!(fix["command"]["command"], "swiss.fixIssue");
    assert_eq!(fix["kind"], "source");

    let started = client
        .execute("swiss.fixIssue", json!([{"issue": issue}]))
        .await
        .unwrap();
    assert_eq!(started, json!({"job": "job-1"}));
    let token = "swiss/job-1";

    let end = wait_progress_end(&client, token).await;
    assert!(
        end["message"]
            .as_str()
            .unwrap()
            .contains("winner: candidate 1"),
        "{end}"
    );
    let created = client.server_requests("window/workDoneProgress/create");
    assert_eq!(created, [json!({"token": token})]);
    let notes = client.notifications("$/progress");
    let progress = progress_of(&notes, token);
    assert_eq!(progress[0]["kind"], "begin");
    assert_eq!(progress[0]["cancellable"], true);
    let reports: Vec<&str> = progress
        .iter()
        .filter(|v| v["kind"] == "report")
        .map(|v| v["message"].as_str().unwrap())
        .collect();
    assert!(
        reports.iter().any(|m| m.starts_with("localizing")),
        "{reports:?}"
    );
    assert!(
        reports
            .iter()
            .any(|m| m.starts_with("sampling repairs: 8/8")),
        "one report per sample: {reports:?}"
    );
    assert!(
        reports.iter().any(|m| m.starts_with("selecting")),
        "{reports:?}"
    );
    let percentages: Vec<u64> = progress
        .iter()
        .filter_map(|v| v["percentage"].as_u64())
        .collect();
    assert!(
        percentages.windows(2).all(|w| w[0] <= w[1]),
        "{percentages:?}"
    );

    // Diagnostics: the localized files while it ran, then the winner's hunk.
    let ops_uri = uri(&ops);
    let published = client.notifications("textDocument/publishDiagnostics");
    let localized = published
        .iter()
        .find(|p| p["uri"] == ops_uri && p["diagnostics"][0]["code"] == "localized")
        .unwrap_or_else(|| panic!("no localized diagnostic: {published:#?}"));
    assert_eq!(localized["diagnostics"][0]["source"], "swiss");
    assert_eq!(localized["diagnostics"][0]["severity"], 3);
    let init_uri = uri(&repo.file("calc/__init__.py"));
    assert!(published.iter().any(|p| p["uri"] == init_uri));
    let last = published
        .iter()
        .rev()
        .find(|p| p["uri"] == ops_uri)
        .unwrap();
    let winner = &last["diagnostics"][0];
    assert_eq!(last["diagnostics"].as_array().unwrap().len(), 1, "{last:#}");
    assert_eq!(winner["code"], "winner");
    assert_eq!(winner["severity"], 3);
    assert_eq!(
        winner["data"],
        json!({"job": "job-1", "candidate": 1, "hunk": 0})
    );
    let bug_line = line_of(calc::OPS, "    return a // b");
    assert_eq!(
        winner["range"]["start"],
        json!({"line": bug_line, "character": 0})
    );
    let last_init = published
        .iter()
        .rev()
        .find(|p| p["uri"] == init_uri)
        .unwrap();
    assert_eq!(
        last_init["diagnostics"],
        json!([]),
        "the localized diagnostic of a file the winner does not touch is gone"
    );

    // Hover on the hunk: every candidate, and the winning change there.
    let hover = client
        .request(
            "textDocument/hover",
            json!({"textDocument": {"uri": ops_uri}, "position": {"line": bug_line, "character": 8}}),
        )
        .await
        .unwrap();
    let markdown = hover["contents"]["value"].as_str().unwrap();
    assert_eq!(hover["contents"]["kind"], "markdown");
    assert!(
        markdown.contains("| id | votes | similarity | regression failures | reproduction | score | filtered out | winner |"),
        "{markdown}"
    );
    let rows: Vec<&str> = markdown
        .lines()
        .filter(|l| l.starts_with("| 1 ") || l.starts_with("| 2 "))
        .collect();
    assert_eq!(rows.len(), 2, "{markdown}");
    assert!(
        rows[0].starts_with("| 1 | 3 |") && rows[0].ends_with("| ★ |"),
        "{markdown}"
    );
    assert!(rows[1].starts_with("| 2 | 2 |"), "{markdown}");
    assert!(
        markdown.contains("-    return a // b\n+    return a / b\n"),
        "{markdown}"
    );
    let elsewhere = client
        .request(
            "textDocument/hover",
            json!({"textDocument": {"uri": ops_uri}, "position": {"line": 0, "character": 0}}),
        )
        .await
        .unwrap();
    assert_eq!(elsewhere, Value::Null);

    // The candidates are what `swiss fix --json` reports.
    let report = client
        .execute("swiss.candidates", json!([{"job": "job-1"}]))
        .await
        .unwrap();
    assert_eq!(report["winner"], 1);
    assert_eq!(report["candidates"][0]["votes"], 3);
    assert_eq!(report["candidates"][0]["sample_indices"], json!([0, 2, 4]));
    assert_eq!(report["localized_files"][0], "calc/ops.py");
    assert_eq!(report["samples"]["total"], 8);

    // After the job: apply, other candidates, diffs, dismiss; as quick fixes on our diagnostic.
    let actions = code_actions(&client, &ops, bug_line, json!([winner])).await;
    let names = titles(&actions);
    assert!(
        names
            .iter()
            .any(|t| t.starts_with("Apply winning patch (score ")),
        "{names:?}"
    );
    assert!(
        names
            .iter()
            .any(|t| t.starts_with("Apply candidate 2 (score ")),
        "{names:?}"
    );
    assert!(
        names.iter().any(|t| t.starts_with("Show candidate diff")),
        "{names:?}"
    );
    let apply = actions
        .as_array()
        .unwrap()
        .iter()
        .find(|a| {
            a["title"]
                .as_str()
                .unwrap()
                .starts_with("Apply winning patch")
        })
        .unwrap();
    assert_eq!(apply["kind"], "quickfix");
    assert_eq!(apply["isPreferred"], true);
    assert_eq!(apply["command"]["arguments"], json!([{"job": "job-1"}]));

    // showDiff: a file under the temp dir, opened in the editor.
    let shown = client
        .execute("swiss.showDiff", json!([{"job": "job-1", "candidate": 2}]))
        .await
        .unwrap();
    let diff_path = lsp_client::path_of(shown["uri"].as_str().unwrap());
    assert!(
        diff_path.starts_with(std::env::temp_dir())
            || diff_path.to_string_lossy().contains("swiss-diffs-")
    );
    let diff = std::fs::read_to_string(&diff_path).unwrap();
    assert!(
        diff.contains("-    return a + b\n+    return a - b\n"),
        "{diff}"
    );
    assert_eq!(
        client.server_requests("window/showDocument")[0]["uri"],
        shown["uri"]
    );

    let before_apply = Instant::now();
    let applied = client
        .execute("swiss.applyCandidate", json!([{"job": "job-1"}]))
        .await
        .unwrap();
    assert_eq!(applied["applied"], true);
    let edits = client.server_requests("workspace/applyEdit");
    assert_eq!(edits.len(), 1);
    let edit = &edits[0]["edit"];
    let change = &edit["documentChanges"][0];
    assert_eq!(change["textDocument"]["uri"], ops_uri);
    assert_eq!(
        change["textDocument"]["version"], 1,
        "the version the job's snapshot saw"
    );
    apply_to_disk(edit);
    assert_eq!(
        repo.read("calc/ops.py"),
        calc::OPS.replace("    return a // b", "    return a / b")
    );
    client
        .wait_notification(
            "textDocument/publishDiagnostics",
            |p| p["uri"] == ops_uri && p["diagnostics"] == json!([]),
            Duration::from_secs(5),
        )
        .await;
    assert!(before_apply.elapsed() < Duration::from_secs(5));
    let again = client
        .execute("swiss.applyCandidate", json!([{"job": "job-1"}]))
        .await
        .unwrap_err();
    assert!(
        again["message"]
            .as_str()
            .unwrap()
            .contains("already applied"),
        "{again}"
    );
    client.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_stops_sampling_and_ends_the_progress() {
    let repo = calc::repo();
    let backend = ScriptedBackend::start(calc_script().latency(Duration::from_millis(800))).await;
    let client = TestClient::start();
    client
        .initialize(repo.path(), full_capabilities(), options(&backend))
        .await;

    // Two jobs at once on one workspace: allowed and independent.
    for expected in ["job-1", "job-2"] {
        let started = client
            .execute("swiss.fixIssue", json!([{"issue": calc::ISSUE}]))
            .await
            .unwrap();
        assert_eq!(started["job"], expected);
    }
    for token in ["swiss/job-1", "swiss/job-2"] {
        client
            .wait_notification(
                "$/progress",
                |p| p["token"] == token && p["value"]["kind"] == "begin",
                JOB_TIMEOUT,
            )
            .await;
    }

    // job-1 through the progress UI's cancel button, job-2 through the command.
    let cancelled_at = Instant::now();
    client
        .notify(
            "window/workDoneProgress/cancel",
            json!({"token": "swiss/job-1"}),
        )
        .await;
    assert_eq!(
        client
            .execute("swiss.cancel", json!([{"job": "job-2"}]))
            .await
            .unwrap(),
        Value::Null
    );
    for token in ["swiss/job-1", "swiss/job-2"] {
        let end = wait_progress_end(&client, token).await;
        assert!(
            end["message"].as_str().unwrap().contains("cancelled"),
            "{end}"
        );
    }
    assert!(
        cancelled_at.elapsed() < Duration::from_secs(1),
        "cancelled within a second, not after {:?}",
        cancelled_at.elapsed()
    );

    // Long enough for the localization answers to have come and a repair request to follow.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let repair_requests = backend
        .requests()
        .iter()
        .filter(|r| r.kind == PromptKind::Repair)
        .count();
    assert_eq!(repair_requests, 0, "no sampling after cancel");
    let err = client
        .execute("swiss.candidates", json!([{"job": "job-1"}]))
        .await
        .unwrap_err();
    assert!(
        err["message"].as_str().unwrap().contains("was cancelled"),
        "{err}"
    );
    for note in client.notifications("textDocument/publishDiagnostics") {
        assert_eq!(note["diagnostics"], json!([]), "{note}");
    }
    // Cancelling again is harmless; dismissing forgets the job.
    client
        .execute("swiss.cancel", json!([{"job": "job-1"}]))
        .await
        .unwrap();
    client
        .execute("swiss.dismiss", json!([{"job": "job-1"}]))
        .await
        .unwrap();
    let err = client
        .execute("swiss.candidates", json!([{"job": "job-1"}]))
        .await
        .unwrap_err();
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("unknown job `job-1`"),
        "{err}"
    );
    client.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_is_refused_when_a_file_changed_since_the_snapshot() {
    let repo = calc::repo();
    let backend = ScriptedBackend::start(calc_script()).await;
    let client = TestClient::start();
    client
        .initialize(repo.path(), full_capabilities(), options(&backend))
        .await;
    // The user accepts the offer to re-run that a refusal makes.
    client.set_responder(|method, params| match method {
        "window/showMessageRequest" => params["actions"][0].clone(),
        _ => lsp_client::default_answer(method, params),
    });
    let ops = repo.file("calc/ops.py");
    client.did_open(&ops, 1, calc::OPS).await;
    client
        .execute("swiss.fixIssue", json!([{"issue": calc::ISSUE}]))
        .await
        .unwrap();
    wait_progress_end(&client, "swiss/job-1").await;

    // The user types in the file after the job read it (incremental sync).
    client
        .notify(
            "textDocument/didChange",
            json!({
                "textDocument": {"uri": uri(&ops), "version": 2},
                "contentChanges": [{
                    "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}},
                    "text": "# edited\n",
                }],
            }),
        )
        .await;
    let err = client
        .execute("swiss.applyCandidate", json!([{"job": "job-1"}]))
        .await
        .unwrap_err();
    let message = err["message"].as_str().unwrap();
    assert_eq!(err["code"], -32803);
    assert!(
        message.contains("calc/ops.py changed since Swiss read it (the buffer is at version 2, the job saw version 1)"),
        "{message}"
    );
    assert!(message.contains("nothing was changed"), "{message}");
    assert_eq!(err["data"]["rerun"]["command"], "swiss.fixIssue");
    assert!(client.server_requests("workspace/applyEdit").is_empty());
    // The refusal offers to re-run.
    let offer = client
        .wait_server_request("window/showMessageRequest", Duration::from_secs(5))
        .await;
    assert_eq!(offer["actions"][0]["title"], "Re-run Swiss");
    // Re-run: a new job on the same issue, over the buffer as it is now.
    wait_progress_end(&client, "swiss/job-2").await;
    let report = client
        .execute("swiss.candidates", json!([{"job": "job-2"}]))
        .await
        .unwrap();
    assert_eq!(report["issue"]["title"], "divide() floors its result");

    // Closed without saving, then changed on disk: refused too.
    client
        .notify(
            "textDocument/didClose",
            json!({"textDocument": {"uri": uri(&ops)}}),
        )
        .await;
    repo.write(
        "calc/ops.py",
        &format!("{}\n# saved elsewhere\n", calc::OPS),
    );
    let err = client
        .execute("swiss.applyCandidate", json!([{"job": "job-1"}]))
        .await
        .unwrap_err();
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("calc/ops.py changed on disk since Swiss read it"),
        "{err}"
    );
    assert!(client.server_requests("workspace/applyEdit").is_empty());
    assert!(repo.read("calc/ops.py").contains("# saved elsewhere"));
    client.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_job_sees_unsaved_buffers() {
    let repo = calc::repo();
    let backend = ScriptedBackend::start(calc_script()).await;
    let client = TestClient::start();
    client
        .initialize(repo.path(), full_capabilities(), options(&backend))
        .await;
    let ops = repo.file("calc/ops.py");
    let unsaved = format!("# unsaved marker 7f3a\n{}", calc::OPS);
    client.did_open(&ops, 4, &unsaved).await;
    client
        .execute("swiss.fixIssue", json!([{"issue": calc::ISSUE}]))
        .await
        .unwrap();
    wait_progress_end(&client, "swiss/job-1").await;

    let requests = backend.requests();
    let repair = requests
        .iter()
        .find(|r| r.kind == PromptKind::Repair)
        .expect("a repair request");
    assert!(
        repair
            .prompt()
            .contains("# unsaved marker 7f3a\n\"\"\"Arithmetic helpers."),
        "the repair prompt shows the buffer, not the file on disk"
    );

    // The winner's diagnostics sit where the bug is in the buffer (one line lower than on disk).
    let bug_line = line_of(&unsaved, "    return a // b");
    let published = client.notifications("textDocument/publishDiagnostics");
    let last = published
        .iter()
        .rev()
        .find(|p| p["uri"] == uri(&ops))
        .unwrap();
    assert_eq!(last["diagnostics"][0]["range"]["start"]["line"], bug_line);

    // The edit targets the buffer's version and applies cleanly to the buffer's text.
    client
        .execute("swiss.applyCandidate", json!([{"job": "job-1"}]))
        .await
        .unwrap();
    let edit = &client.server_requests("workspace/applyEdit")[0]["edit"];
    let change = &edit["documentChanges"][0];
    assert_eq!(change["textDocument"]["version"], 4);
    let patched = apply_text_edits(&unsaved, change["edits"].as_array().unwrap());
    assert_eq!(
        patched,
        unsaved.replace("    return a // b", "    return a / b")
    );
    assert_eq!(
        repo.read("calc/ops.py"),
        calc::OPS,
        "the file on disk is untouched"
    );
    client.shutdown().await;
}

/// A workspace opened through a symlink (a linked `~/src`, macOS's `/tmp`): git reports the
/// resolved work tree, but the editor knows the files by the path it opened, and diagnostics
/// under the other spelling land on no open buffer.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn diagnostics_use_the_workspace_spelling_of_a_symlinked_repository() {
    let repo = calc::repo();
    let links = tempfile::tempdir().unwrap();
    let linked = links.path().join("calc-link");
    std::os::unix::fs::symlink(repo.path(), &linked).unwrap();
    let backend = ScriptedBackend::start(calc_script()).await;
    let client = TestClient::start();
    client
        .initialize(&linked, full_capabilities(), options(&backend))
        .await;
    let ops = linked.join("calc/ops.py");
    client.did_open(&ops, 1, calc::OPS).await;
    client
        .execute("swiss.fixIssue", json!([{"issue": calc::ISSUE}]))
        .await
        .unwrap();
    let end = wait_progress_end(&client, "swiss/job-1").await;
    assert!(
        end["message"].as_str().unwrap().starts_with("winner"),
        "{end}"
    );
    let published = client.notifications("textDocument/publishDiagnostics");
    let uris: Vec<&str> = published
        .iter()
        .map(|p| p["uri"].as_str().unwrap())
        .collect();
    let resolved = uri(&repo.path().join("calc/ops.py"));
    assert!(!uris.contains(&resolved.as_str()), "{uris:?}");
    let last = published
        .iter()
        .rev()
        .find(|p| p["uri"] == uri(&ops))
        .unwrap_or_else(|| panic!("no diagnostics for {}: {uris:?}", uri(&ops)));
    let bug_line = line_of(calc::OPS, "    return a // b");
    assert_eq!(last["diagnostics"][0]["range"]["start"]["line"], bug_line);

    // Hover and quick fixes find the job through the diagnostic on the buffer's URI.
    let hover = client
        .request(
            "textDocument/hover",
            json!({"textDocument": {"uri": uri(&ops)}, "position": {"line": bug_line, "character": 4}}),
        )
        .await
        .unwrap();
    assert!(
        hover["contents"]["value"]
            .as_str()
            .is_some_and(|v| v.contains("return a / b")),
        "{hover}"
    );
    client.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_clear_errors_and_the_server_keeps_serving() {
    let repo = calc::repo();
    let backend = ScriptedBackend::start(calc_script()).await;
    let client = TestClient::start();
    client
        .initialize(repo.path(), full_capabilities(), options(&backend))
        .await;

    let err = client.execute("swiss.nope", json!([])).await.unwrap_err();
    assert_eq!(err["code"], -32602);
    let message = err["message"].as_str().unwrap();
    assert!(
        message.contains("unknown command `swiss.nope`"),
        "{message}"
    );
    assert!(message.contains("swiss.fixIssue"), "{message}");

    let err = client
        .execute("swiss.cancel", json!([{"job": "job-99"}]))
        .await
        .unwrap_err();
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("unknown job `job-99`"),
        "{err}"
    );
    for (command, arguments, expected) in [
        ("swiss.fixIssue", json!([]), "{issue: string}"),
        ("swiss.fixIssue", json!([{"issue": 5}]), "invalid type"),
        ("swiss.fixIssue", json!([{"issue": "  "}]), "needs an issue"),
        ("swiss.candidates", json!(["job-1"]), "{job: string}"),
        (
            "swiss.applyCandidate",
            json!([{"job": "job-1", "candidate": "two"}]),
            "candidate?: number",
        ),
        (
            "swiss.showDiff",
            json!([{"job": "job-1", "extra": 1}]),
            "unknown field",
        ),
    ] {
        let err = client.execute(command, arguments).await.unwrap_err();
        assert_eq!(err["code"], -32602, "{command}: {err}");
        assert!(
            err["message"].as_str().unwrap().contains(expected),
            "{command}: {err}"
        );
    }

    // A job that exists but has not finished, and a candidate that does not exist.
    let slow = ScriptedBackend::start(calc_script().latency(Duration::from_millis(300))).await;
    client
        .notify(
            "workspace/didChangeConfiguration",
            json!({"settings": {"swiss": {"backend": {"urls": [slow.base_url()]}}}}),
        )
        .await;
    client
        .execute("swiss.fixIssue", json!([{"issue": calc::ISSUE}]))
        .await
        .unwrap();
    let err = client
        .execute("swiss.applyCandidate", json!([{"job": "job-1"}]))
        .await
        .unwrap_err();
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("job-1 is still running"),
        "{err}"
    );
    wait_progress_end(&client, "swiss/job-1").await;
    assert!(
        slow.requests().iter().any(|r| r.kind == PromptKind::Repair),
        "didChangeConfiguration moved the job to the other backend"
    );
    assert!(backend.requests().is_empty());
    let err = client
        .execute("swiss.showDiff", json!([{"job": "job-1", "candidate": 9}]))
        .await
        .unwrap_err();
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("job-1 has no candidate 9; its candidates are 1, 2"),
        "{err}"
    );
    let err = client
        .execute("swiss.cancel", json!([{"job": "job-1"}]))
        .await
        .unwrap_err();
    assert!(
        err["message"].as_str().unwrap().contains("has finished"),
        "{err}"
    );

    // An issue file that names nothing useful, and a workspace problem, are errors too.
    let empty = repo.path().join("empty.md");
    std::fs::write(&empty, "\n\n").unwrap();
    let err = client
        .execute(
            "swiss.fixIssue",
            json!([{"issue": empty.display().to_string()}]),
        )
        .await
        .unwrap_err();
    assert!(
        err["message"].as_str().unwrap().contains("is empty"),
        "{err}"
    );

    // Still serving.
    let hover = client
        .request(
            "textDocument/hover",
            json!({"textDocument": {"uri": uri(&repo.file("calc/fmt.py"))}, "position": {"line": 0, "character": 0}}),
        )
        .await
        .unwrap();
    assert_eq!(hover, Value::Null);
    client.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backend_that_goes_down_mid_job_is_reported() {
    let repo = calc::repo();
    let backend = ScriptedBackend::start(
        calc_script().fault_for(PromptKind::Repair, Fault::status(500, "model crashed")),
    )
    .await;
    let client = TestClient::start();
    client
        .initialize(repo.path(), full_capabilities(), options(&backend))
        .await;
    client
        .execute("swiss.fixIssue", json!([{"issue": calc::ISSUE}]))
        .await
        .unwrap();
    let end = wait_progress_end(&client, "swiss/job-1").await;
    assert!(
        end["message"].as_str().unwrap().starts_with("failed: "),
        "{end}"
    );
    let ended = wait_job_ended(&client, "job-1").await;
    assert_eq!(
        ended,
        json!({"job": "job-1", "state": "failed", "winner": null, "message": end["message"], "reason": null})
    );
    let shown = client
        .wait_notification(
            "window/showMessage",
            |p| p["type"] == 1,
            Duration::from_secs(5),
        )
        .await;
    let message = shown["message"].as_str().unwrap();
    assert!(message.starts_with("Swiss job-1 failed: "), "{message}");
    assert!(message.contains("HTTP 500"), "{message}");
    // The localized diagnostics it had published are cleared.
    let ops_uri = uri(&repo.file("calc/ops.py"));
    let last = client
        .notifications("textDocument/publishDiagnostics")
        .into_iter()
        .rev()
        .find(|p| p["uri"] == ops_uri)
        .expect("diagnostics were published for the localized file");
    assert_eq!(last["diagnostics"], json!([]));
    let err = client
        .execute("swiss.candidates", json!([{"job": "job-1"}]))
        .await
        .unwrap_err();
    assert!(
        err["message"].as_str().unwrap().contains("job-1 failed"),
        "{err}"
    );
    // Still serving: the code actions offer to dismiss it.
    let actions = code_actions(&client, &repo.file("calc/ops.py"), 0, json!([])).await;
    assert!(
        titles(&actions)
            .iter()
            .any(|t| t.starts_with("Dismiss Swiss job")),
        "{actions:#}"
    );
    client.shutdown().await;
    assert_eq!(job_ended_count(&client, "job-1"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_without_progress_or_apply_edit_support() {
    let repo = calc::repo();
    let backend = ScriptedBackend::start(calc_script()).await;
    let client = TestClient::start();
    client
        .initialize(repo.path(), json!({}), options(&backend))
        .await;
    client
        .execute("swiss.fixIssue", json!([{"issue": calc::ISSUE}]))
        .await
        .unwrap();
    let done = client
        .wait_notification(
            "window/showMessage",
            |p| {
                p["message"]
                    .as_str()
                    .unwrap()
                    .contains("winner: candidate 1")
            },
            JOB_TIMEOUT,
        )
        .await;
    assert_eq!(done["type"], 3);
    let messages = client.notifications("window/showMessage");
    assert!(
        messages
            .iter()
            .any(|m| m["message"].as_str().unwrap().contains("job-1 started")),
        "{messages:#?}"
    );
    assert!(client.notifications("$/progress").is_empty());
    assert!(client
        .server_requests("window/workDoneProgress/create")
        .is_empty());

    let err = client
        .execute("swiss.applyCandidate", json!([{"job": "job-1"}]))
        .await
        .unwrap_err();
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("does not accept workspace/applyEdit"),
        "{err}"
    );
    // showDiff still works: the URI comes back for the client to open.
    let shown = client
        .execute("swiss.showDiff", json!([{"job": "job-1"}]))
        .await
        .unwrap();
    assert!(shown["uri"]
        .as_str()
        .unwrap()
        .ends_with("job-1-candidate-1.diff"));
    assert!(client.server_requests("window/showDocument").is_empty());
    client.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_line_that_mentions_an_issue_offers_to_fix_it() {
    let repo = FixtureRepo::with_files(&[("app.py", "x = 1\n")]);
    let client = TestClient::start();
    client
        .initialize(repo.path(), full_capabilities(), json!({}))
        .await;
    let file = repo.file("app.py");
    client
        .did_open(
            &file,
            1,
            "x = 1\n# workaround for #123, see acme/calc#7 and https://github.com/acme/calc/issues/9\n",
        )
        .await;
    let actions = code_actions(&client, &file, 1, json!([])).await;
    let names = titles(&actions);
    assert_eq!(
        names,
        [
            "Fix issue #123",
            "Fix issue acme/calc#7",
            "Fix issue https://github.com/acme/calc/issues/9",
            "Fix issue…",
        ]
    );
    assert_eq!(
        actions[1]["command"]["arguments"],
        json!([{"issue": "acme/calc#7"}])
    );
    // `only` filters by kind: no quick fixes here.
    let filtered = client
        .request(
            "textDocument/codeAction",
            json!({
                "textDocument": {"uri": uri(&file)},
                "range": {"start": {"line": 1, "character": 0}, "end": {"line": 1, "character": 0}},
                "context": {"diagnostics": [], "only": ["quickfix"]},
            }),
        )
        .await
        .unwrap();
    assert_eq!(filtered, json!([]));

    // Ranges as a client may send them: reversed, or out at the end of u32, get an answer.
    let ask = |start: u32, end: u32| {
        client.request(
            "textDocument/codeAction",
            json!({
                "textDocument": {"uri": uri(&file)},
                "range": {"start": {"line": start, "character": 4}, "end": {"line": end, "character": 0}},
                "context": {"diagnostics": [], "only": ["source"]},
            }),
        )
    };
    let all = [
        "Fix issue #123",
        "Fix issue acme/calc#7",
        "Fix issue https://github.com/acme/calc/issues/9",
        "Fix issue…",
    ];
    assert_eq!(titles(&ask(3, 0).await.unwrap()), all);
    assert_eq!(titles(&ask(u32::MAX, 0).await.unwrap()), all);
    assert_eq!(
        titles(&ask(u32::MAX, u32::MAX - 1).await.unwrap()),
        ["Fix issue…"]
    );
    let hover = client
        .request(
            "textDocument/hover",
            json!({
                "textDocument": {"uri": uri(&file)},
                "position": {"line": u32::MAX, "character": u32::MAX},
            }),
        )
        .await
        .unwrap();
    assert_eq!(hover, Value::Null);
    client.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verification_results_reach_progress_and_hover() {
    let repo = calc::repo();
    let backend = ScriptedBackend::start(
        Script::new()
            .answer(PromptKind::Localize, [calc::LOCALIZE_ANSWER])
            .answer(
                PromptKind::Repair,
                [
                    calc::WRONG_BREAKS_TEST,
                    calc::WRONG_KEEPS_BUG,
                    calc::WRONG_BREAKS_TEST,
                    calc::FIX_A,
                    calc::WRONG_KEEPS_BUG,
                    calc::WRONG_BREAKS_TEST,
                ],
            )
            .answer(
                PromptKind::Reproduce,
                [
                    calc::REPRODUCE_SCRIPT_WRONG,
                    calc::REPRODUCE_SCRIPT,
                    calc::REPRODUCE_SCRIPT_REFORMATTED,
                    calc::PROSE,
                ],
            ),
    )
    .await;
    let client = TestClient::start();
    let mut settings = options(&backend);
    settings["repair"]["samples"] = json!(6);
    settings["sandbox"]["kind"] = json!("local");
    // As a user points the editor at the project's venv: pytest comes from the interpreter named.
    settings["test"] = json!({"python": swiss_testkit::pytest_venv().python()});
    client
        .initialize(repo.path(), full_capabilities(), settings)
        .await;
    client
        .execute("swiss.fixIssue", json!([{"issue": calc::ISSUE}]))
        .await
        .unwrap();
    let end = wait_progress_end(&client, "swiss/job-1").await;
    assert!(end["message"].as_str().unwrap().contains("winner"), "{end}");
    let notes = client.notifications("$/progress");
    let verified = progress_of(&notes, "swiss/job-1")
        .into_iter()
        .filter(|v| {
            v["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("verified candidate"))
        })
        .count();
    assert_eq!(verified, 3, "one report per unique candidate verified");

    // The one right patch wins over the majority, and the hover says why.
    let report = client
        .execute("swiss.candidates", json!([{"job": "job-1"}]))
        .await
        .unwrap();
    assert_eq!(report["verification"]["sandbox"], "local");
    let winner = report["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["selected"] == true)
        .unwrap();
    assert!(winner["patch"]
        .as_str()
        .unwrap()
        .contains("+    return a / b\n"));
    let bug_line = line_of(calc::OPS, "    return a // b");
    let hover = client
        .request(
            "textDocument/hover",
            json!({"textDocument": {"uri": uri(&repo.file("calc/ops.py"))}, "position": {"line": bug_line, "character": 4}}),
        )
        .await
        .unwrap();
    let markdown = hover["contents"]["value"].as_str().unwrap();
    // Columns: id, votes, similarity, regression failures, reproduction, score, filtered out,
    // winner.
    let rows: Vec<Vec<&str>> = markdown
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| id"))
        .map(|l| l.trim_matches('|').split('|').map(str::trim).collect())
        .collect();
    let by_votes = |votes: &str| {
        rows.iter()
            .find(|r| r[1] == votes)
            .unwrap_or_else(|| panic!("no row with {votes} votes: {markdown}"))
    };
    let (right, breaks, keeps) = (by_votes("1"), by_votes("3"), by_votes("2"));
    assert_eq!(right[3..], ["0", "passes", right[5], "", "★"], "{markdown}");
    assert_eq!(
        breaks[3..],
        ["1", "passes", breaks[5], "yes", ""],
        "{markdown}"
    );
    assert_eq!(
        keeps[3..],
        ["0", "fails", keeps[5], "yes", ""],
        "{markdown}"
    );
    // Under the table, why each lost, in words; above it, how far to trust the winner.
    let id_with = |votes: u64| {
        report["candidates"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["votes"] == votes)
            .unwrap()["id"]
            .clone()
    };
    assert!(
        markdown.contains(&format!(
            "\nWhy not the others:\n\n- candidate {}: breaks 1 regression test(s): tests/test_ops.py::OpsTest::test_divide_by_zero\n- candidate {}: still prints Issue reproduced\n",
            id_with(3),
            id_with(2)
        )),
        "{markdown}"
    );
    assert!(
        markdown.contains("\n\nConfidence low: the winner holds 1 of 6 samples (17%); winners with under a quarter of the samples were resolved 43% of the time in SWE-Swiss-32B on SWE-bench Verified"),
        "{markdown}"
    );
    assert!(
        !markdown.contains("But "),
        "nothing lowers the band: {markdown}"
    );
    assert_eq!(report["confidence"]["band"], "low");
    let published = client.notifications("textDocument/publishDiagnostics");
    let winner_diagnostic = published
        .iter()
        .rev()
        .find_map(|p| {
            p["diagnostics"]
                .as_array()?
                .iter()
                .find(|d| d["code"] == "winner")
        })
        .unwrap_or_else(|| panic!("no winner diagnostic: {published:#?}"));
    assert!(
        winner_diagnostic["message"].as_str().unwrap().contains(
            "; confidence low: 17% of the samples agree, 43% resolved in SWE-Swiss's runs)"
        ),
        "{winner_diagnostic}"
    );
    assert_eq!(repo.read("calc/ops.py"), calc::OPS);
    client.shutdown().await;
}

/// The subcommand itself: LSP on stdout and nothing else, a clean exit on `exit`.
#[test]
fn swiss_lsp_speaks_over_stdio() {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::process::{Command, Stdio};

    let repo = calc::repo();
    let mut child = Command::new(env!("CARGO_BIN_EXE_swiss"))
        .args(["lsp", "--stdio"])
        .env("SWISS_LOG", "debug")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut send = |message: Value| {
        let body = message.to_string();
        write!(stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        stdin.flush().unwrap();
    };
    let mut receive = || -> Value {
        let mut length = 0;
        loop {
            let mut line = String::new();
            stdout.read_line(&mut line).unwrap();
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(": ").expect("a header line");
            assert_eq!(name, "Content-Length", "only protocol on stdout");
            length = value.parse().unwrap();
        }
        let mut body = vec![0; length];
        stdout.read_exact(&mut body).unwrap();
        serde_json::from_slice(&body).unwrap()
    };
    send(
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "processId": null, "rootUri": uri(repo.path()), "capabilities": {},
        }}),
    );
    let init = receive();
    assert_eq!(init["result"]["serverInfo"]["name"], "swiss");
    assert_eq!(
        init["result"]["capabilities"]["textDocumentSync"]["change"], 2,
        "incremental sync"
    );
    send(json!({"jsonrpc": "2.0", "method": "initialized", "params": {}}));
    send(
        json!({"jsonrpc": "2.0", "id": 2, "method": "workspace/executeCommand", "params": {
            "command": "swiss.candidates", "arguments": [{"job": "job-1"}],
        }}),
    );
    let answer = receive();
    assert_eq!(answer["id"], 2);
    assert!(answer["error"]["message"]
        .as_str()
        .unwrap()
        .contains("unknown job"));
    send(json!({"jsonrpc": "2.0", "id": 3, "method": "shutdown"}));
    assert_eq!(receive()["id"], 3);
    send(json!({"jsonrpc": "2.0", "method": "exit"}));
    drop(stdin);
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}");
    let mut logs = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut logs)
        .unwrap();
    assert!(
        logs.contains("swiss lsp starting"),
        "logs go to stderr: {logs}"
    );
}

/// The processes whose command line contains `marker`, from /proc.
fn processes_with(marker: &str) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
        .map(|raw| String::from_utf8_lossy(&raw).replace('\0', " "))
        .filter(|cmd| cmd.contains(marker))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_kills_the_sandbox_run() {
    // An odd duration names our test run among the machine's processes.
    const MARKER: &str = "41.371";
    let repo = calc::repo();
    let backend = ScriptedBackend::start(calc_script()).await;
    let client = TestClient::start();
    let mut settings = options(&backend);
    settings["sandbox"]["kind"] = json!("local");
    settings["test"] = json!({"command": format!("sleep {MARKER}"), "format": "exit-code"});
    settings["reproduction"] = json!({"enabled": false});
    client
        .initialize(repo.path(), full_capabilities(), settings)
        .await;
    client
        .execute("swiss.fixIssue", json!([{"issue": calc::ISSUE}]))
        .await
        .unwrap();
    client
        .wait_notification(
            "$/progress",
            |p| {
                p["value"]["message"]
                    .as_str()
                    .is_some_and(|m| m.starts_with("verifying in the local sandbox"))
            },
            JOB_TIMEOUT,
        )
        .await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while processes_with(&format!("sleep {MARKER}")).is_empty() {
        assert!(Instant::now() < deadline, "the baseline run never started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let cancelled_at = Instant::now();
    client
        .execute("swiss.cancel", json!([{"job": "job-1"}]))
        .await
        .unwrap();
    let end = wait_progress_end(&client, "swiss/job-1").await;
    assert!(
        end["message"].as_str().unwrap().contains("cancelled"),
        "{end}"
    );
    assert!(
        cancelled_at.elapsed() < Duration::from_secs(1),
        "cancelled after {:?}",
        cancelled_at.elapsed()
    );
    let left = processes_with(&format!("sleep {MARKER}"));
    assert!(left.is_empty(), "sandbox runs left after cancel: {left:?}");
    client.shutdown().await;
}

/// The `swiss/jobEnded` of `job`, waiting for it.
async fn wait_job_ended(client: &TestClient, job: &str) -> Value {
    client
        .wait_notification("swiss/jobEnded", |p| p["job"] == job, JOB_TIMEOUT)
        .await
}

fn job_ended_count(client: &TestClient, job: &str) -> usize {
    client
        .notifications("swiss/jobEnded")
        .iter()
        .filter(|p| p["job"] == job)
        .count()
}

/// A server on the calc fixture with the scripted `script`, and `jobs` jobs started on its issue.
async fn serve_jobs(script: Script, jobs: usize) -> (FixtureRepo, ScriptedBackend, TestClient) {
    let repo = calc::repo();
    let backend = ScriptedBackend::start(script).await;
    let client = TestClient::start();
    client
        .initialize(repo.path(), full_capabilities(), options(&backend))
        .await;
    for _ in 0..jobs {
        client
            .execute("swiss.fixIssue", json!([{"issue": calc::ISSUE}]))
            .await
            .unwrap();
    }
    (repo, backend, client)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn job_ended_reports_a_winner_and_a_job_without_candidates() {
    let (_repo, _backend, client) = serve_jobs(calc_script(), 1).await;
    let ended = wait_job_ended(&client, "job-1").await;
    let end = wait_progress_end(&client, "swiss/job-1").await;
    assert_eq!(
        ended,
        json!({
            "job": "job-1",
            "state": "succeeded",
            "winner": 1,
            "message": end["message"],
            "reason": null,
        })
    );
    assert!(
        ended["message"]
            .as_str()
            .unwrap()
            .starts_with("winner: candidate 1"),
        "{ended}"
    );
    // Applying and dismissing a finished job ends nothing again.
    client
        .execute("swiss.applyCandidate", json!([{"job": "job-1"}]))
        .await
        .unwrap();
    client
        .execute("swiss.dismiss", json!([{"job": "job-1"}]))
        .await
        .unwrap();
    client.shutdown().await;
    assert_eq!(job_ended_count(&client, "job-1"), 1);

    let unusable = Script::new()
        .answer(PromptKind::Localize, [calc::LOCALIZE_ANSWER])
        .answer(PromptKind::Repair, [calc::PROSE, calc::NOT_FOUND]);
    let (_repo, _backend, client) = serve_jobs(unusable, 1).await;
    let ended = wait_job_ended(&client, "job-1").await;
    assert_eq!(ended["state"], "no-candidate", "{ended}");
    assert_eq!(ended["winner"], Value::Null);
    assert_eq!(ended["reason"], Value::Null);
    assert!(
        ended["message"]
            .as_str()
            .unwrap()
            .starts_with("finished: no valid candidate"),
        "{ended}"
    );
    client.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn job_ended_says_why_a_job_was_cancelled() {
    let slow = calc_script().latency(Duration::from_secs(2));
    let (_repo, _backend, client) = serve_jobs(slow, 4).await;
    for token in ["swiss/job-1", "swiss/job-2", "swiss/job-3", "swiss/job-4"] {
        client
            .wait_notification(
                "$/progress",
                |p| p["token"] == token && p["value"]["kind"] == "begin",
                JOB_TIMEOUT,
            )
            .await;
    }
    // The command and the progress UI's button are both the user; a dismiss while the job runs
    // ends it too, and the job it removed is still told of.
    client
        .execute("swiss.cancel", json!([{"job": "job-1"}]))
        .await
        .unwrap();
    client
        .notify(
            "window/workDoneProgress/cancel",
            json!({"token": "swiss/job-2"}),
        )
        .await;
    client
        .execute("swiss.dismiss", json!([{"job": "job-3"}]))
        .await
        .unwrap();
    for (job, reason) in [("job-1", "user"), ("job-2", "user"), ("job-3", "dismiss")] {
        let ended = wait_job_ended(&client, job).await;
        assert_eq!(
            ended,
            json!({
                "job": job,
                "state": "cancelled",
                "winner": null,
                "message": "cancelled; nothing was changed",
                "reason": reason,
            })
        );
    }
    // A dismiss after the cancel does not change why job-1 stopped, nor end it twice.
    client
        .execute("swiss.dismiss", json!([{"job": "job-1"}]))
        .await
        .unwrap();

    // Shutting down ends the job still running.
    let _ = client.request("shutdown", Value::Null).await;
    let ended = wait_job_ended(&client, "job-4").await;
    assert_eq!(ended["state"], "cancelled", "{ended}");
    assert_eq!(ended["reason"], "shutdown", "{ended}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    for job in ["job-1", "job-2", "job-3", "job-4"] {
        assert_eq!(job_ended_count(&client, job), 1, "{job}");
    }
    client.notify("exit", Value::Null).await;
}
