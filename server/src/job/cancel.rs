//! Why a job stopped before its end. The first reason given wins: a job the user cancelled and
//! then dismissed was cancelled by the user.

use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CancelReason {
    /// The user asked (Ctrl-C, the editor's cancel button, `swiss.cancel`).
    User,
    /// The user dismissed the job while it ran.
    Dismiss,
    /// The editor shut the server down.
    Shutdown,
    /// The job ran past `job.timeout_secs`.
    Timeout,
}

impl CancelReason {
    pub fn describe(self) -> &'static str {
        match self {
            CancelReason::User => "cancelled",
            CancelReason::Dismiss => "dismissed while running",
            CancelReason::Shutdown => "stopped by the server's shutdown",
            CancelReason::Timeout => "stopped after job.timeout_secs",
        }
    }
}

/// A cancellation token that remembers why it fired. Clones share the token and the reason.
#[derive(Debug, Clone, Default)]
pub struct JobCancel {
    token: CancellationToken,
    reason: Arc<OnceLock<CancelReason>>,
}

impl JobCancel {
    pub fn new() -> JobCancel {
        JobCancel::default()
    }

    /// A token of its own that also fires with this one: one job of many (`swiss eval`) can
    /// stop alone, and Ctrl-C stops them all.
    pub fn child(&self) -> JobCancel {
        JobCancel {
            token: self.token.child_token(),
            reason: Arc::new(OnceLock::new()),
        }
    }

    pub fn cancel(&self, reason: CancelReason) {
        let _ = self.reason.set(reason);
        self.token.cancel();
    }

    pub fn is_cancelled(&self) -> bool {
        self.token.is_cancelled()
    }

    /// Why the job was cancelled; `User` for a token cancelled without a reason.
    pub fn reason(&self) -> Option<CancelReason> {
        self.is_cancelled()
            .then(|| self.reason.get().copied().unwrap_or(CancelReason::User))
    }

    /// The token the backend and the sandboxes watch.
    pub fn token(&self) -> &CancellationToken {
        &self.token
    }

    pub async fn cancelled(&self) {
        self.token.cancelled().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_reason_wins_and_clones_share_it() {
        let cancel = JobCancel::new();
        assert_eq!(cancel.reason(), None);
        let clone = cancel.clone();
        clone.cancel(CancelReason::User);
        cancel.cancel(CancelReason::Dismiss);
        assert!(cancel.is_cancelled());
        assert_eq!(cancel.reason(), Some(CancelReason::User));
        assert_eq!(
            serde_json::to_string(&CancelReason::Shutdown).unwrap(),
            "\"shutdown\""
        );
    }
}
