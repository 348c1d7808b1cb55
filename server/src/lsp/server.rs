//! The `LanguageServer` implementation: a span per request, then the method's handler.

use std::sync::Arc;

use serde_json::Value;
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::lsp_types::{
    CodeActionParams, CodeActionResponse, DidChangeConfigurationParams,
    DidChangeTextDocumentParams, DidCloseTextDocumentParams, DidOpenTextDocumentParams,
    ExecuteCommandParams, Hover, HoverParams, InitializeParams, InitializeResult,
    InitializedParams, WorkDoneProgressCancelParams,
};
use tower_lsp_server::{Client, LanguageServer};
use tracing::Instrument;

use super::handlers;
use super::session::Session;

pub struct SwissServer {
    session: Arc<Session>,
}

impl SwissServer {
    pub fn new(client: Client) -> SwissServer {
        SwissServer {
            session: Arc::new(Session::new(client)),
        }
    }

    /// Registered as a custom method: tower-lsp-server does not route this notification.
    pub async fn work_done_progress_cancel(&self, params: WorkDoneProgressCancelParams) {
        let _span = tracing::info_span!("notification", method = "window/workDoneProgress/cancel")
            .entered();
        handlers::work_done_progress_cancel::handle(&self.session, params);
    }
}

impl LanguageServer for SwissServer {
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        let _span = tracing::info_span!("request", method = "initialize").entered();
        Ok(handlers::initialize::handle(&self.session, params))
    }

    async fn initialized(&self, _: InitializedParams) {
        handlers::initialized::handle(&self.session)
            .instrument(tracing::info_span!("notification", method = "initialized"))
            .await;
    }

    async fn shutdown(&self) -> Result<()> {
        let _span = tracing::info_span!("request", method = "shutdown").entered();
        for job in self.session.jobs_in_order() {
            job.cancel.cancel(crate::job::CancelReason::Shutdown);
        }
        Ok(())
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        let _span = tracing::info_span!("notification", method = "textDocument/didOpen").entered();
        handlers::did_open::handle(&self.session, params);
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        let _span =
            tracing::info_span!("notification", method = "textDocument/didChange").entered();
        handlers::did_change::handle(&self.session, params);
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        let _span = tracing::info_span!("notification", method = "textDocument/didClose").entered();
        handlers::did_close::handle(&self.session, params);
    }

    async fn did_change_configuration(&self, params: DidChangeConfigurationParams) {
        handlers::did_change_configuration::handle(&self.session, params)
            .instrument(tracing::info_span!(
                "notification",
                method = "workspace/didChangeConfiguration"
            ))
            .await;
    }

    async fn code_action(&self, params: CodeActionParams) -> Result<Option<CodeActionResponse>> {
        let _span = tracing::info_span!("request", method = "textDocument/codeAction").entered();
        Ok(handlers::code_action::handle(&self.session, params))
    }

    async fn hover(&self, params: HoverParams) -> Result<Option<Hover>> {
        let _span = tracing::info_span!("request", method = "textDocument/hover").entered();
        Ok(handlers::hover::handle(&self.session, params))
    }

    async fn execute_command(&self, params: ExecuteCommandParams) -> Result<Option<Value>> {
        let span = tracing::info_span!("request", method = "workspace/executeCommand", command = %params.command);
        handlers::execute_command::handle(&self.session, params)
            .instrument(span)
            .await
    }
}
