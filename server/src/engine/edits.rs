//! SEARCH/REPLACE blocks as the model writes them.

/// One `### path` + `<<<<<<< SEARCH` / `=======` / `>>>>>>> REPLACE` block.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SearchReplace {
    /// The path exactly as the model wrote it (not yet checked against the repo).
    pub path: String,
    pub search: String,
    pub replace: String,
}
