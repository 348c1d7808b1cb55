//! `initialize`: the workspace root, the client's capabilities, `initializationOptions`.

use tower_lsp_server::lsp_types::{InitializeParams, InitializeResult, ServerInfo};

use crate::lsp::capabilities::server_capabilities;
use crate::lsp::session::Session;

pub fn handle(session: &Session, params: InitializeParams) -> InitializeResult {
    let warnings = session.initialize(&params);
    // Notifications are held back until the client has our answer; `initialized` shows these.
    session.defer_warnings(warnings);
    InitializeResult {
        capabilities: server_capabilities(),
        server_info: Some(ServerInfo {
            name: "swiss".to_owned(),
            version: Some(env!("CARGO_PKG_VERSION").to_owned()),
        }),
    }
}
