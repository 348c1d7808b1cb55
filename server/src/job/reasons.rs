//! Why a candidate lost or was dropped, derived once from the selection and verification data;
//! `--json`, the CLI's table and the editor's hover all show these.

use serde::{Deserialize, Serialize};

use super::verify::{CandidateRun, VerificationReport};
use crate::engine::selection::RankedCandidate;
use crate::verify::reproduction::ScriptVerdict;

/// Broken tests named in a reason; the count is always complete.
const TESTS_SHOWN: usize = 3;

/// One reason; a candidate that lost has one or more, the winner none.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Reason {
    /// It breaks more regression tests than the winner: `count` of them, the first few named.
    BreaksTests {
        count: u32,
        tests: Vec<String>,
    },
    /// The reproduction test still prints "Issue reproduced" with it, and the winner passes.
    StillReproduced,
    /// The reproduction test printed neither verdict clearly with it (or crashed).
    ReproductionUnclear,
    /// Verification was off (`--sandbox none` or no test command).
    NeverVerified,
    /// The sandbox could not carry out its run.
    VerificationFailed {
        error: String,
    },
    /// Verification ran, but not for this candidate (the job ended first).
    NotTested,
    /// Left out by the filters for a reason the data above does not show (the reference's
    /// `selection.compat` reading of the regression filter).
    FilteredOut,
    FewerVotes {
        votes: usize,
        winner_votes: usize,
    },
    SameVotesLowerSimilarity {
        similarity: f64,
        winner_similarity: f64,
    },
    /// More votes, yet no higher score (ties go to the higher similarity): its similarity is
    /// that much lower.
    LowerScore {
        score: f64,
        winner_score: f64,
    },
    /// Same score and similarity: the winner's first sample came earlier.
    LaterSample {
        first_sample: usize,
        winner_first_sample: usize,
    },
}

impl Reason {
    pub fn describe(&self) -> String {
        match self {
            Reason::BreaksTests { count, tests } => {
                let more = (*count as usize).saturating_sub(tests.len());
                let mut text = format!("breaks {count} regression test(s)");
                if !tests.is_empty() {
                    text.push_str(&format!(": {}", tests.join(", ")));
                    if more > 0 {
                        text.push_str(&format!(" and {more} more"));
                    }
                }
                text
            }
            Reason::StillReproduced => "still prints Issue reproduced".to_owned(),
            Reason::ReproductionUnclear => {
                "the reproduction test prints no clear verdict with it (Other issues, or it failed)"
                    .to_owned()
            }
            Reason::NeverVerified => "never verified (sandbox none or no test command)".to_owned(),
            Reason::VerificationFailed { error } => format!("not verified: {error}"),
            Reason::NotTested => "not verified: the job ended before its tests ran".to_owned(),
            Reason::FilteredOut => "dropped by the regression filter".to_owned(),
            Reason::FewerVotes {
                votes,
                winner_votes,
            } => format!("fewer votes than the winner ({votes} vs {winner_votes})"),
            Reason::SameVotesLowerSimilarity {
                similarity,
                winner_similarity,
            } => {
                format!("same votes, lower similarity ({similarity:.4} vs {winner_similarity:.4})")
            }
            Reason::LowerScore {
                score,
                winner_score,
            } => {
                format!("more votes, but its lower similarity leaves it behind (score {score:.4} vs {winner_score:.4})")
            }
            Reason::LaterSample {
                first_sample,
                winner_first_sample,
            } => format!(
                "same score, first seen later (sample {first_sample} vs {winner_first_sample})"
            ),
        }
    }
}

/// The reasons one text line: `; `-separated.
pub fn describe_all(reasons: &[Reason]) -> String {
    reasons
        .iter()
        .map(Reason::describe)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Why `candidate` (id `id`) is not the winner; empty for the winner itself. Checks that ran and
/// went against it come first, then how it compared with the winner in the vote when it was
/// still in the running.
pub fn why_not_chosen(
    id: u32,
    candidate: &RankedCandidate,
    winner: Option<&RankedCandidate>,
    verification: Option<&VerificationReport>,
) -> Vec<Reason> {
    if candidate.selected {
        return Vec::new();
    }
    let mut reasons = verification_reasons(id, winner, verification);
    match winner {
        Some(winner) if !candidate.filtered_out => reasons.push(vote_reason(candidate, winner)),
        _ if candidate.filtered_out && !reasons.iter().any(Reason::drops) => {
            reasons.push(Reason::FilteredOut)
        }
        _ => {}
    }
    reasons
}

impl Reason {
    /// Whether this reason is one the filters drop a candidate for.
    fn drops(&self) -> bool {
        matches!(
            self,
            Reason::BreaksTests { .. }
                | Reason::StillReproduced
                | Reason::ReproductionUnclear
                | Reason::VerificationFailed { .. }
                | Reason::NotTested
        )
    }
}

fn verification_reasons(
    id: u32,
    winner: Option<&RankedCandidate>,
    verification: Option<&VerificationReport>,
) -> Vec<Reason> {
    let Some(verification) = verification else {
        return vec![Reason::NeverVerified];
    };
    let tests = match verification.candidates.get(&id) {
        None => return vec![Reason::NotTested],
        Some(CandidateRun::Failed { error }) => {
            return vec![Reason::VerificationFailed {
                error: error.clone(),
            }]
        }
        Some(CandidateRun::Tested(tests)) => tests,
    };
    let mut reasons = Vec::new();
    let winner_failures = winner.and_then(|w| w.regression_failures).unwrap_or(0);
    if let Some(count) = tests.regression_failures.filter(|n| *n > winner_failures) {
        reasons.push(Reason::BreaksTests {
            count,
            tests: tests.broken.iter().take(TESTS_SHOWN).cloned().collect(),
        });
    }
    // Failing the reproduction test only counts against a candidate when the winner passes it;
    // otherwise the filter fell back and it was no reason.
    if winner.and_then(|w| w.reproduction_passed) == Some(true) {
        match tests.reproduction {
            Some(ScriptVerdict::Reproduced) => reasons.push(Reason::StillReproduced),
            Some(ScriptVerdict::Other) => reasons.push(Reason::ReproductionUnclear),
            Some(ScriptVerdict::Resolved) | None => {}
        }
    }
    reasons
}

fn vote_reason(candidate: &RankedCandidate, winner: &RankedCandidate) -> Reason {
    if candidate.votes < winner.votes {
        Reason::FewerVotes {
            votes: candidate.votes,
            winner_votes: winner.votes,
        }
    } else if candidate.votes == winner.votes && candidate.similarity < winner.similarity {
        Reason::SameVotesLowerSimilarity {
            similarity: candidate.similarity,
            winner_similarity: winner.similarity,
        }
    } else if candidate.votes > winner.votes {
        Reason::LowerScore {
            score: candidate.score,
            winner_score: winner.score,
        }
    } else {
        Reason::LaterSample {
            first_sample: candidate
                .sample_indices
                .first()
                .copied()
                .unwrap_or_default(),
            winner_first_sample: winner.sample_indices.first().copied().unwrap_or_default(),
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use serde_json::json;

    /// A verification report with `runs` by candidate id, as `--json` prints them.
    pub(in crate::job) fn verification(
        runs: serde_json::Value,
        chosen_script: Option<&str>,
        baseline_error: Option<&str>,
    ) -> VerificationReport {
        serde_json::from_value(json!({
            "sandbox": "local", "image": null, "test_command": "python3 -m pytest",
            "baseline": {"exit_code": 1, "timed_out": false, "passed": 9, "failed": 0,
                         "duration": 0.1, "output_truncated": false, "output_tail": "",
                         "error": baseline_error},
            "reproduction": {"generated": 4, "baseline_verdicts": [], "chosen_index": null,
                             "chosen_script": chosen_script, "note": "no script reproduced the issue"},
            "candidates": runs,
            "seconds": 1.0,
        }))
        .unwrap()
    }

    pub(in crate::job) fn tested(
        failures: u32,
        broken: &[&str],
        reproduction: &str,
    ) -> serde_json::Value {
        json!({"regression_failures": failures, "broken": broken, "timed_out": false,
               "reproduction": reproduction, "duration": 0.5, "output_truncated": false})
    }

    pub(in crate::job) fn ranked(
        votes: usize,
        similarity: f64,
        first: usize,
        verdict: (Option<u32>, Option<bool>),
        filtered_out: bool,
        selected: bool,
    ) -> RankedCandidate {
        RankedCandidate {
            key: format!("key {first}"),
            sample_indices: (first..first + votes).collect(),
            votes,
            similarity,
            score: votes as f64 + similarity,
            regression_failures: verdict.0,
            reproduction_passed: verdict.1,
            filtered_out,
            selected,
        }
    }

    const CLEAN_PASS: (Option<u32>, Option<bool>) = (Some(0), Some(true));

    #[test]
    fn the_winner_has_no_reason() {
        let winner = ranked(3, 0.9, 0, CLEAN_PASS, false, true);
        let report = verification(json!({"1": tested(0, &[], "resolved")}), Some("s"), None);
        assert_eq!(why_not_chosen(1, &winner, Some(&winner), Some(&report)), []);
    }

    #[test]
    fn a_candidate_breaking_tests_names_three_and_counts_all() {
        let winner = ranked(1, 0.9, 0, CLEAN_PASS, false, true);
        let loser = ranked(3, 1.0, 1, (Some(5), Some(true)), true, false);
        let broken = ["t::a", "t::b", "t::c", "t::d", "t::e"];
        let report = verification(
            json!({"1": tested(0, &[], "resolved"), "2": tested(5, &broken, "resolved")}),
            Some("s"),
            None,
        );
        let reasons = why_not_chosen(2, &loser, Some(&winner), Some(&report));
        assert_eq!(
            reasons,
            [Reason::BreaksTests {
                count: 5,
                tests: vec!["t::a".into(), "t::b".into(), "t::c".into()]
            }]
        );
        assert_eq!(
            describe_all(&reasons),
            "breaks 5 regression test(s): t::a, t::b, t::c and 2 more"
        );
    }

    #[test]
    fn failing_the_reproduction_test_counts_only_when_the_winner_passes_it() {
        let winner = ranked(1, 0.9, 0, CLEAN_PASS, false, true);
        let reproduced = ranked(2, 1.0, 1, (Some(0), Some(false)), true, false);
        let unclear = ranked(2, 1.0, 3, (Some(0), Some(false)), true, false);
        let report = verification(
            json!({"1": tested(0, &[], "resolved"), "2": tested(0, &[], "reproduced"),
                   "3": tested(0, &[], "other")}),
            Some("s"),
            None,
        );
        let still = why_not_chosen(2, &reproduced, Some(&winner), Some(&report));
        assert_eq!(still, [Reason::StillReproduced]);
        assert_eq!(describe_all(&still), "still prints Issue reproduced");
        assert_eq!(
            why_not_chosen(3, &unclear, Some(&winner), Some(&report)),
            [Reason::ReproductionUnclear]
        );
        // No candidate passes: the filter fell back to the votes, and they decided.
        let winner = ranked(3, 0.9, 0, (Some(0), Some(false)), false, true);
        let reproduced = ranked(2, 1.0, 3, (Some(0), Some(false)), false, false);
        assert_eq!(
            why_not_chosen(2, &reproduced, Some(&winner), Some(&report)),
            [Reason::FewerVotes {
                votes: 2,
                winner_votes: 3
            }]
        );
    }

    #[test]
    fn without_verification_every_loser_was_never_verified_and_lost_the_vote() {
        let winner = ranked(3, 0.9, 0, (None, None), false, true);
        let loser = ranked(2, 1.0, 3, (None, None), false, false);
        let reasons = why_not_chosen(2, &loser, Some(&winner), None);
        assert_eq!(
            describe_all(&reasons),
            "never verified (sandbox none or no test command); fewer votes than the winner (2 vs 3)"
        );
    }

    #[test]
    fn the_vote_reasons_follow_the_order_selection_breaks_ties() {
        let winner = ranked(3, 0.9, 0, (None, None), false, true);
        let reason =
            |loser: RankedCandidate| why_not_chosen(2, &loser, Some(&winner), None)[1].clone();
        assert_eq!(
            reason(ranked(3, 0.8, 5, (None, None), false, false)),
            Reason::SameVotesLowerSimilarity {
                similarity: 0.8,
                winner_similarity: 0.9
            }
        );
        assert_eq!(
            describe_all(&[reason(ranked(3, 0.8, 5, (None, None), false, false))]),
            "same votes, lower similarity (0.8000 vs 0.9000)"
        );
        // More votes can lose only on a tied score (4 + 0.0 against 3 + 1.0), by similarity.
        let close = ranked(3, 1.0, 0, (None, None), false, true);
        let more = ranked(4, 0.0, 5, (None, None), false, false);
        assert_eq!(
            describe_all(&why_not_chosen(2, &more, Some(&close), None)[1..]),
            "more votes, but its lower similarity leaves it behind (score 4.0000 vs 4.0000)"
        );
        assert_eq!(
            reason(ranked(3, 0.9, 5, (None, None), false, false)),
            Reason::LaterSample {
                first_sample: 5,
                winner_first_sample: 0
            }
        );
    }

    #[test]
    fn runs_that_failed_or_never_came_and_unexplained_filtering_are_said() {
        let winner = ranked(1, 0.9, 0, CLEAN_PASS, false, true);
        let loser = ranked(2, 1.0, 1, (None, None), true, false);
        let report = verification(
            json!({"1": tested(0, &[], "resolved"), "2": {"error": "failed to run in the sandbox: disk full"}}),
            Some("s"),
            None,
        );
        let failed = why_not_chosen(2, &loser, Some(&winner), Some(&report));
        assert_eq!(
            describe_all(&failed),
            "not verified: failed to run in the sandbox: disk full"
        );
        assert_eq!(
            why_not_chosen(3, &loser, Some(&winner), Some(&report)),
            [Reason::NotTested]
        );
        // Clean and passing, yet filtered out (the reference's reading of the filter).
        let report = verification(
            json!({"1": tested(0, &[], "resolved"), "2": tested(0, &[], "resolved")}),
            Some("s"),
            None,
        );
        let clean = ranked(2, 1.0, 1, CLEAN_PASS, true, false);
        assert_eq!(
            why_not_chosen(2, &clean, Some(&winner), Some(&report)),
            [Reason::FilteredOut]
        );
    }

    #[test]
    fn reasons_print_with_their_kind_and_data() {
        let reasons = vec![
            Reason::BreaksTests {
                count: 1,
                tests: vec!["t::a".into()],
            },
            Reason::StillReproduced,
            Reason::FewerVotes {
                votes: 2,
                winner_votes: 3,
            },
        ];
        let value = serde_json::to_value(&reasons).unwrap();
        assert_eq!(
            value,
            json!([{"kind": "breaks-tests", "count": 1, "tests": ["t::a"]},
                   {"kind": "still-reproduced"},
                   {"kind": "fewer-votes", "votes": 2, "winner_votes": 3}])
        );
        assert_eq!(
            serde_json::from_value::<Vec<Reason>>(value).unwrap(),
            reasons
        );
    }
}
