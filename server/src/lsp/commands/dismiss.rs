//! `swiss.dismiss {job}`: forgets a job, cancelling it if it runs, and clears its diagnostics.

use serde_json::Value;
use tower_lsp_server::jsonrpc::Result;

use crate::lsp::diagnostics;
use crate::lsp::protocol::JobArgs;
use crate::lsp::session::Session;

pub async fn run(session: &Session, args: JobArgs) -> Result<Value> {
    let job = session.job(&args.job)?;
    job.cancel.cancel(crate::job::CancelReason::Dismiss);
    session.remove_job(&job.id);
    diagnostics::clear(session, &job).await;
    Ok(Value::Null)
}
