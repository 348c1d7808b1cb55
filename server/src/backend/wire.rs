//! The JSON of the chat-completions API, limited to the fields Swiss sends or reads.

use std::ops::{Add, AddAssign};

use serde::{Deserialize, Serialize};

/// One message of a chat prompt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub role: String,
    pub content: String,
}

impl ChatMessage {
    pub fn system(content: impl Into<String>) -> Self {
        Self {
            role: "system".to_owned(),
            content: content.into(),
        }
    }

    pub fn user(content: impl Into<String>) -> Self {
        Self {
            role: "user".to_owned(),
            content: content.into(),
        }
    }
}

/// Tokens the server reports having processed; summed over every request of a call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    #[serde(default)]
    pub prompt_tokens: u64,
    #[serde(default)]
    pub completion_tokens: u64,
}

impl Add for Usage {
    type Output = Usage;

    fn add(self, other: Usage) -> Usage {
        Usage {
            prompt_tokens: self.prompt_tokens.saturating_add(other.prompt_tokens),
            completion_tokens: self
                .completion_tokens
                .saturating_add(other.completion_tokens),
        }
    }
}

impl AddAssign for Usage {
    fn add_assign(&mut self, other: Usage) {
        *self = *self + other;
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct ChatRequest<'a> {
    pub model: &'a str,
    pub messages: &'a [ChatMessage],
    pub n: usize,
    pub temperature: f64,
    pub top_p: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// Streamed, each choice is handed on as soon as it finishes, while its siblings are still
    /// being written, and a proxy that drops idle connections sees bytes all along.
    pub stream: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream_options: Option<StreamOptions>,
}

#[derive(Debug, Serialize)]
pub(crate) struct StreamOptions {
    /// Asks for a last chunk with the token counts; servers that do not know the option ignore it.
    pub include_usage: bool,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ChatResponse {
    pub choices: Vec<Choice>,
    // Some servers leave usage out, others send `null`.
    #[serde(default)]
    pub usage: Option<Usage>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Choice {
    #[serde(default)]
    pub message: Option<ResponseMessage>,
    #[serde(default)]
    pub finish_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ResponseMessage {
    // `null` when the model produced only a tool call or a refusal; the pipeline then sees an
    // empty sample and counts it as invalid.
    #[serde(default)]
    pub content: Option<String>,
}

impl Choice {
    pub fn into_text(self) -> String {
        self.message.and_then(|m| m.content).unwrap_or_default()
    }

    pub fn new(text: String, finish_reason: Option<String>) -> Self {
        Choice {
            message: Some(ResponseMessage {
                content: Some(text),
            }),
            finish_reason,
        }
    }
}

/// One event of a streamed response: pieces of some choices, or (last) the usage alone.
#[derive(Debug, Deserialize)]
pub(crate) struct ChatChunk {
    #[serde(default)]
    pub choices: Vec<ChunkChoice>,
    #[serde(default)]
    pub usage: Option<Usage>,
    /// vLLM and proxies report a failure mid-stream as an event holding only this.
    #[serde(default)]
    pub error: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ChunkChoice {
    #[serde(default)]
    pub index: usize,
    #[serde(default)]
    pub delta: Option<Delta>,
    #[serde(default)]
    pub finish_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Delta {
    #[serde(default)]
    pub content: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_omits_max_tokens_when_unset() {
        let messages = [ChatMessage::user("hi")];
        let mut request = ChatRequest {
            model: "m",
            messages: &messages,
            n: 3,
            temperature: 0.6,
            top_p: 0.95,
            max_tokens: None,
            stream: false,
            stream_options: None,
        };
        let body = serde_json::to_value(&request).unwrap();
        assert_eq!(
            body,
            serde_json::json!({
                "model": "m",
                "messages": [{"role": "user", "content": "hi"}],
                "n": 3,
                "temperature": 0.6,
                "top_p": 0.95,
                "stream": false,
            })
        );
        request.max_tokens = Some(512);
        assert_eq!(serde_json::to_value(&request).unwrap()["max_tokens"], 512);
    }

    #[test]
    fn parses_a_vllm_response() {
        let body = r#"{
            "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "m",
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": "a", "reasoning_content": null},
                 "logprobs": null, "finish_reason": "stop", "stop_reason": null},
                {"index": 1, "message": {"role": "assistant", "content": "b"}, "finish_reason": "length"}
            ],
            "usage": {"prompt_tokens": 10, "total_tokens": 15, "completion_tokens": 5}
        }"#;
        let response: ChatResponse = serde_json::from_str(body).unwrap();
        assert_eq!(
            response.usage,
            Some(Usage {
                prompt_tokens: 10,
                completion_tokens: 5
            })
        );
        let finish: Vec<_> = response
            .choices
            .iter()
            .map(|c| c.finish_reason.clone())
            .collect();
        assert_eq!(finish, [Some("stop".to_owned()), Some("length".to_owned())]);
        let texts: Vec<_> = response
            .choices
            .into_iter()
            .map(Choice::into_text)
            .collect();
        assert_eq!(texts, ["a", "b"]);
    }

    #[test]
    fn null_or_missing_content_is_empty_text() {
        let body = r#"{"choices": [
            {"message": {"role": "assistant", "content": null}},
            {"message": {"role": "assistant"}},
            {"finish_reason": "stop"}
        ], "usage": null}"#;
        let response: ChatResponse = serde_json::from_str(body).unwrap();
        assert_eq!(response.usage, None);
        let texts: Vec<_> = response
            .choices
            .into_iter()
            .map(Choice::into_text)
            .collect();
        assert_eq!(texts, ["", "", ""]);
    }

    #[test]
    fn missing_choices_is_malformed() {
        assert!(serde_json::from_str::<ChatResponse>(r#"{"error": {"message": "nope"}}"#).is_err());
    }

    #[test]
    fn usage_adds_up() {
        let mut total = Usage::default();
        total += Usage {
            prompt_tokens: 3,
            completion_tokens: 4,
        };
        let sum = total
            + Usage {
                prompt_tokens: 1,
                completion_tokens: 1,
            };
        assert_eq!(
            sum,
            Usage {
                prompt_tokens: 4,
                completion_tokens: 5
            }
        );
    }
}
