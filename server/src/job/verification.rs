//! The verification side of a job: the sandbox, the baseline run and the reproduction test are
//! made ready while repair samples are still coming in; each unique candidate is then tested as
//! soon as it exists.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;
use tokio::sync::{mpsc, Semaphore};
use tokio_util::sync::CancellationToken;

use super::events::JobEvent;
use crate::backend::{BackendClient, ChatMessage, Sample, SamplingParams, Usage};
use crate::config::{SandboxChoice, Settings};
use crate::engine::apply::PatchedFiles;
use crate::engine::snapshot::RepoSnapshot;
use crate::sandbox::docker::{DockerLimits, DockerSandbox};
use crate::sandbox::local::{LocalLimits, LocalSandbox};
use crate::sandbox::{BaseFile, Sandbox, SandboxError};
use crate::verify::reproduction::{choose, extract_script, ScriptVerdict};
use crate::verify::test_command::{detect, from_setting, TestCommand};
use crate::verify::verifier::{Baseline, CandidateTests, TestPlan};

/// What verification found, for the report.
#[derive(Debug, Clone, Serialize)]
pub struct VerificationReport {
    pub sandbox: &'static str,
    pub image: Option<String>,
    pub confinement: Option<crate::sandbox::confine::Confinement>,
    pub test_command: String,
    pub baseline: Baseline,
    pub reproduction: ReproductionReport,
    /// By candidate id; an entry holds the error when the sandbox could not test that candidate.
    pub candidates: BTreeMap<u32, Result<CandidateTests, String>>,
    pub seconds: f64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ReproductionReport {
    pub generated: usize,
    /// Sample index and what each usable script printed on the unpatched repository.
    pub baseline_verdicts: Vec<(usize, ScriptVerdict)>,
    pub chosen_index: Option<usize>,
    pub chosen_script: Option<String>,
    /// Why there is no reproduction test, when there is none.
    pub note: Option<String>,
}

/// Everything a candidate's test run needs, once the baseline is in.
pub(super) struct Ready {
    pub sandbox: Arc<dyn Sandbox>,
    pub image: Option<String>,
    pub plan: Arc<TestPlan>,
    pub baseline: Baseline,
    pub reproduction: ReproductionReport,
    pub usage: Usage,
    pub semaphore: Arc<Semaphore>,
    pub started: Instant,
}

impl Ready {
    pub fn report(
        &self,
        candidates: BTreeMap<u32, Result<CandidateTests, String>>,
    ) -> VerificationReport {
        VerificationReport {
            sandbox: self.sandbox.kind(),
            image: self.image.clone(),
            confinement: self.sandbox.confinement(),
            test_command: self.plan.test.command.clone(),
            baseline: self.baseline.clone(),
            reproduction: self.reproduction.clone(),
            candidates,
            seconds: self.started.elapsed().as_secs_f64(),
        }
    }

    /// One candidate's tests, bounded by the job's sandbox concurrency.
    pub async fn verify(
        self: Arc<Self>,
        id: u32,
        files: PatchedFiles,
        cancel: CancellationToken,
    ) -> (u32, Result<CandidateTests, SandboxError>) {
        let Ok(_permit) = self.semaphore.acquire().await else {
            return (id, Err(SandboxError::Cancelled));
        };
        let script = self.reproduction.chosen_script.as_deref();
        let result = self
            .plan
            .candidate(&*self.sandbox, &self.baseline, script, &files, &cancel)
            .await;
        (id, result)
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

/// The test command for this repository, from settings or detected. A detected Python command
/// runs with `test.python`, so the tests see the project's venv like the reproduction scripts do.
pub fn test_command(settings: &Settings, snapshot: &RepoSnapshot) -> Option<TestCommand> {
    match &settings.test_command {
        Some(command) => Some(from_setting(command, settings.test_format)),
        None => {
            let paths: Vec<&str> = snapshot.paths().collect();
            detect(&paths).map(|test| with_interpreter(test, DETECTED_PYTHON, &settings.python))
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

fn shell_word(word: &str) -> String {
    if word
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+:@%".contains(c))
    {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// Builds the sandbox, runs the baseline and, alongside it, writes and checks reproduction tests.
#[allow(clippy::too_many_arguments)]
pub(super) async fn prepare(
    snapshot: Arc<RepoSnapshot>,
    settings: &Settings,
    test: TestCommand,
    reproduce_prompt: Option<String>,
    client: &BackendClient,
    params: &SamplingParams,
    on_event: &(dyn Fn(JobEvent) + Send + Sync),
    cancel: &CancellationToken,
) -> Result<Ready, VerificationError> {
    let started = Instant::now();
    let snapshot_root = snapshot.root().to_path_buf();
    let files = tokio::task::spawn_blocking(move || snapshot.base_files())
        .await
        .map_err(|e| VerificationError::Files(e.to_string()))?
        .map_err(|e| VerificationError::Files(e.to_string()))?;
    let root = snapshot_root;
    let (sandbox, image) = create_sandbox(settings, files, on_event).await?;
    // A project venv is untracked, so the local copy has none: point at the user's. In Docker
    // the image decides, and the path stays as written.
    let python = if sandbox.kind() == "local" {
        local_interpreter(&root, &settings.python)
    } else {
        settings.python.clone()
    };
    let test = with_interpreter(test, &settings.python, &python);
    let plan = Arc::new(TestPlan {
        test,
        timeout: settings.test_timeout,
        python,
        env: settings.test_env.clone(),
    });
    if let Some(confinement) = sandbox.confinement() {
        on_event(JobEvent::Warning(confinement.summary()));
    }
    on_event(JobEvent::VerificationStarted {
        sandbox: sandbox.kind(),
        test_command: plan.test.command.clone(),
    });

    let semaphore = Arc::new(Semaphore::new(settings.concurrency));
    let baseline = async {
        let _permit = semaphore
            .acquire()
            .await
            .map_err(|_| SandboxError::Cancelled)?;
        plan.baseline(&*sandbox, cancel).await
    };
    let scripts = generate_scripts(
        reproduce_prompt,
        settings.reproduction_samples,
        client,
        params,
        cancel,
    );
    let (baseline, (scripts, usage, note)) = tokio::join!(baseline, scripts);
    let baseline = match baseline {
        Ok(baseline) => baseline,
        Err(e) => {
            sandbox.cleanup().await;
            return Err(e.into());
        }
    };
    on_event(JobEvent::BaselineDone {
        passed: baseline.passed,
        failed: baseline.failed,
    });
    if baseline.output_truncated {
        on_event(JobEvent::Warning(format!(
            "the baseline's test output passed the {} MiB cap (sandbox.output_limit_mb): tests it reported after that are not judged",
            settings.output_limit_mb
        )));
    }

    let runs = scripts.iter().map(|(index, script)| {
        let (sandbox, plan, semaphore) = (&sandbox, &plan, &semaphore);
        async move {
            let _permit = semaphore
                .acquire()
                .await
                .map_err(|_| SandboxError::Cancelled)?;
            Ok::<_, SandboxError>((
                *index,
                plan.run_script(&**sandbox, script, None, cancel).await?,
            ))
        }
    });
    let mut reproduction = ReproductionReport {
        generated: scripts.len(),
        note,
        ..Default::default()
    };
    for run in futures::future::join_all(runs).await {
        match run {
            Ok(verdict) => reproduction.baseline_verdicts.push(verdict),
            Err(SandboxError::Cancelled) => {
                sandbox.cleanup().await;
                return Err(SandboxError::Cancelled.into());
            }
            Err(e) => {
                tracing::warn!(error = %e, "a reproduction script could not run on the baseline")
            }
        }
    }
    let reproducing: Vec<(usize, &str)> = reproduction
        .baseline_verdicts
        .iter()
        .filter(|(_, v)| *v == ScriptVerdict::Reproduced)
        .filter_map(|(i, _)| {
            scripts
                .iter()
                .find(|(j, _)| j == i)
                .map(|(i, s)| (*i, s.as_str()))
        })
        .collect();
    if let Some((index, script)) = choose(&reproducing) {
        reproduction.chosen_index = Some(index);
        reproduction.chosen_script = Some(script.to_owned());
    } else if reproduction.note.is_none() && !scripts.is_empty() {
        reproduction.note = Some(format!(
            "none of the {} reproduction scripts printed \"Issue reproduced\" on the unpatched repository",
            scripts.len()
        ));
    }
    on_event(JobEvent::ReproductionChosen {
        generated: reproduction.generated,
        reproducing: reproducing.len(),
        chosen: reproduction.chosen_index,
    });
    Ok(Ready {
        sandbox,
        image,
        plan,
        baseline,
        reproduction,
        usage,
        semaphore,
        started,
    })
}

/// A failure here costs the reproduction filter only: selection falls back to the regression
/// filter, as SWE-Swiss does when no test reproduces the issue.
async fn generate_scripts(
    prompt: Option<String>,
    samples: usize,
    client: &BackendClient,
    params: &SamplingParams,
    cancel: &CancellationToken,
) -> (Vec<(usize, String)>, Usage, Option<String>) {
    let Some(prompt) = prompt else {
        return (
            Vec::new(),
            Usage::default(),
            Some("reproduction tests are turned off".to_owned()),
        );
    };
    let (tx, mut rx) = mpsc::unbounded_channel::<Sample>();
    let result = client
        .sample(&[ChatMessage::user(prompt)], samples, params, tx, cancel)
        .await;
    let mut answers = Vec::new();
    while let Ok(sample) = rx.try_recv() {
        answers.push(sample);
    }
    answers.sort_by_key(|s| s.index);
    let scripts: Vec<(usize, String)> = answers
        .iter()
        .filter_map(|a| extract_script(&a.text).map(|s| (a.index, s)))
        .collect();
    match result {
        Ok(usage) => {
            let note = scripts.is_empty().then(|| {
                format!(
                    "none of the {} answers held a usable reproduction script",
                    answers.len()
                )
            });
            (scripts, usage, note)
        }
        Err(e) => (
            scripts,
            Usage::default(),
            Some(format!("no reproduction test: {e}")),
        ),
    }
}

fn output_limit(settings: &Settings) -> usize {
    usize::try_from(settings.output_limit_mb.saturating_mul(1024 * 1024)).unwrap_or(usize::MAX)
}

async fn create_sandbox(
    settings: &Settings,
    files: Vec<BaseFile>,
    on_event: &(dyn Fn(JobEvent) + Send + Sync),
) -> Result<(Arc<dyn Sandbox>, Option<String>), SandboxError> {
    let local = |files| async {
        let sandbox = LocalSandbox::prepare(
            files,
            LocalLimits {
                output_limit: output_limit(settings),
                confine: crate::sandbox::confine::ConfineSettings::from_settings(settings),
            },
        )
        .await?;
        Ok::<(Arc<dyn Sandbox>, Option<String>), SandboxError>((Arc::new(sandbox), None))
    };
    let docker = |files, image: String| async move {
        let limits = DockerLimits {
            image: image.clone(),
            memory_bytes: settings.memory_mb * 1024 * 1024,
            nano_cpus: (settings.cpus * 1e9) as i64,
            pids_limit: settings.pids_limit,
            output_limit: output_limit(settings),
            ..DockerLimits::default()
        };
        let sandbox = DockerSandbox::prepare(files, limits).await?;
        Ok::<(Arc<dyn Sandbox>, Option<String>), SandboxError>((Arc::new(sandbox), Some(image)))
    };
    match (settings.sandbox, settings.image.clone()) {
        (SandboxChoice::Docker, Some(image)) => docker(files, image).await,
        (SandboxChoice::Docker, None) => Err(SandboxError::Prepare(
            "--sandbox docker needs an image with the project's dependencies: set sandbox.image in swiss.toml or pass --image".to_owned(),
        )),
        (SandboxChoice::Auto, Some(image)) => match docker(files.clone(), image).await {
            Err(SandboxError::DockerUnavailable(why)) => {
                on_event(JobEvent::Warning(format!(
                    "no Docker engine answered ({why}); testing candidates locally"
                )));
                local(files).await
            }
            other => other,
        },
        (SandboxChoice::Auto, None) => {
            on_event(JobEvent::Warning(
                "no sandbox.image set; testing candidates locally (set one, or pass --sandbox local to silence this)"
                    .to_owned(),
            ));
            local(files).await
        }
        (SandboxChoice::Local | SandboxChoice::None, _) => local(files).await,
    }
}
