//! `swiss fix` end to end on a TypeScript package (`ts_calc`), verified in the local sandbox by
//! Vitest (`--reporter=json`, read test by test) with the npm packages `.ci/npm-fixture-setup.sh`
//! prepared, and by a TypeScript reproduction program run with tsx: the right fix wins over a
//! majority that breaks a test and over a wrong fix the program still catches, formatting
//! variants merge with their twins, and a syntax break is invalid.

use serde_json::Value;
use swiss_testkit::{ts_calc, FixtureRepo, ScriptedBackend};

use crate::fixture_checks::{
    assert_reproduction_prompt, assert_right_fix_wins, fix_json, Expected,
};

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
    let command = ts_calc::test_command(&node_modules);
    let args = ["--samples", "7", "--test-cmd", &command];
    let (code, json, stderr) = fix_json(&repo, ts_calc::ISSUE, &backend, &args);
    assert_eq!(code, Some(0), "{stderr}\n{json:#}");

    let baseline = &json["verification"]["baseline"];
    assert_eq!(baseline["error"], Value::Null, "{baseline:#}");
    assert_eq!(
        baseline["passed"], 3,
        "add, refuses zero, divides exactly: {baseline:#}"
    );
    assert_eq!(baseline["failed"], 1, "keeps fractions: {baseline:#}");

    let reproduction = &json["verification"]["reproduction"];
    assert!(
        reproduction["chosen_script"]
            .as_str()
            .is_some_and(|s| s.starts_with("import { divide } from \"./src/calc\";")),
        "{reproduction:#}"
    );
    let broken = assert_right_fix_wins(
        &json,
        &Expected {
            breaker: "+  return b === 0 ? 0 : a / b;\n",
            wrong: "+  return Math.floor(a / b);\n",
            right: "+  return a / b;\n",
            invalid_reason: "src/calc.ts no longer parses as TypeScript after the patch",
        },
    );
    assert_eq!(
        broken,
        serde_json::json!(["src/calc.test.ts::divide > refuses zero"]),
        "the test is named relative to the repository, whichever copy ran it"
    );
    assert_reproduction_prompt(
        &backend,
        &[
            "standalone TypeScript program",
            "`swiss_reproduce_issue.ts`",
            "Wrap the complete program in ```typescript...```.",
        ],
    );
    assert_eq!(
        repo.read("src/calc.ts"),
        ts_calc::CALC,
        "nothing is applied"
    );
}
