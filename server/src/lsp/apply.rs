//! Turning a candidate into a workspace edit, only after checking that every file it touches is
//! still what the job read: the same buffer version for a buffer the job saw open, the same text
//! in an open buffer or on disk otherwise. A patch computed against old text would be applied to
//! new text at the wrong places, silently.

use serde_json::json;
use tower_lsp_server::jsonrpc::Error;
use tower_lsp_server::lsp_types::{Uri, WorkspaceEdit};

use super::convert::{self, EditSupport, EditTarget};
use super::documents::Documents;
use super::jobs::Job;
use super::protocol::{request_failed, FIX_ISSUE};
use crate::engine::apply::{FileChange, PatchedFiles};

/// Why a file no longer matches the job's snapshot.
#[derive(Debug)]
pub struct Stale {
    pub path: String,
    pub reason: String,
}

pub fn build_edit(
    job: &Job,
    candidate: u32,
    files: &PatchedFiles,
    documents: &Documents,
    support: EditSupport,
) -> Result<WorkspaceEdit, Error> {
    let mut targets = Vec::with_capacity(files.changes.len());
    for change in &files.changes {
        let (uri, version) = check_fresh(job, change, documents).map_err(|stale| {
            let mut error = request_failed(format!(
                "refused to apply candidate {candidate} of {}: {} {}; nothing was changed. Re-run Swiss on the issue for a patch of the current code.",
                job.id, stale.path, stale.reason
            ));
            error.data = Some(json!({
                "path": stale.path,
                "rerun": {
                    "title": "Re-run Swiss",
                    "command": FIX_ISSUE,
                    "arguments": [rerun_arguments(job)],
                },
            }));
            error
        })?;
        targets.push(EditTarget {
            change,
            uri,
            version,
        });
    }
    convert::workspace_edit(&targets, support).map_err(|reason| {
        request_failed(format!(
            "failed to apply candidate {candidate} of {}: {reason}; `swiss fix --apply` or swiss.showDiff can apply it instead",
            job.id
        ))
    })
}

/// The URI to edit (the client's own spelling when the buffer is open) and the version to send.
fn check_fresh(
    job: &Job,
    change: &FileChange,
    documents: &Documents,
) -> Result<(Uri, Option<i32>), Stale> {
    let stale = |reason: String| Stale {
        path: change.path.clone(),
        reason,
    };
    let full = job.root.join(&change.path);
    if let Some((uri, doc)) = documents.find_by_path(&full) {
        if let Some(seen) = job.versions.get(&change.path) {
            if doc.version != *seen {
                return Err(stale(format!(
                    "changed since Swiss read it (the buffer is at version {}, the job saw version {seen})",
                    doc.version
                )));
            }
        }
        return match change.before.as_deref() {
            Some(before) if before == &*doc.text => Ok((uri, Some(doc.version))),
            Some(_) => Err(stale(
                "changed since Swiss read it (the open buffer differs from the text the job used)"
                    .to_owned(),
            )),
            None => Err(stale(
                "is open in the editor now, and the patch would create it".to_owned(),
            )),
        };
    }
    let uri = convert::path_to_uri(&full).ok_or_else(|| stale("has no file URI".to_owned()))?;
    match (change.before.as_deref(), std::fs::read(&full)) {
        (Some(before), Ok(now)) if now == before.as_bytes() => Ok((uri, None)),
        (Some(_), Ok(_)) => Err(stale("changed on disk since Swiss read it".to_owned())),
        (Some(_), Err(e)) => Err(stale(format!("can no longer be read ({e})"))),
        (None, Err(e)) if e.kind() == std::io::ErrorKind::NotFound => Ok((uri, None)),
        (None, _) => Err(stale(
            "now exists, and the patch would create it".to_owned(),
        )),
    }
}

/// The first file of `files` that no longer matches what `job` read, if any.
pub fn first_stale(job: &Job, files: &PatchedFiles, documents: &Documents) -> Option<Stale> {
    files
        .changes
        .iter()
        .find_map(|change| check_fresh(job, change, documents).err())
}

/// `swiss.fixIssue`'s argument that starts `job`'s issue again, on the same given files.
fn rerun_arguments(job: &Job) -> serde_json::Value {
    if job.files.is_empty() {
        json!({"issue": job.issue_ref})
    } else {
        json!({"issue": job.issue_ref, "files": job.files})
    }
}
