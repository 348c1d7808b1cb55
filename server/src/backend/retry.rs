//! How long to wait before trying a failed request again.

use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// A server asking for a longer pause than this is more likely misconfigured than busy; waiting
/// longer would leave an editor user staring at a progress bar.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(120);

/// The pause before retry number `retry` (1 for the first retry): doubling from `initial`, capped,
/// plus up to a quarter more at random so that many clients rejected together do not come back
/// together.
pub(crate) fn backoff(initial: Duration, retry: u32) -> Duration {
    let doublings = retry.saturating_sub(1).min(31);
    let base = initial.saturating_mul(1u32 << doublings).min(MAX_BACKOFF);
    base + (base / 4).mul_f64(unit_random())
}

/// The pause a 429 or 503 asks for, if it says.
pub(crate) fn retry_after_of(response: &reqwest::Response) -> Option<Duration> {
    match response.status() {
        reqwest::StatusCode::TOO_MANY_REQUESTS | reqwest::StatusCode::SERVICE_UNAVAILABLE => {
            response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|value| value.to_str().ok())
                .and_then(parse_retry_after)
        }
        _ => None,
    }
}

/// The seconds form of `Retry-After`; the HTTP-date form is rare from model servers and falls
/// back to the usual backoff.
pub(crate) fn parse_retry_after(value: &str) -> Option<Duration> {
    let seconds: u64 = value.trim().parse().ok()?;
    Some(Duration::from_secs(seconds).min(MAX_RETRY_AFTER))
}

/// A number in [0, 1) without a dependency on a random-number crate: each `RandomState` is seeded
/// afresh, which is all the spread jitter needs.
fn unit_random() -> f64 {
    let bits = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_within_jitter() {
        let initial = Duration::from_millis(500);
        for (retry, expected_ms) in [(1, 500), (2, 1000), (3, 2000), (4, 4000)] {
            let delay = backoff(initial, retry);
            let low = Duration::from_millis(expected_ms);
            assert!(
                delay >= low && delay <= low + low / 4,
                "retry {retry}: {delay:?}"
            );
        }
    }

    #[test]
    fn backoff_is_capped() {
        let initial = Duration::from_millis(500);
        for retry in [7, 20, 64, u32::MAX] {
            let delay = backoff(initial, retry);
            assert!(
                delay >= MAX_BACKOFF && delay <= MAX_BACKOFF + MAX_BACKOFF / 4,
                "{delay:?}"
            );
        }
        assert_eq!(backoff(Duration::ZERO, 3), Duration::ZERO);
    }

    #[test]
    fn jitter_varies() {
        let delays: std::collections::HashSet<_> = (0..20)
            .map(|_| backoff(Duration::from_secs(1), 1))
            .collect();
        assert!(delays.len() > 1);
    }

    #[test]
    fn retry_after_seconds() {
        assert_eq!(parse_retry_after("3"), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after(" 0 "), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("86400"), Some(MAX_RETRY_AFTER));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(parse_retry_after("-1"), None);
    }
}
