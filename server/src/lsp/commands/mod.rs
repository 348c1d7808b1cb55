//! One file per `swiss.*` command (docs/lsp.md). Each returns the JSON result the command
//! documents.

pub mod apply_candidate;
pub mod cancel;
pub mod candidate_text;
pub mod candidates;
pub mod dismiss;
pub mod fix_issue;
pub mod show_diff;

use tower_lsp_server::jsonrpc::Error;

use super::protocol::request_failed;
use crate::job::{CandidateRecord, FixOutcome};

/// The candidate a command names, or the winner when it names none.
fn pick<'a>(
    job: &str,
    outcome: &'a FixOutcome,
    id: Option<u32>,
) -> Result<&'a CandidateRecord, Error> {
    match id {
        Some(id) => outcome.candidate(id).ok_or_else(|| {
            let ids: Vec<String> = outcome
                .candidates
                .iter()
                .map(|c| c.id.to_string())
                .collect();
            request_failed(if ids.is_empty() {
                format!("{job} has no candidate {id}: it found no valid candidate")
            } else {
                format!(
                    "{job} has no candidate {id}; its candidates are {}",
                    ids.join(", ")
                )
            })
        }),
        None => outcome.winner().ok_or_else(|| {
            request_failed(format!(
                "{job} has no winning patch: none of its {} samples gave a valid candidate",
                outcome.samples.len()
            ))
        }),
    }
}
