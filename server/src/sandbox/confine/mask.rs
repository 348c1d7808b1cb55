//! The locations hidden from a confined run: where credentials live, and the sockets of
//! services that act for the user (the Docker engine, the session bus, agents). The rest of
//! the system stays visible, read-only, since projects, venvs and toolchains live anywhere.

use std::path::{Path, PathBuf};

/// Under HOME. A trailing `*` matches every name that starts with what precedes it.
pub const HOME_SECRETS: &[&str] = &[
    ".ssh",
    ".aws",
    ".azure",
    ".config/gcloud",
    ".config/gh",
    ".docker",
    ".kube",
    ".netrc",
    ".git-credentials",
    ".pypirc",
    ".npmrc",
    ".cargo/credentials*",
];

/// Sockets whose service would do for the run what the sandbox forbids: a socket on a
/// read-only mount can still be connected to, and the Docker engine's is as good as root.
pub const SERVICE_SOCKETS: &[&str] = &[
    "/run/docker.sock",
    "/var/run/docker.sock",
    "/run/podman",
    "/run/user",
    "/run/dbus",
    "/run/screen",
    "/tmp/.X11-unix",
    "/tmp/tmux-*",
    "/tmp/ssh-*",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaskKind {
    /// Replaced by an empty, read-only folder.
    Dir,
    /// Replaced by an empty file (a socket, a credentials file).
    File,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mask {
    pub path: PathBuf,
    pub kind: MaskKind,
}

/// The masks that exist on this machine, as real paths (a mask on a symlink would hide the
/// link, not what it points at). `extra` is `sandbox.mask`: absolute paths or `~/…`.
pub fn resolve(home: Option<&Path>, extra: &[String], agent_socket: Option<&Path>) -> Vec<Mask> {
    let mut patterns: Vec<PathBuf> = Vec::new();
    if let Some(home) = home {
        patterns.extend(HOME_SECRETS.iter().map(|rel| home.join(rel)));
    }
    patterns.extend(SERVICE_SOCKETS.iter().map(PathBuf::from));
    patterns.extend(agent_socket.map(Path::to_path_buf));
    for entry in extra {
        match (entry.strip_prefix("~/"), home) {
            (Some(rel), Some(home)) => patterns.push(home.join(rel)),
            (Some(_), None) => {}
            (None, _) => patterns.push(PathBuf::from(entry)),
        }
    }
    let mut found: Vec<PathBuf> = patterns.iter().flat_map(|p| expand(p)).collect();
    found.sort();
    found.dedup();
    // A mask inside another is hidden already, and mounting on it would fail.
    let outer: Vec<PathBuf> = found.clone();
    found.retain(|path| !outer.iter().any(|o| o != path && path.starts_with(o)));
    found
        .into_iter()
        .filter_map(|path| {
            let meta = std::fs::metadata(&path).ok()?;
            let kind = if meta.is_dir() {
                MaskKind::Dir
            } else {
                MaskKind::File
            };
            Some(Mask { path, kind })
        })
        .collect()
}

/// The existing real paths a pattern names.
fn expand(pattern: &Path) -> Vec<PathBuf> {
    let text = pattern.to_string_lossy();
    let Some(prefix) = text.strip_suffix('*') else {
        return std::fs::canonicalize(pattern).into_iter().collect();
    };
    let prefix = Path::new(prefix);
    let (Some(dir), Some(start)) = (prefix.parent(), prefix.file_name()) else {
        return Vec::new();
    };
    let start = start.to_string_lossy();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter(|entry| entry.file_name().to_string_lossy().starts_with(&*start))
        .filter_map(|entry| std::fs::canonicalize(entry.path()).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_secrets_that_exist_and_only_those() {
        let home = tempfile::tempdir().unwrap();
        let home_path = std::fs::canonicalize(home.path()).unwrap();
        std::fs::create_dir_all(home_path.join(".ssh")).unwrap();
        std::fs::create_dir_all(home_path.join(".ssh/keys")).unwrap();
        std::fs::write(home_path.join(".netrc"), "machine x").unwrap();
        std::fs::create_dir_all(home_path.join(".cargo")).unwrap();
        std::fs::write(home_path.join(".cargo/credentials.toml"), "t").unwrap();
        std::fs::write(home_path.join(".cargo/config.toml"), "").unwrap();
        std::fs::write(home_path.join("mine.key"), "k").unwrap();
        let masks = resolve(
            Some(&home_path),
            &["~/mine.key".to_owned(), "~/absent".to_owned()],
            None,
        );
        let in_home: Vec<(PathBuf, MaskKind)> = masks
            .into_iter()
            .filter(|m| m.path.starts_with(&home_path))
            .map(|m| (m.path.strip_prefix(&home_path).unwrap().to_owned(), m.kind))
            .collect();
        assert_eq!(
            in_home,
            [
                (PathBuf::from(".cargo/credentials.toml"), MaskKind::File),
                (PathBuf::from(".netrc"), MaskKind::File),
                (PathBuf::from(".ssh"), MaskKind::Dir),
                (PathBuf::from("mine.key"), MaskKind::File),
            ]
        );
    }
}
