//! A fake issue tracker on 127.0.0.1 that serves GitHub- and GitLab-shaped REST answers, for
//! tests that must not reach the internet.
//!
//! Point `github.api_url` at [`IssueTracker::github_api_url`] and `gitlab.api_url` at
//! [`IssueTracker::gitlab_api_url`]; register issues (their comments split over two pages) or
//! canned error answers; read back every request with its headers. Like the scripted backend,
//! the HTTP is hand-rolled: one request per connection, `Connection: close`.
//!
//! ```no_run
//! use swiss_testkit::{IssueTracker, TrackerResponse};
//!
//! let tracker = IssueTracker::start();
//! tracker.github_issue("acme/calc", 7, "divide() floors", "It returns 3.", &[("ana", "Same here")]);
//! tracker.route("/repos/acme/calc/issues/8", TrackerResponse::json(404, r#"{"message":"Not Found"}"#));
//! // … run Swiss with github.api_url = tracker.github_api_url() …
//! assert_eq!(tracker.requests()[0].header("accept"), Some("application/vnd.github+json"));
//! ```

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::{json, Value};

/// One canned answer.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackerResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl TrackerResponse {
    pub fn json(status: u16, body: impl Into<String>) -> TrackerResponse {
        TrackerResponse {
            status,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> TrackerResponse {
        self.headers.push((name.to_owned(), value.into()));
        self
    }
}

/// One request as the tracker saw it.
#[derive(Debug, Clone)]
pub struct TrackerRequest {
    pub method: String,
    /// The request target as sent: path and query, percent-encoding kept.
    pub target: String,
    /// Names in lower case.
    pub headers: Vec<(String, String)>,
}

impl TrackerRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The path without the query.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }
}

#[derive(Default)]
struct State {
    /// By path plus `?page=N` for pages after the first.
    routes: HashMap<String, TrackerResponse>,
    requests: Vec<TrackerRequest>,
}

/// A running fake tracker; it stops when dropped.
pub struct IssueTracker {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl IssueTracker {
    /// Starts on a thread of its own, so that it serves synchronous tests (running the `swiss`
    /// binary) and async ones alike.
    pub fn start() -> IssueTracker {
        let listener =
            TcpListener::bind("127.0.0.1:0").expect("failed to bind the fake issue tracker");
        let addr = listener
            .local_addr()
            .expect("failed to read the fake issue tracker's address");
        let state = Arc::new(Mutex::new(State::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let state = state.clone();
            let stop = stop.clone();
            std::thread::Builder::new()
                .name("issue-tracker".to_owned())
                .spawn(move || {
                    for stream in listener.incoming() {
                        if stop.load(Ordering::SeqCst) {
                            return;
                        }
                        let Ok(stream) = stream else { continue };
                        let state = state.clone();
                        std::thread::spawn(move || handle(stream, &state));
                    }
                })
                .expect("failed to spawn the fake issue tracker's thread")
        };
        IssueTracker {
            addr,
            state,
            stop,
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// GitHub's API root (GitHub's own is `https://api.github.com`, without a path).
    pub fn github_api_url(&self) -> String {
        self.url()
    }

    /// GitLab's API root, as `https://gitlab.com/api/v4` is.
    pub fn gitlab_api_url(&self) -> String {
        format!("{}/api/v4", self.url())
    }

    /// Answers `path` (with `?page=N` for a later page) with `response`.
    pub fn route(&self, path: &str, response: TrackerResponse) {
        lock(&self.state).routes.insert(path.to_owned(), response);
    }

    /// Every request so far, in order of arrival.
    pub fn requests(&self) -> Vec<TrackerRequest> {
        lock(&self.state).requests.clone()
    }

    /// The requests whose path is `path`.
    pub fn requests_to(&self, path: &str) -> Vec<TrackerRequest> {
        self.requests()
            .into_iter()
            .filter(|r| r.path() == path)
            .collect()
    }

    /// A GitHub issue at `/repos/{project}/issues/{number}` whose comments come in two pages
    /// joined by `Link: <…>; rel="next"` (one page for fewer than two comments).
    pub fn github_issue(
        &self,
        project: &str,
        number: u64,
        title: &str,
        body: &str,
        comments: &[(&str, &str)],
    ) {
        let issue = self.github_issue_json(project, number, title, body, comments.len());
        self.route(
            &format!("/repos/{project}/issues/{number}"),
            TrackerResponse::json(200, issue.to_string()),
        );
        let all: Vec<Value> = comments
            .iter()
            .enumerate()
            .map(|(i, (login, body))| {
                json!({
                    "id": 1000 + i,
                    "body": body,
                    "user": {"login": login, "type": "User"},
                    "html_url": format!("https://github.com/{project}/issues/{number}#issuecomment-{}", 1000 + i),
                })
            })
            .collect();
        let path = format!("/repos/{project}/issues/{number}/comments");
        let (first, second) = all.split_at(all.len().div_ceil(2));
        let mut page_one = TrackerResponse::json(200, Value::from(first.to_vec()).to_string());
        if !second.is_empty() {
            let page = |n: u32| format!("{}{path}?per_page=100&page={n}", self.url());
            page_one = page_one.with_header(
                "Link",
                format!(r#"<{}>; rel="next", <{}>; rel="last""#, page(2), page(2)),
            );
            self.route(
                &format!("{path}?page=2"),
                TrackerResponse::json(200, Value::from(second.to_vec()).to_string()).with_header(
                    "Link",
                    format!(r#"<{}>; rel="prev", <{}>; rel="first""#, page(1), page(1)),
                ),
            );
        }
        self.route(&path, page_one);
    }

    /// A pull request, which GitHub also serves under `/issues/{number}`.
    pub fn github_pull_request(&self, project: &str, number: u64, title: &str) {
        let mut issue = self.github_issue_json(project, number, title, "", 0);
        issue["pull_request"] = json!({
            "url": format!("https://api.github.com/repos/{project}/pulls/{number}"),
            "html_url": format!("https://github.com/{project}/pull/{number}"),
        });
        self.route(
            &format!("/repos/{project}/issues/{number}"),
            TrackerResponse::json(200, issue.to_string()),
        );
    }

    fn github_issue_json(
        &self,
        project: &str,
        number: u64,
        title: &str,
        body: &str,
        comments: usize,
    ) -> Value {
        json!({
            "number": number,
            "title": title,
            "body": body,
            "state": "open",
            "html_url": format!("https://github.com/{project}/issues/{number}"),
            "user": {"login": "reporter"},
            "comments": comments,
        })
    }

    /// A GitLab issue at `/api/v4/projects/{encoded project}/issues/{iid}` whose notes come in
    /// two pages joined by `x-next-page`. Notes are `(username, body, system)`.
    pub fn gitlab_issue(
        &self,
        project: &str,
        iid: u64,
        title: &str,
        description: &str,
        notes: &[(&str, &str, bool)],
    ) {
        let encoded = project.replace('/', "%2F");
        let base = format!("/api/v4/projects/{encoded}/issues/{iid}");
        let user_notes = notes.iter().filter(|(_, _, system)| !system).count();
        self.route(
            &base,
            TrackerResponse::json(
                200,
                json!({
                    "iid": iid,
                    "title": title,
                    "description": description,
                    "state": "opened",
                    "web_url": format!("https://gitlab.com/{project}/-/issues/{iid}"),
                    "author": {"username": "reporter"},
                    "user_notes_count": user_notes,
                })
                .to_string(),
            ),
        );
        let all: Vec<Value> = notes
            .iter()
            .enumerate()
            .map(|(i, (username, body, system))| {
                json!({"id": 500 + i, "body": body, "author": {"username": username}, "system": system})
            })
            .collect();
        let (first, second) = all.split_at(all.len().div_ceil(2));
        let path = format!("{base}/notes");
        let next = if second.is_empty() { "" } else { "2" };
        self.route(
            &path,
            TrackerResponse::json(200, Value::from(first.to_vec()).to_string())
                .with_header("x-next-page", next)
                .with_header("x-page", "1"),
        );
        if !second.is_empty() {
            self.route(
                &format!("{path}?page=2"),
                TrackerResponse::json(200, Value::from(second.to_vec()).to_string())
                    .with_header("x-next-page", "")
                    .with_header("x-page", "2"),
            );
        }
    }

    /// Stops the server, as dropping it does.
    pub fn shutdown(self) {}
}

impl Drop for IssueTracker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn handle(mut stream: TcpStream, state: &Mutex<State>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let Some(request) = read_head(&mut stream) else {
        return;
    };
    let key = route_key(&request.target);
    let response = {
        let mut state = lock(state);
        state.requests.push(request);
        state.routes.get(&key).cloned()
    }
    .unwrap_or_else(|| {
        TrackerResponse::json(
            404,
            json!({"message": "Not Found", "documentation_url": "https://docs.github.com/rest"})
                .to_string(),
        )
    });
    let _ = write_response(&mut stream, &response);
}

/// The path, plus `?page=N` when a later page is asked for: other query parameters
/// (`per_page`, `sort`) are the client's business, checked through [`IssueTracker::requests`].
fn route_key(target: &str) -> String {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let page = query
        .split('&')
        .find_map(|pair| pair.strip_prefix("page="))
        .filter(|page| *page != "1");
    match page {
        Some(page) => format!("{path}?page={page}"),
        None => path.to_owned(),
    }
}

fn read_head(stream: &mut TcpStream) -> Option<TrackerRequest> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    while !buffer.windows(4).any(|w| w == b"\r\n\r\n") {
        if buffer.len() > 1 << 20 {
            return None;
        }
        let read = stream.read(&mut chunk).ok()?;
        if read == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..read]);
    }
    let head = String::from_utf8_lossy(&buffer).into_owned();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next()?.split_whitespace();
    let method = request_line.next()?.to_owned();
    let target = request_line.next()?.to_owned();
    let headers = lines
        .take_while(|line| !line.is_empty())
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    Some(TrackerRequest {
        method,
        target,
        headers,
    })
}

fn write_response(stream: &mut TcpStream, response: &TrackerResponse) -> std::io::Result<()> {
    let reason = match response.status {
        200 => "OK",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        410 => "Gone",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        _ => "Status",
    };
    let mut head = format!(
        "HTTP/1.1 {} {reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n",
        response.status,
        response.body.len()
    );
    for (name, value) in &response.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(response.body.as_bytes())?;
    stream.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(tracker: &IssueTracker, target: &str) -> (String, String) {
        let mut stream = TcpStream::connect(tracker.addr).unwrap();
        write!(
            stream,
            "GET {target} HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\n\r\n"
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let (head, body) = response.split_once("\r\n\r\n").unwrap();
        (head.to_owned(), body.to_owned())
    }

    #[test]
    fn serves_issues_with_two_pages_of_comments() {
        let tracker = IssueTracker::start();
        tracker.github_issue("o/r", 7, "T", "B", &[("a", "1"), ("b", "2"), ("c", "3")]);
        let (head, body) = get(&tracker, "/repos/o/r/issues/7/comments?per_page=100");
        assert!(head.contains(r#"page=2>; rel="next""#), "{head}");
        assert_eq!(
            serde_json::from_str::<Value>(&body)
                .unwrap()
                .as_array()
                .unwrap()
                .len(),
            2
        );
        let (_, body) = get(&tracker, "/repos/o/r/issues/7/comments?per_page=100&page=2");
        assert_eq!(
            serde_json::from_str::<Value>(&body).unwrap()[0]["body"],
            "3"
        );
        let (head, _) = get(&tracker, "/repos/o/r/issues/8");
        assert!(head.starts_with("HTTP/1.1 404"), "{head}");
        assert_eq!(tracker.requests().len(), 3);
        assert_eq!(
            tracker.requests()[0].header("Accept"),
            Some("application/json")
        );
        let addr = tracker.addr;
        tracker.shutdown();
        assert!(
            !crate::still_answers::still_answers(addr),
            "the tracker still answers after shutdown"
        );
    }
}
