//! `textDocument/hover` on a Swiss diagnostic: on a winner's hunk, every candidate with the
//! numbers that ranked it and the winning change for that spot; on a localized file, where
//! the job stands.

use tower_lsp_server::lsp_types::{Hover, HoverParams};

use crate::lsp::convert::{
    candidates_markdown, diagnostic_covers, diagnostic_data, hunk_at, hunk_markdown,
    markdown_hover, repo_relative, uri_to_path,
};
use crate::lsp::diagnostics;
use crate::lsp::jobs::JobState;
use crate::lsp::session::Session;

pub fn handle(session: &Session, params: HoverParams) -> Option<Hover> {
    let uri = params.text_document_position_params.text_document.uri;
    let position = params.text_document_position_params.position;
    for job in session.jobs_in_order() {
        for diagnostic in diagnostics::of_job(&job, &uri) {
            if !diagnostic_covers(&diagnostic, position) {
                continue;
            }
            let Some(data) = diagnostic_data(&diagnostic) else {
                continue;
            };
            let markdown = match job.state() {
                JobState::Done {
                    outcome, report, ..
                } if data.candidate.is_some() => {
                    let mut markdown = candidates_markdown(&job.id, &report);
                    let path = uri_to_path(&uri).and_then(|p| repo_relative(&job.root, &p));
                    let change = outcome.winner().and_then(|winner| {
                        winner
                            .files
                            .changes
                            .iter()
                            .find(|c| Some(&c.path) == path.as_ref())
                    });
                    if let Some((change, hunk)) =
                        change.and_then(|c| hunk_at(c, position).map(|h| (c, h)))
                    {
                        markdown.push('\n');
                        markdown.push_str(&hunk_markdown(&change.path, &hunk));
                    }
                    markdown
                }
                JobState::Running { stage } => format!(
                    "**Swiss {}** ({}): {} this file for “{}”.",
                    job.id,
                    stage.map_or("starting", |s| s.label()),
                    if job.files.is_empty() {
                        "the model localized"
                    } else {
                        "you gave"
                    },
                    job.issue.title
                ),
                _ => continue,
            };
            return Some(markdown_hover(markdown, diagnostic.range));
        }
    }
    None
}
