//! Built-in test settings of SWE-bench Verified's repositories.
//!
//! Placeholder of the eval branch, with the agreed signature only: the table itself (the
//! harness's command per repository and version) comes with the evalparsers branch, which
//! replaces this file on merge. Until then every repository needs `--repo-config`.

use crate::verify::test_results::OutputFormat;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoSpec {
    pub test_command: String,
    pub test_format: OutputFormat,
    pub env: Vec<(String, String)>,
    pub python: Option<String>,
}

pub fn builtin_spec(_repo: &str, _version: &str) -> Option<RepoSpec> {
    None
}
