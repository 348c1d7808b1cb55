//! The project a git remote URL points at: `#123` means an issue of the repository's `origin`.

use std::path::Path;

/// A hosted project, as far as the remote URL tells: the host and the project's path there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteProject {
    /// Lower-case, without user or port.
    pub host: String,
    /// `owner/repo` or `group/subgroup/project`, without `.git`.
    pub project: String,
}

impl std::fmt::Display for RemoteProject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.host, self.project)
    }
}

/// Parses the remote URL forms git accepts for hosted projects:
/// `https://[user[:password]@]host[:port]/path`, `ssh://[user@]host[:port]/path`,
/// `git://host/path`, and scp-like `[user@]host:path`. Local paths and `file://` give `None`.
pub fn parse_remote_url(url: &str) -> Option<RemoteProject> {
    let url = url.trim();
    let (authority, path) = if let Some((scheme, rest)) = url.split_once("://") {
        let scheme = scheme.to_ascii_lowercase();
        if !matches!(
            scheme.as_str(),
            "https" | "http" | "ssh" | "git" | "git+ssh" | "ssh+git"
        ) {
            return None;
        }
        rest.split_once('/')?
    } else {
        // scp-like syntax. Git reads `a/b:c` as a path (a slash before the colon), and so is
        // `C:/x`, a Windows drive.
        let (authority, path) = url.split_once(':')?;
        if authority.contains('/') || authority.len() < 2 {
            return None;
        }
        (authority, path)
    };
    // The credentials in `https://user:token@host/…` are dropped here, so nothing derived from
    // a remote (messages included) can carry them.
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = match host_port.strip_prefix('[') {
        Some(v6) => v6.split_once(']')?.0,
        None => host_port.split(':').next()?,
    };
    if host.is_empty() {
        return None;
    }
    let host = canonical_host(&host.to_ascii_lowercase());
    let path = path.trim_matches('/');
    let path = path
        .strip_suffix(".git")
        .unwrap_or(path)
        .trim_end_matches('/');
    let project = path.strip_prefix("~").unwrap_or(path);
    if !super::reference::is_project_path(project) {
        return None;
    }
    Some(RemoteProject {
        host,
        project: project.to_owned(),
    })
}

/// The SSH-over-443 endpoints serve the same projects as the main hosts.
fn canonical_host(host: &str) -> String {
    match host {
        "ssh.github.com" | "www.github.com" => "github.com".to_owned(),
        "altssh.gitlab.com" | "www.gitlab.com" => "gitlab.com".to_owned(),
        other => other.to_owned(),
    }
}

/// What the repository's `origin` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// No repository, or no remote called `origin`.
    Missing,
    Project(RemoteProject),
    /// A remote that names no hosted project (a local path, `file://`), described without any
    /// credentials it might hold.
    Unusable(String),
}

/// Reads the `origin` remote of the repository at `root`.
pub fn origin(root: &Path) -> Origin {
    let Ok(repo) = git2::Repository::open(root) else {
        return Origin::Missing;
    };
    let remote = match repo.find_remote("origin") {
        Ok(remote) => remote,
        Err(_) => return Origin::Missing,
    };
    let Some(url) = remote.url() else {
        return Origin::Unusable("its URL is not UTF-8".to_owned());
    };
    match parse_remote_url(url) {
        Some(project) => Origin::Project(project),
        None if url.contains("://") && !url.starts_with("file://") => {
            Origin::Unusable("its URL names no owner/repository path".to_owned())
        }
        None => Origin::Unusable("it is a local path, not a hosted project".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(url: &str) -> (String, String) {
        let p = parse_remote_url(url).unwrap_or_else(|| panic!("{url} did not parse"));
        (p.host, p.project)
    }

    fn pair(host: &str, project: &str) -> (String, String) {
        (host.to_owned(), project.to_owned())
    }

    #[test]
    fn https_forms() {
        for url in [
            "https://github.com/acme/calc.git",
            "https://github.com/acme/calc",
            "https://github.com/acme/calc/",
            "http://github.com/acme/calc.git",
            "https://x-access-token:ghp_secret@github.com/acme/calc.git",
            "https://user@GitHub.com:443/acme/calc.git",
            "https://www.github.com/acme/calc",
        ] {
            assert_eq!(parsed(url), pair("github.com", "acme/calc"), "{url}");
        }
    }

    #[test]
    fn ssh_forms() {
        for url in [
            "git@github.com:acme/calc.git",
            "git@github.com:acme/calc",
            "github.com:acme/calc.git",
            "ssh://git@github.com/acme/calc.git",
            "ssh://git@ssh.github.com:443/acme/calc.git",
            "git+ssh://git@github.com/acme/calc.git",
            "git://github.com/acme/calc.git",
            "git@github.com:/acme/calc.git",
        ] {
            assert_eq!(parsed(url), pair("github.com", "acme/calc"), "{url}");
        }
    }

    #[test]
    fn gitlab_subgroups_and_self_hosted_hosts() {
        assert_eq!(
            parsed("git@gitlab.com:group/sub/repo.git"),
            pair("gitlab.com", "group/sub/repo")
        );
        assert_eq!(
            parsed("ssh://git@git.example.org:2222/team/platform/api.git"),
            pair("git.example.org", "team/platform/api")
        );
        assert_eq!(
            parsed("https://git.example.org:8443/team/api.git"),
            pair("git.example.org", "team/api")
        );
        assert_eq!(
            parsed("ssh://git@[2001:db8::1]:22/team/api.git"),
            pair("2001:db8::1", "team/api")
        );
    }

    #[test]
    fn credentials_never_reach_the_project() {
        let p = parse_remote_url("https://oauth2:glpat-secret@gitlab.com/g/p.git").unwrap();
        assert!(!p.to_string().contains("secret"), "{p}");
        assert_eq!(p.to_string(), "gitlab.com/g/p");
    }

    #[test]
    fn local_and_odd_remotes_are_not_projects() {
        for url in [
            "/srv/git/calc.git",
            "../calc",
            "./a:b/c",
            "file:///srv/git/acme/calc.git",
            "C:/repos/calc",
            "https://github.com/calc.git",
            "https://github.com",
            "git@github.com:calc.git",
            "",
        ] {
            assert_eq!(parse_remote_url(url), None, "{url}");
        }
    }

    #[test]
    fn origin_of_a_repository() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(origin(dir.path()), Origin::Missing);
        let repo = git2::Repository::init(dir.path()).unwrap();
        assert_eq!(origin(dir.path()), Origin::Missing);
        repo.remote("origin", "git@gitlab.com:group/sub/repo.git")
            .unwrap();
        assert_eq!(
            origin(dir.path()),
            Origin::Project(RemoteProject {
                host: "gitlab.com".into(),
                project: "group/sub/repo".into()
            })
        );
        repo.remote_set_url("origin", "/srv/git/repo.git").unwrap();
        assert!(matches!(origin(dir.path()), Origin::Unusable(_)));
    }
}
