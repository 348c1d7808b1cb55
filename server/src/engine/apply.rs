//! Applying SEARCH/REPLACE edits in memory, never to the user's files.

use std::sync::Arc;

/// Where edits read the original files from. The repo snapshot implements it; tests use a map.
pub trait FileSource {
    /// Turns a path as the model wrote it into a repo-relative path with `/` separators, or says
    /// why it is refused (absolute, `..`, through a symlink, outside the repo).
    fn resolve_path(&self, raw: &str) -> Result<String, String>;
    /// The text of a repo-relative path, `None` when it does not exist (or is not text).
    fn read(&self, path: &str) -> Option<Arc<str>>;
}

/// One file's content before and after a candidate patch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChange {
    pub path: String,
    /// `None` when the patch creates the file.
    pub before: Option<Arc<str>>,
    pub after: String,
}

/// The files a candidate changes, sorted by path.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PatchedFiles {
    pub changes: Vec<FileChange>,
}
