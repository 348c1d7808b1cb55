//! Writing a chosen patch into the user's work tree, only when asked, and never over edits the
//! user made after the job read the files.

use std::path::Path;

use super::apply::PatchedFiles;

#[derive(Debug, thiserror::Error)]
pub enum WriteBackError {
    #[error("failed to apply the patch: {path} changed on disk since Swiss read it; nothing was written (re-run swiss fix)")]
    ChangedSinceSnapshot { path: String },
    #[error("failed to apply the patch: {path} now exists, and the patch would create it; nothing was written")]
    CreatedMeanwhile { path: String },
    #[error("failed to write {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

/// Checks every file first, then writes each through a temporary file and a rename, so that a
/// refusal changes nothing and a crash never leaves a half-written file.
pub fn write_patch(root: &Path, files: &PatchedFiles) -> Result<(), WriteBackError> {
    for change in &files.changes {
        let full = root.join(&change.path);
        match (&change.before, std::fs::read(&full)) {
            (Some(before), Ok(now)) if now == before.as_bytes() => {}
            (Some(_), _) => {
                return Err(WriteBackError::ChangedSinceSnapshot {
                    path: change.path.clone(),
                })
            }
            (None, Err(e)) if e.kind() == std::io::ErrorKind::NotFound => {}
            (None, _) => {
                return Err(WriteBackError::CreatedMeanwhile {
                    path: change.path.clone(),
                })
            }
        }
    }
    for change in &files.changes {
        let full = root.join(&change.path);
        let io = |source| WriteBackError::Io {
            path: change.path.clone(),
            source,
        };
        let dir = full.parent().unwrap_or(root);
        std::fs::create_dir_all(dir).map_err(io)?;
        let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
        std::io::Write::write_all(&mut tmp, change.after.as_bytes()).map_err(io)?;
        if let Ok(meta) = std::fs::metadata(&full) {
            std::fs::set_permissions(tmp.path(), meta.permissions()).map_err(io)?;
        }
        tmp.persist(&full).map_err(|e| io(e.error))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::FileChange;
    use std::sync::Arc;

    fn patch(path: &str, before: Option<&str>, after: &str) -> PatchedFiles {
        PatchedFiles {
            changes: vec![FileChange {
                path: path.into(),
                before: before.map(Arc::from),
                after: after.into(),
            }],
        }
    }

    #[test]
    fn writes_and_creates() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.py"), "old\n").unwrap();
        write_patch(dir.path(), &patch("a.py", Some("old\n"), "new\n")).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join("a.py")).unwrap(),
            "new\n"
        );
        write_patch(dir.path(), &patch("pkg/b.py", None, "b\n")).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join("pkg/b.py")).unwrap(),
            "b\n"
        );
    }

    #[test]
    fn refuses_when_the_user_changed_the_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.py"), "edited by the user\n").unwrap();
        let err = write_patch(dir.path(), &patch("a.py", Some("old\n"), "new\n")).unwrap_err();
        assert!(
            matches!(err, WriteBackError::ChangedSinceSnapshot { .. }),
            "{err}"
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join("a.py")).unwrap(),
            "edited by the user\n"
        );
        std::fs::write(dir.path().join("c.py"), "mine\n").unwrap();
        let err = write_patch(dir.path(), &patch("c.py", None, "theirs\n")).unwrap_err();
        assert!(
            matches!(err, WriteBackError::CreatedMeanwhile { .. }),
            "{err}"
        );
    }
}
