//! Files the user names for a job (`swiss fix --files`, "Fix issue here…", `swiss.fixIssue`'s
//! `files`): checked before the job starts, so a wrong path is the command's error rather than
//! a repair prompt without the file.

use std::path::{Path, PathBuf};

use crate::engine::apply::FileSource;
use crate::engine::snapshot::RepoSnapshot;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("failed to use the given file {path}: {reason}")]
pub struct GivenFileError {
    pub path: String,
    pub reason: String,
}

/// Each path as the repository-relative path the snapshot knows it by, in the order given,
/// duplicates dropped. A relative path is relative to the repository root; an absolute one must
/// lie inside it.
pub fn resolve_given_files(
    snapshot: &RepoSnapshot,
    paths: &[PathBuf],
) -> Result<Vec<String>, GivenFileError> {
    let mut files = Vec::with_capacity(paths.len());
    for path in paths {
        let file = resolve_one(snapshot, path)?;
        if !files.contains(&file) {
            files.push(file);
        }
    }
    Ok(files)
}

fn resolve_one(snapshot: &RepoSnapshot, path: &Path) -> Result<String, GivenFileError> {
    let error = |reason: String| GivenFileError {
        path: path.display().to_string(),
        reason,
    };
    let root = snapshot.root();
    let relative = if path.is_absolute() {
        inside(root, path).ok_or_else(|| {
            error(format!(
                "it is outside the repository {}; give a path inside it",
                root.display()
            ))
        })?
    } else {
        path.to_path_buf()
    };
    if root.join(&relative).is_dir() {
        return Err(error(
            "it is a folder; give the files in it one by one".to_owned(),
        ));
    }
    let raw = relative.to_string_lossy().replace('\\', "/");
    let file = snapshot
        .resolve_path(&raw)
        .map_err(|reason| error(format!("{reason}; give a file of the repository")))?;
    let full = root.join(&file);
    if !snapshot.contains(&file) {
        let reason = if full.exists() {
            "it is not a tracked text file of the repository (untracked, binary or too large); `git add` it first"
        } else {
            "no such file in the repository (paths are relative to the repository root)"
        };
        return Err(error(reason.to_owned()));
    }
    Ok(file)
}

/// `path` relative to `root`, trying the resolved spellings of both (a linked `/tmp`, `~/src`).
fn inside(root: &Path, path: &Path) -> Option<PathBuf> {
    if let Ok(rest) = path.strip_prefix(root) {
        return Some(rest.to_path_buf());
    }
    let root = std::fs::canonicalize(root).ok()?;
    let resolved = path
        .parent()
        .and_then(|dir| std::fs::canonicalize(dir).ok())
        .map(|dir| dir.join(path.file_name().unwrap_or_default()))?;
    resolved.strip_prefix(&root).ok().map(Path::to_path_buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn repo() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("pkg")).unwrap();
        std::fs::write(dir.path().join("pkg/a.py"), "x = 1\n").unwrap();
        std::fs::write(dir.path().join("b.py"), "y = 2\n").unwrap();
        let git = |args: &[&str]| {
            let status = Command::new("git")
                .args(args)
                .current_dir(dir.path())
                .status()
                .unwrap();
            assert!(status.success());
        };
        git(&["init", "-q"]);
        git(&["add", "pkg/a.py", "b.py"]);
        std::fs::write(dir.path().join("untracked.py"), "z = 3\n").unwrap();
        dir
    }

    fn snapshot(dir: &Path) -> RepoSnapshot {
        RepoSnapshot::open(dir, crate::engine::snapshot::DEFAULT_MAX_FILE_BYTES).unwrap()
    }

    #[test]
    fn relative_and_absolute_paths_inside_the_repository_resolve() {
        let dir = repo();
        let snapshot = snapshot(dir.path());
        let given = [
            PathBuf::from("pkg/a.py"),
            snapshot.root().join("b.py"),
            PathBuf::from("./pkg/a.py"),
        ];
        assert_eq!(
            resolve_given_files(&snapshot, &given).unwrap(),
            ["pkg/a.py", "b.py"]
        );
    }

    #[test]
    fn paths_outside_missing_folders_and_untracked_files_are_refused() {
        let dir = repo();
        let other = tempfile::tempdir().unwrap();
        std::fs::write(other.path().join("c.py"), "").unwrap();
        let snapshot = snapshot(dir.path());
        let reason = |path: PathBuf| resolve_given_files(&snapshot, &[path]).unwrap_err().reason;
        assert!(reason(other.path().join("c.py")).contains("outside the repository"));
        assert!(reason(PathBuf::from("../c.py")).contains("`..` are refused"));
        assert!(reason(PathBuf::from("nope.py")).contains("no such file"));
        assert!(reason(PathBuf::from("pkg")).contains("is a folder"));
        assert!(reason(PathBuf::from("untracked.py")).contains("not a tracked"));
    }
}
