//! What a user types to name an issue on a tracker: an issue URL, `owner/repo#N`, `#N` or `N`.
//! Parsing only: which tracker and which API serve it is decided later, from the settings and the
//! repository's `origin`.

/// A reference to an issue on a tracker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reference {
    Url(IssueUrl),
    /// `owner/repo#N`, or GitLab's `group/subgroup/project#N`.
    Qualified {
        project: String,
        number: u64,
    },
    /// `#N` or `N`: an issue of the repository's own project (its `origin` remote).
    Local {
        number: u64,
    },
}

/// A web URL of an issue (or of a pull or merge request, which is refused later with a message
/// better than "not an issue URL").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueUrl {
    /// `https://host[:port]`, for a GitLab instance the settings do not name.
    pub origin: String,
    /// Lower-case, without the port.
    pub host: String,
    /// `owner/repo`, or `group/subgroup/project`.
    pub project: String,
    pub number: u64,
    pub kind: UrlKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlKind {
    /// `…/owner/repo/issues/N`: GitHub, or GitLab's older form.
    Issues,
    /// `…/group/project/-/issues/N`, or the `/-/work_items/N` form GitLab 17 links issues
    /// with (an issue's work item has the issue's number): GitLab only.
    GitLabIssues,
    /// `…/owner/repo/pull/N`.
    PullRequest,
    /// `…/group/project/-/merge_requests/N`.
    MergeRequest,
}

impl Reference {
    /// `Ok(None)` when `text` is not shaped like a reference at all (a path, pasted text);
    /// `Err` with the reason when it is a web URL but not one of an issue, since no file or
    /// issue text looks like that.
    pub fn parse(text: &str) -> Result<Option<Reference>, String> {
        let text = text.trim();
        if text.is_empty() || text.contains(char::is_whitespace) {
            return Ok(None);
        }
        let lower = text.to_ascii_lowercase();
        if lower.starts_with("https://") || lower.starts_with("http://") {
            return parse_url(text).map(|url| Some(Reference::Url(url)));
        }
        if let Some(number) = number(text.strip_prefix('#').unwrap_or(text)) {
            return Ok(Some(Reference::Local { number }));
        }
        let Some((project, n)) = text.rsplit_once('#') else {
            return Ok(None);
        };
        match (number(n), is_project_path(project)) {
            (Some(number), true) => Ok(Some(Reference::Qualified {
                project: project.to_owned(),
                number,
            })),
            _ => Ok(None),
        }
    }
}

fn parse_url(text: &str) -> Result<IssueUrl, String> {
    let not_an_issue = || {
        "it is not an issue URL; expected https://github.com/OWNER/REPO/issues/N or \
         https://gitlab.com/GROUP/PROJECT/-/issues/N"
            .to_owned()
    };
    let url = reqwest::Url::parse(text).map_err(|e| format!("it is not a valid URL ({e})"))?;
    let host = url
        .host_str()
        .ok_or_else(not_an_issue)?
        .to_ascii_lowercase();
    let origin = match url.port() {
        Some(port) => format!("{}://{host}:{port}", url.scheme()),
        None => format!("{}://{host}", url.scheme()),
    };
    let segments: Vec<&str> = url
        .path_segments()
        .map(|s| s.filter(|s| !s.is_empty()).collect())
        .unwrap_or_default();
    // The last `issues/N` pair: a project may well be called `issues`. Trailing segments are
    // allowed for pull requests (`/pull/5/files`), whose URLs are often copied from a tab.
    let at = (0..segments.len().saturating_sub(1))
        .rev()
        .find(|&i| {
            matches!(
                segments[i],
                "issues" | "work_items" | "pull" | "pulls" | "merge_requests"
            ) && number(segments[i + 1]).is_some()
        })
        .ok_or_else(not_an_issue)?;
    let trailing = segments.len() - at - 2;
    let number = number(segments[at + 1]).ok_or_else(not_an_issue)?;
    let (project, dash) = match &segments[..at] {
        [rest @ .., "-"] => (rest, true),
        all => (all, false),
    };
    let kind = match (segments[at], dash) {
        ("issues", false) => UrlKind::Issues,
        ("issues" | "work_items", true) => UrlKind::GitLabIssues,
        ("pull" | "pulls", false) => UrlKind::PullRequest,
        ("merge_requests", _) => UrlKind::MergeRequest,
        _ => return Err(not_an_issue()),
    };
    if trailing > 0 && matches!(kind, UrlKind::Issues | UrlKind::GitLabIssues) {
        return Err(not_an_issue());
    }
    let project = project.join("/");
    if !is_project_path(&project) {
        return Err(not_an_issue());
    }
    Ok(IssueUrl {
        origin,
        host,
        project,
        number,
        kind,
    })
}

/// Issue numbers start at 1; ten digits is more than any tracker hands out.
fn number(text: &str) -> Option<u64> {
    if text.is_empty() || text.len() > 10 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok().filter(|&n| n > 0)
}

/// Two or more `/`-separated names of the characters GitHub and GitLab allow.
pub(super) fn is_project_path(text: &str) -> bool {
    let parts: Vec<&str> = text.split('/').collect();
    parts.len() >= 2
        && parts.iter().all(|part| {
            !part.is_empty()
                && !matches!(*part, "." | "..")
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> IssueUrl {
        match Reference::parse(text) {
            Ok(Some(Reference::Url(url))) => url,
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn github_issue_urls() {
        let u = url("https://github.com/acme/calc/issues/7");
        assert_eq!(
            u,
            IssueUrl {
                origin: "https://github.com".into(),
                host: "github.com".into(),
                project: "acme/calc".into(),
                number: 7,
                kind: UrlKind::Issues,
            }
        );
        let u = url("https://GitHub.com/acme/calc/issues/7/#issuecomment-1?x=1");
        assert_eq!((u.host.as_str(), u.number), ("github.com", 7));
        let u = url("https://github.com/acme/issues/issues/3");
        assert_eq!((u.project.as_str(), u.number), ("acme/issues", 3));
    }

    #[test]
    fn gitlab_issue_urls_with_subgroups_and_ports() {
        let u = url("https://gitlab.com/group/sub/project/-/issues/42");
        assert_eq!(u.project, "group/sub/project");
        assert_eq!((u.number, u.kind), (42, UrlKind::GitLabIssues));
        let u = url("http://git.example.org:8080/team/app/-/issues/5");
        assert_eq!(u.origin, "http://git.example.org:8080");
        assert_eq!(u.host, "git.example.org");
        let u = url("https://gitlab.com/group/sub/project/-/work_items/17");
        assert_eq!(u.project, "group/sub/project");
        assert_eq!((u.number, u.kind), (17, UrlKind::GitLabIssues));
        assert!(Reference::parse("https://github.com/o/r/work_items/3").is_err());
    }

    #[test]
    fn pull_and_merge_requests_are_recognised_to_be_refused() {
        assert_eq!(
            url("https://github.com/o/r/pull/5/files").kind,
            UrlKind::PullRequest
        );
        assert_eq!(
            url("https://gitlab.com/g/p/-/merge_requests/9").kind,
            UrlKind::MergeRequest
        );
    }

    #[test]
    fn other_urls_are_errors() {
        for text in [
            "https://github.com/o/r",
            "https://github.com/o/r/issues",
            "https://github.com/o/r/issues/0",
            "https://github.com/issues/5",
            "https://github.com/o/r/issues/5/comments",
            "https://github.com/o/r/discussions/5",
        ] {
            let err = Reference::parse(text).unwrap_err();
            assert!(err.contains("not an issue URL"), "{text}: {err}");
        }
    }

    #[test]
    fn short_references() {
        assert_eq!(
            Reference::parse("#12"),
            Ok(Some(Reference::Local { number: 12 }))
        );
        assert_eq!(
            Reference::parse(" 12 "),
            Ok(Some(Reference::Local { number: 12 }))
        );
        assert_eq!(
            Reference::parse("acme/calc#7"),
            Ok(Some(Reference::Qualified {
                project: "acme/calc".into(),
                number: 7
            }))
        );
        assert_eq!(
            Reference::parse("group/sub.group/my_project#3"),
            Ok(Some(Reference::Qualified {
                project: "group/sub.group/my_project".into(),
                number: 3
            }))
        );
    }

    #[test]
    fn not_references() {
        for text in [
            "issue.md",
            "docs/bug.md",
            "#0",
            "#",
            "#12a",
            "calc#7",
            "a//b#7",
            "../x#7",
            "a/b#",
            "fix #12 please",
            "Division by zero\nwhen b is 0",
            "12345678901",
        ] {
            assert_eq!(Reference::parse(text), Ok(None), "{text}");
        }
    }
}
