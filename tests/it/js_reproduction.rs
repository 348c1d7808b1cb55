//! A JavaScript repository's reproduction test runs by default as `node swiss_reproduce_issue.js`,
//! in the module system `package.json` gives (CommonJS here), and decides between candidates.

use swiss_testkit::{js_calc, FixtureRepo, PromptKind, ScriptedBackend};

use crate::fixture_checks::{assert_reproduction_prompt, candidate_with, fix_json};

const REPRODUCTION: &str = r#"```javascript
const { divide } = require("./lib/ops");

const got = divide(7, 2);
if (got === 3.5) {
  console.log("Issue resolved");
} else if (got === 3) {
  console.log("Issue reproduced");
} else {
  console.log("Other issues");
}
```
"#;

#[test]
fn javascript_reproduction_runs_with_node() {
    if !crate::toolchains::available(
        "node",
        "install Node.js (Debian's nodejs)",
        "javascript_reproduction_runs_with_node",
    ) {
        return;
    }
    let mut files = js_calc::FILES.to_vec();
    files.push(("swiss.toml", "[reproduction]\nsamples = 2\n"));
    let repo = FixtureRepo::with_files(&files);
    let script = js_calc::script().answer(PromptKind::Reproduce, [REPRODUCTION]);
    let backend = ScriptedBackend::start_in_background(script);
    let args = ["--samples", "6", "--test-cmd", js_calc::TEST_COMMAND];
    let (code, json, stderr) = fix_json(&repo, js_calc::ISSUE, &backend, &args);
    assert_eq!(code, Some(0), "{stderr}\n{json:#}");

    let reproduction = &json["verification"]["reproduction"];
    assert_eq!(
        reproduction["baseline_verdicts"],
        serde_json::json!([[0, "reproduced"], [1, "reproduced"]]),
        "{reproduction:#}"
    );
    assert_eq!(reproduction["note"], serde_json::Value::Null);
    let right = candidate_with(&json, "+  return a / b;\n");
    assert_eq!(right["reproduced"], false, "{json:#}");
    assert_eq!(json["winner"], right["id"]);
    assert_reproduction_prompt(
        &backend,
        &[
            "standalone JavaScript program",
            "run from the repository's root with `node swiss_reproduce_issue.js`. It runs as CommonJS: use `require`.",
            "Wrap the complete program in ```javascript...```.",
        ],
    );
}
