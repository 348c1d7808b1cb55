use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;
use tokio::time::Instant;

use futures::stream::{FuturesUnordered, StreamExt};
use reqwest::header::CONTENT_TYPE;
use reqwest::Url;
use tokio::sync::mpsc::{self, UnboundedSender};
use tokio_util::sync::CancellationToken;

use super::config::{chat_completions_url, BackendConfig};
use super::error::{excerpt, redact, AttemptError, BackendError};
use super::plan::{Plan, Request};
use super::retry::{backoff, retry_after_of};
use super::sse::SseDecoder;
use super::stream::StreamAssembler;
use super::wire::{ChatMessage, ChatRequest, ChatResponse, Choice, StreamOptions, Usage};

/// A host that does not answer the TCP handshake should be reported long before the (generation
/// sized) request timeout runs out.
const MAX_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a call that has all its samples waits for the usage of its last requests.
const USAGE_GRACE: Duration = Duration::from_secs(2);

/// How to sample; the same for every sample of one call.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SamplingParams {
    pub temperature: f64,
    pub top_p: f64,
    /// `None` leaves the limit to the server (vLLM: whatever fits the context).
    pub max_tokens: Option<u32>,
}

impl Default for SamplingParams {
    /// The SWE-Swiss settings.
    fn default() -> Self {
        Self {
            temperature: 0.6,
            top_p: 0.95,
            max_tokens: None,
        }
    }
}

/// One completion, handed out as soon as the response carrying it arrives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    /// Unique within a call, `0..n`, in order of arrival.
    pub index: usize,
    /// Empty when the server sent no content; the pipeline counts that as an invalid sample.
    pub text: String,
    pub finish_reason: Option<String>,
}

struct Endpoint {
    url: Url,
    /// The URL as it appears in logs and errors, credentials removed.
    shown: String,
    /// Cleared for good once the server refuses a streamed request (an older or strict server
    /// rejecting `stream_options`, a proxy that cannot stream).
    streams: AtomicBool,
}

/// A chat-completions client for one model on one or more OpenAI-compatible servers.
pub struct BackendClient {
    http: reqwest::Client,
    endpoints: Vec<Endpoint>,
    model: String,
    api_key: Option<String>,
    request_timeout: Duration,
    max_retries: u32,
    initial_backoff: Duration,
    /// Rotates which endpoint gets the odd sample, across calls.
    next_first: AtomicUsize,
}

impl fmt::Debug for BackendClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BackendClient")
            .field(
                "endpoints",
                &self.endpoints.iter().map(|e| &e.shown).collect::<Vec<_>>(),
            )
            .field("model", &self.model)
            .finish_non_exhaustive()
    }
}

impl BackendClient {
    pub fn new(config: BackendConfig) -> Result<Self, BackendError> {
        if config.base_urls.is_empty() {
            return Err(BackendError::Config("no backend URL given".to_owned()));
        }
        if config.model.trim().is_empty() {
            return Err(BackendError::Config("no model name given".to_owned()));
        }
        let endpoints = config
            .base_urls
            .iter()
            .map(|base| {
                let url = chat_completions_url(base)?;
                let mut shown = url.clone();
                // Ignoring the result: it fails only for URLs that cannot hold a password at all.
                let _ = shown.set_password(None);
                Ok(Endpoint {
                    url,
                    shown: shown.into(),
                    streams: AtomicBool::new(config.stream),
                })
            })
            .collect::<Result<Vec<_>, BackendError>>()?;
        // No client-wide timeout: a whole answer gets `request_timeout`, a stream may take
        // longer as long as it keeps sending (`attempt`).
        let http = reqwest::Client::builder()
            .connect_timeout(config.request_timeout.min(MAX_CONNECT_TIMEOUT))
            .build()
            .map_err(|err| {
                BackendError::Config(format!("failed to build the HTTP client: {err}"))
            })?;
        Ok(Self {
            http,
            endpoints,
            model: config.model,
            api_key: config.api_key.filter(|key| !key.is_empty()),
            request_timeout: config.request_timeout,
            max_retries: config.max_retries,
            initial_backoff: config.initial_backoff,
            next_first: AtomicUsize::new(0),
        })
    }

    /// Samples exactly `n` completions of `messages` and sends each into `tx` as soon as it is
    /// complete; returns the token usage the servers reported.
    ///
    /// Each endpoint is asked for its share of `n` in one request, so that vLLM and SGLang
    /// prefill the prompt once; streamed (the default), each choice is handed on when it finishes
    /// rather than when the slowest of its siblings does. Servers that answer fewer choices than
    /// asked (llama.cpp, Ollama, some proxies ignore `n`) are topped up with further requests;
    /// extra choices are dropped. An endpoint that keeps failing hands its share to the others;
    /// the call fails when none is left. When `cancel` fires, or `tx`'s receiver is dropped, open
    /// requests are abandoned and the call returns [`BackendError::Cancelled`]; samples already
    /// sent stay sent.
    #[tracing::instrument(name = "backend.sample", skip_all, fields(n = n, model = %self.model))]
    pub async fn sample(
        &self,
        messages: &[ChatMessage],
        n: usize,
        params: &SamplingParams,
        tx: UnboundedSender<Sample>,
        cancel: &CancellationToken,
    ) -> Result<Usage, BackendError> {
        if cancel.is_cancelled() {
            return Err(BackendError::Cancelled);
        }
        let first = self.next_first.fetch_add(1, Ordering::Relaxed);
        let mut plan = Plan::new(self.endpoints.len(), n, first);
        // Requests report through one channel, so a request's choices are always seen before
        // its end.
        let (events_tx, mut events) = mpsc::unbounded_channel::<(u64, RequestEvent)>();
        let mut in_flight = FuturesUnordered::new();
        let mut open: HashMap<u64, (Request, usize)> = HashMap::new();
        let mut next_id = 0u64;
        let mut usage = Usage::default();
        let mut last_error = None;
        let mut complete_at: Option<Instant> = None;
        loop {
            for request in plan.next_requests() {
                next_id += 1;
                in_flight.push(self.request(
                    next_id,
                    request.clone(),
                    messages,
                    params,
                    events_tx.clone(),
                ));
                open.insert(next_id, (request, 0));
            }
            if plan.is_complete() {
                // The last requests' usage comes after their last choice (a stream's closing
                // chunk): worth a moment's wait, not a hang on a server that never closes.
                if open.is_empty() {
                    return Ok(usage);
                }
                let deadline = *complete_at.get_or_insert_with(|| Instant::now() + USAGE_GRACE);
                if Instant::now() >= deadline {
                    return Ok(usage);
                }
            } else if open.is_empty() {
                debug_assert!(plan.is_stuck());
                return Err(last_error.unwrap_or_else(|| {
                    BackendError::Config("no backend endpoint left to ask".to_owned())
                }));
            }
            let grace = complete_at.map_or(Duration::MAX, |at| at - Instant::now().min(at));
            let (id, event) = tokio::select! {
                biased;
                () = cancel.cancelled() => return Err(BackendError::Cancelled),
                Some(event) = events.recv() => event,
                Some(()) = in_flight.next(), if !in_flight.is_empty() => continue,
                () = tokio::time::sleep(grace), if complete_at.is_some() => return Ok(usage),
            };
            let Some((request, kept)) = open.get_mut(&id) else {
                continue;
            };
            match event {
                RequestEvent::Choice(choice) => {
                    let Some(index) = plan.take(request, *kept) else {
                        continue;
                    };
                    *kept += 1;
                    let sample = Sample {
                        index,
                        finish_reason: choice.finish_reason.clone(),
                        text: Choice::into_text(choice),
                    };
                    if tx.send(sample).is_err() {
                        return Err(BackendError::Cancelled);
                    }
                }
                RequestEvent::Finished { returned, usage: u } => {
                    usage += u;
                    plan.finished(request, returned, *kept);
                    open.remove(&id);
                }
                RequestEvent::Failed(err) => {
                    tracing::warn!(error = %err, samples = request.count - *kept, "backend endpoint gave up");
                    plan.failed(request, *kept);
                    open.remove(&id);
                    last_error = Some(err);
                }
            }
        }
    }

    /// One request for `request.count` samples, retried with backoff while failures look
    /// transient; a retry after a stream broke off asks only for the choices still missing.
    async fn request(
        &self,
        id: u64,
        request: Request,
        messages: &[ChatMessage],
        params: &SamplingParams,
        events: UnboundedSender<(u64, RequestEvent)>,
    ) {
        let endpoint = &self.endpoints[request.endpoint];
        let mut returned = 0;
        let mut usage = Usage::default();
        let mut attempts = 0;
        let result = loop {
            let missing = request.count.saturating_sub(returned);
            if missing == 0 {
                break Ok(());
            }
            attempts += 1;
            let stream = endpoint.streams.load(Ordering::Relaxed);
            let body = ChatRequest {
                model: &self.model,
                messages,
                n: missing,
                temperature: params.temperature,
                top_p: params.top_p,
                max_tokens: params.max_tokens,
                stream,
                stream_options: stream.then_some(StreamOptions {
                    include_usage: true,
                }),
            };
            tracing::debug!(url = %endpoint.shown, n = missing, attempt = attempts, stream, "requesting completions");
            let mut deliver = |choice: Choice| {
                returned += 1;
                // A closed channel means the call is over; its end is not this request's business.
                let _ = events.send((id, RequestEvent::Choice(choice)));
            };
            match self.attempt(endpoint, &body, &mut deliver).await {
                Ok(u) => {
                    usage += u;
                    break Ok(());
                }
                // Only a refusal that is about streaming: a prompt over the context length must
                // not turn streaming off for the rest of the session.
                Err(AttemptError::Status {
                    status,
                    body_excerpt,
                    ..
                }) if stream
                    && matches!(status.as_u16(), 400 | 422)
                    && body_excerpt.to_ascii_lowercase().contains("stream") =>
                {
                    tracing::warn!(url = %endpoint.shown, status = status.as_u16(), body = %body_excerpt, "the server refused a streamed request; asking for one body from now on");
                    endpoint.streams.store(false, Ordering::Relaxed);
                    attempts -= 1;
                }
                Err(err) if err.is_retryable() && attempts <= self.max_retries => {
                    let delay = err
                        .retry_after()
                        .unwrap_or_else(|| backoff(self.initial_backoff, attempts));
                    tracing::warn!(
                        url = %endpoint.shown,
                        attempt = attempts,
                        error = %err,
                        retry_in_ms = delay.as_millis() as u64,
                        "backend request failed; retrying"
                    );
                    tokio::time::sleep(delay).await;
                }
                Err(err) => {
                    break Err(err.into_backend_error(
                        &endpoint.shown,
                        attempts,
                        self.request_timeout,
                    ))
                }
            }
        };
        let event = match result {
            Ok(()) => RequestEvent::Finished { returned, usage },
            Err(err) => RequestEvent::Failed(err),
        };
        let _ = events.send((id, event));
    }

    /// One HTTP exchange; each choice goes to `deliver` as soon as it is complete. Returns the
    /// usage the server reported (zero where it sent none).
    async fn attempt(
        &self,
        endpoint: &Endpoint,
        body: &ChatRequest<'_>,
        deliver: &mut (dyn FnMut(Choice) + Send),
    ) -> Result<Usage, AttemptError> {
        let mut builder = self.http.post(endpoint.url.clone()).json(body);
        if let Some(key) = &self.api_key {
            builder = builder.bearer_auth(key);
        }
        // A whole answer must come within the timeout; a stream only has to keep moving.
        if !body.stream {
            builder = builder.timeout(self.request_timeout);
        }
        let response = tokio::time::timeout(self.request_timeout, builder.send())
            .await
            .map_err(|_| AttemptError::Stalled)?
            .map_err(AttemptError::Transport)?;
        let status = response.status();
        let retry_after = retry_after_of(&response);
        let event_stream = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.starts_with("text/event-stream"));
        if status.is_success() && event_stream {
            return self.read_stream(response, deliver).await;
        }
        // Errors, and servers that answer a stream request with one JSON body.
        let bytes = response.bytes().await.map_err(AttemptError::Transport)?;
        let shown_body = || self.shown(&String::from_utf8_lossy(&bytes));
        if !status.is_success() {
            return Err(AttemptError::Status {
                status,
                body_excerpt: shown_body(),
                retry_after,
            });
        }
        let parsed: ChatResponse = serde_json::from_slice(&bytes).map_err(|err| {
            AttemptError::Malformed(format!("not a chat completion ({err}): {}", shown_body()))
        })?;
        if parsed.choices.is_empty() {
            return Err(AttemptError::EmptyChoices);
        }
        for choice in parsed.choices {
            deliver(choice);
        }
        Ok(parsed.usage.unwrap_or_default())
    }

    async fn read_stream(
        &self,
        mut response: reqwest::Response,
        deliver: &mut (dyn FnMut(Choice) + Send),
    ) -> Result<Usage, AttemptError> {
        let mut decoder = SseDecoder::default();
        let mut assembler = StreamAssembler::default();
        let malformed = |detail: String| AttemptError::Malformed(self.shown(&detail));
        loop {
            let chunk = tokio::time::timeout(self.request_timeout, response.chunk())
                .await
                .map_err(|_| AttemptError::Stalled)?
                .map_err(AttemptError::Transport)?;
            let events = match &chunk {
                Some(bytes) => decoder.push(bytes),
                None => decoder.finish().into_iter().collect(),
            };
            for event in events {
                for choice in assembler.event(&event).map_err(malformed)? {
                    deliver(choice);
                }
            }
            if chunk.is_none() {
                break;
            }
        }
        for choice in assembler.end().map_err(malformed)? {
            deliver(choice);
        }
        if assembler.choices_seen() == 0 {
            return Err(AttemptError::EmptyChoices);
        }
        Ok(assembler.usage().unwrap_or_default())
    }

    /// What a server sent, fit for a message: short, and without the key some proxies echo.
    fn shown(&self, text: &str) -> String {
        excerpt(&redact(text, self.api_key.as_deref()))
    }
}

/// What one request reports to the call that sent it.
enum RequestEvent {
    Choice(Choice),
    Finished { returned: usize, usage: Usage },
    Failed(BackendError),
}
