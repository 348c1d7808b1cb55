//! `--grade`: SWE-bench's rule, judged in Swiss's own sandbox. A fresh checkout of the base
//! commit gets the prediction, then the instance's test patch; the test directives run; the
//! instance is resolved when every FAIL_TO_PASS and PASS_TO_PASS test passes.

use std::path::Path;

use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use super::checkout::checkout;
use super::instances::Instance;
use crate::config::Settings;
use crate::engine::snapshot::{RepoSnapshot, DEFAULT_MAX_FILE_BYTES};
use crate::job::create_sandbox_for;
use crate::verify::test_command::TestCommand;
use crate::verify::verifier::TestPlan;

/// Tests named in a grade that did not pass; the verdict is always complete.
const NOT_PASSED_SHOWN: usize = 20;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Grade {
    pub resolved: bool,
    /// FAIL_TO_PASS and PASS_TO_PASS tests that did not pass (a handful).
    pub not_passed: Vec<String>,
    /// Why the prediction could not be tested (it does not apply, for one); it is then not
    /// resolved.
    pub note: Option<String>,
}

impl Grade {
    fn unresolved(note: String) -> Grade {
        Grade {
            resolved: false,
            not_passed: Vec::new(),
            note: Some(note),
        }
    }
}

/// Grades `model_patch` for `instance`. `test` is the instance's test command with the directives
/// of the whole test patch. An error is the sandbox's or the repository's, not the prediction's.
pub async fn grade(
    instance: &Instance,
    source: &Path,
    model_patch: &str,
    settings: &Settings,
    test: TestCommand,
    cancel: &CancellationToken,
) -> Result<Grade, String> {
    if model_patch.trim().is_empty() {
        return Ok(Grade::unresolved("no prediction".to_owned()));
    }
    let (instance_owned, source, patch) = (
        instance.clone(),
        source.to_path_buf(),
        model_patch.to_owned(),
    );
    let prepared =
        tokio::task::spawn_blocking(move || prepare_tree(&instance_owned, &source, &patch))
            .await
            .map_err(|e| format!("failed to prepare the grading checkout: {e}"))??;
    let files = match prepared {
        Prepared::Files(files) => files,
        Prepared::NotApplied(note) => return Ok(Grade::unresolved(note)),
    };
    let (sandbox, _) = create_sandbox_for(settings, files, &|_| {})
        .await
        .map_err(|e| e.to_string())?;
    let plan = TestPlan {
        test,
        timeout: settings.test_timeout,
        python: settings.python.clone(),
        env: settings.test_env.clone(),
        script: None,
    };
    let run = plan.baseline(&*sandbox, cancel).await;
    sandbox.cleanup().await;
    let passed = run.map_err(|e| e.to_string())?.regression_set;
    let not_passed: Vec<String> = instance
        .fail_to_pass
        .iter()
        .chain(&instance.pass_to_pass)
        .filter(|test| !passed.contains(*test))
        .cloned()
        .collect();
    Ok(Grade {
        resolved: not_passed.is_empty(),
        not_passed: not_passed.into_iter().take(NOT_PASSED_SHOWN).collect(),
        note: None,
    })
}

enum Prepared {
    Files(Vec<crate::sandbox::BaseFile>),
    NotApplied(String),
}

/// The checkout with both patches applied, as the files a sandbox starts from. Patches go into
/// the index as well, so that files they create are part of the snapshot.
fn prepare_tree(instance: &Instance, source: &Path, patch: &str) -> Result<Prepared, String> {
    let tree =
        checkout(source, &instance.repo, &instance.base_commit).map_err(|e| e.to_string())?;
    let repo = git2::Repository::open(tree.path()).map_err(|e| e.message().to_owned())?;
    if let Err(e) = apply(&repo, patch) {
        return Ok(Prepared::NotApplied(format!(
            "the prediction does not apply: {e}"
        )));
    }
    if !instance.test_patch.trim().is_empty() {
        apply(&repo, &instance.test_patch)
            .map_err(|e| format!("failed to apply the test patch after the prediction: {e}"))?;
    }
    let snapshot =
        RepoSnapshot::open(tree.path(), DEFAULT_MAX_FILE_BYTES).map_err(|e| e.to_string())?;
    let files = snapshot.base_files().map_err(|e| {
        format!(
            "failed to read the grading checkout {}: {e}",
            tree.path().display()
        )
    })?;
    Ok(Prepared::Files(files))
}

fn apply(repo: &git2::Repository, patch: &str) -> Result<(), String> {
    let diff = git2::Diff::from_buffer(patch.as_bytes()).map_err(|e| e.message().to_owned())?;
    repo.apply(&diff, git2::ApplyLocation::Both, None)
        .map_err(|e| e.message().to_owned())
}
