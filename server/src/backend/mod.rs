//! The model server: an OpenAI-compatible chat-completions client that samples `n` completions
//! of one prompt across one or more servers, with retries, backoff, cancellation and token
//! accounting.

mod client;
mod config;
mod embed;
mod error;
mod plan;
mod retry;
mod sse;
mod stream;
mod wire;

pub use client::{BackendClient, Sample, SamplingParams};
pub use config::BackendConfig;
pub use embed::{EmbeddingClient, EmbeddingConfig};
pub use error::BackendError;
pub use wire::{ChatMessage, Usage};
