//! `swiss.fixIssue {issue, files?}` → `{job}`: starts a job and answers at once.

use std::sync::Arc;

use serde_json::Value;
use tower_lsp_server::jsonrpc::Result;

use crate::lsp::jobs;
use crate::lsp::protocol::{FixIssueArgs, FixIssueResult};
use crate::lsp::session::Session;

pub async fn run(session: &Arc<Session>, args: FixIssueArgs) -> Result<Value> {
    let job = jobs::start(session, args.issue, args.files).await?;
    Ok(serde_json::to_value(FixIssueResult { job }).unwrap_or_default())
}
