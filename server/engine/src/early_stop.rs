//! Exact early stop: when the samples still to come can no longer change which candidate
//! [`select`](super::selection::select) picks, the rest of them need not be generated.

use super::selection::Verdict;

/// One unique candidate as it stands while samples still arrive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    /// Samples so far with this candidate's key.
    pub votes: usize,
    /// Its verification so far; `Verdict::default()` while it is untested.
    pub verdict: Verdict,
}

/// The index into `standings` of the candidate that wins whatever the `remaining` samples turn
/// out to be and whatever the untested candidates' verdicts will be, or `None` while that is not
/// certain. `reproduction_valid`: a reproduction test was chosen, so a candidate can pass it.
///
/// Why this is exact (DESIGN 3.5). Let L be the leader with `v` votes and `w` the most votes any
/// other candidate holds (0 when there is none).
/// - L stays in the filtered set. It breaks no regression test, and no count is below 0, so the
///   regression filter keeps it (in both compat modes: the `sweswiss` floor is 0 too). With a
///   valid reproduction test L passes it, so the reproduction filter is not empty and keeps L;
///   without one no candidate can pass, the filter falls back to the regression set, and keeps L.
/// - Nobody can outscore L. L ends with `v` votes or more, so its score is at least `v`
///   (similarity is at least 0). Any other candidate, an untested or filtered one included, ends
///   with at most `w + remaining` votes, and a key not seen yet with at most `remaining`; its
///   similarity is at most 1, so its score is at most `w + remaining + 1`. A lead
///   `v > w + remaining + 1` makes L's score strictly higher, so neither the similarity
///   tie-break nor the sample order is ever reached. (L's similarity is above 0, so a lead of
///   `remaining + 1` would already do in exact arithmetic; the extra vote keeps the argument free
///   of floating-point rounding, `v` and `w + remaining + 1` being whole numbers.)
/// - The ranking over the samples that came is the same argument with `remaining = 0`.
///
/// So the winner of the samples that came is the winner of the full run, for every way the rest
/// could have turned out; only the scores differ, being over fewer samples.
pub fn certain_winner(
    standings: &[Standing],
    remaining: usize,
    reproduction_valid: bool,
) -> Option<usize> {
    let leader = (0..standings.len()).max_by_key(|&i| (standings[i].votes, usize::MAX - i))?;
    let runner_up = standings
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != leader)
        .map(|(_, s)| s.votes)
        .max()
        .unwrap_or(0);
    let Standing { votes, verdict } = standings[leader];
    let clean = verdict.regression_failures == Some(0);
    let reproduces = !reproduction_valid || verdict.reproduction_passed == Some(true);
    let lead = votes > runner_up + remaining + 1;
    (clean && reproduces && lead).then_some(leader)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(votes: usize, failures: Option<u32>, passed: Option<bool>) -> Standing {
        Standing {
            votes,
            verdict: Verdict {
                regression_failures: failures,
                reproduction_passed: passed,
            },
        }
    }

    #[test]
    fn the_lead_must_pass_the_remaining_samples_plus_one() {
        let runner_up = at(2, None, None);
        // 2 + 3 + 1 = 6: a leader with 6 could still be tied on votes and lose on similarity.
        let tied = [at(6, Some(0), Some(true)), runner_up];
        assert_eq!(certain_winner(&tied, 3, true), None);
        let clear = [at(7, Some(0), Some(true)), runner_up];
        assert_eq!(certain_winner(&clear, 3, true), Some(0));
        // No sample left: a lead of two votes settles it, one does not.
        assert_eq!(
            certain_winner(&[runner_up, at(4, Some(0), Some(true))], 0, true),
            Some(1)
        );
        assert_eq!(
            certain_winner(&[runner_up, at(3, Some(0), Some(true))], 0, true),
            None
        );
    }

    #[test]
    fn a_lone_candidate_still_faces_a_key_not_seen_yet() {
        // Every remaining sample could bring one new key: 5 > 0 + 3 + 1 but 4 is not.
        assert_eq!(certain_winner(&[at(5, Some(0), None)], 3, false), Some(0));
        assert_eq!(certain_winner(&[at(4, Some(0), None)], 3, false), None);
        assert_eq!(certain_winner(&[], 0, false), None);
    }

    #[test]
    fn the_leader_must_be_verified_clean_and_pass_a_valid_reproduction_test() {
        let others = at(1, None, None);
        for (leader, valid, stops) in [
            (at(9, Some(0), Some(true)), true, true),
            (at(9, Some(0), None), false, true),
            (at(9, Some(0), None), true, false),
            (at(9, Some(0), Some(false)), true, false),
            (at(9, Some(1), Some(true)), true, false),
            (at(9, None, None), false, false),
        ] {
            assert_eq!(
                certain_winner(&[others, leader], 2, valid),
                stops.then_some(1),
                "{leader:?}, reproduction valid: {valid}"
            );
        }
    }

    #[test]
    fn an_untested_runner_up_counts_with_all_its_votes() {
        // A candidate not verified yet could still turn out clean: its votes count in full.
        let leader = at(8, Some(0), Some(true));
        assert_eq!(certain_winner(&[leader, at(5, None, None)], 2, true), None);
        assert_eq!(
            certain_winner(&[leader, at(5, None, None)], 1, true),
            Some(0)
        );
    }

    mod property {
        use proptest::prelude::*;

        use super::super::*;
        use crate::selection::{select, Compat, SelectionConfig};

        /// Keys close enough that similarity differs between them; "" is an invalid sample.
        const KEYS: [&str; 5] = ["-a\n+b", "-a\n+c", "-a\n+bb", "-x\n+y", ""];

        /// A job: each sample's key (mostly the first: a majority to stop on), the order the
        /// samples arrive in, each key's verdict, and which verdicts are in when each sample
        /// arrives (a candidate's test run may finish at any time after it is found).
        #[derive(Debug, Clone)]
        struct Job {
            keys: Vec<usize>,
            arrival: Vec<usize>,
            verdicts: [Verdict; 5],
            tested_after: [usize; 5],
            reproduction_valid: bool,
            compat: Compat,
        }

        fn verdict(valid: bool) -> impl Strategy<Value = Verdict> {
            (
                prop::option::weighted(0.9, prop_oneof![3 => Just(0u32), 1 => 1..3u32]),
                prop::option::of(prop::bool::weighted(0.8)),
            )
                .prop_map(move |(failures, passed)| Verdict {
                    regression_failures: failures,
                    reproduction_passed: passed.filter(|_| valid),
                })
        }

        fn job() -> impl Strategy<Value = Job> {
            let keys = prop::collection::vec(prop_oneof![6 => Just(0usize), 4 => 0..5usize], 1..30);
            (keys, any::<bool>(), any::<bool>())
                .prop_flat_map(|(keys, valid, swiss)| {
                    let n = keys.len();
                    let arrival = Just((0..n).collect::<Vec<_>>()).prop_shuffle();
                    let verdicts = [
                        verdict(valid),
                        verdict(valid),
                        verdict(valid),
                        verdict(valid),
                        verdict(valid),
                    ];
                    let tested_after = [0..=n, 0..=n, 0..=n, 0..=n, 0..=n];
                    (
                        Just(keys),
                        arrival,
                        verdicts,
                        tested_after,
                        Just(valid),
                        Just(swiss),
                    )
                })
                .prop_map(
                    |(keys, arrival, verdicts, tested_after, valid, swiss)| Job {
                        keys,
                        arrival,
                        verdicts,
                        tested_after,
                        reproduction_valid: valid,
                        compat: if swiss {
                            Compat::Swiss
                        } else {
                            Compat::SweSwiss
                        },
                    },
                )
        }

        fn winner(
            keys: &[&str],
            verdict: &dyn Fn(&str) -> Verdict,
            compat: Compat,
        ) -> Option<String> {
            let ranking = select(keys, verdict, &SelectionConfig { compat });
            ranking.winning_candidate().map(|c| c.key.clone())
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(2000))]

            /// Wherever the stop fires, selection over the samples that came picks the full
            /// run's winner, whether the candidates still untested then stay untested (their
            /// runs cancelled) or finish.
            #[test]
            fn the_early_winner_is_the_full_runs(job in job()) {
                let n = job.keys.len();
                let slot = |key: &str| KEYS.iter().position(|k| *k == key).unwrap_or(4);
                let full = |key: &str| job.verdicts[slot(key)];
                let all: Vec<&str> = job.keys.iter().map(|&k| KEYS[k]).collect();
                let expected = winner(&all, &full, job.compat);
                for came in 1..=n {
                    let mut arrived: Vec<usize> = job.arrival[..came].to_vec();
                    arrived.sort_unstable();
                    let known = |key: &str| {
                        let s = slot(key);
                        if job.tested_after[s] < came { job.verdicts[s] } else { Verdict::default() }
                    };
                    let standings: Vec<Standing> = (0..4)
                        .map(|k| Standing {
                            votes: arrived.iter().filter(|&&i| job.keys[i] == k).count(),
                            verdict: known(KEYS[k]),
                        })
                        .filter(|s| s.votes > 0)
                        .collect();
                    if certain_winner(&standings, n - came, job.reproduction_valid).is_none() {
                        continue;
                    }
                    let keys: Vec<&str> = arrived.iter().map(|&i| KEYS[job.keys[i]]).collect();
                    prop_assert_eq!(&winner(&keys, &known, job.compat), &expected);
                    prop_assert_eq!(&winner(&keys, &full, job.compat), &expected);
                    break;
                }
            }
        }
    }
}
