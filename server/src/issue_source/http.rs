//! The HTTP both trackers share: authenticated JSON GETs, pagination, and turning the answers
//! that are not the issue (401, 403, 404, rate limits) into errors that say what to do.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION};
use reqwest::{StatusCode, Url};
use serde::de::DeserializeOwned;

use super::error::{Forge, IssueSourceError};
use super::forge::Endpoint;

const USER_AGENT: &str = concat!("swiss/", env!("CARGO_PKG_VERSION"));
/// 100 comments a page: 100 pages is more thread than any budget keeps.
const MAX_PAGES: usize = 100;

#[derive(Debug, Clone)]
pub struct Http {
    client: reqwest::Client,
}

/// One answer that was a success.
pub struct Page<T> {
    pub value: T,
    pub headers: HeaderMap,
}

impl Http {
    pub fn new(timeout: Duration) -> Result<Http, IssueSourceError> {
        let client = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .timeout(timeout)
            // reqwest drops `Authorization` on a redirect to another host, but not GitLab's
            // `PRIVATE-TOKEN`: following only redirects to the same server keeps both at home.
            // The scheme and port count too: `https` to `http` would send the token in clear
            // text, and another port is another service. Moved repositories redirect within
            // the API server, which is the case that matters.
            .redirect(reqwest::redirect::Policy::custom(|attempt| {
                let same_server = attempt.previous().first().is_some_and(|first| {
                    let to = attempt.url();
                    first.scheme() == to.scheme()
                        && first.host_str() == to.host_str()
                        && first.port_or_known_default() == to.port_or_known_default()
                });
                if same_server && attempt.previous().len() < 10 {
                    attempt.follow()
                } else {
                    attempt.stop()
                }
            }))
            .build()
            .map_err(|e| IssueSourceError::Client(e.to_string()))?;
        Ok(Http { client })
    }

    /// GETs `url` from `endpoint`'s API with its token.
    pub async fn get<T: DeserializeOwned>(
        &self,
        endpoint: &Endpoint,
        url: Url,
        reference: &str,
    ) -> Result<Page<T>, IssueSourceError> {
        let forge = endpoint.forge;
        let mut request = self.client.get(url.clone());
        request = match forge {
            Forge::GitHub => request
                .header(ACCEPT, "application/vnd.github+json")
                .header("X-GitHub-Api-Version", "2022-11-28"),
            Forge::GitLab => request.header(ACCEPT, "application/json"),
        };
        if let Some(token) = &endpoint.token {
            let (name, value) = match forge {
                Forge::GitHub => (AUTHORIZATION.as_str(), format!("Bearer {}", token.expose())),
                Forge::GitLab => ("PRIVATE-TOKEN", token.expose().to_owned()),
            };
            let mut value = HeaderValue::from_str(&value).map_err(|_| {
                IssueSourceError::Client(format!(
                    "the {} token holds characters an HTTP header cannot carry; check {}",
                    forge,
                    forge.token_env()
                ))
            })?;
            // Keeps it out of reqwest's and hyper's debug output.
            value.set_sensitive(true);
            request = request.header(name, value);
        }
        tracing::debug!(%url, forge = forge.name(), authenticated = endpoint.token.is_some(), "issue tracker request");
        let response = request
            .send()
            .await
            .map_err(|e| IssueSourceError::Unreachable {
                forge,
                api: endpoint.display_api(),
                detail: error_chain(&e),
            })?;
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| IssueSourceError::Unreachable {
                forge,
                api: endpoint.display_api(),
                detail: error_chain(&e),
            })?;
        if !status.is_success() {
            return Err(status_error(
                endpoint,
                reference,
                status,
                &headers,
                &bytes,
                now_epoch(),
            ));
        }
        let value = serde_json::from_slice(&bytes).map_err(|e| IssueSourceError::BadResponse {
            forge,
            reference: reference.to_owned(),
            detail: format!("the JSON is not what the {forge} API returns ({e})"),
        })?;
        Ok(Page { value, headers })
    }

    /// Every item of a paginated list, following `Link: <…>; rel="next"` (GitHub, GitLab) or
    /// GitLab's `x-next-page`.
    pub async fn get_all<T: DeserializeOwned>(
        &self,
        endpoint: &Endpoint,
        first: Url,
        reference: &str,
    ) -> Result<Vec<T>, IssueSourceError> {
        let mut items = Vec::new();
        let mut next = Some(first);
        let mut pages = 0;
        while let Some(url) = next.take() {
            pages += 1;
            if pages > MAX_PAGES {
                tracing::warn!(reference, "stopped after {MAX_PAGES} pages of comments");
                break;
            }
            let page: Page<Vec<T>> = self.get(endpoint, url.clone(), reference).await?;
            items.extend(page.value);
            next = next_page(&url, &page.headers);
            if let Some(next) = &next {
                // A `Link` is the server's to write: following one to another host would hand
                // it the token.
                if !endpoint.same_server(next) {
                    return Err(IssueSourceError::BadResponse {
                        forge: endpoint.forge,
                        reference: reference.to_owned(),
                        detail: format!(
                            "the next page of comments is on another server ({})",
                            next.host_str().unwrap_or("?")
                        ),
                    });
                }
            }
        }
        Ok(items)
    }
}

/// The next page's URL, from `Link` or else from `x-next-page` applied to `current`.
pub fn next_page(current: &Url, headers: &HeaderMap) -> Option<Url> {
    let from_link = headers
        .get_all(reqwest::header::LINK)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(next_link);
    if let Some(link) = from_link {
        return current.join(&link).ok();
    }
    let page = headers
        .get("x-next-page")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))?;
    let mut url = current.clone();
    let kept: Vec<(String, String)> = current
        .query_pairs()
        .filter(|(k, _)| k != "page")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    url.query_pairs_mut()
        .clear()
        .extend_pairs(kept)
        .append_pair("page", page);
    Some(url)
}

/// The `rel="next"` target of one `Link` header value (RFC 8288): `<url>; rel="next", <…>; …`.
pub fn next_link(header: &str) -> Option<String> {
    let mut rest = header;
    loop {
        let start = rest.find('<')?;
        let end = start + rest[start..].find('>')?;
        let target = &rest[start + 1..end];
        let params_end = rest[end..].find('<').map_or(rest.len(), |at| end + at);
        // The comma before the next link belongs to neither.
        let params = rest[end + 1..params_end].trim_end().trim_end_matches(',');
        let is_next = params.split(';').any(|param| {
            let Some((name, value)) = param.split_once('=') else {
                return false;
            };
            name.trim().eq_ignore_ascii_case("rel")
                && value
                    .trim()
                    .trim_matches('"')
                    .split_whitespace()
                    .any(|rel| rel.eq_ignore_ascii_case("next"))
        });
        if is_next {
            return Some(target.to_owned());
        }
        rest = &rest[params_end..];
    }
}

fn status_error(
    endpoint: &Endpoint,
    reference: &str,
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
    now: u64,
) -> IssueSourceError {
    let forge = endpoint.forge;
    let reference = reference.to_owned();
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    let number = |name: &str| header(name).and_then(|v| v.parse::<u64>().ok());
    let used_up =
        header("x-ratelimit-remaining") == Some("0") || header("ratelimit-remaining") == Some("0");
    let retry_after = number("retry-after");
    if status == StatusCode::TOO_MANY_REQUESTS
        || (status == StatusCode::FORBIDDEN && (used_up || retry_after.is_some()))
    {
        let reset = retry_after
            .map(|secs| now + secs)
            .or_else(|| number("x-ratelimit-reset"))
            .or_else(|| number("ratelimit-reset"));
        let advice = if endpoint.token.is_some() {
            "wait until then, or use another token".to_owned()
        } else {
            format!(
                "set {} (or {}.token) for a higher limit",
                forge.token_env(),
                forge.section()
            )
        };
        return IssueSourceError::RateLimited {
            forge,
            reference,
            resets: reset.map_or_else(|| "soon".to_owned(), |at| describe_reset(at, now)),
            advice,
        };
    }
    if status.is_redirection() {
        // The redirect policy stopped it: it leads to another server, which gets no token.
        let to = header("location")
            .and_then(|location| endpoint.api.join(location).ok())
            .map_or_else(
                || "elsewhere".to_owned(),
                |url| url.origin().ascii_serialization(),
            );
        return IssueSourceError::BadResponse {
            forge,
            reference,
            detail: format!(
                "HTTP {} redirects to another server ({to}), which Swiss does not send the token to",
                status.as_u16()
            ),
        };
    }
    match status {
        StatusCode::UNAUTHORIZED => IssueSourceError::BadToken { forge, reference },
        StatusCode::NOT_FOUND => IssueSourceError::NotFound { forge, reference },
        StatusCode::GONE => IssueSourceError::Gone { forge, reference },
        StatusCode::FORBIDDEN => IssueSourceError::Forbidden {
            forge,
            reference,
            detail: server_message(body),
        },
        _ => IssueSourceError::Status {
            forge,
            reference,
            status: status.as_u16(),
            detail: server_message(body),
        },
    }
}

/// What the server said, briefly: the JSON `message` (GitHub, GitLab) or `error`, else the
/// start of the body.
fn server_message(body: &[u8]) -> String {
    let json: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    let from_json = json.as_ref().and_then(|v| {
        ["message", "error_description", "error"]
            .iter()
            .find_map(|k| v.get(k).and_then(|m| m.as_str()).map(str::to_owned))
    });
    let text = from_json.unwrap_or_else(|| String::from_utf8_lossy(body).into_owned());
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.is_empty() {
        return "no details".to_owned();
    }
    let mut short: String = text.chars().take(200).collect();
    if short.len() < text.len() {
        short.push('…');
    }
    short
}

/// "at 14:05 UTC (in 12 min)"; the clock time alone would leave the user to do time zones.
pub fn describe_reset(at: u64, now: u64) -> String {
    let seconds = at.saturating_sub(now);
    let day = at % 86_400;
    let clock = format!("{:02}:{:02} UTC", day / 3600, day % 3600 / 60);
    let wait = match seconds {
        0 => return "now".to_owned(),
        1..=59 => format!("in {seconds} s"),
        _ => format!("in {} min", seconds.div_ceil(60)),
    };
    format!("at {clock} ({wait})")
}

fn now_epoch() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// reqwest's own message stops at "error sending request"; the cause (refused, timed out, DNS)
/// is further down the chain.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut parts = vec![error.to_string()];
    let mut source = error.source();
    while let Some(e) = source {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = e.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;

    #[test]
    fn link_headers() {
        let header = r#"<https://api.github.com/repositories/1/issues/7/comments?page=2>; rel="next", <https://api.github.com/repositories/1/issues/7/comments?page=5>; rel="last""#;
        assert_eq!(
            next_link(header).as_deref(),
            Some("https://api.github.com/repositories/1/issues/7/comments?page=2")
        );
        let last_first =
            r#"<https://x/?page=1>; rel="prev"; title="a, b", <https://x/?page=3>; rel=next"#;
        assert_eq!(next_link(last_first).as_deref(), Some("https://x/?page=3"));
        assert_eq!(next_link(r#"<https://x/?page=1>; rel="first""#), None);
        assert_eq!(next_link(""), None);
    }

    #[test]
    fn gitlab_next_page_header() {
        let current =
            Url::parse("https://gitlab.com/api/v4/projects/g%2Fp/issues/3/notes?sort=asc&page=1")
                .unwrap();
        let mut headers = HeaderMap::new();
        headers.insert("x-next-page", HeaderValue::from_static("2"));
        assert_eq!(
            next_page(&current, &headers).unwrap().as_str(),
            "https://gitlab.com/api/v4/projects/g%2Fp/issues/3/notes?sort=asc&page=2"
        );
        headers.insert("x-next-page", HeaderValue::from_static(""));
        assert_eq!(next_page(&current, &headers), None);
    }

    fn endpoint(token: bool) -> Endpoint {
        Endpoint {
            forge: Forge::GitHub,
            api: Url::parse("https://api.github.com").unwrap(),
            token: token.then(|| Secret::new("ghp_x")),
        }
    }

    #[test]
    fn rate_limits_say_when_and_what_to_do() {
        let mut headers = HeaderMap::new();
        headers.insert("x-ratelimit-remaining", HeaderValue::from_static("0"));
        headers.insert("x-ratelimit-reset", HeaderValue::from_static("1700000700"));
        let err = status_error(
            &endpoint(false),
            "acme/calc#7",
            StatusCode::FORBIDDEN,
            &headers,
            b"{}",
            1_700_000_000,
        );
        assert_eq!(
            err.to_string(),
            "failed to fetch acme/calc#7 from GitHub: the API rate limit is used up; it resets at 22:25 UTC (in 12 min); set GITHUB_TOKEN (or github.token) for a higher limit"
        );
        let err = status_error(
            &endpoint(true),
            "acme/calc#7",
            StatusCode::TOO_MANY_REQUESTS,
            &HeaderMap::new(),
            b"",
            0,
        );
        assert!(
            err.to_string()
                .ends_with("it resets soon; wait until then, or use another token"),
            "{err}"
        );
        let err = status_error(
            &endpoint(false),
            "acme/calc#7",
            StatusCode::FORBIDDEN,
            &HeaderMap::new(),
            br#"{"message":"Resource not accessible by integration"}"#,
            0,
        );
        assert!(
            err.to_string()
                .contains("access denied (HTTP 403: Resource not accessible by integration)"),
            "{err}"
        );
    }

    #[test]
    fn reset_times() {
        assert_eq!(describe_reset(100, 100), "now");
        assert_eq!(
            describe_reset(86_400 + 3_600 + 30, 86_400 + 3_600),
            "at 01:00 UTC (in 30 s)"
        );
        assert_eq!(describe_reset(7_200, 3_600), "at 02:00 UTC (in 60 min)");
    }
}
