//! Django's own runner (`tests/runtests.py --verbosity 2`), read the way SWE-bench's harness
//! reads it (`parse_log_django` in `swebench/harness/log_parsers/python.py`,
//! github.com/SWE-bench/SWE-bench), because Django instances' FAIL_TO_PASS and PASS_TO_PASS lists
//! hold exactly the names that reading gives: `test_x (module.Class)`, or the first line of the
//! test's docstring when Django prints one (`Tests renamed models. ... ok`), and the bare method
//! name from a `FAIL: test_x (module.Class)` header.

use std::sync::LazyLock;

use regex::Regex;

use super::test_results::{TestResults, TestStatus};

/// Output that Django's runner prints into the middle of a test's line, pushing its `ok` onto
/// the next line; the harness counts those tests as passed.
static INTERRUPTED: LazyLock<[Regex; 3]> = LazyLock::new(|| {
    [
        r"(?m)^(.*?)\s\.\.\.\sTesting against Django installed in ((?s:.*?)) silenced\)\.\nok$",
        r"(?m)^(.*?)\s\.\.\.\sInternal Server Error: /(.*)/\nok$",
        r"(?m)^(.*?)\s\.\.\.\sSystem check identified no issues \(0 silenced\)\nok$",
    ]
    .map(|pattern| Regex::new(pattern).unwrap())
});

const PASS_SUFFIXES: [&str; 3] = [" ... ok", " ... OK", " ...  OK"];

/// A line of a migration's output that the test's result was printed onto
/// (django__django-7188 in the harness).
const MIGRATION_PREFIX: &str = "Applying sites.0002_alter_domain_unique...test_no_migrations";

pub fn parse(log: &str) -> TestResults {
    let mut results = TestResults::default();
    let mut previous: Option<String> = None;
    for line in log.split('\n') {
        let mut line = line.trim();
        // The harness special-cases this test of `django-admin --version`, whose output spans
        // lines.
        if line.contains("--version is equivalent to version") {
            results.record_last(
                "--version is equivalent to version".to_owned(),
                Some(TestStatus::Passed),
            );
        }
        if let Some((test, _)) = line.split_once(" ... ") {
            previous = Some(test.to_owned());
        }
        for suffix in PASS_SUFFIXES {
            if line.ends_with(suffix) {
                // As in the harness, the rest of this line's checks read the shortened line.
                if line.starts_with(MIGRATION_PREFIX) {
                    line = line.split_once("...").map_or(line, |(_, rest)| rest.trim());
                }
                let test = line.rsplit_once(suffix).map_or(line, |(test, _)| test);
                results.record_last(test.to_owned(), Some(TestStatus::Passed));
                break;
            }
        }
        if let Some((test, _)) = line.split_once(" ... skipped") {
            results.record_last(test.to_owned(), Some(TestStatus::Skipped));
        }
        if let Some(test) = line.strip_suffix(" ... FAIL") {
            results.record_last(first_part(test, " ... FAIL"), Some(TestStatus::Failed));
        }
        if line.starts_with("FAIL:") {
            if let Some(test) = line.split_whitespace().nth(1) {
                results.record_last(test.to_owned(), Some(TestStatus::Failed));
            }
        }
        if let Some(test) = line.strip_suffix(" ... ERROR") {
            results.record_last(first_part(test, " ... ERROR"), Some(TestStatus::Error));
        }
        if line.starts_with("ERROR:") {
            if let Some(test) = line.split_whitespace().nth(1) {
                results.record_last(test.to_owned(), Some(TestStatus::Error));
            }
        }
        // Output printed between a test's `...` and its `ok` pushes the `ok` to a line of its
        // own; the harness gives it to the last test that started.
        if line.starts_with("ok") {
            if let Some(test) = &previous {
                results.record_last(test.clone(), Some(TestStatus::Passed));
            }
        }
    }
    for pattern in INTERRUPTED.iter() {
        for found in pattern.captures_iter(log) {
            results.record_last(found[1].to_owned(), Some(TestStatus::Passed));
        }
    }
    results
}

/// The harness names a test by what precedes the first occurrence of the marker, which is not
/// the final one when the name itself holds the marker.
fn first_part(test_and_more: &str, marker: &str) -> String {
    test_and_more
        .split_once(marker)
        .map_or(test_and_more, |(test, _)| test)
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::super::test_results::golden;
    use super::*;

    const LOG: &str = include_str!("../../../tests/golden/logs/django.log");

    #[test]
    fn runtests_output_gives_swebench_names() {
        golden::assert_same(
            &parse(LOG),
            include_str!("../../../tests/golden/logs/django.log.parse_log_django.json"),
        );
    }

    #[test]
    fn names_are_spelled_as_django_instances_list_them() {
        let results = parse(LOG);
        let status = |name: &str| results.tests.get(name).copied();
        use TestStatus::*;
        assert_eq!(
            status("test_add_field (migrations.test_autodetector.AutodetectorTests)"),
            Some(Passed)
        );
        // A docstring's first line stands for the test, as Django prints it.
        assert_eq!(
            status("Tests autodetection of renamed models."),
            Some(Passed)
        );
        assert_eq!(
            status("Two instances which deconstruct to the same value aren't considered a"),
            Some(Error)
        );
        // The report's headers add the bare method name.
        assert_eq!(status("test_alter_field"), Some(Failed));
        assert_eq!(
            status("test_skip_db (migrations.test_operations.OperationTests)"),
            Some(Skipped)
        );
        // `ok` pushed onto the next line by output in between.
        assert_eq!(
            status("test_noisy_view (migrations.test_commands.MigrateTests)"),
            Some(Passed)
        );
        assert_eq!(
            status("test_sqlmigrate (migrations.test_commands.MigrateTests)"),
            Some(Passed)
        );
        // The harness has no word for these; they are absent, and grade as not passing.
        assert_eq!(
            status("test_known_bug (migrations.test_operations.OperationTests)"),
            None
        );
        assert_eq!(
            status("test_squash (migrations.test_commands.SquashMigrationsTests)"),
            None
        );
    }

    #[test]
    fn unittest_output_gives_swebench_names() {
        golden::assert_same(
            &parse(include_str!("../../../tests/golden/logs/unittest.log")),
            include_str!("../../../tests/golden/logs/unittest.log.parse_log_django.json"),
        );
    }

    #[test]
    fn a_migration_line_the_result_was_printed_onto() {
        let log = "Applying sites.0002_alter_domain_unique...test_no_migrations \
                   (migrations.test_commands.MigrateTests) ... ok\n";
        let results = parse(log);
        assert_eq!(
            results.tests.keys().collect::<Vec<_>>(),
            ["test_no_migrations (migrations.test_commands.MigrateTests)"]
        );
    }

    #[test]
    fn interrupted_lines_the_harness_matches_across_lines() {
        let log = "test_run (admin_scripts.tests.ManageRunserver) ... Testing against Django \
                   installed in '/testbed/django' with up to 8 processes\nSystem check \
                   identified no issues (0 silenced).\nok\n";
        let results = parse(log);
        assert_eq!(
            results
                .tests
                .get("test_run (admin_scripts.tests.ManageRunserver)"),
            Some(&TestStatus::Passed)
        );
    }
}
