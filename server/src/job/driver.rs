//! The job's event loop: localization first, then one loop that drives repair sampling, the
//! verification set-up and candidate tests together, so a candidate is tested as soon as it
//! exists and the baseline is in; selection last. The driver only routes: each stage's work is
//! in its own file.

use std::collections::HashSet;

use tokio::sync::mpsc;
use tracing::Instrument;

use super::cancel::CancelReason;
use super::context::JobContext;
use super::early_stop::EarlyStop;
use super::error::JobError;
use super::events::{JobEvent, Stage};
use super::localize::localize;
use super::record::{FixOutcome, LocalizationRecord};
use super::repair::{sample_contexts, Candidates, RepairPrompt};
use super::reproduce::ReproductionSetup;
use super::select::rank;
use super::verify::{planned_test, prepare, CandidateRun, Ready, VerificationError, VerifyQueue};
use crate::backend::{BackendError, Sample, Usage};
use crate::sandbox::SandboxError;
use crate::verify::verifier::CandidateTests;

/// The whole job; with `job.timeout_secs`, cancelled (reason `timeout`) when it runs past it, so
/// that the stages stop as on any cancel: sampling ends, sandbox runs are killed, nothing is left.
pub async fn run_fix(ctx: &JobContext) -> Result<FixOutcome, JobError> {
    let Some(limit) = ctx.settings.job_timeout else {
        return run_stages(ctx).await;
    };
    let stages = run_stages(ctx);
    tokio::pin!(stages);
    tokio::select! {
        result = &mut stages => return result,
        () = tokio::time::sleep(limit) => ctx.cancel.cancel(CancelReason::Timeout),
    }
    stages.await
}

async fn run_stages(ctx: &JobContext) -> Result<FixOutcome, JobError> {
    let mut usage = Usage::default();
    let localization = localize(ctx, &mut usage)
        .instrument(tracing::info_span!("stage", name = "localize"))
        .await?;
    let requested = localization.contexts.iter().map(|c| c.samples).sum();
    let mut repairing = Repairing::new(ctx, usage, requested);
    let result = repairing
        .run(&localization)
        .instrument(tracing::info_span!(
            "stage",
            name = "repair_and_verify",
            samples = ctx.settings.repair_samples
        ))
        .await;
    let Repairing {
        mut candidates,
        queue,
        usage,
        sampling_error,
        early_stop,
        ..
    } = repairing;
    let verification = queue.finish().await;
    if ctx.cancel.is_cancelled() {
        return Err(ctx.cancelled());
    }
    result?;
    let early_stop = early_stop.record(ctx, &candidates.samples);
    if let Some(error) = sampling_error {
        if candidates.samples.is_empty() {
            return Err(JobError::Backend(error));
        }
        ctx.warn(format!(
            "the backend failed after {} of {} repair samples ({error}); continuing with those",
            candidates.samples.len(),
            ctx.settings.repair_samples
        ));
    }
    if let Some(report) = &verification {
        warn_truncated(ctx, &report.candidates);
    }
    let tested = verification
        .as_ref()
        .map(|v| v.candidates.clone())
        .unwrap_or_default();
    let ranking = tracing::info_span!("stage", name = "select")
        .in_scope(|| rank(ctx, &mut candidates, &tested));
    let confidence = super::confidence::Confidence::of_job(
        &ranking,
        candidates.samples.len(),
        verification.as_ref(),
        early_stop.as_ref(),
    );
    Ok(FixOutcome {
        issue: ctx.issue.clone(),
        localization,
        samples: candidates.samples,
        candidates: candidates.list,
        ranking,
        verification,
        usage,
        backends: ctx.ledger.snapshot(),
        confidence,
        early_stop,
    })
}

/// One repair prompt per context; the editor is told the union of the localized files, and which
/// of them no prompt could fit.
fn repair_prompts(ctx: &JobContext, localization: &LocalizationRecord) -> Vec<RepairPrompt> {
    let prompts: Vec<RepairPrompt> = localization
        .contexts
        .iter()
        .map(|context| RepairPrompt::new(ctx, &context.files))
        .collect();
    let included: HashSet<&String> = prompts.iter().flat_map(|p| &p.included).collect();
    ctx.emit(JobEvent::Localized {
        files: localization.files.clone(),
        skipped_for_budget: localization
            .files
            .iter()
            .filter(|f| !included.contains(f))
            .cloned()
            .collect(),
        given: localization.given,
    });
    prompts
}

/// What the repair-and-verify loop has gathered so far.
struct Repairing<'a> {
    ctx: &'a JobContext,
    candidates: Candidates,
    queue: VerifyQueue,
    usage: Usage,
    /// Samples already in are kept: whether they suffice is decided once all are drained.
    sampling_error: Option<BackendError>,
    /// A test command was found and a sandbox is wanted.
    verifying: bool,
    early_stop: EarlyStop,
}

impl<'a> Repairing<'a> {
    fn new(ctx: &'a JobContext, usage: Usage, requested: usize) -> Self {
        Repairing {
            ctx,
            candidates: Candidates::default(),
            queue: VerifyQueue::default(),
            usage,
            sampling_error: None,
            verifying: false,
            early_stop: EarlyStop::new(ctx, requested),
        }
    }

    async fn run(&mut self, localization: &LocalizationRecord) -> Result<(), JobError> {
        let ctx = self.ctx;
        let prompts = repair_prompts(ctx, localization);
        let test = planned_test(ctx)?;
        self.verifying = test.is_some();
        // The reference writes its reproduction tests from the first context's files
        // (`generate_reproduction_tests.py --loc_file file_level_combined_1`); the first context
        // holds the first answer.
        let reproduction = ReproductionSetup::new(
            ctx,
            test.is_some(),
            prompts
                .first()
                .map(|first| (first.included.as_slice(), first.files.as_str())),
        );
        let total = ctx.settings.repair_samples;
        ctx.emit(JobEvent::StageStarted {
            stage: Stage::Repair,
            samples: total,
        });
        let (tx, mut rx) = mpsc::unbounded_channel::<(usize, Sample)>();
        let requests: Vec<(String, usize)> = prompts
            .into_iter()
            .zip(&localization.contexts)
            .map(|(prompt, context)| (prompt.prompt, context.samples))
            .collect();
        let stop = self.early_stop.token().clone();
        let sampling = sample_contexts(ctx, requests, tx, &stop);
        let preparing = async {
            match test {
                Some(test) => Some(
                    prepare(ctx, test, reproduction)
                        .instrument(tracing::info_span!("stage", name = "verify_prepare"))
                        .await,
                ),
                None => None,
            }
        };
        tokio::pin!(sampling, preparing);
        let (mut sampling_done, mut samples_open, mut prepared) = (false, true, false);
        loop {
            tokio::select! {
                result = &mut sampling, if !sampling_done => {
                    sampling_done = true;
                    self.sampled(result)?;
                }
                sample = rx.recv(), if samples_open => match sample {
                    Some((context, sample)) => self.sample(context, sample),
                    None => samples_open = false,
                },
                outcome = &mut preparing, if !prepared => {
                    prepared = true;
                    self.prepared(outcome)?;
                }
                Some((id, result)) = self.queue.next(), if self.queue.is_running() => {
                    self.verified(id, result)?;
                }
                else => break,
            }
            if ctx.cancel.is_cancelled() {
                return Err(ctx.cancelled());
            }
            self.check_early_stop();
            // No candidate to test: waiting for the baseline would only delay "no valid candidate".
            if sampling_done && !samples_open && self.candidates.list.is_empty() {
                break;
            }
        }
        Ok(())
    }

    /// Once the samples still to come cannot change the winner, the open requests close (through
    /// the token `sample_contexts` watches) and test runs that have not started are dropped.
    fn check_early_stop(&mut self) {
        let valid = self.queue.reproduction_valid();
        if self
            .early_stop
            .check(self.ctx, &self.candidates, &self.queue.tested, valid)
        {
            self.queue.skip_queued();
        }
    }

    fn sampled(&mut self, (usage, error): (Usage, Option<BackendError>)) -> Result<(), JobError> {
        self.usage += usage;
        match error {
            Some(BackendError::Cancelled) => return Err(self.ctx.cancelled()),
            Some(e) => self.sampling_error = Some(e),
            None => {}
        }
        Ok(())
    }

    fn sample(&mut self, context: usize, sample: Sample) {
        let ctx = self.ctx;
        if let Some(id) = self.candidates.accept(ctx, context, sample) {
            let files = self.candidates.get(id).files.clone();
            if self.verifying {
                self.queue.push(ctx, id, files);
            }
        }
        let last = self.candidates.samples.last();
        ctx.emit(JobEvent::SampleDone {
            stage: Stage::Repair,
            done: self.candidates.samples.len(),
            total: ctx.settings.repair_samples,
            valid: last.is_some_and(|s| s.error.is_none()),
        });
    }

    fn prepared(
        &mut self,
        outcome: Option<Result<(Ready, Usage), VerificationError>>,
    ) -> Result<(), JobError> {
        match outcome {
            Some(Ok((ready, usage))) => {
                self.usage += usage;
                self.queue.set_ready(self.ctx, ready);
                Ok(())
            }
            Some(Err(VerificationError::Sandbox(SandboxError::Cancelled))) => {
                Err(self.ctx.cancelled())
            }
            Some(Err(e)) => Err(JobError::Verification(e)),
            None => Ok(()),
        }
    }

    fn verified(
        &mut self,
        id: u32,
        result: Result<CandidateTests, SandboxError>,
    ) -> Result<(), JobError> {
        let run = match result {
            Ok(tests) => CandidateRun::Tested(tests),
            Err(SandboxError::Cancelled) => return Err(self.ctx.cancelled()),
            Err(e) => CandidateRun::Failed {
                error: e.to_string(),
            },
        };
        let tests = run.tests();
        let hosts = self.queue.load();
        if hosts.len() > 1 {
            self.ctx.emit(JobEvent::HostsBusy {
                host: tests.and_then(|t| t.host.clone()),
                hosts,
            });
        }
        self.ctx.emit(JobEvent::CandidateVerified {
            id,
            done: self.queue.tested.len() + 1,
            found: self.candidates.list.len(),
            regression_failures: tests.and_then(|t| t.regression_failures),
            reproduction: tests.and_then(|t| t.reproduction),
        });
        self.queue.tested.insert(id, run);
        Ok(())
    }
}

fn warn_truncated(ctx: &JobContext, tested: &std::collections::BTreeMap<u32, CandidateRun>) {
    let cut: Vec<String> = tested
        .iter()
        .filter(|(_, run)| run.tests().is_some_and(|t| t.output_truncated))
        .map(|(id, _)| id.to_string())
        .collect();
    if !cut.is_empty() {
        ctx.warn(format!(
            "the test output of candidate(s) {} passed the {} MiB cap (sandbox.output_limit_mb): regression tests it did not get to report count as failures",
            cut.join(", "),
            ctx.settings.output_limit_mb
        ));
    }
}
