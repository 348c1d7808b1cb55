//! A job as the server tracks it: its issue, its cancellation token, what its snapshot saw of the
//! open buffers, and where it stands. Starting one prepares everything that can fail on bad
//! input first (repository, issue, settings), so the caller gets those errors as the reply, and
//! then hands the long work to a task: no handler ever waits for a job.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tower_lsp_server::jsonrpc::Error;
use tower_lsp_server::lsp_types::{Diagnostic, MessageType, ProgressToken, Uri};

use super::config::EditorOptions;
use super::convert::{self, IssueLink};
use super::documents::Document;
use super::job_task;
use super::protocol::{invalid_params, request_failed};
use super::session::Session;
use crate::engine::issue::Issue;
use crate::issue_source::{LoadedIssue, Lookup, Resolved};
use crate::job::report::FixReport;
use crate::job::{
    resolve_given_files, CancelReason, FixOutcome, JobCancel, JobStore, Setup, Stage,
};

pub struct Job {
    pub id: String,
    pub number: u64,
    pub issue: Issue,
    /// What the user passed to `swiss.fixIssue`, to start the same job again.
    pub issue_ref: String,
    /// The files the user gave (`swiss.fixIssue`'s `files`), repository-relative; empty when
    /// the model localized.
    pub files: Vec<String>,
    /// Read back from the repository's kept jobs after a restart, not run by this server.
    pub kept: bool,
    pub link: IssueLink,
    pub cancel: JobCancel,
    pub progress_token: ProgressToken,
    pub root: PathBuf,
    /// The version of each open buffer the snapshot took in, by repository-relative path: an
    /// apply is refused when the buffer has moved on since.
    pub versions: HashMap<String, i32>,
    pub state: Mutex<JobState>,
    /// What this job has published, by file; the server publishes the union over all jobs.
    pub diagnostics: Mutex<HashMap<Uri, Vec<Diagnostic>>>,
    pub apply_lock: tokio::sync::Mutex<()>,
}

#[derive(Debug, Clone)]
pub enum JobState {
    Running {
        stage: Option<Stage>,
    },
    Done {
        outcome: Arc<FixOutcome>,
        /// Computed once: `swiss.candidates` returns it and hovers render it.
        report: Arc<FixReport>,
        applied: Option<u32>,
    },
    Failed(String),
    Cancelled,
}

/// What a finished job offers the commands.
pub struct Finished {
    pub outcome: Arc<FixOutcome>,
    pub report: Arc<FixReport>,
    pub applied: Option<u32>,
}

impl Job {
    pub fn state(&self) -> JobState {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn set_state(&self, state: JobState) {
        *self.state.lock().unwrap_or_else(|e| e.into_inner()) = state;
    }

    pub fn is_running(&self) -> bool {
        matches!(self.state(), JobState::Running { .. })
    }

    /// The finished job's outcome, or an error saying why there is none (yet).
    pub fn finished(&self) -> Result<Finished, Error> {
        match self.state() {
            JobState::Done {
                outcome,
                report,
                applied,
            } => Ok(Finished {
                outcome,
                report,
                applied,
            }),
            JobState::Running { stage } => Err(request_failed(format!(
                "{} is still running ({}); its candidates are known when it finishes",
                self.id,
                stage.map_or("starting", Stage::label)
            ))),
            JobState::Failed(message) => Err(request_failed(format!(
                "{} failed, so it has no candidates: {message}",
                self.id
            ))),
            JobState::Cancelled => Err(request_failed(format!(
                "{} was cancelled, so it has no candidates",
                self.id
            ))),
        }
    }
}

/// Everything a job needs that is read from disk; built off the async threads.
struct Prepared {
    setup: Setup,
    /// The repository root as the editor spells it, for the URIs the job publishes.
    root: PathBuf,
    versions: HashMap<String, i32>,
    /// Read already, or a tracker's issue to fetch on the async side.
    issue: Resolved,
    files: Vec<String>,
    /// One past the highest job number kept in the repository.
    next_kept: u64,
}

/// Starts a job for `issue_ref` (on `files` when given) and returns its id at once.
pub async fn start(
    session: &Arc<Session>,
    issue_ref: String,
    files: Vec<String>,
) -> Result<String, Error> {
    if issue_ref.trim().is_empty() {
        return Err(invalid_params(
            "swiss.fixIssue needs an issue: a file path, the issue text, or a reference such as #123",
        ));
    }
    // The buffers are taken before the first await: a didChange that arrives after the command
    // must not leak into this job's snapshot.
    let buffers = session.documents.all();
    let root = session.root();
    let editor = session.editor();
    let reference = issue_ref.clone();
    let prepared =
        tokio::task::spawn_blocking(move || prepare(&root, &reference, &files, buffers, &editor))
            .await
            .map_err(|e| request_failed(format!("failed to prepare the job: {e}")))?
            .map_err(request_failed)?;
    for warning in &prepared.setup.warnings {
        session
            .show_message(MessageType::WARNING, format!("Swiss: {warning}"))
            .await;
    }
    // Fetched before the reply, so that a wrong reference or token is the command's error
    // rather than a job that fails at once.
    let LoadedIssue { issue, file } = prepared
        .setup
        .load_issue(prepared.issue)
        .await
        .map_err(|e| request_failed(e.to_string()))?;

    let number = session.next_job_number(prepared.next_kept);
    let id = format!("job-{number}");
    let job = Arc::new(Job {
        progress_token: convert::progress_token(&id),
        id: id.clone(),
        number,
        link: IssueLink::new(&issue, file.as_deref()),
        issue: issue.clone(),
        issue_ref,
        files: prepared.files.clone(),
        kept: false,
        cancel: JobCancel::new(),
        root: prepared.root,
        versions: prepared.versions,
        state: Mutex::new(JobState::Running { stage: None }),
        diagnostics: Mutex::new(HashMap::new()),
        apply_lock: tokio::sync::Mutex::new(()),
    });
    session.insert_job(job.clone());
    tracing::info!(job = %id, issue = %job.issue.title, "job started");
    let ctx = prepared
        .setup
        .into_context(issue)
        .with_cancel(job.cancel.clone())
        .with_given_files(prepared.files);
    tokio::spawn(job_task::run(session.clone(), job, ctx));
    Ok(id)
}

/// Stops a running job at the user's request: its task sees the token, ends the progress and
/// clears the diagnostics.
pub fn cancel(job: &Job) -> Result<(), Error> {
    match job.state() {
        JobState::Running { .. } | JobState::Cancelled => {
            job.cancel.cancel(CancelReason::User);
            Ok(())
        }
        _ => Err(request_failed(format!(
            "{} has finished; there is nothing to cancel (swiss.dismiss clears its diagnostics)",
            job.id
        ))),
    }
}

fn prepare(
    root: &Path,
    issue_ref: &str,
    files: &[String],
    buffers: Vec<(Uri, Document)>,
    editor: &EditorOptions,
) -> Result<Prepared, String> {
    let mut setup = Setup::open(root, editor.options()).map_err(|e| e.to_string())?;
    let repo_root = setup.snapshot.root().to_path_buf();
    let issue = setup
        .resolve_issue(issue_ref, &issue_lookup(&repo_root, root))
        .map_err(|e| e.to_string())?;

    let mut versions = HashMap::new();
    for (uri, doc) in buffers {
        let Some(path) = convert::uri_to_path(&uri) else {
            continue;
        };
        let Some(relative) = convert::repo_relative(&repo_root, &path) else {
            continue;
        };
        if relative == ".git" || relative.starts_with(".git/") {
            continue;
        }
        // Tracked files, and new files that exist only in the editor. An open untracked file
        // (build output, a virtualenv module) is not part of the repository.
        if setup.snapshot.contains(&relative) || !repo_root.join(&relative).exists() {
            setup.snapshot.overlay(&relative, doc.text.clone());
            versions.insert(relative, doc.version);
        }
    }
    // After the overlays, so that a new file that exists only in the editor can be given.
    let files: Vec<PathBuf> = files.iter().map(|f| given_path(f)).collect();
    let files = resolve_given_files(&setup.snapshot, &files).map_err(|e| e.to_string())?;
    let next_kept = JobStore::for_repo(&repo_root).map_or(1, |store| store.next_number());
    Ok(Prepared {
        root: editor_spelling(root, &repo_root),
        setup,
        versions,
        issue,
        files,
        next_kept,
    })
}

/// A `file://` URI (what an editor has at hand for the current file) as its path; anything
/// else as the path it spells (relative paths are the repository's).
fn given_path(file: &str) -> PathBuf {
    file.starts_with("file:")
        .then(|| file.parse::<Uri>().ok())
        .flatten()
        .as_ref()
        .and_then(convert::uri_to_path)
        .unwrap_or_else(|| PathBuf::from(file))
}

/// The repository root under the path the editor opened. git resolves symlinks (a linked
/// `~/src`, macOS's `/tmp`), but the editor knows its buffers by the path it opened: a
/// diagnostic under the resolved spelling would land on no open buffer, and hovers and quick
/// fixes would not find it.
pub(super) fn editor_spelling(workspace: &Path, repo_root: &Path) -> PathBuf {
    let Ok(resolved) = std::fs::canonicalize(repo_root) else {
        return repo_root.to_path_buf();
    };
    workspace
        .ancestors()
        .find(|dir| std::fs::canonicalize(dir).is_ok_and(|dir| dir == resolved))
        .map_or_else(|| repo_root.to_path_buf(), Path::to_path_buf)
}

/// A string that names an existing file (absolute, or relative to the workspace or repository
/// root) is an issue file; an issue URL, `owner/repo#N` or `#N` is fetched from its tracker;
/// anything else is the issue text itself.
fn issue_lookup<'a>(repo_root: &'a Path, workspace_root: &Path) -> Lookup<'a> {
    Lookup {
        repo_root: Some(repo_root),
        dirs: vec![workspace_root.to_path_buf(), repo_root.to_path_buf()],
        stdin: false,
        pasted_text: true,
    }
}
