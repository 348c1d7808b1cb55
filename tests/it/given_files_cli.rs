//! `swiss fix --files` (localization the user already knows) and the job record it keeps under
//! the git dir: the built binary, the `calc` fixture and the scripted backend.

use serde_json::Value;
use swiss_testkit::{calc, PromptKind, ScriptedBackend};

use crate::cli_support::{stderr, stdout_json, swiss_fix, write_issue};

fn fix(repo: &std::path::Path, issue: &str, backend: &ScriptedBackend, extra: &[&str]) -> Value {
    let url = backend.base_url();
    let mut args = vec![
        "--issue",
        issue,
        "--backend-url",
        &url,
        "--samples",
        "8",
        "--sandbox",
        "none",
        "--json",
    ];
    args.extend_from_slice(extra);
    let output = swiss_fix(repo, &args).output().unwrap();
    let json = stdout_json(&output);
    json.as_object()
        .unwrap()
        .clone()
        .into_iter()
        .chain([
            ("exit".to_owned(), output.status.code().into()),
            ("stderr".to_owned(), stderr(&output).into()),
        ])
        .collect()
}

#[test]
fn given_files_skip_localization_and_the_record_is_kept_in_the_git_dir() {
    let repo = calc::repo();
    let issues = tempfile::tempdir().unwrap();
    let issue = write_issue(issues.path(), calc::ISSUE);
    let backend = ScriptedBackend::start_in_background(calc::script());
    let ops = repo.file("calc/ops.py");
    let ops = ops.to_str().unwrap();
    // Absolute and relative spellings of one file, and a second file, in one multi-value flag.
    let out = fix(
        repo.path(),
        &issue,
        &backend,
        &["--files", ops, "calc/ops.py", "calc/fmt.py"],
    );
    let err = out["stderr"].as_str().unwrap();
    assert_eq!(out["exit"], 0, "{err}");
    assert_eq!(out["status"], "winner");
    assert_eq!(out["winner"], 1);
    assert_eq!(
        out["localized_files"],
        serde_json::json!(["calc/ops.py", "calc/fmt.py"])
    );

    let requests = backend.requests();
    let kinds: Vec<PromptKind> = requests.iter().map(|r| r.kind).collect();
    assert!(
        !kinds.contains(&PromptKind::Localize) && !kinds.contains(&PromptKind::IrrelevantFolders),
        "{kinds:?}"
    );
    let repair: Vec<&str> = requests
        .iter()
        .filter(|r| r.kind == PromptKind::Repair)
        .map(|r| r.prompt())
        .collect();
    assert_eq!(repair.len(), 1, "one context, one request");
    assert!(repair[0].contains("### calc/ops.py") && repair[0].contains("### calc/fmt.py"));
    assert!(!repair[0].contains("### calc/__init__.py"));

    // Kept under the git dir, said on stderr, and readable as the record.
    let kept = repo.path().join(".git/swiss/jobs/job-1");
    assert!(
        err.contains(&format!("kept the job in {}", kept.display())),
        "{err}"
    );
    let record: Value =
        serde_json::from_str(&std::fs::read_to_string(kept.join("record.json")).unwrap()).unwrap();
    assert_eq!(record["localization"]["given"], true);
    assert_eq!(record["localization"]["retrieval"], Value::Null);
    assert_eq!(record["localization"]["samples"], serde_json::json!([]));

    // --no-keep keeps nothing; the progress says the files were given.
    let url = backend.base_url();
    let output = swiss_fix(
        repo.path(),
        &[
            "--issue",
            &issue,
            "--backend-url",
            &url,
            "--samples",
            "8",
            "--sandbox",
            "none",
            "--files",
            "calc/ops.py",
            "--no-keep",
        ],
    )
    .output()
    .unwrap();
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(0), "{err}");
    assert!(
        err.contains("swiss: files given (no localization asked): calc/ops.py\n"),
        "{err}"
    );
    assert!(!err.contains("kept the job"), "{err}");
    assert!(!repo.path().join(".git/swiss/jobs/job-2").exists());
    // The next kept job takes the next number.
    let out = fix(repo.path(), &issue, &backend, &["--files", "calc/ops.py"]);
    assert_eq!(out["exit"], 0);
    assert!(repo
        .path()
        .join(".git/swiss/jobs/job-2/record.json")
        .is_file());
}

#[test]
fn a_bad_given_file_is_one_clear_json_error_and_no_request() {
    let repo = calc::repo();
    let issues = tempfile::tempdir().unwrap();
    let issue = write_issue(issues.path(), calc::ISSUE);
    let backend = ScriptedBackend::start_in_background(calc::script());
    let stray = issues.path().join("issue.md");
    let cases = [
        (stray.to_str().unwrap(), "outside the repository"),
        ("calc/nope.py", "no such file in the repository"),
        ("calc", "it is a folder"),
    ];
    for (path, reason) in cases {
        let out = fix(repo.path(), &issue, &backend, &["--files", path]);
        assert_eq!(out["exit"], 2, "{out:#}");
        assert_eq!(out["status"], "error");
        assert_eq!(out["error"]["kind"], "bad-input");
        let message = out["error"]["message"].as_str().unwrap();
        assert!(
            message.starts_with(&format!("failed to use the given file {path}: "))
                && message.contains(reason),
            "{message}"
        );
        assert!(out["stderr"].as_str().unwrap().contains(message));
    }
    assert!(backend.requests().is_empty());
    assert!(!repo.path().join(".git/swiss/jobs").exists());
}

#[test]
fn jobs_keep_caps_the_kept_jobs_and_zero_keeps_none() {
    let repo = calc::repo();
    let issues = tempfile::tempdir().unwrap();
    let issue = write_issue(issues.path(), calc::ISSUE);
    let backend = ScriptedBackend::start_in_background(calc::script());
    let jobs = repo.path().join(".git/swiss/jobs");
    let kept = || -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&jobs)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    repo.write("swiss.toml", "[jobs]\nkeep = 1\n");
    for _ in 0..2 {
        let out = fix(repo.path(), &issue, &backend, &["--files", "calc/ops.py"]);
        assert_eq!(out["exit"], 0, "{out:#}");
    }
    assert_eq!(kept(), ["job-2"]);
    repo.write("swiss.toml", "[jobs]\nkeep = 0\n");
    let out = fix(repo.path(), &issue, &backend, &["--files", "calc/ops.py"]);
    assert_eq!(out["exit"], 0, "{out:#}");
    assert!(!out["stderr"].as_str().unwrap().contains("kept the job"));
    assert_eq!(kept(), ["job-2"]);
}
