//! A job's cancellation token together with why it was cancelled. The engine only sees the
//! token; the reason is what `swiss/jobEnded` tells the editor, and this layer knows it only
//! from what triggered the cancel. [`Trigger::reason`] is the one place that maps the two.

use std::ops::Deref;
use std::sync::OnceLock;

use tokio_util::sync::CancellationToken;

use super::protocol::CancelReason;

/// What the client (or the server's own lifecycle) did that stops a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// `swiss.cancel`.
    CancelCommand,
    /// `window/workDoneProgress/cancel`: the progress UI's cancel button.
    ProgressCancel,
    /// `swiss.dismiss` on a running job.
    Dismiss,
    /// The `shutdown` request.
    Shutdown,
}

impl Trigger {
    pub fn reason(self) -> CancelReason {
        match self {
            Trigger::CancelCommand | Trigger::ProgressCancel => CancelReason::User,
            Trigger::Dismiss => CancelReason::Dismiss,
            Trigger::Shutdown => CancelReason::Shutdown,
        }
    }
}

#[derive(Debug, Default)]
pub struct Cancellation {
    token: CancellationToken,
    reason: OnceLock<CancelReason>,
}

impl Cancellation {
    /// Cancels the job. The first trigger is the one reported: a dismiss after a cancel does
    /// not rewrite why the job stopped.
    pub fn cancel(&self, trigger: Trigger) {
        let _ = self.reason.set(trigger.reason());
        self.token.cancel();
    }

    /// Why the job was cancelled, `None` while nothing has cancelled it.
    pub fn reason(&self) -> Option<CancelReason> {
        self.reason.get().copied()
    }
}

/// The engine and the job task wait on the token itself. Cancelling goes through
/// [`Cancellation::cancel`], which shadows the token's own `cancel`, so no path can cancel a
/// job without saying why.
impl Deref for Cancellation {
    type Target = CancellationToken;

    fn deref(&self) -> &CancellationToken {
        &self.token
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_trigger_gives_the_reason() {
        let cancellation = Cancellation::default();
        assert_eq!(cancellation.reason(), None);
        assert!(!cancellation.is_cancelled());
        cancellation.cancel(Trigger::ProgressCancel);
        cancellation.cancel(Trigger::Dismiss);
        assert!(cancellation.is_cancelled());
        assert_eq!(cancellation.reason(), Some(CancelReason::User));
    }
}
