//! `pytest -rA` output read the way SWE-bench's harness reads it, so that the names are the ones
//! in an instance's FAIL_TO_PASS and PASS_TO_PASS lists (`swebench/harness/log_parsers/python.py`
//! in github.com/SWE-bench/SWE-bench: `parse_log_pytest`, `parse_log_pytest_options`,
//! `parse_log_pytest_v2`, `parse_log_matplotlib`, `parse_log_seaborn`). Those lists were made by
//! these rules, quirks included (an id cut at its first blank, a path parameter cut to its file
//! name), so a better reading would miss tests the dataset names. Swiss's own pytest reading, for
//! jobs outside the benchmark, is in test_results.rs.

use std::sync::LazyLock;

use regex::Regex;

use super::test_results::{harness_status, TestResults};

/// Which of SWE-bench's pytest parsers a repository is graded with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// `parse_log_pytest` (flask, pytest, xarray, …).
    Plain,
    /// `parse_log_pytest_options` (requests, pylint, …).
    Options,
    /// `parse_log_pytest_v2` (astropy, scikit-learn, sphinx).
    V2,
    /// `parse_log_matplotlib`.
    Matplotlib,
    /// `parse_log_seaborn`.
    Seaborn,
}

const STATUS_WORDS: [&str; 5] = ["FAILED", "PASSED", "SKIPPED", "ERROR", "XFAIL"];

pub fn parse(flavor: Flavor, log: &str) -> TestResults {
    let mut results = TestResults::default();
    for line in log.split('\n') {
        match flavor {
            Flavor::Plain => summary_line(line, &mut results, |name| name.to_owned()),
            Flavor::Options => summary_line(line, &mut results, shorten_path_option),
            Flavor::Matplotlib => {
                let line = line
                    .replace("MouseButton.LEFT", "1")
                    .replace("MouseButton.RIGHT", "3");
                summary_line(&line, &mut results, |name| name.to_owned());
            }
            Flavor::V2 => v2_line(line, &mut results),
            Flavor::Seaborn => seaborn_line(line, &mut results),
        }
    }
    results
}

fn starts_with_status(line: &str) -> bool {
    STATUS_WORDS.iter().any(|word| line.starts_with(word))
}

/// `SKIPPED [2] tests/x.py:12: reason` counts skips at a line; `[2]` is no test.
fn is_skip_count(status: &str, name: &str) -> bool {
    status == "SKIPPED"
        && name
            .strip_prefix('[')
            .and_then(|n| n.strip_suffix(']'))
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// The rule shared by the plain, options and matplotlib parsers: a line that starts with a status
/// word names the test in its second blank-separated word.
fn summary_line(line: &str, results: &mut TestResults, name: impl Fn(&str) -> String) {
    if !starts_with_status(line) {
        return;
    }
    let line = if line.starts_with("FAILED") {
        line.replace(" - ", " ")
    } else {
        line.to_owned()
    };
    let words: Vec<&str> = line.split_whitespace().collect();
    if words.len() <= 1 || is_skip_count(words[0], words[1]) {
        return;
    }
    results.record_last(name(words[1]), harness_status(words[0]));
}

/// `test_x[/tmp/pytest-of-root/pytest-0/file]` → `test_x[/file]`: a parameter that is an
/// absolute path (not `//…`, no glob) is kept as its last component, which does not change from
/// one machine to the next. As the reference, the name is cut after its last `]`.
fn shorten_path_option(name: &str) -> String {
    let Some(open) = name.find('[') else {
        return name.to_owned();
    };
    let Some(close) = name.rfind(']').filter(|&close| close > open) else {
        return name.to_owned();
    };
    let (main, option) = (&name[..open], &name[open + 1..close]);
    if option.starts_with('/') && !option.starts_with("//") && !option.contains('*') {
        let file = option.rsplit('/').next().unwrap_or(option);
        format!("{main}[/{file}]")
    } else {
        format!("{main}[{option}]")
    }
}

/// `parse_log_pytest_v2`: colour codes and control characters dropped, the whole rest of the
/// line is the name (blanks folded to one), a FAILED line's ` - message` left out; lines that end
/// in a status word (older pytest's `-v` lines) are read too.
fn v2_line(line: &str, results: &mut TestResults) {
    static COLOUR: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\[(\d+)m").unwrap());
    let line = COLOUR.replace_all(line, "");
    let line: String = line
        .chars()
        .filter(|c| !('\u{1}'..='\u{1f}').contains(c))
        .collect();
    if starts_with_status(&line) {
        let line = if line.starts_with("FAILED") {
            line.split(" - ").next().unwrap_or_default()
        } else {
            &line
        };
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.len() >= 2 && !is_skip_count(words[0], words[1]) {
            results.record_last(words[1..].join(" "), harness_status(words[0]));
        }
    } else if STATUS_WORDS.iter().any(|word| line.ends_with(word)) {
        let words: Vec<&str> = line.split_whitespace().collect();
        if let [name @ .., status] = &words[..] {
            if !name.is_empty() {
                results.record_last(name.join(" "), harness_status(status));
            }
        }
    }
}

/// `parse_log_seaborn`: FAILED and PASSED only, from summary lines and `-v` lines alike.
fn seaborn_line(line: &str, results: &mut TestResults) {
    let words: Vec<&str> = line.split_whitespace().collect();
    if words.len() < 2 {
        return;
    }
    if line.starts_with("FAILED") {
        results.record_last(words[1].to_owned(), harness_status("FAILED"));
    } else if line.contains(" PASSED ") {
        if words[1] == "PASSED" {
            results.record_last(words[0].to_owned(), harness_status("PASSED"));
        }
    } else if line.starts_with("PASSED") {
        results.record_last(words[1].to_owned(), harness_status("PASSED"));
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_results::{golden, TestStatus};
    use super::*;

    const RA: &str = include_str!("../../../tests/golden/logs/pytest_ra.log");

    #[test]
    fn each_flavor_gives_its_swebench_parser_names() {
        let cases = [
            (
                Flavor::Plain,
                include_str!("../../../tests/golden/logs/pytest_ra.log.parse_log_pytest.json"),
            ),
            (
                Flavor::Options,
                include_str!(
                    "../../../tests/golden/logs/pytest_ra.log.parse_log_pytest_options.json"
                ),
            ),
            (
                Flavor::V2,
                include_str!("../../../tests/golden/logs/pytest_ra.log.parse_log_pytest_v2.json"),
            ),
            (
                Flavor::Matplotlib,
                include_str!("../../../tests/golden/logs/pytest_ra.log.parse_log_matplotlib.json"),
            ),
            (
                Flavor::Seaborn,
                include_str!("../../../tests/golden/logs/pytest_ra.log.parse_log_seaborn.json"),
            ),
        ];
        for (flavor, json) in cases {
            golden::assert_same(&parse(flavor, RA), json);
        }
    }

    #[test]
    fn v2_reads_older_pytest_verbose_lines() {
        golden::assert_same(
            &parse(
                Flavor::V2,
                include_str!("../../../tests/golden/logs/pytest_classic.log"),
            ),
            include_str!("../../../tests/golden/logs/pytest_classic.log.parse_log_pytest_v2.json"),
        );
    }

    #[test]
    fn parametrized_ids_with_blanks_and_brackets() {
        let plain = parse(Flavor::Plain, RA);
        let v2 = parse(Flavor::V2, RA);
        let options = parse(Flavor::Options, RA);
        // The plain parser's names end at the first blank, as the datasets list them.
        assert_eq!(
            plain.tests["testing/test_terminal.py::test_summary_stats[red-1"],
            TestStatus::Failed
        );
        assert_eq!(
            v2.tests["testing/test_terminal.py::test_summary_stats[red-1 failed-stats_arg0]"],
            TestStatus::Failed
        );
        assert!(v2
            .tests
            .contains_key("testing/test_mark.py::test_parametrized_with_kwargs[a b-[1, 2]]"));
        assert!(plain
            .tests
            .contains_key("testing/test_mark.py::TestClass::test_method[x]y]"));
        assert!(options
            .tests
            .contains_key("tests/test_requests.py::test_path_is_not_double_encoded[/file]"));
        assert!(options
            .tests
            .contains_key("tests/test_requests.py::test_urls[http://example.com//path]"));
    }

    #[test]
    fn later_reports_replace_earlier_ones() {
        let log =
            "PASSED t.py::test_a\nERROR t.py::test_a - teardown failed\nSKIPPED [3] t.py:9: x\n";
        let results = parse(Flavor::Plain, log);
        assert_eq!(
            results.tests.iter().collect::<Vec<_>>(),
            [(&"t.py::test_a".to_owned(), &TestStatus::Error)]
        );
    }

    #[test]
    fn path_options_keep_their_file_name() {
        assert_eq!(
            shorten_path_option("t.py::f[/a/b/c.txt]"),
            "t.py::f[/c.txt]"
        );
        assert_eq!(
            shorten_path_option("t.py::f[//host/x]"),
            "t.py::f[//host/x]"
        );
        assert_eq!(shorten_path_option("t.py::f[/a/*.py]"), "t.py::f[/a/*.py]");
        assert_eq!(shorten_path_option("t.py::f[/a/b]tail"), "t.py::f[/b]");
        assert_eq!(shorten_path_option("t.py::f"), "t.py::f");
    }
}
