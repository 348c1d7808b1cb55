//! Runs that did not run what they were for. A baseline whose test command never started (the
//! command or pytest is missing, pytest refused its arguments or found no test) holds no test
//! that passed, so every candidate would look regression-free; reproduction scripts that all die
//! importing the project say nothing about the issue. Each is named here in one line, with the
//! cause as the tool printed it and what the user can do, so the job can say that filter is off
//! instead of silently filtering on nothing.

use super::test_results::{OutputFormat, TestResults};
use crate::sandbox::RunOutput;

/// pytest's exit status when its command line or configuration is wrong.
const PYTEST_USAGE_ERROR: i32 = 4;
/// pytest's exit status when it collected no test.
const PYTEST_NO_TESTS: i32 = 5;
/// The shell's exit status for a command it cannot find, and for one it cannot execute.
const SHELL_NOT_FOUND: i32 = 127;
const SHELL_NOT_EXECUTABLE: i32 = 126;

/// Why the baseline run is no baseline, or `None` when it ran the tests (whether they passed or
/// not). `python` is the interpreter `test.python` names, for the advice.
pub fn baseline_error(
    format: OutputFormat,
    output: &RunOutput,
    results: &TestResults,
    python: &str,
) -> Option<String> {
    // Output cut at the sandbox's cap hides the tests that did run; that has its own warning.
    if !results.is_empty() || output.truncated || (output.exit_code == Some(0) && !output.timed_out)
    {
        return None;
    }
    let (cause, fix) = cause_and_fix(format, output, python)?;
    Some(format!(
        "the baseline test run did not run any test: {cause} — {fix}"
    ))
}

fn cause_and_fix(
    format: OutputFormat,
    output: &RunOutput,
    python: &str,
) -> Option<(String, String)> {
    let lines: Vec<&str> = output
        .stderr
        .lines()
        .chain(output.stdout.lines())
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(|line| clip(line, MAX_QUOTED))
        .collect();
    command_failure(output, &lines, python)
        .or_else(|| runner_failure(format, output.exit_code, &lines))
}

/// The command could not run the tests at all: it timed out, its interpreter lacks the test
/// runner, or the shell could not find or execute it.
fn command_failure(output: &RunOutput, lines: &[&str], python: &str) -> Option<(String, String)> {
    if output.timed_out {
        return Some((
            "it timed out before reporting a test".to_owned(),
            "raise test.timeout_secs (--test-timeout), or set test.command to a faster selection of tests".to_owned(),
        ));
    }
    if let Some((line, module)) = lines
        .iter()
        .find_map(|l| missing_main_module(l).map(|m| (*l, m)))
    {
        return Some((
            line.to_owned(),
            format!(
                "install {module} in the interpreter test.python names ({python}: `{python} -m pip install {module}`), or set test.command"
            ),
        ));
    }
    let code = output.exit_code;
    if code == Some(SHELL_NOT_FOUND) || lines.iter().any(|l| is_command_not_found(l)) {
        let line = lines
            .iter()
            .find(|l| is_command_not_found(l))
            .map_or("the command was not found (exit 127)", |l| l);
        return Some((
            line.to_owned(),
            "install it, or set test.command (--test-cmd) to a command that exists".to_owned(),
        ));
    }
    if code == Some(SHELL_NOT_EXECUTABLE) {
        return Some((
            telling_line(lines)
                .unwrap_or("the command cannot be executed (exit 126)")
                .to_owned(),
            "make it executable, or set test.command (--test-cmd)".to_owned(),
        ));
    }
    None
}

/// The test runner ran but, by its exit status or its silence, ran no test.
fn runner_failure(
    format: OutputFormat,
    code: Option<i32>,
    lines: &[&str],
) -> Option<(String, String)> {
    let pytest = format.is_pytest();
    let quoted = telling_line(lines).map_or(String::new(), |l| format!(": {l}"));
    let ended = |code: Option<i32>| match code {
        Some(code) => format!("exited with status {code}"),
        None => "was killed".to_owned(),
    };
    match (format, code) {
        (_, Some(PYTEST_USAGE_ERROR)) if pytest => Some((
            format!(
                "pytest refused its command line (exit 4): {}",
                telling_line(lines).unwrap_or("usage error")
            ),
            "correct the pytest arguments in test.command".to_owned(),
        )),
        (_, Some(PYTEST_NO_TESTS)) if pytest => Some((
            "pytest collected no tests (exit 5)".to_owned(),
            "point test.command at the project's tests".to_owned(),
        )),
        // A runner that names its tests and named none did not run them.
        (
            OutputFormat::Pytest
            | OutputFormat::CargoTest
            | OutputFormat::Django
            | OutputFormat::Sympy
            | OutputFormat::Unittest
            | OutputFormat::SwebenchPytest
            | OutputFormat::SwebenchPytestOptions
            | OutputFormat::SwebenchPytestV2
            | OutputFormat::SwebenchMatplotlib
            | OutputFormat::SwebenchSeaborn
            | OutputFormat::GoTestJson
            | OutputFormat::JestJson
            | OutputFormat::VitestJson,
            _,
        ) => Some((
            format!("the test command {} and reported no test result{quoted}", ended(code)),
            "check that test.command runs the project's tests (verification.baseline.output_tail in --json shows its output)".to_owned(),
        )),
        (OutputFormat::JunitXml, _) => Some((
            format!("the test command {} and left no JUnit XML report with a test case{quoted}", ended(code)),
            "check that test.junit_xml matches the report files the command writes, relative to the repository root".to_owned(),
        )),
        // An exit-code runner reports nothing but its status: a plain failure is a failing suite.
        (OutputFormat::ExitCode, _) => None,
    }
}

/// The most of one output line a message quotes: the cause must stay one readable line.
const MAX_QUOTED: usize = 300;

fn clip(line: &str, max: usize) -> &str {
    if line.len() <= max {
        return line;
    }
    let mut end = max;
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    &line[..end]
}

/// `python3 -m pytest` without pytest prints `…/python3: No module named pytest`: the module to
/// run is missing, as opposed to a test's own failed import, which Python quotes
/// (`ModuleNotFoundError: No module named 'x'`).
fn missing_main_module(line: &str) -> Option<&str> {
    // `-m a.b` whose package `a` is missing.
    if let Some((_, rest)) = line.split_once(": Error while finding module specification for '") {
        let (module, _) = rest.split_once('\'')?;
        return module.split('.').next();
    }
    let (program, module) = line.split_once(": No module named ")?;
    let plain = |s: &str| !s.is_empty() && !s.contains(char::is_whitespace);
    (plain(program) && plain(module) && !module.contains(['\'', '"'])).then_some(module)
}

/// dash (`sh: 1: foo: not found`), bash (`sh: foo: command not found`), and an exec'd path that
/// does not exist (`sh: 1: ./run.sh: No such file or directory` is caught by exit 127).
fn is_command_not_found(line: &str) -> bool {
    line.ends_with(": command not found")
        || (line.starts_with("sh: ") && line.ends_with(": not found"))
}

/// The line that says what went wrong: the first that reads as an error, else the last.
fn telling_line<'a>(lines: &[&'a str]) -> Option<&'a str> {
    lines
        .iter()
        .find(|l| l.contains(": error:"))
        .or_else(|| {
            lines
                .iter()
                .find(|l| l.to_ascii_lowercase().starts_with("error"))
        })
        .or_else(|| lines.last())
        .copied()
}

/// Why the reproduction scripts could not judge the issue, when every one of them failed to
/// import (the project, or a dependency of it) and none printed a verdict: the interpreter that
/// runs them is not the project's.
pub fn reproduction_import_error(runs: &[RunOutput], python: &str) -> Option<String> {
    let mut first_error: Option<&str> = None;
    for run in runs {
        if run.stdout.contains(super::reproduction::REPRODUCED)
            || run.stdout.contains(super::reproduction::RESOLVED)
        {
            return None;
        }
        let error = run
            .stderr
            .lines()
            .chain(run.stdout.lines())
            .map(str::trim)
            .find(|l| l.starts_with("ModuleNotFoundError: ") || l.starts_with("ImportError: "))
            .map(|l| clip(l, MAX_QUOTED))?;
        first_error.get_or_insert(error);
    }
    let error = first_error?;
    Some(format!(
        "the reproduction scripts could not import the project: all {} failed with `{error}` under {python} — set test.python to the interpreter where the project and its dependencies are installed (its venv); candidates are not checked by a reproduction test",
        runs.len()
    ))
}

/// Programs in other languages that could not start at all: every run printed none of the
/// three messages and failed the way a missing runner fails (the shell's 126/127, npx finding
/// no package offline). Then the runner, not the program, is at fault.
pub fn reproduction_run_error(runs: &[RunOutput], command: &str) -> Option<String> {
    let not_started = |run: &RunOutput| {
        let printed = [
            super::reproduction::REPRODUCED,
            super::reproduction::RESOLVED,
            super::reproduction::OTHER,
        ]
        .iter()
        .any(|m| run.stdout.contains(m));
        let missing = matches!(run.exit_code, Some(126 | 127))
            || run.stderr.contains("ENOTCACHED")
            || run.stderr.contains("npx canceled");
        !printed && missing
    };
    let first = runs.first()?;
    if !runs.iter().all(not_started) {
        return None;
    }
    let line = first
        .stderr
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map_or_else(
            || "no output".to_owned(),
            |l| clip(l, MAX_QUOTED).to_owned(),
        );
    Some(format!(
        "the reproduction programs could not run: all {} failed with `{line}` under `{command}` — install what that command needs where tests run, or set reproduction.command; candidates are not checked by a reproduction test",
        runs.len()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn output(exit_code: Option<i32>, stdout: &str, stderr: &str) -> RunOutput {
        RunOutput {
            exit_code,
            timed_out: false,
            stdout: stdout.to_owned(),
            stderr: stderr.to_owned(),
            truncated: false,
            duration: Duration::ZERO,
            root: None,
            reports: Vec::new(),
            host: None,
        }
    }

    fn results(names: &[&str]) -> TestResults {
        let mut results = TestResults::default();
        for name in names {
            results.tests.insert(
                (*name).to_owned(),
                super::super::test_results::TestStatus::Passed,
            );
        }
        results
    }

    fn error(format: OutputFormat, output: &RunOutput) -> Option<String> {
        baseline_error(format, output, &TestResults::default(), "python3")
    }

    #[test]
    fn pytest_missing_names_the_interpreter_and_the_install() {
        let run = output(Some(1), "", "/usr/bin/python3: No module named pytest\n");
        assert_eq!(
            error(OutputFormat::Pytest, &run).unwrap(),
            "the baseline test run did not run any test: /usr/bin/python3: No module named pytest — install pytest in the interpreter test.python names (python3: `python3 -m pip install pytest`), or set test.command"
        );
        let dotted = output(
            Some(1),
            "",
            "/usr/bin/python3: Error while finding module specification for 'nose2.main' (ModuleNotFoundError: No module named 'nose2')\n",
        );
        assert!(error(OutputFormat::ExitCode, &dotted)
            .unwrap()
            .contains("— install nose2 in the interpreter"));
        // The same for a module run by an exit-code command.
        let run = output(Some(1), "", "python3: No module named nonexistent_module\n");
        assert!(error(OutputFormat::ExitCode, &run)
            .unwrap()
            .contains("python3: No module named nonexistent_module — install nonexistent_module"));
    }

    #[test]
    fn a_tests_own_failed_import_is_a_failing_suite_not_a_missing_runner() {
        let run = output(
            Some(1),
            "",
            "Traceback (most recent call last):\nModuleNotFoundError: No module named 'requests'\n",
        );
        assert_eq!(error(OutputFormat::ExitCode, &run), None);
    }

    #[test]
    fn a_missing_command_is_named() {
        let dash = output(Some(127), "", "sh: 1: tox: not found\n");
        assert_eq!(
            error(OutputFormat::ExitCode, &dash).unwrap(),
            "the baseline test run did not run any test: sh: 1: tox: not found — install it, or set test.command (--test-cmd) to a command that exists"
        );
        let bash = output(Some(127), "", "sh: line 1: nox: command not found\n");
        assert!(error(OutputFormat::Pytest, &bash)
            .unwrap()
            .contains(": sh: line 1: nox: command not found —"));
        let silent = output(Some(127), "", "");
        assert!(error(OutputFormat::ExitCode, &silent)
            .unwrap()
            .contains("the command was not found (exit 127)"));
        let not_executable = output(Some(126), "", "sh: 1: ./ci/test.sh: Permission denied\n");
        assert!(error(OutputFormat::ExitCode, &not_executable)
            .unwrap()
            .contains("./ci/test.sh: Permission denied — make it executable"));
    }

    #[test]
    fn pytest_usage_errors_and_empty_collections_are_named() {
        let usage = output(
            Some(4),
            "",
            "ERROR: usage: __main__.py [options] [file_or_dir] [file_or_dir] [...]\n__main__.py: error: unrecognized arguments: --bogus\n  inifile: None\n",
        );
        assert_eq!(
            error(OutputFormat::Pytest, &usage).unwrap(),
            "the baseline test run did not run any test: pytest refused its command line (exit 4): __main__.py: error: unrecognized arguments: --bogus — correct the pytest arguments in test.command"
        );
        let none = output(Some(5), "\nno tests ran in 0.01s\n", "");
        assert_eq!(
            error(OutputFormat::Pytest, &none).unwrap(),
            "the baseline test run did not run any test: pytest collected no tests (exit 5) — point test.command at the project's tests"
        );
    }

    #[test]
    fn a_runner_that_exits_non_zero_without_a_result_is_named() {
        let cargo = output(
            Some(101),
            "",
            "   Compiling demo v0.1.0\nerror[E0425]: cannot find value `x` in this scope\nerror: could not compile `demo`\n",
        );
        assert_eq!(
            error(OutputFormat::CargoTest, &cargo).unwrap(),
            "the baseline test run did not run any test: the test command exited with status 101 and reported no test result: error[E0425]: cannot find value `x` in this scope — check that test.command runs the project's tests (verification.baseline.output_tail in --json shows its output)"
        );
        // An exit-code suite that fails is a failing baseline, not a missing one.
        assert_eq!(
            error(OutputFormat::ExitCode, &output(Some(2), "FAIL\n", "")),
            None
        );
    }

    #[test]
    fn a_long_line_is_quoted_clipped_and_output_past_the_cap_is_left_to_its_own_warning() {
        let noise = "é".repeat(2000);
        let line = error(OutputFormat::Pytest, &output(Some(1), &noise, "")).unwrap();
        assert!(line.len() < 600, "{line}");
        let mut cut = output(Some(1), &noise, "");
        cut.truncated = true;
        assert_eq!(error(OutputFormat::Pytest, &cut), None);
    }

    #[test]
    fn a_timeout_before_any_result_is_named() {
        let mut run = output(None, "", "");
        run.timed_out = true;
        assert!(error(OutputFormat::ExitCode, &run)
            .unwrap()
            .contains("it timed out before reporting a test — raise test.timeout_secs"));
    }

    #[test]
    fn a_run_that_reported_tests_or_passed_is_a_baseline() {
        let failing = output(Some(1), "", "/usr/bin/python3: No module named pytest\n");
        assert_eq!(
            baseline_error(
                OutputFormat::Pytest,
                &failing,
                &results(&["t::a"]),
                "python3"
            ),
            None
        );
        assert_eq!(error(OutputFormat::Pytest, &output(Some(0), "", "")), None);
    }

    #[test]
    fn reproduction_scripts_that_all_fail_to_import_are_named() {
        let failed = output(
            Some(1),
            "",
            "Traceback (most recent call last):\n  File \"swiss_reproduce_issue.py\", line 1, in <module>\n    from calc.ops import divide\nModuleNotFoundError: No module named 'calc'\n",
        );
        let line = reproduction_import_error(&[failed.clone(), failed.clone()], ".venv/bin/python")
            .unwrap();
        assert_eq!(
            line,
            "the reproduction scripts could not import the project: all 2 failed with `ModuleNotFoundError: No module named 'calc'` under .venv/bin/python — set test.python to the interpreter where the project and its dependencies are installed (its venv); candidates are not checked by a reproduction test"
        );
        // One script that ran says the interpreter works.
        let ran = output(Some(0), "Issue reproduced\n", "");
        assert_eq!(
            reproduction_import_error(&[failed.clone(), ran], "python3"),
            None
        );
        // A script that failed otherwise is the script's fault.
        let other = output(Some(1), "", "NameError: name 'x' is not defined\n");
        assert_eq!(reproduction_import_error(&[failed, other], "python3"), None);
        assert_eq!(reproduction_import_error(&[], "python3"), None);
    }

    #[test]
    fn programs_whose_runner_is_missing_say_so() {
        let missing = output(
            Some(1),
            "",
            "npm error code ENOTCACHED\nnpm error request to https://registry.npmjs.org/tsx failed\n",
        );
        let line = reproduction_run_error(
            std::slice::from_ref(&missing),
            "npx --no --offline tsx x.ts",
        )
        .unwrap();
        assert!(
            line.starts_with("the reproduction programs could not run: all 1 failed with `npm error code ENOTCACHED` under `npx --no --offline tsx x.ts`"),
            "{line}"
        );
        let not_found = output(Some(127), "", "sh: 1: go: not found\n");
        assert!(reproduction_run_error(std::slice::from_ref(&not_found), "go run ./x").is_some());
        // A program that ran (even one that failed to compile) says the runner works.
        let compiled = output(Some(1), "", "./main.go:3:2: undefined: x\n");
        assert_eq!(
            reproduction_run_error(&[not_found, compiled], "go run ./x"),
            None
        );
        assert_eq!(reproduction_run_error(&[], "go run ./x"), None);
    }
}
