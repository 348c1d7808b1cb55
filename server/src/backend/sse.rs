//! Server-Sent Events, as chat-completions servers stream them: `data:` lines grouped into events
//! by blank lines. Bytes arrive in arbitrary pieces (a line, even a UTF-8 character, may be cut
//! between two network reads), so the decoder buffers until a line is whole.

/// Turns a byte stream into the `data` of each event.
#[derive(Debug, Default)]
pub(crate) struct SseDecoder {
    pending: Vec<u8>,
    data: Option<String>,
}

impl SseDecoder {
    /// Feeds the next bytes; returns the events they complete, in order.
    pub(crate) fn push(&mut self, bytes: &[u8]) -> Vec<String> {
        self.pending.extend_from_slice(bytes);
        let mut events = Vec::new();
        while let Some(end) = self.pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.pending.drain(..=end).collect();
            let line = String::from_utf8_lossy(&line[..end]);
            self.line(line.strip_suffix('\r').unwrap_or(&line), &mut events);
        }
        events
    }

    /// The stream ended: an event whose closing blank line never came still counts.
    pub(crate) fn finish(&mut self) -> Option<String> {
        if !self.pending.is_empty() {
            let rest = std::mem::take(&mut self.pending);
            let line = String::from_utf8_lossy(&rest);
            let mut events = Vec::new();
            self.line(line.strip_suffix('\r').unwrap_or(&line), &mut events);
            if let Some(event) = events.pop() {
                return Some(event);
            }
        }
        self.data.take()
    }

    fn line(&mut self, line: &str, events: &mut Vec<String>) {
        if line.is_empty() {
            if let Some(data) = self.data.take() {
                events.push(data);
            }
            return;
        }
        // Comments (`: keep-alive`) and the fields other than data (event, id, retry).
        let Some(value) = line.strip_prefix("data:") else {
            return;
        };
        let value = value.strip_prefix(' ').unwrap_or(value);
        match &mut self.data {
            Some(data) => {
                data.push('\n');
                data.push_str(value);
            }
            None => self.data = Some(value.to_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_split_anywhere_come_out_whole() {
        let stream = ": keep-alive\n\ndata: {\"a\":1}\n\nevent: x\ndata:{\"b\":\"é\"}\r\n\r\ndata: [DONE]\n\n";
        let whole = SseDecoder::default().push(stream.as_bytes());
        assert_eq!(whole, ["{\"a\":1}", "{\"b\":\"é\"}", "[DONE]"]);
        for cut in 0..stream.len() {
            let mut decoder = SseDecoder::default();
            let mut events = decoder.push(&stream.as_bytes()[..cut]);
            events.extend(decoder.push(&stream.as_bytes()[cut..]));
            assert_eq!(events, whole, "cut at {cut}");
            assert_eq!(decoder.finish(), None);
        }
    }

    #[test]
    fn data_lines_of_one_event_join_with_newlines() {
        let mut decoder = SseDecoder::default();
        assert_eq!(decoder.push(b"data: one\ndata: two\n\n"), ["one\ntwo"]);
    }

    #[test]
    fn an_unterminated_last_event_counts_at_the_end() {
        let mut decoder = SseDecoder::default();
        assert!(decoder.push(b"data: [DONE]").is_empty());
        assert_eq!(decoder.finish().as_deref(), Some("[DONE]"));
        let mut decoder = SseDecoder::default();
        assert!(decoder.push(b"data: {}\n").is_empty());
        assert_eq!(decoder.finish().as_deref(), Some("{}"));
    }
}
