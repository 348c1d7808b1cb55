//! `swiss.showDiff {job, candidate?}` → `{uri}`: the candidate's patch as a `.diff` file under
//! the OS temp dir, opened in the editor where it supports `window/showDocument`.

use serde_json::Value;
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::lsp_types::ShowDocumentParams;

use super::pick;
use crate::lsp::convert::path_to_uri;
use crate::lsp::protocol::{request_failed, CandidateArgs, ShowDiffResult};
use crate::lsp::session::Session;

pub async fn run(session: &Session, args: CandidateArgs) -> Result<Value> {
    let job = session.job(&args.job)?;
    let finished = job.finished()?;
    let candidate = pick(&job.id, &finished.outcome, args.candidate)?;
    let write_failed = |e: std::io::Error| request_failed(format!("failed to write the diff: {e}"));
    let path = session
        .diff_dir()
        .map_err(write_failed)?
        .join(format!("{}-candidate-{}.diff", job.id, candidate.id));
    std::fs::write(&path, &candidate.patch).map_err(write_failed)?;
    let uri = path_to_uri(&path)
        .ok_or_else(|| request_failed(format!("failed to name {} as a URI", path.display())))?;
    if session.support().show_document {
        let shown = session
            .client
            .show_document(ShowDocumentParams {
                uri: uri.clone(),
                external: Some(false),
                take_focus: Some(true),
                selection: None,
            })
            .await;
        if let Err(e) = shown {
            tracing::warn!(error = %e.message, "window/showDocument failed");
        }
    }
    Ok(serde_json::to_value(ShowDiffResult {
        uri: uri.as_str().to_owned(),
    })
    .unwrap_or_default())
}
