//! Why a job ended without an outcome. A candidate whose tests failed is data (`CandidateRun`),
//! never an error here.

use super::cancel::CancelReason;
use super::verify::VerificationError;
use crate::backend::BackendError;

#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error(transparent)]
    Backend(#[from] BackendError),
    #[error("failed to localize the issue: none of the {samples} localization answers named a file of the repository (check that the backend serves a code model that follows the prompt; SWISS_LOG=debug shows its answers)")]
    NothingLocalized { samples: usize },
    #[error(transparent)]
    Verification(#[from] VerificationError),
    #[error("the job was {}", .0.describe())]
    Cancelled(CancelReason),
}
