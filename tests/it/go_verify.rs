//! `swiss fix` on a Go module: `go test -json ./...` detected from `go.mod`, and the regression
//! filter reading its results test by test. Where `go` is missing these tests skip, and fail
//! with SWISS_REQUIRE_GO=1 (CI installs Go and sets it): a skip there would report a pass for a
//! test that tested nothing.

use std::path::Path;

use serde_json::Value;
use swiss_testkit::{go_calc, ScriptedBackend};

use crate::cli_support::{stderr, stdout_json, swiss_fix, write_issue};
use crate::toolchains;

fn run_fix(repo: &Path, backend: &ScriptedBackend, extra: &[&str]) -> (Option<i32>, Value, String) {
    let issues = tempfile::tempdir().unwrap();
    let issue = write_issue(issues.path(), go_calc::ISSUE);
    let url = backend.base_url();
    let mut args = vec![
        "--issue",
        &issue,
        "--backend-url",
        &url,
        "--samples",
        "4",
        "--no-reproduction",
        "--json",
    ];
    args.extend_from_slice(extra);
    let output = swiss_fix(repo, &args).output().unwrap();
    (output.status.code(), stdout_json(&output), stderr(&output))
}

fn candidate_with<'a>(json: &'a Value, patch_line: &str) -> &'a Value {
    json["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["patch"].as_str().unwrap().contains(patch_line))
        .unwrap_or_else(|| panic!("no candidate adds {patch_line:?}: {json:#}"))
}

#[test]
fn go_test_json_results_filter_a_regression_test_by_test() {
    if !toolchains::available(
        "go",
        "install Go (Debian's golang-go)",
        "go_test_json_results_filter_a_regression_test_by_test",
    ) {
        return;
    }
    let repo = go_calc::repo();
    let backend = ScriptedBackend::start_in_background(go_calc::script());
    let (code, json, stderr) = run_fix(repo.path(), &backend, &["--sandbox", "local"]);
    assert_eq!(code, Some(0), "{stderr}\n{json:#}");

    let verification = &json["verification"];
    assert_eq!(verification["test_command"], "go test -json ./...");
    let baseline = &verification["baseline"];
    assert_eq!(baseline["error"], Value::Null, "{baseline:#}");
    assert_eq!(
        baseline["passed"], 3,
        "TestAdd, TestDivideByZero and TestDivide/exact: {baseline:#}"
    );
    assert_eq!(
        baseline["failed"], 2,
        "TestDivide/fraction and its parent TestDivide"
    );

    let breaks = candidate_with(&json, "+\t_ = errors.New\n");
    // The fix keeps the zero check's closing brace as context; the breaker removes it.
    let right = candidate_with(&json, " \t}\n-\treturn float64(a / b), nil\n");
    assert_eq!(breaks["votes"], 3);
    assert_eq!(breaks["regression_failures"], 1, "{json:#}");
    assert_eq!(breaks["filtered_out"], true);
    assert_eq!(
        verification["candidates"][breaks["id"].to_string()]["broken"],
        serde_json::json!(["example.com/gocalc/calc::TestDivideByZero"]),
        "{verification:#}"
    );
    assert_eq!(right["votes"], 1);
    assert_eq!(right["regression_failures"], 0);
    assert_eq!(right["selected"], true);
    assert_eq!(json["winner"], right["id"]);
}
