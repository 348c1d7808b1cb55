//! Localization as SWE-Swiss runs it (DESIGN 3.1), end to end through `swiss fix`: four
//! answers, the irrelevant-folders question, retrieval, one repair context per distinct
//! answer-plus-retrieval merge, and the repair samples split over them in one request each.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;
use swiss_testkit::calc;
use swiss_testkit::{PromptKind, RecordedRequest, Script, ScriptedBackend};

use crate::cli_support::{stderr, stdout_json, swiss_fix as swiss, write_issue};

/// Four answers, two of them alike: three distinct contexts once retrieval's files join them.
const ANSWERS: [&str; 4] = [
    "```\ncalc/ops.py\n```",
    "```\ncalc/fmt.py\n```",
    "```\ncalc/ops.py\n```",
    "```\ncalc/__init__.py\ncalc/ops.py\n```",
];

fn script() -> Script {
    Script::new()
        .answer(PromptKind::Localize, ANSWERS)
        .answer(PromptKind::Repair, [calc::FIX_A, calc::WRONG_ADD])
}

/// Runs `swiss fix` with default sample counts and no sandbox; returns the `--json` output and
/// the `--record`.
fn run(repo: &Path, backend: &ScriptedBackend) -> (Value, Value) {
    let dir = tempfile::tempdir().unwrap();
    let issue = write_issue(dir.path(), calc::ISSUE);
    let record = dir.path().join("record.json");
    let output = swiss(
        repo,
        &[
            "--issue",
            &issue,
            "--backend-url",
            &backend.base_url(),
            "--sandbox",
            "none",
            "--json",
            "--record",
            record.to_str().unwrap(),
        ],
    )
    .output()
    .unwrap();
    assert_eq!(output.status.code(), Some(0), "stderr: {}", stderr(&output));
    let record: Value = serde_json::from_slice(&std::fs::read(&record).unwrap()).unwrap();
    (stdout_json(&output), record)
}

fn of_kind(requests: &[RecordedRequest], kind: PromptKind) -> Vec<&RecordedRequest> {
    requests.iter().filter(|r| r.kind == kind).collect()
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {value}"))
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn each_answer_is_a_repair_context_and_the_forty_samples_are_split_over_them() {
    let repo = calc::repo();
    let backend = ScriptedBackend::start_in_background(script());
    let (json, record) = run(repo.path(), &backend);
    let requests = backend.requests();

    let localize = of_kind(&requests, PromptKind::Localize);
    assert_eq!(localize.len(), 1, "the 4 answers come from one request");
    assert_eq!(localize[0].n, Some(4));
    let irrelevant = of_kind(&requests, PromptKind::IrrelevantFolders);
    assert_eq!(irrelevant.len(), 1);
    assert_eq!(irrelevant[0].n, Some(1));
    let question = &irrelevant[0].messages.last().unwrap().content;
    assert!(
        question.contains(
            "### Repository Structure ###\ncalc/\n    __init__.py\n    fmt.py\n    ops.py\n\n###"
        ),
        "{question}"
    );
    assert!(question.contains(calc::ISSUE.trim_end()), "{question}");
    assert!(of_kind(&requests, PromptKind::Embedding).is_empty());

    let localization = &record["localization"];
    assert_eq!(localization["retrieval"]["method"], "bm25");
    assert_eq!(
        localization["retrieval"]["files"][0], "calc/ops.py",
        "BM25 puts the file holding the issue's identifiers first: {localization:#}"
    );
    let contexts = localization["contexts"].as_array().unwrap();
    // Answers 0 and 2 name the same file, so their contexts merge and add their shares.
    let shares: Vec<u64> = contexts
        .iter()
        .map(|c| c["samples"].as_u64().unwrap())
        .collect();
    assert_eq!(shares, [20, 10, 10], "{localization:#}");
    assert_eq!(contexts[0]["answers"], serde_json::json!([0, 2]));
    let retrieved = strings(&localization["retrieval"]["files"]);
    for (context, answer) in contexts
        .iter()
        .zip(["calc/ops.py", "calc/fmt.py", "calc/__init__.py"])
    {
        let files = strings(&context["files"]);
        assert_eq!(
            files[0], answer,
            "a file both sides name comes first: {files:?}"
        );
        let expected: BTreeSet<&str> = retrieved
            .iter()
            .take(3)
            .map(String::as_str)
            .chain([answer])
            .collect();
        assert_eq!(
            files.iter().map(String::as_str).collect::<BTreeSet<_>>(),
            expected
        );
    }

    let repair = of_kind(&requests, PromptKind::Repair);
    assert_eq!(repair.len(), 3, "one request per distinct context");
    let mut asked: Vec<(String, u64)> = repair
        .iter()
        .map(|r| (r.messages.last().unwrap().content.clone(), r.n.unwrap()))
        .collect();
    assert_eq!(asked.iter().map(|(_, n)| n).sum::<u64>(), 40);
    for (context, share) in contexts.iter().zip(&shares) {
        let files = strings(&context["files"]);
        let at = asked
            .iter()
            .position(|(prompt, n)| {
                let positions: Vec<Option<usize>> = files
                    .iter()
                    .map(|f| prompt.find(&format!("### {f}\n")))
                    .collect();
                *n == *share
                    && positions.iter().all(Option::is_some)
                    && positions.windows(2).all(|w| w[0] < w[1])
            })
            .unwrap_or_else(|| {
                panic!("no repair request shows {files:?} in order with n = {share}")
            });
        asked.remove(at);
    }

    // Indices run over the whole job, context by context, and each sample knows its context.
    let samples = record["samples"].as_array().unwrap();
    assert_eq!(samples.len(), 40);
    let mut seen: Vec<(u64, u64)> = samples
        .iter()
        .map(|s| (s["index"].as_u64().unwrap(), s["context"].as_u64().unwrap()))
        .collect();
    seen.sort();
    let expected: Vec<(u64, u64)> = (0..40)
        .map(|i| {
            (
                i,
                if i < 20 {
                    0
                } else if i < 30 {
                    1
                } else {
                    2
                },
            )
        })
        .collect();
    assert_eq!(seen, expected);

    // The editor and --json show the union, most-voted first.
    let union = strings(&json["localized_files"]);
    assert_eq!(union, strings(&localization["files"]));
    let mut sorted = union.clone();
    sorted.sort();
    assert_eq!(sorted, ["calc/__init__.py", "calc/fmt.py", "calc/ops.py"]);
    assert_eq!(union[0], "calc/ops.py");
}

#[test]
fn irrelevant_folders_are_left_out_of_retrieval() {
    let repo = calc::repo();
    let backend = ScriptedBackend::start_in_background(
        script().answer(PromptKind::IrrelevantFolders, ["```\ncalc/\n```"]),
    );
    let (_, record) = run(repo.path(), &backend);
    let localization = &record["localization"];
    assert_eq!(
        localization["irrelevant"]["folders"],
        serde_json::json!(["calc/"])
    );
    assert_eq!(localization["retrieval"]["files_searched"], 0);
    assert_eq!(localization["retrieval"]["files"], serde_json::json!([]));
    // Without retrieval's files, each context is its answer alone.
    let contexts: Vec<Vec<String>> = localization["contexts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| strings(&c["files"]))
        .collect();
    assert_eq!(
        contexts,
        [
            vec!["calc/ops.py"],
            vec!["calc/fmt.py"],
            vec!["calc/__init__.py", "calc/ops.py"]
        ]
    );
}

#[test]
fn an_embedding_server_ranks_the_chunks_when_configured() {
    let repo = calc::repo();
    let backend = ScriptedBackend::start_in_background(script());
    repo.write(
        "swiss.toml",
        &format!(
            "[backend]\napi_key = \"sk-embed\"\n\n[retrieval]\nembedding_url = \"{}\"\nembedding_model = \"embed-test\"\n",
            backend.base_url()
        ),
    );
    let (_, record) = run(repo.path(), &backend);
    let requests = backend.requests();
    let embedding = of_kind(&requests, PromptKind::Embedding);
    assert_eq!(
        embedding.len(),
        2,
        "the issue, then the chunks in one batch"
    );
    assert!(embedding
        .iter()
        .all(|r| r.model.as_deref() == Some("embed-test")));
    assert!(
        embedding
            .iter()
            .all(|r| r.authorization.as_deref() == Some("Bearer sk-embed")),
        "the embedding server gets the backend's key, as the chat requests do"
    );
    assert_eq!(
        embedding[0].body["input"],
        serde_json::json!([calc::ISSUE.trim_end()])
    );
    let chunks = embedding[1].body["input"].as_array().unwrap();
    assert_eq!(chunks.len(), 3, "one chunk per source file, tests left out");
    assert!(chunks.iter().all(|c| c
        .as_str()
        .unwrap()
        .starts_with("Metadata:\n### File Name: calc/")));
    let retrieval = &record["localization"]["retrieval"];
    assert_eq!(retrieval["method"], "embeddings");
    assert_eq!(retrieval["chunks"], 3);
    assert_eq!(
        strings(&retrieval["files"])
            .into_iter()
            .collect::<BTreeSet<_>>()
            .len(),
        3
    );
}

#[test]
fn an_embedding_server_that_fails_leaves_bm25_with_a_warning() {
    let repo = calc::repo();
    let backend = ScriptedBackend::start_in_background(script());
    // A port nothing listens on once the listener is dropped.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    repo.write(
        "swiss.toml",
        &format!(
            "[backend]\nmax_retries = 0\n\n[retrieval]\nembedding_url = \"http://{closed}/v1\"\nembedding_model = \"embed-test\"\n"
        ),
    );
    let dir = tempfile::tempdir().unwrap();
    let issue = write_issue(dir.path(), calc::ISSUE);
    let record = dir.path().join("record.json");
    let output = swiss(
        repo.path(),
        &[
            "--issue",
            &issue,
            "--backend-url",
            &backend.base_url(),
            "--sandbox",
            "none",
            "--record",
            record.to_str().unwrap(),
        ],
    )
    .output()
    .unwrap();
    assert_eq!(output.status.code(), Some(0), "stderr: {}", stderr(&output));
    let err = stderr(&output);
    assert!(
        err.contains("failed to rank files with the embedding server")
            && err.contains(&closed.to_string())
            && err.contains("falls back to BM25"),
        "{err}"
    );
    let record: Value = serde_json::from_slice(&std::fs::read(&record).unwrap()).unwrap();
    assert_eq!(record["localization"]["retrieval"]["method"], "bm25");
    assert_eq!(
        record["localization"]["retrieval"]["files"][0],
        "calc/ops.py"
    );
}
