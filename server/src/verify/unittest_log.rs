//! `python -m unittest -v` (and runners built on unittest's text runner, such as Django's).
//!
//! A test is named as unittest prints it: `test_x (module.Class)`, or from Python 3.11
//! `test_x (module.Class.test_x)`; without a docstring that is also the name SWE-bench's Django
//! reading gives. Where unittest prints the first line of a docstring after the name
//!
//! ```text
//! test_div (tests.test_calc.CalcTests.test_div)
//! Division by zero raises. ... FAIL
//! ```
//!
//! the verdict belongs to the name on the line before, so the id stays the same when the
//! docstring changes. Output printed between `...` and the verdict pushes the verdict onto a line
//! of its own, which goes to the test that started last. A `FAIL:`/`ERROR:` header in the report
//! that follows can add a second verdict (an error in `tearDown` after `ok`): the worse stands.
//! An unexpected success counts as a failure, as unittest counts it from Python 3.11 on; an
//! expected failure as a pass.

use super::test_results::{TestResults, TestStatus};

pub fn parse(stdout: &str, stderr: &str) -> TestResults {
    let mut results = TestResults::default();
    // Streams apart: a test started in one is never finished in the other.
    read(stdout, &mut results);
    read(stderr, &mut results);
    results
}

fn read(text: &str, results: &mut TestResults) {
    // A name printed alone, waiting for its docstring line and verdict.
    let mut named: Option<&str> = None;
    // A test whose line ended before its verdict.
    let mut pending: Option<&str> = None;
    for raw in text.lines() {
        let line = raw.trim_end();
        if let Some((id, status)) = report_header(line) {
            results.record_worst(id.to_owned(), status);
            named = None;
            pending = None;
            continue;
        }
        if let Some((head, tail)) = split_verdict_line(line) {
            let id = if is_test_id(head) { Some(head) } else { named };
            named = None;
            pending = None;
            let Some(id) = id else { continue };
            match verdict(tail) {
                Some(status) => results.record_worst(id.to_owned(), status),
                None => pending = Some(id),
            }
            continue;
        }
        if is_test_id(line) {
            named = Some(line);
            continue;
        }
        if let Some(id) = pending {
            if let Some(status) = verdict(line.trim()) {
                results.record_worst(id.to_owned(), status);
                pending = None;
            }
        }
    }
}

/// `name ... verdict`, or `name ...` when output follows before the verdict.
fn split_verdict_line(line: &str) -> Option<(&str, &str)> {
    if let Some((head, tail)) = line.split_once(" ... ") {
        return Some((head, tail.trim()));
    }
    line.strip_suffix(" ...").map(|head| (head, ""))
}

fn verdict(word: &str) -> Option<TestStatus> {
    match word {
        "ok" | "expected failure" => Some(TestStatus::Passed),
        "FAIL" | "unexpected success" => Some(TestStatus::Failed),
        "ERROR" => Some(TestStatus::Error),
        _ if word.starts_with("skipped") => Some(TestStatus::Skipped),
        _ => None,
    }
}

/// `FAIL: test_x (module.Class)`, or a subtest's `FAIL: test_x (module.Class) (i=1)`, which is
/// reported under its test.
fn report_header(line: &str) -> Option<(&str, TestStatus)> {
    let (rest, status) = if let Some(rest) = line.strip_prefix("FAIL: ") {
        (rest, TestStatus::Failed)
    } else if let Some(rest) = line.strip_prefix("ERROR: ") {
        (rest, TestStatus::Error)
    } else {
        return None;
    };
    let close = rest.find(')')?;
    let id = &rest[..=close];
    is_test_id(id).then_some((id, status))
}

/// `name (dotted.path)`: how unittest's `str(test)` looks.
fn is_test_id(text: &str) -> bool {
    let Some((name, rest)) = text.split_once(" (") else {
        return false;
    };
    let Some(path) = rest.strip_suffix(')') else {
        return false;
    };
    !name.is_empty()
        && !name.contains(char::is_whitespace)
        && !path.is_empty()
        && path
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '.')
}

#[cfg(test)]
mod tests {
    use super::super::test_results::golden::{self, ids};
    use super::*;
    use TestStatus::*;

    const LOG: &str = include_str!("../../../tests/golden/logs/unittest.log");

    #[test]
    fn verbose_output_names_every_test_once() {
        assert_eq!(
            ids(&parse("", LOG)),
            vec![
                ("test_add (tests.test_calc.CalcTests.test_add)", Passed),
                ("test_div (tests.test_calc.CalcTests.test_div)", Failed),
                ("test_err (tests.test_calc.CalcTests.test_err)", Error),
                (
                    "test_parse (tests.test_parse.ParseTests.test_parse)",
                    Passed
                ),
                ("test_skip (tests.test_calc.CalcTests.test_skip)", Skipped),
                (
                    "test_teardown (tests.test_calc.CalcTests.test_teardown)",
                    Error
                ),
                ("test_xfail (tests.test_calc.CalcTests.test_xfail)", Passed),
                ("test_xpass (tests.test_calc.CalcTests.test_xpass)", Failed),
            ]
        );
    }

    /// Where SWE-bench's Django reading names a test by unittest's own line, it is the same
    /// name with the same verdict.
    #[test]
    fn plain_lines_are_named_as_swebench_names_them() {
        let ours = parse(LOG, "");
        let theirs = golden::reference(include_str!(
            "../../../tests/golden/logs/unittest.log.parse_log_django.json"
        ));
        for name in [
            "test_add (tests.test_calc.CalcTests.test_add)",
            "test_err (tests.test_calc.CalcTests.test_err)",
            "test_skip (tests.test_calc.CalcTests.test_skip)",
        ] {
            assert_eq!(ours.tests.get(name), theirs.get(name), "{name}");
        }
    }

    #[test]
    fn older_pythons_name_the_class_only_and_subtests_report_under_their_test() {
        let log = "test_a (pkg.test_m.T) ... ok\n\
                   test_b (pkg.test_m.T) ... \n\
                   ======================================================================\n\
                   FAIL: test_b (pkg.test_m.T) (i=2)\n\
                   ----------------------------------------------------------------------\n";
        assert_eq!(
            ids(&parse(log, "")),
            vec![
                ("test_a (pkg.test_m.T)", Passed),
                ("test_b (pkg.test_m.T)", Failed)
            ]
        );
    }

    /// The captured log above is checked against the interpreter itself: the same suite, run.
    #[test]
    fn a_real_unittest_run() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("tests")).unwrap();
        std::fs::write(dir.path().join("tests/__init__.py"), "").unwrap();
        std::fs::write(
            dir.path().join("tests/test_calc.py"),
            r#"import unittest

class CalcTests(unittest.TestCase):
    def test_add(self):
        self.assertEqual(1 + 1, 2)

    def test_div(self):
        """Division by zero raises ZeroDivisionError."""
        self.assertEqual(1, 2)

    def test_err(self):
        raise RuntimeError("boom")

    @unittest.skip("not on this platform")
    def test_skip(self):
        pass

    @unittest.expectedFailure
    def test_xpass(self):
        pass

    def test_print(self):
        print("printed by the test", flush=True)
"#,
        )
        .unwrap();
        let output = std::process::Command::new("python3")
            .args(["-m", "unittest", "-v", "tests.test_calc"])
            .current_dir(dir.path())
            .output()
            .expect("failed to run python3, which the test suite needs");
        let results = parse(
            &String::from_utf8_lossy(&output.stdout),
            &String::from_utf8_lossy(&output.stderr),
        );
        let statuses: Vec<(String, TestStatus)> = results
            .tests
            .iter()
            .map(|(id, status)| (id.split(' ').next().unwrap().to_owned(), *status))
            .collect();
        let want = [
            ("test_add", Passed),
            ("test_div", Failed),
            ("test_err", Error),
            ("test_print", Passed),
            ("test_skip", Skipped),
            ("test_xpass", Failed),
        ];
        assert_eq!(
            statuses,
            want.map(|(id, status)| (id.to_owned(), status)),
            "{results:#?}"
        );
        assert!(results.tests.keys().all(|id| is_test_id(id)));
    }
}
