//! A scripted OpenAI-compatible chat-completions server on 127.0.0.1, for tests.
//!
//! It answers `POST /v1/chat/completions` with canned completions chosen by the kind of prompt
//! (and `POST /v1/embeddings` with deterministic bag-of-words vectors, see [`embedding`]),
//! logs every request, and can be told to misbehave (error statuses, garbage, hangs, dropped
//! connections) to exercise the client's retries. The HTTP is hand-rolled (one request per
//! connection, `Connection: close`) so that a fault can be exactly what a test asks for.
//!
//! A request with `"stream": true` is answered with server-sent events as vLLM and OpenAI send
//! them: a keep-alive comment, a role event per choice, the content in small pieces interleaved
//! across choices, a finishing event per choice, a usage event when `stream_options` asks for one,
//! and `data: [DONE]`. Streams can be cut short or end in an error event, and
//! [`Script::no_streaming`] makes the server ignore `stream` like servers that cannot stream.
//!
//! `GET /v1/models` reports a `max_model_len` as vLLM does when [`Script::max_model_len`] sets
//! one (404 otherwise), and [`Script::context_window`] makes the server refuse, with vLLM's 400
//! and its wording, a request whose prompt and `max_tokens` do not fit.
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
    /// Contains "tests that should not be run". Answered, unless scripted, with no test, so that
    /// every passing test stays a regression test.
    SelectRegression,
    /// Contains "list of folders that are irrelevant". Answered, unless scripted, with an empty
    /// list, so that scripts written for the other stages need not mention it.
    IrrelevantFolders,
    /// Not a prompt: a request to `/v1/embeddings`.
    Embedding,
    Other,
}

impl PromptKind {
    /// Reproduction prompts quote the repair format too, so they are recognised first; repair
    /// and irrelevant-folders prompts show the repository structure, so localization comes
    /// last.
    pub fn classify(prompt: &str) -> Self {
        if prompt.contains("Issue reproduced") {
            PromptKind::Reproduce
        } else if prompt.contains("SEARCH/REPLACE") {
            PromptKind::Repair
        } else if prompt.contains("list of folders that are irrelevant") {
            PromptKind::IrrelevantFolders
        } else if prompt.contains("Repository Structure") {
            PromptKind::Localize
        } else if prompt.contains("tests that should not be run") {
            PromptKind::SelectRegression
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
    /// Close a streamed response right after the first choice's finishing event, with no other
    /// finishes, no usage and no `[DONE]`; a request that is not streamed is dropped as by
    /// [`Fault::Drop`].
    CutStream,
    /// Stream the first event, then an error event with this message, then close; a request
    /// that is not streamed gets a 500 with the same error body.
    StreamError(String),
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
    /// Completions for prompts that contain a word, checked before `completions`.
    completions_for: Vec<(String, PromptKind, Vec<String>)>,
    ignore_n: bool,
    omit_usage: bool,
    latency: Duration,
    no_streaming: bool,
    stream_gap: Duration,
    /// [`Script::stream_gap_for`]'s gaps, over `stream_gap` for their kind.
    stream_gaps: HashMap<PromptKind, Duration>,
    faults: VecDeque<(Option<PromptKind>, Fault)>,
    max_model_len: Option<u64>,
    context_window: Option<u64>,
    slots: Option<usize>,
    models: Vec<String>,
}

impl Script {
    pub fn new() -> Self {
        Self::default()
            .answer(PromptKind::IrrelevantFolders, [NO_IRRELEVANT_FOLDERS])
            .answer(PromptKind::SelectRegression, [NO_TESTS_CHANGED])
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

    /// Canned completions for prompts of `kind` that contain `word` (a word of one issue), so
    /// that one server answers several jobs at once, each its own way. Checked before
    /// [`Script::answer`]'s lists, cycling on their own.
    pub fn answer_for<S: Into<String>>(
        mut self,
        word: &str,
        kind: PromptKind,
        completions: impl IntoIterator<Item = S>,
    ) -> Self {
        self.completions_for.push((
            word.to_owned(),
            kind,
            completions.into_iter().map(Into::into).collect(),
        ));
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

    /// Answer plain JSON even when a request asks to stream, as servers that cannot stream do.
    pub fn no_streaming(mut self) -> Self {
        self.no_streaming = true;
        self
    }

    /// Wait this long before each finishing event of a streamed response, so that choice `i`
    /// finishes about `(i + 1) * gap` after the content and a test can see early choices reach
    /// the caller before the stream ends. A JSON answer, which can only go out once every choice
    /// is written, waits `count * gap`: the same model, not streamed.
    pub fn stream_gap(mut self, gap: Duration) -> Self {
        self.stream_gap = gap;
        self
    }

    /// [`Script::stream_gap`] for prompts of `kind` only, so that one stage's samples come one
    /// at a time while the others answer at once.
    pub fn stream_gap_for(mut self, kind: PromptKind, gap: Duration) -> Self {
        self.stream_gaps.insert(kind, gap);
        self
    }

    fn gap(&self, kind: PromptKind) -> Duration {
        self.stream_gaps
            .get(&kind)
            .copied()
            .unwrap_or(self.stream_gap)
    }

    /// Serve at most `slots` chat requests at once, as a server with that many places in its
    /// batch: further requests wait, unanswered, until one ends. The wait and the
    /// [`Script::latency`] both count as the request's time.
    pub fn slots(mut self, slots: usize) -> Self {
        self.slots = Some(slots.max(1));
        self
    }

    /// List these model names in `GET /v1/models` (404 otherwise, unless
    /// [`Script::max_model_len`] is set).
    pub fn models<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Self {
        self.models = names.into_iter().map(Into::into).collect();
        self
    }

    /// Report this context length in `GET /v1/models` (`data[0].max_model_len`), as vLLM does.
    pub fn max_model_len(mut self, tokens: u64) -> Self {
        self.max_model_len = Some(tokens);
        self
    }

    /// Refuse a chat request whose prompt (counted as [`prompt_tokens`] counts it) plus its
    /// `max_tokens` exceeds `tokens`, with the 400 and the message vLLM sends; a request without
    /// `max_tokens` gets what is left. The window is not reported in `/v1/models`: this is a
    /// server that tells its context only by refusing.
    pub fn context_window(mut self, tokens: u64) -> Self {
        self.context_window = Some(tokens);
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

/// One chat request as the server saw it; fields are `None` when the body left them out.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    pub kind: PromptKind,
    pub model: Option<String>,
    pub messages: Vec<RecordedMessage>,
    pub n: Option<u64>,
    pub temperature: Option<f64>,
    pub top_p: Option<f64>,
    pub max_tokens: Option<u64>,
    pub stream: Option<bool>,
    /// The `Authorization` header, verbatim.
    pub authorization: Option<String>,
    pub received_at: Instant,
    /// The whole JSON body (`Null` when it did not parse).
    pub body: Value,
}

impl RecordedRequest {
    /// The prompt: the last user message's content (empty when there is none).
    pub fn prompt(&self) -> &str {
        self.messages
            .iter()
            .rev()
            .find(|m| m.role == "user")
            .map_or("", |m| m.content.as_str())
    }

    /// The system message's content, when the request has one first.
    pub fn system(&self) -> Option<&str> {
        self.messages
            .first()
            .filter(|m| m.role == "system")
            .map(|m| m.content.as_str())
    }
}

#[derive(Debug)]
struct State {
    script: Script,
    /// By kind and, for [`Script::answer_for`]'s lists, the word.
    cursors: HashMap<(PromptKind, Option<String>), usize>,
    requests: Vec<RecordedRequest>,
    models_requests: usize,
    /// Streamed answers the client went away from before their end.
    abandoned_streams: usize,
    next_id: u64,
    /// Samples (`n` of each chat request) being answered now, and the most there ever were.
    in_service: usize,
    peak_in_service: usize,
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

    /// Starts the server again on the address of one that was stopped (a server coming back
    /// after a restart), with a new script and a fresh log. Waits, up to a few seconds, for the
    /// old one to let go of the port.
    pub async fn start_at(addr: SocketAddr, script: Script) -> Self {
        let deadline = Instant::now() + Duration::from_secs(5);
        let listener = loop {
            match std::net::TcpListener::bind(addr) {
                Ok(listener) => break listener,
                Err(err) if Instant::now() > deadline => {
                    panic!("failed to bind the scripted backend again at {addr}: {err}")
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        };
        listener
            .set_nonblocking(true)
            .expect("failed to make the scripted backend's socket non-blocking");
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

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
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
            models_requests: 0,
            abandoned_streams: 0,
            next_id: 0,
            in_service: 0,
            peak_in_service: 0,
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

    /// The most samples (the `n` of the chat requests answered at once, summed) the server was
    /// ever writing at the same time.
    pub fn peak_in_service(&self) -> usize {
        lock(&self.state).peak_in_service
    }

    /// How many `GET /v1/models` requests the server has answered.
    pub fn models_requests(&self) -> usize {
        lock(&self.state).models_requests
    }

    /// How many streamed answers the client closed before their end (a write to it failed): a
    /// client that stops sampling early closes its open requests.
    pub fn abandoned_streams(&self) -> usize {
        lock(&self.state).abandoned_streams
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
    let slots = lock(&state)
        .script
        .slots
        .map(|n| Arc::new(tokio::sync::Semaphore::new(n)));
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
        let slots = slots.clone();
        tokio::spawn(async move {
            tokio::select! {
                () = stopped(&mut stop) => {}
                () = handle(stream, &state, &slots) => {}
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
    Stream(Streamed),
}

/// A streamed answer, decided under the lock like the others.
struct Streamed {
    /// The fields every chunk shares; each event fills in `choices`.
    chunk: Value,
    texts: Vec<String>,
    usage: Option<Value>,
    gap: Duration,
    delay: Duration,
    end: StreamEnd,
}

enum StreamEnd {
    Done,
    Cut,
    Error(String),
}

/// A chat request's place among the samples being answered; given back when dropped.
struct InService<'a> {
    state: &'a Mutex<State>,
    samples: usize,
}

impl<'a> InService<'a> {
    fn enter(state: &'a Mutex<State>, samples: usize) -> Self {
        let mut s = lock(state);
        s.in_service += samples;
        s.peak_in_service = s.peak_in_service.max(s.in_service);
        InService { state, samples }
    }
}

impl InService<'_> {
    fn finished_one(&mut self) {
        if self.samples > 0 {
            self.samples -= 1;
            lock(self.state).in_service -= 1;
        }
    }
}

impl Drop for InService<'_> {
    fn drop(&mut self) {
        lock(self.state).in_service -= self.samples;
    }
}

async fn handle(
    mut stream: TcpStream,
    state: &Mutex<State>,
    slots: &Option<Arc<tokio::sync::Semaphore>>,
) {
    let Some(request) = read_request(&mut stream).await else {
        return;
    };
    let chat = request.path == "/v1/chat/completions";
    // Held until the answer is written: the server's batch is full meanwhile.
    let _slot = match slots {
        Some(slots) if chat => Some(slots.clone().acquire_owned().await),
        _ => None,
    };
    let samples = serde_json::from_slice::<Value>(&request.body)
        .ok()
        .and_then(|body| body["n"].as_u64())
        .unwrap_or(1) as usize;
    let mut _in_service = chat.then(|| InService::enter(state, samples));
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
        Reply::Stream(streamed) => {
            tokio::time::sleep(streamed.delay).await;
            let mut finished = || {
                if let Some(in_service) = &mut _in_service {
                    in_service.finished_one();
                }
            };
            if write_stream(&mut stream, streamed, &mut finished)
                .await
                .is_err()
            {
                lock(state).abandoned_streams += 1;
            }
        }
    }
}

/// The default answer to the irrelevant-folders prompt: none.
pub const NO_IRRELEVANT_FOLDERS: &str = "```\n```";

/// The default answer to the regression-test selection prompt: no test the fix may change.
pub const NO_TESTS_CHANGED: &str = "```\n```";

/// The vector the scripted server gives a text: 64 dimensions, each counting the words (runs of
/// letters, digits and `_`, lower-cased) that hash to it. Texts sharing words point the same
/// way, so retrieval by cosine similarity finds the file that shares the issue's words.
pub fn embedding(text: &str) -> Vec<f32> {
    let mut vector = vec![0f32; 64];
    for word in text
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
    {
        // FNV-1a: stable across runs and platforms, unlike the standard library's hasher.
        let hash = word
            .to_lowercase()
            .bytes()
            .fold(0xcbf29ce484222325u64, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x100000001b3)
            });
        vector[(hash % 64) as usize] += 1.0;
    }
    vector
}

fn embeddings(state: &mut State, request: HttpRequest) -> Reply {
    let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
    let inputs: Vec<String> = match &body["input"] {
        Value::String(text) => vec![text.clone()],
        Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().unwrap_or_default().to_owned())
            .collect(),
        _ => {
            return error(
                400,
                "scripted backend: `input` must be a string or an array",
            )
        }
    };
    let model = body["model"].as_str().map(str::to_owned);
    state.requests.push(RecordedRequest {
        kind: PromptKind::Embedding,
        model: model.clone(),
        messages: Vec::new(),
        n: None,
        temperature: None,
        top_p: None,
        max_tokens: None,
        stream: None,
        authorization: request.authorization,
        received_at: Instant::now(),
        body,
    });
    let data: Vec<Value> = inputs
        .iter()
        .enumerate()
        .map(|(index, text)| json!({"object": "embedding", "index": index, "embedding": embedding(text)}))
        .collect();
    let tokens: usize = inputs.iter().map(|t| t.chars().count() / 4).sum();
    ok(json!({
        "object": "list",
        "model": model,
        "data": data,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    })
    .to_string())
}

fn decide(state: &mut State, request: HttpRequest) -> Reply {
    if request.path == "/v1/models" && request.method == "GET" {
        state.models_requests += 1;
        if !state.script.models.is_empty() {
            let data: Vec<Value> = state
                .script
                .models
                .iter()
                .map(|id| json!({"id": id, "object": "model", "owned_by": "scripted"}))
                .collect();
            return ok(json!({"object": "list", "data": data}).to_string());
        }
        return match state.script.max_model_len {
            Some(len) => ok(json!({
                "object": "list",
                "data": [{
                    "id": "scripted-model",
                    "object": "model",
                    "owned_by": "scripted",
                    "max_model_len": len,
                }],
            })
            .to_string()),
            None => error(404, "scripted backend: no route for /v1/models"),
        };
    }
    if request.path == "/v1/embeddings" && request.method == "POST" {
        return embeddings(state, request);
    }
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
        stream: body["stream"].as_bool(),
        authorization: request.authorization,
        received_at: Instant::now(),
        body,
    };
    let n = recorded.n;
    let model = recorded.model.clone().unwrap_or_default();
    let valid = !recorded.body.is_null();
    let streamed = recorded.stream == Some(true) && !state.script.no_streaming;
    let include_usage = recorded.body["stream_options"]["include_usage"].as_bool() == Some(true);
    state.requests.push(recorded);

    let fault = state
        .script
        .faults
        .iter()
        .position(|(only, _)| only.is_none_or(|only| only == kind))
        .and_then(|at| state.script.faults.remove(at))
        .map(|(_, fault)| fault);
    let (delay, end) = match fault {
        None => (Duration::ZERO, StreamEnd::Done),
        Some(Fault::Delay(delay)) => (delay, StreamEnd::Done),
        Some(Fault::CutStream) if streamed => (Duration::ZERO, StreamEnd::Cut),
        Some(Fault::CutStream) => return Reply::Drop,
        // The error comes before any completion is chosen, so the cycling is left as it was.
        Some(Fault::StreamError(message)) if streamed => {
            return Reply::Stream(Streamed {
                chunk: chunk_head(state, &model),
                texts: Vec::new(),
                usage: None,
                gap: Duration::ZERO,
                delay: Duration::ZERO,
                end: StreamEnd::Error(message),
            });
        }
        Some(Fault::StreamError(message)) => return error(500, &message),
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
    if let Some(window) = state.script.context_window {
        let input = prompt_tokens(&prompt);
        let requested = state.requests.last().and_then(|r| r.max_tokens);
        if input + requested.unwrap_or(1) > window {
            // vLLM's words (since 0.6): `max_tokens` too large for what the prompt leaves.
            let message = match requested {
                Some(max) => format!("'max_tokens' or 'max_completion_tokens' is too large: {max}. This model's maximum context length is {window} tokens and your request has {input} input tokens ({max} > {window} - {input}). None"),
                None => format!("This model's maximum context length is {window} tokens. However, you requested {input} tokens in the messages, Please reduce the length of the messages."),
            };
            return Reply::Respond {
                status: 400,
                body: json!({"object": "error", "message": message, "type": "BadRequestError", "param": null, "code": 400}).to_string(),
                retry_after: None,
                delay: Duration::ZERO,
            };
        }
    }
    let n = match n {
        None => 1,
        Some(0) => return error(400, "scripted backend: n must be at least 1"),
        Some(n) => n as usize,
    };
    let count = if state.script.ignore_n { 1 } else { n };
    let chosen = state
        .script
        .completions_for
        .iter()
        .find(|(word, for_kind, _)| *for_kind == kind && prompt.contains(word.as_str()))
        .map(|(word, _, list)| (Some(word.clone()), list.clone()))
        .or_else(|| {
            state
                .script
                .completions
                .get(&kind)
                .map(|list| (None, list.clone()))
        });
    let Some((word, list)) = chosen.filter(|(_, list)| !list.is_empty()) else {
        return error(
            400,
            &format!("scripted backend: no completions scripted for {kind:?} prompts"),
        );
    };
    let cursor = state.cursors.entry((kind, word)).or_default();
    let texts: Vec<String> = (0..count)
        .map(|i| list[(*cursor + i) % list.len()].clone())
        .collect();
    *cursor = (*cursor + count) % list.len();
    if streamed {
        let usage = (include_usage && !state.script.omit_usage).then(|| usage(&prompt, &texts));
        return Reply::Stream(Streamed {
            chunk: chunk_head(state, &model),
            texts,
            usage,
            gap: state.script.gap(kind),
            delay,
            end,
        });
    }
    let generation = state.script.gap(kind) * u32::try_from(texts.len()).unwrap_or(u32::MAX);
    let body = completion_body(state, &model, texts, &prompt);
    Reply::Respond {
        status: 200,
        body: body.to_string(),
        retry_after: None,
        delay: delay + generation,
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
    Reply::Respond {
        status,
        body: error_body(message).to_string(),
        retry_after: None,
        delay: Duration::ZERO,
    }
}

fn error_body(message: &str) -> Value {
    json!({"error": {"message": message, "type": "scripted_backend"}})
}

fn next_id(state: &mut State) -> String {
    state.next_id += 1;
    format!("chatcmpl-scripted-{}", state.next_id)
}

/// How many tokens the server counts in a prompt (the request's messages joined by newlines):
/// roughly four characters a token, enough for tests of the accounting and of context limits.
pub fn prompt_tokens(prompt: &str) -> u64 {
    (prompt.chars().count() / 4) as u64
}

/// The completion tokens the server reports for one answer.
pub fn completion_tokens(text: &str) -> u64 {
    (text.chars().count() / 4) as u64
}

fn usage(prompt: &str, texts: &[String]) -> Value {
    let prompt_tokens = prompt_tokens(prompt);
    let completion_tokens: u64 = texts.iter().map(|t| completion_tokens(t)).sum();
    json!({
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    })
}

fn chunk_head(state: &mut State, model: &str) -> Value {
    json!({
        "id": next_id(state),
        "object": "chat.completion.chunk",
        "created": 0,
        "model": model,
    })
}

fn completion_body(state: &mut State, model: &str, texts: Vec<String>, prompt: &str) -> Value {
    let usage = usage(prompt, &texts);
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
        "id": next_id(state),
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": choices,
    });
    if !state.script.omit_usage {
        body["usage"] = usage;
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

/// Small enough that a typical scripted completion spans several events.
const STREAM_PIECE_CHARS: usize = 16;

/// `finished` is told of each choice's finishing event as it goes out: that sample's place in the
/// batch is free from then on, as in vLLM.
async fn write_stream(
    stream: &mut TcpStream,
    reply: Streamed,
    finished: &mut (dyn FnMut() + Send),
) -> std::io::Result<()> {
    // Without this, Nagle's algorithm may hold back the small events and merge them, hiding
    // the pacing a test asked for.
    stream.set_nodelay(true)?;
    let head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n";
    send(stream, head).await?;
    send(stream, ": scripted backend\n\n").await?;
    let event = |choice: Value| {
        let mut chunk = reply.chunk.clone();
        chunk["choices"] = json!([choice]);
        format!("data: {chunk}\n\n")
    };
    let role = |index: usize| {
        event(json!({
            "index": index,
            "delta": {"role": "assistant", "content": ""},
            "finish_reason": null,
        }))
    };
    if let StreamEnd::Error(message) = &reply.end {
        send(stream, &role(0)).await?;
        send(stream, &format!("data: {}\n\n", error_body(message))).await?;
        return stream.shutdown().await;
    }
    for index in 0..reply.texts.len() {
        send(stream, &role(index)).await?;
    }
    let pieces: Vec<Vec<String>> = reply
        .texts
        .iter()
        .map(|text| {
            let chars: Vec<char> = text.chars().collect();
            chars
                .chunks(STREAM_PIECE_CHARS)
                .map(|piece| piece.iter().collect())
                .collect()
        })
        .collect();
    let rounds = pieces.iter().map(Vec::len).max().unwrap_or(0);
    for round in 0..rounds {
        for (index, pieces) in pieces.iter().enumerate() {
            if let Some(piece) = pieces.get(round) {
                let delta =
                    json!({"index": index, "delta": {"content": piece}, "finish_reason": null});
                send(stream, &event(delta)).await?;
            }
        }
    }
    for index in 0..reply.texts.len() {
        tokio::time::sleep(reply.gap).await;
        let finish = json!({"index": index, "delta": {}, "finish_reason": "stop"});
        // Freed before it is written: the client may answer the event with a new request.
        finished();
        send(stream, &event(finish)).await?;
        if let StreamEnd::Cut = reply.end {
            return stream.shutdown().await;
        }
    }
    if let Some(usage) = reply.usage {
        let mut chunk = reply.chunk.clone();
        chunk["choices"] = json!([]);
        chunk["usage"] = usage;
        send(stream, &format!("data: {chunk}\n\n")).await?;
    }
    send(stream, "data: [DONE]\n\n").await?;
    // The answer is whole: a client that hangs up now has abandoned nothing.
    let _ = stream.shutdown().await;
    Ok(())
}

async fn send(stream: &mut TcpStream, text: &str) -> std::io::Result<()> {
    stream.write_all(text.as_bytes()).await?;
    stream.flush().await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    /// Sends one request over raw TCP and reads the whole response, up to the server's close.
    fn post(addr: SocketAddr, body: &str) -> String {
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        write!(
            stream,
            "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        response
    }

    fn request(n: u64, stream: bool, include_usage: bool) -> String {
        json!({
            "model": "m",
            "messages": [{"role": "user", "content": "hello"}],
            "n": n,
            "stream": stream,
            "stream_options": {"include_usage": include_usage},
        })
        .to_string()
    }

    #[test]
    fn a_word_of_the_prompt_picks_its_own_answers() {
        let backend = ScriptedBackend::start_in_background(
            Script::new()
                .answer(PromptKind::Other, ["plain"])
                .answer_for("divide", PromptKind::Other, ["divide 1", "divide 2"])
                .answer_for("shout", PromptKind::Repair, ["never: another kind"]),
        );
        let ask = |prompt: &str| {
            let body = json!({"model": "m", "messages": [{"role": "user", "content": prompt}]});
            let response = post(backend.addr, &body.to_string());
            let (_, body) = response.split_once("\r\n\r\n").unwrap();
            let body: Value = serde_json::from_str(body).unwrap();
            body["choices"][0]["message"]["content"]
                .as_str()
                .unwrap()
                .to_owned()
        };
        assert_eq!(ask("please divide"), "divide 1");
        assert_eq!(ask("shout"), "plain");
        assert_eq!(ask("divide again"), "divide 2");
        assert_eq!(ask("divide"), "divide 1");
        assert_eq!(ask("hello"), "plain");
    }

    /// The blocks of an event stream: comments and `data:` lines, without their blank lines.
    fn blocks(response: &str) -> Vec<&str> {
        assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
        let (head, body) = response.split_once("\r\n\r\n").unwrap();
        assert!(
            head.contains("\r\nContent-Type: text/event-stream\r\n"),
            "{head}"
        );
        assert!(head.contains("\r\nCache-Control: no-cache\r\n"), "{head}");
        assert!(
            !head.to_ascii_lowercase().contains("content-length"),
            "{head}"
        );
        assert!(body.ends_with("\n\n"), "{body:?}");
        body.split_terminator("\n\n").collect()
    }

    fn data(block: &str) -> Value {
        let json = block
            .strip_prefix("data: ")
            .unwrap_or_else(|| panic!("{block:?}"));
        serde_json::from_str(json).unwrap()
    }

    /// The one choice of a chunk, after checking the fields every chunk carries.
    fn choice(chunk: &Value) -> &Value {
        assert_eq!(chunk["object"], "chat.completion.chunk", "{chunk}");
        assert_eq!(chunk["model"], "m");
        assert!(chunk["id"]
            .as_str()
            .unwrap()
            .starts_with("chatcmpl-scripted-"));
        let choices = chunk["choices"].as_array().unwrap();
        assert_eq!(choices.len(), 1, "{chunk}");
        &choices[0]
    }

    /// Checks a complete stream of `texts` and returns its usage, if it carried one.
    fn check_stream(response: &str, texts: &[&str]) -> Option<Value> {
        let blocks = blocks(response);
        assert_eq!(blocks[0], ": scripted backend");
        assert_eq!(blocks.last(), Some(&"data: [DONE]"));
        let chunks: Vec<Value> = blocks[1..blocks.len() - 1]
            .iter()
            .map(|block| data(block))
            .collect();
        let (usage, chunks) = match chunks.split_last() {
            Some((last, rest)) if last.get("usage").is_some() => {
                assert_eq!(last["choices"], json!([]), "{last}");
                (Some(last["usage"].clone()), rest)
            }
            _ => (None, &chunks[..]),
        };
        let n = texts.len();
        for (index, chunk) in chunks[..n].iter().enumerate() {
            assert_eq!(
                *choice(chunk),
                json!({"index": index, "delta": {"role": "assistant", "content": ""}, "finish_reason": null})
            );
        }
        for (index, chunk) in chunks[chunks.len() - n..].iter().enumerate() {
            assert_eq!(
                *choice(chunk),
                json!({"index": index, "delta": {}, "finish_reason": "stop"})
            );
        }
        let pieces: Vec<Vec<char>> = texts.iter().map(|text| text.chars().collect()).collect();
        let expected: Vec<(usize, String)> = (0..)
            .take_while(|round| pieces.iter().any(|p| p.len() > round * 16))
            .flat_map(|round| {
                pieces.iter().enumerate().filter_map(move |(index, p)| {
                    let piece = p.chunks(16).nth(round)?;
                    Some((index, piece.iter().collect()))
                })
            })
            .collect();
        let content: Vec<(usize, String)> = chunks[n..chunks.len() - n]
            .iter()
            .map(|chunk| {
                let choice = choice(chunk);
                assert_eq!(choice["finish_reason"], Value::Null, "{chunk}");
                let piece = choice["delta"]["content"].as_str().unwrap().to_owned();
                assert!(piece.chars().count() <= 16, "{piece:?}");
                (choice["index"].as_u64().unwrap() as usize, piece)
            })
            .collect();
        assert_eq!(content, expected);
        for (index, text) in texts.iter().enumerate() {
            let joined: String = content
                .iter()
                .filter(|(i, _)| *i == index)
                .map(|(_, piece)| piece.as_str())
                .collect();
            assert_eq!(joined, *text);
        }
        usage
    }

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
        assert_eq!(
            PromptKind::classify(include_str!("../../../prompts/select_regression.md")),
            PromptKind::SelectRegression
        );
        for (template, kind) in [
            ("localize.md", PromptKind::Localize),
            ("repair.md", PromptKind::Repair),
            ("reproduce.md", PromptKind::Reproduce),
            ("reproduce_program.md", PromptKind::Reproduce),
            ("irrelevant_folders.md", PromptKind::IrrelevantFolders),
        ] {
            let text = std::fs::read_to_string(
                std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("../../prompts")
                    .join(template),
            )
            .unwrap();
            assert_eq!(PromptKind::classify(&text), kind, "{template}");
        }
        assert_eq!(
            PromptKind::classify(
                "provide a list of folders that are irrelevant to fixing the problem.\n### Repository Structure ###"
            ),
            PromptKind::IrrelevantFolders
        );
        assert_eq!(PromptKind::classify("hello"), PromptKind::Other);
    }

    #[test]
    fn background_server_answers_and_stops() {
        let backend =
            ScriptedBackend::start_in_background(Script::new().answer(PromptKind::Other, ["hi"]));
        let addr = backend.addr;
        let body = r#"{"model":"m","messages":[{"role":"user","content":"hello"}],"n":2}"#;
        let response = post(addr, body);
        assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
        let json: Value = serde_json::from_str(response.split("\r\n\r\n").nth(1).unwrap()).unwrap();
        assert_eq!(json["choices"].as_array().unwrap().len(), 2);
        assert_eq!(json["usage"]["prompt_tokens"], 1);
        let requests = backend.requests();
        assert_eq!(requests.len(), 1);
        assert_eq!(requests[0].authorization.as_deref(), Some("Bearer k"));
        assert_eq!(requests[0].n, Some(2));
        backend.shutdown();
        assert!(
            !crate::still_answers::still_answers(addr),
            "the backend still answers after shutdown"
        );
    }

    const LONG: &str = "a long first answer, élève — with accents, so pieces split on chars";
    const SHORT: &str = "short";
    const MIDDLE: &str = "a middling third answer";

    #[test]
    fn streams_choices_interleaved() {
        let backend = ScriptedBackend::start_in_background(
            Script::new().answer(PromptKind::Other, [LONG, SHORT, MIDDLE]),
        );
        let response = post(backend.addr, &request(2, true, true));
        let usage = check_stream(&response, &[LONG, SHORT]).expect("usage was asked for");
        let prompt_tokens = 1;
        let completion_tokens = (LONG.chars().count() / 4 + SHORT.chars().count() / 4) as u64;
        assert_eq!(
            usage,
            json!({
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            })
        );

        // The cycling carries on from the first request, as for JSON answers.
        let response = post(backend.addr, &request(2, true, false));
        assert_eq!(check_stream(&response, &[MIDDLE, LONG]), None);
        let requests = backend.requests();
        assert_eq!(requests[0].stream, Some(true));
    }

    #[test]
    fn streams_without_usage_when_told_to_omit_it() {
        let backend = ScriptedBackend::start_in_background(
            Script::new()
                .answer(PromptKind::Other, [SHORT])
                .omit_usage()
                .ignore_n(),
        );
        let response = post(backend.addr, &request(3, true, true));
        assert_eq!(check_stream(&response, &[SHORT]), None);
    }

    #[test]
    fn no_streaming_answers_json() {
        let backend = ScriptedBackend::start_in_background(
            Script::new()
                .answer(PromptKind::Other, [SHORT])
                .no_streaming(),
        );
        let response = post(backend.addr, &request(2, true, true));
        assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
        assert!(response.contains("\r\nContent-Type: application/json\r\n"));
        let json: Value = serde_json::from_str(response.split("\r\n\r\n").nth(1).unwrap()).unwrap();
        assert_eq!(json["object"], "chat.completion");
        assert_eq!(json["choices"].as_array().unwrap().len(), 2);
        assert_eq!(backend.requests()[0].stream, Some(true));
    }

    #[test]
    fn stream_gap_delays_each_finish() {
        let gap = Duration::from_millis(100);
        let backend = ScriptedBackend::start_in_background(
            Script::new()
                .answer(PromptKind::Other, [SHORT])
                .stream_gap(gap),
        );
        let started = Instant::now();
        let response = post(backend.addr, &request(2, true, false));
        assert!(started.elapsed() >= 2 * gap);
        check_stream(&response, &[SHORT, SHORT]);
    }

    #[test]
    fn cut_stream_stops_after_the_first_finish() {
        let backend = ScriptedBackend::start_in_background(
            Script::new()
                .answer(PromptKind::Other, [SHORT])
                .fault(Fault::CutStream)
                .fault(Fault::CutStream),
        );
        let response = post(backend.addr, &request(2, true, true));
        let blocks = blocks(&response);
        let finishes: Vec<Value> = blocks[1..]
            .iter()
            .map(|block| data(block))
            .filter(|chunk| !choice(chunk)["finish_reason"].is_null())
            .collect();
        assert_eq!(finishes.len(), 1, "{response}");
        assert_eq!(
            data(blocks.last().unwrap())["choices"][0],
            json!({"index": 0, "delta": {}, "finish_reason": "stop"})
        );

        // Not streamed, it is a dropped connection.
        assert_eq!(post(backend.addr, &request(2, false, false)), "");
    }

    #[test]
    fn stream_error_sends_an_error_event() {
        let backend = ScriptedBackend::start_in_background(
            Script::new()
                .answer(PromptKind::Other, [SHORT])
                .fault(Fault::StreamError("overloaded".to_owned()))
                .fault(Fault::StreamError("overloaded".to_owned())),
        );
        let response = post(backend.addr, &request(2, true, true));
        let blocks = blocks(&response);
        assert_eq!(blocks.len(), 3, "{response}");
        assert_eq!(blocks[0], ": scripted backend");
        assert_eq!(
            *choice(&data(blocks[1])),
            json!({"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": null})
        );
        assert_eq!(
            data(blocks[2]),
            json!({"error": {"message": "overloaded", "type": "scripted_backend"}})
        );

        let response = post(backend.addr, &request(2, false, false));
        assert!(
            response.starts_with("HTTP/1.1 500 Internal Server Error\r\n"),
            "{response}"
        );
        let json: Value = serde_json::from_str(response.split("\r\n\r\n").nth(1).unwrap()).unwrap();
        assert_eq!(json["error"]["message"], "overloaded");
    }
}
