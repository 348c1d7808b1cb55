//! GitHub's REST API: `GET /repos/{owner}/{repo}/issues/{n}` and its comments.

use serde::Deserialize;

use super::error::{Forge, IssueSourceError};
use super::forge::Endpoint;
use super::http::Http;
use super::text::{Comment, Thread};

#[derive(Deserialize)]
struct GhIssue {
    title: String,
    body: Option<String>,
    html_url: Option<String>,
    /// Present (and not null) when the number is a pull request's: GitHub serves those under
    /// `/issues/` too.
    pull_request: Option<serde_json::Value>,
    comments: Option<u64>,
}

#[derive(Deserialize)]
struct GhComment {
    body: Option<String>,
    user: Option<GhUser>,
}

#[derive(Deserialize)]
struct GhUser {
    login: String,
}

pub async fn fetch(
    http: &Http,
    endpoint: &Endpoint,
    project: &str,
    number: u64,
    reference: &str,
) -> Result<Thread, IssueSourceError> {
    debug_assert_eq!(endpoint.forge, Forge::GitHub);
    let Some((owner, repo)) = project.split_once('/').filter(|(_, r)| !r.contains('/')) else {
        return Err(IssueSourceError::BadReference {
            input: reference.to_owned(),
            reason: "a GitHub repository is named owner/repo".to_owned(),
        });
    };
    let number = number.to_string();
    let issue_url = endpoint.url(&["repos", owner, repo, "issues", &number]);
    let issue: GhIssue = http.get(endpoint, issue_url, reference).await?.value;
    if issue.pull_request.as_ref().is_some_and(|v| !v.is_null()) {
        return Err(IssueSourceError::NotAnIssue {
            reference: reference.to_owned(),
            what: "pull request",
        });
    }
    let comments = if issue.comments == Some(0) {
        Vec::new()
    } else {
        let mut url = endpoint.url(&["repos", owner, repo, "issues", &number, "comments"]);
        url.query_pairs_mut().append_pair("per_page", "100");
        http.get_all::<GhComment>(endpoint, url, reference)
            .await?
            .into_iter()
            .map(|c| Comment {
                author: c.user.map(|u| u.login),
                body: c.body.unwrap_or_default(),
            })
            .collect()
    };
    Ok(Thread {
        title: issue.title,
        body: issue.body.unwrap_or_default(),
        url: issue.html_url,
        comments,
    })
}
