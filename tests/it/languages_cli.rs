//! `swiss fix` on a repository that is not Python: a JavaScript package whose tests are a Node
//! script. Its syntax check refuses a candidate that breaks the file, its normalized key merges
//! two spellings of the right fix, and the local sandbox's test run filters out the majority
//! patch that breaks a test.

use swiss_testkit::js_calc;
use swiss_testkit::ScriptedBackend;

use crate::cli_support::{stderr, stdout_json, swiss_fix, write_issue};

#[test]
fn javascript_fix_merges_its_spellings_and_refuses_a_syntax_break() {
    let repo = js_calc::repo();
    let backend = ScriptedBackend::start_in_background(js_calc::script());
    let issues = tempfile::tempdir().unwrap();
    let issue = write_issue(issues.path(), js_calc::ISSUE);
    let output = swiss_fix(
        repo.path(),
        &[
            "--issue",
            &issue,
            "--backend-url",
            &backend.base_url(),
            "--samples",
            "6",
            "--sandbox",
            "local",
            "--test-cmd",
            js_calc::TEST_COMMAND,
            "--no-reproduction",
            "--json",
        ],
    )
    .output()
    .unwrap();
    let stderr = stderr(&output);
    let json = stdout_json(&output);
    assert_eq!(output.status.code(), Some(0), "{stderr}\n{json:#}");

    let samples = &json["samples"];
    assert_eq!(samples["total"], 6, "{json:#}");
    assert_eq!(samples["valid"], 5, "{json:#}");
    assert_eq!(
        samples["invalid_reasons"]["lib/ops.js no longer parses as JavaScript after the patch"], 1,
        "{json:#}"
    );

    let candidates = json["candidates"].as_array().unwrap();
    assert_eq!(candidates.len(), 2, "{json:#}");
    let with = |line: &str| {
        candidates
            .iter()
            .find(|c| c["patch"].as_str().unwrap().contains(line))
            .unwrap_or_else(|| panic!("no candidate adds {line:?}: {json:#}"))
    };
    let right = with("+  return a / b;\n");
    let breaks = with("+    return 0;\n");
    // Sample 4 spells the fix `a/b` with a comment and no semicolon: one candidate, two votes.
    assert_eq!(
        right["sample_indices"],
        serde_json::json!([1, 4]),
        "{json:#}"
    );
    assert_eq!(right["votes"], 2);
    assert_eq!(right["regression_failures"], 0, "{json:#}");
    assert_eq!(breaks["votes"], 3);
    assert_eq!(breaks["regression_failures"], 1, "{json:#}");
    assert_eq!(breaks["filtered_out"], true);
    assert_eq!(json["winner"], right["id"]);
    assert_eq!(json["verification"]["test_command"], js_calc::TEST_COMMAND);
    assert!(
        json["winner_patch"]
            .as_str()
            .unwrap()
            .contains("+  return a / b;\n"),
        "{json:#}"
    );
    assert_eq!(repo.read("lib/ops.js"), js_calc::OPS, "nothing is applied");
}
