//! `js-calc`: a small JavaScript package whose `divide` floors its result, tested by a plain
//! Node script (its exit code is the verdict). The issue and model answers for the scripted
//! backend: the majority patch breaks a test that passed before, the right fix comes twice in
//! two spellings, and one answer leaves the file unparsable.

use crate::scripted_backend::{PromptKind, Script};
use crate::FixtureRepo;

pub const OPS: &str = r#"// Arithmetic helpers.
function add(a, b) {
  return a + b;
}

function divide(a, b) {
  if (b === 0) {
    throw new RangeError("cannot divide by zero");
  }
  return Math.floor(a / b);
}

module.exports = { add, divide };
"#;

pub const FILES: &[(&str, &str)] = &[
    ("lib/ops.js", OPS),
    (
        "test/ops.test.js",
        r#"const assert = require("node:assert");
const { add, divide } = require("../lib/ops");

assert.strictEqual(add(2, 3), 5);
assert.throws(() => divide(1, 0), RangeError);
console.log("ok");
"#,
    ),
    (
        "package.json",
        "{\n  \"name\": \"js-calc\",\n  \"version\": \"0.1.0\",\n  \"scripts\": { \"test\": \"node test/ops.test.js\" }\n}\n",
    ),
];

/// The fixture's tests, as `--test-cmd`.
pub const TEST_COMMAND: &str = "node test/ops.test.js";

pub const ISSUE: &str =
    "divide() floors its result\n\n`divide(7, 2)` returns `3` instead of `3.5`.\n";

pub fn repo() -> FixtureRepo {
    FixtureRepo::with_files(FILES)
}

pub const LOCALIZE_ANSWER: &str = "The bug is in divide.\n```\nlib/ops.js\n```\n";

/// The right fix, and the same fix spelled otherwise: no semicolon, no spaces, a comment.
pub const FIX: &str = "```javascript\n### lib/ops.js\n<<<<<<< SEARCH\n  return Math.floor(a / b);\n=======\n  return a / b;\n>>>>>>> REPLACE\n```\n";
pub const FIX_RESPELLED: &str = "```javascript\n### lib/ops.js\n<<<<<<< SEARCH\n  return Math.floor(a / b);\n=======\n  // true division\n  return a/b\n>>>>>>> REPLACE\n```\n";
/// Wrong, and the majority: dividing by zero now returns 0, which breaks the test that passed.
pub const WRONG_BREAKS_TEST: &str = "```javascript\n### lib/ops.js\n<<<<<<< SEARCH\n    throw new RangeError(\"cannot divide by zero\");\n  }\n  return Math.floor(a / b);\n=======\n    return 0;\n  }\n  return a / b;\n>>>>>>> REPLACE\n```\n";
/// Unusable: the file no longer parses.
pub const BROKEN: &str = "```javascript\n### lib/ops.js\n<<<<<<< SEARCH\n  return Math.floor(a / b);\n=======\n  return (a / b;\n>>>>>>> REPLACE\n```\n";

pub fn script() -> Script {
    Script::new()
        .answer(PromptKind::Localize, [LOCALIZE_ANSWER])
        .answer(
            PromptKind::Repair,
            [
                WRONG_BREAKS_TEST,
                FIX,
                WRONG_BREAKS_TEST,
                BROKEN,
                FIX_RESPELLED,
                WRONG_BREAKS_TEST,
            ],
        )
}
