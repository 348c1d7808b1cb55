//! `workspace/executeCommand`: the commands of docs/lsp.md, the stable API of the editor shims.

use std::sync::Arc;

use serde_json::Value;
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::lsp_types::ExecuteCommandParams;

use crate::lsp::commands;
use crate::lsp::protocol::{
    invalid_params, single_argument, APPLY_CANDIDATE, CANCEL, CANDIDATES, CANDIDATE_TEXT, COMMANDS,
    DISMISS, FIX_ISSUE, SHOW_DIFF,
};
use crate::lsp::session::Session;

const JOB_SHAPE: &str = "{job: string}";
const CANDIDATE_SHAPE: &str = "{job: string, candidate?: number}";
const APPLY_SHAPE: &str = "{job: string, candidate?: number, hunks?: number[]}";
const TEXT_SHAPE: &str = "{job: string, candidate: number, path: string}";

pub async fn handle(session: &Arc<Session>, params: ExecuteCommandParams) -> Result<Option<Value>> {
    let args = params.arguments;
    let result = match params.command.as_str() {
        FIX_ISSUE => {
            let args = single_argument(FIX_ISSUE, args, "{issue: string}")?;
            commands::fix_issue::run(session, args).await?
        }
        CANCEL => commands::cancel::run(session, single_argument(CANCEL, args, JOB_SHAPE)?)?,
        APPLY_CANDIDATE => {
            let args = single_argument(APPLY_CANDIDATE, args, APPLY_SHAPE)?;
            commands::apply_candidate::run(session, args).await?
        }
        CANDIDATES => {
            commands::candidates::run(session, single_argument(CANDIDATES, args, JOB_SHAPE)?)?
        }
        SHOW_DIFF => {
            let args = single_argument(SHOW_DIFF, args, CANDIDATE_SHAPE)?;
            commands::show_diff::run(session, args).await?
        }
        CANDIDATE_TEXT => {
            let args = single_argument(CANDIDATE_TEXT, args, TEXT_SHAPE)?;
            commands::candidate_text::run(session, args)?
        }
        DISMISS => {
            commands::dismiss::run(session, single_argument(DISMISS, args, JOB_SHAPE)?).await?
        }
        other => {
            return Err(invalid_params(format!(
                "unknown command `{other}`; Swiss provides {}",
                COMMANDS.join(", ")
            )))
        }
    };
    Ok(Some(result))
}
