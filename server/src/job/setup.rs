//! Everything before a job's first model call, the same for `swiss fix`, `swiss lsp` and later
//! `swiss eval`: the repository snapshot, settings from every source, the prompts, the backend
//! client, and the issue. What fails here is the user's input (or an issue tracker), never the
//! model, so callers report it before a job exists.

use std::path::Path;
use std::sync::Arc;

use super::context::JobContext;
use crate::backend::{BackendClient, BackendError};
use crate::config::{Options, Settings, SettingsError};
use crate::engine::snapshot::{RepoSnapshot, SnapshotError, DEFAULT_MAX_FILE_BYTES};
use crate::issue_source::{IssueSourceError, IssueSources, LoadedIssue, Lookup, Resolved};
use crate::prompts::{PromptError, Prompts};

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(transparent)]
    Snapshot(#[from] SnapshotError),
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error(transparent)]
    Prompts(#[from] PromptError),
    #[error(transparent)]
    Backend(#[from] BackendError),
    #[error(transparent)]
    Issue(#[from] IssueSourceError),
}

impl SetupError {
    /// A tracker that does not answer (or fails on its side) is a service failure like an
    /// unreachable backend; everything else is bad input.
    pub fn is_service_failure(&self) -> bool {
        matches!(self, SetupError::Issue(e) if e.is_service_failure())
    }
}

/// A repository and its settings, ready for an issue.
pub struct Setup {
    /// Still open to overlays: the editor lays its unsaved buffers over it before the job starts.
    pub snapshot: RepoSnapshot,
    pub settings: Settings,
    pub prompts: Prompts,
    pub client: Arc<BackendClient>,
    pub sources: IssueSources,
    /// Bad values in `swiss.toml`, reported and ignored.
    pub warnings: Vec<String>,
}

impl Setup {
    /// Opens the repository around `dir` and resolves settings in DESIGN 5's order: defaults,
    /// `swiss.toml`, environment, then `last` (the command line's flags or the editor's settings).
    pub fn open(dir: &Path, last: Options) -> Result<Setup, SetupError> {
        let snapshot = RepoSnapshot::open(dir, DEFAULT_MAX_FILE_BYTES)?;
        let mut warnings = Vec::new();
        let options = Options::from_repo_file(snapshot.root(), &mut warnings)
            .merged(Options::from_env(|name| std::env::var(name).ok()))
            .merged(last);
        let settings = Settings::resolve(&options)?;
        let prompts = Prompts::with_overrides(&snapshot.root().join(&settings.prompts_dir))?;
        let client = Arc::new(BackendClient::new(settings.backend_config())?);
        let sources = IssueSources::new(&settings)?;
        Ok(Setup {
            snapshot,
            settings,
            prompts,
            client,
            sources,
            warnings,
        })
    }

    /// Reads an issue given as a file, text or standard input; a tracker's issue is only named
    /// here and fetched by [`Setup::load_issue`].
    pub fn resolve_issue(&self, reference: &str, lookup: &Lookup) -> Result<Resolved, SetupError> {
        Ok(self.sources.resolve(reference, lookup)?)
    }

    pub async fn load_issue(&self, resolved: Resolved) -> Result<LoadedIssue, SetupError> {
        match resolved {
            Resolved::Ready(loaded) => Ok(loaded),
            Resolved::Remote(remote) => Ok(LoadedIssue {
                issue: self.sources.fetch(&remote).await?,
                file: None,
            }),
        }
    }

    pub fn into_context(self, issue: crate::engine::issue::Issue) -> JobContext {
        JobContext::new(
            Arc::new(self.snapshot),
            issue,
            self.settings,
            self.prompts,
            self.client,
        )
    }
}
