//! `ts_calc`: a small TypeScript package whose `divide` truncates its result, with Vitest tests,
//! the issue, and model answers for the scripted backend: the right fix, a majority that breaks
//! a test, a wrong fix that leaves the issue, formatting twins of both, a syntax break, and a
//! TypeScript reproduction program.

use crate::fixture_repo::FixtureRepo;
use crate::language_fixture::{self, Answers};
use crate::scripted_backend::Script;

pub const CALC: &str = r#"// Arithmetic helpers.
export function add(a: number, b: number): number {
  return a + b;
}

export function divide(a: number, b: number): number {
  if (b === 0) {
    throw new Error("cannot divide by zero");
  }
  return Math.trunc(a / b);
}
"#;

pub const CALC_TEST: &str = r#"import { describe, expect, it } from "vitest";
import { add, divide } from "./calc";

describe("add", () => {
  it("adds", () => {
    expect(add(2, 3)).toBe(5);
  });
});

describe("divide", () => {
  it("refuses zero", () => {
    expect(() => divide(1, 0)).toThrow("cannot divide by zero");
  });
  it("divides exactly", () => {
    expect(divide(6, 3)).toBe(2);
  });
  it("keeps fractions", () => {
    expect(divide(7, 2)).toBe(3.5);
  });
});
"#;

pub const FILES: &[(&str, &str)] = &[
    (
        "package.json",
        "{\n  \"name\": \"tscalc\",\n  \"private\": true,\n  \"type\": \"module\",\n  \"scripts\": { \"test\": \"vitest run\" },\n  \"devDependencies\": { \"tsx\": \"4.20.6\", \"vitest\": \"3.2.4\" }\n}\n",
    ),
    (
        "tsconfig.json",
        "{\n  \"compilerOptions\": { \"strict\": true, \"module\": \"ESNext\", \"moduleResolution\": \"Bundler\", \"target\": \"ES2022\" }\n}\n",
    ),
    ("src/calc.ts", CALC),
    ("src/calc.test.ts", CALC_TEST),
    ("README.md", "# tscalc\n\nArithmetic helpers in TypeScript.\n"),
];

pub const ISSUE: &str =
    "divide truncates its result\n\n`divide(7, 2)` returns `3` instead of `3.5`.\n";

pub fn repo() -> FixtureRepo {
    FixtureRepo::with_files(FILES)
}

/// The test command, with the prepared `node_modules` linked into the run's copy (which holds
/// the tracked files only).
pub fn test_command(node_modules: &str) -> String {
    format!("ln -sfn '{node_modules}' node_modules && node_modules/.bin/vitest run --reporter=json")
}

pub const LOCALIZE_ANSWER: &str = "```\nsrc/calc.ts\n```\n";

fn edit(search: &str, replace: &str) -> String {
    format!("```typescript\n### src/calc.ts\n<<<<<<< SEARCH\n{search}=======\n{replace}>>>>>>> REPLACE\n```\n")
}

const TRUNCATES: &str = "  return Math.trunc(a / b);\n";
const ZERO_CHECK: &str =
    "  if (b === 0) {\n    throw new Error(\"cannot divide by zero\");\n  }\n  return Math.trunc(a / b);\n";

/// The right fix.
pub fn fix() -> String {
    edit(TRUNCATES, "  return a / b;\n")
}

/// Divides right but returns 0 for a zero divisor: "refuses zero", which passed, fails.
pub fn breaks_test() -> String {
    edit(ZERO_CHECK, "  return b === 0 ? 0 : a / b;\n")
}

/// The breaker spelled differently: the same candidate.
pub fn breaks_test_variant() -> String {
    edit(ZERO_CHECK, "  return b===0 ? 0 : a/b; // no throw\n")
}

/// Still rounds: no test that passed breaks, but the issue stays.
pub fn wrong() -> String {
    edit(TRUNCATES, "  return Math.floor(a / b);\n")
}

/// The wrong fix spelled differently.
pub fn wrong_variant() -> String {
    edit(TRUNCATES, "  return Math.floor( a/b ); // rounds down\n")
}

/// A parenthesis short: calc.ts no longer parses.
pub fn syntax_break() -> String {
    edit(TRUNCATES, "  return (a / b;\n")
}

pub const REPRODUCTION: &str = r#"```typescript
import { divide } from "./src/calc";

try {
  const got = divide(7, 2);
  if (got === 3.5) {
    console.log("Issue resolved");
  } else if (got === 3) {
    console.log("Issue reproduced");
  } else {
    console.log("Other issues");
  }
} catch {
  console.log("Other issues");
}
```
"#;

/// The fixture's answers in the order `language_fixture::script` gives them.
pub fn script() -> Script {
    language_fixture::script(Answers {
        localize: LOCALIZE_ANSWER.to_owned(),
        fix: fix(),
        breaks_test: breaks_test(),
        breaks_test_variant: breaks_test_variant(),
        wrong: wrong(),
        wrong_variant: wrong_variant(),
        syntax_break: syntax_break(),
        reproduction: REPRODUCTION.to_owned(),
    })
}
