//! What a job sees of the repository: the tracked files as they are in the work tree
//! (uncommitted edits included), with unsaved editor buffers laid over them.

use std::collections::{BTreeSet, HashMap};
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::apply::FileSource;

/// Files above this size are left out: generated data, vendored bundles, never worth a prompt.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 1024 * 1024;

const GIT_MODE_SYMLINK: u32 = 0o120000;
const GIT_MODE_SUBMODULE: u32 = 0o160000;

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("failed to open {path} as a git repository: {message}")]
    NotARepository { path: String, message: String },
    #[error("failed to use {path}: it is a bare git repository, with no work tree to fix")]
    Bare { path: String },
    #[error("failed to read the git index of {path}: {message}")]
    Index { path: String, message: String },
}

#[derive(Debug)]
pub struct RepoSnapshot {
    root: PathBuf,
    paths: BTreeSet<String>,
    /// Every tracked regular file, whatever its size or content, with its executable bit: what a
    /// test run needs, binary fixtures included.
    tracked: Vec<(String, bool)>,
    overlays: HashMap<String, Arc<str>>,
    /// Read once, so every stage (and `--apply`'s check for concurrent edits) sees the same text.
    cache: Mutex<HashMap<String, Option<Arc<str>>>>,
    max_file_bytes: u64,
}

impl RepoSnapshot {
    /// The repository that contains `dir`; its work tree root becomes the snapshot's root.
    pub fn open(dir: &Path, max_file_bytes: u64) -> Result<RepoSnapshot, SnapshotError> {
        let shown = dir.display().to_string();
        let repo = git2::Repository::discover(dir).map_err(|e| SnapshotError::NotARepository {
            path: shown.clone(),
            message: e.message().to_owned(),
        })?;
        let root = repo
            .workdir()
            .ok_or_else(|| SnapshotError::Bare {
                path: shown.clone(),
            })?
            .to_path_buf();
        let index = repo.index().map_err(|e| SnapshotError::Index {
            path: shown.clone(),
            message: e.message().to_owned(),
        })?;
        let mut paths = BTreeSet::new();
        let mut tracked = Vec::new();
        for entry in index.iter() {
            if entry.mode & 0o170000 == GIT_MODE_SYMLINK
                || entry.mode & 0o170000 == GIT_MODE_SUBMODULE
            {
                continue;
            }
            // Only stage 0: conflicted entries appear once per side.
            if (entry.flags >> 12) & 0x3 != 0 {
                continue;
            }
            let Ok(path) = String::from_utf8(entry.path) else {
                continue;
            };
            match std::fs::symlink_metadata(root.join(&path)) {
                Ok(meta) if meta.is_file() => {
                    tracked.push((path.clone(), entry.mode & 0o111 != 0));
                    if meta.len() <= max_file_bytes {
                        paths.insert(path);
                    }
                }
                _ => {}
            }
        }
        Ok(RepoSnapshot {
            root,
            paths,
            tracked,
            overlays: HashMap::new(),
            cache: Mutex::new(HashMap::new()),
            max_file_bytes,
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The tracked text-file candidates plus overlaid buffers, in path order.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.paths.iter().map(String::as_str)
    }

    pub fn contains(&self, path: &str) -> bool {
        self.paths.contains(path)
    }

    pub fn len(&self) -> usize {
        self.paths.len()
    }

    pub fn is_empty(&self) -> bool {
        self.paths.is_empty()
    }

    /// An unsaved editor buffer: it wins over the file on disk, and a new buffer adds a path.
    pub fn overlay(&mut self, path: &str, content: impl Into<Arc<str>>) {
        self.paths.insert(path.to_owned());
        self.overlays.insert(path.to_owned(), content.into());
    }

    /// Every tracked file's bytes (overlays applied, overlaid new files added), for a sandbox.
    /// A file the job has already read goes in as it was read, so that tests run on the text the
    /// candidates were written against even if it changed on disk since.
    pub fn base_files(&self) -> std::io::Result<Vec<crate::base_file::BaseFile>> {
        let read: HashMap<String, Arc<str>> = self
            .cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter_map(|(path, text)| Some((path.clone(), text.clone()?)))
            .collect();
        let mut files = Vec::with_capacity(self.tracked.len() + self.overlays.len());
        for (path, executable) in &self.tracked {
            let bytes: Arc<[u8]> = match self.overlays.get(path).or_else(|| read.get(path)) {
                Some(text) => Arc::from(text.as_bytes()),
                None => match std::fs::read(self.root.join(path)) {
                    Ok(bytes) => Arc::from(bytes),
                    // Deleted in the work tree since the index was read: the test run sees it gone.
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(e),
                },
            };
            files.push(crate::base_file::BaseFile {
                path: path.clone(),
                bytes,
                executable: *executable,
            });
        }
        for (path, text) in &self.overlays {
            if !self.tracked.iter().any(|(p, _)| p == path) {
                files.push(crate::base_file::BaseFile {
                    path: path.clone(),
                    bytes: Arc::from(text.as_bytes()),
                    executable: false,
                });
            }
        }
        Ok(files)
    }

    fn read_disk(&self, path: &str) -> Option<Arc<str>> {
        let full = self.root.join(path);
        let meta = std::fs::symlink_metadata(&full).ok()?;
        if !meta.is_file() || meta.len() > self.max_file_bytes {
            return None;
        }
        let bytes = std::fs::read(&full).ok()?;
        if bytes.iter().take(8000).any(|b| *b == 0) {
            return None;
        }
        String::from_utf8(bytes).ok().map(Arc::from)
    }
}

impl FileSource for RepoSnapshot {
    fn resolve_path(&self, raw: &str) -> Result<String, String> {
        let trimmed = raw.trim().trim_matches('`').trim();
        if trimmed.is_empty() {
            return Err("the path is empty".into());
        }
        let as_path = Path::new(trimmed);
        if as_path.is_absolute() || trimmed.starts_with('/') || trimmed.starts_with('\\') {
            return Err("absolute paths are refused".into());
        }
        let mut parts: Vec<&str> = Vec::new();
        for component in as_path.components() {
            match component {
                Component::Normal(part) => match part.to_str() {
                    Some(part) => parts.push(part),
                    None => return Err("the path is not valid UTF-8".into()),
                },
                Component::CurDir => {}
                Component::ParentDir => return Err("paths with `..` are refused".into()),
                Component::RootDir | Component::Prefix(_) => {
                    return Err("absolute paths are refused".into())
                }
            }
        }
        if parts.is_empty() {
            return Err("the path names no file".into());
        }
        if parts.contains(&".git") {
            return Err("paths inside .git are refused".into());
        }
        let path = parts.join("/");
        if self.overlays.contains_key(&path) {
            return Ok(path);
        }
        // A symlink anywhere on the way could point outside the repository.
        let mut on_disk = self.root.clone();
        for part in &parts {
            on_disk.push(part);
            match std::fs::symlink_metadata(&on_disk) {
                Ok(meta) if meta.file_type().is_symlink() => {
                    return Err(format!("{path} goes through a symbolic link"))
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
        // Creating a file over an untracked one would lose the user's work.
        if !self.paths.contains(&path) && std::fs::symlink_metadata(&on_disk).is_ok() {
            return Err(format!(
                "{path} exists but is not a tracked text file of the repository"
            ));
        }
        // A tracked binary file reads as absent; an edit must not take it for a new file.
        if self.paths.contains(&path) && self.read(&path).is_none() {
            return Err(format!("{path} is binary or not UTF-8 text"));
        }
        Ok(path)
    }

    fn read(&self, path: &str) -> Option<Arc<str>> {
        if let Some(content) = self.overlays.get(path) {
            return Some(content.clone());
        }
        if !self.paths.contains(path) {
            return None;
        }
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .entry(path.to_owned())
            .or_insert_with(|| self.read_disk(path))
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::apply_edits;
    use crate::edits::SearchReplace;

    #[test]
    fn edits_to_a_tracked_binary_file_are_refused() {
        let repo = swiss_testkit::FixtureRepo::with_files(&[
            ("data.bin", "\0\x01\x02"),
            ("a.py", "x = 1\n"),
        ]);
        let snapshot = RepoSnapshot::open(repo.path(), DEFAULT_MAX_FILE_BYTES).unwrap();
        let create = SearchReplace {
            path: "data.bin".into(),
            search: String::new(),
            replace: "text\n".into(),
        };
        let err = apply_edits(&snapshot, &[create]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "refused to edit data.bin: data.bin is binary or not UTF-8 text"
        );
        let edit = SearchReplace {
            path: "a.py".into(),
            search: "x = 1\n".into(),
            replace: "x = 2\n".into(),
        };
        assert!(apply_edits(&snapshot, &[edit]).is_ok());
    }

    #[test]
    fn the_sandbox_gets_a_file_as_the_job_read_it() {
        let repo =
            swiss_testkit::FixtureRepo::with_files(&[("a.py", "x = 1\n"), ("b.py", "y = 1\n")]);
        let snapshot = RepoSnapshot::open(repo.path(), DEFAULT_MAX_FILE_BYTES).unwrap();
        assert_eq!(snapshot.read("a.py").as_deref(), Some("x = 1\n"));
        // Edited in the editor and saved while the job runs.
        repo.write("a.py", "x = 99\n");
        repo.write("b.py", "y = 2\n");
        let files = snapshot.base_files().unwrap();
        let text = |path: &str| {
            let file = files.iter().find(|f| f.path == path).unwrap();
            String::from_utf8(file.bytes.to_vec()).unwrap()
        };
        assert_eq!(
            text("a.py"),
            "x = 1\n",
            "the text the candidates were written against"
        );
        assert_eq!(
            text("b.py"),
            "y = 2\n",
            "never read by the job: as it is now"
        );
    }
}
