//! A fix job as a pipeline of stages, one file each: `setup` (everything before the first model
//! call), `localize`, `repair`, `verify` (with `reproduce` and `sandbox_choice`), `select`, and
//! the `driver` that runs them. Protocol-free: the CLI prints its events, the language server
//! turns them into progress notifications and diagnostics.

mod cancel;
pub mod confidence;
mod context;
mod driver;
mod error;
mod events;
mod given_files;
mod kept;
mod localize;
pub mod reasons;
mod record;
mod regression_tests;
mod repair;
pub mod report;
mod reproduce;
mod retrieve;
mod sandbox_choice;
mod select;
pub use select::verdict_of;
mod setup;
mod verify;

pub use cancel::{CancelReason, JobCancel};
pub use context::{EventSink, JobContext};
pub use driver::run_fix;
pub use error::JobError;
pub use events::{JobEvent, Stage};
pub use given_files::{resolve_given_files, GivenFileError};
pub use kept::{job_number, JobStore, KeepLimits, KeptJob, KeptMeta};
pub use record::{
    CandidateRecord, FixOutcome, IrrelevantFolders, LocalizationRecord, RepairSample,
};
pub use regression_tests::summary as regression_test_summary;
pub use reproduce::ReproductionReport;
pub use retrieve::{RetrievalMethod, RetrievalRecord};
pub use sandbox_choice::create_sandbox_for;
pub use setup::{Setup, SetupError};
pub use verify::{test_command, CandidateRun, VerificationError, VerificationReport};
