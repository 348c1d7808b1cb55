//! `repair.early_stop`: while repair samples stream in, the remaining ones are stopped as soon as
//! they can no longer change the winner (the condition and why it is exact:
//! [`certain_winner`]). Stopping closes the open requests, which a vLLM server takes as an abort.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use super::context::JobContext;
use super::events::JobEvent;
use super::record::RepairSample;
use super::repair::Candidates;
use super::select::verdict_of;
use super::verify::CandidateRun;
use crate::engine::early_stop::{certain_winner, Standing};

/// What an early stop skipped. Votes, similarity and scores are over the `received` samples;
/// the winner is the one all `requested` samples would have given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EarlyStopRecord {
    pub requested: usize,
    pub received: usize,
    pub skipped: usize,
    /// `skipped` times the mean completion tokens of the samples that came, counted with
    /// `backend.tokenizer` (estimated from their length without one): an estimate, since the
    /// samples not drawn have no length.
    pub completion_tokens_saved_estimate: u64,
    /// The candidate that could no longer lose, and its votes and the runner-up's when the stop
    /// fired.
    pub winner: u32,
    pub votes: usize,
    pub runner_up_votes: usize,
}

impl EarlyStopRecord {
    /// One line for the CLI summary and the editor's job end.
    pub fn summary(&self) -> String {
        format!(
            "stopped early after {} of {} samples: the other {} could not change the winner; scores are over the samples that came (about {} completion tokens saved, an estimate)",
            self.received, self.requested, self.skipped, self.completion_tokens_saved_estimate
        )
    }
}

/// When the stop fired.
#[derive(Debug, Clone, Copy)]
struct Fired {
    winner: u32,
    votes: usize,
    runner_up_votes: usize,
}

/// Watches the samples and verdicts of one job's repair stage.
pub(super) struct EarlyStop {
    enabled: bool,
    requested: usize,
    /// Fired to close the repair requests still open.
    token: CancellationToken,
    fired: Option<Fired>,
}

impl EarlyStop {
    pub fn new(ctx: &JobContext, requested: usize) -> EarlyStop {
        EarlyStop {
            enabled: ctx.settings.early_stop,
            requested,
            token: CancellationToken::new(),
            fired: None,
        }
    }

    /// Fires when the repair requests still open should close.
    pub fn token(&self) -> &CancellationToken {
        &self.token
    }

    /// Called after each sample and each verdict. `reproduction_valid` is `None` until the
    /// verification set-up is done (no candidate is verified before). Returns `true` when the
    /// stop fires now; the caller then cancels the test runs that have not started.
    pub fn check(
        &mut self,
        ctx: &JobContext,
        candidates: &Candidates,
        tested: &BTreeMap<u32, CandidateRun>,
        reproduction_valid: Option<bool>,
    ) -> bool {
        let received = candidates.samples.len();
        let (true, None, Some(valid)) = (self.enabled, self.fired, reproduction_valid) else {
            return false;
        };
        let remaining = self.requested.saturating_sub(received);
        if remaining == 0 {
            return false;
        }
        let votes = votes_by_candidate(&candidates.samples);
        let ids: Vec<u32> = candidates.list.iter().map(|c| c.id).collect();
        let standings: Vec<Standing> = ids
            .iter()
            .map(|id| Standing {
                votes: votes.get(id).copied().unwrap_or(0),
                verdict: verdict_of(tested.get(id)),
            })
            .collect();
        let Some(leader) = certain_winner(&standings, remaining, valid) else {
            return false;
        };
        let runner_up_votes = (0..standings.len())
            .filter(|&i| i != leader)
            .map(|i| standings[i].votes)
            .max()
            .unwrap_or(0);
        let fired = Fired {
            winner: ids[leader],
            votes: standings[leader].votes,
            runner_up_votes,
        };
        self.fired = Some(fired);
        self.token.cancel();
        ctx.emit(JobEvent::EarlyStopped {
            winner: fired.winner,
            votes: fired.votes,
            runner_up_votes,
            received,
            requested: self.requested,
        });
        true
    }

    /// The record of a stop that fired, over the samples that came in the end (a few may have
    /// been on their way when it fired).
    pub fn record(&self, ctx: &JobContext, samples: &[RepairSample]) -> Option<EarlyStopRecord> {
        let fired = self.fired?;
        let received = samples.len();
        let skipped = self.requested.saturating_sub(received);
        let counter = ctx.settings.token_count();
        let tokens: usize = samples.iter().map(|s| counter.count(&s.raw)).sum();
        Some(EarlyStopRecord {
            requested: self.requested,
            received,
            skipped,
            completion_tokens_saved_estimate: saved_estimate(tokens, received, skipped),
            winner: fired.winner,
            votes: fired.votes,
            runner_up_votes: fired.runner_up_votes,
        })
    }
}

fn votes_by_candidate(samples: &[RepairSample]) -> HashMap<u32, usize> {
    let mut votes = HashMap::new();
    for id in samples.iter().filter_map(|s| s.candidate) {
        *votes.entry(id).or_insert(0) += 1;
    }
    votes
}

/// `skipped` samples at the mean length of the `received` ones, rounded to the nearest token.
fn saved_estimate(tokens: usize, received: usize, skipped: usize) -> u64 {
    if received == 0 {
        return 0;
    }
    ((tokens as f64 / received as f64) * skipped as f64).round() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_says_the_scores_are_over_the_samples_that_came() {
        let record = EarlyStopRecord {
            requested: 30,
            received: 19,
            skipped: 11,
            completion_tokens_saved_estimate: 399,
            winner: 1,
            votes: 16,
            runner_up_votes: 3,
        };
        assert_eq!(
            record.summary(),
            "stopped early after 19 of 30 samples: the other 11 could not change the winner; scores are over the samples that came (about 399 completion tokens saved, an estimate)"
        );
    }

    #[test]
    fn the_saving_is_the_mean_sample_times_the_samples_skipped() {
        assert_eq!(saved_estimate(300, 3, 5), 500);
        assert_eq!(saved_estimate(10, 3, 1), 3);
        assert_eq!(saved_estimate(0, 0, 4), 0);
    }
}
