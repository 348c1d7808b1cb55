//! The model server: an OpenAI-compatible chat-completions client that samples `n` completions
//! of one prompt across a pool of servers (each with its own limit, taken out when it fails and
//! probed back), with retries, backoff, cancellation and token accounting by server.

mod client;
mod config;
mod context;
mod embed;
mod error;
mod ledger;
mod plan;
mod pool;
mod retry;
mod sse;
mod stream;
mod wire;

pub use client::{BackendClient, Sample, SamplingParams};
pub use config::{BackendConfig, EndpointConfig, DEFAULT_SYSTEM_MESSAGE};
pub use ledger::{EndpointUsage, UsageLedger};

/// The tracing target of what the client tells the user itself, once (a `max_tokens` lowered
/// after a refusal for length): shown on stderr, the language server's log, by default.
pub const NOTICE: &str = "swiss::notice";
pub use embed::{EmbeddingClient, EmbeddingConfig};
pub use error::BackendError;
pub use wire::{ChatMessage, Usage};
