//! Fetched threads, so that a job started again (the editor's "Re-run Swiss", a second
//! `swiss.fixIssue` on the same reference) does not fetch the issue again. Entries expire, so a
//! long-running language server sees comments added since.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use super::text::Thread;

/// Long enough for re-runs within one piece of work, short enough for new comments to arrive.
pub const DEFAULT_TTL: Duration = Duration::from_secs(10 * 60);

#[derive(Debug)]
pub struct IssueCache {
    ttl: Duration,
    entries: Mutex<HashMap<String, (Instant, Arc<Thread>)>>,
}

impl IssueCache {
    pub fn new(ttl: Duration) -> IssueCache {
        IssueCache {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The one cache of this process.
    pub fn shared() -> Arc<IssueCache> {
        static SHARED: OnceLock<Arc<IssueCache>> = OnceLock::new();
        SHARED
            .get_or_init(|| Arc::new(IssueCache::new(DEFAULT_TTL)))
            .clone()
    }

    pub fn get(&self, key: &str) -> Option<Arc<Thread>> {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        match entries.get(key) {
            Some((at, thread)) if at.elapsed() < self.ttl => Some(thread.clone()),
            Some(_) => {
                entries.remove(key);
                None
            }
            None => None,
        }
    }

    pub fn insert(&self, key: String, thread: Arc<Thread>) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.retain(|_, (at, _)| at.elapsed() < self.ttl);
        entries.insert(key, (Instant::now(), thread));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn thread() -> Arc<Thread> {
        Arc::new(Thread {
            title: "t".into(),
            body: String::new(),
            url: None,
            comments: Vec::new(),
        })
    }

    #[test]
    fn entries_expire() {
        let cache = IssueCache::new(Duration::from_secs(60));
        cache.insert("k".into(), thread());
        assert!(cache.get("k").is_some());
        assert!(cache.get("other").is_none());
        let expired = IssueCache::new(Duration::ZERO);
        expired.insert("k".into(), thread());
        assert!(expired.get("k").is_none());
    }
}
