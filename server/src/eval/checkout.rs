//! A fresh work tree of an instance's base commit, made from the repository under `--repos`
//! without touching it: a new repository that borrows the source's objects (git's
//! "alternates", as `git clone --shared` does), so no object is copied, then a forced checkout
//! of the commit. Removed when dropped.

use std::path::{Path, PathBuf};

use tempfile::TempDir;

#[derive(Debug, thiserror::Error)]
pub enum CheckoutError {
    #[error("failed to find the repository {repo} under {dir}: expected a git repository named {folder} or {repo} (bare or with a work tree)")]
    NotFound {
        repo: String,
        folder: String,
        dir: String,
    },
    #[error("failed to check out {commit} of {repo}: {detail}")]
    Git {
        repo: String,
        commit: String,
        detail: String,
    },
}

pub struct Checkout {
    dir: TempDir,
}

impl Checkout {
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// The repository for `repo` (`owner/name`) under `repos`: `owner__name`, `owner/name`, either
/// with `.git` appended.
pub fn find_repo(repos: &Path, repo: &str) -> Result<PathBuf, CheckoutError> {
    let folder = repo.replace('/', "__");
    let candidates = [
        repos.join(&folder),
        repos.join(format!("{folder}.git")),
        repos.join(repo),
        repos.join(format!("{repo}.git")),
    ];
    candidates
        .into_iter()
        .find(|path| git2::Repository::open(path).is_ok())
        .ok_or_else(|| CheckoutError::NotFound {
            repo: repo.to_owned(),
            folder,
            dir: repos.display().to_string(),
        })
}

/// A work tree of `commit` from the repository at `source`, in a new temporary folder.
pub fn checkout(source: &Path, repo: &str, commit: &str) -> Result<Checkout, CheckoutError> {
    let fail = |detail: String| CheckoutError::Git {
        repo: repo.to_owned(),
        commit: commit.to_owned(),
        detail,
    };
    let source = git2::Repository::open(source).map_err(|e| fail(e.message().to_owned()))?;
    // `commondir`: a linked work tree (`git worktree add`) keeps its objects in the main one.
    let objects = source.commondir().join("objects");
    let dir = tempfile::Builder::new()
        .prefix("swiss-eval-")
        .tempdir()
        .map_err(|e| fail(format!("failed to make a temporary folder: {e}")))?;
    let target = git2::Repository::init(dir.path()).map_err(|e| fail(e.message().to_owned()))?;
    let alternates = target.path().join("objects/info/alternates");
    let objects = objects
        .canonicalize()
        .map_err(|e| fail(format!("failed to read {}: {e}", objects.display())))?;
    std::fs::write(&alternates, format!("{}\n", objects.display()))
        .map_err(|e| fail(format!("failed to write {}: {e}", alternates.display())))?;
    // The repository caches its object database on open: reopen it to see the alternates.
    let target = git2::Repository::open(dir.path()).map_err(|e| fail(e.message().to_owned()))?;
    let oid = target
        .revparse_single(commit)
        .and_then(|object| object.peel_to_commit())
        .map_err(|e| {
            fail(format!(
                "{} (fetch it into the repository under --repos)",
                e.message()
            ))
        })?
        .id();
    target
        .set_head_detached(oid)
        .and_then(|()| {
            target.checkout_head(Some(
                git2::build::CheckoutBuilder::new()
                    .force()
                    .remove_untracked(true),
            ))
        })
        .map_err(|e| fail(e.message().to_owned()))?;
    Ok(Checkout { dir })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commit_all(repo: &git2::Repository, message: &str) -> git2::Oid {
        let mut index = repo.index().unwrap();
        index
            .add_all(["*"].iter(), git2::IndexAddOption::DEFAULT, None)
            .unwrap();
        index.write().unwrap();
        let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
        let sig = git2::Signature::now("t", "t@example.invalid").unwrap();
        let parents: Vec<git2::Commit> = repo
            .head()
            .ok()
            .and_then(|h| h.peel_to_commit().ok())
            .into_iter()
            .collect();
        let parents: Vec<&git2::Commit> = parents.iter().collect();
        repo.commit(Some("HEAD"), &sig, &sig, message, &tree, &parents)
            .unwrap()
    }

    #[test]
    fn an_old_commit_is_checked_out_without_touching_the_source() {
        let root = tempfile::tempdir().unwrap();
        let source_dir = root.path().join("owner__name");
        let source = git2::Repository::init(&source_dir).unwrap();
        std::fs::write(source_dir.join("a.py"), "old\n").unwrap();
        let first = commit_all(&source, "first");
        std::fs::write(source_dir.join("a.py"), "new\n").unwrap();
        std::fs::write(source_dir.join("b.py"), "b\n").unwrap();
        commit_all(&source, "second");
        std::fs::write(source_dir.join("a.py"), "dirty\n").unwrap();

        let found = find_repo(root.path(), "owner/name").unwrap();
        let checkout = checkout(&found, "owner/name", &first.to_string()).unwrap();
        assert_eq!(
            std::fs::read_to_string(checkout.path().join("a.py")).unwrap(),
            "old\n"
        );
        assert!(!checkout.path().join("b.py").exists());
        assert_eq!(
            std::fs::read_to_string(source_dir.join("a.py")).unwrap(),
            "dirty\n"
        );
        let path = checkout.path().to_path_buf();
        drop(checkout);
        assert!(!path.exists(), "the checkout is removed on drop");
    }

    #[test]
    fn a_missing_repository_or_commit_says_what_to_do() {
        let root = tempfile::tempdir().unwrap();
        let err = find_repo(root.path(), "o/r").err().unwrap().to_string();
        assert!(err.contains("named o__r or o/r"), "{err}");
        let source_dir = root.path().join("o").join("r");
        let source = git2::Repository::init(&source_dir).unwrap();
        std::fs::write(source_dir.join("a.py"), "x\n").unwrap();
        commit_all(&source, "first");
        let found = find_repo(root.path(), "o/r").unwrap();
        let err = checkout(&found, "o/r", "0123456789abcdef0123456789abcdef01234567")
            .err()
            .unwrap()
            .to_string();
        assert!(err.starts_with("failed to check out 0123456789"), "{err}");
        assert!(err.contains("fetch it into the repository"), "{err}");
    }
}
