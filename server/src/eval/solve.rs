//! One instance through the same job pipeline as `swiss fix`: its checkout and settings, the
//! job with the dataset's `problem_statement` as the issue, the record, and the grade.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::sync::Semaphore;

use super::grade::{grade, Grade};
use super::instances::Instance;
use super::predictions::Prediction;
use super::prepare::{prepare, EvalOptions, PreparedInstance};
use super::report::InstanceReport;
use crate::backend::{BackendClient, BackendError};
use crate::config::Settings;
use crate::engine::issue::Issue;
use crate::engine::snapshot::RepoSnapshot;
use crate::job::{run_fix, FixOutcome, JobCancel, JobContext, JobError, JobEvent};
use crate::prompts::Prompts;
use crate::verify::test_command::TestCommand;

pub const RECORDS_DIR: &str = "records";

/// What every instance of a run shares: one client for all (so requests spread over the same
/// servers), one cap on sandbox runs.
pub struct Shared {
    pub eval: EvalOptions,
    pub client: Arc<BackendClient>,
    pub prompts: Prompts,
    pub sandbox_permits: Arc<Semaphore>,
    pub model_name: String,
    pub grade: bool,
    pub output: PathBuf,
}

/// How an instance ended, for the scheduler.
pub enum Solved {
    /// Written to the predictions file, and to the report.
    Done {
        report: Box<InstanceReport>,
        prediction: Prediction,
        /// The backend could not be reached: the scheduler stops the run if nothing finished yet.
        backend_down: bool,
    },
    /// Ctrl-C: nothing is written, the instance stays resumable.
    Cancelled,
}

pub async fn solve(shared: &Shared, instance: &Instance, cancel: JobCancel) -> Solved {
    let started = Instant::now();
    let failed = |error: String, backend_down: bool| Solved::Done {
        report: Box::new(InstanceReport::failed(
            &instance.instance_id,
            &instance.repo,
            started.elapsed().as_secs_f64(),
            error,
        )),
        prediction: shared.prediction(instance, String::new()),
        backend_down,
    };
    let PreparedInstance {
        checkout,
        source,
        snapshot,
        settings,
        grade_settings,
        grade_test,
        mut warnings,
    } = match prepare_in_background(instance, &shared.eval).await {
        Ok(prepared) => prepared,
        Err(error) => return failed(error, false),
    };
    let (result, job_warnings) = run_job(shared, instance, snapshot, settings, &cancel).await;
    drop(checkout);
    warnings.extend(job_warnings);
    let outcome = match result {
        Ok(outcome) => outcome,
        Err(JobError::Cancelled(_)) => return Solved::Cancelled,
        Err(e @ JobError::Backend(BackendError::Unreachable { .. })) => {
            return failed(e.to_string(), true)
        }
        Err(e) => return failed(e.to_string(), false),
    };
    if let Err(e) = write_record(&shared.output, &instance.instance_id, &outcome) {
        warnings.push(e);
    }
    let patch = outcome
        .winner()
        .map(|w| w.patch.clone())
        .unwrap_or_default();
    let grade = match (shared.grade, grade_test) {
        (false, _) => None,
        (true, None) => {
            warnings.push("not graded: no test command for this repository".to_owned());
            None
        }
        (true, Some(test)) => {
            let graded = shared
                .grade_patch(instance, &source, &patch, &grade_settings, test, &cancel)
                .await;
            match graded {
                Ok(grade) => Some(grade),
                Err(Ungraded::Cancelled) => return Solved::Cancelled,
                Err(Ungraded::Failed(e)) => {
                    let mut report = report_for(instance, &outcome, started, None);
                    report.error = Some(format!("failed to grade: {e}"));
                    return shared.done(instance, report, warnings, patch);
                }
            }
        }
    };
    let report = report_for(instance, &outcome, started, grade);
    shared.done(instance, report, warnings, patch)
}

/// Checking out and configuring an instance is blocking file and git work.
async fn prepare_in_background(
    instance: &Instance,
    eval: &EvalOptions,
) -> Result<PreparedInstance, String> {
    let (owned, eval) = (instance.clone(), eval.clone());
    match tokio::task::spawn_blocking(move || prepare(&owned, &eval)).await {
        Ok(prepared) => prepared,
        Err(e) => Err(format!("failed to prepare the instance: {e}")),
    }
}

/// The `swiss fix` pipeline on the instance's checkout, with the dataset's problem statement as
/// the issue; the job's warnings are collected for the instance's report.
async fn run_job(
    shared: &Shared,
    instance: &Instance,
    snapshot: RepoSnapshot,
    settings: Settings,
    cancel: &JobCancel,
) -> (Result<FixOutcome, JobError>, Vec<String>) {
    let job_warnings = Arc::new(Mutex::new(Vec::new()));
    let sink = job_warnings.clone();
    let ctx = JobContext::new(
        Arc::new(snapshot),
        Issue::verbatim(instance.problem_statement.clone()),
        settings,
        shared.prompts.clone(),
        shared.client.clone(),
    )
    .with_cancel(cancel.clone())
    .with_sandbox_permits(shared.sandbox_permits.clone())
    .with_events(Arc::new(move |event| {
        if let JobEvent::Warning(warning) = event {
            sink.lock().unwrap_or_else(|e| e.into_inner()).push(warning);
        }
    }));
    let result = run_fix(&ctx).await;
    drop(ctx);
    let warnings = std::mem::take(&mut *job_warnings.lock().unwrap_or_else(|e| e.into_inner()));
    (result, warnings)
}

/// Why an instance has no grade although grading was asked for.
enum Ungraded {
    Cancelled,
    Failed(String),
}

impl Shared {
    /// Grades `patch` in a sandbox, within the run's cap on sandbox runs.
    async fn grade_patch(
        &self,
        instance: &Instance,
        source: &Path,
        patch: &str,
        settings: &Settings,
        test: TestCommand,
        cancel: &JobCancel,
    ) -> Result<Grade, Ungraded> {
        let Ok(_permit) = self.sandbox_permits.acquire().await else {
            return Err(Ungraded::Cancelled);
        };
        match grade(instance, source, patch, settings, test, cancel.token()).await {
            Ok(grade) => Ok(grade),
            Err(_) if cancel.is_cancelled() => Err(Ungraded::Cancelled),
            Err(e) => Err(Ungraded::Failed(e)),
        }
    }

    fn done(
        &self,
        instance: &Instance,
        mut report: InstanceReport,
        warnings: Vec<String>,
        patch: String,
    ) -> Solved {
        report.warnings = warnings;
        Solved::Done {
            report: Box::new(report),
            prediction: self.prediction(instance, patch),
            backend_down: false,
        }
    }

    pub fn prediction(&self, instance: &Instance, model_patch: String) -> Prediction {
        Prediction {
            instance_id: instance.instance_id.clone(),
            model_name_or_path: self.model_name.clone(),
            model_patch,
        }
    }
}

pub fn report_for(
    instance: &Instance,
    outcome: &FixOutcome,
    started: Instant,
    grade: Option<Grade>,
) -> InstanceReport {
    InstanceReport {
        instance_id: instance.instance_id.clone(),
        repo: instance.repo.clone(),
        resolved: grade.as_ref().map(|g| g.resolved),
        winner: outcome.winner().map(|w| w.id),
        candidates: outcome.candidates.len(),
        samples: outcome.samples.len(),
        samples_valid: outcome.samples.iter().filter(|s| s.error.is_none()).count(),
        seconds: started.elapsed().as_secs_f64(),
        usage: outcome.usage,
        error: None,
        warnings: Vec::new(),
        grade,
        early_stop: outcome.early_stop.clone(),
    }
}

pub fn write_record(output: &Path, instance_id: &str, outcome: &FixOutcome) -> Result<(), String> {
    let dir = output.join(RECORDS_DIR);
    let path = dir.join(format!("{instance_id}.json"));
    std::fs::create_dir_all(&dir)
        .and_then(|()| {
            let text = serde_json::to_string(outcome).map_err(std::io::Error::from)?;
            std::fs::write(&path, text)
        })
        .map_err(|e| format!("failed to write the record {}: {e}", path.display()))
}
