use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;

use super::error::BackendError;
use crate::engine::tokens::{Estimate, TokenCount};

/// The system message SWE-Swiss sends with every request (`util/api_requests.py`).
pub const DEFAULT_SYSTEM_MESSAGE: &str = "You are a helpful assistant.";

/// Where and how to reach the model server(s).
#[derive(Clone)]
pub struct BackendConfig {
    /// OpenAI-compatible API roots such as `http://127.0.0.1:8000/v1`; requests go to
    /// `{base}/chat/completions`. Several roots spread one call's samples over several servers.
    pub base_urls: Vec<String>,
    pub model: String,
    /// Sent as a bearer token. Kept out of logs, `Debug` output and error messages.
    pub api_key: Option<String>,
    /// Limit on one HTTP exchange, response body included: a 32B model writing thousands of
    /// tokens for each of many samples takes minutes.
    pub request_timeout: Duration,
    /// Further attempts after the first one fails in a retryable way.
    pub max_retries: u32,
    /// The first retry waits this long; each later one waits twice as long as the one before.
    pub initial_backoff: Duration,
    /// Ask for streamed answers (`"stream": true`): each sample arrives when it finishes. A
    /// server that answers with one JSON body instead is read as such.
    pub stream: bool,
    /// Sent first in every request, so that each stage gets it without asking; `None` sends
    /// none (a caller's own system message is never doubled).
    pub system_message: Option<String>,
    /// Counts a prompt's tokens to fit `max_tokens` into a context the server reported.
    pub token_count: Arc<dyn TokenCount>,
}

impl Default for BackendConfig {
    fn default() -> Self {
        Self {
            base_urls: vec!["http://127.0.0.1:8000/v1".to_owned()],
            model: "SWE-Swiss-32B".to_owned(),
            api_key: None,
            request_timeout: Duration::from_secs(600),
            max_retries: 4,
            initial_backoff: Duration::from_millis(500),
            stream: true,
            system_message: Some(DEFAULT_SYSTEM_MESSAGE.to_owned()),
            token_count: Arc::new(Estimate),
        }
    }
}

// Hand-written so that `{:?}` in a log line or a panic can never print the key.
impl fmt::Debug for BackendConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BackendConfig")
            .field("base_urls", &self.base_urls)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("request_timeout", &self.request_timeout)
            .field("max_retries", &self.max_retries)
            .field("initial_backoff", &self.initial_backoff)
            .field("stream", &self.stream)
            .field("system_message", &self.system_message)
            .field("exact_token_count", &self.token_count.is_exact())
            .finish()
    }
}

/// Turns an API root into its chat-completions endpoint, refusing anything but an absolute
/// http(s) URL so that a typo is reported when the client is built, not on the first request.
pub(crate) fn chat_completions_url(base: &str) -> Result<Url, BackendError> {
    api_url(base, "chat/completions")
}

/// The API root's model list (`GET`), where vLLM and SGLang report the context length.
pub(crate) fn models_url(base: &str) -> Result<Url, BackendError> {
    api_url(base, "models")
}

fn api_url(base: &str, route: &str) -> Result<Url, BackendError> {
    let mut url = Url::parse(base.trim()).map_err(|err| {
        BackendError::Config(format!("backend URL `{base}` is not a valid URL: {err}"))
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(BackendError::Config(format!(
            "backend URL `{base}` must start with http:// or https://"
        )));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(BackendError::Config(format!(
            "backend URL `{base}` names no host"
        )));
    }
    // Joining on the path (not the string) keeps a query such as `?api-version=…` at the end.
    let path = format!("{}/{route}", url.path().trim_end_matches('/'));
    url.set_path(&path);
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_with_and_without_trailing_slash() {
        for base in [
            "http://127.0.0.1:8000/v1",
            "http://127.0.0.1:8000/v1/",
            " http://127.0.0.1:8000/v1// ",
        ] {
            assert_eq!(
                chat_completions_url(base).unwrap().as_str(),
                "http://127.0.0.1:8000/v1/chat/completions"
            );
        }
        assert_eq!(
            chat_completions_url("https://gpu.example/openai/v1")
                .unwrap()
                .as_str(),
            "https://gpu.example/openai/v1/chat/completions"
        );
        assert_eq!(
            chat_completions_url("https://gpu.example/v1?api-version=2")
                .unwrap()
                .as_str(),
            "https://gpu.example/v1/chat/completions?api-version=2"
        );
    }

    #[test]
    fn models_sit_beside_chat_completions() {
        assert_eq!(
            models_url("https://gpu.example/v1/?api-version=2")
                .unwrap()
                .as_str(),
            "https://gpu.example/v1/models?api-version=2"
        );
    }

    #[test]
    fn refuses_what_is_not_an_http_url() {
        for base in [
            "",
            "localhost:8000/v1",
            "ftp://host/v1",
            "file:///tmp/v1",
            "http://",
        ] {
            let err = chat_completions_url(base).unwrap_err();
            assert!(
                matches!(err, BackendError::Config(_)),
                "{base:?} gave {err}"
            );
        }
    }

    #[test]
    fn debug_hides_the_key() {
        let config = BackendConfig {
            api_key: Some("sk-very-secret".to_owned()),
            ..Default::default()
        };
        let shown = format!("{config:?}");
        assert!(!shown.contains("sk-very-secret"), "{shown}");
        assert!(shown.contains("<redacted>"));
    }
}
