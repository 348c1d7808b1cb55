//! An OpenAI-compatible `/v1/embeddings` client (vLLM and llama.cpp's server serve embedding
//! models), for retrieval: texts in, one vector each out, with the chat client's timeouts and
//! retries.

use std::time::Duration;

use reqwest::Url;
use tokio_util::sync::CancellationToken;

use super::config::api_url;
use super::error::{excerpt, redact, AttemptError, BackendError};
use super::retry::{backoff, retry_after_of};

/// Texts per request: a repository's chunks number in the thousands, and servers cap a batch.
const BATCH: usize = 64;

#[derive(Debug, Clone)]
pub struct EmbeddingConfig {
    /// The API root, such as `http://127.0.0.1:8001/v1`; requests go to `{base}/embeddings`.
    pub base_url: String,
    pub model: String,
    /// Sent as a bearer token, as the chat requests send theirs.
    pub api_key: Option<String>,
    pub request_timeout: Duration,
    pub max_retries: u32,
    pub initial_backoff: Duration,
}

pub struct EmbeddingClient {
    http: reqwest::Client,
    url: Url,
    model: String,
    api_key: Option<String>,
    request_timeout: Duration,
    max_retries: u32,
    initial_backoff: Duration,
}

#[derive(serde::Serialize)]
struct EmbeddingRequest<'a> {
    model: &'a str,
    input: &'a [String],
}

#[derive(serde::Deserialize)]
struct EmbeddingResponse {
    data: Vec<EmbeddingItem>,
}

#[derive(serde::Deserialize)]
struct EmbeddingItem {
    index: usize,
    embedding: Vec<f32>,
}

impl EmbeddingClient {
    pub fn new(config: EmbeddingConfig) -> Result<Self, BackendError> {
        let url = api_url(&config.base_url, "embeddings")?;
        let http = reqwest::Client::builder()
            .timeout(config.request_timeout)
            .build()
            .map_err(|err| {
                BackendError::Config(format!("failed to build the HTTP client: {err}"))
            })?;
        Ok(Self {
            http,
            url,
            model: config.model,
            api_key: config.api_key.filter(|key| !key.is_empty()),
            request_timeout: config.request_timeout,
            max_retries: config.max_retries,
            initial_backoff: config.initial_backoff,
        })
    }

    /// One vector per text, in the order of `texts`.
    pub async fn embed(
        &self,
        texts: &[String],
        cancel: &CancellationToken,
    ) -> Result<Vec<Vec<f32>>, BackendError> {
        let mut vectors = Vec::with_capacity(texts.len());
        for batch in texts.chunks(BATCH) {
            let embedded = tokio::select! {
                () = cancel.cancelled() => return Err(BackendError::Cancelled),
                result = self.batch(batch) => result?,
            };
            vectors.extend(embedded);
        }
        Ok(vectors)
    }

    async fn batch(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, BackendError> {
        let mut attempts = 0;
        loop {
            attempts += 1;
            match self.attempt(texts).await {
                Ok(vectors) => return Ok(vectors),
                Err(err) if err.is_retryable() && attempts <= self.max_retries => {
                    let delay = err
                        .retry_after()
                        .unwrap_or_else(|| backoff(self.initial_backoff, attempts));
                    tracing::warn!(url = %self.url, attempt = attempts, error = %err, "embedding request failed; retrying");
                    tokio::time::sleep(delay).await;
                }
                Err(err) => {
                    return Err(err.into_backend_error(
                        self.url.as_str(),
                        attempts,
                        self.request_timeout,
                    ))
                }
            }
        }
    }

    async fn attempt(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, AttemptError> {
        let body = EmbeddingRequest {
            model: &self.model,
            input: texts,
        };
        let mut request = self.http.post(self.url.clone()).json(&body);
        if let Some(key) = &self.api_key {
            request = request.bearer_auth(key);
        }
        let response = request.send().await.map_err(AttemptError::Transport)?;
        let status = response.status();
        let retry_after = retry_after_of(&response);
        let bytes = response.bytes().await.map_err(AttemptError::Transport)?;
        // A server may echo the request, key included, in its error body.
        let shown = || {
            excerpt(&redact(
                &String::from_utf8_lossy(&bytes),
                self.api_key.as_deref(),
            ))
        };
        if !status.is_success() {
            return Err(AttemptError::Status {
                status,
                body_excerpt: shown(),
                retry_after,
                overflow: None,
            });
        }
        let parsed: EmbeddingResponse = serde_json::from_slice(&bytes).map_err(|err| {
            AttemptError::Malformed(format!("not an embeddings answer ({err}): {}", shown()))
        })?;
        let mut slots: Vec<Option<Vec<f32>>> = vec![None; texts.len()];
        for item in parsed.data {
            if let Some(slot) = slots.get_mut(item.index) {
                *slot = Some(item.embedding);
            }
        }
        slots
            .into_iter()
            .enumerate()
            .map(|(i, v)| {
                v.ok_or_else(|| {
                    AttemptError::Malformed(format!(
                        "the embeddings answer has no vector for input {i} of {}",
                        texts.len()
                    ))
                })
            })
            .collect()
    }
}
