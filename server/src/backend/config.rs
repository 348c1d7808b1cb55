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
    /// Samples each of `base_urls` may be writing at once, over every call and job of the
    /// client; `None`: no limit.
    pub max_concurrent: Option<usize>,
    /// More servers, each with its own limit and, where it differs, key and model name.
    pub endpoints: Vec<EndpointConfig>,
    /// How long a server taken out after failing waits before `GET /v1/models` asks whether it
    /// answers again (and again after each probe it fails).
    pub probe_interval: Duration,
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
            max_concurrent: None,
            endpoints: Vec::new(),
            probe_interval: Duration::from_secs(30),
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

/// One server of the pool with settings of its own.
#[derive(Clone, Default)]
pub struct EndpointConfig {
    /// An OpenAI-compatible API root, as in [`BackendConfig::base_urls`].
    pub url: String,
    /// `None`: no limit.
    pub max_concurrent: Option<usize>,
    /// `None`: the client's key.
    pub api_key: Option<String>,
    /// `None`: the client's model name.
    pub model: Option<String>,
}

impl fmt::Debug for EndpointConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EndpointConfig")
            .field("url", &self.url)
            .field("max_concurrent", &self.max_concurrent)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("model", &self.model)
            .finish()
    }
}

impl BackendConfig {
    /// Every server, `base_urls` first: each with its limit, key and model filled in.
    pub fn all_endpoints(&self) -> Vec<EndpointConfig> {
        self.base_urls
            .iter()
            .map(|url| EndpointConfig {
                url: url.clone(),
                ..EndpointConfig::default()
            })
            .chain(self.endpoints.iter().cloned())
            .map(|e| EndpointConfig {
                max_concurrent: e.max_concurrent.or(self.max_concurrent),
                api_key: e.api_key.or_else(|| self.api_key.clone()),
                model: e.model.or_else(|| Some(self.model.clone())),
                url: e.url,
            })
            .collect()
    }
}

// Hand-written so that `{:?}` in a log line or a panic can never print the key.
impl fmt::Debug for BackendConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BackendConfig")
            .field("base_urls", &self.base_urls)
            .field("max_concurrent", &self.max_concurrent)
            .field("endpoints", &self.endpoints)
            .field("probe_interval", &self.probe_interval)
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

/// `{base}/{route}` for an OpenAI-compatible API root, checked as [`chat_completions_url`] says.
pub(crate) fn api_url(base: &str, route: &str) -> Result<Url, BackendError> {
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
    fn endpoints_take_the_client_wide_values_they_do_not_set() {
        let config = BackendConfig {
            base_urls: vec!["http://a/v1".to_owned()],
            max_concurrent: Some(8),
            api_key: Some("k".to_owned()),
            endpoints: vec![EndpointConfig {
                url: "http://b/v1".to_owned(),
                max_concurrent: Some(2),
                api_key: Some("kb".to_owned()),
                model: Some("small".to_owned()),
            }],
            ..Default::default()
        };
        let all = config.all_endpoints();
        assert_eq!(all.len(), 2);
        assert_eq!(
            (
                all[0].max_concurrent,
                all[0].api_key.as_deref(),
                all[0].model.as_deref()
            ),
            (Some(8), Some("k"), Some("SWE-Swiss-32B"))
        );
        assert_eq!(
            (
                all[1].max_concurrent,
                all[1].api_key.as_deref(),
                all[1].model.as_deref()
            ),
            (Some(2), Some("kb"), Some("small"))
        );
    }

    #[test]
    fn debug_hides_the_key() {
        let config = BackendConfig {
            api_key: Some("sk-very-secret".to_owned()),
            endpoints: vec![EndpointConfig {
                url: "http://b/v1".to_owned(),
                api_key: Some("sk-very-secret".to_owned()),
                ..Default::default()
            }],
            ..Default::default()
        };
        let shown = format!("{config:?}");
        assert!(!shown.contains("sk-very-secret"), "{shown}");
        assert!(shown.contains("<redacted>"));
    }
}
