//! Where an issue comes from: a GitHub or GitLab issue (its URL, `owner/repo#N`, or `#N` of the
//! repository's `origin`), a local file, standard input, or text pasted in the editor.
//!
//! Two steps, because they run in different places: [`IssueSources::resolve`] does what is
//! local and quick (reading files, the `origin` remote, parsing) and may block;
//! [`IssueSources::fetch`] talks to the tracker and is async. The result is the engine's
//! [`Issue`], its body holding the description and the comments within a size budget.

mod cache;
mod error;
mod forge;
mod github;
mod gitlab;
mod http;
mod reference;
mod remote;
mod text;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

pub use cache::IssueCache;
pub use error::{Forge, IssueSourceError};
pub use reference::{IssueUrl, Reference, UrlKind};
pub use remote::{origin, parse_remote_url, Origin, RemoteProject};
pub use text::{assemble, strip_markup, Comment, Thread, DEFAULT_MAX_ISSUE_CHARS};

use crate::config::Settings;
use crate::engine::issue::{Issue, IssueError};
use forge::{Endpoint, Forges};
use http::Http;

/// Per request to a tracker; an issue and a few pages of comments take well under a second.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The longest single line still tried as a file path.
const MAX_PATH_LEN: usize = 4096;

/// Where the caller stands, for the parts of a reference that depend on it.
#[derive(Debug, Clone, Default)]
pub struct Lookup<'a> {
    /// The repository whose `origin` remote `#N` refers to.
    pub repo_root: Option<&'a Path>,
    /// Folders a relative file path is looked for in, in order. `PathBuf::new()` is the current
    /// directory, spelled so that messages show the path as given.
    pub dirs: Vec<PathBuf>,
    /// `-` reads standard input (the CLI; in the language server stdin is the protocol).
    pub stdin: bool,
    /// A line that is no file and no reference is the issue's text (the editor), rather than a
    /// file that does not exist (the CLI, where a typo'd path must not become an issue).
    pub pasted_text: bool,
}

/// An issue ready for the engine, and the local file it came from, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedIssue {
    pub issue: Issue,
    pub file: Option<PathBuf>,
}

/// An issue on a tracker, resolved to the API that serves it.
#[derive(Debug, Clone)]
pub struct RemoteIssue {
    /// `owner/repo#N`, as messages name it.
    pub reference: String,
    pub project: String,
    pub number: u64,
    endpoint: Endpoint,
}

impl RemoteIssue {
    pub fn forge(&self) -> Forge {
        self.endpoint.forge
    }

    fn cache_key(&self) -> String {
        format!(
            "{} {} {} {}",
            self.endpoint.forge.section(),
            self.endpoint.display_api(),
            self.project,
            self.number
        )
    }
}

/// What [`IssueSources::resolve`] found: read already, or still to fetch.
#[derive(Debug, Clone)]
pub enum Resolved {
    Ready(LoadedIssue),
    Remote(RemoteIssue),
}

/// The configured trackers, an HTTP client, the process's cache and the size budget.
#[derive(Debug, Clone)]
pub struct IssueSources {
    forges: Forges,
    http: Http,
    cache: Arc<IssueCache>,
    max_chars: usize,
}

impl IssueSources {
    pub fn new(settings: &Settings) -> Result<IssueSources, IssueSourceError> {
        Ok(IssueSources {
            forges: Forges::new(&settings.github, &settings.gitlab)?,
            http: Http::new(DEFAULT_TIMEOUT)?,
            cache: IssueCache::shared(),
            max_chars: settings.issue_max_chars,
        })
    }

    pub fn with_cache(mut self, cache: Arc<IssueCache>) -> IssueSources {
        self.cache = cache;
        self
    }

    /// Reads what is local and decides what is remote. In order: `-`; text of several lines;
    /// an existing file; an issue URL or reference; then pasted text or a file to read,
    /// as `lookup` says. Blocks on the file system and on standard input.
    pub fn resolve(&self, input: &str, lookup: &Lookup<'_>) -> Result<Resolved, IssueSourceError> {
        let trimmed = input.trim();
        if trimmed == "-" {
            if !lookup.stdin {
                return Err(IssueSourceError::NoStdin);
            }
            let issue = Issue::from_reference("-")?;
            return Ok(Resolved::Ready(LoadedIssue { issue, file: None }));
        }
        if trimmed.contains('\n') || trimmed.len() > MAX_PATH_LEN {
            return pasted(trimmed);
        }
        if let Some(file) = find_file(trimmed, &lookup.dirs) {
            return read_file(file);
        }
        match Reference::parse(trimmed) {
            Ok(Some(reference)) => {
                return self
                    .locate(reference, trimmed, lookup)
                    .map(Resolved::Remote)
            }
            Ok(None) => {}
            Err(reason) => {
                return Err(IssueSourceError::BadReference {
                    input: trimmed.to_owned(),
                    reason,
                })
            }
        }
        if lookup.pasted_text {
            pasted(trimmed)
        } else {
            read_file(PathBuf::from(trimmed))
        }
    }

    /// The issue from its tracker, or from this process's cache when it was fetched lately.
    pub async fn fetch(&self, remote: &RemoteIssue) -> Result<Issue, IssueSourceError> {
        let key = remote.cache_key();
        let thread = match self.cache.get(&key) {
            Some(thread) => {
                tracing::debug!(reference = %remote.reference, "issue from the cache");
                thread
            }
            None => {
                let thread = match remote.endpoint.forge {
                    Forge::GitHub => {
                        github::fetch(
                            &self.http,
                            &remote.endpoint,
                            &remote.project,
                            remote.number,
                            &remote.reference,
                        )
                        .await?
                    }
                    Forge::GitLab => {
                        gitlab::fetch(
                            &self.http,
                            &remote.endpoint,
                            &remote.project,
                            remote.number,
                            &remote.reference,
                        )
                        .await?
                    }
                };
                tracing::info!(
                    reference = %remote.reference,
                    comments = thread.comments.len(),
                    "issue fetched"
                );
                let thread = Arc::new(thread);
                self.cache.insert(key, thread.clone());
                thread
            }
        };
        Ok(assemble(&thread, self.max_chars))
    }

    /// [`IssueSources::resolve`], then [`IssueSources::fetch`] when it is remote. Local reads
    /// block the calling thread.
    pub async fn load(
        &self,
        input: &str,
        lookup: &Lookup<'_>,
    ) -> Result<LoadedIssue, IssueSourceError> {
        match self.resolve(input, lookup)? {
            Resolved::Ready(loaded) => Ok(loaded),
            Resolved::Remote(remote) => Ok(LoadedIssue {
                issue: self.fetch(&remote).await?,
                file: None,
            }),
        }
    }

    /// The tracker of an issue URL; pull and merge requests are refused.
    fn url_forge(&self, url: &IssueUrl, input: &str) -> Result<Forge, IssueSourceError> {
        let what = match url.kind {
            UrlKind::PullRequest => "pull request",
            UrlKind::MergeRequest => "merge request",
            UrlKind::GitLabIssues => return Ok(Forge::GitLab),
            UrlKind::Issues => {
                return self.forges.forge_of(&url.host).ok_or_else(|| {
                    IssueSourceError::UnknownHost {
                        input: input.to_owned(),
                        host: url.host.clone(),
                    }
                })
            }
        };
        Err(IssueSourceError::NotAnIssue {
            reference: format!("{}#{}", url.project, url.number),
            what,
        })
    }

    /// `#N`: the project the repository's `origin` remote names, and its tracker.
    fn origin_project(
        &self,
        lookup: &Lookup<'_>,
        number: u64,
    ) -> Result<(Forge, RemoteProject), IssueSourceError> {
        let input = format!("#{number}");
        let Some(root) = lookup.repo_root else {
            return Err(IssueSourceError::NoOrigin { input });
        };
        let project = match origin(root) {
            Origin::Missing => return Err(IssueSourceError::NoOrigin { input }),
            Origin::Unusable(why) => {
                return Err(IssueSourceError::Origin {
                    reason: format!(
                        "the `origin` remote names no hosted project ({why}); write owner/repo{input} or give the issue URL"
                    ),
                    input,
                })
            }
            Origin::Project(project) => project,
        };
        let forge =
            self.forges
                .forge_of(&project.host)
                .ok_or_else(|| IssueSourceError::UnknownHost {
                    input: input.clone(),
                    host: project.host.clone(),
                })?;
        Ok((forge, project))
    }

    fn locate(
        &self,
        reference: Reference,
        input: &str,
        lookup: &Lookup<'_>,
    ) -> Result<RemoteIssue, IssueSourceError> {
        let (endpoint, project, number) = match reference {
            Reference::Url(url) => {
                let forge = self.url_forge(&url, input)?;
                (
                    self.forges.endpoint(forge, &url.host, Some(&url.origin)),
                    url.project,
                    url.number,
                )
            }
            Reference::Qualified { project, number } => {
                // `owner/repo#N` names a project on the tracker the repository lives on; with
                // no such remote, GitHub's convention is the likeliest meaning.
                let home = lookup.repo_root.map(origin).and_then(|o| match o {
                    Origin::Project(p) => self.forges.forge_of(&p.host).map(|f| (f, p.host)),
                    _ => None,
                });
                let (forge, host) = home.unwrap_or((Forge::GitHub, "github.com".to_owned()));
                (self.forges.endpoint(forge, &host, None), project, number)
            }
            Reference::Local { number } => {
                let (forge, project) = self.origin_project(lookup, number)?;
                (
                    self.forges.endpoint(forge, &project.host, None),
                    project.project,
                    number,
                )
            }
        };
        if endpoint.forge == Forge::GitHub && project.matches('/').count() != 1 {
            return Err(IssueSourceError::BadReference {
                input: input.to_owned(),
                reason: format!(
                    "`{project}` is no GitHub repository (owner/repo); if it is on a GitLab server, add that host to gitlab.hosts"
                ),
            });
        }
        Ok(RemoteIssue {
            reference: format!("{project}#{number}"),
            project,
            number,
            endpoint,
        })
    }
}

fn pasted(text: &str) -> Result<Resolved, IssueSourceError> {
    let issue = Issue::from_text(text, "the issue text")?;
    Ok(Resolved::Ready(LoadedIssue { issue, file: None }))
}

fn find_file(input: &str, dirs: &[PathBuf]) -> Option<PathBuf> {
    let path = Path::new(input);
    if path.is_absolute() {
        return path.is_file().then(|| path.to_path_buf());
    }
    dirs.iter().map(|dir| dir.join(path)).find(|p| p.is_file())
}

fn read_file(path: PathBuf) -> Result<Resolved, IssueSourceError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(&path).map_err(|source| IssueError::Read {
        path: shown.clone(),
        source,
    })?;
    let issue = Issue::from_text(&text, &shown)?;
    Ok(Resolved::Ready(LoadedIssue {
        issue,
        file: Some(path),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Options, Secret};

    fn sources(configure: impl FnOnce(&mut Options)) -> IssueSources {
        let mut options = Options::default();
        configure(&mut options);
        IssueSources::new(&Settings::resolve(&options).unwrap()).unwrap()
    }

    fn remote(resolved: Resolved) -> RemoteIssue {
        match resolved {
            Resolved::Remote(remote) => remote,
            Resolved::Ready(loaded) => panic!("read locally: {loaded:?}"),
        }
    }

    fn editor(root: &Path) -> Lookup<'_> {
        Lookup {
            repo_root: Some(root),
            dirs: vec![root.to_path_buf()],
            stdin: false,
            pasted_text: true,
        }
    }

    fn repo_with_origin(url: Option<&str>) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let repo = git2::Repository::init(dir.path()).unwrap();
        if let Some(url) = url {
            repo.remote("origin", url).unwrap();
        }
        dir
    }

    #[test]
    fn urls_pick_the_tracker_and_its_api() {
        let s = sources(|_| {});
        let lookup = Lookup::default();
        let r = remote(
            s.resolve("https://github.com/acme/calc/issues/7", &lookup)
                .unwrap(),
        );
        assert_eq!(
            (r.forge(), r.reference.as_str()),
            (Forge::GitHub, "acme/calc#7")
        );
        assert_eq!(r.endpoint.api.as_str(), "https://api.github.com/");
        let r = remote(
            s.resolve("https://gitlab.com/group/sub/repo/-/issues/3", &lookup)
                .unwrap(),
        );
        assert_eq!(
            (r.forge(), r.reference.as_str()),
            (Forge::GitLab, "group/sub/repo#3")
        );
        let r = remote(
            s.resolve("https://git.example.org/team/app/-/issues/5", &lookup)
                .unwrap(),
        );
        assert_eq!(r.endpoint.api.as_str(), "https://git.example.org/api/v4");
        let err = s
            .resolve("https://git.example.org/team/app/issues/5", &lookup)
            .unwrap_err();
        assert!(err.to_string().contains("add it to gitlab.hosts"), "{err}");
        let err = s
            .resolve("https://github.com/acme/calc/pull/9", &lookup)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "failed to fetch acme/calc#9: it is a pull request, not an issue; give the issue it addresses instead"
        );
        let err = s
            .resolve("https://github.com/acme/calc", &lookup)
            .unwrap_err();
        assert!(
            err.to_string().starts_with(
                "failed to resolve `https://github.com/acme/calc`: it is not an issue URL"
            ),
            "{err}"
        );
    }

    #[test]
    fn short_references_follow_the_origin_remote() {
        let s = sources(|o| {
            o.gitlab.hosts = Some(vec!["git.example.org".into()]);
            o.gitlab.token = Some(Secret::new("glpat"));
        });
        let github = repo_with_origin(Some("git@github.com:acme/calc.git"));
        let r = remote(s.resolve("#12", &editor(github.path())).unwrap());
        assert_eq!(
            (r.forge(), r.reference.as_str()),
            (Forge::GitHub, "acme/calc#12")
        );
        let r = remote(s.resolve("12", &editor(github.path())).unwrap());
        assert_eq!(r.reference, "acme/calc#12");
        let r = remote(s.resolve("other/lib#3", &editor(github.path())).unwrap());
        assert_eq!(
            (r.forge(), r.reference.as_str()),
            (Forge::GitHub, "other/lib#3")
        );

        let gitlab = repo_with_origin(Some("ssh://git@git.example.org:2222/team/platform/api.git"));
        let r = remote(s.resolve("#4", &editor(gitlab.path())).unwrap());
        assert_eq!(
            (r.forge(), r.reference.as_str()),
            (Forge::GitLab, "team/platform/api#4")
        );
        assert_eq!(r.endpoint.api.as_str(), "https://git.example.org/api/v4");
        assert!(r.endpoint.token.is_some());
        let r = remote(s.resolve("team/other#5", &editor(gitlab.path())).unwrap());
        assert_eq!(
            r.forge(),
            Forge::GitLab,
            "owner/repo#N stays on the origin's tracker"
        );

        let none = repo_with_origin(None);
        let err = s.resolve("#12", &editor(none.path())).unwrap_err();
        assert_eq!(
            err.to_string(),
            "failed to resolve #12: the repository has no `origin` remote to take the issue from; write owner/repo#12 or give the issue URL"
        );
        let r = remote(s.resolve("acme/calc#7", &editor(none.path())).unwrap());
        assert_eq!(r.forge(), Forge::GitHub);
        let err = s.resolve("a/b/c#7", &editor(none.path())).unwrap_err();
        assert!(err.to_string().contains("no GitHub repository"), "{err}");

        let unknown = repo_with_origin(Some("https://token:secret@code.example.net/a/b.git"));
        let err = s.resolve("#1", &editor(unknown.path())).unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains("`code.example.net` is neither GitHub"),
            "{message}"
        );
        assert!(!message.contains("secret"), "{message}");
        let local = repo_with_origin(Some("/srv/git/calc.git"));
        let err = s.resolve("#1", &editor(local.path())).unwrap_err();
        assert!(err.to_string().contains("names no hosted project"), "{err}");
    }

    #[test]
    fn files_and_pasted_text() {
        let s = sources(|_| {});
        let dir = repo_with_origin(None);
        std::fs::write(dir.path().join("bug.md"), "# Bug\n\nIt breaks.\n").unwrap();
        // A file called like a reference is still the file.
        std::fs::write(dir.path().join("12"), "Twelve\n").unwrap();
        let lookup = editor(dir.path());
        let Resolved::Ready(loaded) = s.resolve("bug.md", &lookup).unwrap() else {
            panic!("not read")
        };
        assert_eq!(loaded.issue.title, "Bug");
        assert_eq!(loaded.file, Some(dir.path().join("bug.md")));
        let Resolved::Ready(loaded) = s.resolve("12", &lookup).unwrap() else {
            panic!("not read")
        };
        assert_eq!(loaded.issue.title, "Twelve");
        for text in [
            "Crash when dividing by zero",
            "Crash in #12\nwhen b is 0",
            "fix #12 please",
        ] {
            let Resolved::Ready(loaded) = s.resolve(text, &lookup).unwrap() else {
                panic!("{text}: not pasted text")
            };
            assert_eq!(loaded.file, None);
            assert!(text.starts_with(&loaded.issue.title), "{text}");
        }
        assert!(matches!(
            s.resolve("-", &lookup),
            Err(IssueSourceError::NoStdin)
        ));

        let cli = Lookup {
            repo_root: Some(dir.path()),
            dirs: vec![PathBuf::new()],
            stdin: true,
            pasted_text: false,
        };
        let err = s.resolve("/nonexistent/issue.md", &cli).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("failed to read the issue file /nonexistent/issue.md"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn fetches_are_cached_and_odd_answers_are_errors() {
        use swiss_testkit::{IssueTracker, TrackerResponse};
        let tracker = IssueTracker::start();
        tracker.github_issue("acme/calc", 1, "Title", "Body", &[("a", "x"), ("b", "y")]);
        let issue_with_comments = serde_json::json!({"title": "T", "body": null, "comments": 1});
        tracker.route(
            "/repos/acme/calc/issues/2",
            TrackerResponse::json(200, issue_with_comments.to_string()),
        );
        tracker.route(
            "/repos/acme/calc/issues/2/comments",
            TrackerResponse::json(200, "[]")
                .with_header("Link", r#"<https://elsewhere.example/p2>; rel="next""#),
        );
        tracker.route(
            "/repos/acme/calc/issues/3",
            TrackerResponse::json(502, "<html>bad gateway</html>"),
        );
        tracker.route(
            "/repos/acme/calc/issues/4",
            TrackerResponse::json(200, "[1, 2]"),
        );
        let s = sources(|o| o.github.api_url = Some(tracker.github_api_url()))
            .with_cache(Arc::new(IssueCache::new(cache::DEFAULT_TTL)));
        let lookup = Lookup::default();

        let first = s
            .load("https://github.com/acme/calc/issues/1", &lookup)
            .await
            .unwrap();
        assert_eq!(
            first.issue.body,
            "Body\n\nComment by @a:\nx\n\nComment by @b:\ny"
        );
        let again = s.load("acme/calc#1", &lookup).await.unwrap();
        assert_eq!(first, again);
        assert_eq!(
            tracker.requests().len(),
            3,
            "the second load is the cache's"
        );
        let short = sources(|o| {
            o.github.api_url = Some(tracker.github_api_url());
            o.issue.max_chars = Some(30);
        })
        .with_cache(s.cache.clone())
        .load("acme/calc#1", &lookup)
        .await
        .unwrap();
        assert!(short.issue.body.contains("left out here"), "{short:?}");

        let err = s.load("acme/calc#2", &lookup).await.unwrap_err();
        assert!(
            err.to_string()
                .contains("the next page of comments is on another server (elsewhere.example)"),
            "{err}"
        );
        let err = s.load("acme/calc#3", &lookup).await.unwrap_err();
        assert!(err.is_service_failure());
        assert!(
            err.to_string()
                .contains("HTTP 502: <html>bad gateway</html>; try again later"),
            "{err}"
        );
        let err = s.load("acme/calc#4", &lookup).await.unwrap_err();
        assert!(!err.is_service_failure());
        assert!(err.to_string().starts_with("failed to read GitHub's answer for acme/calc#4: the JSON is not what the GitHub API returns"), "{err}");
    }
}
