//! `initialized`: report bad `initializationOptions`, then pull the editor's settings where the
//! client offers `workspace/configuration`.

use tower_lsp_server::lsp_types::{ConfigurationItem, MessageType};

use std::sync::Arc;

use crate::lsp::config::SECTION;
use crate::lsp::kept_jobs;
use crate::lsp::session::Session;

pub async fn handle(session: &Arc<Session>) {
    for warning in session.take_deferred_warnings() {
        session
            .show_message(MessageType::WARNING, format!("Swiss: {warning}"))
            .await;
    }
    pull_configuration(session).await;
    kept_jobs::restore_once(session).await;
}

/// Asks the client for the `swiss` section; a client that answers nothing useful leaves the
/// settings as they are.
pub async fn pull_configuration(session: &Session) {
    if !session.support().configuration {
        return;
    }
    let items = vec![ConfigurationItem {
        scope_uri: None,
        section: Some(SECTION.to_owned()),
    }];
    match session.client.configuration(items).await {
        Ok(values) => {
            let Some(value) = values.into_iter().next().filter(|v| !v.is_null()) else {
                return;
            };
            for warning in session.set_editor_settings(value) {
                session
                    .show_message(MessageType::WARNING, format!("Swiss: {warning}"))
                    .await;
            }
        }
        Err(e) => tracing::warn!(error = %e.message, "workspace/configuration failed"),
    }
}
