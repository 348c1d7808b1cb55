//! Stage 1 (DESIGN 3.1), as SWE-Swiss runs it: the model names the files to change, k times;
//! meanwhile it is asked which folders are irrelevant, and retrieval ranks the files outside
//! them. Each answer's top files merged with retrieval's top files is one repair context.

use super::context::JobContext;
use super::error::JobError;
use super::events::{JobEvent, Stage};
use super::record::{IrrelevantFolders, LocalizationRecord};
use super::retrieve::retrieve;
use crate::backend::{BackendError, Sample, Usage};
use crate::engine::contexts::{combine, is_irrelevant, parse_irrelevant_folders, repair_contexts};
use crate::engine::localize::{is_listed_source, is_source_file, parse_localization, vote_files};
use crate::engine::structure_fit::fit_structure;
use crate::prompts::PromptKind;

pub(super) async fn localize(
    ctx: &JobContext,
    usage: &mut Usage,
) -> Result<LocalizationRecord, JobError> {
    let sources: Vec<&str> = ctx
        .snapshot
        .paths()
        .filter(|p| is_listed_source(p))
        .collect();
    let (prompt, irrelevant_prompt) = prompts(ctx, &sources);
    let total = ctx.settings.localize_samples;
    ctx.emit(JobEvent::StageStarted {
        stage: Stage::Localize,
        samples: total,
    });
    let asking_irrelevant = async {
        match irrelevant_prompt {
            Some(prompt) => Some(ctx.sample_all(prompt, 1).await),
            None => None,
        }
    };
    let ((answers, result), irrelevant) =
        tokio::join!(ctx.sample_all(prompt, total), asking_irrelevant);
    *usage += result.map_err(|e| match e {
        BackendError::Cancelled => ctx.cancelled(),
        e => JobError::Backend(e),
    })?;
    let parsed = parse_answers(ctx, &answers, total);
    // SWE-Swiss would repair from retrieval's files alone here; a model none of whose answers
    // names a file of the repository is nearly always the wrong model or server, so say so.
    if parsed.iter().all(Vec::is_empty) {
        return Err(JobError::NothingLocalized {
            samples: answers.len(),
        });
    }
    let irrelevant = irrelevant_folders(ctx, irrelevant, usage)?;
    let folders = irrelevant.as_ref().map_or(&[][..], |i| &i.folders[..]);
    let searched: Vec<String> = sources
        .iter()
        .filter(|path| !is_irrelevant(path, folders))
        .map(|path| (*path).to_owned())
        .collect();
    let retrieval = retrieve(ctx, searched).await?;
    tracing::debug!(method = ?retrieval.method, files = ?retrieval.files, "retrieval");
    let per_answer: Vec<Vec<String>> = parsed
        .iter()
        .map(|files| {
            let settings = &ctx.settings;
            combine(
                files,
                &retrieval.files,
                settings.model_top,
                settings.retrieval_top,
            )
        })
        .collect();
    Ok(LocalizationRecord {
        samples: answers.into_iter().map(|a| a.text).collect(),
        parsed,
        irrelevant,
        retrieval,
        contexts: repair_contexts(&per_answer, ctx.settings.repair_samples),
        files: vote_files(&per_answer, usize::MAX),
    })
}

/// The localization prompt over the repository's structure (fitted to its budget), and the
/// irrelevant-folders question over the same structure when it is asked.
fn prompts(ctx: &JobContext, sources: &[&str]) -> (String, Option<String>) {
    let settings = &ctx.settings;
    let structure = fit_structure(sources, &ctx.issue_text, settings.max_structure_tokens);
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
    let irrelevant = settings.irrelevant_folders.then(|| {
        ctx.render(
            PromptKind::IrrelevantFolders,
            &[
                ("issue", &ctx.issue_text),
                ("structure", structure.text.trim_end()),
            ],
        )
    });
    (prompt, irrelevant)
}

/// The files each answer names that exist in the repository, in the answer's order.
fn parse_answers(ctx: &JobContext, answers: &[Sample], total: usize) -> Vec<Vec<String>> {
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
    answers
        .iter()
        .map(|a| parse_localization(&a.text, &known))
        .collect()
}

/// The folders the model called irrelevant. The question is an aid: when it fails, retrieval
/// searches every source file and the job goes on.
fn irrelevant_folders(
    ctx: &JobContext,
    asked: Option<(Vec<Sample>, Result<Usage, BackendError>)>,
    usage: &mut Usage,
) -> Result<Option<IrrelevantFolders>, JobError> {
    let Some((answers, result)) = asked else {
        return Ok(None);
    };
    match result {
        Ok(spent) => *usage += spent,
        Err(BackendError::Cancelled) => return Err(ctx.cancelled()),
        Err(e) => {
            ctx.warn(format!(
                "failed to ask the model for irrelevant folders ({e}); retrieval searches every source file"
            ));
            return Ok(None);
        }
    }
    let Some(answer) = answers.into_iter().next() else {
        return Ok(None);
    };
    let folders = parse_irrelevant_folders(&answer.text, &is_source_file);
    tracing::debug!(answer = %answer.text, ?folders, "irrelevant folders");
    Ok(Some(IrrelevantFolders {
        answer: answer.text,
        folders,
    }))
}
