//! `swiss eval` and `swiss rerank` on SWE-bench-format instances built from fixture repositories:
//! a calc package whose `divide` floors, and a strutil package whose `shout` does not shout. Each
//! instance's test patch adds the tests that show its bug. The scripted backend answers both
//! instances at once, telling them apart by a word of each issue. Tests run with pytest in the
//! local sandbox, from the tests' pytest venv.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use serde_json::{json, Value};
use swiss::engine::apply::{FileChange, PatchedFiles};
use swiss::engine::unified_diff::unified_diff;
use swiss_testkit::{calc, FixtureRepo, PromptKind, Script, ScriptedBackend};

use crate::cli_support::stderr;

const PYTEST: &str = "python3 -m pytest -rA -p no:cacheprovider";

/// calc's tests with the test patch: the fixture's.
fn calc_tests_patched() -> &'static str {
    calc::FILES
        .iter()
        .find(|(path, _)| *path == "tests/test_ops.py")
        .map(|(_, text)| *text)
        .unwrap()
}

/// calc's tests before the test patch: the two tests that show the bug are not there yet.
fn calc_tests_base() -> String {
    let without = calc_tests_patched()
        .replace(
            "from calc.ops import add, divide, mean",
            "from calc.ops import add, divide",
        )
        .replace(
            "    def test_divide_fraction(self):\n        self.assertEqual(divide(7, 2), 3.5)\n\n",
            "",
        )
        .replace(
            "    def test_mean(self):\n        self.assertEqual(mean([1, 2]), 1.5)\n\n",
            "",
        );
    assert!(!without.contains("test_mean") && !without.contains("test_divide_fraction"));
    without
}

/// Starts with a heading and ends with blank lines: a `swiss fix` issue file would lose both,
/// the model must see them.
const CALC_STATEMENT: &str =
    "## divide() floors its result\n\n`calc.ops.divide(7, 2)` returns `3` instead of `3.5`.\n\n";

const STRUTIL_TEXT: &str = r#""""Text helpers."""


def shout(text):
    """Return text in capitals with an exclamation mark."""
    return text.lower() + "!"


def whisper(text):
    """Return text in lower case."""
    return text.lower()
"#;

const STRUTIL_TESTS_BASE: &str = r#"import unittest

from strutil.text import shout, whisper


class TextTest(unittest.TestCase):
    def test_whisper(self):
        self.assertEqual(whisper("Hi"), "hi")
"#;

const STRUTIL_TESTS_PATCHED: &str = r#"import unittest

from strutil.text import shout, whisper


class TextTest(unittest.TestCase):
    def test_whisper(self):
        self.assertEqual(whisper("Hi"), "hi")

    def test_shout(self):
        self.assertEqual(shout("hi"), "HI!")
"#;

const STRUTIL_STATEMENT: &str =
    "shout() whispers\n\n`strutil.text.shout(\"hi\")` gives `hi!`, not `HI!`.\n";

const STRUTIL_LOCALIZE: &str = "```\nstrutil/text.py\n```\n";
/// Green on the old tests and wrong: the tests the patch adds still fail.
const STRUTIL_WRONG: &str = "```python\n### strutil/text.py\n<<<<<<< SEARCH\n    return text.lower() + \"!\"\n=======\n    return text.lower() + \"!!\"\n>>>>>>> REPLACE\n```\n";
const STRUTIL_REPRODUCE: &str = "```python\nfrom strutil.text import shout\n\nif shout(\"hi\") == \"HI!\":\n    print(\"Issue resolved\")\nelse:\n    print(\"Issue reproduced\")\n```\n";

struct Dataset {
    _calc: FixtureRepo,
    _strutil: FixtureRepo,
    _dir: tempfile::TempDir,
    repos: PathBuf,
    instances: PathBuf,
    repo_config: PathBuf,
    calc: Value,
    strutil: Value,
}

impl Dataset {
    /// `--instances`, `--repos` and `--repo-config` of this dataset.
    fn input_flags(&self) -> Vec<String> {
        [
            ("--instances", &self.instances),
            ("--repos", &self.repos),
            ("--repo-config", &self.repo_config),
        ]
        .into_iter()
        .flat_map(|(flag, path)| [flag.to_owned(), path.display().to_string()])
        .collect()
    }
}

fn args_of(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

fn diff(path: &str, before: &str, after: &str) -> String {
    unified_diff(&PatchedFiles {
        changes: vec![FileChange {
            path: path.to_owned(),
            before: Some(Arc::from(before)),
            after: after.to_owned(),
        }],
    })
}

fn head(repo: &FixtureRepo) -> String {
    let repo = git2::Repository::open(repo.path()).unwrap();
    let id = repo.head().unwrap().peel_to_commit().unwrap().id();
    id.to_string()
}

fn dataset() -> Dataset {
    let mut calc_files: Vec<(&str, &str)> = calc::FILES
        .iter()
        .copied()
        .filter(|(p, _)| *p != "tests/test_ops.py")
        .collect();
    let base_tests = calc_tests_base();
    calc_files.push(("tests/test_ops.py", &base_tests));
    let calc_repo = FixtureRepo::with_files(&calc_files);
    let strutil_repo = FixtureRepo::with_files(&[
        ("strutil/__init__.py", ""),
        ("strutil/text.py", STRUTIL_TEXT),
        ("tests/__init__.py", ""),
        ("tests/test_text.py", STRUTIL_TESTS_BASE),
        (
            "pyproject.toml",
            "[project]\nname = \"strutil\"\nversion = \"0.1.0\"\n",
        ),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let repos = dir.path().join("repos");
    std::fs::create_dir_all(repos.join("acme")).unwrap();
    // Both namings of the harness: owner__name and owner/name.
    std::os::unix::fs::symlink(calc_repo.path(), repos.join("acme__calc")).unwrap();
    std::os::unix::fs::symlink(strutil_repo.path(), repos.join("acme/strutil")).unwrap();
    let t = |name: &str| format!("tests/test_ops.py::OpsTest::{name}");
    let calc = json!({
        "instance_id": "acme__calc-1",
        "repo": "acme/calc",
        "base_commit": head(&calc_repo),
        "problem_statement": CALC_STATEMENT,
        "test_patch": diff("tests/test_ops.py", &base_tests, calc_tests_patched()),
        // As the dataset stores them: JSON-encoded strings.
        "FAIL_TO_PASS": serde_json::to_string(&[t("test_divide_fraction"), t("test_mean")]).unwrap(),
        "PASS_TO_PASS": serde_json::to_string(&[t("test_add"), t("test_divide_by_zero"), t("test_divide_exact")]).unwrap(),
        "version": "0.1",
        "environment_setup_commit": head(&calc_repo),
        "hints_text": "",
    });
    let strutil = json!({
        "instance_id": "acme__strutil-7",
        "repo": "acme/strutil",
        "base_commit": head(&strutil_repo),
        "problem_statement": STRUTIL_STATEMENT,
        "test_patch": diff("tests/test_text.py", STRUTIL_TESTS_BASE, STRUTIL_TESTS_PATCHED),
        "FAIL_TO_PASS": ["tests/test_text.py::TextTest::test_shout"],
        "PASS_TO_PASS": ["tests/test_text.py::TextTest::test_whisper"],
        "version": "0.1",
    });
    let instances = dir.path().join("instances.jsonl");
    std::fs::write(&instances, format!("{calc}\n{strutil}\n")).unwrap();
    let repo_config = dir.path().join("repos.toml");
    std::fs::write(
        &repo_config,
        format!("[\"acme/calc\"]\ntest.command = \"{PYTEST}\"\n\n[\"acme/strutil\"]\ntest.command = \"{PYTEST}\"\n"),
    )
    .unwrap();
    Dataset {
        _calc: calc_repo,
        _strutil: strutil_repo,
        _dir: dir,
        repos,
        instances,
        repo_config,
        calc,
        strutil,
    }
}

/// The model for both instances: calc gets the right fix by majority, strutil a wrong patch.
fn script(calc_fixes: &[&str]) -> Script {
    Script::new()
        .answer_for("divide", PromptKind::Localize, [calc::LOCALIZE_ANSWER])
        .answer_for("divide", PromptKind::Repair, calc_fixes.iter().copied())
        .answer_for("divide", PromptKind::Reproduce, [calc::REPRODUCE_SCRIPT])
        .answer_for("shout", PromptKind::Localize, [STRUTIL_LOCALIZE])
        .answer_for("shout", PromptKind::Repair, [STRUTIL_WRONG])
        .answer_for("shout", PromptKind::Reproduce, [STRUTIL_REPRODUCE])
}

fn swiss(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_swiss"));
    cmd.args(args);
    // `python3 -m pytest` finds the tests' pytest venv, as in an activated venv.
    cmd.env("PATH", swiss_testkit::pytest_venv().path_env());
    for var in [
        "SWISS_BACKEND_URL",
        "SWISS_MODEL",
        "SWISS_API_KEY",
        "SWISS_LOG",
        "SWISS_SELECTION_COMPAT",
        "GITHUB_TOKEN",
        "GITLAB_TOKEN",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

fn eval(data: &Dataset, backend: &ScriptedBackend, output: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["eval".to_owned()];
    args.extend(data.input_flags());
    for arg in [
        "--output",
        &output.display().to_string(),
        "--backend-url",
        &backend.base_url(),
        "--samples",
        "3",
        "--model-name",
        "swiss-test",
    ]
    .into_iter()
    .chain(extra.iter().copied())
    {
        args.push(arg.to_owned());
    }
    swiss(&args_of(&args)).output().unwrap()
}

fn assert_exit(output: &Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "stderr:\n{}",
        stderr(output)
    );
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn predictions(output: &Path) -> Vec<Value> {
    std::fs::read_to_string(output.join("predictions.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn instance_report<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["instances"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["instance_id"] == id)
        .unwrap_or_else(|| panic!("{id} is not in the report: {report:#}"))
}

fn requests_naming(backend: &ScriptedBackend, word: &str) -> usize {
    backend
        .requests()
        .iter()
        .filter(|r| r.messages.iter().any(|m| m.content.contains(word)))
        .count()
}

#[test]
fn two_instances_at_once_are_solved_graded_and_written() {
    let data = dataset();
    let backend = ScriptedBackend::start_in_background(script(&[
        calc::FIX_A,
        calc::WRONG_KEEPS_BUG,
        calc::FIX_B,
    ]));
    let out = tempfile::tempdir().unwrap();
    let output = eval(&data, &backend, out.path(), &["--jobs", "2", "--grade"]);
    assert_exit(&output, 0);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("resolved 1/2"), "{stdout}");
    assert!(stdout.contains("acme/calc: 1/1 resolved"), "{stdout}");

    // The model saw each problem statement exactly as the dataset has it.
    let localize: Vec<String> = backend
        .requests()
        .iter()
        .filter(|r| {
            PromptKind::classify(&r.messages.last().unwrap().content) == PromptKind::Localize
        })
        .map(|r| r.messages.last().unwrap().content.clone())
        .collect();
    assert_eq!(
        localize.len(),
        2,
        "one request (n = 4) an instance: {localize:?}"
    );
    assert!(localize.iter().any(|p| p.contains(CALC_STATEMENT)));
    assert!(localize.iter().any(|p| p.contains(STRUTIL_STATEMENT)));
    // The test patch never reaches the model.
    assert_eq!(requests_naming(&backend, "test_divide_fraction"), 0);

    // predictions.jsonl: the harness's three fields, one line an instance.
    let mut lines = predictions(out.path());
    lines.sort_by_key(|l| l["instance_id"].as_str().unwrap().to_owned());
    assert_eq!(lines.len(), 2);
    for line in &lines {
        let mut keys: Vec<&String> = line.as_object().unwrap().keys().collect();
        keys.sort();
        assert_eq!(keys, ["instance_id", "model_name_or_path", "model_patch"]);
        assert_eq!(line["model_name_or_path"], "swiss-test");
    }
    let calc_patch = lines[0]["model_patch"].as_str().unwrap();
    assert!(
        calc_patch.starts_with("diff --git a/calc/ops.py b/calc/ops.py"),
        "{calc_patch}"
    );
    assert!(calc_patch.contains("+    return a / b"), "{calc_patch}");
    assert!(lines[1]["model_patch"].as_str().unwrap().contains("!!"));

    let report = read_json(&out.path().join("report.json"));
    let calc = instance_report(&report, "acme__calc-1");
    assert_eq!(calc["resolved"], true, "{calc:#}");
    assert_eq!(calc["samples"], 3);
    assert_eq!(calc["candidates"], 2);
    assert_eq!(calc["error"], Value::Null);
    let strutil = instance_report(&report, "acme__strutil-7");
    assert_eq!(strutil["resolved"], false, "{strutil:#}");
    assert_eq!(
        strutil["grade"]["not_passed"],
        json!(["tests/test_text.py::TextTest::test_shout"])
    );
    assert_eq!(report["summary"]["resolved"], 1);
    assert_eq!(report["summary"]["graded"], 2);

    // The record is the job's: samples, candidates and the verification of each.
    let record = read_json(&out.path().join("records/acme__calc-1.json"));
    assert_eq!(record["samples"].as_array().unwrap().len(), 3);
    assert!(record["verification"]["test_command"]
        .as_str()
        .unwrap()
        .ends_with("tests/test_ops.py"));
}

#[test]
fn resume_sends_no_request_for_finished_instances() {
    let data = dataset();
    let backend = ScriptedBackend::start_in_background(script(&[calc::FIX_A]));
    let out = tempfile::tempdir().unwrap();
    // An earlier run finished calc and was stopped before strutil.
    std::fs::write(
        out.path().join("predictions.jsonl"),
        format!(
            "{}\n",
            json!({"instance_id": "acme__calc-1", "model_name_or_path": "swiss-test", "model_patch": ""})
        ),
    )
    .unwrap();
    let output = eval(&data, &backend, out.path(), &["--resume"]);
    assert_exit(&output, 0);
    assert_eq!(
        requests_naming(&backend, "divide"),
        0,
        "calc was asked for again"
    );
    assert!(requests_naming(&backend, "shout") > 0);
    let ids: Vec<Value> = predictions(out.path())
        .into_iter()
        .map(|l| l["instance_id"].clone())
        .collect();
    assert_eq!(ids, [json!("acme__calc-1"), json!("acme__strutil-7")]);

    // Everything finished: a second resume asks nothing at all.
    let before = backend.requests().len();
    let output = eval(&data, &backend, out.path(), &["--resume"]);
    assert_exit(&output, 0);
    assert_eq!(backend.requests().len(), before);
    assert_eq!(predictions(out.path()).len(), 2);
}

#[test]
fn bad_input_is_exit_2_and_an_unreachable_backend_exit_3() {
    let data = dataset();
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.jsonl");
    std::fs::write(&bad, format!("{}\n{{\"instance_id\": 3\n", data.calc)).unwrap();
    let output = swiss(&[
        "eval",
        "--instances",
        bad.to_str().unwrap(),
        "--repos",
        data.repos.to_str().unwrap(),
        "--output",
        dir.path().join("out").to_str().unwrap(),
    ])
    .output()
    .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("(line 2)"), "{}", stderr(&output));
    assert!(
        !dir.path().join("out").exists(),
        "nothing runs on bad input"
    );

    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut args = vec!["eval".to_owned()];
    args.extend(data.input_flags());
    args.extend([
        "--output".to_owned(),
        dir.path().join("down").display().to_string(),
        "--backend-url".to_owned(),
        format!("http://127.0.0.1:{port}/v1"),
    ]);
    let output = swiss(&args_of(&args))
        .env("SWISS_LOG", "off")
        .output()
        .unwrap();
    assert_exit(&output, 3);
    assert!(stderr(&output).contains("--resume"), "{}", stderr(&output));
    let written = std::fs::read_to_string(dir.path().join("down/predictions.jsonl")).unwrap();
    assert_eq!(written, "", "no instance is marked finished");
}

#[test]
fn a_missing_base_commit_is_recorded_and_the_run_goes_on() {
    let data = dataset();
    let mut calc = data.calc.clone();
    calc["base_commit"] = json!("0123456789abcdef0123456789abcdef01234567");
    std::fs::write(&data.instances, format!("{calc}\n{}\n", data.strutil)).unwrap();
    let backend = ScriptedBackend::start_in_background(script(&[calc::FIX_A]));
    let out = tempfile::tempdir().unwrap();
    let output = eval(&data, &backend, out.path(), &[]);
    assert_exit(&output, 0);
    let report = read_json(&out.path().join("report.json"));
    let calc = instance_report(&report, "acme__calc-1");
    let error = calc["error"].as_str().unwrap();
    assert!(
        error.starts_with("failed to check out 0123456789"),
        "{error}"
    );
    assert_eq!(calc["resolved"], Value::Null);
    assert_eq!(
        instance_report(&report, "acme__strutil-7")["error"],
        Value::Null
    );
    assert_eq!(predictions(out.path()).len(), 2);
}

/// serde_json reads a float back within one unit in the last place, not always to the bit.
fn rounded(value: &Value) -> Value {
    match value {
        Value::Number(n) if n.is_f64() => json!((n.as_f64().unwrap() * 1e12).round() / 1e12),
        Value::Array(items) => Value::Array(items.iter().map(rounded).collect()),
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), rounded(v))).collect())
        }
        other => other.clone(),
    }
}

fn calc_instance(data: &Dataset) -> swiss::eval::instances::Instance {
    serde_json::from_value(data.calc.clone()).unwrap()
}

/// A winner as the job would write it: the calc fixture's answer applied and diffed.
fn calc_patch(answer: &str) -> String {
    let repo = calc::repo();
    let snapshot = swiss::engine::snapshot::RepoSnapshot::open(repo.path(), 1 << 20).unwrap();
    let edits = swiss::engine::edits::parse_search_replace(answer);
    unified_diff(&swiss::engine::apply::apply_edits(&snapshot, &edits).unwrap())
}

#[tokio::test]
async fn grading_follows_the_harness_rule() {
    let data = dataset();
    let instance = calc_instance(&data);
    let mut options = swiss::config::Options::default();
    options.sandbox.kind = Some("local".into());
    let settings = swiss::config::Settings::resolve(&options).unwrap();
    let source = swiss::eval::checkout::find_repo(&data.repos, &instance.repo).unwrap();
    let python = swiss_testkit::pytest_venv().python();
    let command = format!(
        "{} -m pytest -rA -p no:cacheprovider tests/test_ops.py",
        python.display()
    );
    let test = swiss::verify::test_command::from_setting(&command, None, None);
    let cancel = tokio_util::sync::CancellationToken::new();
    let grade = |answer: &str| {
        let patch = if answer.is_empty() {
            String::new()
        } else {
            calc_patch(answer)
        };
        let (instance, source, settings, test, cancel) = (
            instance.clone(),
            source.clone(),
            settings.clone(),
            test.clone(),
            cancel.clone(),
        );
        async move {
            swiss::eval::grade::grade(&instance, &source, &patch, &settings, test, &cancel)
                .await
                .unwrap()
        }
    };
    let right = grade(calc::FIX_A).await;
    assert!(right.resolved, "{right:?}");
    assert!(right.not_passed.is_empty());
    // Every old test passes, and the new ones still fail.
    let green_but_wrong = grade(calc::WRONG_KEEPS_BUG).await;
    assert!(!green_but_wrong.resolved);
    assert_eq!(
        green_but_wrong.not_passed,
        ["tests/test_ops.py::OpsTest::test_divide_fraction"]
    );
    // The new tests pass, and a PASS_TO_PASS test breaks.
    let breaker = grade(calc::WRONG_BREAKS_TEST).await;
    assert!(!breaker.resolved);
    assert_eq!(
        breaker.not_passed,
        ["tests/test_ops.py::OpsTest::test_divide_by_zero"]
    );
    let none = grade("").await;
    assert!(!none.resolved);
    assert_eq!(none.note.as_deref(), Some("no prediction"));
}

#[test]
fn rerank_of_two_runs_is_selection_over_the_pooled_samples() {
    use swiss::engine::selection::{select, Compat, SelectionConfig, Verdict};

    let data = dataset();
    std::fs::write(&data.instances, format!("{}\n", data.calc)).unwrap();
    let first = tempfile::tempdir().unwrap();
    let backend = ScriptedBackend::start_in_background(script(&[
        calc::FIX_A,
        calc::WRONG_KEEPS_BUG,
        calc::WRONG_KEEPS_BUG,
    ]));
    let output = eval(&data, &backend, first.path(), &[]);
    assert_exit(&output, 0);
    // The second run verified nothing: its new candidate must be verified by rerank.
    let second = tempfile::tempdir().unwrap();
    let backend = ScriptedBackend::start_in_background(script(&[
        calc::FIX_B,
        calc::WRONG_BREAKS_TEST,
        calc::WRONG_KEEPS_BUG,
    ]));
    let output = eval(&data, &backend, second.path(), &["--sandbox", "none"]);
    assert_exit(&output, 0);

    let asked = backend.requests().len();
    let merged = tempfile::tempdir().unwrap();
    let mut args = vec!["rerank".to_owned()];
    args.extend(data.input_flags());
    args.extend([
        "--records".to_owned(),
        first.path().display().to_string(),
        "--records".to_owned(),
        second.path().join("records").display().to_string(),
        "--output".to_owned(),
        merged.path().display().to_string(),
        "--grade".to_owned(),
    ]);
    let output = swiss(&args_of(&args)).output().unwrap();
    assert_exit(&output, 0);
    assert_eq!(backend.requests().len(), asked, "rerank asked the model");

    // Selection by hand over the six samples, with the verdicts of the first run and the one
    // rerank found for the candidate only the second run had.
    let records = [
        read_json(&first.path().join("records/acme__calc-1.json")),
        read_json(&second.path().join("records/acme__calc-1.json")),
    ];
    let keys: Vec<String> = records
        .iter()
        .flat_map(|r| r["samples"].as_array().unwrap().clone())
        .map(|s| s["key"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(keys.len(), 6);
    let first_verdicts = &records[0]["verification"]["candidates"];
    let merged_record = read_json(&merged.path().join("records/acme__calc-1.json"));
    let verdict = |key: &str| {
        let from_first = records[0]["candidates"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["key"] == key)
            .map(|c| first_verdicts[c["id"].to_string()].clone());
        let tests = from_first.unwrap_or_else(|| {
            let id = merged_record["candidates"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["key"] == key)
                .unwrap()["id"]
                .to_string();
            merged_record["verification"]["candidates"][id].clone()
        });
        Verdict {
            regression_failures: tests["regression_failures"].as_u64().map(|n| n as u32),
            reproduction_passed: tests["reproduction"].as_str().map(|v| v == "resolved"),
        }
    };
    let expected = select(
        &keys,
        &verdict,
        &SelectionConfig {
            compat: Compat::Swiss,
        },
    );
    assert_eq!(
        rounded(&merged_record["ranking"]),
        rounded(&serde_json::to_value(&expected).unwrap())
    );
    // The candidate only the second run had was verified here: it breaks a regression test.
    let breaker = expected
        .candidates
        .iter()
        .find(|c| c.regression_failures == Some(1))
        .expect("the breaking candidate was verified by rerank");
    assert!(breaker.filtered_out, "{breaker:?}");
    let winner = expected.winning_candidate().unwrap();
    assert_eq!(
        winner.votes, 2,
        "FIX_A and FIX_B are one candidate over the two runs"
    );

    let report = read_json(&merged.path().join("report.json"));
    assert_eq!(instance_report(&report, "acme__calc-1")["resolved"], true);
    let lines = predictions(merged.path());
    assert_eq!(lines.len(), 1);
    assert!(lines[0]["model_patch"]
        .as_str()
        .unwrap()
        .contains("+    return a / b"));
}

#[test]
fn ctrl_c_keeps_finished_instances_and_resume_completes_the_run() {
    let data = dataset();
    // Slow enough that strutil is still running when calc is written.
    let backend = ScriptedBackend::start_in_background(
        script(&[calc::FIX_A]).latency(std::time::Duration::from_millis(700)),
    );
    let out = tempfile::tempdir().unwrap();
    let mut args = vec!["eval".to_owned()];
    args.extend(data.input_flags());
    args.extend(
        ["--output", out.path().to_str().unwrap(), "--backend-url"]
            .map(str::to_owned)
            .into_iter()
            .chain([backend.base_url(), "--samples".into(), "2".into()]),
    );
    let mut child = swiss(&args_of(&args))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let written = out.path().join("predictions.jsonl");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while std::fs::read_to_string(&written).map_or(true, |t| t.lines().count() < 1) {
        assert!(std::time::Instant::now() < deadline, "calc never finished");
        assert!(child.try_wait().unwrap().is_none(), "the run ended early");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // SAFETY: kill(2) on the child this test started.
    let sent = unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    assert_eq!(sent, 0);
    let output = child.wait_with_output().unwrap();
    assert_exit(&output, 130);
    assert!(
        stderr(&output).contains("--resume runs the rest"),
        "{}",
        stderr(&output)
    );
    let ids: Vec<Value> = predictions(out.path())
        .into_iter()
        .map(|l| l["instance_id"].clone())
        .collect();
    assert_eq!(ids, [json!("acme__calc-1")]);
    let report = read_json(&out.path().join("report.json"));
    assert_eq!(report["instances"].as_array().unwrap().len(), 1);

    let asked_for_calc = requests_naming(&backend, "divide");
    let output = eval(&data, &backend, out.path(), &["--resume"]);
    assert_exit(&output, 0);
    assert_eq!(requests_naming(&backend, "divide"), asked_for_calc);
    assert_eq!(predictions(out.path()).len(), 2);
    let report = read_json(&out.path().join("report.json"));
    assert_eq!(report["summary"]["instances"], 2);
    assert_eq!(report["summary"]["errors"], 0, "{report:#}");
}

#[test]
fn an_instance_is_verified_and_graded_in_docker() {
    let Some(image) = crate::docker_env::docker_test_image() else {
        return;
    };
    let data = dataset();
    std::fs::write(&data.instances, format!("{}\n", data.calc)).unwrap();
    let backend = ScriptedBackend::start_in_background(script(&[
        calc::WRONG_KEEPS_BUG,
        calc::FIX_A,
        calc::WRONG_BREAKS_TEST,
    ]));
    let out = tempfile::tempdir().unwrap();
    let output = eval(
        &data,
        &backend,
        out.path(),
        &["--grade", "--image-template", &image],
    );
    assert_exit(&output, 0);
    let record = read_json(&out.path().join("records/acme__calc-1.json"));
    assert_eq!(record["verification"]["sandbox"], "docker");
    assert_eq!(record["verification"]["image"], image.as_str());
    let report = read_json(&out.path().join("report.json"));
    let calc = instance_report(&report, "acme__calc-1");
    assert_eq!(calc["resolved"], true, "{calc:#}");
}
