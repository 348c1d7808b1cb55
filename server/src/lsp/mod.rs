//! `swiss lsp`: the language server (DESIGN 4). It speaks LSP over stdio and runs the engine as
//! background jobs; the engine knows nothing of this layer.
//!
//! Layout, ruff_server style: `handlers/` has one file per LSP method and `commands/` one per
//! `swiss.*` command, each thin; `convert` holds every translation between engine data and LSP
//! types; `protocol` is Swiss's custom surface, documented in docs/lsp.md.

// `Uri` keys every map here, as in every LSP server. fluent-uri's `Uri` has a `Cell` inside, but
// its `Hash` and `Eq` read only the string, so the keys cannot change under the map.
#![allow(clippy::mutable_key_type)]

mod apply;
mod capabilities;
mod commands;
mod config;
mod convert;
mod diagnostics;
mod documents;
mod handlers;
mod issue_refs;
mod job_task;
mod jobs;
mod kept_jobs;
mod progress;
mod protocol;
mod server;
mod session;

use std::process::ExitCode;

use tokio::io::{AsyncRead, AsyncWrite};
use tower_lsp_server::{LspService, Server};

use server::SwissServer;

/// Serves one client over `input`/`output` until it exits: stdio for `swiss lsp`, an in-memory
/// pipe in tests.
pub async fn serve<I, O>(input: I, output: O)
where
    I: AsyncRead + Unpin,
    O: AsyncWrite,
{
    let (service, socket) = LspService::build(SwissServer::new)
        .custom_method(
            protocol::WORK_DONE_PROGRESS_CANCEL,
            SwissServer::work_done_progress_cancel,
        )
        .finish();
    Server::new(input, output, socket).serve(service).await;
}

/// `swiss lsp`: blocks until the client sends `exit` or closes stdin.
pub fn run() -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            tracing::error!(error = %e, "failed to start the async runtime");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(version = env!("CARGO_PKG_VERSION"), "swiss lsp starting");
    runtime.block_on(serve(tokio::io::stdin(), tokio::io::stdout()));
    // Job tasks still winding down must not keep the process alive after `exit`.
    runtime.shutdown_timeout(std::time::Duration::from_millis(500));
    ExitCode::SUCCESS
}
