//! `swiss.candidates {job}` → the object `swiss fix --json` prints for the same outcome.

use serde_json::Value;
use tower_lsp_server::jsonrpc::Result;

use crate::lsp::protocol::JobArgs;
use crate::lsp::session::Session;

pub fn run(session: &Session, args: JobArgs) -> Result<Value> {
    let finished = session.job(&args.job)?.finished()?;
    Ok((*finished.report).clone())
}
