//! Jest's `--json` report and Vitest's `--reporter=json`, which copies its shape: a list of test
//! files (`testResults`), each with its tests (`assertionResults`).
//!
//! Ids are `<file>::<describe> > … > <title>`, the file made relative to the repository root.
//! Both runners name files by absolute path, and every sandbox run has its own copy of the
//! repository, so the root of the run's copy is cut off; a file outside it keeps its path.
//! - `passed` passes, `failed` fails; `pending`, `skipped`, `todo` and `disabled` are skips.
//! - A file that failed without running any test (it does not load, its `beforeAll` threw) is
//!   reported under its own path as `Error`.
//! - Two tests with one name in one file keep the worse outcome: either may be the one that
//!   broke, so the name passes only when both pass.
//!
//! The report is found in stdout, else stderr: whatever a wrapper (`npm test`) printed before it
//! is passed over.

use super::test_results::{TestResults, TestStatus};

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Report {
    test_results: Vec<FileResult>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct FileResult {
    name: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    assertion_results: Vec<Assertion>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Assertion {
    #[serde(default)]
    ancestor_titles: Vec<String>,
    title: String,
    status: String,
}

pub fn parse(stdout: &str, stderr: &str, root: Option<&str>) -> TestResults {
    let mut results = TestResults::default();
    let Some(report) = find_report(stdout).or_else(|| find_report(stderr)) else {
        return results;
    };
    for file in report.test_results {
        let path = relative(&file.name, root);
        if file.assertion_results.is_empty() {
            if file.status == "failed" {
                results.record_worst(path.to_owned(), TestStatus::Error);
            }
            continue;
        }
        for test in file.assertion_results {
            let Some(status) = status(&test.status) else {
                continue;
            };
            let mut name = test.ancestor_titles.join(" > ");
            if !name.is_empty() {
                name.push_str(" > ");
            }
            name.push_str(&test.title);
            results.record_worst(format!("{path}::{name}"), status);
        }
    }
    results
}

fn status(word: &str) -> Option<TestStatus> {
    match word {
        "passed" => Some(TestStatus::Passed),
        "failed" => Some(TestStatus::Failed),
        "pending" | "skipped" | "todo" | "disabled" => Some(TestStatus::Skipped),
        _ => None,
    }
}

/// The first JSON object starting a line that reads as a report.
fn find_report(text: &str) -> Option<Report> {
    let starts = std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1));
    starts
        .filter(|&at| text[at..].starts_with('{'))
        .find_map(|at| {
            let mut values = serde_json::Deserializer::from_str(&text[at..]).into_iter::<Report>();
            values.next()?.ok()
        })
}

/// `/tmp/swiss-run-x/test/a.test.js` with root `/tmp/swiss-run-x` → `test/a.test.js`.
fn relative<'a>(path: &'a str, root: Option<&str>) -> &'a str {
    let Some(root) = root.map(|r| r.trim_end_matches('/')) else {
        return path;
    };
    path.strip_prefix(root)
        .and_then(|rest| rest.strip_prefix('/'))
        .unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::super::test_results::golden::ids;
    use super::*;
    use TestStatus::*;

    const JEST: &str = include_str!("../../../tests/golden/runners/jest.json");
    const VITEST: &str = include_str!("../../../tests/golden/runners/vitest.json");

    fn expected() -> Vec<(&'static str, TestStatus)> {
        vec![
            ("test/broken.test.js", Error),
            ("test/math.test.js::math > adds", Passed),
            ("test/math.test.js::math > divides", Skipped),
            ("test/math.test.js::math > multiplies", Skipped),
            ("test/math.test.js::math > nested > adds zero", Passed),
            ("test/math.test.js::math > subtracts", Failed),
            // Reported twice, passed once and failed once.
            ("test/math.test.js::same name", Failed),
            ("test/math.test.js::top level", Passed),
        ]
    }

    #[test]
    fn captured_jest_report() {
        assert_eq!(ids(&parse(JEST, "", Some("/repo"))), expected());
    }

    #[test]
    fn captured_vitest_report() {
        assert_eq!(ids(&parse(VITEST, "", Some("/repo/"))), expected());
    }

    #[test]
    fn names_are_the_same_from_every_copy_of_the_repository() {
        let elsewhere = VITEST.replace("/repo/", "/tmp/swiss-run-Ab12/");
        assert_eq!(
            parse(&elsewhere, "", Some("/tmp/swiss-run-Ab12")),
            parse(VITEST, "", Some("/repo"))
        );
        // Without a root, or outside it, a path is kept whole.
        let unrooted = parse(VITEST, "", None);
        assert!(unrooted
            .tests
            .contains_key("/repo/test/math.test.js::math > adds"));
        let outside = parse(VITEST, "", Some("/rep"));
        assert!(outside
            .tests
            .contains_key("/repo/test/math.test.js::math > adds"));
    }

    #[test]
    fn the_report_is_found_after_other_output_and_on_stderr() {
        let wrapped = format!("\n> math@1.0.0 test\n> jest --json\n\n{{ not a report\n{JEST}");
        assert_eq!(ids(&parse(&wrapped, "", Some("/repo"))), expected());
        assert_eq!(ids(&parse("", JEST, Some("/repo"))), expected());
    }

    #[test]
    fn no_report_names_no_test() {
        assert!(parse("FAIL test/a.test.js\n", "SyntaxError: x\n", None).is_empty());
        assert!(parse("{\"other\": 1}\n", "", None).is_empty());
    }
}
