//! `swiss fix` end to end on a Go module (`go_calc`, whose `Divide` truncates), verified in the
//! local sandbox with `go test -json ./...` and a Go reproduction program run by
//! `reproduction.command`: the right fix wins over a majority that breaks a regression test, a
//! wrong fix that the reproduction program still catches is filtered out, formatting variants
//! merge with their twins, and a candidate that breaks the syntax is invalid.

use serde_json::Value;
use swiss_testkit::{go_calc, FixtureRepo, PromptKind, Script, ScriptedBackend};

use crate::cli_support::{stderr, stdout_json, swiss_fix, write_issue};

/// The breaker again, spelled differently (a comment, no spaces around `/`): the same candidate.
const BREAKS_TEST_VARIANT: &str = "```go\n### calc/calc.go\n<<<<<<< SEARCH\n\tif b == 0 {\n\t\treturn 0, errors.New(\"cannot divide by zero\")\n\t}\n\treturn float64(a / b), nil\n=======\n\t_ = errors.New // keep the import\n\treturn float64(a)/float64(b), nil\n>>>>>>> REPLACE\n```\n";

/// Still divides as integers: no test that passed breaks, but the issue stays.
const WRONG: &str = "```go\n### calc/calc.go\n<<<<<<< SEARCH\n\treturn float64(a / b), nil\n=======\n\tq := a / b\n\treturn float64(q), nil\n>>>>>>> REPLACE\n```\n";

/// The wrong fix with other spacing and a comment.
const WRONG_VARIANT: &str = "```go\n### calc/calc.go\n<<<<<<< SEARCH\n\treturn float64(a / b), nil\n=======\n\tq := a/b // the quotient\n\treturn float64( q ), nil\n>>>>>>> REPLACE\n```\n";

/// A closing parenthesis short: calc.go no longer parses.
const SYNTAX_BREAK: &str = "```go\n### calc/calc.go\n<<<<<<< SEARCH\n\treturn float64(a / b), nil\n=======\n\treturn float64(a) / float64(b, nil\n>>>>>>> REPLACE\n```\n";

const REPRODUCTION: &str = r#"```go
package main

import (
	"fmt"

	"example.com/gocalc/calc"
)

func main() {
	got, err := calc.Divide(7, 2)
	switch {
	case err != nil:
		fmt.Println("Other issues")
	case got == 3.5:
		fmt.Println("Issue resolved")
	case got == 3:
		fmt.Println("Issue reproduced")
	default:
		fmt.Println("Other issues")
	}
}
```
"#;

const SETTINGS: &str = "[reproduction]\nsamples = 2\ncommand = \"go run ./{file}\"\nfile = \"swiss_reproduce/main.go\"\n";

fn script() -> Script {
    Script::new()
        .answer(PromptKind::Localize, [go_calc::LOCALIZE_ANSWER])
        .answer(
            PromptKind::Repair,
            [
                go_calc::BREAKS_TEST,
                go_calc::FIX,
                BREAKS_TEST_VARIANT,
                WRONG,
                WRONG_VARIANT,
                SYNTAX_BREAK,
                go_calc::BREAKS_TEST,
            ],
        )
        .answer(PromptKind::Reproduce, [REPRODUCTION])
}

fn repo(settings: Option<&str>) -> FixtureRepo {
    let mut files = go_calc::FILES.to_vec();
    files.extend(settings.map(|text| ("swiss.toml", text)));
    FixtureRepo::with_files(&files)
}

fn fix(repo: &FixtureRepo, backend: &ScriptedBackend) -> (Option<i32>, Value, String) {
    let issues = tempfile::tempdir().unwrap();
    let issue = write_issue(issues.path(), go_calc::ISSUE);
    let url = backend.base_url();
    let args = [
        "--issue",
        &issue,
        "--backend-url",
        &url,
        "--samples",
        "7",
        "--sandbox",
        "local",
        "--json",
    ];
    let output = swiss_fix(repo.path(), &args).output().unwrap();
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
fn go_fix_is_chosen_by_its_tests_and_a_go_reproduction_program() {
    let test = "go_fix_is_chosen_by_its_tests_and_a_go_reproduction_program";
    if !crate::toolchains::available("go", "install Go (Debian's golang-go)", test) {
        return;
    }
    let repo = repo(Some(SETTINGS));
    let backend = ScriptedBackend::start_in_background(script());
    let (code, json, stderr) = fix(&repo, &backend);
    assert_eq!(code, Some(0), "{stderr}\n{json:#}");

    let samples = &json["samples"];
    assert_eq!(samples["valid"], 6, "{json:#}");
    assert_eq!(
        samples["invalid_reasons"]["calc/calc.go no longer parses as Go after the patch"], 1,
        "{json:#}"
    );
    assert_eq!(json["candidates"].as_array().unwrap().len(), 3, "{json:#}");

    let reproduction = &json["verification"]["reproduction"];
    assert_eq!(
        reproduction["chosen_script"],
        REPRODUCTION
            .trim_start_matches("```go\n")
            .trim_end_matches("```\n"),
        "{reproduction:#}"
    );
    let breaks = candidate_with(&json, "+\t_ = errors.New\n");
    assert_eq!(
        breaks["sample_indices"],
        serde_json::json!([0, 2, 6]),
        "{json:#}"
    );
    assert_eq!(breaks["regression_failures"], 1, "{json:#}");
    assert_eq!(breaks["reproduced"], false, "it does divide as floats");
    assert_eq!(breaks["filtered_out"], true);
    let wrong = candidate_with(&json, "+\tq := a / b\n");
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
    let right = candidate_with(&json, "+\treturn float64(a) / float64(b), nil\n");
    assert_eq!(right["votes"], 1);
    assert_eq!(right["regression_failures"], 0);
    assert_eq!(right["reproduced"], false);
    assert_eq!(json["winner"], right["id"], "{json:#}");

    // The reproduction prompt asked for Go and said how the program runs.
    let prompt = backend
        .requests()
        .into_iter()
        .map(|r| r.prompt().to_owned())
        .find(|p| PromptKind::classify(p) == PromptKind::Reproduce)
        .expect("a reproduction prompt");
    for phrase in [
        "standalone Go program",
        "`swiss_reproduce/main.go`",
        "`go run ./swiss_reproduce/main.go`",
        "Wrap the complete program in ```go...```.",
    ] {
        assert!(
            prompt.contains(phrase),
            "{phrase:?} missing from:\n{prompt}"
        );
    }
    assert_eq!(
        repo.read("calc/calc.go"),
        go_calc::CALC,
        "nothing is applied"
    );
}

/// Without `reproduction.command` nothing runs a Go program: the filter is off and one line
/// says what to set.
#[test]
fn go_without_a_reproduction_command_says_so() {
    let test = "go_without_a_reproduction_command_says_so";
    if !crate::toolchains::available("go", "install Go (Debian's golang-go)", test) {
        return;
    }
    let repo = repo(None);
    let backend = ScriptedBackend::start_in_background(script());
    let (code, json, stderr) = fix(&repo, &backend);
    assert_eq!(code, Some(0), "{stderr}\n{json:#}");
    let note = json["verification"]["reproduction"]["note"]
        .as_str()
        .unwrap();
    assert!(
        note.starts_with("no reproduction test: Swiss does not know how to run a Go program here — set reproduction.command (e.g. `go run ./{file}`)"),
        "{note}"
    );
    assert_eq!(stderr.matches(note).count(), 1, "said once: {stderr}");
    assert!(
        backend
            .requests()
            .iter()
            .all(|r| PromptKind::classify(r.prompt()) != PromptKind::Reproduce),
        "no program is asked for that cannot run"
    );
    // Without the reproduction filter, the wrong fix's two votes beat the right fix's one.
    let wrong = candidate_with(&json, "+\tq := a / b\n");
    assert_eq!(json["winner"], wrong["id"], "{json:#}");
}
