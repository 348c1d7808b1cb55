use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures::stream::{FuturesUnordered, StreamExt};
use reqwest::header::RETRY_AFTER;
use reqwest::{StatusCode, Url};
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

use super::config::{chat_completions_url, BackendConfig};
use super::error::{excerpt, redact, AttemptError, BackendError};
use super::plan::{Plan, Request};
use super::retry::{backoff, parse_retry_after};
use super::wire::{ChatMessage, ChatRequest, ChatResponse, Choice, Usage};

/// A host that does not answer the TCP handshake should be reported long before the (generation
/// sized) request timeout runs out.
const MAX_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

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
                })
            })
            .collect::<Result<Vec<_>, BackendError>>()?;
        let http = reqwest::Client::builder()
            .timeout(config.request_timeout)
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

    /// Samples exactly `n` completions of `messages` and sends each into `tx` as soon as the
    /// response carrying it arrives; returns the token usage the servers reported.
    ///
    /// Each endpoint is asked for its share of `n` in one request, so that vLLM and SGLang
    /// prefill the prompt once. Servers that answer fewer choices than asked (llama.cpp, Ollama,
    /// some proxies ignore `n`) are topped up with further requests; extra choices are dropped. An
    /// endpoint that keeps failing hands its share to the others; the call fails when none is
    /// left. When `cancel` fires, or `tx`'s receiver is dropped, open requests are abandoned and
    /// the call returns [`BackendError::Cancelled`]; samples already sent stay sent.
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
        let mut in_flight = FuturesUnordered::new();
        let mut usage = Usage::default();
        let mut last_error = None;
        loop {
            for request in plan.next_requests() {
                in_flight.push(self.request(request, messages, params));
            }
            if plan.is_complete() {
                return Ok(usage);
            }
            if in_flight.is_empty() {
                debug_assert!(plan.is_stuck());
                return Err(last_error.unwrap_or_else(|| {
                    BackendError::Config("no backend endpoint left to ask".to_owned())
                }));
            }
            let done = tokio::select! {
                biased;
                () = cancel.cancelled() => return Err(BackendError::Cancelled),
                done = in_flight.next() => done,
            };
            let Some((request, result)) = done else {
                continue;
            };
            match result {
                Ok(response) => {
                    usage += response.usage.unwrap_or_default();
                    let kept = plan.answered(&request, response.choices.len());
                    let first_index = plan.delivered() - kept;
                    for (offset, choice) in response.choices.into_iter().take(kept).enumerate() {
                        let sample = Sample {
                            index: first_index + offset,
                            finish_reason: choice.finish_reason.clone(),
                            text: Choice::into_text(choice),
                        };
                        if tx.send(sample).is_err() {
                            return Err(BackendError::Cancelled);
                        }
                    }
                }
                Err(err) => {
                    tracing::warn!(error = %err, samples = request.count, "backend endpoint gave up");
                    plan.failed(&request);
                    last_error = Some(err);
                }
            }
        }
    }

    /// One request for `request.count` samples, retried with backoff while failures look
    /// transient.
    async fn request(
        &self,
        request: Request,
        messages: &[ChatMessage],
        params: &SamplingParams,
    ) -> (Request, Result<ChatResponse, BackendError>) {
        let endpoint = &self.endpoints[request.endpoint];
        let body = ChatRequest {
            model: &self.model,
            messages,
            n: request.count,
            temperature: params.temperature,
            top_p: params.top_p,
            max_tokens: params.max_tokens,
            stream: false,
        };
        let mut attempts = 0;
        let result = loop {
            attempts += 1;
            tracing::debug!(url = %endpoint.shown, n = request.count, attempt = attempts, "requesting completions");
            match self.attempt(endpoint, &body).await {
                Ok(response) => break Ok(response),
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
        (request, result)
    }

    async fn attempt(
        &self,
        endpoint: &Endpoint,
        body: &ChatRequest<'_>,
    ) -> Result<ChatResponse, AttemptError> {
        let mut builder = self.http.post(endpoint.url.clone()).json(body);
        if let Some(key) = &self.api_key {
            builder = builder.bearer_auth(key);
        }
        let response = builder.send().await.map_err(AttemptError::Transport)?;
        let status = response.status();
        let retry_after = match status {
            StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => response
                .headers()
                .get(RETRY_AFTER)
                .and_then(|value| value.to_str().ok())
                .and_then(parse_retry_after),
            _ => None,
        };
        let bytes = response.bytes().await.map_err(AttemptError::Transport)?;
        let shown_body = || {
            excerpt(&redact(
                &String::from_utf8_lossy(&bytes),
                self.api_key.as_deref(),
            ))
        };
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
        Ok(parsed)
    }
}
