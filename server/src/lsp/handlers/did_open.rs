//! `textDocument/didOpen`: the buffer becomes what jobs see of that file.

use tower_lsp_server::lsp_types::DidOpenTextDocumentParams;

use crate::lsp::session::Session;

pub fn handle(session: &Session, params: DidOpenTextDocumentParams) {
    let doc = params.text_document;
    session.documents.open(doc.uri, doc.version, doc.text);
}
