//! Prompt templates: embedded at build time from the top-level `prompts/` folder, overridable per
//! repository by a folder holding files of the same names.
//!
//! The embedded templates are SWE-Swiss's own (`evaluation/agentless/`), and [`Prompts::render`]
//! places values as the reference's `.format(...).strip()` does, so that the model sees the
//! prompts it was trained on byte for byte; `tests/golden/prompts/` holds the reference's
//! renderings of a fixed input and the script that made them.

use std::path::Path;

mod regression_selection;

pub use regression_selection::{
    RegressionSelection, REFERENCE_CONTEXT_TOKENS, REGRESSION_SELECTION_MAX_TOKENS,
};

/// The prompts the pipeline sends, each with the placeholders it must contain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptKind {
    /// `{{issue}}`, `{{structure}}` (the tree of `engine::localize::structure_tree`).
    Localize,
    /// `{{issue}}`, `{{files}}` (the section of `engine::repair::files_section`).
    Repair,
    /// `{{issue}}`, `{{files}}`, as for repair.
    Reproduce,
    /// The reproduction test in a language other than Python (not in the reference, which
    /// writes Python only): `{{issue}}`, `{{files}}`, and `{{language}}`, `{{fence}}` and
    /// `{{how_it_runs}}` from `verify::reproduction_program`.
    ReproduceProgram,
    /// `{{issue}}`, `{{tests}}` (the passing tests, one a line): see [`RegressionSelection`].
    SelectRegression,
    /// SWE-Swiss's question before retrieval: which folders the fix will not touch.
    IrrelevantFolders,
}

impl PromptKind {
    pub const ALL: [PromptKind; 6] = [
        PromptKind::Localize,
        PromptKind::Repair,
        PromptKind::Reproduce,
        PromptKind::ReproduceProgram,
        PromptKind::SelectRegression,
        PromptKind::IrrelevantFolders,
    ];

    pub fn file_name(self) -> &'static str {
        match self {
            PromptKind::Localize => "localize.md",
            PromptKind::Repair => "repair.md",
            PromptKind::Reproduce => "reproduce.md",
            PromptKind::ReproduceProgram => "reproduce_program.md",
            PromptKind::SelectRegression => "select_regression.md",
            PromptKind::IrrelevantFolders => "irrelevant_folders.md",
        }
    }

    fn embedded(self) -> &'static str {
        match self {
            PromptKind::Localize => include_str!("../../../prompts/localize.md"),
            PromptKind::Repair => include_str!("../../../prompts/repair.md"),
            PromptKind::Reproduce => include_str!("../../../prompts/reproduce.md"),
            PromptKind::ReproduceProgram => include_str!("../../../prompts/reproduce_program.md"),
            PromptKind::SelectRegression => {
                include_str!("../../../prompts/select_regression.md")
            }
            PromptKind::IrrelevantFolders => include_str!("../../../prompts/irrelevant_folders.md"),
        }
    }

    /// An override without these would silently drop the issue or the code from the prompt.
    pub fn required_placeholders(self) -> &'static [&'static str] {
        match self {
            PromptKind::Localize | PromptKind::IrrelevantFolders => &["{{issue}}", "{{structure}}"],
            PromptKind::Repair | PromptKind::Reproduce | PromptKind::ReproduceProgram => {
                &["{{issue}}", "{{files}}"]
            }
            PromptKind::SelectRegression => &["{{issue}}", "{{tests}}"],
        }
    }

    /// How the reference trims a value before placing it: the structure is `.strip()`ped and the
    /// file section `.rstrip()`ped; the issue and the test list go in as they are.
    fn place<'v>(self, name: &str, value: &'v str) -> &'v str {
        match (self, name) {
            (PromptKind::Localize, "structure") => value.trim(),
            (
                PromptKind::Repair | PromptKind::Reproduce | PromptKind::ReproduceProgram,
                "files",
            ) => value.trim_end(),
            _ => value,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PromptError {
    #[error("failed to read prompt template {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("prompt template {path} lacks the placeholder {placeholder}")]
    MissingPlaceholder {
        path: String,
        placeholder: &'static str,
    },
}

/// The templates a job uses.
#[derive(Debug, Clone)]
pub struct Prompts {
    localize: String,
    repair: String,
    reproduce: String,
    reproduce_program: String,
    select_regression: String,
    irrelevant_folders: String,
}

impl Default for Prompts {
    fn default() -> Self {
        Prompts {
            localize: PromptKind::Localize.embedded().to_owned(),
            repair: PromptKind::Repair.embedded().to_owned(),
            reproduce: PromptKind::Reproduce.embedded().to_owned(),
            reproduce_program: PromptKind::ReproduceProgram.embedded().to_owned(),
            select_regression: PromptKind::SelectRegression.embedded().to_owned(),
            irrelevant_folders: PromptKind::IrrelevantFolders.embedded().to_owned(),
        }
    }
}

impl Prompts {
    /// The embedded templates, with any file of the same name in `dir` taking the place of its
    /// embedded twin. A missing `dir` is no error: overriding is optional.
    pub fn with_overrides(dir: &Path) -> Result<Prompts, PromptError> {
        let mut prompts = Prompts::default();
        for kind in PromptKind::ALL {
            let path = dir.join(kind.file_name());
            let text = match std::fs::read_to_string(&path) {
                Ok(text) => text,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(source) => {
                    return Err(PromptError::Read {
                        path: path.display().to_string(),
                        source,
                    })
                }
            };
            if let Some(placeholder) = kind
                .required_placeholders()
                .iter()
                .find(|p| !text.contains(**p))
            {
                return Err(PromptError::MissingPlaceholder {
                    path: path.display().to_string(),
                    placeholder,
                });
            }
            *prompts.slot(kind) = text;
        }
        Ok(prompts)
    }

    fn slot(&mut self, kind: PromptKind) -> &mut String {
        match kind {
            PromptKind::Localize => &mut self.localize,
            PromptKind::Repair => &mut self.repair,
            PromptKind::Reproduce => &mut self.reproduce,
            PromptKind::ReproduceProgram => &mut self.reproduce_program,
            PromptKind::SelectRegression => &mut self.select_regression,
            PromptKind::IrrelevantFolders => &mut self.irrelevant_folders,
        }
    }

    pub fn template(&self, kind: PromptKind) -> &str {
        match kind {
            PromptKind::Localize => &self.localize,
            PromptKind::Repair => &self.repair,
            PromptKind::Reproduce => &self.reproduce,
            PromptKind::ReproduceProgram => &self.reproduce_program,
            PromptKind::SelectRegression => &self.select_regression,
            PromptKind::IrrelevantFolders => &self.irrelevant_folders,
        }
    }

    /// Fills `{{name}}` placeholders in one pass, so text inserted for one placeholder (an issue
    /// that happens to contain `{{files}}`) is never substituted again. Values are trimmed as the
    /// reference trims them ([`PromptKind`]) and the prompt is sent without surrounding
    /// whitespace, as the reference's `.strip()` sends it; a template file may therefore end
    /// with a newline.
    pub fn render(&self, kind: PromptKind, values: &[(&str, &str)]) -> String {
        let placed: Vec<(&str, &str)> = values
            .iter()
            .map(|&(name, value)| (name, kind.place(name, value)))
            .collect();
        render(self.template(kind), &placed).trim().to_owned()
    }
}

fn render(template: &str, values: &[(&str, &str)]) -> String {
    let mut out =
        String::with_capacity(template.len() + values.iter().map(|(_, v)| v.len()).sum::<usize>());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find("}}") {
            Some(end) => {
                let name = &after[..end];
                match values.iter().find(|(k, _)| *k == name) {
                    Some((_, value)) => out.push_str(value),
                    None => out.push_str(&rest[start..start + 2 + end + 2]),
                }
                rest = &after[end + 2..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod golden_tests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_does_not_substitute_inside_inserted_text() {
        let out = render(
            "A {{issue}} B {{files}}",
            &[("issue", "see {{files}}"), ("files", "F")],
        );
        assert_eq!(out, "A see {{files}} B F");
    }

    #[test]
    fn unknown_placeholders_stay() {
        assert_eq!(render("{{x}} {{", &[]), "{{x}} {{");
    }

    #[test]
    fn embedded_templates_hold_their_placeholders() {
        let prompts = Prompts::default();
        for kind in PromptKind::ALL {
            for p in kind.required_placeholders() {
                assert!(prompts.template(kind).contains(p), "{kind:?} lacks {p}");
            }
        }
    }

    #[test]
    fn override_replaces_one_template_and_is_checked() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("repair.md"), "fix {{issue}} in {{files}}").unwrap();
        let prompts = Prompts::with_overrides(dir.path()).unwrap();
        assert_eq!(
            prompts.template(PromptKind::Repair),
            "fix {{issue}} in {{files}}"
        );
        assert_eq!(
            prompts.template(PromptKind::Localize),
            PromptKind::Localize.embedded()
        );

        std::fs::write(dir.path().join("localize.md"), "no placeholders").unwrap();
        let err = Prompts::with_overrides(dir.path()).unwrap_err();
        assert!(err.to_string().contains("{{issue}}"), "{err}");
    }
}
