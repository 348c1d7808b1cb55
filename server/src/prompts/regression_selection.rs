//! The regression-test selection request (SWE-Swiss `test/select_regression_tests.py`): after
//! the baseline, the model is shown the tests that pass and names those a correct fix may
//! legitimately change; they leave the regression set.

use super::{PromptKind, Prompts};
use crate::engine::tokens::TokenCount;

/// The context the reference assumes for this prompt: a list whose prompt reaches it is cut.
pub const REFERENCE_CONTEXT_TOKENS: usize = 128_000;
/// The answer is a short list: the reference asks for at most this many tokens, at temperature 0.
pub const REGRESSION_SELECTION_MAX_TOKENS: u32 = 1024;

/// The selection prompt for one baseline, with the tests it shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegressionSelection {
    pub prompt: String,
    /// The passing tests the prompt lists, in the baseline's order.
    pub shown: Vec<String>,
    /// How many passing tests were cut to fit the context.
    pub cut: usize,
}

impl RegressionSelection {
    /// The prompt listing `passing` (test ids, one a line), or `None` when there is nothing to
    /// ask: no passing test, or an issue too long for any list to fit.
    ///
    /// A prompt of `context_tokens` or more (by `count`) is cut as the reference cuts it: the
    /// list is halved, keeping its first half, until the prompt fits. Pass the server's context
    /// less [`REGRESSION_SELECTION_MAX_TOKENS`] where it is known, else
    /// [`REFERENCE_CONTEXT_TOKENS`].
    pub fn new(
        prompts: &Prompts,
        issue: &str,
        passing: &[String],
        context_tokens: usize,
        count: &dyn TokenCount,
    ) -> Option<RegressionSelection> {
        let mut shown = passing;
        loop {
            if shown.is_empty() {
                return None;
            }
            let prompt = prompts.render(
                PromptKind::SelectRegression,
                &[("issue", issue), ("tests", &shown.join("\n"))],
            );
            if count.count(&prompt) < context_tokens {
                return Some(RegressionSelection {
                    prompt,
                    cut: passing.len() - shown.len(),
                    shown: shown.to_vec(),
                });
            }
            shown = &shown[..shown.len() / 2];
        }
    }

    /// The shown tests the answer names, one a line (surrounding whitespace aside), after any
    /// reasoning the model closed with `</think>`. Lines that name no shown test (a fence, a
    /// remark, a test that does not exist) are ignored.
    pub fn excluded(&self, answer: &str) -> Vec<String> {
        let named = named_tests(answer);
        self.shown
            .iter()
            .filter(|test| named.contains(test.as_str()))
            .cloned()
            .collect()
    }

    /// The regression set as the reference keeps it: the shown tests the answer does not name.
    /// Tests cut for length are left out too, as the reference leaves them out.
    pub fn regression_set(&self, answer: &str) -> Vec<String> {
        let named = named_tests(answer);
        self.shown
            .iter()
            .filter(|test| !named.contains(test.as_str()))
            .cloned()
            .collect()
    }
}

fn named_tests(answer: &str) -> std::collections::HashSet<&str> {
    let answer = answer.rsplit_once("</think>").map_or(answer, |(_, a)| a);
    answer.lines().map(str::trim).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::tokens::Estimate;

    fn tests(n: usize) -> Vec<String> {
        (0..n)
            .map(|i| format!("tests/test_a.py::test_{i:03}"))
            .collect()
    }

    #[test]
    fn a_list_that_fits_is_shown_whole() {
        let passing = tests(3);
        let selection =
            RegressionSelection::new(&Prompts::default(), "bug", &passing, 1000, &Estimate)
                .unwrap();
        assert_eq!(selection.shown, passing);
        assert_eq!(selection.cut, 0);
        assert!(selection
            .prompt
            .contains("```\ntests/test_a.py::test_000\ntests/test_a.py::test_001\ntests/test_a.py::test_002\n```"));
    }

    #[test]
    fn a_list_too_long_is_halved_until_it_fits_keeping_the_first_half() {
        let prompts = Prompts::default();
        let passing = tests(100);
        // Each id is 27 bytes and a newline, about 7 tokens, and the template about 150: 100 or
        // 50 ids do not fit in 400 tokens, 25 do.
        let selection =
            RegressionSelection::new(&prompts, "bug", &passing, 400, &Estimate).unwrap();
        assert_eq!(selection.shown, passing[..25]);
        assert_eq!(selection.cut, 75);
        assert!(Estimate.count(&selection.prompt) < 400);
        let longer = prompts.render(
            PromptKind::SelectRegression,
            &[("issue", "bug"), ("tests", &passing[..50].join("\n"))],
        );
        assert!(Estimate.count(&longer) >= 400);
    }

    #[test]
    fn nothing_to_ask_without_tests_or_room() {
        let prompts = Prompts::default();
        assert_eq!(
            RegressionSelection::new(&prompts, "bug", &[], 1000, &Estimate),
            None
        );
        assert_eq!(
            RegressionSelection::new(&prompts, &"long ".repeat(1000), &tests(4), 100, &Estimate),
            None
        );
    }

    #[test]
    fn the_answer_names_tests_to_leave_out() {
        let passing = tests(3);
        let selection =
            RegressionSelection::new(&Prompts::default(), "bug", &passing, 1000, &Estimate)
                .unwrap();
        let answer = "<think>tests/test_a.py::test_000 looks related</think>\n```\n  tests/test_a.py::test_002\ntests/test_a.py::test_999\n```";
        assert_eq!(selection.excluded(answer), [passing[2].clone()]);
        assert_eq!(
            selection.regression_set(answer),
            [passing[0].clone(), passing[1].clone()]
        );
    }
}
