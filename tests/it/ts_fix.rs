//! `swiss fix` end to end on a TypeScript package (`ts_calc`), verified in the local sandbox by
//! Vitest (`--reporter=json`, read test by test) with the npm packages `.ci/npm-fixture-setup.sh`
//! prepared, and by a TypeScript reproduction program run with tsx: the right fix wins over a
//! majority that breaks a test and over a wrong fix the program still catches, formatting
//! variants merge with their twins, and a syntax break is invalid.

use serde_json::Value;
use swiss_testkit::{ts_calc, FixtureRepo, PromptKind, ScriptedBackend};

use crate::cli_support::{stderr, stdout_json, swiss_fix, write_issue};

fn candidate_with<'a>(json: &'a Value, patch_line: &str) -> &'a Value {
    json["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["patch"].as_str().unwrap().contains(patch_line))
        .unwrap_or_else(|| panic!("no candidate adds {patch_line:?}: {json:#}"))
}

#[test]
fn typescript_fix_is_chosen_by_vitest_and_a_tsx_reproduction_program() {
    let test = "typescript_fix_is_chosen_by_vitest_and_a_tsx_reproduction_program";
    let Some(node_modules) = crate::toolchains::npm_fixture(test) else {
        return;
    };
    let node_modules = node_modules.display().to_string();
    // The run's copy holds the tracked files only: the program's run links the packages too,
    // then runs the default TypeScript command.
    let settings = format!(
        "[reproduction]\nsamples = 2\ncommand = \"ln -sfn '{node_modules}' node_modules && npx --no --offline tsx {{file}}\"\n"
    );
    let mut files = ts_calc::FILES.to_vec();
    files.push(("swiss.toml", &settings));
    let repo = FixtureRepo::with_files(&files);
    let backend = ScriptedBackend::start_in_background(ts_calc::script());
    let issues = tempfile::tempdir().unwrap();
    let issue = write_issue(issues.path(), ts_calc::ISSUE);
    let url = backend.base_url();
    let command = ts_calc::test_command(&node_modules);
    let output = swiss_fix(
        repo.path(),
        &[
            "--issue",
            &issue,
            "--backend-url",
            &url,
            "--samples",
            "7",
            "--sandbox",
            "local",
            "--test-cmd",
            &command,
            "--json",
        ],
    )
    .output()
    .unwrap();
    let (json, stderr) = (stdout_json(&output), stderr(&output));
    assert_eq!(output.status.code(), Some(0), "{stderr}\n{json:#}");

    let baseline = &json["verification"]["baseline"];
    assert_eq!(baseline["error"], Value::Null, "{baseline:#}");
    assert_eq!(
        baseline["passed"], 3,
        "add, refuses zero, divides exactly: {baseline:#}"
    );
    assert_eq!(baseline["failed"], 1, "keeps fractions: {baseline:#}");

    let samples = &json["samples"];
    assert_eq!(samples["valid"], 6, "{json:#}");
    assert_eq!(
        samples["invalid_reasons"]["src/calc.ts no longer parses as TypeScript after the patch"], 1,
        "{json:#}"
    );
    assert_eq!(json["candidates"].as_array().unwrap().len(), 3, "{json:#}");

    let reproduction = &json["verification"]["reproduction"];
    assert!(
        reproduction["chosen_script"]
            .as_str()
            .is_some_and(|s| s.starts_with("import { divide } from \"./src/calc\";")),
        "{reproduction:#}"
    );
    let breaks = candidate_with(&json, "+  return b === 0 ? 0 : a / b;\n");
    assert_eq!(
        breaks["sample_indices"],
        serde_json::json!([0, 2, 6]),
        "{json:#}"
    );
    assert_eq!(breaks["regression_failures"], 1, "{json:#}");
    assert_eq!(breaks["filtered_out"], true);
    let broken = &json["verification"]["candidates"][breaks["id"].to_string()]["broken"];
    assert_eq!(
        broken,
        &serde_json::json!(["src/calc.test.ts::divide > refuses zero"]),
        "the test is named relative to the repository, whichever copy ran it"
    );
    let wrong = candidate_with(&json, "+  return Math.floor(a / b);\n");
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
    let right = candidate_with(&json, "+  return a / b;\n");
    assert_eq!(right["votes"], 1);
    assert_eq!(right["regression_failures"], 0);
    assert_eq!(right["reproduced"], false);
    assert_eq!(json["winner"], right["id"], "{json:#}");

    let prompt = backend
        .requests()
        .into_iter()
        .map(|r| r.prompt().to_owned())
        .find(|p| PromptKind::classify(p) == PromptKind::Reproduce)
        .expect("a reproduction prompt");
    for phrase in [
        "standalone TypeScript program",
        "`swiss_reproduce_issue.ts`",
        "Wrap the complete program in ```typescript...```.",
    ] {
        assert!(
            prompt.contains(phrase),
            "{phrase:?} missing from:\n{prompt}"
        );
    }
    assert_eq!(
        repo.read("src/calc.ts"),
        ts_calc::CALC,
        "nothing is applied"
    );
}
