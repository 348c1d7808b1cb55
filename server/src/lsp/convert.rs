//! Every translation between the engine's plain data and LSP types lives here, so that handlers
//! stay "convert in, one engine call, convert out" and the engine never sees a protocol type.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use serde_json::Value;
use tower_lsp_server::lsp_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, CodeDescription, Command, CreateFile,
    CreateFileOptions, Diagnostic, DiagnosticRelatedInformation, DiagnosticSeverity,
    DocumentChangeOperation, DocumentChanges, Hover, HoverContents, Location, MarkupContent,
    MarkupKind, NumberOrString, OneOf, OptionalVersionedTextDocumentIdentifier, Position,
    ProgressToken, Range, ResourceOp, TextDocumentEdit, TextEdit, Uri, WorkspaceEdit,
};
use tower_lsp_server::UriExt;

use super::protocol::{DiagnosticData, CODE_LOCALIZED, CODE_WINNER, DIAGNOSTIC_SOURCE};
use crate::engine::apply::FileChange;
use crate::engine::hunks::{file_hunks, Hunk};
use crate::engine::issue::Issue;
use crate::job::confidence::Confidence;
use crate::job::report::FixReport;
use crate::job::{JobEvent, Stage};
use crate::sandbox::docker_hosts::load_line;

// ---------------------------------------------------------------------------------------------
// Positions. LSP counts characters in UTF-16 code units unless another encoding is negotiated;
// we never negotiate one, so UTF-16 it is.

/// Byte offsets of line starts, to turn offsets into positions and back.
pub struct LineIndex {
    starts: Vec<usize>,
    len: usize,
}

impl LineIndex {
    pub fn new(text: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(at, _)| at + 1));
        LineIndex {
            starts,
            len: text.len(),
        }
    }

    /// The byte offset of `position` in `text` (the text this index was built from). A position
    /// past the end of a line means the end of that line, and past the last line the end of the
    /// text, as the protocol asks.
    pub fn offset(&self, text: &str, position: Position) -> usize {
        let Some(&start) = self.starts.get(position.line as usize) else {
            return self.len;
        };
        let end = self
            .starts
            .get((position.line as usize).saturating_add(1))
            .copied()
            .unwrap_or(self.len);
        let line = &text[start..end];
        let line = line.strip_suffix('\n').unwrap_or(line);
        let line = line.strip_suffix('\r').unwrap_or(line);
        let mut units = 0u32;
        for (at, ch) in line.char_indices() {
            if units >= position.character {
                return start + at;
            }
            units += ch.len_utf16() as u32;
        }
        start + line.len()
    }

    pub fn position(&self, text: &str, offset: usize) -> Position {
        let offset = offset.min(self.len);
        let line = self.starts.partition_point(|&s| s <= offset) - 1;
        let start = self.starts[line];
        let character = text[start..offset].encode_utf16().count() as u32;
        Position::new(line as u32, character)
    }

    pub fn line_start(&self, line: usize) -> usize {
        self.starts.get(line).copied().unwrap_or(self.len)
    }
}

/// The lines a client's range covers, at most `limit` after the first. Ranges come from the
/// client as they are: reversed, or out at `u32::MAX`, they still give lines and never an
/// overflow.
pub fn range_lines(range: &Range, limit: u32) -> std::ops::RangeInclusive<u32> {
    let first = range.start.line.min(range.end.line);
    let last = range.start.line.max(range.end.line);
    first..=last.min(first.saturating_add(limit))
}

fn contains(range: &Range, position: Position) -> bool {
    (range.start.line, range.start.character) <= (position.line, position.character)
        && (position.line, position.character) <= (range.end.line, range.end.character)
}

// ---------------------------------------------------------------------------------------------
// Paths and URIs.

pub fn uri_to_path(uri: &Uri) -> Option<PathBuf> {
    if uri.scheme().map(|s| s.as_str()) != Some("file") {
        return None;
    }
    uri.to_file_path().map(|p| p.into_owned())
}

pub fn path_to_uri(path: &Path) -> Option<Uri> {
    Uri::from_file_path(path)
}

/// `path` relative to the repository `root` with `/` separators, or `None` when it lies
/// outside. Editors and git may spell the same folder differently (symlinked temp dirs), so a
/// plain prefix test is tried first and canonical paths second.
pub fn repo_relative(root: &Path, path: &Path) -> Option<String> {
    let direct = path.strip_prefix(root).ok().map(Path::to_path_buf);
    let relative = direct.or_else(|| {
        let root = std::fs::canonicalize(root).ok()?;
        let path = match std::fs::canonicalize(path) {
            Ok(path) => path,
            Err(_) => std::fs::canonicalize(path.parent()?)
                .ok()?
                .join(path.file_name()?),
        };
        path.strip_prefix(&root).ok().map(Path::to_path_buf)
    })?;
    let mut parts = Vec::new();
    for component in relative.components() {
        match component {
            Component::Normal(part) => parts.push(part.to_str()?),
            Component::CurDir => {}
            _ => return None,
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

pub fn file_uri(root: &Path, relative: &str) -> Option<Uri> {
    path_to_uri(&root.join(relative))
}

// ---------------------------------------------------------------------------------------------
// Hunks (the engine cuts them: crate::engine::hunks) as ranges of the text before the patch.

/// The range a hunk's diagnostic covers: its old lines, or for an insertion the line it goes
/// before (the last line when it goes at the end), so there is always something to hover.
pub fn hunk_range(before: &str, hunk: &Hunk) -> Range {
    let index = LineIndex::new(before);
    if !hunk.old.is_empty() {
        let start = index.position(before, hunk.old.start);
        let mut end = index.position(before, hunk.old.end);
        if end.character == 0 && end.line > start.line {
            // End on the last changed line rather than at the start of the next one, so a hover
            // on the following line does not count.
            let last_line_end = hunk.old.end - 1;
            end = index.position(before, last_line_end);
        }
        return Range::new(start, end);
    }
    let at = index.position(before, hunk.old.start);
    let line = if hunk.old.start >= before.len() && at.character == 0 {
        at.line.saturating_sub(1)
    } else {
        at.line
    };
    let start = index.line_start(line as usize);
    let next = index.line_start(line as usize + 1);
    let end = if next > start && before[..next].ends_with('\n') {
        next - 1
    } else {
        next
    };
    Range::new(Position::new(line, 0), index.position(before, end))
}

// ---------------------------------------------------------------------------------------------
// Workspace edits.

/// How the client takes workspace edits (from its capabilities).
#[derive(Debug, Clone, Copy, Default)]
pub struct EditSupport {
    pub document_changes: bool,
    pub create_files: bool,
}

/// One file of a patch with where it goes: its URI and, for a buffer the job saw open, the
/// version the job saw.
pub struct EditTarget<'a> {
    pub change: &'a FileChange,
    pub uri: Uri,
    pub version: Option<i32>,
}

pub fn workspace_edit(
    targets: &[EditTarget<'_>],
    support: EditSupport,
) -> Result<WorkspaceEdit, String> {
    if let Some(created) = targets.iter().find(|t| t.change.before.is_none()) {
        if !(support.document_changes && support.create_files) {
            return Err(format!(
                "the patch creates {}, and this editor cannot create files through a workspace edit",
                created.change.path
            ));
        }
    }
    let edits_of = |target: &EditTarget<'_>| -> Vec<TextEdit> {
        let before = target.change.before.as_deref().unwrap_or("");
        let index = LineIndex::new(before);
        file_hunks(target.change)
            .into_iter()
            .map(|h| {
                TextEdit::new(
                    Range::new(
                        index.position(before, h.old.start),
                        index.position(before, h.old.end),
                    ),
                    h.new_text,
                )
            })
            .collect()
    };
    if !support.document_changes {
        let changes: HashMap<Uri, Vec<TextEdit>> = targets
            .iter()
            .map(|t| (t.uri.clone(), edits_of(t)))
            .collect();
        return Ok(WorkspaceEdit {
            changes: Some(changes),
            ..WorkspaceEdit::default()
        });
    }
    let mut operations = Vec::new();
    for target in targets {
        let created = target.change.before.is_none();
        if created {
            operations.push(DocumentChangeOperation::Op(ResourceOp::Create(
                CreateFile {
                    uri: target.uri.clone(),
                    options: Some(CreateFileOptions {
                        overwrite: Some(false),
                        ignore_if_exists: Some(false),
                    }),
                    annotation_id: None,
                },
            )));
        }
        operations.push(DocumentChangeOperation::Edit(TextDocumentEdit {
            text_document: OptionalVersionedTextDocumentIdentifier {
                uri: target.uri.clone(),
                version: if created { None } else { target.version },
            },
            edits: edits_of(target).into_iter().map(OneOf::Left).collect(),
        }));
    }
    Ok(WorkspaceEdit {
        document_changes: Some(DocumentChanges::Operations(operations)),
        ..WorkspaceEdit::default()
    })
}

// ---------------------------------------------------------------------------------------------
// Diagnostics.

/// Where the issue came from, for the link each diagnostic carries back to it.
#[derive(Debug, Clone)]
pub struct IssueLink {
    pub title: String,
    pub url: Option<Uri>,
    pub file: Option<Uri>,
}

impl IssueLink {
    pub fn new(issue: &Issue, file: Option<&Path>) -> IssueLink {
        IssueLink {
            title: issue.title.clone(),
            url: issue.url.as_deref().and_then(|u| u.parse().ok()),
            file: file.and_then(path_to_uri),
        }
    }
}

fn swiss_diagnostic(
    range: Range,
    code: &str,
    message: String,
    link: &IssueLink,
    data: DiagnosticData,
) -> Diagnostic {
    let related = link.url.clone().or_else(|| link.file.clone()).map(|uri| {
        vec![DiagnosticRelatedInformation {
            location: Location::new(uri, Range::default()),
            message: format!("issue: {}", link.title),
        }]
    });
    Diagnostic {
        range,
        severity: Some(DiagnosticSeverity::INFORMATION),
        code: Some(NumberOrString::String(code.to_owned())),
        code_description: link.url.clone().map(|href| CodeDescription { href }),
        source: Some(DIAGNOSTIC_SOURCE.to_owned()),
        message,
        related_information: related,
        tags: None,
        data: serde_json::to_value(data).ok(),
    }
}

/// One diagnostic on the first line of a file the model localized.
pub fn localized_diagnostic(
    job: &str,
    link: &IssueLink,
    rank: usize,
    total: usize,
    given: bool,
) -> Diagnostic {
    let how = if given {
        "given (localization skipped)"
    } else {
        "localized"
    };
    swiss_diagnostic(
        Range::new(Position::new(0, 0), Position::new(0, 0)),
        CODE_LOCALIZED,
        format!(
            "Swiss {job}: file {rank} of {total} {how} for “{}”; candidate patches are being sampled",
            link.title
        ),
        link,
        DiagnosticData {
            job: job.to_owned(),
            candidate: None,
            hunk: None,
        },
    )
}

/// One diagnostic per hunk of the winning patch in `change`; `first_hunk` is the number of its
/// first hunk among the candidate's (crate::engine::hunks), which `data.hunk` carries.
/// What every hunk diagnostic of a job's winner says about it.
pub struct WinnerLabel<'a> {
    pub job: &'a str,
    pub link: &'a IssueLink,
    pub candidate: u32,
    pub score: f64,
    pub votes: usize,
    pub confidence: Option<&'a Confidence>,
}

pub fn winner_diagnostics(
    label: &WinnerLabel<'_>,
    change: &FileChange,
    first_hunk: usize,
) -> Vec<Diagnostic> {
    let WinnerLabel {
        job,
        link,
        candidate,
        score,
        votes,
        confidence,
    } = *label;
    let confidence = confidence
        .map(|c| format!("; {}", c.short()))
        .unwrap_or_default();
    let before = change.before.as_deref().unwrap_or("");
    file_hunks(change)
        .iter()
        .enumerate()
        .map(|(i, hunk)| {
            swiss_diagnostic(
                hunk_range(before, hunk),
                CODE_WINNER,
                format!(
                    "Swiss {job}: the winning patch (candidate {candidate}, {votes} vote(s), score {score:.2}{confidence}) changes this for “{}”; hover for every candidate",
                    link.title
                ),
                link,
                DiagnosticData {
                    job: job.to_owned(),
                    candidate: Some(candidate),
                    hunk: Some(first_hunk + i),
                },
            )
        })
        .collect()
}

/// The Swiss data of a diagnostic, when it is one of ours.
pub fn diagnostic_data(diagnostic: &Diagnostic) -> Option<DiagnosticData> {
    if diagnostic.source.as_deref() != Some(DIAGNOSTIC_SOURCE) {
        return None;
    }
    serde_json::from_value(diagnostic.data.clone()?).ok()
}

pub fn diagnostic_covers(diagnostic: &Diagnostic, position: Position) -> bool {
    contains(&diagnostic.range, position)
}

/// The hunk of `change` whose diagnostic covers `position`.
pub fn hunk_at(change: &FileChange, position: Position) -> Option<Hunk> {
    let before = change.before.as_deref().unwrap_or("");
    file_hunks(change)
        .into_iter()
        .find(|hunk| contains(&hunk_range(before, hunk), position))
}

// ---------------------------------------------------------------------------------------------
// Code actions.

pub fn command_action(
    title: String,
    kind: CodeActionKind,
    command: &str,
    argument: Option<Value>,
    diagnostics: Vec<Diagnostic>,
    preferred: bool,
) -> CodeActionOrCommand {
    CodeActionOrCommand::CodeAction(CodeAction {
        command: Some(Command {
            title: title.clone(),
            command: command.to_owned(),
            arguments: argument.map(|a| vec![a]),
        }),
        title,
        kind: Some(kind),
        diagnostics: (!diagnostics.is_empty()).then_some(diagnostics),
        is_preferred: preferred.then_some(true),
        ..CodeAction::default()
    })
}

/// Whether an action of `kind` passes the client's `only` filter (kinds are hierarchical:
/// `source` admits `source.fixAll`).
pub fn kind_wanted(only: Option<&[CodeActionKind]>, kind: &CodeActionKind) -> bool {
    only.is_none_or(|only| {
        only.iter().any(|wanted| {
            kind.as_str() == wanted.as_str()
                || kind
                    .as_str()
                    .strip_prefix(wanted.as_str())
                    .is_some_and(|rest| rest.starts_with('.'))
        })
    })
}

// ---------------------------------------------------------------------------------------------
// Hover.

pub fn markdown_hover(value: String, range: Range) -> Hover {
    Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value,
        }),
        range: Some(range),
    }
}

/// The candidate table, from the same report `swiss.candidates` returns (and `swiss fix --json`
/// prints), so the editor and the command line can never disagree on order or numbers.
pub fn candidates_markdown(job: &str, report: &FixReport) -> String {
    let mut out = format!("**Swiss {job}**: {}\n\n", report.issue.title);
    if let Some(confidence) = &report.confidence {
        for line in confidence.describe() {
            out.push_str(&line);
            out.push_str("\n\n");
        }
    }
    out.push_str(
        "| id | votes | similarity | regression failures | reproduction | score | filtered out | winner |\n|---:|---:|---:|---:|:---|---:|:---:|:---:|\n",
    );
    for c in &report.candidates {
        let regression = match c.regression_failures {
            Some(n) => n.to_string(),
            None => "not run".to_owned(),
        };
        let reproduction = match c.reproduced {
            None => "not run",
            Some(false) => "passes",
            Some(true) => "fails",
        };
        out.push_str(&format!(
            "| {} | {} | {:.4} | {} | {} | {:.4} | {} | {} |\n",
            c.id,
            c.votes,
            c.similarity,
            regression,
            reproduction,
            c.score,
            if c.filtered_out { "yes" } else { "" },
            if c.selected { "★" } else { "" },
        ));
    }
    out.push_str(&why_not_the_others(report));
    let no_baseline = report
        .verification
        .as_ref()
        .and_then(|v| v.baseline.error.as_deref());
    if let Some(error) = no_baseline {
        out.push_str(&format!("\nNo candidate was regression-checked: {error}\n"));
    }
    let excluded = report
        .verification
        .as_ref()
        .map_or(&[][..], |v| &v.excluded_tests[..]);
    if !excluded.is_empty() {
        out.push_str(&format!(
            "\nLeft out of the regression tests (the model expects the fix to change them): {}\n",
            crate::job::regression_test_summary(excluded)
        ));
    }
    out
}

/// Each other candidate's reasons, a list item each; empty when there are none.
fn why_not_the_others(report: &FixReport) -> String {
    let lost: Vec<String> = report
        .candidates
        .iter()
        .filter(|c| !c.reasons.is_empty())
        .map(|c| {
            format!(
                "- candidate {}: {}\n",
                c.id,
                crate::job::reasons::describe_all(&c.reasons)
            )
        })
        .collect();
    if lost.is_empty() {
        return String::new();
    }
    format!("\nWhy not the others:\n\n{}", lost.concat())
}

pub fn hunk_markdown(path: &str, hunk: &Hunk) -> String {
    let mut out = format!("Winning change in `{path}`:\n\n```diff\n");
    for line in hunk.old_text.lines() {
        out.push('-');
        out.push_str(line);
        out.push('\n');
    }
    for line in hunk.new_text.lines() {
        out.push('+');
        out.push_str(line);
        out.push('\n');
    }
    out.push_str("```\n");
    out
}

// ---------------------------------------------------------------------------------------------
// Progress.

pub fn progress_token(job: &str) -> ProgressToken {
    NumberOrString::String(format!("swiss/{job}"))
}

/// Turns job events into `$/progress` reports: a message and a percentage that never goes back
/// (localization is the first tenth, sampling the next eight, selection the last).
#[derive(Debug, Default)]
pub struct ProgressTally {
    percentage: u32,
    valid: usize,
}

impl ProgressTally {
    fn sample_done(
        &mut self,
        stage: Stage,
        done: usize,
        total: usize,
        valid: bool,
    ) -> (String, u32) {
        if stage == Stage::Localize {
            return (
                format!("localizing: {done}/{total} answers"),
                fraction(done, total, 0, 10),
            );
        }
        self.valid += usize::from(valid);
        (
            format!("{}: {done}/{total} ({} valid)", stage.label(), self.valid),
            fraction(done, total, 10, 70),
        )
    }

    pub fn report(&mut self, event: &JobEvent) -> Option<(String, u32)> {
        let (message, percentage) = match event {
            JobEvent::StageStarted { stage, samples } => match stage {
                Stage::Localize => (format!("{} ({samples} samples)", stage.label()), 0),
                Stage::Repair => (format!("{}: 0/{samples}", stage.label()), 10),
                Stage::Select => (format!("{} among {samples} samples", stage.label()), 90),
            },
            JobEvent::SampleDone {
                stage,
                done,
                total,
                valid,
            } => self.sample_done(*stage, *done, *total, *valid),
            JobEvent::Localized { files, given, .. } => {
                let said = if *given { "files given" } else { "localized" };
                (format!("{said}: {}", files.join(", ")), 10)
            }
            JobEvent::CandidateFound { id, .. } => {
                (format!("candidate {id} found"), self.percentage)
            }
            JobEvent::Warning(warning) => (format!("warning: {warning}"), self.percentage),
            JobEvent::Confinement(summary) => (summary.clone(), self.percentage),
            JobEvent::VerificationStarted { sandbox, .. } => (
                format!("verifying in the {sandbox} sandbox"),
                self.percentage,
            ),
            JobEvent::BaselineDone { passed, failed } => (
                format!("baseline: {passed} test(s) pass, {failed} fail"),
                self.percentage,
            ),
            JobEvent::RegressionTestsExcluded { excluded, of, .. } => (
                format!(
                    "regression tests: {} of {of} left out (the fix may change them)",
                    excluded.len()
                ),
                self.percentage,
            ),
            JobEvent::ReproductionChosen {
                reproducing,
                generated,
                ..
            } => (
                format!("reproduction tests: {reproducing} of {generated} reproduce the issue"),
                self.percentage,
            ),
            JobEvent::HostsBusy { hosts, .. } => (
                format!("Docker hosts: {}", load_line(hosts)),
                self.percentage,
            ),
            JobEvent::CandidateVerified {
                id,
                done,
                found,
                regression_failures,
                ..
            } => (
                verified_message(*id, *done, *found, *regression_failures),
                fraction(*done, *found, 70, 90),
            ),
            JobEvent::EarlyStopped {
                winner,
                received,
                requested,
                ..
            } => (
                format!(
                    "candidate {winner} cannot lose: stopping after {received}/{requested} samples"
                ),
                self.percentage.max(70),
            ),
        };
        self.percentage = self.percentage.max(percentage);
        Some((message, self.percentage))
    }
}

/// One candidate's tests, as the progress report says them.
fn verified_message(
    id: u32,
    done: usize,
    found: usize,
    regression_failures: Option<u32>,
) -> String {
    let result = regression_failures.map_or("tests did not run".to_owned(), |n| {
        format!("{n} regression failure(s)")
    });
    format!("verified candidate {id} ({done}/{found}): {result}")
}

fn fraction(done: usize, total: usize, from: u32, to: u32) -> u32 {
    if total == 0 {
        return to;
    }
    from + ((to - from) as usize * done.min(total) / total) as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn positions_count_utf16_units() {
        let text = "aé😀b\nxy\n";
        let index = LineIndex::new(text);
        assert_eq!(index.offset(text, Position::new(0, 4)), "aé😀".len());
        assert_eq!(index.position(text, "aé😀".len()), Position::new(0, 4));
        assert_eq!(index.offset(text, Position::new(1, 99)), text.len() - 1);
        assert_eq!(index.offset(text, Position::new(7, 0)), text.len());
        assert_eq!(index.position(text, text.len()), Position::new(2, 0));
    }

    #[test]
    fn client_ranges_give_lines_in_any_order_and_size() {
        let range = |a: u32, b: u32| Range::new(Position::new(a, 3), Position::new(b, 0));
        assert_eq!(range_lines(&range(2, 4), 50), 2..=4);
        assert_eq!(range_lines(&range(4, 2), 50), 2..=4);
        assert_eq!(range_lines(&range(0, 500), 50), 0..=50);
        assert_eq!(range_lines(&range(u32::MAX, 0), 50), 0..=50);
        assert_eq!(
            range_lines(&range(u32::MAX, u32::MAX - 1), 50),
            u32::MAX - 1..=u32::MAX
        );
    }

    #[test]
    fn a_hunk_diagnostic_covers_its_lines_and_an_insertion_the_line_before() {
        let before = "a\nb\nc\nd\n";
        let hunks = file_hunks(&FileChange {
            path: "m.py".into(),
            before: Some(Arc::from(before)),
            after: "a\nB\nc\nd\ne\n".into(),
        });
        assert_eq!(hunks.len(), 2);
        assert_eq!(hunks[1].old, before.len()..before.len());
        assert_eq!(
            hunk_range(before, &hunks[0]),
            Range::new(Position::new(1, 0), Position::new(1, 1))
        );
        assert_eq!(
            hunk_range(before, &hunks[1]),
            Range::new(Position::new(3, 0), Position::new(3, 1))
        );
    }

    #[test]
    fn edits_rebuild_the_patched_text() {
        let before = "def f():\n    return 1 // 2\n\nx = 1\n";
        let after = "def f():\n    return 1 / 2\n\nx = 2\ny = 3\n";
        let change = FileChange {
            path: "f.py".into(),
            before: Some(Arc::from(before)),
            after: after.into(),
        };
        let uri: Uri = "file:///r/f.py".parse().unwrap();
        let edit = workspace_edit(
            &[EditTarget {
                change: &change,
                uri: uri.clone(),
                version: Some(3),
            }],
            EditSupport::default(),
        )
        .unwrap();
        let mut edits = edit.changes.unwrap().remove(&uri).unwrap();
        edits.sort_by_key(|e| std::cmp::Reverse((e.range.start.line, e.range.start.character)));
        let mut text = before.to_owned();
        for e in edits {
            let index = LineIndex::new(&text);
            let range = index.offset(&text, e.range.start)..index.offset(&text, e.range.end);
            text.replace_range(range, &e.new_text);
        }
        assert_eq!(text, after);
    }

    #[test]
    fn creating_a_file_needs_resource_operations() {
        let change = FileChange {
            path: "new.py".into(),
            before: None,
            after: "x = 1\n".into(),
        };
        let target = EditTarget {
            change: &change,
            uri: "file:///r/new.py".parse().unwrap(),
            version: None,
        };
        let err =
            workspace_edit(std::slice::from_ref(&target), EditSupport::default()).unwrap_err();
        assert!(err.contains("creates new.py"), "{err}");
        let edit = workspace_edit(
            &[target],
            EditSupport {
                document_changes: true,
                create_files: true,
            },
        )
        .unwrap();
        let Some(DocumentChanges::Operations(ops)) = edit.document_changes else {
            panic!("expected operations");
        };
        assert!(matches!(
            ops[0],
            DocumentChangeOperation::Op(ResourceOp::Create(_))
        ));
    }

    #[test]
    fn progress_never_goes_back() {
        let mut tally = ProgressTally::default();
        let events = [
            JobEvent::StageStarted {
                stage: Stage::Localize,
                samples: 2,
            },
            JobEvent::SampleDone {
                stage: Stage::Localize,
                done: 2,
                total: 2,
                valid: true,
            },
            JobEvent::StageStarted {
                stage: Stage::Repair,
                samples: 4,
            },
            JobEvent::SampleDone {
                stage: Stage::Repair,
                done: 2,
                total: 4,
                valid: true,
            },
            JobEvent::CandidateFound { id: 1 },
            JobEvent::StageStarted {
                stage: Stage::Select,
                samples: 4,
            },
        ];
        let percentages: Vec<u32> = events
            .iter()
            .filter_map(|e| tally.report(e))
            .map(|(_, p)| p)
            .collect();
        assert_eq!(percentages, [0, 10, 10, 40, 40, 90]);
    }

    #[test]
    fn an_early_stop_ends_the_sampling_part_of_the_progress() {
        let mut tally = ProgressTally::default();
        let sampled = JobEvent::SampleDone {
            stage: Stage::Repair,
            done: 19,
            total: 30,
            valid: true,
        };
        assert_eq!(tally.report(&sampled).map(|(_, p)| p), Some(48));
        let stopped = JobEvent::EarlyStopped {
            winner: 1,
            votes: 16,
            runner_up_votes: 3,
            received: 19,
            requested: 30,
        };
        assert_eq!(
            tally.report(&stopped),
            Some((
                "candidate 1 cannot lose: stopping after 19/30 samples".to_owned(),
                70
            ))
        );
    }

    #[test]
    fn the_hover_says_when_no_candidate_was_regression_checked_and_which_tests_were_left_out() {
        let mut report: FixReport = serde_json::from_value(serde_json::json!({
            "issue": {"title": "t", "body": "", "url": null},
            "localized_files": [],
            "candidates": [{"id": 1, "patch": "", "key": "k", "sample_indices": [0], "votes": 2,
                            "similarity": 1.0, "score": 3.0, "regression_failures": null,
                            "reproduced": null, "filtered_out": false, "selected": true}],
            "winner": 1,
            "winner_patch": "",
            "samples": {"total": 1, "valid": 1, "invalid_reasons": {}},
            "verification": {
                "sandbox": "local", "image": null, "test_command": "python3 -m pytest",
                "baseline": {"exit_code": 1, "timed_out": false, "passed": 0, "failed": 0,
                             "duration": 0.1, "output_truncated": false, "output_tail": "",
                             "error": "the baseline test run did not run any test: x"},
                "reproduction": {"generated": 0, "baseline_verdicts": [], "chosen_index": null,
                                 "chosen_script": null, "note": null},
                "candidates": {},
                "seconds": 0.2,
            },
            "usage": {"prompt_tokens": 0, "completion_tokens": 0},
        }))
        .unwrap();
        let markdown = candidates_markdown("job-1", &report);
        assert!(
            markdown.contains("| 1 | 2 | 1.0000 | not run |"),
            "{markdown}"
        );
        assert!(
            markdown.ends_with(
                "\nNo candidate was regression-checked: the baseline test run did not run any test: x\n"
            ),
            "{markdown}"
        );
        if let Some(verification) = report.verification.as_mut() {
            verification.baseline.error = None;
        }
        assert!(!candidates_markdown("job-1", &report).contains("regression-checked"));
        assert!(!candidates_markdown("job-1", &report).contains("Left out"));

        let verification = report.verification.as_mut().unwrap();
        verification.excluded_tests = (1..=5).map(|i| format!("tests/t.py::test_{i}")).collect();
        let markdown = candidates_markdown("job-1", &report);
        assert!(
            markdown.ends_with(
                "|\n\nLeft out of the regression tests (the model expects the fix to change them): tests/t.py::test_1, tests/t.py::test_2, tests/t.py::test_3 and 2 more\n"
            ),
            "{markdown}"
        );
    }
}
