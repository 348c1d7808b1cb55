//! The model's own tokenizer (`backend.tokenizer`, a Hugging Face `tokenizer.json`) as a
//! [`TokenCount`], loaded once a process for each path: a 32B model's tokenizer takes a moment
//! to parse, and the language server resolves its settings on every configuration change.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::engine::tokens::TokenCount;

pub struct ModelTokenizer(tokenizers::Tokenizer);

// By hand: the derived form would print the whole vocabulary.
impl std::fmt::Debug for ModelTokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelTokenizer")
            .field("vocab_size", &self.0.get_vocab_size(true))
            .finish()
    }
}

impl TokenCount for ModelTokenizer {
    fn count(&self, text: &str) -> usize {
        // Without the special tokens: the chat template's are counted per message by the caller.
        match self.0.encode_fast(text, false) {
            Ok(encoding) => encoding.len(),
            // Only a tokenizer with a broken pipeline fails; the estimate is the next best count.
            Err(_) => crate::engine::tokens::estimate_tokens(text),
        }
    }

    fn is_exact(&self) -> bool {
        true
    }
}

static LOADED: Mutex<Option<HashMap<PathBuf, Arc<ModelTokenizer>>>> = Mutex::new(None);

/// The tokenizer at `path`, loaded on first use.
pub fn load(path: &Path) -> Result<Arc<ModelTokenizer>, String> {
    let mut loaded = LOADED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let loaded = loaded.get_or_insert_with(HashMap::new);
    if let Some(tokenizer) = loaded.get(path) {
        return Ok(tokenizer.clone());
    }
    let tokenizer = tokenizers::Tokenizer::from_file(path).map_err(|err| {
        format!(
            "failed to load the tokenizer {}: {err}; point backend.tokenizer at the model's tokenizer.json, or leave it unset to estimate token counts",
            path.display()
        )
    })?;
    let tokenizer = Arc::new(ModelTokenizer(tokenizer));
    loaded.insert(path.to_owned(), tokenizer.clone());
    Ok(tokenizer)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A word-level tokenizer small enough to write out: every whitespace-separated word known
    /// to the vocabulary is one token, anything else `[UNK]`.
    const WORD_LEVEL: &str = r#"{
        "version": "1.0",
        "truncation": null,
        "padding": null,
        "added_tokens": [],
        "normalizer": null,
        "pre_tokenizer": {"type": "Whitespace"},
        "post_processor": null,
        "decoder": null,
        "model": {"type": "WordLevel", "vocab": {"[UNK]": 0, "def": 1, "f": 2, "(": 3, ")": 4, ":": 5}, "unk_token": "[UNK]"}
    }"#;

    #[test]
    fn counts_with_the_model_tokenizer() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokenizer.json");
        std::fs::write(&path, WORD_LEVEL).unwrap();
        let tokenizer = load(&path).unwrap();
        assert!(tokenizer.is_exact());
        // The pre-tokenizer splits words from runs of punctuation: `def`, `f`, `():` and `pass`,
        // the last two unknown and one token each all the same.
        assert_eq!(tokenizer.count("def f():\n    pass"), 4);
        assert!(Arc::ptr_eq(&tokenizer, &load(&path).unwrap()));
    }

    #[test]
    fn a_missing_or_broken_file_says_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let err = load(&dir.path().join("absent.json")).unwrap_err();
        assert!(err.starts_with("failed to load the tokenizer"), "{err}");
        assert!(err.contains("backend.tokenizer"), "{err}");
        let broken = dir.path().join("broken.json");
        std::fs::write(&broken, "{").unwrap();
        assert!(load(&broken).is_err());
    }
}
