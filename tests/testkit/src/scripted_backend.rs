//! A scripted OpenAI-compatible chat-completions server on 127.0.0.1, for tests.
//!
//! It answers `POST /v1/chat/completions` with canned completions chosen by the kind of prompt,
//! logs every request, and can be told to misbehave (error statuses, garbage, hangs, dropped
//! connections) to exercise the client's retries. The HTTP is hand-rolled (one request per
//! connection, `Connection: close`) so that a fault can be exactly what a test asks for.
//!
//! ```no_run
//! # async fn demo() {
//! use swiss_testkit::{Fault, PromptKind, Script, ScriptedBackend};
//!
//! let backend = ScriptedBackend::start(
//!     Script::new()
//!         .answer(PromptKind::Repair, ["patch one", "patch two"])
//!         .fault(Fault::status(503, "warming up").with_retry_after(1)),
//! )
//! .await;
//! // Point the client at backend.base_url(), then inspect backend.requests().
//! # }
//! ```

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// Which pipeline stage a prompt belongs to, recognised by phrases the real templates contain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PromptKind {
    /// Contains "Repository Structure".
    Localize,
    /// Contains "SEARCH/REPLACE".
    Repair,
    /// Contains "Issue reproduced".
    Reproduce,
    Other,
}

impl PromptKind {
    /// Reproduction prompts quote the repair format too, so they are recognised first; repair
    /// prompts show the repository structure, so localization comes last.
    pub fn classify(prompt: &str) -> Self {
        if prompt.contains("Issue reproduced") {
            PromptKind::Reproduce
        } else if prompt.contains("SEARCH/REPLACE") {
            PromptKind::Repair
        } else if prompt.contains("Repository Structure") {
            PromptKind::Localize
        } else {
            PromptKind::Other
        }
    }
}

/// A way for one request to go wrong. Each queued fault is used up by one request.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// Answer with this status and body (and a `Retry-After: <seconds>` header when set).
    Status {
        status: u16,
        body: String,
        retry_after: Option<u64>,
    },
    /// Answer 200 with a body that is not JSON.
    Garbage,
    /// Answer 200 with `"choices": []`.
    EmptyChoices,
    /// Wait this long, then answer normally.
    Delay(Duration),
    /// Never answer; the connection stays open until the client gives up or the server stops.
    Hang,
    /// Close the connection without a response.
    Drop,
}

impl Fault {
    pub fn status(status: u16, body: impl Into<String>) -> Self {
        Fault::Status {
            status,
            body: body.into(),
            retry_after: None,
        }
    }

    /// Adds `Retry-After: <seconds>` to a [`Fault::Status`]; other faults are returned as they are.
    pub fn with_retry_after(self, seconds: u64) -> Self {
        match self {
            Fault::Status { status, body, .. } => Fault::Status {
                status,
                body,
                retry_after: Some(seconds),
            },
            other => other,
        }
    }
}

/// What the server answers. Built with chained calls; see the module docs.
#[derive(Debug, Clone, Default)]
pub struct Script {
    completions: HashMap<PromptKind, Vec<String>>,
    ignore_n: bool,
    omit_usage: bool,
    latency: Duration,
    faults: VecDeque<(Option<PromptKind>, Fault)>,
}

impl Script {
    pub fn new() -> Self {
        Self::default()
    }

    /// Canned completions for prompts of `kind`. A request for `n` choices gets the next `n`
    /// from this list, cycling, so successive requests see successive items.
    pub fn answer<S: Into<String>>(
        mut self,
        kind: PromptKind,
        completions: impl IntoIterator<Item = S>,
    ) -> Self {
        self.completions
            .insert(kind, completions.into_iter().map(Into::into).collect());
        self
    }

    /// Answer one choice whatever `n` asks for, like llama.cpp's server or Ollama.
    pub fn ignore_n(mut self) -> Self {
        self.ignore_n = true;
        self
    }

    /// Leave `usage` out of responses, as some servers do.
    pub fn omit_usage(mut self) -> Self {
        self.omit_usage = true;
        self
    }

    /// Wait this long before answering every request.
    pub fn latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }

    /// Queue a fault for the next request of any kind.
    pub fn fault(mut self, fault: Fault) -> Self {
        self.faults.push_back((None, fault));
        self
    }

    /// Queue a fault for the next request of `kind`.
    pub fn fault_for(mut self, kind: PromptKind, fault: Fault) -> Self {
        self.faults.push_back((Some(kind), fault));
        self
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedMessage {
    pub role: String,
    pub content: String,
}

/// One request as the server saw it; fields are `None` when the body left them out.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    pub kind: PromptKind,
    pub model: Option<String>,
    pub messages: Vec<RecordedMessage>,
    pub n: Option<u64>,
    pub temperature: Option<f64>,
    pub top_p: Option<f64>,
    pub max_tokens: Option<u64>,
    /// The `Authorization` header, verbatim.
    pub authorization: Option<String>,
    pub received_at: Instant,
    /// The whole JSON body (`Null` when it did not parse).
    pub body: Value,
}

#[derive(Debug)]
struct State {
    script: Script,
    cursors: HashMap<PromptKind, usize>,
    requests: Vec<RecordedRequest>,
    next_id: u64,
}

/// A running scripted server. It stops when dropped.
#[derive(Debug)]
pub struct ScriptedBackend {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    stop: watch::Sender<bool>,
    thread: Option<JoinHandle<()>>,
}

impl ScriptedBackend {
    /// Starts the server on the current tokio runtime (for `#[tokio::test]`).
    pub async fn start(script: Script) -> Self {
        let (listener, addr) = bind();
        let backend = Self::new(script, addr);
        let listener = TcpListener::from_std(listener)
            .expect("failed to register the scripted backend's socket");
        tokio::spawn(serve(
            listener,
            backend.state.clone(),
            backend.stop.subscribe(),
        ));
        backend
    }

    /// Starts the server on a thread of its own with its own runtime, for synchronous callers
    /// such as benchmarks or tests that run the `swiss` binary.
    pub fn start_in_background(script: Script) -> Self {
        let (listener, addr) = bind();
        let mut backend = Self::new(script, addr);
        let state = backend.state.clone();
        let stop = backend.stop.subscribe();
        let thread = std::thread::Builder::new()
            .name("scripted-backend".to_owned())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("failed to build the scripted backend's runtime");
                runtime.block_on(async move {
                    let listener = TcpListener::from_std(listener)
                        .expect("failed to register the scripted backend's socket");
                    serve(listener, state, stop).await;
                });
            })
            .expect("failed to spawn the scripted backend's thread");
        backend.thread = Some(thread);
        backend
    }

    fn new(script: Script, addr: SocketAddr) -> Self {
        let state = State {
            script,
            cursors: HashMap::new(),
            requests: Vec::new(),
            next_id: 0,
        };
        let (stop, _) = watch::channel(false);
        Self {
            addr,
            state: Arc::new(Mutex::new(state)),
            stop,
            thread: None,
        }
    }

    /// The API root to configure a client with, e.g. `http://127.0.0.1:41234/v1`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Every request received so far, in order of arrival, faulted ones included.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.state).requests.clone()
    }

    /// Queues a fault for the next request of any kind while the server runs.
    pub fn push_fault(&self, fault: Fault) {
        lock(&self.state).script.faults.push_back((None, fault));
    }

    /// Queues a fault for the next request of `kind` while the server runs.
    pub fn push_fault_for(&self, kind: PromptKind, fault: Fault) {
        lock(&self.state)
            .script
            .faults
            .push_back((Some(kind), fault));
    }

    /// Stops the server, as dropping it does: open connections (hanging ones included) are closed
    /// and the port stops accepting. A server from [`ScriptedBackend::start`] stops when its
    /// runtime next polls it; one from [`ScriptedBackend::start_in_background`] has stopped when
    /// this returns.
    pub fn shutdown(self) {}
}

impl Drop for ScriptedBackend {
    fn drop(&mut self) {
        self.stop.send_replace(true);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn bind() -> (std::net::TcpListener, SocketAddr) {
    let listener =
        std::net::TcpListener::bind("127.0.0.1:0").expect("failed to bind the scripted backend");
    listener
        .set_nonblocking(true)
        .expect("failed to make the scripted backend's socket non-blocking");
    let addr = listener
        .local_addr()
        .expect("failed to read the scripted backend's address");
    (listener, addr)
}

// A test that panicked while holding the lock should not hide its own failure behind ours.
fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|&stop| stop).await;
}

async fn serve(listener: TcpListener, state: Arc<Mutex<State>>, mut stop: watch::Receiver<bool>) {
    loop {
        let stream = tokio::select! {
            () = stopped(&mut stop) => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(_) => continue,
            },
        };
        let state = state.clone();
        let mut stop = stop.clone();
        tokio::spawn(async move {
            tokio::select! {
                () = stopped(&mut stop) => {}
                () = handle(stream, &state) => {}
            }
        });
    }
}

struct HttpRequest {
    method: String,
    path: String,
    authorization: Option<String>,
    body: Vec<u8>,
}

/// The parts of the response decided under the lock, carried out after it is released.
enum Reply {
    Respond {
        status: u16,
        body: String,
        retry_after: Option<u64>,
        delay: Duration,
    },
    Hang,
    Drop,
}

async fn handle(mut stream: TcpStream, state: &Mutex<State>) {
    let Some(request) = read_request(&mut stream).await else {
        return;
    };
    let (reply, latency) = {
        let mut state = lock(state);
        let latency = state.script.latency;
        (decide(&mut state, request), latency)
    };
    tokio::time::sleep(latency).await;
    match reply {
        Reply::Respond {
            status,
            body,
            retry_after,
            delay,
        } => {
            tokio::time::sleep(delay).await;
            let _ = write_response(&mut stream, status, &body, retry_after).await;
        }
        Reply::Hang => {
            // Returns when the client closes its end, e.g. on cancellation.
            let mut byte = [0u8; 1];
            let _ = stream.read(&mut byte).await;
        }
        Reply::Drop => {}
    }
}

fn decide(state: &mut State, request: HttpRequest) -> Reply {
    if request.path != "/v1/chat/completions" {
        return error(
            404,
            &format!("scripted backend: no route for {}", request.path),
        );
    }
    if request.method != "POST" {
        return error(405, "scripted backend: use POST");
    }
    let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
    let messages: Vec<RecordedMessage> = body["messages"]
        .as_array()
        .map(|messages| {
            messages
                .iter()
                .map(|m| RecordedMessage {
                    role: m["role"].as_str().unwrap_or_default().to_owned(),
                    content: m["content"].as_str().unwrap_or_default().to_owned(),
                })
                .collect()
        })
        .unwrap_or_default();
    let prompt: String = messages
        .iter()
        .map(|m| m.content.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    let kind = PromptKind::classify(&prompt);
    let recorded = RecordedRequest {
        kind,
        model: body["model"].as_str().map(str::to_owned),
        messages,
        n: body["n"].as_u64(),
        temperature: body["temperature"].as_f64(),
        top_p: body["top_p"].as_f64(),
        max_tokens: body["max_tokens"].as_u64(),
        authorization: request.authorization,
        received_at: Instant::now(),
        body,
    };
    let n = recorded.n;
    let model = recorded.model.clone().unwrap_or_default();
    let valid = !recorded.body.is_null();
    state.requests.push(recorded);

    let fault = state
        .script
        .faults
        .iter()
        .position(|(only, _)| only.is_none_or(|only| only == kind))
        .and_then(|at| state.script.faults.remove(at))
        .map(|(_, fault)| fault);
    let delay = match fault {
        None => Duration::ZERO,
        Some(Fault::Delay(delay)) => delay,
        Some(Fault::Status {
            status,
            body,
            retry_after,
        }) => {
            return Reply::Respond {
                status,
                body,
                retry_after,
                delay: Duration::ZERO,
            }
        }
        Some(Fault::Garbage) => return ok("this is not JSON {".to_owned()),
        Some(Fault::EmptyChoices) => {
            return ok(completion_body(state, &model, Vec::new(), &prompt).to_string());
        }
        Some(Fault::Hang) => return Reply::Hang,
        Some(Fault::Drop) => return Reply::Drop,
    };

    if !valid {
        return error(400, "scripted backend: the body is not JSON");
    }
    let n = match n {
        None => 1,
        Some(0) => return error(400, "scripted backend: n must be at least 1"),
        Some(n) => n as usize,
    };
    let count = if state.script.ignore_n { 1 } else { n };
    let Some(list) = state
        .script
        .completions
        .get(&kind)
        .filter(|list| !list.is_empty())
    else {
        return error(
            400,
            &format!("scripted backend: no completions scripted for {kind:?} prompts"),
        );
    };
    let cursor = state.cursors.entry(kind).or_default();
    let texts: Vec<String> = (0..count)
        .map(|i| list[(*cursor + i) % list.len()].clone())
        .collect();
    *cursor = (*cursor + count) % list.len();
    let body = completion_body(state, &model, texts, &prompt);
    Reply::Respond {
        status: 200,
        body: body.to_string(),
        retry_after: None,
        delay,
    }
}

fn ok(body: String) -> Reply {
    Reply::Respond {
        status: 200,
        body,
        retry_after: None,
        delay: Duration::ZERO,
    }
}

fn error(status: u16, message: &str) -> Reply {
    let body = json!({"error": {"message": message, "type": "scripted_backend"}}).to_string();
    Reply::Respond {
        status,
        body,
        retry_after: None,
        delay: Duration::ZERO,
    }
}

fn completion_body(state: &mut State, model: &str, texts: Vec<String>, prompt: &str) -> Value {
    state.next_id += 1;
    // Roughly four characters a token, enough for tests of the accounting.
    let prompt_tokens = (prompt.chars().count() / 4) as u64;
    let completion_tokens: u64 = texts.iter().map(|t| (t.chars().count() / 4) as u64).sum();
    let choices: Vec<Value> = texts
        .into_iter()
        .enumerate()
        .map(|(index, text)| {
            json!({
                "index": index,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
            })
        })
        .collect();
    let mut body = json!({
        "id": format!("chatcmpl-scripted-{}", state.next_id),
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": choices,
    });
    if !state.script.omit_usage {
        body["usage"] = json!({
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        });
    }
    body
}

const MAX_REQUEST_BYTES: usize = 64 << 20;

async fn read_request(stream: &mut TcpStream) -> Option<HttpRequest> {
    let mut buffer = Vec::with_capacity(8192);
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        if buffer.len() > MAX_REQUEST_BYTES {
            return None;
        }
        let read = stream.read(&mut chunk).await.ok()?;
        if read == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..read]);
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next()?.split_whitespace();
    let method = request_line.next()?.to_owned();
    let path = request_line.next()?.to_owned();
    let mut content_length = 0;
    let mut authorization = None;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            content_length = value.parse().ok()?;
        } else if name.eq_ignore_ascii_case("authorization") {
            authorization = Some(value.to_owned());
        }
    }
    if content_length > MAX_REQUEST_BYTES {
        return None;
    }
    let mut body = buffer.split_off(head_end);
    while body.len() < content_length {
        let read = stream.read(&mut chunk).await.ok()?;
        if read == 0 {
            return None;
        }
        body.extend_from_slice(&chunk[..read]);
    }
    body.truncate(content_length);
    Some(HttpRequest {
        method,
        path,
        authorization,
        body,
    })
}

async fn write_response(
    stream: &mut TcpStream,
    status: u16,
    body: &str,
    retry_after: Option<u64>,
) -> std::io::Result<()> {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    };
    let content_type = if body.starts_with('{') {
        "application/json"
    } else {
        "text/plain"
    };
    let mut head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    if let Some(seconds) = retry_after {
        head.push_str(&format!("Retry-After: {seconds}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    stream.flush().await?;
    stream.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_by_phrase() {
        assert_eq!(
            PromptKind::classify("## Repository Structure\n..."),
            PromptKind::Localize
        );
        assert_eq!(
            PromptKind::classify("Repository Structure ... emit SEARCH/REPLACE edits"),
            PromptKind::Repair
        );
        assert_eq!(
            PromptKind::classify("SEARCH/REPLACE ... print('Issue reproduced')"),
            PromptKind::Reproduce
        );
        assert_eq!(PromptKind::classify("hello"), PromptKind::Other);
    }

    #[test]
    fn background_server_answers_and_stops() {
        let backend =
            ScriptedBackend::start_in_background(Script::new().answer(PromptKind::Other, ["hi"]));
        let addr = backend.addr;
        let body = r#"{"model":"m","messages":[{"role":"user","content":"hello"}],"n":2}"#;
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        use std::io::{Read, Write};
        write!(
            stream,
            "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
        let json: Value = serde_json::from_str(response.split("\r\n\r\n").nth(1).unwrap()).unwrap();
        assert_eq!(json["choices"].as_array().unwrap().len(), 2);
        assert_eq!(json["usage"]["prompt_tokens"], 1);
        let requests = backend.requests();
        assert_eq!(requests.len(), 1);
        assert_eq!(requests[0].authorization.as_deref(), Some("Bearer k"));
        assert_eq!(requests[0].n, Some(2));
        backend.shutdown();
        assert!(std::net::TcpStream::connect(addr).is_err());
    }
}
