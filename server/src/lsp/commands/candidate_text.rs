//! `swiss.candidateText {job, candidate, path}` → `{path, text, original, changed}`: one file as
//! a candidate leaves it, so that editors show and compare candidates as whole files without
//! applying patches themselves.

use serde_json::Value;
use tower_lsp_server::jsonrpc::Result;

use super::pick;
use crate::lsp::protocol::{request_failed, CandidateTextArgs, CandidateTextResult};
use crate::lsp::session::Session;

pub fn run(session: &Session, args: CandidateTextArgs) -> Result<Value> {
    let job = session.job(&args.job)?;
    let finished = job.finished()?;
    let outcome = &finished.outcome;
    let candidate = pick(&job.id, outcome, Some(args.candidate))?;
    let path = args.path.trim_start_matches("./");
    let result = match candidate.files.changes.iter().find(|c| c.path == path) {
        Some(change) => CandidateTextResult {
            path: change.path.clone(),
            text: Some(change.after.clone()),
            original: change.before.as_deref().map(str::to_owned),
            changed: true,
        },
        // A file another candidate of the job changes: this one leaves it as the job read it,
        // which every candidate's change of that file starts from.
        None => {
            let read = outcome
                .candidates
                .iter()
                .flat_map(|c| &c.files.changes)
                .find(|c| c.path == path)
                .ok_or_else(|| {
                    request_failed(format!(
                        "failed to read {path} as candidate {} of {} leaves it: no candidate of {} changes {path}; ask for one of the files candidate {} changes: {}",
                        candidate.id,
                        job.id,
                        job.id,
                        candidate.id,
                        changed_paths(candidate)
                    ))
                })?;
            let original = read.before.as_deref().map(str::to_owned);
            CandidateTextResult {
                path: read.path.clone(),
                text: original.clone(),
                original,
                changed: false,
            }
        }
    };
    serde_json::to_value(result)
        .map_err(|e| request_failed(format!("failed to encode the candidate's text: {e}")))
}

fn changed_paths(candidate: &crate::job::CandidateRecord) -> String {
    let paths: Vec<&str> = candidate
        .files
        .changes
        .iter()
        .map(|c| c.path.as_str())
        .collect();
    paths.join(", ")
}
