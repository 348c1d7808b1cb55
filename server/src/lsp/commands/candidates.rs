//! `swiss.candidates {job}` → the object `swiss fix --json` prints for the same outcome.

use serde_json::Value;
use tower_lsp_server::jsonrpc::Result;

use crate::job::report::FixOutput;
use crate::lsp::protocol::{request_failed, JobArgs};
use crate::lsp::session::Session;

pub fn run(session: &Session, args: JobArgs) -> Result<Value> {
    let finished = session.job(&args.job)?.finished()?;
    serde_json::to_value(FixOutput::finished((*finished.report).clone()))
        .map_err(|e| request_failed(format!("failed to encode the candidates: {e}")))
}
