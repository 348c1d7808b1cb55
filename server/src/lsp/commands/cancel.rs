//! `swiss.cancel {job}`: stops sampling (and, with verification, sandbox runs) of a running job.

use serde_json::Value;
use tower_lsp_server::jsonrpc::Result;

use crate::lsp::jobs;
use crate::lsp::protocol::JobArgs;
use crate::lsp::session::Session;

pub fn run(session: &Session, args: JobArgs) -> Result<Value> {
    jobs::cancel(&*session.job(&args.job)?)?;
    Ok(Value::Null)
}
