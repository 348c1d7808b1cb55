//! Regression-test selection (DESIGN 3.4, SWE-Swiss `test/select_regression_tests.py`): once the
//! baseline is in, one greedy request shows the model the passing tests and asks which of them a
//! correct fix may legitimately change. Those leave the regression set before any candidate is
//! judged, so a right patch that changes tested behaviour is not filtered out for it.

use std::collections::BTreeSet;

use super::context::JobContext;
use crate::backend::{BackendError, SamplingParams, Usage};
use crate::prompts::{
    RegressionSelection, REFERENCE_CONTEXT_TOKENS, REGRESSION_SELECTION_MAX_TOKENS,
};
use crate::sandbox::SandboxError;
use crate::verify::verifier::{Baseline, EXIT_STATUS_TEST};

/// What the selection request decided, for the report and the progress.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Exclusion {
    /// The tests left out of the regression set, in the baseline's order.
    pub excluded: Vec<String>,
    /// The passing tests the model was asked about.
    pub shown: usize,
    /// Passing tests cut from the list for length: they stay in the regression set.
    pub cut: usize,
    pub usage: Usage,
}

/// Asks which passing tests the fix may change and returns them; `None` when nothing was asked
/// (turned off, a baseline that ran no test, no passing test to show). A backend failure is a
/// warning and excludes nothing; only cancellation is an error.
pub(super) async fn select_excluded(
    ctx: &JobContext,
    baseline: &Baseline,
) -> Result<Option<Exclusion>, SandboxError> {
    if !ctx.settings.exclude_tests || baseline.error.is_some() {
        return Ok(None);
    }
    // The exit status stands in for a runner that names no test: it is no test to ask about.
    let passing: Vec<String> = baseline
        .regression_set
        .iter()
        .filter(|test| *test != EXIT_STATUS_TEST)
        .cloned()
        .collect();
    if passing.is_empty() {
        return Ok(None);
    }
    let context = match ctx.client.context_tokens().await {
        Some(context) => usize::try_from(context)
            .unwrap_or(usize::MAX)
            .saturating_sub(REGRESSION_SELECTION_MAX_TOKENS as usize),
        None => REFERENCE_CONTEXT_TOKENS,
    };
    let Some(selection) = RegressionSelection::new(
        &ctx.prompts,
        &ctx.issue_text,
        &passing,
        context,
        &*ctx.settings.token_count(),
    ) else {
        ctx.warn("the issue leaves no room to list the passing tests for the model: every passing test stays in the regression set");
        return Ok(None);
    };
    let params = SamplingParams {
        temperature: 0.0,
        top_p: ctx.settings.top_p,
        max_tokens: Some(REGRESSION_SELECTION_MAX_TOKENS),
    };
    let shown = selection.shown.len();
    let cut = selection.cut;
    let (answers, result) = ctx
        .sample_all_with(selection.prompt.clone(), 1, &params)
        .await;
    let usage = match result {
        Ok(usage) => usage,
        Err(BackendError::Cancelled) => return Err(SandboxError::Cancelled),
        Err(e) => {
            ctx.warn(format!(
                "failed to ask the model which tests the fix may change ({e}): every passing test stays in the regression set"
            ));
            return Ok(None);
        }
    };
    let excluded = answers
        .first()
        .map(|answer| selection.excluded(&answer.text))
        .unwrap_or_default();
    Ok(Some(Exclusion {
        excluded,
        shown,
        cut,
        usage,
    }))
}

/// Leaves `excluded` out of the regression set. Tests cut from the list for length were never
/// shown, so the model could not judge them: they stay (the reference drops them too).
pub(super) fn apply(regression_set: &mut BTreeSet<String>, excluded: &[String]) {
    for test in excluded {
        regression_set.remove(test);
    }
}

/// The first few of `tests` and how many more, for a line of text.
pub fn summary(tests: &[String]) -> String {
    const SHOWN: usize = 3;
    let first = tests
        .iter()
        .take(SHOWN)
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    match tests.len().saturating_sub(SHOWN) {
        0 => first,
        more => format!("{first} and {more} more"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::tokens::Estimate;
    use crate::prompts::Prompts;

    fn passing(n: usize) -> Vec<String> {
        (0..n)
            .map(|i| format!("tests/test_a.py::test_{i:03}"))
            .collect()
    }

    #[test]
    fn tests_cut_for_length_stay_in_the_regression_set() {
        let passing = passing(100);
        // 400 tokens hold the template and 25 of the ids (see the prompt's own tests).
        let selection =
            RegressionSelection::new(&Prompts::default(), "bug", &passing, 400, &Estimate).unwrap();
        assert_eq!(selection.cut, 75);
        // The answer names a shown test and a cut one: only the shown one can be judged.
        let answer = format!("```\n{}\n{}\n```", passing[3], passing[60]);
        let excluded = selection.excluded(&answer);
        assert_eq!(excluded, [passing[3].clone()]);
        let mut set: BTreeSet<String> = passing.iter().cloned().collect();
        apply(&mut set, &excluded);
        let expected: BTreeSet<String> = passing
            .iter()
            .filter(|t| **t != passing[3])
            .cloned()
            .collect();
        assert_eq!(set, expected);
        assert!(set.contains(&passing[60]) && set.contains(&passing[99]));
        // The reference's own set would have lost every cut test.
        assert_eq!(selection.regression_set(&answer).len(), 24);
    }

    #[test]
    fn the_summary_names_the_first_few_and_counts_the_rest() {
        assert_eq!(
            summary(&passing(2)),
            "tests/test_a.py::test_000, tests/test_a.py::test_001"
        );
        assert_eq!(
            summary(&passing(5)),
            "tests/test_a.py::test_000, tests/test_a.py::test_001, tests/test_a.py::test_002 and 2 more"
        );
    }
}
