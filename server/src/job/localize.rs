//! Stage 1: the model names the files to change (DESIGN 3.1). The answers are voted into the
//! files the repair prompt shows.

use super::context::JobContext;
use super::error::JobError;
use super::events::{JobEvent, Stage};
use super::record::LocalizationRecord;
use crate::backend::{BackendError, Usage};
use crate::engine::localize::{is_source_file, is_test_file, parse_localization, vote_files};
use crate::engine::structure_fit::fit_structure;
use crate::prompts::PromptKind;

/// The most files the repair prompt shows, as in SWE-Swiss.
const MAX_LOCALIZED_FILES: usize = 5;

pub(super) async fn localize(
    ctx: &JobContext,
    usage: &mut Usage,
) -> Result<LocalizationRecord, JobError> {
    let settings = &ctx.settings;
    let sources: Vec<&str> = ctx
        .snapshot
        .paths()
        .filter(|p| is_source_file(p) && !is_test_file(p))
        .collect();
    let structure = fit_structure(&sources, &ctx.issue_text, settings.max_structure_tokens);
    if !structure.is_whole() {
        ctx.warn(format!(
            "the repository structure is over localize.max_structure_tokens ({}): the model sees {} of {} source files, those the issue names first",
            settings.max_structure_tokens, structure.shown, structure.total
        ));
    }
    let prompt = ctx.render(
        PromptKind::Localize,
        &[("issue", &ctx.issue_text), ("structure", &structure.text)],
    );
    let total = settings.localize_samples;
    ctx.emit(JobEvent::StageStarted {
        stage: Stage::Localize,
        samples: total,
    });
    let (answers, result) = ctx.sample_all(prompt, total).await;
    *usage += result.map_err(|e| match e {
        BackendError::Cancelled => ctx.cancelled(),
        e => JobError::Backend(e),
    })?;
    for (done, answer) in answers.iter().enumerate() {
        tracing::debug!(index = answer.index, answer = %answer.text, "localization answer");
        ctx.emit(JobEvent::SampleDone {
            stage: Stage::Localize,
            done: done + 1,
            total,
            valid: true,
        });
    }
    let known = |path: &str| ctx.snapshot.contains(path);
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
