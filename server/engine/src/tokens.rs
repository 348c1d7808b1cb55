//! Token counts for the prompt budgets: the model's own tokenizer where the caller has one, a
//! documented estimate otherwise.

/// Counts the tokens of a text as the model's tokenizer would.
pub trait TokenCount: Send + Sync {
    fn count(&self, text: &str) -> usize;
    /// Whether the count is the model's own, so that a prompt it finds too long for the server's
    /// context is known not to fit (an estimate only suggests it).
    fn is_exact(&self) -> bool {
        false
    }
}

/// The count without the model's tokenizer: one token per four bytes, rounded up. BPE tokenizers
/// of the Qwen/cl100k family give 3.5–4.5 bytes a token on Python source and English prose, so a
/// budget measured this way is met within about an eighth either way.
#[derive(Debug, Default, Clone, Copy)]
pub struct Estimate;

impl TokenCount for Estimate {
    fn count(&self, text: &str) -> usize {
        estimate_tokens(text)
    }
}

pub fn estimate_tokens(text: &str) -> usize {
    text.len().div_ceil(4)
}
