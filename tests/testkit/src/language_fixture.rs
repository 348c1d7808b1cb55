//! The answers every language fixture (Go, TypeScript, Rust) scripts, in one order, so that one
//! set of checks (`tests/it/fixture_checks.rs`) reads all their reports.

use crate::scripted_backend::{PromptKind, Script};

/// A fixture's patches, each a whole SEARCH/REPLACE answer.
pub struct Answers {
    pub localize: String,
    pub fix: String,
    pub breaks_test: String,
    pub breaks_test_variant: String,
    pub wrong: String,
    pub wrong_variant: String,
    pub syntax_break: String,
    pub reproduction: String,
}

/// Seven repair samples: breaker, fix, breaker's twin, wrong, wrong's twin, syntax break,
/// breaker; every reproduction sample is the one program.
pub fn script(answers: Answers) -> Script {
    Script::new()
        .answer(PromptKind::Localize, [answers.localize])
        .answer(
            PromptKind::Repair,
            [
                answers.breaks_test.clone(),
                answers.fix,
                answers.breaks_test_variant,
                answers.wrong,
                answers.wrong_variant,
                answers.syntax_break,
                answers.breaks_test,
            ],
        )
        .answer(PromptKind::Reproduce, [answers.reproduction])
}
