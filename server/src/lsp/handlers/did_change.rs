//! `textDocument/didChange`, full or incremental. Applied before the handler's first await, so
//! changes land in the order the client sent them.

use tower_lsp_server::lsp_types::DidChangeTextDocumentParams;

use crate::lsp::session::Session;

pub fn handle(session: &Session, params: DidChangeTextDocumentParams) {
    session.documents.change(
        &params.text_document.uri,
        params.text_document.version,
        params.content_changes,
    );
}
