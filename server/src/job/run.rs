//! The stages of a fix job, in order: localize, repair (parsing each sample as it arrives), select.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use futures::stream::{FuturesUnordered, StreamExt};
use tracing::Instrument;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::events::{JobEvent, Stage};
use super::record::{CandidateRecord, FixOutcome, LocalizationRecord, RepairSample};
use super::verification::{prepare, test_command, Ready, VerificationError};
use crate::backend::{BackendClient, BackendError, ChatMessage, Sample, SamplingParams, Usage};
use crate::config::SandboxChoice;
use crate::config::Settings;
use crate::engine::apply::{apply_edits, FileSource};
use crate::engine::edits::parse_search_replace;
use crate::engine::issue::Issue;
use crate::engine::localize::{is_source_file, is_test_file, parse_localization, vote_files};
use crate::engine::normalize::normalized_key;
use crate::engine::repair::files_section;
use crate::engine::selection::{select, Verdict};
use crate::engine::snapshot::RepoSnapshot;
use crate::engine::structure_fit::fit_structure;
use crate::engine::unified_diff::unified_diff;
use crate::prompts::{PromptKind, Prompts};
use crate::sandbox::SandboxError;
use crate::verify::reproduction::ScriptVerdict;
use crate::verify::verifier::CandidateTests;

/// The most files the repair prompt shows, as in SWE-Swiss.
const MAX_LOCALIZED_FILES: usize = 5;

pub struct FixRequest {
    pub issue: Issue,
    pub settings: Settings,
    pub prompts: Prompts,
}

#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error(transparent)]
    Backend(#[from] BackendError),
    #[error("failed to localize the issue: none of the {samples} localization answers named a file of the repository (check that the backend serves a code model that follows the prompt; SWISS_LOG=debug shows its answers)")]
    NothingLocalized { samples: usize },
    #[error(transparent)]
    Verification(#[from] VerificationError),
    #[error("the job was cancelled")]
    Cancelled,
}

pub async fn run_fix(
    snapshot: Arc<RepoSnapshot>,
    request: &FixRequest,
    client: &BackendClient,
    on_event: &(dyn Fn(JobEvent) + Send + Sync),
    cancel: &CancellationToken,
) -> Result<FixOutcome, JobError> {
    let settings = &request.settings;
    let params = SamplingParams {
        temperature: settings.temperature,
        top_p: settings.top_p,
        max_tokens: settings.max_tokens,
    };
    let issue_text = request.issue.prompt_text();
    let mut usage = Usage::default();

    let localization = localize(
        &snapshot,
        request,
        &issue_text,
        client,
        &params,
        on_event,
        cancel,
        &mut usage,
    )
    .instrument(tracing::info_span!("stage", name = "localize"))
    .await?;

    let files: Vec<(String, Arc<str>)> = localization
        .files
        .iter()
        .filter_map(|path| snapshot.read(path).map(|content| (path.clone(), content)))
        .collect();
    let section = files_section(&files, settings.max_prompt_tokens);
    on_event(JobEvent::Localized {
        files: section.included.clone(),
        skipped_for_budget: section.skipped.clone(),
    });
    let prompt = request.prompts.render(
        PromptKind::Repair,
        &[("issue", &issue_text), ("files", &section.text)],
    );

    let total = settings.repair_samples;
    on_event(JobEvent::StageStarted {
        stage: Stage::Repair,
        samples: total,
    });
    let (tx, mut rx) = mpsc::unbounded_channel::<Sample>();
    let messages = [ChatMessage::user(prompt)];
    let sampling = client.sample(&messages, total, &params, tx, cancel);
    tokio::pin!(sampling);

    // Verification gets ready (sandbox, baseline, reproduction test) while samples come in.
    let test = match (settings.sandbox, test_command(settings, &snapshot)) {
        (SandboxChoice::None, _) => None,
        (_, Some(test)) => Some(test),
        (SandboxChoice::Auto, None) => {
            on_event(JobEvent::Warning(
                "no test command found for this repository; candidates are not verified (set test.command in swiss.toml or pass --test-cmd)".to_owned(),
            ));
            None
        }
        (_, None) => return Err(VerificationError::NoTestCommand.into()),
    };
    let verify = test.is_some();
    let reproduce_prompt = (verify && settings.reproduction).then(|| {
        request.prompts.render(
            PromptKind::Reproduce,
            &[("issue", &issue_text), ("files", &section.text)],
        )
    });
    let preparing = async {
        match test {
            Some(test) => Some(
                prepare(
                    snapshot.clone(),
                    settings,
                    test,
                    reproduce_prompt,
                    client,
                    &params,
                    on_event,
                    cancel,
                )
                .instrument(tracing::info_span!("stage", name = "verify_prepare"))
                .await,
            ),
            None => None,
        }
    };
    tokio::pin!(preparing);

    let mut samples: Vec<RepairSample> = Vec::with_capacity(total);
    let mut candidates: Vec<CandidateRecord> = Vec::new();
    let mut by_key: HashMap<String, u32> = HashMap::new();
    let mut sampling_done = false;
    let mut sampling_error: Option<BackendError> = None;
    let mut samples_open = true;
    let mut ready: Option<Arc<Ready>> = None;
    let mut prepared = !verify;
    let mut failure: Option<JobError> = None;
    let mut waiting: Vec<u32> = Vec::new();
    let mut verifying = FuturesUnordered::new();
    let mut tested: BTreeMap<u32, Result<CandidateTests, String>> = BTreeMap::new();
    // One loop drives sampling, parsing, preparation and candidate tests together, so a
    // candidate is tested as soon as it exists and the baseline is in.
    async { loop {
        tokio::select! {
            result = &mut sampling, if !sampling_done => {
                sampling_done = true;
                match result {
                    Ok(sampled) => usage += sampled,
                    Err(BackendError::Cancelled) => failure = Some(JobError::Cancelled),
                    // The samples already in are kept: whether they suffice is decided once
                    // the channel is drained.
                    Err(e) => sampling_error = Some(e),
                }
            }
            sample = rx.recv(), if samples_open => match sample {
                Some(sample) => {
                    let (record, new_candidate) =
                        parse_sample(&snapshot, sample, &mut candidates, &mut by_key, on_event);
                    if let Some(id) = new_candidate {
                        match &ready {
                            Some(ready) => verifying.push(ready.clone().verify(
                                id,
                                candidates[id as usize - 1].files.clone(),
                                cancel.clone(),
                            )),
                            None if verify => waiting.push(id),
                            None => {}
                        }
                    }
                    on_event(JobEvent::SampleDone {
                        stage: Stage::Repair,
                        done: samples.len() + 1,
                        total,
                        valid: record.error.is_none(),
                    });
                    samples.push(record);
                }
                None => samples_open = false,
            },
            outcome = &mut preparing, if !prepared => {
                prepared = true;
                match outcome {
                    Some(Ok(r)) => {
                        let r = Arc::new(r);
                        usage += r.usage;
                        for id in waiting.drain(..) {
                            verifying.push(r.clone().verify(
                                id,
                                candidates[id as usize - 1].files.clone(),
                                cancel.clone(),
                            ));
                        }
                        ready = Some(r);
                    }
                    Some(Err(VerificationError::Sandbox(SandboxError::Cancelled))) => failure = Some(JobError::Cancelled),
                    Some(Err(e)) => failure = Some(JobError::Verification(e)),
                    None => {}
                }
            }
            Some((id, result)) = verifying.next(), if !verifying.is_empty() => {
                let result = match result {
                    Ok(tests) => Ok(tests),
                    Err(SandboxError::Cancelled) => {
                        failure = Some(JobError::Cancelled);
                        Err("cancelled".to_owned())
                    }
                    Err(e) => Err(e.to_string()),
                };
                let (failures, reproduction) = match &result {
                    Ok(t) => (t.regression_failures, t.reproduction),
                    Err(_) => (None, None),
                };
                tested.insert(id, result);
                on_event(JobEvent::CandidateVerified {
                    id,
                    done: tested.len(),
                    found: candidates.len(),
                    regression_failures: failures,
                    reproduction,
                });
            }
            else => break,
        }
        if failure.is_some() || cancel.is_cancelled() {
            break;
        }
        // No candidate to test: waiting for the baseline would only delay "no valid candidate".
        if sampling_done && !samples_open && candidates.is_empty() {
            break;
        }
    } }
    .instrument(tracing::info_span!("stage", name = "repair_and_verify", samples = total))
    .await;
    if let Some(ready) = &ready {
        drop(verifying);
        ready.sandbox.cleanup().await;
    }
    if cancel.is_cancelled() {
        return Err(JobError::Cancelled);
    }
    if let Some(failure) = failure {
        return Err(failure);
    }
    if let Some(error) = sampling_error {
        if samples.is_empty() {
            return Err(JobError::Backend(error));
        }
        on_event(JobEvent::Warning(format!(
            "the backend failed after {} of {total} repair samples ({error}); continuing with those",
            samples.len()
        )));
    }
    let cut: Vec<String> = tested
        .iter()
        .filter(|(_, result)| result.as_ref().is_ok_and(|t| t.output_truncated))
        .map(|(id, _)| id.to_string())
        .collect();
    if !cut.is_empty() {
        on_event(JobEvent::Warning(format!(
            "the test output of candidate(s) {} passed the {} MiB cap (sandbox.output_limit_mb): regression tests it did not get to report count as failures",
            cut.join(", "),
            settings.output_limit_mb
        )));
    }
    // Selection reads keys in sample order, whatever order the answers came in.
    samples.sort_by_key(|s| s.index);

    on_event(JobEvent::StageStarted {
        stage: Stage::Select,
        samples: samples.len(),
    });
    let keys: Vec<String> = samples.iter().map(|s| s.key.clone()).collect();
    let verdict = |key: &str| {
        let tests = by_key
            .get(key)
            .and_then(|id| tested.get(id))
            .and_then(|r| r.as_ref().ok());
        Verdict {
            regression_failures: tests.and_then(|t| t.regression_failures),
            reproduction_passed: tests
                .and_then(|t| t.reproduction)
                .map(|v| v == ScriptVerdict::Resolved),
        }
    };
    let ranking =
        tracing::info_span!("stage", name = "select").in_scope(|| select(&keys, &verdict));
    let verification = ready.map(|r| r.report(tested));

    Ok(FixOutcome {
        issue: request.issue.clone(),
        localization,
        samples,
        candidates,
        ranking,
        verification,
        usage,
    })
}

#[allow(clippy::too_many_arguments)]
async fn localize(
    snapshot: &RepoSnapshot,
    request: &FixRequest,
    issue_text: &str,
    client: &BackendClient,
    params: &SamplingParams,
    on_event: &(dyn Fn(JobEvent) + Send + Sync),
    cancel: &CancellationToken,
    usage: &mut Usage,
) -> Result<LocalizationRecord, JobError> {
    let sources: Vec<&str> = snapshot
        .paths()
        .filter(|p| is_source_file(p) && !is_test_file(p))
        .collect();
    let structure = fit_structure(&sources, issue_text, request.settings.max_structure_tokens);
    if !structure.is_whole() {
        on_event(JobEvent::Warning(format!(
            "the repository structure is over localize.max_structure_tokens ({}): the model sees {} of {} source files, those the issue names first",
            request.settings.max_structure_tokens, structure.shown, structure.total
        )));
    }
    let prompt = request.prompts.render(
        PromptKind::Localize,
        &[("issue", issue_text), ("structure", &structure.text)],
    );
    let total = request.settings.localize_samples;
    on_event(JobEvent::StageStarted {
        stage: Stage::Localize,
        samples: total,
    });
    let (tx, mut rx) = mpsc::unbounded_channel::<Sample>();
    let messages = [ChatMessage::user(prompt)];
    let result = client.sample(&messages, total, params, tx, cancel).await;
    *usage += map_backend(result)?;
    let mut answers = Vec::with_capacity(total);
    while let Ok(sample) = rx.try_recv() {
        answers.push(sample);
        on_event(JobEvent::SampleDone {
            stage: Stage::Localize,
            done: answers.len(),
            total,
            valid: true,
        });
    }
    answers.sort_by_key(|s| s.index);
    for answer in &answers {
        tracing::debug!(index = answer.index, answer = %answer.text, "localization answer");
    }
    let known = |path: &str| snapshot.contains(path);
    let parsed: Vec<Vec<String>> = answers
        .iter()
        .map(|a| parse_localization(&a.text, &known))
        .collect();
    let files = vote_files(&parsed, MAX_LOCALIZED_FILES);
    if files.is_empty() {
        return Err(JobError::NothingLocalized {
            samples: answers.len(),
        });
    }
    Ok(LocalizationRecord {
        samples: answers.into_iter().map(|a| a.text).collect(),
        parsed,
        files,
    })
}

fn parse_sample(
    snapshot: &RepoSnapshot,
    sample: Sample,
    candidates: &mut Vec<CandidateRecord>,
    by_key: &mut HashMap<String, u32>,
    on_event: &(dyn Fn(JobEvent) + Send + Sync),
) -> (RepairSample, Option<u32>) {
    let edits = parse_search_replace(&sample.text);
    let mut new_candidate = None;
    let patched = apply_edits(snapshot, &edits);
    let (key, error, candidate) = match patched {
        Ok(files) => {
            let key = normalized_key(&files);
            let id = match by_key.get(&key) {
                Some(id) => *id,
                None => {
                    let id = candidates.len() as u32 + 1;
                    by_key.insert(key.clone(), id);
                    on_event(JobEvent::CandidateFound {
                        id,
                        key_len: key.len(),
                    });
                    new_candidate = Some(id);
                    candidates.push(CandidateRecord {
                        id,
                        key: key.clone(),
                        patch: unified_diff(&files),
                        files,
                    });
                    id
                }
            };
            (key, None, Some(id))
        }
        Err(e) => (String::new(), Some(e.to_string()), None),
    };
    let record = RepairSample {
        index: sample.index,
        raw: sample.text,
        edits,
        key,
        error,
        candidate,
    };
    (record, new_candidate)
}

fn map_backend(result: Result<Usage, BackendError>) -> Result<Usage, JobError> {
    result.map_err(map_backend_error)
}

fn map_backend_error(error: BackendError) -> JobError {
    match error {
        BackendError::Cancelled => JobError::Cancelled,
        e => JobError::Backend(e),
    }
}
