//! Swiss's renderings of a fixed input against the reference's own renderings of it.
//!
//! The expected files in `tests/golden/prompts/` are written by
//! `python3 tests/golden/prompts/generate.py REF_DIR`, where REF_DIR is a checkout of
//! github.com/zhenyuhe00/SWE-Swiss; run it again after changing `input.json` or when the
//! reference changes its templates, then make the templates in `prompts/` match.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{PromptKind, Prompts, RegressionSelection, REFERENCE_CONTEXT_TOKENS};
use crate::engine::localize::structure_tree;
use crate::engine::repair::files_section;
use crate::engine::tokens::Estimate;

#[derive(serde::Deserialize)]
struct Input {
    issue: String,
    files: BTreeMap<String, String>,
    localized: Vec<String>,
    passing_tests: Vec<String>,
}

fn input() -> Input {
    serde_json::from_str(include_str!("../../../tests/golden/prompts/input.json")).unwrap()
}

fn files_text(input: &Input) -> String {
    let files: Vec<(String, Arc<str>)> = input
        .localized
        .iter()
        .map(|path| (path.clone(), Arc::from(input.files[path].as_str())))
        .collect();
    let section = files_section(&files, 60_000, &Estimate);
    assert_eq!(section.included, input.localized);
    section.text
}

/// Compares line by line first, so that a difference shows where it is.
fn assert_same(kind: &str, got: &str, want: &str) {
    for (i, (g, w)) in got.split('\n').zip(want.split('\n')).enumerate() {
        assert_eq!(g, w, "{kind}: line {} differs", i + 1);
    }
    assert_eq!(got, want, "{kind}: lengths differ");
}

#[test]
fn localize_prompt_is_the_references() {
    let input = input();
    let structure = structure_tree(input.files.keys().map(String::as_str));
    let got = Prompts::default().render(
        PromptKind::Localize,
        &[("issue", &input.issue), ("structure", &structure)],
    );
    assert_same(
        "localize",
        &got,
        include_str!("../../../tests/golden/prompts/localize.txt"),
    );
}

/// The repair or reproduction prompt: the issue and the localized files.
fn files_prompt(kind: PromptKind) -> String {
    let input = input();
    let files = files_text(&input);
    Prompts::default().render(kind, &[("issue", &input.issue), ("files", &files)])
}

#[test]
fn repair_prompt_is_the_references() {
    assert_same(
        "repair",
        &files_prompt(PromptKind::Repair),
        include_str!("../../../tests/golden/prompts/repair.txt"),
    );
}

#[test]
fn reproduce_prompt_is_the_references() {
    assert_same(
        "reproduce",
        &files_prompt(PromptKind::Reproduce),
        include_str!("../../../tests/golden/prompts/reproduce.txt"),
    );
}

#[test]
fn regression_selection_prompt_is_the_references() {
    let input = input();
    let selection = RegressionSelection::new(
        &Prompts::default(),
        &input.issue,
        &input.passing_tests,
        REFERENCE_CONTEXT_TOKENS,
        &Estimate,
    )
    .unwrap();
    assert_same(
        "select_regression",
        &selection.prompt,
        include_str!("../../../tests/golden/prompts/select_regression.txt"),
    );
}
