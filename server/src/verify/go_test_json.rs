//! `go test -json`: one JSON event a line (test2json), read per test.
//!
//! Ids are `<package import path>::<test>`, with subtests as Go names them
//! (`example.com/m/calc::TestTable/zero`). The import path comes from `go.mod`, not from where
//! the copy lies, so it is the same in every sandbox.
//! - A test that started (`run`) and never ended failed: its package died under it (a panic in
//!   another goroutine, `-timeout`, the run killed).
//! - A package that failed without naming any test did not build (Go before 1.24 prints
//!   `FAIL <pkg> [build failed]` as plain text; later ones a `fail` event with `FailedBuild`):
//!   the package itself is reported, `<package>`, as `Error`.
//! - A test reported twice (`-count=2`) keeps its worst outcome: a flaky failure is a failure.

use std::collections::{BTreeMap, BTreeSet};

use super::test_results::{TestResults, TestStatus};

#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Event {
    action: String,
    #[serde(default)]
    package: Option<String>,
    #[serde(default)]
    test: Option<String>,
}

#[derive(Default)]
struct Package {
    /// Tests that started and have not ended yet.
    running: BTreeSet<String>,
    /// Whether any test of the package was reported at all.
    named_a_test: bool,
    failed: bool,
}

pub fn parse(stdout: &str, stderr: &str) -> TestResults {
    let mut results = TestResults::default();
    let mut packages: BTreeMap<String, Package> = BTreeMap::new();
    for line in stdout.lines().chain(stderr.lines()) {
        let line = line.trim_end_matches('\r');
        if let Some(package) = plain_failure(line) {
            packages.entry(package.to_owned()).or_default().failed = true;
            continue;
        }
        if !line.starts_with('{') {
            continue;
        }
        let Ok(event) = serde_json::from_str::<Event>(line) else {
            continue;
        };
        let Some(name) = event.package else {
            continue;
        };
        let package = packages.entry(name.clone()).or_default();
        let Some(test) = event.test else {
            if event.action == "fail" {
                package.failed = true;
            }
            continue;
        };
        package.named_a_test = true;
        let status = match event.action.as_str() {
            "run" => {
                package.running.insert(test);
                continue;
            }
            "pass" => TestStatus::Passed,
            "fail" => TestStatus::Failed,
            "skip" => TestStatus::Skipped,
            _ => continue,
        };
        package.running.remove(&test);
        results.record_worst(format!("{name}::{test}"), status);
    }
    for (name, package) in packages {
        for test in package.running {
            results.record_worst(format!("{name}::{test}"), TestStatus::Failed);
        }
        if package.failed && !package.named_a_test {
            results.record_worst(name, TestStatus::Error);
        }
    }
    results
}

/// `FAIL\texample.com/m/pkg [build failed]` (or `[setup failed]`): the package never ran.
fn plain_failure(line: &str) -> Option<&str> {
    let rest = line.strip_prefix("FAIL\t")?;
    let (package, why) = rest.split_once(' ')?;
    matches!(why.trim(), "[build failed]" | "[setup failed]").then_some(package)
}

#[cfg(test)]
mod tests {
    use super::super::test_results::golden::ids;
    use super::*;
    use TestStatus::*;

    #[test]
    fn captured_run_with_subtests_skips_build_failure_and_panic() {
        let stdout = include_str!("../../../tests/golden/runners/go_test.json");
        let stderr = include_str!("../../../tests/golden/runners/go_test.stderr");
        assert_eq!(
            ids(&parse(stdout, stderr)),
            vec![
                ("example.com/shapes/broken", Error),
                ("example.com/shapes/calc::TestAdd", Passed),
                ("example.com/shapes/calc::TestNested", Passed),
                ("example.com/shapes/calc::TestNested/outer", Passed),
                ("example.com/shapes/calc::TestNested/outer/inner", Passed),
                ("example.com/shapes/calc::TestNested/outer/skipped", Skipped),
                ("example.com/shapes/calc::TestSkipped", Skipped),
                ("example.com/shapes/calc::TestSub", Failed),
                ("example.com/shapes/calc::TestTable", Failed),
                ("example.com/shapes/calc::TestTable/negative/odd", Failed),
                ("example.com/shapes/calc::TestTable/small_numbers", Passed),
                ("example.com/shapes/calc::TestTable/zero", Passed),
                ("example.com/shapes/crash::TestFirst", Passed),
                ("example.com/shapes/crash::TestPanics", Failed),
            ]
        );
    }

    #[test]
    fn the_build_failure_line_alone_is_enough() {
        // Streams captured together (`2>&1`): the compiler's lines sit among the events.
        let stdout = include_str!("../../../tests/golden/runners/go_test.json");
        assert_eq!(
            parse(stdout, "").tests.get("example.com/shapes/broken"),
            Some(&Error)
        );
    }

    #[test]
    fn a_test_run_twice_keeps_its_worst_outcome() {
        let log = include_str!("../../../tests/golden/runners/go_test_count2.json");
        let runs = log
            .lines()
            .filter(|l| {
                l.contains(
                    r#""Action":"pass","Package":"example.com/shapes/calc","Test":"TestAdd""#,
                )
            })
            .count();
        assert_eq!(runs, 2, "the fixture runs every test twice");
        let results = parse(log, "");
        assert_eq!(results.tests["example.com/shapes/calc::TestAdd"], Passed);
        assert_eq!(results.tests["example.com/shapes/calc::TestSub"], Failed);
        assert_eq!(results.tests.len(), 11);

        let flaky = "{\"Action\":\"fail\",\"Package\":\"p\",\"Test\":\"TestX\"}\n\
                     {\"Action\":\"pass\",\"Package\":\"p\",\"Test\":\"TestX\"}\n";
        assert_eq!(ids(&parse(flaky, "")), vec![("p::TestX", Failed)]);
    }

    #[test]
    fn a_test_cut_off_by_its_package_dying_failed() {
        let log = "{\"Action\":\"run\",\"Package\":\"p\",\"Test\":\"TestA\"}\n\
                   {\"Action\":\"pass\",\"Package\":\"p\",\"Test\":\"TestA\"}\n\
                   {\"Action\":\"run\",\"Package\":\"p\",\"Test\":\"TestHangs\"}\n\
                   {\"Action\":\"output\",\"Package\":\"p\",\"Test\":\"TestHangs\",\"Output\":\"panic: test timed out after 1s\\n\"}\n\
                   {\"Action\":\"fail\",\"Package\":\"p\",\"Elapsed\":1.002}\n";
        assert_eq!(
            ids(&parse(log, "")),
            vec![("p::TestA", Passed), ("p::TestHangs", Failed)]
        );
    }

    #[test]
    fn newer_go_reports_build_failures_as_events() {
        let log = "{\"ImportPath\":\"p [p.test]\",\"Action\":\"build-output\",\"Output\":\"# p\\n\"}\n\
                   {\"ImportPath\":\"p [p.test]\",\"Action\":\"build-fail\"}\n\
                   {\"Action\":\"start\",\"Package\":\"p\"}\n\
                   {\"Action\":\"output\",\"Package\":\"p\",\"Output\":\"FAIL\\tp [build failed]\\n\"}\n\
                   {\"Action\":\"fail\",\"Package\":\"p\",\"Elapsed\":0,\"FailedBuild\":\"p [p.test]\"}\n";
        assert_eq!(ids(&parse(log, "")), vec![("p", Error)]);
    }

    #[test]
    fn packages_without_tests_and_stray_text_name_nothing() {
        let log = "{\"Action\":\"output\",\"Package\":\"q\",\"Output\":\"?   \\tq\\t[no test files]\\n\"}\n\
                   {\"Action\":\"skip\",\"Package\":\"q\",\"Elapsed\":0}\n\
                   go: downloading example.com/x v1.0.0\n\
                   {not json\n";
        assert!(parse(log, "").is_empty());
    }
}
