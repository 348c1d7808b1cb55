//! The scheduler of `swiss eval`: `--jobs N` instances at once over one shared client and one
//! cap on sandbox runs; each finished instance is written at once (its record, then its
//! predictions line), so Ctrl-C loses only the instances still running, and `--resume` picks
//! up from the predictions file.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use tokio::task::JoinSet;

use super::instances::Instance;
use super::predictions::{read_predictions, Predictions};
use super::progress::EvalProgress;
use super::report::{EvalReport, InstanceReport};
use super::solve::{solve, Shared, Solved};
use crate::job::{CancelReason, JobCancel};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EvalEnd {
    /// Every instance ran (some may have failed: the report says which).
    Completed,
    /// The backend was unreachable before any instance finished; nothing was written for the
    /// instances that met it.
    BackendDown(String),
    /// Ctrl-C: the finished instances are written, the rest are resumable.
    Interrupted,
}

pub struct EvalPlan {
    pub instances: Vec<Instance>,
    pub jobs: usize,
    pub resume: bool,
}

pub async fn run_eval(
    shared: Arc<Shared>,
    plan: EvalPlan,
    cancel: JobCancel,
) -> Result<(EvalEnd, EvalReport), String> {
    let started = Instant::now();
    let output = shared.output.clone();
    std::fs::create_dir_all(&output)
        .map_err(|e| format!("failed to create {}: {e}", output.display()))?;
    let earlier = if plan.resume {
        read_predictions(&output)?
    } else {
        HashMap::new()
    };
    let earlier_reports = earlier_reports(&output, plan.resume);
    let predictions = Predictions::open(&output, !plan.resume)?;
    let (skipped, todo): (Vec<&Instance>, Vec<&Instance>) = plan
        .instances
        .iter()
        .partition(|i| earlier.contains_key(&i.instance_id));
    let mut tally = Tally {
        end: EvalEnd::Completed,
        finished: 0,
        write_error: None,
        reports: skipped_reports(&skipped, &earlier_reports),
        progress: EvalProgress::new(plan.instances.len(), skipped.len()),
        predictions,
    };

    // Started in file order as slots free up, so `--jobs 1` runs the instances in order.
    let mut queue = todo.into_iter();
    let mut running = JoinSet::new();
    let start_next = |running: &mut JoinSet<Solved>, queue: &mut std::vec::IntoIter<&Instance>| {
        if cancel.is_cancelled() {
            return;
        }
        if let Some(instance) = queue.next() {
            let (shared, cancel, instance) = (shared.clone(), cancel.child(), instance.clone());
            running.spawn(async move { solve(&shared, &instance, cancel).await });
        }
    };
    for _ in 0..plan.jobs.max(1) {
        start_next(&mut running, &mut queue);
    }
    while let Some(joined) = running.join_next().await {
        tally.take(solved_of(joined), &cancel);
        start_next(&mut running, &mut queue);
    }
    tally.progress.finish();
    if cancel.is_cancelled() && tally.end == EvalEnd::Completed {
        tally.end = EvalEnd::Interrupted;
    }
    let ordered = plan
        .instances
        .iter()
        .filter_map(|i| tally.reports.remove(&i.instance_id))
        .collect();
    let mut report = EvalReport::new(ordered, started.elapsed().as_secs_f64());
    report.summary.backends = shared.client.usage_by_endpoint();
    report.write(&output)?;
    match tally.write_error {
        Some(e) => Err(e),
        None => Ok((tally.end, report)),
    }
}

/// The previous run's report by instance, when resuming; a missing or unreadable one is none.
fn earlier_reports(output: &std::path::Path, resume: bool) -> HashMap<String, InstanceReport> {
    match resume {
        true => EvalReport::read(output)
            .map(|r| {
                r.instances
                    .into_iter()
                    .map(|i| (i.instance_id.clone(), i))
                    .collect()
            })
            .unwrap_or_default(),
        false => HashMap::new(),
    }
}

/// The instances an earlier run finished keep their report, so the new one still lists them.
fn skipped_reports(
    skipped: &[&Instance],
    earlier_reports: &HashMap<String, InstanceReport>,
) -> HashMap<String, InstanceReport> {
    skipped
        .iter()
        .map(|i| {
            let report = earlier_reports
                .get(&i.instance_id)
                .cloned()
                .unwrap_or_else(|| {
                    let mut report =
                        InstanceReport::failed(&i.instance_id, &i.repo, 0.0, String::new());
                    report.error = None;
                    report.warnings.push(
                        "finished in an earlier run whose report.json did not name it".to_owned(),
                    );
                    report
                });
            (i.instance_id.clone(), report)
        })
        .collect()
}

/// A panic in an instance's task is a bug and goes on up; a task that was aborted was cancelled.
fn solved_of(joined: Result<Solved, tokio::task::JoinError>) -> Solved {
    joined.unwrap_or_else(|e| {
        if e.is_panic() {
            std::panic::resume_unwind(e.into_panic())
        }
        Solved::Cancelled
    })
}

/// What the finished instances add up to, and where each one is written as it finishes.
struct Tally {
    end: EvalEnd,
    finished: usize,
    write_error: Option<String>,
    reports: HashMap<String, InstanceReport>,
    progress: EvalProgress,
    predictions: Predictions,
}

impl Tally {
    fn take(&mut self, solved: Solved, cancel: &JobCancel) {
        match solved {
            Solved::Cancelled => {
                if self.end == EvalEnd::Completed {
                    self.end = EvalEnd::Interrupted;
                }
            }
            Solved::Done {
                report,
                backend_down: true,
                ..
            } if self.finished == 0 => {
                if self.end == EvalEnd::Completed {
                    self.end = EvalEnd::BackendDown(report.error.clone().unwrap_or_default());
                }
                cancel.cancel(CancelReason::User);
            }
            Solved::Done {
                report, prediction, ..
            } => {
                if let Err(e) = self.predictions.append(&prediction) {
                    // The instance cannot be marked finished: stop, keeping what is written.
                    self.write_error = Some(e);
                    cancel.cancel(CancelReason::User);
                    return;
                }
                self.finished += 1;
                self.progress.finished(&report);
                self.reports.insert(report.instance_id.clone(), *report);
            }
        }
    }
}
