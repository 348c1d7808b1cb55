//! A streamed chat completion put back together: each choice's pieces joined in order, and the
//! choice handed on the moment its `finish_reason` arrives, while its siblings are still being
//! written.

use std::collections::{BTreeMap, BTreeSet};

use super::error::excerpt;
use super::wire::{ChatChunk, Choice, Usage};

#[derive(Debug, Default)]
pub(crate) struct StreamAssembler {
    /// Text so far of the choices still being written, by index.
    open: BTreeMap<usize, String>,
    /// Choices already handed on; later pieces for them are ignored.
    finished: BTreeSet<usize>,
    usage: Option<Usage>,
    done: bool,
}

impl StreamAssembler {
    /// One event's data; returns the choices it finishes. An error names what the server sent.
    pub(crate) fn event(&mut self, data: &str) -> Result<Vec<Choice>, String> {
        if data.trim() == "[DONE]" {
            self.done = true;
            return Ok(self.flush());
        }
        let chunk: ChatChunk = serde_json::from_str(data)
            .map_err(|e| format!("not a chat completion chunk ({e}): {}", excerpt(data)))?;
        if let Some(error) = chunk.error {
            return Err(format!(
                "the server reported an error mid-stream: {}",
                excerpt(&error.to_string())
            ));
        }
        // Servers that repeat a running total on every chunk: the last one is the total.
        if let Some(usage) = chunk.usage {
            self.usage = Some(usage);
        }
        let mut finished = Vec::new();
        for choice in chunk.choices {
            if self.finished.contains(&choice.index) {
                continue;
            }
            let text = self.open.entry(choice.index).or_default();
            if let Some(content) = choice.delta.and_then(|d| d.content) {
                text.push_str(&content);
            }
            if let Some(reason) = choice.finish_reason {
                let text = self.open.remove(&choice.index).unwrap_or_default();
                self.finished.insert(choice.index);
                finished.push(Choice::new(text, Some(reason)));
            }
        }
        Ok(finished)
    }

    /// The stream closed. `Ok` with the choices still open when the server said `[DONE]` (or
    /// left it out after finishing every choice); an error when it stopped mid-answer.
    pub(crate) fn end(&mut self) -> Result<Vec<Choice>, String> {
        if self.done || self.open.is_empty() {
            return Ok(self.flush());
        }
        Err(format!(
            "the stream ended before {} of its choices finished",
            self.open.len()
        ))
    }

    /// Choices the stream started, finished or not.
    pub(crate) fn choices_seen(&self) -> usize {
        self.finished.len() + self.open.len()
    }

    pub(crate) fn usage(&self) -> Option<Usage> {
        self.usage
    }

    /// A server that ends without a `finish_reason` still wrote those answers.
    fn flush(&mut self) -> Vec<Choice> {
        let open = std::mem::take(&mut self.open);
        self.finished.extend(open.keys());
        open.into_values()
            .map(|text| Choice::new(text, None))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn piece(index: usize, content: &str) -> String {
        format!(
            r#"{{"choices":[{{"index":{index},"delta":{{"content":"{content}"}},"finish_reason":null}}]}}"#
        )
    }

    fn finish(index: usize) -> String {
        format!(r#"{{"choices":[{{"index":{index},"delta":{{}},"finish_reason":"stop"}}]}}"#)
    }

    fn texts(choices: Vec<Choice>) -> Vec<String> {
        choices.into_iter().map(Choice::into_text).collect()
    }

    #[test]
    fn a_choice_is_handed_on_when_it_finishes() {
        let mut stream = StreamAssembler::default();
        assert!(stream.event(&piece(0, "ab")).unwrap().is_empty());
        assert!(stream.event(&piece(1, "x")).unwrap().is_empty());
        assert!(stream.event(&piece(0, "c")).unwrap().is_empty());
        assert_eq!(texts(stream.event(&finish(0)).unwrap()), ["abc"]);
        assert!(stream.event(&piece(1, "y")).unwrap().is_empty());
        assert_eq!(texts(stream.event(&finish(1)).unwrap()), ["xy"]);
        let usage =
            r#"{"choices":[],"usage":{"prompt_tokens":7,"completion_tokens":3,"total_tokens":10}}"#;
        assert!(stream.event(usage).unwrap().is_empty());
        assert!(stream.event("[DONE]").unwrap().is_empty());
        assert!(stream.end().unwrap().is_empty());
        assert_eq!(stream.choices_seen(), 2);
        assert_eq!(
            stream.usage(),
            Some(Usage {
                prompt_tokens: 7,
                completion_tokens: 3
            })
        );
    }

    #[test]
    fn done_hands_on_what_never_finished() {
        let mut stream = StreamAssembler::default();
        stream.event(&piece(0, "partial")).unwrap();
        let left = stream.event("[DONE]").unwrap();
        assert_eq!(left[0].finish_reason, None);
        assert_eq!(texts(left), ["partial"]);
        assert_eq!(stream.usage(), None, "no usage sent, none made up");
    }

    #[test]
    fn a_stream_cut_mid_answer_is_an_error() {
        let mut stream = StreamAssembler::default();
        stream.event(&piece(0, "a")).unwrap();
        assert_eq!(texts(stream.event(&finish(0)).unwrap()), ["a"]);
        stream.event(&piece(1, "b")).unwrap();
        assert_eq!(
            stream.end().unwrap_err(),
            "the stream ended before 1 of its choices finished"
        );
    }

    #[test]
    fn errors_and_garbage_say_what_came() {
        let mut stream = StreamAssembler::default();
        let err = stream
            .event(r#"{"error":{"message":"KV cache full"}}"#)
            .unwrap_err();
        assert!(
            err.contains("mid-stream") && err.contains("KV cache full"),
            "{err}"
        );
        let err = stream.event("not json").unwrap_err();
        assert!(err.contains("not a chat completion chunk"), "{err}");
    }
}
