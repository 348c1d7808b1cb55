//! sympy's runner (`bin/test -C --verbose`), read the way SWE-bench's harness reads it
//! (`parse_log_sympy` in `swebench/harness/log_parsers/python.py`,
//! github.com/SWE-bench/SWE-bench): sympy instances' FAIL_TO_PASS and PASS_TO_PASS lists hold
//! bare function names (`test_latex_basic`) from the verbose lines `test_x ok`, `test_x F`,
//! `test_x E`, plus `path.py:test_x` as failed for each traceback header
//! `____ sympy/core/tests/test_basic.py:test_x ____`.
//!
//! The verbose runner ends each file's last line with `[OK]` or `[FAIL]`; that line ends in
//! neither `ok`, `F` nor `E`, so the harness does not record that test from it, and neither does
//! this reading.

use std::sync::LazyLock;

use regex::Regex;

use super::test_results::{TestResults, TestStatus};

pub fn parse(log: &str) -> TestResults {
    static HEADER: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(_*) (.*)\.py:(.*) (_*)").unwrap());
    let mut results = TestResults::default();
    for found in HEADER.captures_iter(log) {
        results.record_last(
            format!("{}.py:{}", &found[2], &found[3]),
            Some(TestStatus::Failed),
        );
    }
    for line in log.split('\n') {
        let line = line.trim();
        if !line.starts_with("test_") {
            continue;
        }
        let status = if line.ends_with(" E") {
            TestStatus::Error
        } else if line.ends_with(" F") {
            TestStatus::Failed
        } else if line.ends_with(" ok") {
            TestStatus::Passed
        } else {
            continue;
        };
        if let Some(test) = line.split_whitespace().next() {
            results.record_last(test.to_owned(), Some(status));
        }
    }
    results
}

#[cfg(test)]
mod tests {
    use super::super::test_results::golden;
    use super::*;

    const LOG: &str = include_str!("../../../tests/golden/logs/sympy.log");

    #[test]
    fn bin_test_output_gives_swebench_names() {
        golden::assert_same(
            &parse(LOG),
            include_str!("../../../tests/golden/logs/sympy.log.parse_log_sympy.json"),
        );
    }

    #[test]
    fn verbose_lines_and_traceback_headers() {
        let results = parse(LOG);
        let status = |name: &str| results.tests.get(name).copied();
        use TestStatus::*;
        assert_eq!(status("test__aresame"), Some(Passed));
        assert_eq!(status("test_equality"), Some(Failed));
        assert_eq!(status("test_latex_symbols"), Some(Error));
        assert_eq!(
            status("sympy/printing/tests/test_latex.py:test_latex_symbols"),
            Some(Failed)
        );
        // A file's last test shares its line with `[OK]`/`[FAIL]`; a skip says `Slow w`.
        assert_eq!(status("test_matches_basic"), None);
        assert_eq!(status("test_latex_slow_thing"), None);
    }
}
