//! The model server: an OpenAI-compatible chat-completions client that samples `n` completions
//! of one prompt across one or more servers, with retries, backoff, cancellation and token
//! accounting.

mod client;
mod config;
mod context;
mod error;
mod plan;
mod retry;
mod sse;
mod stream;
mod wire;

pub use client::{BackendClient, Sample, SamplingParams};
pub use config::{BackendConfig, DEFAULT_SYSTEM_MESSAGE};

/// The tracing target of what the client tells the user itself, once (a `max_tokens` lowered
/// after a refusal for length): shown on stderr, the language server's log, by default.
pub const NOTICE: &str = "swiss::notice";
pub use error::BackendError;
pub use wire::{ChatMessage, Usage};
