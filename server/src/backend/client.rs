use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

use futures::stream::{FuturesUnordered, StreamExt};
use reqwest::header::CONTENT_TYPE;
use reqwest::{StatusCode, Url};
use tokio::sync::mpsc::{self, UnboundedSender};
use tokio_util::sync::CancellationToken;

use super::config::{api_url, chat_completions_url, models_url, BackendConfig};
use super::context::{max_model_len, parse_overflow, prompt_tokens, room, Overflow};
use super::error::{excerpt, redact, AttemptError, BackendError};
use super::ledger::{tokens, EndpointUsage, UsageLedger};
use super::plan::{Plan, Request};
use super::pool::Pool;
use super::retry::{backoff, retry_after_of};
use super::sse::SseDecoder;
use super::stream::StreamAssembler;
use super::wire::{ChatMessage, ChatRequest, ChatResponse, Choice, StreamOptions, Usage};
use crate::engine::tokens::TokenCount;

/// A host that does not answer the TCP handshake should be reported long before the (generation
/// sized) request timeout runs out.
const MAX_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a call that has all its samples waits for the usage of its last requests.
const USAGE_GRACE: Duration = Duration::from_secs(2);
/// `GET /v1/models` is answered from memory; a server that takes longer does not report it.
const MODELS_TIMEOUT: Duration = Duration::from_secs(10);

/// How to sample; the same for every sample of one call.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SamplingParams {
    pub temperature: f64,
    pub top_p: f64,
    /// Lowered to what the server's context leaves when the server reports its length, or
    /// refuses a request for length; `None` leaves the limit to the server (vLLM: whatever fits
    /// the context).
    pub max_tokens: Option<u32>,
}

impl Default for SamplingParams {
    /// The SWE-Swiss settings.
    fn default() -> Self {
        Self {
            temperature: 0.6,
            top_p: 0.95,
            max_tokens: Some(32_768),
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
    /// The API root as configured, credentials removed: how usage and `swiss doctor` name it.
    root: String,
    model: String,
    /// Sent as a bearer token. Kept out of logs, `Debug` output and error messages.
    api_key: Option<String>,
    /// Cleared for good once the server refuses a streamed request (an older or strict server
    /// rejecting `stream_options`, a proxy that cannot stream).
    streams: AtomicBool,
    models: Url,
    /// The context length `GET /v1/models` reported, asked once.
    reported_context: tokio::sync::OnceCell<Option<u64>>,
    /// The context length a refusal for length told (0: none yet); it wins over the report.
    refused_context: AtomicU64,
}

impl Endpoint {
    /// What the server sent, fit for a message: short, and without the key some proxies echo.
    fn shown_text(&self, text: &str) -> String {
        excerpt(&redact(text, self.api_key.as_deref()))
    }

    /// For good: the server refused a streamed request, so the rest of the session asks for
    /// one body.
    fn stop_streaming(&self, refusal: &AttemptError) {
        if let AttemptError::Status {
            status,
            body_excerpt,
            ..
        } = refusal
        {
            tracing::warn!(url = %self.shown, status = status.as_u16(), body = %body_excerpt, "the server refused a streamed request; asking for one body from now on");
        }
        self.streams.store(false, Ordering::Relaxed);
    }
}

/// `url` as logs and errors show it.
fn without_password(url: &Url) -> String {
    let mut shown = url.clone();
    // Ignoring the result: it fails only for URLs that cannot hold a password at all.
    let _ = shown.set_password(None);
    shown.into()
}

/// A 400 or 422 that names streaming: an older or strict server rejecting `stream_options`, a
/// proxy that cannot stream.
fn refuses_streaming(err: &AttemptError) -> bool {
    matches!(err, AttemptError::Status { status, body_excerpt, .. }
        if matches!(status.as_u16(), 400 | 422)
            && body_excerpt.to_ascii_lowercase().contains("stream"))
}

/// A chat-completions client for one model on one or more OpenAI-compatible servers.
pub struct BackendClient {
    http: reqwest::Client,
    endpoints: Vec<Endpoint>,
    /// Free slots, speed and health of `endpoints`, shared by every call.
    pool: Arc<Pool>,
    /// Everything every call of this client asked of each endpoint.
    totals: UsageLedger,
    model: String,
    request_timeout: Duration,
    max_retries: u32,
    initial_backoff: Duration,
    system_message: Option<String>,
    token_count: Arc<dyn TokenCount>,
    /// A lowered `max_tokens` after a refusal is said once a client, not once a request.
    said_refit: AtomicBool,
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
        if config.base_urls.is_empty() && config.endpoints.is_empty() {
            return Err(BackendError::Config("no backend URL given".to_owned()));
        }
        if config.model.trim().is_empty() {
            return Err(BackendError::Config("no model name given".to_owned()));
        }
        let all = config.all_endpoints();
        if all.iter().any(|e| e.max_concurrent == Some(0)) {
            return Err(BackendError::Config(
                "max_concurrent must be at least 1".to_owned(),
            ));
        }
        let endpoints = all
            .iter()
            .map(|e| {
                let url = chat_completions_url(&e.url)?;
                Ok(Endpoint {
                    shown: without_password(&url),
                    root: without_password(&api_url(&e.url, "")?)
                        .trim_end_matches('/')
                        .to_owned(),
                    url,
                    model: e.model.clone().unwrap_or_else(|| config.model.clone()),
                    api_key: e.api_key.clone().filter(|key| !key.is_empty()),
                    streams: AtomicBool::new(config.stream),
                    models: models_url(&e.url)?,
                    reported_context: tokio::sync::OnceCell::new(),
                    refused_context: AtomicU64::new(0),
                })
            })
            .collect::<Result<Vec<_>, BackendError>>()?;
        let limits: Vec<Option<usize>> = all.iter().map(|e| e.max_concurrent).collect();
        let pool = Arc::new(Pool::new(&limits, config.probe_interval));
        let totals = UsageLedger::new(endpoints.iter().map(|e| e.root.clone()));
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
            pool,
            totals,
            model: config.model,
            request_timeout: config.request_timeout,
            max_retries: config.max_retries,
            initial_backoff: config.initial_backoff,
            system_message: config.system_message.filter(|m| !m.is_empty()),
            token_count: config.token_count,
            said_refit: AtomicBool::new(false),
            next_first: AtomicUsize::new(0),
        })
    }

    /// Samples exactly `n` completions of `messages` and sends each into `tx` as soon as it is
    /// complete; returns the token usage the servers reported.
    ///
    /// The samples go, one at a time, to the endpoint with the most free slots (its
    /// `max_concurrent` less what every call holds there) weighted by how fast its slots have
    /// recently turned over, so a faster server takes more; each endpoint's share is one request,
    /// so that vLLM and SGLang prefill the prompt once. When every slot is held the call waits
    /// for one. Streamed (the default), each choice is handed on when it finishes rather than
    /// when the slowest of its siblings does. Servers that answer fewer choices than asked
    /// (llama.cpp, Ollama, some proxies ignore `n`) are topped up with further requests; extra
    /// choices are dropped. An endpoint that fails for good (after the retries) is taken out of
    /// the pool for every call, its open requests end and their samples go to the others; a
    /// `GET /v1/models` probe brings it back. The call fails when no endpoint is left. When
    /// `cancel` fires, or `tx`'s receiver is dropped, open requests are abandoned and the call
    /// returns [`BackendError::Cancelled`]; samples already sent stay sent.
    pub async fn sample(
        &self,
        messages: &[ChatMessage],
        n: usize,
        params: &SamplingParams,
        tx: UnboundedSender<Sample>,
        cancel: &CancellationToken,
    ) -> Result<Usage, BackendError> {
        self.sample_recorded(messages, n, params, tx, cancel, None)
            .await
    }

    /// [`Self::sample`], adding what each endpoint served to `ledger` as well (a job's own).
    #[tracing::instrument(name = "backend.sample", skip_all, fields(n = n, model = %self.model))]
    pub async fn sample_recorded(
        &self,
        messages: &[ChatMessage],
        n: usize,
        params: &SamplingParams,
        tx: UnboundedSender<Sample>,
        cancel: &CancellationToken,
        ledger: Option<&UsageLedger>,
    ) -> Result<Usage, BackendError> {
        if cancel.is_cancelled() {
            return Err(BackendError::Cancelled);
        }
        let messages = self.with_system_message(messages);
        let messages = &messages[..];
        let first = self.next_first.fetch_add(1, Ordering::Relaxed);
        let plan = Plan::new(self.endpoints.len(), n, first);
        let mut call = Call::new(plan, &self.pool, [Some(&self.totals), ledger]);
        let mut pool_changes = self.pool.subscribe();
        // Requests report through one channel, so a request's choices are always seen before
        // its end.
        let (events_tx, mut events) = mpsc::unbounded_channel::<(u64, RequestEvent)>();
        let mut in_flight = FuturesUnordered::new();
        let mut complete_at: Option<Instant> = None;
        loop {
            pool_changes.borrow_and_update();
            for (id, request) in call.start_requests() {
                in_flight.push(self.request(id, request, messages, params, events_tx.clone()));
            }
            if call.plan.is_complete() {
                // The last requests' usage comes after their last choice (a stream's closing
                // chunk): worth a moment's wait, not a hang on a server that never closes.
                if call.open.is_empty() {
                    return Ok(call.usage);
                }
                let deadline = *complete_at.get_or_insert_with(|| Instant::now() + USAGE_GRACE);
                if Instant::now() >= deadline {
                    return Ok(call.usage);
                }
            } else if call.open.is_empty() && call.plan.is_stuck(&self.pool.slots()) {
                return Err(call.last_error.take().unwrap_or_else(|| {
                    BackendError::Config("no backend endpoint left to ask".to_owned())
                }));
            }
            let grace = complete_at.map_or(Duration::MAX, |at| at - Instant::now().min(at));
            let waiting = call.plan.has_unassigned();
            let (id, event) = tokio::select! {
                biased;
                () = cancel.cancelled() => return Err(BackendError::Cancelled),
                Some(event) = events.recv() => event,
                Some(()) = in_flight.next(), if !in_flight.is_empty() => continue,
                // Slots given back, or an endpoint back in the pool: look again.
                Ok(()) = pool_changes.changed(), if waiting => continue,
                () = tokio::time::sleep(grace), if complete_at.is_some() => return Ok(call.usage),
            };
            call.take(id, event, &tx)?;
            for endpoint in std::mem::take(&mut call.taken_out) {
                self.spawn_probe(endpoint);
            }
        }
    }

    /// Asks `GET /v1/models` of a server taken out, every probe interval, until it answers (any
    /// status below 500: a server without a model list is still up) and is put back.
    fn spawn_probe(&self, index: usize) {
        let endpoint = &self.endpoints[index];
        tracing::warn!(url = %endpoint.shown, every_s = self.pool.probe_interval().as_secs_f64(), "backend endpoint taken out of the pool after failing; probing it");
        let pool = Arc::downgrade(&self.pool);
        let mut probe = self
            .http
            .get(endpoint.models.clone())
            .timeout(MODELS_TIMEOUT);
        if let Some(key) = &endpoint.api_key {
            probe = probe.bearer_auth(key);
        }
        let shown = endpoint.shown.clone();
        tokio::spawn(async move {
            loop {
                let Some(interval) = pool.upgrade().map(|p| p.probe_interval()) else {
                    return;
                };
                tokio::time::sleep(interval).await;
                let Some(pool) = pool.upgrade() else { return };
                if !pool.is_out(index) {
                    return;
                }
                let Some(request) = probe.try_clone() else {
                    return;
                };
                match request.send().await {
                    Ok(response) if !response.status().is_server_error() => {
                        tracing::info!(url = %shown, "backend endpoint answers again; back in the pool");
                        pool.back(index);
                        return;
                    }
                    Ok(response) => {
                        tracing::debug!(url = %shown, status = response.status().as_u16(), "backend endpoint still failing")
                    }
                    Err(err) => {
                        tracing::debug!(url = %shown, error = %err.without_url(), "backend endpoint still unreachable")
                    }
                }
            }
        });
    }

    /// Every endpoint's usage since the client was made.
    pub fn usage_by_endpoint(&self) -> Vec<EndpointUsage> {
        self.totals.snapshot()
    }

    /// An empty ledger with a row for each endpoint, for a job to pass to
    /// [`Self::sample_recorded`].
    pub fn ledger(&self) -> UsageLedger {
        UsageLedger::new(self.endpoints.iter().map(|e| e.root.clone()))
    }

    /// `messages` behind the configured system message, unless they bring their own.
    fn with_system_message<'a>(&self, messages: &'a [ChatMessage]) -> Cow<'a, [ChatMessage]> {
        match &self.system_message {
            Some(system) if messages.first().is_none_or(|m| m.role != "system") => Cow::Owned(
                std::iter::once(ChatMessage::system(system.clone()))
                    .chain(messages.iter().cloned())
                    .collect(),
            ),
            _ => Cow::Borrowed(messages),
        }
    }

    /// One request for `request.count` samples on its endpoint; ends early, as a failure, when
    /// the endpoint is taken out of the pool meanwhile (another call saw it fail for good).
    async fn request(
        &self,
        id: u64,
        request: Request,
        messages: &[ChatMessage],
        params: &SamplingParams,
        events: UnboundedSender<(u64, RequestEvent)>,
    ) {
        let endpoint = &self.endpoints[request.endpoint];
        // A request sent to an endpoint already out is itself the probe: nothing to watch.
        let taken_out = if self.pool.is_out(request.endpoint) {
            CancellationToken::new()
        } else {
            self.pool.taken_out_signal(request.endpoint)
        };
        let mut tally = Tally::default();
        let end = match self.fit(endpoint, messages, params.max_tokens).await {
            Err(err) => RequestEvent::Failed(err, tally),
            Ok(max_tokens) => {
                let exchanges = self.exchanges(
                    id, &request, messages, params, max_tokens, &events, &mut tally,
                );
                let ended = tokio::select! {
                    end = exchanges => Some(end),
                    () = taken_out.cancelled() => None,
                };
                ended.unwrap_or_else(|| {
                    // Whatever exchange was under way is cut short: every one of them failed.
                    tally.failures = tally.exchanges;
                    // Another call's request saw the server fail for good: this one reports what
                    // that one saw (the endpoint is already out).
                    let err = self.pool.cause(request.endpoint).unwrap_or_else(|| {
                        BackendError::Unreachable {
                            url: endpoint.shown.clone(),
                            attempts: tally.exchanges as u32,
                            detail: "taken out of the pool".to_owned(),
                        }
                    });
                    RequestEvent::Failed(err, tally)
                })
            }
        };
        let _ = events.send((id, end));
    }

    /// The HTTP exchanges of one request, retried with backoff while failures look transient; a
    /// retry after a stream broke off asks only for the choices still missing.
    #[allow(clippy::too_many_arguments)]
    async fn exchanges(
        &self,
        id: u64,
        request: &Request,
        messages: &[ChatMessage],
        params: &SamplingParams,
        mut max_tokens: Option<u32>,
        events: &UnboundedSender<(u64, RequestEvent)>,
        tally: &mut Tally,
    ) -> RequestEvent {
        let endpoint = &self.endpoints[request.endpoint];
        let mut returned = 0;
        let mut usage = Usage::default();
        let mut attempts = 0;
        let mut refitted = false;
        let result = loop {
            let missing = request.count.saturating_sub(returned);
            if missing == 0 {
                break Ok(());
            }
            attempts += 1;
            tally.exchanges += 1;
            let stream = endpoint.streams.load(Ordering::Relaxed);
            let body = self.chat_request(endpoint, messages, missing, params, max_tokens, stream);
            tracing::debug!(url = %endpoint.shown, n = missing, attempt = attempts, stream, "requesting completions");
            let mut deliver = |choice: Choice| {
                returned += 1;
                // A closed channel means the call is over; its end is not this request's business.
                let _ = events.send((id, RequestEvent::Choice(choice)));
            };
            let outcome = self.attempt(endpoint, &body, &mut deliver).await;
            if outcome.is_err() {
                tally.failures += 1;
            }
            match outcome {
                Ok(u) => {
                    usage += u;
                    break Ok(());
                }
                // Once a request: the server's numbers are exact, so a second refusal is about
                // something else.
                Err(AttemptError::Status {
                    overflow: Some(overflow),
                    ..
                }) if !refitted => {
                    refitted = true;
                    match self.refit(endpoint, overflow, max_tokens) {
                        Ok(room) => max_tokens = Some(room),
                        Err(err) => break Err(err),
                    }
                    attempts -= 1;
                }
                // Only a refusal that is about streaming: a prompt over the context length must
                // not turn streaming off for the rest of the session.
                Err(err) if stream && refuses_streaming(&err) => {
                    endpoint.stop_streaming(&err);
                    attempts -= 1;
                }
                Err(err) if err.is_retryable() && attempts <= self.max_retries => {
                    self.wait_to_retry(endpoint, &err, attempts).await;
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
        match result {
            Ok(()) => RequestEvent::Finished {
                returned,
                usage,
                tally: *tally,
            },
            Err(err) => RequestEvent::Failed(err, *tally),
        }
    }

    fn chat_request<'a>(
        &'a self,
        endpoint: &'a Endpoint,
        messages: &'a [ChatMessage],
        n: usize,
        params: &SamplingParams,
        max_tokens: Option<u32>,
        stream: bool,
    ) -> ChatRequest<'a> {
        ChatRequest {
            model: &endpoint.model,
            messages,
            n,
            temperature: params.temperature,
            top_p: params.top_p,
            max_tokens,
            stream,
            stream_options: stream.then_some(StreamOptions {
                include_usage: true,
            }),
        }
    }

    /// The `max_tokens` that fits after the server refused `max_tokens` for length, or the
    /// prompt's own overflow when nothing fits. The refusal's context length is kept for the
    /// endpoint's later requests.
    fn refit(
        &self,
        endpoint: &Endpoint,
        overflow: Overflow,
        max_tokens: Option<u32>,
    ) -> Result<u32, BackendError> {
        endpoint
            .refused_context
            .store(overflow.limit, Ordering::Relaxed);
        let Some(room) = overflow.room() else {
            return Err(BackendError::PromptTooLong {
                url: endpoint.shown.clone(),
                input: overflow.input,
                limit: overflow.limit,
            });
        };
        if !self.said_refit.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                target: super::NOTICE,
                url = %endpoint.shown,
                context = overflow.limit,
                prompt_tokens = overflow.input,
                max_tokens = room,
                "the server's context is too short for max_tokens = {}: asking for {room} instead (set sampling.max_tokens to silence this)",
                max_tokens.map_or_else(|| "its default".to_owned(), |m| m.to_string()),
            );
        }
        Ok(room)
    }

    /// The server's `Retry-After` when it sent one, the backoff for this attempt otherwise.
    async fn wait_to_retry(&self, endpoint: &Endpoint, err: &AttemptError, attempts: u32) {
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

    /// One HTTP exchange; each choice goes to `deliver` as soon as it is complete. Returns the
    /// usage the server reported (zero where it sent none).
    async fn attempt(
        &self,
        endpoint: &Endpoint,
        body: &ChatRequest<'_>,
        deliver: &mut (dyn FnMut(Choice) + Send),
    ) -> Result<Usage, AttemptError> {
        let mut builder = self.http.post(endpoint.url.clone()).json(body);
        if let Some(key) = &endpoint.api_key {
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
            return self.read_stream(endpoint, response, deliver).await;
        }
        // Errors, and servers that answer a stream request with one JSON body.
        let bytes = response.bytes().await.map_err(AttemptError::Transport)?;
        let shown_body = || endpoint.shown_text(&String::from_utf8_lossy(&bytes));
        if !status.is_success() {
            let overflow = (status == StatusCode::BAD_REQUEST)
                .then(|| parse_overflow(&String::from_utf8_lossy(&bytes)))
                .flatten();
            return Err(AttemptError::Status {
                status,
                body_excerpt: shown_body(),
                retry_after,
                overflow,
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
        endpoint: &Endpoint,
        mut response: reqwest::Response,
        deliver: &mut (dyn FnMut(Choice) + Send),
    ) -> Result<Usage, AttemptError> {
        let mut decoder = SseDecoder::default();
        let mut assembler = StreamAssembler::default();
        let malformed = |detail: String| AttemptError::Malformed(endpoint.shown_text(&detail));
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

    /// `wanted`, lowered to what the endpoint's context leaves after the prompt when the context
    /// length is known. A prompt that leaves no room is refused here when the token count is
    /// exact; with an estimate the request goes without `max_tokens`, and the server's own count
    /// decides.
    async fn fit(
        &self,
        endpoint: &Endpoint,
        messages: &[ChatMessage],
        wanted: Option<u32>,
    ) -> Result<Option<u32>, BackendError> {
        let Some(wanted) = wanted else {
            return Ok(None);
        };
        let Some(limit) = self.context_length(endpoint).await else {
            return Ok(Some(wanted));
        };
        let input = prompt_tokens(messages, &*self.token_count);
        match room(limit, input) {
            Some(room) => Ok(Some(wanted.min(room))),
            None if self.token_count.is_exact() => Err(BackendError::PromptTooLong {
                url: endpoint.shown.clone(),
                input,
                limit,
            }),
            None => Ok(None),
        }
    }

    /// The smallest context, in tokens, that an endpoint reports (or revealed by refusing a
    /// request for length); `None` when none says. A prompt sized to it fits every endpoint.
    pub async fn context_tokens(&self) -> Option<u64> {
        let mut smallest: Option<u64> = None;
        for endpoint in &self.endpoints {
            if let Some(length) = self.context_length(endpoint).await {
                smallest = Some(smallest.map_or(length, |s| s.min(length)));
            }
        }
        smallest
    }

    async fn context_length(&self, endpoint: &Endpoint) -> Option<u64> {
        match endpoint.refused_context.load(Ordering::Relaxed) {
            0 => {
                *endpoint
                    .reported_context
                    .get_or_init(|| self.reported_context_length(endpoint))
                    .await
            }
            refused => Some(refused),
        }
    }

    /// What `GET /v1/models` says of the model's context; `None` from a server that does not
    /// say (OpenAI, llama.cpp, proxies) or does not answer.
    async fn reported_context_length(&self, endpoint: &Endpoint) -> Option<u64> {
        let mut builder = self
            .http
            .get(endpoint.models.clone())
            .timeout(self.request_timeout.min(MODELS_TIMEOUT));
        if let Some(key) = &endpoint.api_key {
            builder = builder.bearer_auth(key);
        }
        let response = match builder.send().await {
            Ok(response) if response.status().is_success() => response,
            Ok(response) => {
                tracing::debug!(url = %endpoint.shown, status = response.status().as_u16(), "no model list; max_tokens is not fitted in advance");
                return None;
            }
            Err(err) => {
                tracing::debug!(url = %endpoint.shown, error = %err.without_url(), "no model list; max_tokens is not fitted in advance");
                return None;
            }
        };
        let models: serde_json::Value = response.json().await.ok()?;
        let length = max_model_len(&models, &endpoint.model);
        tracing::debug!(url = %endpoint.shown, context = ?length, "the server's context length");
        length
    }
}

/// One `sample` call's requests: the plan, the requests still open with the choices each has
/// handed on, and what the finished ones reported. Slots it holds in the pool are given back as
/// choices arrive, and all at once when the call ends (a cancelled call included).
struct Call<'p> {
    plan: Plan,
    pool: &'p Pool,
    /// The client's totals and, for a job, its own.
    ledgers: [Option<&'p UsageLedger>; 2],
    open: HashMap<u64, Open>,
    next_id: u64,
    usage: Usage,
    last_error: Option<BackendError>,
    /// Endpoints this call took out of the pool, for the client to start probing.
    taken_out: Vec<usize>,
}

struct Open {
    request: Request,
    /// Choices handed on.
    kept: usize,
    /// Slots given back.
    released: usize,
    sent_at: Instant,
}

/// HTTP exchanges of one request, and how many of them failed.
#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    exchanges: u64,
    failures: u64,
}

impl<'p> Call<'p> {
    fn new(plan: Plan, pool: &'p Pool, ledgers: [Option<&'p UsageLedger>; 2]) -> Call<'p> {
        Call {
            plan,
            pool,
            ledgers,
            open: HashMap::new(),
            next_id: 0,
            usage: Usage::default(),
            last_error: None,
            taken_out: Vec::new(),
        }
    }

    /// The requests the plan wants sent now, given the pool's free slots, each under a new id
    /// and open until it ends.
    fn start_requests(&mut self) -> Vec<(u64, Request)> {
        let plan = &mut self.plan;
        let requests = self.pool.assign(|slots| plan.next_requests(slots));
        let mut started = Vec::new();
        for request in requests {
            self.next_id += 1;
            started.push((self.next_id, request.clone()));
            let open = Open {
                request,
                kept: 0,
                released: 0,
                sent_at: Instant::now(),
            };
            self.open.insert(self.next_id, open);
        }
        started
    }

    fn record(&self, endpoint: usize, delta: &EndpointUsage) {
        for ledger in self.ledgers.iter().flatten() {
            ledger.record(endpoint, delta);
        }
    }

    /// Hands a choice on as the next sample, or books a request's end; a closed `tx` cancels.
    fn take(
        &mut self,
        id: u64,
        event: RequestEvent,
        tx: &UnboundedSender<Sample>,
    ) -> Result<(), BackendError> {
        let Some(open) = self.open.get_mut(&id) else {
            return Ok(());
        };
        let endpoint = open.request.endpoint;
        match event {
            RequestEvent::Choice(choice) => {
                if open.released < open.request.count {
                    open.released += 1;
                    self.pool.release(endpoint, 1);
                    self.pool.record_hold(endpoint, open.sent_at.elapsed());
                }
                let Some(index) = self.plan.take(&open.request, open.kept) else {
                    return Ok(());
                };
                open.kept += 1;
                let sample = Sample {
                    index,
                    finish_reason: choice.finish_reason.clone(),
                    text: Choice::into_text(choice),
                };
                self.record(
                    endpoint,
                    &EndpointUsage {
                        samples: 1,
                        ..Default::default()
                    },
                );
                if tx.send(sample).is_err() {
                    return Err(BackendError::Cancelled);
                }
            }
            RequestEvent::Finished {
                returned,
                usage,
                tally,
            } => {
                let open = self.close(id, tally, usage);
                self.usage += usage;
                self.plan.finished(&open.request, returned, open.kept);
                // It answered: whatever took it out is over.
                self.pool.back(endpoint);
            }
            RequestEvent::Failed(err, tally) => {
                let open = self.close(id, tally, Usage::default());
                tracing::warn!(error = %err, samples = open.request.count - open.kept, "backend endpoint gave up");
                let epoch = self.pool.slots()[endpoint].epoch;
                self.plan.failed(&open.request, open.kept, epoch);
                if err.takes_endpoint_out() && self.pool.take_out(endpoint, &err) {
                    self.record(
                        endpoint,
                        &EndpointUsage {
                            taken_out: 1,
                            ..Default::default()
                        },
                    );
                    self.taken_out.push(endpoint);
                }
                self.last_error = Some(err);
            }
        }
        Ok(())
    }

    /// Ends an open request: its slots go back and its exchanges are booked.
    fn close(&mut self, id: u64, tally: Tally, usage: Usage) -> Open {
        let open = self.open.remove(&id).expect("an open request");
        self.pool
            .release(open.request.endpoint, open.request.count - open.released);
        let delta = EndpointUsage {
            requests: tally.exchanges,
            failures: tally.failures,
            ..tokens(usage)
        };
        self.record(open.request.endpoint, &delta);
        open
    }
}

impl Drop for Call<'_> {
    /// A call that returns with requests still open (cancelled, or done before their usage came)
    /// abandons them: their slots are free again.
    fn drop(&mut self) {
        for open in self.open.values() {
            self.pool
                .release(open.request.endpoint, open.request.count - open.released);
        }
    }
}

/// What one request reports to the call that sent it.
enum RequestEvent {
    Choice(Choice),
    Finished {
        returned: usize,
        usage: Usage,
        tally: Tally,
    },
    Failed(BackendError, Tally),
}
