//! What the language fixtures (Go, TypeScript, Rust) must all show after `swiss fix` on seven
//! samples — breaker, fix, breaker's twin, wrong fix, its twin, syntax break, breaker — with a
//! reproduction program: the twins merged, the syntax break invalid, the breaker filtered by a
//! regression test, the wrong fix by the program, and the fix the winner.

use serde_json::Value;
use swiss_testkit::{FixtureRepo, PromptKind, ScriptedBackend};

use crate::cli_support::{stderr, stdout_json, swiss_fix, write_issue};

/// A line each candidate's patch adds, and the syntax check's reason.
pub struct Expected<'a> {
    pub breaker: &'a str,
    pub wrong: &'a str,
    pub right: &'a str,
    pub invalid_reason: &'a str,
}

/// `swiss fix --sandbox local --json` on `repo` for the issue text against `backend`, then
/// `args`: the exit code, the JSON and stderr.
pub fn fix_json(
    repo: &FixtureRepo,
    issue: &str,
    backend: &ScriptedBackend,
    args: &[&str],
) -> (Option<i32>, Value, String) {
    let issues = tempfile::tempdir().unwrap();
    let issue = write_issue(issues.path(), issue);
    let url = backend.base_url();
    let mut all = vec![
        "--issue",
        &issue,
        "--backend-url",
        &url,
        "--sandbox",
        "local",
        "--json",
    ];
    all.extend_from_slice(args);
    let output = swiss_fix(repo.path(), &all).output().unwrap();
    (output.status.code(), stdout_json(&output), stderr(&output))
}

pub fn candidate_with<'a>(json: &'a Value, patch_line: &str) -> &'a Value {
    json["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["patch"].as_str().unwrap().contains(patch_line))
        .unwrap_or_else(|| panic!("no candidate adds {patch_line:?}: {json:#}"))
}

/// Checks the report; returns the tests the breaker broke.
pub fn assert_right_fix_wins(json: &Value, expected: &Expected) -> Value {
    let samples = &json["samples"];
    assert_eq!(samples["valid"], 6, "{json:#}");
    assert_eq!(
        samples["invalid_reasons"][expected.invalid_reason], 1,
        "{json:#}"
    );
    assert_eq!(json["candidates"].as_array().unwrap().len(), 3, "{json:#}");
    let baseline = &json["verification"]["baseline"];
    assert_eq!(baseline["error"], Value::Null, "{baseline:#}");

    let breaks = candidate_with(json, expected.breaker);
    assert_eq!(
        breaks["sample_indices"],
        serde_json::json!([0, 2, 6]),
        "{json:#}"
    );
    assert_eq!(breaks["regression_failures"], 1, "{json:#}");
    assert_eq!(breaks["reproduced"], false, "it fixes the issue: {json:#}");
    assert_eq!(breaks["filtered_out"], true);
    let wrong = candidate_with(json, expected.wrong);
    assert_eq!(
        wrong["sample_indices"],
        serde_json::json!([3, 4]),
        "{json:#}"
    );
    assert_eq!(wrong["regression_failures"], 0, "{json:#}");
    assert_eq!(
        wrong["reproduced"], true,
        "the program still prints Issue reproduced"
    );
    assert_eq!(wrong["filtered_out"], true);
    let right = candidate_with(json, expected.right);
    assert_eq!(right["votes"], 1);
    assert_eq!(right["regression_failures"], 0);
    assert_eq!(right["reproduced"], false);
    assert_eq!(json["winner"], right["id"], "{json:#}");
    json["verification"]["candidates"][breaks["id"].to_string()]["broken"].clone()
}

/// The reproduction prompt the backend was sent, checked for each phrase.
pub fn assert_reproduction_prompt(backend: &ScriptedBackend, phrases: &[&str]) {
    let prompt = backend
        .requests()
        .into_iter()
        .map(|r| r.prompt().to_owned())
        .find(|p| PromptKind::classify(p) == PromptKind::Reproduce)
        .expect("a reproduction prompt");
    for phrase in phrases {
        assert!(
            prompt.contains(phrase),
            "{phrase:?} missing from:\n{prompt}"
        );
    }
}
