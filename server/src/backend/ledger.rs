//! What each endpoint served: requests, samples, tokens and failures. A client keeps one for its
//! whole life; a job keeps its own, so that jobs sharing a client (`swiss eval --jobs N`) each
//! report their part.

use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use super::wire::Usage;

/// One endpoint's share of the work.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointUsage {
    /// The API root, without credentials.
    pub url: String,
    /// HTTP exchanges sent, retries included.
    pub requests: u64,
    /// Completions it delivered that were kept.
    pub samples: u64,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    /// Exchanges that failed (a refused connection, an error status, a broken stream), whether
    /// or not a retry then succeeded; one cut short when the endpoint was taken out counts too.
    pub failures: u64,
    /// Times it was taken out of the pool after failing for good.
    #[serde(default)]
    pub taken_out: u64,
}

impl EndpointUsage {
    fn add(&mut self, other: &EndpointUsage) {
        self.requests += other.requests;
        self.samples += other.samples;
        self.prompt_tokens += other.prompt_tokens;
        self.completion_tokens += other.completion_tokens;
        self.failures += other.failures;
        self.taken_out += other.taken_out;
    }
}

/// Usage by endpoint, in the client's endpoint order; cheap to clone (one shared table).
#[derive(Debug, Clone, Default)]
pub struct UsageLedger {
    rows: Arc<Mutex<Vec<EndpointUsage>>>,
}

impl UsageLedger {
    /// A row per endpoint, all zero.
    pub fn new(urls: impl IntoIterator<Item = String>) -> UsageLedger {
        let rows = urls
            .into_iter()
            .map(|url| EndpointUsage {
                url,
                ..EndpointUsage::default()
            })
            .collect();
        UsageLedger {
            rows: Arc::new(Mutex::new(rows)),
        }
    }

    /// Adds `delta` to the row of endpoint `index`; a ledger made for other endpoints (a row
    /// missing) records nothing rather than mixing servers up.
    pub(crate) fn record(&self, index: usize, delta: &EndpointUsage) {
        let mut rows = self
            .rows
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(row) = rows.get_mut(index) {
            row.add(delta);
        }
    }

    pub fn snapshot(&self) -> Vec<EndpointUsage> {
        self.rows
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }
}

/// The change one event of a request makes to its endpoint's row.
pub(crate) fn tokens(usage: Usage) -> EndpointUsage {
    EndpointUsage {
        prompt_tokens: usage.prompt_tokens,
        completion_tokens: usage.completion_tokens,
        ..EndpointUsage::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_by_endpoint_and_ignores_unknown_ones() {
        let ledger = UsageLedger::new(["http://a/v1".to_owned(), "http://b/v1".to_owned()]);
        let copy = ledger.clone();
        copy.record(
            1,
            &EndpointUsage {
                requests: 2,
                samples: 3,
                failures: 1,
                ..tokens(Usage {
                    prompt_tokens: 10,
                    completion_tokens: 5,
                })
            },
        );
        copy.record(7, &tokens(Usage::default()));
        let rows = ledger.snapshot();
        assert_eq!(rows[0].requests, 0);
        assert_eq!(rows[1].url, "http://b/v1");
        assert_eq!(
            (rows[1].requests, rows[1].samples, rows[1].failures),
            (2, 3, 1)
        );
        assert_eq!((rows[1].prompt_tokens, rows[1].completion_tokens), (10, 5));
    }
}
