use std::time::Duration;

use reqwest::StatusCode;

/// Why a call to the backend produced no (or not all of its) samples.
///
/// Messages name the endpoint but never the API key: the client scrubs it from anything a server
/// echoes back before it gets here.
// Clone: the error that took an endpoint out of the pool is also the one every request it ends
// reports.
#[derive(Debug, Clone, thiserror::Error)]
pub enum BackendError {
    #[error("failed to configure the backend client: {0}")]
    Config(String),

    #[error("failed to reach the backend at {url}: {detail} ({})", tries(.attempts))]
    Unreachable {
        url: String,
        attempts: u32,
        detail: String,
    },

    #[error(
        "failed to get completions from {url} within the request timeout of {} s ({})",
        .timeout.as_secs_f64(),
        tries(.attempts)
    )]
    Timeout {
        url: String,
        attempts: u32,
        timeout: Duration,
    },

    #[error("failed to get completions from {url}: HTTP {status}: {body_excerpt} ({})", tries(.attempts))]
    Status {
        url: String,
        status: u16,
        attempts: u32,
        body_excerpt: String,
    },

    #[error("failed to read the completions from {url}: {detail} ({})", tries(.attempts))]
    Malformed {
        url: String,
        attempts: u32,
        detail: String,
    },

    #[error("failed to get completions from {url}: the server answered with no choices ({})", tries(.attempts))]
    EmptyChoices { url: String, attempts: u32 },

    #[error("failed to fit the prompt in the model's context at {url}: the prompt has {input} tokens and the context holds {limit}; lower repair.max_prompt_tokens (or localize.max_structure_tokens), or serve the model with a longer context (vLLM: --max-model-len)")]
    PromptTooLong { url: String, input: u64, limit: u64 },

    #[error("failed to finish sampling: cancelled")]
    Cancelled,
}

impl BackendError {
    /// Whether the server itself is in trouble (unreachable, silent, erroring after every retry),
    /// as opposed to a request it rightly refused: such a server leaves the pool until it
    /// answers a probe.
    pub fn takes_endpoint_out(&self) -> bool {
        match self {
            BackendError::Unreachable { .. }
            | BackendError::Timeout { .. }
            | BackendError::Malformed { .. }
            | BackendError::EmptyChoices { .. } => true,
            BackendError::Status { status, .. } => *status == 429 || *status >= 500,
            BackendError::Config(_)
            | BackendError::PromptTooLong { .. }
            | BackendError::Cancelled => false,
        }
    }
}

fn tries(attempts: &u32) -> String {
    match attempts {
        1 => "1 attempt".to_owned(),
        n => format!("gave up after {n} attempts"),
    }
}

/// What went wrong with one HTTP exchange, before deciding whether to try again.
#[derive(Debug)]
pub(crate) enum AttemptError {
    Transport(reqwest::Error),
    Status {
        status: StatusCode,
        body_excerpt: String,
        retry_after: Option<Duration>,
        /// Read from the whole body: a refusal for length, with the server's numbers.
        overflow: Option<super::context::Overflow>,
    },
    Malformed(String),
    EmptyChoices,
    /// Nothing arrived for the request timeout: no headers, or a stream that stopped moving.
    Stalled,
}

impl AttemptError {
    /// Overload, restarts and flaky networks pass; a request the server rejects does not.
    pub(crate) fn is_retryable(&self) -> bool {
        match self {
            AttemptError::Transport(err) => !err.is_builder(),
            AttemptError::Status { status, .. } => {
                *status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
            }
            AttemptError::Malformed(_) | AttemptError::EmptyChoices | AttemptError::Stalled => true,
        }
    }

    pub(crate) fn retry_after(&self) -> Option<Duration> {
        match self {
            AttemptError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    pub(crate) fn into_backend_error(
        self,
        url: &str,
        attempts: u32,
        timeout: Duration,
    ) -> BackendError {
        let url = url.to_owned();
        match self {
            AttemptError::Stalled => BackendError::Timeout {
                url,
                attempts,
                timeout,
            },
            AttemptError::Transport(err) if err.is_timeout() => BackendError::Timeout {
                url,
                attempts,
                timeout,
            },
            AttemptError::Transport(err) => BackendError::Unreachable {
                url,
                attempts,
                detail: describe(err),
            },
            AttemptError::Status {
                status,
                body_excerpt,
                ..
            } => BackendError::Status {
                url,
                status: status.as_u16(),
                attempts,
                body_excerpt,
            },
            AttemptError::Malformed(detail) => BackendError::Malformed {
                url,
                attempts,
                detail,
            },
            AttemptError::EmptyChoices => BackendError::EmptyChoices { url, attempts },
        }
    }
}

impl std::fmt::Display for AttemptError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AttemptError::Transport(err) if err.is_timeout() => f.write_str("timed out"),
            AttemptError::Transport(err) => f.write_str(&describe_ref(err)),
            AttemptError::Status {
                status,
                body_excerpt,
                ..
            } => {
                write!(f, "HTTP {}: {body_excerpt}", status.as_u16())
            }
            AttemptError::Malformed(detail) => f.write_str(detail),
            AttemptError::EmptyChoices => f.write_str("no choices"),
            AttemptError::Stalled => f.write_str("timed out"),
        }
    }
}

/// reqwest and hyper wrap the cause in generic layers ("error sending request", "client error
/// (Connect)"); the innermost error is the one that says what happened (refused, reset, DNS).
/// The URL is already in our message, so reqwest's copy goes.
fn describe(err: reqwest::Error) -> String {
    describe_ref(&err.without_url())
}

fn describe_ref(err: &reqwest::Error) -> String {
    let mut innermost: &dyn std::error::Error = err;
    while let Some(source) = innermost.source() {
        innermost = source;
    }
    innermost.to_string()
}

const EXCERPT_CHARS: usize = 300;

/// A short, single-line view of an error body: enough to recognise "model not found" or a proxy
/// page, short enough for a diagnostic.
pub(crate) fn excerpt(body: &str) -> String {
    let collapsed = body.split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.is_empty() {
        return "<empty body>".to_owned();
    }
    match collapsed.char_indices().nth(EXCERPT_CHARS) {
        Some((cut, _)) => format!("{}…", &collapsed[..cut]),
        None => collapsed,
    }
}

/// Some proxies quote the rejected key back in their error page.
pub(crate) fn redact(text: &str, secret: Option<&str>) -> String {
    match secret {
        Some(secret) if !secret.is_empty() => text.replace(secret, "<redacted>"),
        _ => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retryable_statuses() {
        let status = |code: u16| AttemptError::Status {
            status: StatusCode::from_u16(code).unwrap(),
            body_excerpt: String::new(),
            retry_after: None,
            overflow: None,
        };
        for code in [429, 500, 502, 503, 504] {
            assert!(status(code).is_retryable(), "{code}");
        }
        for code in [400, 401, 403, 404, 422] {
            assert!(!status(code).is_retryable(), "{code}");
        }
        assert!(AttemptError::Malformed("x".into()).is_retryable());
        assert!(AttemptError::EmptyChoices.is_retryable());
    }

    #[test]
    fn messages_count_attempts() {
        let err = AttemptError::EmptyChoices.into_backend_error(
            "http://h/v1/chat/completions",
            5,
            Duration::ZERO,
        );
        assert_eq!(
            err.to_string(),
            "failed to get completions from http://h/v1/chat/completions: the server answered with no choices (gave up after 5 attempts)"
        );
        let err = AttemptError::Status {
            status: StatusCode::BAD_REQUEST,
            body_excerpt: excerpt(&redact("bad key sk-1", Some("sk-1"))),
            retry_after: None,
            overflow: None,
        }
        .into_backend_error("http://h/v1/chat/completions", 1, Duration::ZERO);
        assert_eq!(
            err.to_string(),
            "failed to get completions from http://h/v1/chat/completions: HTTP 400: bad key <redacted> (1 attempt)"
        );
    }

    #[test]
    fn excerpt_is_short_and_single_line() {
        assert_eq!(
            excerpt("  {\"error\":\n  \"overloaded\"}\n"),
            "{\"error\": \"overloaded\"}"
        );
        assert_eq!(excerpt(" \n"), "<empty body>");
        let long = "é".repeat(1000);
        let cut = excerpt(&long);
        assert_eq!(cut.chars().count(), EXCERPT_CHARS + 1);
        assert!(cut.ends_with('…'));
    }
}
