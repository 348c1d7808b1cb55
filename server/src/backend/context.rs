//! Fitting `max_tokens` to the server's context: the length a server reports in
//! `GET /v1/models` (vLLM's and SGLang's `max_model_len`), and the numbers in the 400 a server
//! sends when a request does not fit (vLLM's, SGLang's and llama.cpp's wordings).

use serde_json::Value;

/// Tokens left unasked between the prompt and the end of the context: the server's count of a
/// prompt can differ from ours by the chat template's few tokens.
pub(crate) const MARGIN: u64 = 16;
/// What the chat template adds around each message (role markers, separators), roughly.
const PER_MESSAGE_TOKENS: u64 = 8;

/// A refusal for length, in the server's own numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Overflow {
    /// The model's context length.
    pub limit: u64,
    /// The prompt's tokens.
    pub input: u64,
}

impl Overflow {
    /// The `max_tokens` that fits this prompt, if any does.
    pub(crate) fn room(self) -> Option<u32> {
        room(self.limit, self.input)
    }
}

/// `limit - input - MARGIN`, when that leaves at least one token.
pub(crate) fn room(limit: u64, input: u64) -> Option<u32> {
    let left = limit.checked_sub(input)?.checked_sub(MARGIN)?;
    (left >= 1).then(|| u32::try_from(left).unwrap_or(u32::MAX))
}

/// Our count of a prompt's tokens as the server will see it.
pub(crate) fn prompt_tokens(
    messages: &[super::ChatMessage],
    count: &dyn crate::engine::tokens::TokenCount,
) -> u64 {
    messages
        .iter()
        .map(|m| count.count(&m.content) as u64 + PER_MESSAGE_TOKENS)
        .sum()
}

/// The context length `GET /v1/models` reports for `model`: the entry of that id, else the only
/// entry, else none. vLLM and SGLang call it `max_model_len`.
pub(crate) fn max_model_len(models: &Value, model: &str) -> Option<u64> {
    let data = models["data"].as_array()?;
    let entry = data
        .iter()
        .find(|m| m["id"].as_str() == Some(model))
        .or_else(|| (data.len() == 1).then(|| &data[0]))?;
    entry["max_model_len"].as_u64().filter(|&len| len > 0)
}

/// Reads a refusal for length out of an error body, or `None` when the body is about something
/// else. The wordings, as the servers send them:
///
/// - vLLM (0.6 on): "… This model's maximum context length is N tokens and your request has M
///   input tokens (K > N - M)"; earlier: "This model's maximum context length is N tokens.
///   However, you requested T tokens (M in the messages, K in the completion)"; when it only
///   estimates: "… your prompt contains at least M input tokens".
/// - SGLang: "Requested token count exceeds the model's maximum context length of N tokens. You
///   requested a total of T tokens: M tokens from the input messages and K tokens for the
///   completion", or "The input (M tokens) is longer than the model's context length (N tokens)".
/// - llama.cpp: `{"error": {"type": "exceed_context_size_error", "n_prompt_tokens": M,
///   "n_ctx": N, "message": "request (M tokens) exceeds the available context size (N tokens)…"}}`.
pub(crate) fn parse_overflow(body: &str) -> Option<Overflow> {
    if let Ok(json) = serde_json::from_str::<Value>(body) {
        let error = &json["error"];
        if let (Some(limit), Some(input)) =
            (error["n_ctx"].as_u64(), error["n_prompt_tokens"].as_u64())
        {
            return Some(Overflow { limit, input });
        }
    }
    let text = body.to_ascii_lowercase();
    let limit = number_after(&text, "maximum context length is ")
        .or_else(|| number_after(&text, "maximum context length of "))
        .or_else(|| number_after(&text, "context length ("))
        .or_else(|| number_after(&text, "available context size ("))?;
    let input = number_after(&text, "your request has ")
        .or_else(|| number_after(&text, "contains at least "))
        .or_else(|| number_before(&text, " in the messages"))
        .or_else(|| number_before(&text, " tokens from the input messages"))
        .or_else(|| number_after(&text, "the input ("))
        .or_else(|| number_after(&text, "request ("))?;
    Some(Overflow { limit, input })
}

fn number_after(text: &str, phrase: &str) -> Option<u64> {
    let rest = &text[text.find(phrase)? + phrase.len()..];
    let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    rest[..digits].parse().ok()
}

fn number_before(text: &str, phrase: &str) -> Option<u64> {
    let head = &text[..text.find(phrase)?];
    let digits = head.len() - head.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    head[head.len() - digits..].parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn overflow(limit: u64, input: u64) -> Option<Overflow> {
        Some(Overflow { limit, input })
    }

    #[test]
    fn reads_vllm_refusals() {
        let current = r#"{"object":"error","message":"'max_tokens' or 'max_completion_tokens' is too large: 32768. This model's maximum context length is 32768 tokens and your request has 2778 input tokens (32768 > 32768 - 2778). None","type":"BadRequestError","param":null,"code":400}"#;
        assert_eq!(parse_overflow(current), overflow(32768, 2778));
        let older = "This model's maximum context length is 4096 tokens. However, you requested 10778 tokens (2778 in the messages, 8000 in the completion). Please reduce the length of the messages or completion.";
        assert_eq!(parse_overflow(older), overflow(4096, 2778));
        let estimate = "This model's maximum context length is 262144 tokens. However, you requested 65539 output tokens and your prompt contains at least 196606 input tokens, for a total of at least 262145 tokens.";
        assert_eq!(parse_overflow(estimate), overflow(262144, 196606));
    }

    #[test]
    fn reads_sglang_refusals() {
        let total = r#"{"object":"error","message":"Requested token count exceeds the model's maximum context length of 131072 tokens. You requested a total of 140000 tokens: 123616 tokens from the input messages and 16384 tokens for the completion. Please reduce the number of tokens in the input messages or the completion to fit within the limit.","type":"BadRequestError","code":400}"#;
        assert_eq!(parse_overflow(total), overflow(131072, 123616));
        let input =
            "The input (40000 tokens) is longer than the model's context length (32768 tokens).";
        assert_eq!(parse_overflow(input), overflow(32768, 40000));
    }

    #[test]
    fn reads_llama_cpp_refusals() {
        let body = json!({"error": {"code": 400, "message": "request (4476 tokens) exceeds the available context size (4096 tokens), try increasing it", "type": "exceed_context_size_error", "n_prompt_tokens": 4476, "n_ctx": 4096}}).to_string();
        assert_eq!(parse_overflow(&body), overflow(4096, 4476));
        let text_only = "request (4476 tokens) exceeds the available context size (4096 tokens)";
        assert_eq!(parse_overflow(text_only), overflow(4096, 4476));
    }

    #[test]
    fn other_errors_are_not_refusals_for_length() {
        for body in [
            r#"{"error":{"message":"The model `x` does not exist."}}"#,
            "stream_options is not supported",
            "maximum context length is unknown",
            "",
        ] {
            assert_eq!(parse_overflow(body), None, "{body}");
        }
    }

    #[test]
    fn room_leaves_the_margin_and_refuses_what_cannot_fit() {
        assert_eq!(
            overflow(32768, 2778).unwrap().room(),
            Some(32768 - 2778 - 16)
        );
        assert_eq!(room(4096, 4080), None);
        assert_eq!(room(4096, 5000), None);
        assert_eq!(room(4096, 4079), Some(1));
    }

    #[test]
    fn max_model_len_of_the_model_or_the_only_one() {
        let one = json!({"data": [{"id": "served", "max_model_len": 32768}]});
        assert_eq!(max_model_len(&one, "SWE-Swiss-32B"), Some(32768));
        let two = json!({"data": [
            {"id": "a", "max_model_len": 4096},
            {"id": "SWE-Swiss-32B", "max_model_len": 131072}
        ]});
        assert_eq!(max_model_len(&two, "SWE-Swiss-32B"), Some(131072));
        assert_eq!(max_model_len(&two, "other"), None);
        let openai = json!({"data": [{"id": "gpt-4o", "object": "model"}]});
        assert_eq!(max_model_len(&openai, "gpt-4o"), None);
        assert_eq!(max_model_len(&json!({"detail": "Not Found"}), "x"), None);
    }
}
