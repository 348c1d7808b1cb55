//! Stage 3, beside repair: the sandbox, the baseline run and the reproduction test are made
//! ready while repair samples are still coming in (DESIGN 3.4); each unique candidate is then
//! tested as soon as it exists and the baseline is in.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use futures::future::BoxFuture;
use futures::stream::{FuturesUnordered, StreamExt};
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use super::context::JobContext;
use super::events::JobEvent;
use super::regression_tests::{apply, select_excluded, Exclusion};
use super::reproduce::{reproduction_test, ReproductionReport, ReproductionSetup};
use super::sandbox_choice::create_sandbox;
use crate::config::{SandboxChoice, Settings};
use crate::engine::apply::FileSource;
use crate::engine::apply::PatchedFiles;
use crate::engine::snapshot::RepoSnapshot;
use crate::sandbox::{Sandbox, SandboxError};
use crate::verify::reproduction_program::shell_word;
use crate::verify::test_command::{detect, from_setting, TestCommand};
use crate::verify::verifier::{Baseline, CandidateTests, ScriptRun, TestPlan};

/// What verification found, for the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerificationReport {
    pub sandbox: String,
    pub image: Option<String>,
    /// How the local sandbox confines its runs; absent in Docker.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confinement: Option<crate::sandbox::confine::Confinement>,
    pub test_command: String,
    pub baseline: Baseline,
    /// Passing tests the model said the fix may legitimately change: they are not in the
    /// regression set, so breaking them counts against no candidate.
    #[serde(default)]
    pub excluded_tests: Vec<String>,
    pub reproduction: ReproductionReport,
    /// By candidate id.
    pub candidates: BTreeMap<u32, CandidateRun>,
    pub seconds: f64,
}

/// One candidate's verification: its results, or why the sandbox could not produce them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum CandidateRun {
    Tested(CandidateTests),
    Failed { error: String },
}

impl CandidateRun {
    pub fn tests(&self) -> Option<&CandidateTests> {
        match self {
            CandidateRun::Tested(tests) => Some(tests),
            CandidateRun::Failed { .. } => None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum VerificationError {
    #[error("failed to find a test command for this repository: set test.command in swiss.toml or pass --test-cmd (or --sandbox none to skip verification)")]
    NoTestCommand,
    #[error("failed to read the repository for the sandbox: {0}")]
    Files(String),
    #[error(transparent)]
    Sandbox(#[from] SandboxError),
}

/// The test command the job verifies with, `None` when it does not verify.
pub(super) fn planned_test(ctx: &JobContext) -> Result<Option<TestCommand>, VerificationError> {
    match (
        ctx.settings.sandbox,
        test_command(&ctx.settings, &ctx.snapshot),
    ) {
        (SandboxChoice::None, _) => Ok(None),
        (_, Some(test)) => Ok(Some(test)),
        (SandboxChoice::Auto, None) => {
            ctx.warn("no test command found for this repository; candidates are not verified (set test.command in swiss.toml or pass --test-cmd)");
            Ok(None)
        }
        (_, None) => Err(VerificationError::NoTestCommand),
    }
}

/// The test command for this repository, from settings or detected. A detected Python command
/// runs with `test.python`, so the tests see the project's venv like the reproduction scripts do.
pub fn test_command(settings: &Settings, snapshot: &RepoSnapshot) -> Option<TestCommand> {
    match &settings.test_command {
        Some(command) => Some(from_setting(
            command,
            settings.test_format,
            settings.test_junit_xml.as_deref(),
        )),
        None => {
            let read = |path: &str| snapshot.read(path).map(|text| text.to_string());
            let mut test = detect(snapshot.paths(), read)?;
            // A glob of the user's names where the detected build writes its reports.
            if let Some(glob) = &settings.test_junit_xml {
                test.junit_xml = Some(glob.clone());
            }
            Some(with_interpreter(test, DETECTED_PYTHON, &settings.python))
        }
    }
}

/// The interpreter detected commands are written with.
const DETECTED_PYTHON: &str = "python3";

fn with_interpreter(mut test: TestCommand, from: &str, to: &str) -> TestCommand {
    if from != to {
        if let Some(rest) = test.command.strip_prefix(&format!("{} ", shell_word(from))) {
            test.command = format!("{} {rest}", shell_word(to));
        }
    }
    test
}

/// A relative interpreter path with a `/` (`.venv/bin/python`) names a file in the user's work
/// tree; a bare name (`python3`) is looked up on PATH as usual.
fn local_interpreter(root: &std::path::Path, python: &str) -> String {
    let path = std::path::Path::new(python);
    if python.contains('/') && path.is_relative() {
        shell_word(&root.join(path).display().to_string())
    } else {
        python.to_owned()
    }
}

/// Everything a candidate's test run needs, once the baseline is in.
pub(super) struct Ready {
    pub sandbox: Arc<dyn Sandbox>,
    pub image: Option<String>,
    pub plan: Arc<TestPlan>,
    pub baseline: Baseline,
    pub excluded_tests: Vec<String>,
    pub reproduction: ReproductionReport,
    pub semaphore: Arc<Semaphore>,
    pub started: Instant,
}

impl Ready {
    pub fn report(&self, candidates: BTreeMap<u32, CandidateRun>) -> VerificationReport {
        VerificationReport {
            sandbox: self.sandbox.kind().to_owned(),
            image: self.image.clone(),
            confinement: self.sandbox.confinement(),
            test_command: self.plan.test.command.clone(),
            baseline: self.baseline.clone(),
            excluded_tests: self.excluded_tests.clone(),
            reproduction: self.reproduction.clone(),
            candidates,
            seconds: self.started.elapsed().as_secs_f64(),
        }
    }

    /// One candidate's tests, bounded by the job's sandbox concurrency; `None` when `skip` fired
    /// before the run got its turn.
    async fn verify(
        self: Arc<Self>,
        id: u32,
        files: PatchedFiles,
        cancel: CancellationToken,
        skip: CancellationToken,
    ) -> (u32, Option<Result<CandidateTests, SandboxError>>) {
        let permit = tokio::select! {
            biased;
            () = skip.cancelled() => return (id, None),
            permit = self.semaphore.acquire() => permit,
        };
        let Ok(_permit) = permit else {
            return (id, Some(Err(SandboxError::Cancelled)));
        };
        let script = self.reproduction.chosen_script.as_deref();
        let result = self
            .plan
            .candidate(&*self.sandbox, &self.baseline, script, &files, &cancel)
            .await;
        (id, Some(result))
    }
}

/// Builds the sandbox, runs the baseline and asks which of its passing tests the fix may change
/// and, alongside them, writes and checks reproduction tests. The usage of those requests is
/// returned for the caller to add to the job's.
pub(super) async fn prepare(
    ctx: &JobContext,
    test: TestCommand,
    reproduction: ReproductionSetup,
) -> Result<(Ready, crate::backend::Usage), VerificationError> {
    let started = Instant::now();
    let settings = &ctx.settings;
    let script = reproduction.program().and_then(|program| {
        let command = program.command.clone()?;
        Some(ScriptRun {
            file: program.file.clone(),
            command,
        })
    });
    let (sandbox, image, plan) = sandbox_and_plan(ctx, test, script).await?;
    let semaphore = ctx.sandbox_permits.clone().unwrap_or_else(|| {
        Arc::new(Semaphore::new(
            sandbox.capacity().unwrap_or(settings.concurrency),
        ))
    });
    let baseline = async {
        let baseline = {
            let _permit = semaphore
                .acquire()
                .await
                .map_err(|_| SandboxError::Cancelled)?;
            plan.baseline(&*sandbox, ctx.cancel.token()).await?
        };
        let exclusion = select_excluded(ctx, &baseline).await?;
        Ok::<_, SandboxError>((baseline, exclusion))
    };
    let reproduction = reproduction_test(ctx, reproduction, &sandbox, &plan, &semaphore);
    let (baseline, reproduction) = tokio::join!(baseline, reproduction);
    let ((mut baseline, exclusion), (reproduction, mut usage)) = match (baseline, reproduction) {
        (Ok(baseline), Ok(reproduction)) => (baseline, reproduction),
        (Err(e), _) | (_, Err(e)) => {
            sandbox.cleanup().await;
            return Err(e.into());
        }
    };
    let excluded_tests = settle_baseline(ctx, &mut baseline, exclusion, &mut usage);
    ctx.emit(JobEvent::ReproductionChosen {
        generated: reproduction.generated,
        reproducing: reproduction.reproducing(),
        chosen: reproduction.chosen_index,
    });
    let ready = Ready {
        sandbox,
        image,
        plan,
        baseline,
        excluded_tests,
        reproduction,
        semaphore,
        started,
    };
    Ok((ready, usage))
}

/// The sandbox with the repository's files, and how tests run in it.
async fn sandbox_and_plan(
    ctx: &JobContext,
    test: TestCommand,
    script: Option<ScriptRun>,
) -> Result<(Arc<dyn Sandbox>, Option<String>, Arc<TestPlan>), VerificationError> {
    let settings = &ctx.settings;
    let snapshot = ctx.snapshot.clone();
    let files = tokio::task::spawn_blocking(move || snapshot.base_files())
        .await
        .map_err(|e| VerificationError::Files(e.to_string()))?
        .map_err(|e| VerificationError::Files(e.to_string()))?;
    let (sandbox, image) = create_sandbox(ctx, files).await?;
    // A project venv is untracked, so the local copy has none: point at the user's. In Docker
    // the image decides, and the path stays as written.
    let python = if sandbox.kind() == "local" {
        local_interpreter(ctx.snapshot.root(), &settings.python)
    } else {
        settings.python.clone()
    };
    let plan = Arc::new(TestPlan {
        test: with_interpreter(test, &settings.python, &python),
        timeout: settings.test_timeout,
        python,
        env: settings.test_env.clone(),
        script,
    });
    if let Some(confinement) = sandbox.confinement() {
        ctx.emit(JobEvent::Confinement(confinement.summary()));
    }
    ctx.emit(JobEvent::VerificationStarted {
        sandbox: sandbox.kind(),
        test_command: plan.test.command.clone(),
    });
    Ok((sandbox, image, plan))
}

/// Says what the baseline found, and takes the tests the model expects the fix to change out of
/// the regression set; those tests, for the report.
fn settle_baseline(
    ctx: &JobContext,
    baseline: &mut Baseline,
    exclusion: Option<Exclusion>,
    usage: &mut crate::backend::Usage,
) -> Vec<String> {
    match &baseline.error {
        Some(error) => ctx.warn(format!(
            "{error}; the regression filter is off: no candidate is regression-checked"
        )),
        None => ctx.emit(JobEvent::BaselineDone {
            passed: baseline.passed,
            failed: baseline.failed,
        }),
    }
    if baseline.output_truncated {
        ctx.warn(format!(
            "the baseline's test output passed the {} MiB cap (sandbox.output_limit_mb): tests it reported after that are not judged",
            ctx.settings.output_limit_mb
        ));
    }
    let Some(exclusion) = exclusion else {
        return Vec::new();
    };
    *usage += exclusion.usage;
    apply(&mut baseline.regression_set, &exclusion.excluded);
    ctx.emit(JobEvent::RegressionTestsExcluded {
        excluded: exclusion.excluded.clone(),
        of: exclusion.shown,
        cut: exclusion.cut,
    });
    exclusion.excluded
}

type Verifying = BoxFuture<'static, (u32, Option<Result<CandidateTests, SandboxError>>)>;

/// Candidates waiting for the baseline, the test runs under way and the verdicts so far.
#[derive(Default)]
pub(super) struct VerifyQueue {
    ready: Option<Arc<Ready>>,
    waiting: Vec<(u32, PatchedFiles)>,
    running: FuturesUnordered<Verifying>,
    /// Fired by an early stop: runs still waiting for a sandbox slot end untested.
    skip: CancellationToken,
    pub tested: BTreeMap<u32, CandidateRun>,
}

impl VerifyQueue {
    pub fn push(&mut self, ctx: &JobContext, id: u32, files: PatchedFiles) {
        if self.skip.is_cancelled() {
            return;
        }
        match &self.ready {
            Some(ready) => self.start(ctx, ready.clone(), id, files),
            None => self.waiting.push((id, files)),
        }
    }

    pub fn set_ready(&mut self, ctx: &JobContext, ready: Ready) {
        let ready = Arc::new(ready);
        for (id, files) in std::mem::take(&mut self.waiting) {
            self.start(ctx, ready.clone(), id, files);
        }
        self.ready = Some(ready);
    }

    fn start(&mut self, ctx: &JobContext, ready: Arc<Ready>, id: u32, files: PatchedFiles) {
        let cancel = ctx.cancel.token().clone();
        let skip = self.skip.clone();
        self.running
            .push(Box::pin(ready.verify(id, files, cancel, skip)));
    }

    /// Whether a candidate can pass the reproduction test; `None` until the set-up is done.
    pub fn reproduction_valid(&self) -> Option<bool> {
        let ready = self.ready.as_ref()?;
        Some(ready.reproduction.chosen_script.is_some())
    }

    /// The winner is settled (an early stop): runs that have not started are dropped, so those
    /// candidates stay untested; runs under way finish and are reported.
    pub fn skip_queued(&mut self) {
        self.skip.cancel();
        self.waiting.clear();
    }

    /// How busy the sandbox's Docker hosts are; empty before the sandbox exists.
    pub fn load(&self) -> Vec<crate::sandbox::docker_hosts::HostLoad> {
        self.ready
            .as_ref()
            .map(|ready| ready.sandbox.load())
            .unwrap_or_default()
    }

    pub fn is_running(&self) -> bool {
        !self.running.is_empty()
    }

    /// The next run to end, skipped ones passed over.
    pub async fn next(&mut self) -> Option<(u32, Result<CandidateTests, SandboxError>)> {
        while let Some((id, result)) = self.running.next().await {
            if let Some(result) = result {
                return Some((id, result));
            }
        }
        None
    }

    /// Stops what still runs and removes the sandbox; the report of what was tested.
    pub async fn finish(mut self) -> Option<VerificationReport> {
        self.running.clear();
        let ready = self.ready.take()?;
        ready.sandbox.cleanup().await;
        Some(ready.report(self.tested))
    }
}
