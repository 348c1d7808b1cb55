//! Everything a job produced, as plain data that can be written to disk: re-ranking saved
//! samples, replaying a job and exporting verified fixes all start from this.

use serde::{Deserialize, Serialize};

use super::confidence::Confidence;
use super::retrieve::RetrievalRecord;
use super::verify::VerificationReport;
use crate::backend::{EndpointUsage, Usage};
use crate::engine::apply::PatchedFiles;
use crate::engine::contexts::RepairContext;
use crate::engine::edits::SearchReplace;
use crate::engine::issue::Issue;
use crate::engine::selection::Ranking;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LocalizationRecord {
    /// The raw answers, in sample order.
    pub samples: Vec<String>,
    /// The files each answer named that exist in the repository.
    pub parsed: Vec<Vec<String>>,
    /// The model's answer about folders to leave out of retrieval; `None` when the step is off
    /// or the request failed.
    pub irrelevant: Option<IrrelevantFolders>,
    /// `None` when the user gave the files: retrieval did not run.
    pub retrieval: Option<RetrievalRecord>,
    /// The user named the files (`--files`, "Fix issue here…"): no localization prompt was
    /// sent, and they are the one repair context.
    #[serde(default)]
    pub given: bool,
    /// The distinct repair contexts, each an answer's files merged with retrieval's, with the
    /// repair samples asked for it.
    pub contexts: Vec<RepairContext>,
    /// Every context's files, most-voted first: what the editor and `--json` show.
    pub files: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IrrelevantFolders {
    pub answer: String,
    pub folders: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RepairSample {
    pub index: usize,
    /// Which of `LocalizationRecord::contexts` the prompt came from.
    pub context: usize,
    pub raw: String,
    pub edits: Vec<SearchReplace>,
    /// The normalized key; empty when the sample gave no valid patch.
    pub key: String,
    /// Why the sample gave no valid patch.
    pub error: Option<String>,
    pub candidate: Option<u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CandidateRecord {
    pub id: u32,
    pub key: String,
    /// The patch of the first sample with this key: samples with one key differ only in
    /// formatting, comments or docstrings.
    pub patch: String,
    #[serde(skip)]
    pub files: PatchedFiles,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FixOutcome {
    pub issue: Issue,
    pub localization: LocalizationRecord,
    pub samples: Vec<RepairSample>,
    pub candidates: Vec<CandidateRecord>,
    pub ranking: Ranking,
    /// `None` with `--sandbox none`.
    pub verification: Option<VerificationReport>,
    pub usage: Usage,
    /// What each backend endpoint served this job.
    #[serde(default)]
    pub backends: Vec<EndpointUsage>,
    /// The winner's share of the samples and its band; `None` without a winner.
    pub confidence: Option<Confidence>,
    /// `None` unless `repair.early_stop` stopped the samples: `samples` are those that came.
    pub early_stop: Option<super::early_stop::EarlyStopRecord>,
}

impl FixOutcome {
    pub fn candidate(&self, id: u32) -> Option<&CandidateRecord> {
        self.candidates.iter().find(|c| c.id == id)
    }

    /// The candidate selection picked, if any.
    /// The winner's score and votes; `(0.0, 0)` without one.
    pub fn winner_rank(&self) -> (f64, usize) {
        self.ranking
            .winning_candidate()
            .map(|r| (r.score, r.votes))
            .unwrap_or_default()
    }

    pub fn winner(&self) -> Option<&CandidateRecord> {
        let ranked = &self.ranking.candidates[self.ranking.winner?];
        self.candidates.iter().find(|c| c.key == ranked.key)
    }
}
