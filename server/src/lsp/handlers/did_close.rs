//! `textDocument/didClose`: the file on disk is the truth again.

use tower_lsp_server::lsp_types::DidCloseTextDocumentParams;

use crate::lsp::session::Session;

pub fn handle(session: &Session, params: DidCloseTextDocumentParams) {
    session.documents.close(&params.text_document.uri);
}
