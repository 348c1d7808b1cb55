//! `go_calc`: a small Go module whose `Divide` truncates its result, with `go test` tests (one of
//! them table-driven), the issue, and model answers for the scripted backend.

use crate::fixture_repo::FixtureRepo;
use crate::scripted_backend::{PromptKind, Script};

pub const CALC: &str = r#"// Package calc holds arithmetic helpers.
package calc

import "errors"

// Add returns the sum of a and b.
func Add(a, b int) int {
	return a + b
}

// Divide returns a divided by b.
func Divide(a, b int) (float64, error) {
	if b == 0 {
		return 0, errors.New("cannot divide by zero")
	}
	return float64(a / b), nil
}
"#;

pub const CALC_TEST: &str = r#"package calc

import "testing"

func TestAdd(t *testing.T) {
	if got := Add(2, 3); got != 5 {
		t.Errorf("Add(2, 3) = %d, want 5", got)
	}
}

func TestDivideByZero(t *testing.T) {
	if _, err := Divide(1, 0); err == nil {
		t.Error("Divide(1, 0) gave no error")
	}
}

func TestDivide(t *testing.T) {
	for _, tc := range []struct {
		name string
		a, b int
		want float64
	}{
		{"exact", 6, 3, 2},
		{"fraction", 7, 2, 3.5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got, _ := Divide(tc.a, tc.b); got != tc.want {
				t.Errorf("Divide(%d, %d) = %v, want %v", tc.a, tc.b, got, tc.want)
			}
		})
	}
}
"#;

pub const FILES: &[(&str, &str)] = &[
    ("go.mod", "module example.com/gocalc\n\ngo 1.19\n"),
    ("calc/calc.go", CALC),
    ("calc/calc_test.go", CALC_TEST),
    ("README.md", "# gocalc\n\nArithmetic helpers in Go.\n"),
];

pub const ISSUE: &str =
    "Divide truncates its result\n\n`calc.Divide(7, 2)` returns `3` instead of `3.5`.\n";

pub fn repo() -> FixtureRepo {
    FixtureRepo::with_files(FILES)
}

pub const LOCALIZE_ANSWER: &str = "```\ncalc/calc.go\n```\n";

/// The right fix: divide as floats, keeping the zero check.
pub const FIX: &str = "```go\n### calc/calc.go\n<<<<<<< SEARCH\n\treturn float64(a / b), nil\n=======\n\treturn float64(a) / float64(b), nil\n>>>>>>> REPLACE\n```\n";

/// Divides as floats but drops the zero check: `TestDivideByZero`, which passed, fails.
pub const BREAKS_TEST: &str = "```go\n### calc/calc.go\n<<<<<<< SEARCH\n\tif b == 0 {\n\t\treturn 0, errors.New(\"cannot divide by zero\")\n\t}\n\treturn float64(a / b), nil\n=======\n\t_ = errors.New\n\treturn float64(a) / float64(b), nil\n>>>>>>> REPLACE\n```\n";

/// The regression breaker is the majority; the fix comes once.
pub fn script() -> Script {
    Script::new()
        .answer(PromptKind::Localize, [LOCALIZE_ANSWER])
        .answer(
            PromptKind::Repair,
            [BREAKS_TEST, FIX, BREAKS_TEST, BREAKS_TEST],
        )
}
