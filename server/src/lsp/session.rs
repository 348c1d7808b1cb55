//! The server's state, shared by every handler and every job task.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use dashmap::DashMap;
use tower_lsp_server::jsonrpc::Error;
use tower_lsp_server::lsp_types::{InitializeParams, MessageType};
use tower_lsp_server::Client;

use super::capabilities::ClientSupport;
use super::config::EditorOptions;
use super::convert::uri_to_path;
use super::documents::Documents;
use super::jobs::Job;
use super::protocol::invalid_params;

pub struct Session {
    pub client: Client,
    pub documents: Documents,
    jobs: DashMap<String, Arc<Job>>,
    next_job: AtomicU64,
    workspace: RwLock<Workspace>,
    /// Serializes `publishDiagnostics`, so two jobs publishing for one file cannot overtake each
    /// other with stale unions.
    pub publish_lock: tokio::sync::Mutex<()>,
    /// Candidate diffs for `swiss.showDiff`, removed when the server exits.
    diff_dir: OnceLock<tempfile::TempDir>,
    diff_dir_lock: Mutex<()>,
    deferred_warnings: Mutex<Vec<String>>,
    /// Set once the repository's kept jobs are read back (`kept_jobs::restore_once`).
    pub kept_restored: tokio::sync::OnceCell<()>,
}

#[derive(Debug, Clone, Default)]
struct Workspace {
    root: Option<PathBuf>,
    support: ClientSupport,
    editor: EditorOptions,
}

impl Session {
    pub fn new(client: Client) -> Session {
        Session {
            client,
            documents: Documents::default(),
            jobs: DashMap::new(),
            next_job: AtomicU64::new(1),
            workspace: RwLock::new(Workspace::default()),
            publish_lock: tokio::sync::Mutex::new(()),
            diff_dir: OnceLock::new(),
            diff_dir_lock: Mutex::new(()),
            deferred_warnings: Mutex::new(Vec::new()),
            kept_restored: tokio::sync::OnceCell::new(),
        }
    }

    /// Takes what `initialize` says; returns the warnings about bad settings.
    pub fn initialize(&self, params: &InitializeParams) -> Vec<String> {
        #[allow(deprecated)] // `root_uri` is what older clients still send alone.
        let root = params
            .workspace_folders
            .as_ref()
            .and_then(|folders| folders.first())
            .and_then(|folder| uri_to_path(&folder.uri))
            .or_else(|| params.root_uri.as_ref().and_then(uri_to_path));
        let mut warnings = Vec::new();
        let mut workspace = self.write();
        workspace.root = root;
        workspace.support = ClientSupport::from_capabilities(&params.capabilities);
        if let Some(options) = params.initialization_options.clone() {
            workspace.editor.set_initialization(options, &mut warnings);
        }
        warnings
    }

    pub fn defer_warnings(&self, warnings: Vec<String>) {
        self.deferred_warnings
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(warnings);
    }

    pub fn take_deferred_warnings(&self) -> Vec<String> {
        std::mem::take(
            &mut *self
                .deferred_warnings
                .lock()
                .unwrap_or_else(|e| e.into_inner()),
        )
    }

    pub fn set_editor_settings(&self, value: serde_json::Value) -> Vec<String> {
        let mut warnings = Vec::new();
        self.write().editor.set_workspace(value, &mut warnings);
        warnings
    }

    /// The folder jobs start from: the first workspace folder, else the server's working
    /// directory (a client that opened a single file).
    pub fn root(&self) -> PathBuf {
        self.read()
            .root
            .clone()
            .or_else(|| std::env::current_dir().ok())
            .unwrap_or_else(|| PathBuf::from("."))
    }

    pub fn support(&self) -> ClientSupport {
        self.read().support
    }

    pub fn editor(&self) -> EditorOptions {
        self.read().editor.clone()
    }

    /// The next job number, at least `at_least` (one past the jobs the repository keeps), so a
    /// new job's id never names a kept one.
    pub fn next_job_number(&self, at_least: u64) -> u64 {
        self.next_job.fetch_max(at_least, Ordering::Relaxed);
        self.next_job.fetch_add(1, Ordering::Relaxed)
    }

    /// Makes the next job number at least `at_least`, without taking one.
    pub fn skip_job_numbers_below(&self, at_least: u64) {
        self.next_job.fetch_max(at_least, Ordering::Relaxed);
    }

    pub fn insert_job(&self, job: Arc<Job>) {
        self.jobs.insert(job.id.clone(), job);
    }

    pub fn remove_job(&self, id: &str) {
        self.jobs.remove(id);
    }

    /// The job a command names, or an error that lists the ones there are.
    pub fn job(&self, id: &str) -> Result<Arc<Job>, Error> {
        if let Some(job) = self.jobs.get(id) {
            return Ok(job.clone());
        }
        let known: Vec<String> = self.jobs_in_order().iter().map(|j| j.id.clone()).collect();
        Err(invalid_params(if known.is_empty() {
            format!("unknown job `{id}`: no Swiss job exists (start one with swiss.fixIssue)")
        } else {
            format!("unknown job `{id}`; the jobs are {}", known.join(", "))
        }))
    }

    /// Oldest first, so code actions and hovers list jobs in a stable order.
    pub fn jobs_in_order(&self) -> Vec<Arc<Job>> {
        let mut jobs: Vec<Arc<Job>> = self.jobs.iter().map(|e| e.value().clone()).collect();
        jobs.sort_by_key(|j| j.number);
        jobs
    }

    pub fn diff_dir(&self) -> std::io::Result<PathBuf> {
        let _guard = self.diff_dir_lock.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(dir) = self.diff_dir.get() {
            return Ok(dir.path().to_path_buf());
        }
        let dir = tempfile::Builder::new().prefix("swiss-diffs-").tempdir()?;
        let path = dir.path().to_path_buf();
        let _ = self.diff_dir.set(dir);
        Ok(path)
    }

    pub async fn show_message(&self, typ: MessageType, message: impl std::fmt::Display) {
        self.client.show_message(typ, message).await;
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Workspace> {
        self.workspace.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Workspace> {
        self.workspace.write().unwrap_or_else(|e| e.into_inner())
    }
}
