//! The stages of a fix job, in order: localize, repair (parsing each sample as it arrives), select.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::events::{JobEvent, Stage};
use super::record::{CandidateRecord, FixOutcome, LocalizationRecord, RepairSample};
use crate::backend::{BackendClient, BackendError, ChatMessage, Sample, SamplingParams, Usage};
use crate::config::Settings;
use crate::engine::apply::{apply_edits, FileSource};
use crate::engine::edits::parse_search_replace;
use crate::engine::issue::Issue;
use crate::engine::localize::{
    is_source_file, is_test_file, parse_localization, structure_tree, vote_files,
};
use crate::engine::normalize::normalized_key;
use crate::engine::repair::files_section;
use crate::engine::selection::{select, Verdict};
use crate::engine::snapshot::RepoSnapshot;
use crate::engine::unified_diff::unified_diff;
use crate::prompts::{PromptKind, Prompts};

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
    #[error("failed to localize the issue: none of the {samples} localization answers named a file of the repository")]
    NothingLocalized { samples: usize },
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

    let mut samples: Vec<RepairSample> = Vec::with_capacity(total);
    let mut candidates: Vec<CandidateRecord> = Vec::new();
    let mut by_key: HashMap<String, u32> = HashMap::new();
    let mut sampling_result = None;
    // Parse each sample as it arrives, so candidates exist before the last sample is in.
    loop {
        tokio::select! {
            result = &mut sampling, if sampling_result.is_none() => sampling_result = Some(result),
            sample = rx.recv() => match sample {
                Some(sample) => {
                    let record = parse_sample(&snapshot, sample, &mut candidates, &mut by_key, on_event);
                    on_event(JobEvent::SampleDone {
                        stage: Stage::Repair,
                        done: samples.len() + 1,
                        total,
                        valid: record.error.is_none(),
                    });
                    samples.push(record);
                }
                None => break,
            },
        }
    }
    let sampling_result = match sampling_result {
        Some(result) => result,
        None => sampling.await,
    };
    usage += map_backend(sampling_result)?;
    // Selection reads keys in sample order, whatever order the answers came in.
    samples.sort_by_key(|s| s.index);

    on_event(JobEvent::StageStarted {
        stage: Stage::Select,
        samples: samples.len(),
    });
    let keys: Vec<String> = samples.iter().map(|s| s.key.clone()).collect();
    let unverified = |_: &str| Verdict {
        regression_failures: None,
        reproduction_passed: None,
    };
    let ranking = select(&keys, &unverified);

    Ok(FixOutcome {
        issue: request.issue.clone(),
        localization,
        samples,
        candidates,
        ranking,
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
    let structure = structure_tree(
        snapshot
            .paths()
            .filter(|p| is_source_file(p) && !is_test_file(p)),
    );
    let prompt = request.prompts.render(
        PromptKind::Localize,
        &[("issue", issue_text), ("structure", &structure)],
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
) -> RepairSample {
    let edits = parse_search_replace(&sample.text);
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
    RepairSample {
        index: sample.index,
        raw: sample.text,
        edits,
        key,
        error,
        candidate,
    }
}

fn map_backend(result: Result<Usage, BackendError>) -> Result<Usage, JobError> {
    match result {
        Ok(usage) => Ok(usage),
        Err(BackendError::Cancelled) => Err(JobError::Cancelled),
        Err(e) => Err(JobError::Backend(e)),
    }
}
