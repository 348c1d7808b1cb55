//! `swiss lsp` and parts of candidates: applying some hunks of one, and reading a candidate's
//! files whole (`swiss.candidateText`), against the calc fixture and a winner with two hunks in
//! two files.

use serde_json::{json, Value};
use swiss_testkit::{calc, ScriptedBackend};

use crate::lsp::{code_actions, full_capabilities, line_of, options, titles, wait_progress_end};
use crate::lsp_client::{apply_to_disk, uri, TestClient};

const FMT: &str =
    "\"\"\"Formatting of results.\"\"\"\n\n\ndef show(value):\n    return f\"{value:g}\"\n";

/// The job's candidates by what they change: (the two-file winner, the plain fix).
async fn candidate_ids(client: &TestClient, job: &str) -> (u64, u64) {
    let report = client
        .execute("swiss.candidates", json!([{ "job": job }]))
        .await
        .unwrap();
    let id = |wanted: &dyn Fn(&str) -> bool| -> u64 {
        report["candidates"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| wanted(c["patch"].as_str().unwrap()))
            .unwrap_or_else(|| panic!("no such candidate: {report:#}"))["id"]
            .as_u64()
            .unwrap()
    };
    let two = id(&|p| p.contains("calc/fmt.py"));
    let plain = id(&|p| !p.contains("calc/fmt.py") && p.contains("a / b"));
    assert_eq!(report["winner"], two, "{report:#}");
    (two, plain)
}

fn last_diagnostics(client: &TestClient, file_uri: &str) -> Vec<Value> {
    client
        .notifications("textDocument/publishDiagnostics")
        .iter()
        .rev()
        .find(|p| p["uri"] == file_uri)
        .map(|p| p["diagnostics"].as_array().unwrap().clone())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_hunk_of_a_two_hunk_winner_is_applied_alone_and_a_stale_one_is_refused() {
    let repo = calc::repo();
    let backend = ScriptedBackend::start(calc::two_hunk_script()).await;
    let client = TestClient::start();
    client
        .initialize(repo.path(), full_capabilities(), options(&backend))
        .await;
    let ops = repo.file("calc/ops.py");
    let fmt = repo.file("calc/fmt.py");
    client.did_open(&ops, 1, calc::OPS).await;
    client
        .execute("swiss.fixIssue", json!([{"issue": calc::ISSUE}]))
        .await
        .unwrap();
    wait_progress_end(&client, "swiss/job-1").await;
    let (winner, _) = candidate_ids(&client, "job-1").await;

    // One diagnostic per hunk, numbered across files in path order: calc/fmt.py's first.
    let fmt_hunks = last_diagnostics(&client, &uri(&fmt));
    let ops_hunks = last_diagnostics(&client, &uri(&ops));
    assert_eq!(fmt_hunks.len(), 1, "{fmt_hunks:#?}");
    assert_eq!(ops_hunks.len(), 1, "{ops_hunks:#?}");
    assert_eq!(
        fmt_hunks[0]["data"],
        json!({"job": "job-1", "candidate": winner, "hunk": 0})
    );
    assert_eq!(
        ops_hunks[0]["data"],
        json!({"job": "job-1", "candidate": winner, "hunk": 1})
    );
    let bug_line = line_of(calc::OPS, "    return a // b");
    assert_eq!(ops_hunks[0]["range"]["start"]["line"], bug_line);

    // The code action on that diagnostic applies that hunk only.
    let actions = code_actions(&client, &ops, bug_line, json!([ops_hunks[0]])).await;
    let title = format!("Apply only this hunk (hunk 1 of candidate {winner})");
    let action = actions
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["title"] == title.as_str())
        .unwrap_or_else(|| panic!("no {title:?} in {:?}", titles(&actions)));
    assert_eq!(action["kind"], "quickfix");
    let arguments = action["command"]["arguments"].clone();
    assert_eq!(
        arguments,
        json!([{"job": "job-1", "candidate": winner, "hunks": [1]}])
    );
    let unknown = client
        .execute(
            "swiss.applyCandidate",
            json!([{"job": "job-1", "hunks": [2]}]),
        )
        .await
        .unwrap_err();
    assert_eq!(unknown["code"], -32602, "{unknown}");
    assert!(
        unknown["message"]
            .as_str()
            .unwrap()
            .contains("has no hunk 2: its hunks are numbered 0 to 1"),
        "{unknown}"
    );
    let applied = client
        .execute("swiss.applyCandidate", arguments)
        .await
        .unwrap();
    assert_eq!(applied["applied"], true);
    let edits = client.server_requests("workspace/applyEdit");
    assert_eq!(edits.len(), 1);
    let changes = edits[0]["edit"]["documentChanges"].as_array().unwrap();
    assert_eq!(changes.len(), 1, "only calc/ops.py: {changes:#?}");
    assert_eq!(changes[0]["textDocument"]["uri"], uri(&ops));
    assert_eq!(changes[0]["textDocument"]["version"], 1);
    apply_to_disk(&edits[0]["edit"]);
    assert_eq!(
        repo.read("calc/ops.py"),
        calc::OPS.replace("    return a // b", "    return a / b")
    );
    assert_eq!(repo.read("calc/fmt.py"), FMT, "the other hunk is left out");
    let again = client
        .execute(
            "swiss.applyCandidate",
            json!([{"job": "job-1", "hunks": [0]}]),
        )
        .await
        .unwrap_err();
    assert!(
        again["message"]
            .as_str()
            .unwrap()
            .contains("already applied"),
        "{again}"
    );

    // A second job; the buffer moves on after it read it. Its hunk there is refused, with
    // nothing sent, while the hunk in the untouched file still applies.
    repo.write("calc/ops.py", calc::OPS);
    client
        .execute("swiss.fixIssue", json!([{"issue": calc::ISSUE}]))
        .await
        .unwrap();
    wait_progress_end(&client, "swiss/job-2").await;
    let (winner, _) = candidate_ids(&client, "job-2").await;
    client
        .notify(
            "textDocument/didChange",
            json!({
                "textDocument": {"uri": uri(&ops), "version": 2},
                "contentChanges": [{"text": format!("# edited\n{}", calc::OPS)}],
            }),
        )
        .await;
    let stale = client
        .execute(
            "swiss.applyCandidate",
            json!([{"job": "job-2", "candidate": winner, "hunks": [1]}]),
        )
        .await
        .unwrap_err();
    assert_eq!(stale["code"], -32803, "{stale}");
    assert!(
        stale["message"].as_str().unwrap().contains(
            "calc/ops.py changed since Swiss read it (the buffer is at version 2, the job saw version 1)"
        ),
        "{stale}"
    );
    assert_eq!(client.server_requests("workspace/applyEdit").len(), 1);
    let fresh = client
        .execute(
            "swiss.applyCandidate",
            json!([{"job": "job-2", "candidate": winner, "hunks": [0]}]),
        )
        .await
        .unwrap();
    assert_eq!(fresh["applied"], true);
    let edits = client.server_requests("workspace/applyEdit");
    let changes = edits[1]["edit"]["documentChanges"].as_array().unwrap();
    assert_eq!(changes.len(), 1, "{changes:#?}");
    assert_eq!(changes[0]["textDocument"]["uri"], uri(&fmt));
    apply_to_disk(&edits[1]["edit"]);
    assert_eq!(
        repo.read("calc/fmt.py"),
        FMT.replace("{value:g}", "{value:.3g}")
    );
    client.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn candidate_text_serves_each_candidates_files_whole() {
    let repo = calc::repo();
    let backend = ScriptedBackend::start(calc::two_hunk_script()).await;
    let client = TestClient::start();
    client
        .initialize(repo.path(), full_capabilities(), options(&backend))
        .await;
    client
        .execute("swiss.fixIssue", json!([{"issue": calc::ISSUE}]))
        .await
        .unwrap();
    wait_progress_end(&client, "swiss/job-1").await;
    let (two, plain) = candidate_ids(&client, "job-1").await;
    let text = |candidate: u64, path: &str| {
        let client = &client;
        let path = path.to_owned();
        async move {
            client
                .execute(
                    "swiss.candidateText",
                    json!([{"job": "job-1", "candidate": candidate, "path": path}]),
                )
                .await
        }
    };

    let fixed = calc::OPS.replace("    return a // b", "    return a / b");
    assert_eq!(
        text(two, "calc/ops.py").await.unwrap(),
        json!({"path": "calc/ops.py", "text": fixed, "original": calc::OPS, "changed": true})
    );
    assert_eq!(
        text(two, "calc/fmt.py").await.unwrap()["text"],
        FMT.replace("{value:g}", "{value:.3g}")
    );
    // A file only the other candidate changes reads as the job read it.
    assert_eq!(
        text(plain, "calc/fmt.py").await.unwrap(),
        json!({"path": "calc/fmt.py", "text": FMT, "original": FMT, "changed": false})
    );

    let unknown_path = text(two, "calc/nope.py").await.unwrap_err();
    assert_eq!(unknown_path["code"], -32803, "{unknown_path}");
    assert!(
        unknown_path["message"]
            .as_str()
            .unwrap()
            .contains("no candidate of job-1 changes calc/nope.py; ask for one of the files"),
        "{unknown_path}"
    );
    let unknown_candidate = text(99, "calc/ops.py").await.unwrap_err();
    assert!(
        unknown_candidate["message"]
            .as_str()
            .unwrap()
            .contains("job-1 has no candidate 99"),
        "{unknown_candidate}"
    );
    let no_path = client
        .execute(
            "swiss.candidateText",
            json!([{"job": "job-1", "candidate": two}]),
        )
        .await
        .unwrap_err();
    assert_eq!(no_path["code"], -32602, "{no_path}");
    assert!(
        no_path["message"]
            .as_str()
            .unwrap()
            .contains("{job: string, candidate: number, path: string}"),
        "{no_path}"
    );
    client.shutdown().await;
}
