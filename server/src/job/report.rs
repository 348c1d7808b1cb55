//! The JSON a job is read as: what `swiss fix --json` prints on every exit and what
//! `swiss.candidates` answers. One set of types serves both (and the editor's hover), and
//! docs/json.md documents them; `version` changes when a field changes meaning or goes away.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::cancel::CancelReason;
use super::confidence::Confidence;
use super::events::Stage;
use super::reasons::{why_not_chosen, Reason};
use super::record::FixOutcome;
use super::verify::VerificationReport;
use crate::backend::{EndpointUsage, Usage};
use crate::engine::issue::Issue;
use crate::engine::selection::RankedCandidate;

pub const JSON_VERSION: u32 = 1;

/// The one object on stdout.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FixOutput {
    pub version: u32,
    pub status: FixStatus,
    /// Where a job without a winner stopped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<Stage>,
    /// Why there is no winner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorReport>,
    /// Present whenever the job got as far as repair samples.
    #[serde(flatten)]
    pub report: Option<FixReport>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FixStatus {
    /// Exit 0.
    Winner,
    /// Exit 1: the job ran, and no sample gave a valid candidate (or no file was localized).
    NoCandidate,
    /// Exits 2, 3 and 130.
    Error,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorReport {
    pub kind: ErrorKind,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<CancelReason>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorKind {
    /// Exit 2: bad input or configuration.
    BadInput,
    /// Exit 3: the backend or an issue tracker could not be reached or kept failing.
    Backend,
    /// Exit 130: the job was cancelled.
    Cancelled,
}

/// serde's `flatten` cannot read the report back (its integer-keyed maps go through a
/// string-keyed buffer), so the report is read from the same object in a second pass.
impl<'de> Deserialize<'de> for FixOutput {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Head {
            version: u32,
            status: FixStatus,
            #[serde(default)]
            stage: Option<Stage>,
            #[serde(default)]
            message: Option<String>,
            #[serde(default)]
            error: Option<ErrorReport>,
        }
        use serde::de::Error;
        let value = serde_json::Value::deserialize(deserializer)?;
        let head: Head = serde_json::from_value(value.clone()).map_err(D::Error::custom)?;
        let report = match value.get("issue") {
            Some(_) => Some(serde_json::from_value(value).map_err(D::Error::custom)?),
            None => None,
        };
        Ok(FixOutput {
            version: head.version,
            status: head.status,
            stage: head.stage,
            message: head.message,
            error: head.error,
            report,
        })
    }
}

impl FixOutput {
    pub fn finished(report: FixReport) -> FixOutput {
        let (status, stage, message) = match report.winner {
            Some(_) => (FixStatus::Winner, None, None),
            None => (
                FixStatus::NoCandidate,
                Some(Stage::Repair),
                Some(report.no_candidate_summary()),
            ),
        };
        FixOutput {
            version: JSON_VERSION,
            status,
            stage,
            message,
            error: None,
            report: Some(report),
        }
    }

    pub fn stopped(stage: Stage, message: String) -> FixOutput {
        FixOutput {
            version: JSON_VERSION,
            status: FixStatus::NoCandidate,
            stage: Some(stage),
            message: Some(message),
            error: None,
            report: None,
        }
    }

    pub fn error(kind: ErrorKind, message: String, reason: Option<CancelReason>) -> FixOutput {
        FixOutput {
            version: JSON_VERSION,
            status: FixStatus::Error,
            stage: None,
            message: None,
            error: Some(ErrorReport {
                kind,
                message,
                reason,
            }),
            report: None,
        }
    }
}

/// A finished job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FixReport {
    pub issue: Issue,
    pub localized_files: Vec<String>,
    /// Best first: the winner, then the rest of the filtered set by score, then the
    /// filtered-out ones, so the reason the winner won reads top to bottom.
    pub candidates: Vec<CandidateReport>,
    pub winner: Option<u32>,
    pub winner_patch: Option<String>,
    /// How far to trust the winner, from the reference's results; absent without a winner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<Confidence>,
    pub samples: SampleCounts,
    /// `null` when candidates were not verified (`--sandbox none`, no test command).
    pub verification: Option<VerificationReport>,
    pub usage: Usage,
    /// Each backend endpoint's share: requests, samples, tokens, failures.
    #[serde(default)]
    pub backends: Vec<EndpointUsage>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CandidateReport {
    pub id: u32,
    pub patch: String,
    pub key: String,
    pub sample_indices: Vec<usize>,
    pub votes: usize,
    pub similarity: f64,
    pub score: f64,
    pub regression_failures: Option<u32>,
    /// Seen from the issue: `false` when the reproduction test passes with the candidate, `true`
    /// when it ran and still reproduces it, `null` when none ran.
    pub reproduced: Option<bool>,
    pub filtered_out: bool,
    pub selected: bool,
    /// Why it is not the winner; empty for the winner.
    #[serde(default)]
    pub reasons: Vec<Reason>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampleCounts {
    pub total: usize,
    pub valid: usize,
    /// Reasons a sample gave no candidate, with how many samples each.
    pub invalid_reasons: BTreeMap<String, usize>,
    /// Present when `repair.early_stop` stopped the samples: `total` counts those that came,
    /// and votes, similarity and scores are over them; the winner is the full run's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub early_stop: Option<super::early_stop::EarlyStopRecord>,
}

impl FixReport {
    pub fn new(outcome: &FixOutcome) -> FixReport {
        let verification = outcome.verification.as_ref();
        let winning = outcome.ranking.winning_candidate();
        let candidates = ranked(outcome)
            .into_iter()
            .map(|(id, r)| CandidateReport {
                id,
                patch: outcome
                    .candidate(id)
                    .map(|c| c.patch.clone())
                    .unwrap_or_default(),
                key: r.key.clone(),
                sample_indices: r.sample_indices.clone(),
                votes: r.votes,
                similarity: r.similarity,
                score: r.score,
                regression_failures: r.regression_failures,
                reproduced: r.reproduction_passed.map(|passed| !passed),
                filtered_out: r.filtered_out,
                selected: r.selected,
                reasons: why_not_chosen(id, r, winning, verification),
            })
            .collect();
        let winner = outcome.winner();
        FixReport {
            issue: outcome.issue.clone(),
            localized_files: outcome.localization.files.clone(),
            candidates,
            winner: winner.map(|c| c.id),
            winner_patch: winner.map(|c| c.patch.clone()),
            confidence: Confidence::of_job(
                &outcome.ranking,
                outcome.samples.len(),
                verification,
                outcome.early_stop.as_ref(),
            ),
            samples: SampleCounts {
                total: outcome.samples.len(),
                valid: outcome.samples.iter().filter(|s| s.error.is_none()).count(),
                invalid_reasons: invalid_reasons(outcome),
                early_stop: outcome.early_stop.clone(),
            },
            verification: outcome.verification.clone(),
            usage: outcome.usage,
            backends: outcome.backends.clone(),
        }
    }

    pub fn candidate(&self, id: u32) -> Option<&CandidateReport> {
        self.candidates.iter().find(|c| c.id == id)
    }

    pub fn no_candidate_summary(&self) -> String {
        let reasons: Vec<String> = self
            .samples
            .invalid_reasons
            .iter()
            .map(|(reason, n)| format!("{n} × {reason}"))
            .collect();
        format!(
            "no valid candidate: none of the {} repair samples gave a usable edit ({})",
            self.samples.total,
            if reasons.is_empty() {
                "no samples".to_owned()
            } else {
                reasons.join("; ")
            }
        )
    }
}

fn ranked(outcome: &FixOutcome) -> Vec<(u32, &RankedCandidate)> {
    let mut rows: Vec<(u32, &RankedCandidate)> = outcome
        .ranking
        .candidates
        .iter()
        .filter_map(|r| {
            let id = outcome.candidates.iter().find(|c| c.key == r.key)?.id;
            Some((id, r))
        })
        .collect();
    rows.sort_by(|(a_id, a), (b_id, b)| {
        b.selected
            .cmp(&a.selected)
            .then(a.filtered_out.cmp(&b.filtered_out))
            .then(b.score.total_cmp(&a.score))
            .then(b.similarity.total_cmp(&a.similarity))
            .then(a_id.cmp(b_id))
    });
    rows
}

/// Reasons are grouped by their wording, so 40 samples make a short list.
fn invalid_reasons(outcome: &FixOutcome) -> BTreeMap<String, usize> {
    let mut reasons = BTreeMap::new();
    for sample in &outcome.samples {
        if let Some(error) = &sample.error {
            *reasons.entry(error.clone()).or_insert(0) += 1;
        }
    }
    reasons
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every ```json block of docs/json.md parses into these types and prints back unchanged, so
    /// the documented schema cannot drift from the one `--json` prints.
    #[test]
    fn the_documented_examples_are_what_the_types_print() {
        let doc = include_str!("../../../docs/json.md");
        let blocks: Vec<&str> = doc
            .split("```json\n")
            .skip(1)
            .map(|rest| rest.split("```").next().unwrap_or_default())
            .collect();
        assert_eq!(blocks.len(), 7, "the examples of docs/json.md");
        let mut statuses = Vec::new();
        for block in blocks {
            let value: serde_json::Value = serde_json::from_str(block).expect(block);
            let parsed: FixOutput = serde_json::from_value(value.clone()).expect(block);
            let printed = serde_json::to_value(&parsed).unwrap();
            assert_eq!(
                printed,
                value,
                "{}\nprinted back as\n{}",
                block,
                serde_json::to_string_pretty(&printed).unwrap()
            );
            assert_eq!(parsed.version, JSON_VERSION);
            // The documented confidence is the one its counts give.
            if let Some(shown) = parsed.report.as_ref().and_then(|r| r.confidence.as_ref()) {
                let derived = Confidence::of_share(shown.votes, shown.samples).unwrap();
                assert_eq!(
                    (shown.share, shown.band, shown.resolve_rate, &shown.source),
                    (
                        derived.share,
                        derived.band,
                        derived.resolve_rate,
                        &derived.source
                    )
                );
            }
            statuses.push(parsed.status);
        }
        assert!(statuses.contains(&FixStatus::Winner));
        assert!(statuses.contains(&FixStatus::NoCandidate));
        assert!(statuses.contains(&FixStatus::Error));
    }

    #[test]
    fn a_run_the_sandbox_could_not_carry_out_holds_its_error_without_a_wrapper() {
        let failed = super::super::verify::CandidateRun::Failed {
            error: "failed to run".to_owned(),
        };
        assert_eq!(
            serde_json::to_value(&failed).unwrap(),
            serde_json::json!({"error": "failed to run"})
        );
    }
}
