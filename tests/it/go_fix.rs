//! `swiss fix` end to end on a Go module (`go_calc`, whose `Divide` truncates), verified in the
//! local sandbox with `go test -json ./...` and a Go reproduction program run by
//! `reproduction.command`: the right fix wins over a majority that breaks a regression test, a
//! wrong fix that the reproduction program still catches is filtered out, formatting variants
//! merge with their twins, and a candidate that breaks the syntax is invalid.

use serde_json::Value;
use swiss_testkit::language_fixture::{self, Answers};
use swiss_testkit::{go_calc, FixtureRepo, PromptKind, Script, ScriptedBackend};

use crate::fixture_checks::{
    assert_reproduction_prompt, assert_right_fix_wins, candidate_with, fix_json, Expected,
};

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
    language_fixture::script(Answers {
        localize: go_calc::LOCALIZE_ANSWER.to_owned(),
        fix: go_calc::FIX.to_owned(),
        breaks_test: go_calc::BREAKS_TEST.to_owned(),
        breaks_test_variant: BREAKS_TEST_VARIANT.to_owned(),
        wrong: WRONG.to_owned(),
        wrong_variant: WRONG_VARIANT.to_owned(),
        syntax_break: SYNTAX_BREAK.to_owned(),
        reproduction: REPRODUCTION.to_owned(),
    })
}

fn repo(settings: Option<&str>) -> FixtureRepo {
    let mut files = go_calc::FILES.to_vec();
    files.extend(settings.map(|text| ("swiss.toml", text)));
    FixtureRepo::with_files(&files)
}

fn fix(repo: &FixtureRepo, backend: &ScriptedBackend) -> (Option<i32>, Value, String) {
    fix_json(repo, go_calc::ISSUE, backend, &["--samples", "7"])
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

    let reproduction = &json["verification"]["reproduction"];
    assert_eq!(
        reproduction["chosen_script"],
        REPRODUCTION
            .trim_start_matches("```go\n")
            .trim_end_matches("```\n"),
        "{reproduction:#}"
    );
    let broken = assert_right_fix_wins(
        &json,
        &Expected {
            breaker: "+\t_ = errors.New\n",
            wrong: "+\tq := a / b\n",
            right: "+\treturn float64(a) / float64(b), nil\n",
            invalid_reason: "calc/calc.go no longer parses as Go after the patch",
        },
    );
    assert_eq!(
        broken,
        serde_json::json!(["example.com/gocalc/calc::TestDivideByZero"])
    );
    assert_reproduction_prompt(
        &backend,
        &[
            "standalone Go program",
            "`swiss_reproduce/main.go`",
            "`go run ./swiss_reproduce/main.go`",
            "Wrap the complete program in ```go...```.",
        ],
    );
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
