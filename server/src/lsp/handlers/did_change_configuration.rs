//! `workspace/didChangeConfiguration`: settings pushed in the notification win over
//! `initializationOptions`; an empty push (the pull model) makes us ask for them.

use serde_json::Value;
use tower_lsp_server::lsp_types::{DidChangeConfigurationParams, MessageType};

use super::initialized::pull_configuration;
use crate::lsp::session::Session;

pub async fn handle(session: &Session, params: DidChangeConfigurationParams) {
    let empty = match &params.settings {
        Value::Null => true,
        Value::Object(map) => map.is_empty(),
        _ => false,
    };
    if empty {
        pull_configuration(session).await;
        return;
    }
    for warning in session.set_editor_settings(params.settings) {
        session
            .show_message(MessageType::WARNING, format!("Swiss: {warning}"))
            .await;
    }
}
