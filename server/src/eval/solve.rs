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
use crate::engine::issue::Issue;
use crate::job::{run_fix, FixOutcome, JobCancel, JobContext, JobError, JobEvent};
use crate::prompts::Prompts;

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
    let (owned, eval) = (instance.clone(), shared.eval.clone());
    let prepared = match tokio::task::spawn_blocking(move || prepare(&owned, &eval)).await {
        Ok(Ok(prepared)) => prepared,
        Ok(Err(error)) => return failed(error, false),
        Err(e) => return failed(format!("failed to prepare the instance: {e}"), false),
    };
    let PreparedInstance {
        checkout,
        source,
        snapshot,
        settings,
        grade_settings,
        grade_test,
        mut warnings,
    } = prepared;
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
    drop(checkout);
    warnings.extend(std::mem::take(
        &mut *job_warnings.lock().unwrap_or_else(|e| e.into_inner()),
    ));
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
            let Ok(_permit) = shared.sandbox_permits.acquire().await else {
                return Solved::Cancelled;
            };
            match grade(
                instance,
                &source,
                &patch,
                &grade_settings,
                test,
                cancel.token(),
            )
            .await
            {
                Ok(grade) => Some(grade),
                Err(_) if cancel.is_cancelled() => return Solved::Cancelled,
                Err(e) => {
                    let mut report = report_for(instance, &outcome, started, None);
                    report.error = Some(format!("failed to grade: {e}"));
                    report.warnings = warnings;
                    return Solved::Done {
                        report: Box::new(report),
                        prediction: shared.prediction(instance, patch),
                        backend_down: false,
                    };
                }
            }
        }
    };
    let mut report = report_for(instance, &outcome, started, grade);
    report.warnings = warnings;
    Solved::Done {
        report: Box::new(report),
        prediction: shared.prediction(instance, patch),
        backend_down: false,
    }
}

impl Shared {
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
