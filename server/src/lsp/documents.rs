//! The open buffers, as the editor last described them. They, saved or not, are what a job's
//! snapshot sees, and their versions are what an apply is checked against.

use std::path::Path;
use std::sync::Arc;

use dashmap::DashMap;
use tower_lsp_server::lsp_types::{TextDocumentContentChangeEvent, Uri};

use super::convert::{uri_to_path, LineIndex};

#[derive(Debug, Clone)]
pub struct Document {
    pub version: i32,
    /// Shared with the snapshots of the jobs that started while the buffer had this text.
    pub text: Arc<str>,
}

#[derive(Debug, Default)]
pub struct Documents {
    open: DashMap<Uri, Document>,
}

impl Documents {
    pub fn open(&self, uri: Uri, version: i32, text: String) {
        self.open.insert(
            uri,
            Document {
                version,
                text: text.into(),
            },
        );
    }

    /// Applies the changes in order, as the protocol requires: each range refers to the text left
    /// by the change before it. A change for a buffer we never saw opened is dropped: without
    /// its base text there is nothing to apply it to.
    pub fn change(&self, uri: &Uri, version: i32, changes: Vec<TextDocumentContentChangeEvent>) {
        let Some(mut doc) = self.open.get_mut(uri) else {
            tracing::warn!(uri = uri.as_str(), "change for a document that is not open");
            return;
        };
        let mut text = String::from(&*doc.text);
        for change in changes {
            match change.range {
                None => text = change.text,
                Some(range) => {
                    let index = LineIndex::new(&text);
                    let start = index.offset(&text, range.start);
                    let end = index.offset(&text, range.end).max(start);
                    text.replace_range(start..end, &change.text);
                }
            }
        }
        doc.version = version;
        doc.text = text.into();
    }

    pub fn close(&self, uri: &Uri) {
        self.open.remove(uri);
    }

    pub fn get(&self, uri: &Uri) -> Option<Document> {
        self.open.get(uri).map(|doc| doc.clone())
    }

    /// The open buffer of a file, under the URI the client spells it with. Clients and servers
    /// may encode the same path differently, so the comparison is on paths.
    pub fn find_by_path(&self, path: &Path) -> Option<(Uri, Document)> {
        self.open.iter().find_map(|entry| {
            let open = uri_to_path(entry.key())?;
            (open == path || same_file(&open, path))
                .then(|| (entry.key().clone(), entry.value().clone()))
        })
    }

    /// Every open buffer, for a job's snapshot.
    pub fn all(&self) -> Vec<(Uri, Document)> {
        self.open
            .iter()
            .map(|entry| (entry.key().clone(), entry.value().clone()))
            .collect()
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}
