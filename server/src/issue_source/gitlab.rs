//! GitLab's REST API v4: `GET /projects/:id/issues/:iid` and its notes (the comments).

use serde::Deserialize;

use super::error::{Forge, IssueSourceError};
use super::forge::Endpoint;
use super::http::Http;
use super::text::{Comment, Thread};

#[derive(Deserialize)]
struct GlIssue {
    title: String,
    description: Option<String>,
    web_url: Option<String>,
    user_notes_count: Option<u64>,
}

#[derive(Deserialize)]
struct GlNote {
    body: Option<String>,
    author: Option<GlUser>,
    /// "changed the description", "added label": GitLab's own bookkeeping, not discussion.
    #[serde(default)]
    system: bool,
}

#[derive(Deserialize)]
struct GlUser {
    username: String,
}

pub async fn fetch(
    http: &Http,
    endpoint: &Endpoint,
    project: &str,
    number: u64,
    reference: &str,
) -> Result<Thread, IssueSourceError> {
    debug_assert_eq!(endpoint.forge, Forge::GitLab);
    let iid = number.to_string();
    // The project's path is one URL segment, slashes encoded: `group%2Fsub%2Fproject`.
    let issue_url = endpoint.url(&["projects", project, "issues", &iid]);
    let issue: GlIssue = http.get(endpoint, issue_url, reference).await?.value;
    let comments = if issue.user_notes_count == Some(0) {
        Vec::new()
    } else {
        let mut url = endpoint.url(&["projects", project, "issues", &iid, "notes"]);
        url.query_pairs_mut()
            .append_pair("sort", "asc")
            .append_pair("order_by", "created_at")
            .append_pair("per_page", "100");
        http.get_all::<GlNote>(endpoint, url, reference)
            .await?
            .into_iter()
            .filter(|n| !n.system)
            .map(|n| Comment {
                author: n.author.map(|a| a.username),
                body: n.body.unwrap_or_default(),
            })
            .collect()
    };
    Ok(Thread {
        title: issue.title,
        body: issue.description.unwrap_or_default(),
        url: issue.web_url,
        comments,
    })
}
