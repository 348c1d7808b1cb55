//! The reproduction test (DESIGN 3.4): the model writes scripts, each runs on the unpatched
//! repository, and one of those that print "Issue reproduced" is chosen by majority of
//! normalized text. Without one, selection falls back to the regression filter, as SWE-Swiss
//! does when no test reproduces the issue.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;

use super::context::JobContext;
use crate::backend::Usage;
use crate::prompts::PromptKind;
use crate::sandbox::{Sandbox, SandboxError};
use crate::verify::reproduction::{
    choose, extract_script, normalized_script, read_verdict, ScriptVerdict,
};
use crate::verify::reproduction_program::{is_es_module, ReproductionProgram, ScriptLanguage};
use crate::verify::run_failure::{reproduction_import_error, reproduction_run_error};
use crate::verify::verifier::TestPlan;

/// What the job does about reproduction tests, decided once the localized files are known.
#[derive(Debug, Clone)]
pub(super) enum ReproductionSetup {
    /// `reproduction.enabled = false`, or the job does not verify.
    Off,
    /// No program can run for this repository: the one line that says why and what to set.
    Impossible(String),
    Write {
        prompt: String,
        program: ReproductionProgram,
    },
}

impl ReproductionSetup {
    /// The program's language follows the files the prompt shows (the first context's, as the
    /// reference writes its tests from); Python gets the reference's prompt byte for byte, the
    /// other languages Swiss's `reproduce_program.md`.
    pub fn new(ctx: &JobContext, verifying: bool, first: Option<(&[String], &str)>) -> Self {
        let Some((paths, files)) = first.filter(|_| verifying && ctx.settings.reproduction) else {
            return ReproductionSetup::Off;
        };
        let language = ScriptLanguage::detect(paths, ctx.snapshot.paths());
        let es_module = is_es_module(
            crate::engine::apply::FileSource::read(&*ctx.snapshot, "package.json").as_deref(),
        );
        let program = match ReproductionProgram::new(language, &ctx.settings, es_module) {
            Ok(program) => program,
            Err(why) => return ReproductionSetup::Impossible(why),
        };
        let issue = ("issue", ctx.issue_text.as_str());
        let prompt = match program.language {
            ScriptLanguage::Python => ctx.render(PromptKind::Reproduce, &[issue, ("files", files)]),
            language => ctx.render(
                PromptKind::ReproduceProgram,
                &[
                    issue,
                    ("files", files),
                    ("language", language.name()),
                    ("fence", language.fence()),
                    ("how_it_runs", &program.how_it_runs(&ctx.settings.python)),
                ],
            ),
        };
        ReproductionSetup::Write { prompt, program }
    }

    pub fn program(&self) -> Option<&ReproductionProgram> {
        match self {
            ReproductionSetup::Write { program, .. } => Some(program),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReproductionReport {
    pub generated: usize,
    /// Scripts run on the unpatched repository: identical ones (by normalized text) run once.
    #[serde(default)]
    pub baseline_runs: usize,
    /// Sample index and what each usable script printed on the unpatched repository.
    pub baseline_verdicts: Vec<(usize, ScriptVerdict)>,
    pub chosen_index: Option<usize>,
    pub chosen_script: Option<String>,
    /// Why there is no reproduction test, when there is none.
    pub note: Option<String>,
}

impl ReproductionReport {
    pub fn reproducing(&self) -> usize {
        self.baseline_verdicts
            .iter()
            .filter(|(_, v)| *v == ScriptVerdict::Reproduced)
            .count()
    }
}

/// Writes the scripts, runs each on the baseline and chooses one. Only a cancelled run is an
/// error: a script that cannot run is left out.
pub(super) async fn reproduction_test(
    ctx: &JobContext,
    setup: ReproductionSetup,
    sandbox: &Arc<dyn Sandbox>,
    plan: &TestPlan,
    semaphore: &Semaphore,
) -> Result<(ReproductionReport, Usage), SandboxError> {
    let (prompt, program) = match setup {
        ReproductionSetup::Write { prompt, program } => (prompt, program),
        ReproductionSetup::Off => {
            return Ok(without("reproduction tests are turned off".to_owned()))
        }
        ReproductionSetup::Impossible(why) => {
            ctx.warn(why.clone());
            return Ok(without(why));
        }
    };
    let (scripts, usage, note) = generate_scripts(ctx, prompt).await;
    let distinct = distinct_scripts(&scripts);
    let runs = distinct.iter().map(|(twins, script)| async move {
        let _permit = semaphore
            .acquire()
            .await
            .map_err(|_| SandboxError::Cancelled)?;
        let output = plan
            .run_script_output(&**sandbox, script, None, ctx.cancel.token())
            .await?;
        Ok::<_, SandboxError>((twins, output))
    });
    let mut report = ReproductionReport {
        generated: scripts.len(),
        baseline_runs: distinct.len(),
        note,
        ..ReproductionReport::default()
    };
    let mut outputs = Vec::with_capacity(scripts.len());
    for run in futures::future::join_all(runs).await {
        match run {
            Ok((twins, output)) => {
                let verdict = read_verdict(&output.stdout);
                report
                    .baseline_verdicts
                    .extend(twins.iter().map(|index| (*index, verdict)));
                outputs.push(output);
            }
            Err(SandboxError::Cancelled) => return Err(SandboxError::Cancelled),
            Err(e) => {
                tracing::warn!(error = %e, "a reproduction script could not run on the baseline")
            }
        }
    }
    report.baseline_verdicts.sort_by_key(|(index, _)| *index);
    let error = match (program.language, &plan.script) {
        (ScriptLanguage::Python, None) => reproduction_import_error(&outputs, &plan.python),
        (_, Some(run)) => reproduction_run_error(&outputs, &run.command),
        (_, None) => None,
    };
    if let Some(error) = error {
        ctx.warn(error.clone());
        report.note = Some(error);
    }
    let reproducing: Vec<(usize, &str)> = scripts
        .iter()
        .filter(|(index, _)| {
            report
                .baseline_verdicts
                .contains(&(*index, ScriptVerdict::Reproduced))
        })
        .map(|(index, script)| (*index, script.as_str()))
        .collect();
    if let Some((index, script)) = choose(&reproducing) {
        report.chosen_index = Some(index);
        report.chosen_script = Some(script.to_owned());
    } else if report.note.is_none() && !scripts.is_empty() {
        report.note = Some(format!(
            "none of the {} reproduction scripts printed \"Issue reproduced\" on the unpatched repository",
            scripts.len()
        ));
    }
    Ok((report, usage))
}

fn without(note: String) -> (ReproductionReport, Usage) {
    let report = ReproductionReport {
        note: Some(note),
        ..ReproductionReport::default()
    };
    (report, Usage::default())
}

/// 40 samples often hold a handful of distinct scripts (by normalized text): each runs once, and
/// its verdict is every twin's. The sample indices of each, with its first script.
fn distinct_scripts(scripts: &[(usize, String)]) -> Vec<(Vec<usize>, &str)> {
    let mut distinct: Vec<(String, Vec<usize>, &str)> = Vec::new();
    for (index, script) in scripts {
        let key = normalized_script(script);
        match distinct.iter_mut().find(|(k, _, _)| *k == key) {
            Some((_, twins, _)) => twins.push(*index),
            None => distinct.push((key, vec![*index], script)),
        }
    }
    distinct
        .into_iter()
        .map(|(_, twins, script)| (twins, script))
        .collect()
}

/// A backend failure here costs the reproduction filter only.
async fn generate_scripts(
    ctx: &JobContext,
    prompt: String,
) -> (Vec<(usize, String)>, Usage, Option<String>) {
    let (answers, result) = ctx
        .sample_all(prompt, ctx.settings.reproduction_samples)
        .await;
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
