//! JUnit XML reports (Maven Surefire, Gradle, pytest `--junitxml`, jest-junit…), read from the
//! files `test.junit_xml` names once the test command has run.
//!
//! The XML is read with quick-xml's streaming reader rather than by hand: reports carry escaped
//! text, CDATA and failure messages of any size, and a report cut short by a killed run must
//! still give the tests it finished. quick-junit's reader would build the whole report, with
//! every message and timing, only for the outcome to be kept.
//!
//! Ids are `<classname>::<name>` (`shapes.CalcTest::adds()`, `tests.test_calc::test_param[1]`),
//! or the name alone where the class is empty or repeats the name (jest-junit writes both as
//! `describe title`). A `testcase` with `failure` fails, with `error` errs, with `skipped` is
//! skipped; else it passed (Surefire's `flakyFailure` is a pass after reruns). Two test cases
//! with one id, in one report or across reports, keep the worse outcome.

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::test_results::{TestResults, TestStatus};

/// The outcomes in the given report texts, read one after another.
pub fn parse<'a>(reports: impl IntoIterator<Item = &'a str>) -> TestResults {
    let mut results = TestResults::default();
    for report in reports {
        read_report(report, &mut results);
    }
    results
}

fn read_report(text: &str, results: &mut TestResults) {
    let mut reader = Reader::from_str(text);
    // The test case being read, with the worst outcome its children gave so far (none: passed).
    let mut open: Option<(String, Option<TestStatus>)> = None;
    // A report cut short (the run was killed while writing it) ends at its first error.
    while let Ok(event) = reader.read_event() {
        match event {
            Event::Start(tag) if tag.local_name().as_ref() == b"testcase" => {
                open = Some((case_id(&tag), None));
            }
            Event::Empty(tag) if tag.local_name().as_ref() == b"testcase" => {
                results.record_worst(case_id(&tag), TestStatus::Passed);
            }
            Event::Start(tag) | Event::Empty(tag) => {
                if let (Some((_, status)), Some(child)) = (&mut open, outcome(&tag)) {
                    if status.is_none_or(|s| child.severity_over(s)) {
                        *status = Some(child);
                    }
                }
            }
            Event::End(tag) if tag.local_name().as_ref() == b"testcase" => {
                if let Some((id, status)) = open.take() {
                    results.record_worst(id, status.unwrap_or(TestStatus::Passed));
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
}

fn outcome(tag: &BytesStart) -> Option<TestStatus> {
    match tag.local_name().as_ref() {
        b"failure" => Some(TestStatus::Failed),
        b"error" => Some(TestStatus::Error),
        b"skipped" => Some(TestStatus::Skipped),
        _ => None,
    }
}

fn case_id(tag: &BytesStart) -> String {
    let attribute = |key: &[u8]| {
        tag.attributes()
            .flatten()
            .find(|a| a.key.as_ref() == key)
            .and_then(|a| a.unescape_value().ok())
            .map(|v| v.trim().to_owned())
            .unwrap_or_default()
    };
    let name = attribute(b"name");
    let class = attribute(b"classname");
    if class.is_empty() || class == name {
        name
    } else {
        format!("{class}::{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_results::golden::ids;
    use super::*;
    use TestStatus::*;

    #[test]
    fn captured_pytest_junitxml() {
        let report = include_str!("../../../tests/golden/runners/pytest_junit.xml");
        assert_eq!(
            ids(&parse([report])),
            vec![
                ("tests.test_calc.TestGroup::test_inside", Passed),
                ("tests.test_calc::test_adds", Passed),
                ("tests.test_calc::test_divides", Skipped),
                // pytest writes an xfail as skipped.
                ("tests.test_calc::test_known_bug", Skipped),
                ("tests.test_calc::test_param[1]", Passed),
                ("tests.test_calc::test_param[a b]", Passed),
                ("tests.test_calc::test_subtracts", Failed),
                ("tests.test_calc::test_uses_broken", Error),
            ]
        );
    }

    #[test]
    fn captured_jest_junit_with_a_repeated_name() {
        let report = include_str!("../../../tests/golden/runners/jest_junit.xml");
        assert_eq!(
            ids(&parse([report])),
            vec![
                ("math adds", Passed),
                ("math divides", Skipped),
                // jest-junit writes a todo as a plain test case.
                ("math multiplies", Passed),
                ("math nested adds zero", Passed),
                ("math subtracts", Failed),
                ("same name", Failed),
                ("top level", Passed),
            ]
        );
    }

    /// Written after Surefire 3's report schema, since no Maven repository with the Surefire
    /// plugin was reachable where the fixtures were captured: nested classes, parameterized
    /// names, and a flaky test that passed on a rerun.
    #[test]
    fn surefire_shaped_report() {
        let report = r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuite xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" name="shapes.CalcTest" time="0.05" tests="5" errors="1" skipped="1" failures="1">
  <properties><property name="java.version" value="17"/></properties>
  <testcase name="adds" classname="shapes.CalcTest" time="0.01"/>
  <testcase name="subtracts" classname="shapes.CalcTest" time="0.01">
    <failure message="expected: &lt;2&gt; but was: &lt;8&gt;" type="org.opentest4j.AssertionFailedError"><![CDATA[org.opentest4j.AssertionFailedError: expected: <2> but was: <8>]]></failure>
    <system-out><![CDATA[<testcase name="fake"/>]]></system-out>
  </testcase>
  <testcase name="crashes" classname="shapes.CalcTest" time="0">
    <error message="boom" type="java.lang.IllegalStateException">java.lang.IllegalStateException: boom</error>
  </testcase>
  <testcase name="divides" classname="shapes.CalcTest" time="0"><skipped message="later"/></testcase>
  <testcase name="[1] 1" classname="shapes.CalcTest" time="0"/>
  <testcase name="retried" classname="shapes.CalcTest" time="0">
    <flakyFailure message="once" type="java.lang.AssertionError"/>
  </testcase>
  <testcase name="addsNegatives" classname="shapes.CalcTest$Inner" time="0"/>
</testsuite>
"#;
        assert_eq!(
            ids(&parse([report])),
            vec![
                ("shapes.CalcTest$Inner::addsNegatives", Passed),
                ("shapes.CalcTest::[1] 1", Passed),
                ("shapes.CalcTest::adds", Passed),
                ("shapes.CalcTest::crashes", Error),
                ("shapes.CalcTest::divides", Skipped),
                ("shapes.CalcTest::retried", Passed),
                ("shapes.CalcTest::subtracts", Failed),
            ]
        );
    }

    #[test]
    fn reports_combine_and_repeated_ids_keep_the_worse_outcome() {
        let a = r#"<testsuite><testcase classname="c" name="t"/><testcase classname="c" name="u"><failure/></testcase></testsuite>"#;
        let b = r#"<testsuites><testsuite><testcase classname="c" name="t"><failure/></testcase><testcase classname="c" name="u"/></testsuite></testsuites>"#;
        let expected = vec![("c::t", Failed), ("c::u", Failed)];
        assert_eq!(ids(&parse([a, b])), expected);
        assert_eq!(ids(&parse([b, a])), expected);
    }

    #[test]
    fn a_report_cut_short_keeps_what_it_finished() {
        let cut = r#"<testsuite><testcase classname="c" name="done"/><testcase classname="c" name="half"><fail"#;
        assert_eq!(ids(&parse([cut])), vec![("c::done", Passed)]);
        assert!(parse(["not xml at all <<<"]).is_empty());
        assert!(parse([""]).is_empty());
    }
}
