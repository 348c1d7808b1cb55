//! `textDocument/codeAction`: "Fix issue…" everywhere, "Fix issue #123" on a line that mentions
//! one, and for each job what can be done with it now (cancel, apply, show a diff, dismiss).
//! Actions tied to a Swiss diagnostic in the request are quick fixes; the rest are source
//! actions.

use serde_json::json;
use tower_lsp_server::lsp_types::{
    CodeActionKind, CodeActionOrCommand, CodeActionParams, CodeActionResponse, Diagnostic,
};

use crate::job::report::CandidateReport;
use crate::lsp::convert::{command_action, diagnostic_data, kind_wanted, range_lines};
use crate::lsp::issue_refs;
use crate::lsp::jobs::{Job, JobState};
use crate::lsp::protocol::{APPLY_CANDIDATE, CANCEL, DISMISS, FIX_ISSUE, SHOW_DIFF};
use crate::lsp::session::Session;

/// Candidates besides the winner offered as actions; `swiss.candidates` lists them all.
const MORE_CANDIDATES: usize = 4;
/// Lines of a selection searched for issue references.
const MAX_LINES: u32 = 50;

pub fn handle(session: &Session, params: CodeActionParams) -> Option<CodeActionResponse> {
    let swiss_diagnostics: Vec<Diagnostic> = params
        .context
        .diagnostics
        .iter()
        .filter(|d| diagnostic_data(d).is_some())
        .cloned()
        .collect();
    let jobs = session.jobs_in_order();
    let several = jobs.len() > 1;
    let mut actions = Vec::new();
    for job in &jobs {
        let related: Vec<Diagnostic> = swiss_diagnostics
            .iter()
            .filter(|d| diagnostic_data(d).is_some_and(|data| data.job == job.id))
            .cloned()
            .collect();
        job_actions(job, related, several, &mut actions);
    }

    if let Some(doc) = session.documents.get(&params.text_document.uri) {
        let lines = range_lines(&params.range, MAX_LINES);
        let mut seen = Vec::new();
        for line in doc
            .text
            .lines()
            .skip(*lines.start() as usize)
            .take(lines.count())
        {
            for reference in issue_refs::find(line) {
                if !seen.contains(&reference) {
                    seen.push(reference);
                }
            }
        }
        for reference in seen {
            actions.push(command_action(
                format!("Fix issue {reference}"),
                CodeActionKind::SOURCE,
                FIX_ISSUE,
                Some(json!({ "issue": reference })),
                Vec::new(),
                false,
            ));
        }
    }
    // Without arguments: the editor shim asks the user for the issue (docs/lsp.md).
    actions.push(command_action(
        "Fix issue…".to_owned(),
        CodeActionKind::SOURCE,
        FIX_ISSUE,
        None,
        Vec::new(),
        false,
    ));

    let only = params.context.only.as_deref();
    actions.retain(|action| match action {
        CodeActionOrCommand::CodeAction(action) => action
            .kind
            .as_ref()
            .is_none_or(|kind| kind_wanted(only, kind)),
        CodeActionOrCommand::Command(_) => only.is_none(),
    });
    Some(actions)
}

fn job_actions(
    job: &Job,
    related: Vec<Diagnostic>,
    several: bool,
    out: &mut Vec<CodeActionOrCommand>,
) {
    let mut actions = JobActions {
        kind: if related.is_empty() {
            CodeActionKind::SOURCE
        } else {
            CodeActionKind::QUICKFIX
        },
        suffix: if several {
            format!(" [{}]", job.id)
        } else {
            String::new()
        },
        related,
        out,
    };
    match job.state() {
        JobState::Running { .. } => actions.push(
            format!("Cancel Swiss job (“{}”)", job.issue.title),
            CANCEL,
            json!({ "job": job.id }),
            false,
        ),
        JobState::Done {
            report,
            applied: None,
            ..
        } => {
            actions.candidates(job, &report.candidates);
            actions.hunks(job);
            actions.dismiss(job);
        }
        JobState::Done { .. } | JobState::Failed(_) | JobState::Cancelled => actions.dismiss(job),
    }
}

/// One job's actions, each with the job's kind, diagnostics and title suffix.
struct JobActions<'a> {
    kind: CodeActionKind,
    suffix: String,
    related: Vec<Diagnostic>,
    out: &'a mut Vec<CodeActionOrCommand>,
}

impl JobActions<'_> {
    fn push(&mut self, title: String, command: &str, argument: serde_json::Value, preferred: bool) {
        self.out.push(command_action(
            format!("{title}{}", self.suffix),
            self.kind.clone(),
            command,
            Some(argument),
            self.related.clone(),
            preferred,
        ));
    }

    /// The winner first (preferred), then a few more candidates that passed the filters.
    fn candidates(&mut self, job: &Job, candidates: &[CandidateReport]) {
        if let Some(winner) = candidates.iter().find(|c| c.selected) {
            self.push(
                format!("Apply winning patch (score {:.2})", winner.score),
                APPLY_CANDIDATE,
                json!({ "job": job.id }),
                true,
            );
            self.push(
                format!("Show candidate diff ({}, the winner)", winner.id),
                SHOW_DIFF,
                json!({ "job": job.id, "candidate": winner.id }),
                false,
            );
        }
        for c in candidates
            .iter()
            .filter(|c| !c.selected && !c.filtered_out)
            .take(MORE_CANDIDATES)
        {
            self.push(
                format!("Apply candidate {} (score {:.2})", c.id, c.score),
                APPLY_CANDIDATE,
                json!({ "job": job.id, "candidate": c.id }),
                false,
            );
            self.push(
                format!("Show candidate diff ({})", c.id),
                SHOW_DIFF,
                json!({ "job": job.id, "candidate": c.id }),
                false,
            );
        }
    }

    /// One action per winner hunk among the request's diagnostics: that hunk alone.
    fn hunks(&mut self, job: &Job) {
        let hunks: Vec<(u32, usize)> = self
            .related
            .iter()
            .filter_map(diagnostic_data)
            .filter_map(|data| Some((data.candidate?, data.hunk?)))
            .collect();
        for (candidate, hunk) in hunks {
            self.push(
                format!("Apply only this hunk (hunk {hunk} of candidate {candidate})"),
                APPLY_CANDIDATE,
                json!({ "job": job.id, "candidate": candidate, "hunks": [hunk] }),
                false,
            );
        }
    }

    fn dismiss(&mut self, job: &Job) {
        self.push(
            format!("Dismiss Swiss job (“{}”)", job.issue.title),
            DISMISS,
            json!({ "job": job.id }),
            false,
        );
    }
}
