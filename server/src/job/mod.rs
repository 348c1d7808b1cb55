//! A fix job: the pipeline from issue to ranking, driving the engine's plain functions and the
//! backend. Protocol-free: the CLI prints its events, the language server will turn them into
//! progress notifications.

mod events;
pub mod json_report;
mod record;
mod run;
mod verification;

pub use events::{JobEvent, Stage};
pub use record::{CandidateRecord, FixOutcome, LocalizationRecord, RepairSample};
pub use run::{run_fix, FixRequest, JobError};
pub use verification::{ReproductionReport, VerificationError, VerificationReport};
