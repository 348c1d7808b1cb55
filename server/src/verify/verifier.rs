//! Running tests for a job: the baseline once, then each unique candidate. Everything here works
//! through the `Sandbox` trait, so Docker and local runs behave alike.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::reproduction::{read_verdict, ScriptVerdict, SCRIPT_PATH};
use super::run_failure::baseline_error;
use super::test_command::TestCommand;
use super::test_results::{parse_output, OutputFormat, TestResults, TestStatus};
use crate::engine::apply::PatchedFiles;
use crate::sandbox::{RunOutput, RunSpec, Sandbox, SandboxError};

/// How tests run for a job.
#[derive(Debug, Clone)]
pub struct TestPlan {
    pub test: TestCommand,
    pub timeout: Duration,
    /// The interpreter for reproduction scripts: the project's venv python when it has one.
    pub python: String,
    pub env: Vec<(String, String)>,
    /// How a reproduction program runs when it is not a Python script run with `python`.
    pub script: Option<ScriptRun>,
}

/// Where a reproduction program goes in the run's copy and the command that runs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptRun {
    pub file: String,
    pub command: String,
}

/// The unpatched repository's test run. Tests that pass here are the regression set; tests that
/// already fail never count against a candidate.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Baseline {
    pub exit_code: Option<i32>,
    pub timed_out: bool,
    pub passed: usize,
    pub failed: usize,
    #[serde(skip)]
    pub regression_set: BTreeSet<String>,
    #[serde(with = "crate::sandbox::duration_secs")]
    pub duration: Duration,
    /// The output passed the sandbox's cap: tests reported after it are unknown.
    pub output_truncated: bool,
    /// The tail of the output, so a user can see why a baseline failed.
    pub output_tail: String,
    /// The Docker host it ran on, when the sandbox has several to choose from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Why the test command ran no test (missing runner, usage error, nothing collected), in
    /// one line with what to do. Then there is no regression set, and candidates are not
    /// regression-checked.
    pub error: Option<String>,
}

/// One candidate's test results.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CandidateTests {
    /// `None` when the baseline ran no test: nothing to regress against.
    pub regression_failures: Option<u32>,
    /// Up to a handful of the regression tests it broke, for the report.
    pub broken: Vec<String>,
    pub timed_out: bool,
    pub reproduction: Option<ScriptVerdict>,
    #[serde(with = "crate::sandbox::duration_secs")]
    pub duration: Duration,
    /// The output passed the sandbox's cap: regression tests it did not get to report count as
    /// failures.
    pub output_truncated: bool,
    /// The Docker host its test run went to, when the sandbox has hosts to choose from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
}

/// Tests named in the report; the count is always complete.
const BROKEN_SHOWN: usize = 10;
const OUTPUT_TAIL: usize = 4000;
/// The regression "test" of a runner whose output names no tests: the command's exit status.
pub const EXIT_STATUS_TEST: &str = "<exit status>";

impl TestPlan {
    /// Every command exports the run folder first on PYTHONPATH: a project installed in
    /// editable mode would otherwise import the user's unpatched tree instead of the copy under test.
    fn spec(&self, command: &str, files: Vec<(String, Option<Arc<str>>)>) -> RunSpec {
        RunSpec {
            command: format!("export PYTHONPATH=\"$PWD${{PYTHONPATH:+:$PYTHONPATH}}\"; {command}"),
            files,
            env: self.env.clone(),
            timeout: self.timeout,
            reports: None,
        }
    }

    /// The test command's run, reading back the report files it writes.
    fn test_spec(&self, files: Vec<(String, Option<Arc<str>>)>) -> RunSpec {
        RunSpec {
            reports: self.test.junit_xml.clone(),
            ..self.spec(&self.test.command, files)
        }
    }

    /// A baseline whose output names no test makes the exit status its only regression test;
    /// a candidate's exit status is then always recorded, even if its output names tests.
    fn results(&self, output: &RunOutput, always_exit_status: bool) -> TestResults {
        let parsed = parse_output(self.test.format, output);
        self.with_exit_status(parsed, output, always_exit_status)
    }

    fn with_exit_status(
        &self,
        mut results: TestResults,
        output: &RunOutput,
        always_exit_status: bool,
    ) -> TestResults {
        if always_exit_status
            || self.test.format == OutputFormat::ExitCode
            || results.tests.is_empty()
        {
            let status = if output.exit_code == Some(0) {
                TestStatus::Passed
            } else {
                TestStatus::Failed
            };
            results.tests.insert(EXIT_STATUS_TEST.to_owned(), status);
        }
        results
    }

    pub async fn baseline(
        &self,
        sandbox: &dyn Sandbox,
        cancel: &CancellationToken,
    ) -> Result<Baseline, SandboxError> {
        let output = sandbox
            .run(self.test_spec(Vec::new()), cancel.clone())
            .await?;
        let parsed = parse_output(self.test.format, &output);
        let error = baseline_error(self.test.format, &output, &parsed, &self.python);
        // The exit status of a command that never ran tests is no regression test.
        let results = match error {
            Some(_) => parsed,
            None => self.with_exit_status(parsed, &output, false),
        };
        let regression_set: BTreeSet<String> = results
            .tests
            .iter()
            .filter(|(_, status)| **status == TestStatus::Passed)
            .map(|(name, _)| name.clone())
            .collect();
        let failed = results
            .tests
            .values()
            .filter(|s| matches!(s, TestStatus::Failed | TestStatus::Error))
            .count();
        Ok(Baseline {
            exit_code: output.exit_code,
            timed_out: output.timed_out,
            passed: regression_set.len(),
            failed,
            regression_set,
            duration: output.duration,
            output_truncated: output.truncated,
            output_tail: tail(&format!("{}{}", output.stdout, output.stderr), OUTPUT_TAIL),
            error,
            host: output.host,
        })
    }

    /// What a reproduction script says on the unpatched repository, or with a candidate.
    pub async fn run_script(
        &self,
        sandbox: &dyn Sandbox,
        script: &str,
        candidate: Option<&PatchedFiles>,
        cancel: &CancellationToken,
    ) -> Result<ScriptVerdict, SandboxError> {
        let output = self
            .run_script_output(sandbox, script, candidate, cancel)
            .await?;
        Ok(read_verdict(&output.stdout))
    }

    /// The whole run of a reproduction script: its errors tell whether the interpreter can
    /// import the project at all.
    pub async fn run_script_output(
        &self,
        sandbox: &dyn Sandbox,
        script: &str,
        candidate: Option<&PatchedFiles>,
        cancel: &CancellationToken,
    ) -> Result<RunOutput, SandboxError> {
        let mut files = candidate.map(candidate_files).unwrap_or_default();
        let (file, command) = match &self.script {
            Some(run) => (run.file.clone(), run.command.clone()),
            None => (
                SCRIPT_PATH.to_owned(),
                format!("{} {SCRIPT_PATH}", self.python),
            ),
        };
        files.push((file, Some(Arc::from(script))));
        sandbox
            .run(self.spec(&command, files), cancel.clone())
            .await
    }

    /// The candidate's regression failures and, when a reproduction script was chosen, its verdict.
    pub async fn candidate(
        &self,
        sandbox: &dyn Sandbox,
        baseline: &Baseline,
        script: Option<&str>,
        files: &PatchedFiles,
        cancel: &CancellationToken,
    ) -> Result<CandidateTests, SandboxError> {
        // A test command that ran no test on the baseline runs none here either.
        let regression_checked = baseline.error.is_none();
        let tests = async {
            if regression_checked {
                sandbox
                    .run(self.test_spec(candidate_files(files)), cancel.clone())
                    .await
                    .map(Some)
            } else {
                Ok(None)
            }
        };
        let reproduction = async {
            match script {
                Some(script) => self
                    .run_script(sandbox, script, Some(files), cancel)
                    .await
                    .map(Some),
                None => Ok(None),
            }
        };
        let (output, reproduction) = tokio::try_join!(tests, reproduction)?;
        let Some(output) = output else {
            return Ok(CandidateTests {
                regression_failures: None,
                broken: Vec::new(),
                timed_out: false,
                reproduction,
                duration: Duration::ZERO,
                output_truncated: false,
                host: None,
            });
        };
        let results = self.results(&output, true);
        let broken: Vec<String> = baseline
            .regression_set
            .iter()
            .filter(|name| results.tests.get(*name) != Some(&TestStatus::Passed))
            .cloned()
            .collect();
        Ok(CandidateTests {
            regression_failures: Some(broken.len() as u32),
            broken: broken.into_iter().take(BROKEN_SHOWN).collect(),
            timed_out: output.timed_out,
            reproduction,
            duration: output.duration,
            output_truncated: output.truncated,
            host: output.host,
        })
    }
}

fn candidate_files(files: &PatchedFiles) -> Vec<(String, Option<Arc<str>>)> {
    files
        .changes
        .iter()
        .map(|c| (c.path.clone(), Some(Arc::from(c.after.as_str()))))
        .collect()
}

fn tail(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut start = text.len() - max;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    format!("…{}", &text[start..])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::apply::FileChange;
    use crate::verify::test_command::from_setting;
    use futures::future::BoxFuture;
    use futures::FutureExt;
    use std::sync::Mutex;

    /// Answers runs with canned outputs, in order, and keeps the report glob each run asked for.
    struct Canned(Mutex<Vec<RunOutput>>, Mutex<Vec<Option<String>>>);

    impl Canned {
        fn new(outputs: Vec<RunOutput>) -> Canned {
            Canned(Mutex::new(outputs), Mutex::default())
        }
    }

    impl Sandbox for Canned {
        fn kind(&self) -> &'static str {
            "canned"
        }
        fn run(
            &self,
            spec: RunSpec,
            _: CancellationToken,
        ) -> BoxFuture<'_, Result<RunOutput, SandboxError>> {
            self.1.lock().unwrap().push(spec.reports);
            let next = self.0.lock().unwrap().remove(0);
            async move { Ok(next) }.boxed()
        }
        fn cleanup(&self) -> BoxFuture<'_, ()> {
            async {}.boxed()
        }
    }

    fn output(exit_code: i32, stdout: &str) -> RunOutput {
        RunOutput {
            exit_code: Some(exit_code),
            timed_out: false,
            stdout: stdout.to_owned(),
            stderr: String::new(),
            truncated: false,
            duration: Duration::ZERO,
            root: None,
            reports: Vec::new(),
            host: None,
        }
    }

    #[tokio::test]
    async fn a_passing_candidate_whose_output_names_tests_keeps_the_exit_status_test() {
        let plan = TestPlan {
            test: from_setting("python3 -m pytest -q", None, None),
            timeout: Duration::from_secs(5),
            python: "python3".to_owned(),
            env: Vec::new(),
            script: None,
        };
        let sandbox = Canned::new(vec![
            // pytest -q on the baseline: dots only, no test names.
            output(0, "..\n2 passed in 0.01s\n"),
            output(
                0,
                "tests/test_a.py::test_a PASSED [ 50%]\ntests/test_a.py::test_b PASSED [100%]\n",
            ),
            output(
                1,
                "tests/test_a.py::test_a FAILED [ 50%]\ntests/test_a.py::test_b PASSED [100%]\n",
            ),
        ]);
        let cancel = CancellationToken::new();
        let baseline = plan.baseline(&sandbox, &cancel).await.unwrap();
        assert_eq!(
            baseline.regression_set.iter().collect::<Vec<_>>(),
            [EXIT_STATUS_TEST]
        );
        let files = PatchedFiles {
            changes: vec![FileChange {
                path: "a.py".into(),
                before: None,
                after: "x = 1\n".into(),
            }],
        };
        let passing = plan
            .candidate(&sandbox, &baseline, None, &files, &cancel)
            .await
            .unwrap();
        assert_eq!(passing.regression_failures, Some(0));
        let failing = plan
            .candidate(&sandbox, &baseline, None, &files, &cancel)
            .await
            .unwrap();
        assert_eq!(failing.regression_failures, Some(1));
    }

    #[tokio::test]
    async fn a_baseline_that_ran_no_test_leaves_candidates_unjudged_and_untested() {
        let plan = TestPlan {
            test: from_setting("python3 -m pytest -rA", None, None),
            timeout: Duration::from_secs(5),
            python: "python3".to_owned(),
            env: Vec::new(),
            script: None,
        };
        let mut missing = output(1, "");
        missing.stderr = "/usr/bin/python3: No module named pytest\n".to_owned();
        // One canned output only: a candidate that ran the test command would find none.
        let sandbox = Canned::new(vec![missing]);
        let cancel = CancellationToken::new();
        let baseline = plan.baseline(&sandbox, &cancel).await.unwrap();
        assert!(baseline.error.as_deref().unwrap().starts_with(
            "the baseline test run did not run any test: /usr/bin/python3: No module named pytest"
        ));
        assert!(baseline.regression_set.is_empty());
        assert_eq!((baseline.passed, baseline.failed), (0, 0));
        let files = PatchedFiles {
            changes: vec![FileChange {
                path: "a.py".into(),
                before: None,
                after: "x = 1\n".into(),
            }],
        };
        let tests = plan
            .candidate(&sandbox, &baseline, None, &files, &cancel)
            .await
            .unwrap();
        assert_eq!(tests.regression_failures, None);
        assert!(sandbox.0.lock().unwrap().is_empty());
    }

    fn junit(cases: &str) -> RunOutput {
        RunOutput {
            reports: vec![crate::sandbox::reports::ReportFile {
                path: "target/surefire-reports/TEST-c.xml".to_owned(),
                text: format!("<testsuite>{cases}</testsuite>"),
            }],
            ..output(1, "")
        }
    }

    #[tokio::test]
    async fn junit_reports_the_test_runs_left_are_read_per_test() {
        let plan = TestPlan {
            test: from_setting("mvn -q test", None, Some("target/surefire-reports/*.xml")),
            timeout: Duration::from_secs(5),
            python: "python3".to_owned(),
            env: Vec::new(),
            script: None,
        };
        let sandbox = Canned::new(vec![
            junit(
                r#"<testcase classname="C" name="a"/><testcase classname="C" name="b"><failure/></testcase>"#,
            ),
            junit(
                r#"<testcase classname="C" name="a"><error/></testcase><testcase classname="C" name="b"/>"#,
            ),
            output(0, "Issue resolved\n"),
        ]);
        let cancel = CancellationToken::new();
        let baseline = plan.baseline(&sandbox, &cancel).await.unwrap();
        assert_eq!(baseline.error, None);
        assert_eq!(baseline.regression_set.iter().collect::<Vec<_>>(), ["C::a"]);
        assert_eq!((baseline.passed, baseline.failed), (1, 1));
        let files = PatchedFiles {
            changes: vec![FileChange {
                path: "A.java".into(),
                before: None,
                after: "class A {}\n".into(),
            }],
        };
        let tests = plan
            .candidate(&sandbox, &baseline, Some("print(1)"), &files, &cancel)
            .await
            .unwrap();
        assert_eq!(tests.regression_failures, Some(1));
        assert_eq!(tests.broken, ["C::a"]);
        // The test command's runs read the reports; the reproduction script's run does not.
        let globs = sandbox.1.lock().unwrap().clone();
        let glob = Some("target/surefire-reports/*.xml".to_owned());
        assert_eq!(globs.iter().filter(|g| **g == glob).count(), 2, "{globs:?}");
        assert_eq!(globs.iter().filter(|g| g.is_none()).count(), 1, "{globs:?}");
    }
}
