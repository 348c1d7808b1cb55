//! What we tell the client we can do, and what we learned the client can do.

use tower_lsp_server::lsp_types::{
    ClientCapabilities, CodeActionKind, CodeActionOptions, CodeActionProviderCapability,
    ExecuteCommandOptions, HoverProviderCapability, ResourceOperationKind, ServerCapabilities,
    TextDocumentSyncCapability, TextDocumentSyncKind, TextDocumentSyncOptions,
    WorkDoneProgressOptions,
};

use super::convert::EditSupport;
use super::protocol::COMMANDS;

/// The parts of the client's capabilities that change what the server does.
#[derive(Debug, Clone, Copy, Default)]
pub struct ClientSupport {
    pub work_done_progress: bool,
    pub apply_edit: bool,
    pub edits: EditSupport,
    pub show_document: bool,
    pub configuration: bool,
}

impl ClientSupport {
    pub fn from_capabilities(caps: &ClientCapabilities) -> ClientSupport {
        let window = caps.window.as_ref();
        let workspace = caps.workspace.as_ref();
        let workspace_edit = workspace.and_then(|w| w.workspace_edit.as_ref());
        ClientSupport {
            work_done_progress: window.and_then(|w| w.work_done_progress) == Some(true),
            apply_edit: workspace.and_then(|w| w.apply_edit) == Some(true),
            edits: EditSupport {
                document_changes: workspace_edit.and_then(|e| e.document_changes) == Some(true),
                create_files: workspace_edit
                    .and_then(|e| e.resource_operations.as_ref())
                    .is_some_and(|ops| ops.contains(&ResourceOperationKind::Create)),
            },
            show_document: window
                .and_then(|w| w.show_document.as_ref())
                .is_some_and(|s| s.support),
            configuration: workspace.and_then(|w| w.configuration) == Some(true),
        }
    }
}

pub fn server_capabilities() -> ServerCapabilities {
    ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Options(
            TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(TextDocumentSyncKind::INCREMENTAL),
                ..TextDocumentSyncOptions::default()
            },
        )),
        code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
            code_action_kinds: Some(vec![CodeActionKind::QUICKFIX, CodeActionKind::SOURCE]),
            work_done_progress_options: WorkDoneProgressOptions::default(),
            resolve_provider: None,
        })),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        execute_command_provider: Some(ExecuteCommandOptions {
            commands: COMMANDS.iter().map(|c| (*c).to_owned()).collect(),
            work_done_progress_options: WorkDoneProgressOptions::default(),
        }),
        ..ServerCapabilities::default()
    }
}
