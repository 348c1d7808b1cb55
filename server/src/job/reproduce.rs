//! The reproduction test (DESIGN 3.4): the model writes scripts, each runs on the unpatched
//! repository, and one of those that print "Issue reproduced" is chosen by majority of
//! normalized text. Without one, selection falls back to the regression filter, as SWE-Swiss
//! does when no test reproduces the issue.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;

use super::context::JobContext;
use crate::backend::Usage;
use crate::sandbox::{Sandbox, SandboxError};
use crate::verify::reproduction::{
    choose, extract_script, normalized_script, read_verdict, ScriptVerdict,
};
use crate::verify::run_failure::reproduction_import_error;
use crate::verify::verifier::TestPlan;

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

/// Writes the scripts (no prompt: reproduction tests are off), runs each on the baseline and
/// chooses one. Only a cancelled run is an error: a script that cannot run is left out.
pub(super) async fn reproduction_test(
    ctx: &JobContext,
    prompt: Option<String>,
    sandbox: &Arc<dyn Sandbox>,
    plan: &TestPlan,
    semaphore: &Semaphore,
) -> Result<(ReproductionReport, Usage), SandboxError> {
    let Some(prompt) = prompt else {
        let report = ReproductionReport {
            note: Some("reproduction tests are turned off".to_owned()),
            ..ReproductionReport::default()
        };
        return Ok((report, Usage::default()));
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
    if let Some(error) = reproduction_import_error(&outputs, &plan.python) {
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
