//! The exit codes scripts rely on.

use std::io::Write;
use std::process::ExitCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// A winner was found.
    Winner = 0,
    /// The job ran but no sample gave a valid candidate.
    NoCandidate = 1,
    /// Bad input or configuration; nothing was sent to the backend or changed.
    BadInput = 2,
    /// The backend could not be reached or kept failing.
    Backend = 3,
    /// Ctrl-C: the shell's convention for SIGINT.
    Interrupted = 130,
}

impl Exit {
    pub fn code(self) -> ExitCode {
        ExitCode::from(self as u8)
    }

    /// One clear line naming the cause, on stderr.
    pub fn with_message(self, message: impl std::fmt::Display) -> Exit {
        let _ = writeln!(std::io::stderr(), "swiss: {message}");
        self
    }
}
