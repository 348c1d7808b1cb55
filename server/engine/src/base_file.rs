//! One file of the repository as a sandbox receives it.

use std::sync::Arc;

/// Bytes, not text, so that binary test data travels too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseFile {
    pub path: String,
    pub bytes: Arc<[u8]>,
    pub executable: bool,
}
