//! Enhanced self-consistency: the choice of one patch among N samples (DESIGN 3.5).
//!
//! Plain data in, plain data out: the caller hands over every sample's normalized key in sample
//! order and a way to look up the verification results of a key; [`select`] returns every unique
//! candidate with the numbers that decided the outcome, so a user can see why the winner won.

use std::cmp::Ordering;
use std::collections::HashMap;

use serde::{Deserialize, Serialize, Serializer};

use super::similarity::ratio;

/// The failure count given to a candidate whose regression tests did not run, so that any
/// candidate with a real count is preferred to it (SWE-Swiss uses the same sentinel).
pub const UNKNOWN_REGRESSION_FAILURES: u32 = 10_000;

/// What verification found for one unique key. `None` means that check did not run for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Verdict {
    /// Tests of the regression set (those passing on the unpatched snapshot) that fail with the
    /// candidate applied.
    pub regression_failures: Option<u32>,
    /// Whether the reproduction script printed `Issue resolved` with the candidate applied.
    pub reproduction_passed: Option<bool>,
}

/// One unique non-empty key and everything that went into its score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RankedCandidate {
    /// The normalized key (DESIGN 3.3).
    pub key: String,
    /// The samples that produced this key, in sample order; the first is the candidate's
    /// position for tie-breaking.
    pub sample_indices: Vec<usize>,
    /// Number of samples with this key. The filters keep or drop whole keys, so this is also the
    /// vote count inside the filtered set; a filtered-out candidate reports the same number (the
    /// votes it would have had) so the user can compare it with the winner.
    pub votes: usize,
    /// Mean of the top `max(1, floor(N/2))` ratios between this key and every sample's key.
    pub similarity: f64,
    /// `votes + similarity`.
    pub score: f64,
    pub regression_failures: Option<u32>,
    /// Serialized as `reproduced`, seen from the issue (DESIGN 3.5): `false` when the test passes
    /// with this candidate, `true` when it ran and did not, `null` when it did not run.
    #[serde(
        rename = "reproduced",
        serialize_with = "serialize_reproduced",
        deserialize_with = "deserialize_reproduced"
    )]
    pub reproduction_passed: Option<bool>,
    /// Dropped by the regression or reproduction filter; such a candidate cannot win.
    pub filtered_out: bool,
    pub selected: bool,
}

/// Which reading of the regression filter [`select`] follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Compat {
    /// DESIGN 3.5: the fewest regression failures among the candidates.
    #[default]
    Swiss,
    /// SWE-Swiss's `rerank.py` (`evaluation/agentless/repair/rerank.py`, `majority_voting`):
    /// `min_tests` is taken over every sample, and a sample without a patch has no regression
    /// result there, which counts as 0 failures. So when one sample is invalid, only candidates
    /// that break nothing pass the filter; when none does, the filter keeps nobody and the
    /// choice falls back to all candidates, the reproduction test included in the fall.
    SweSwiss,
}

impl Compat {
    pub fn parse(text: &str) -> Option<Compat> {
        match text {
            "swiss" => Some(Compat::Swiss),
            "sweswiss" => Some(Compat::SweSwiss),
            _ => None,
        }
    }
}

/// How [`select`] chooses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SelectionConfig {
    pub compat: Compat,
}

/// The outcome of [`select`].
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Ranking {
    /// Unique non-empty keys in order of first appearance.
    pub candidates: Vec<RankedCandidate>,
    /// Index into `candidates`; `None` when no sample produced a valid patch.
    pub winner: Option<usize>,
}

impl Ranking {
    pub fn winning_candidate(&self) -> Option<&RankedCandidate> {
        self.winner.map(|index| &self.candidates[index])
    }
}

fn serialize_reproduced<S: Serializer>(
    passed: &Option<bool>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    passed.map(|passed| !passed).serialize(serializer)
}

/// The inverse of [`serialize_reproduced`], so a kept record reads back as it was.
fn deserialize_reproduced<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<bool>, D::Error> {
    Ok(Option::<bool>::deserialize(deserializer)?.map(|reproduced| !reproduced))
}

/// Ranks the samples of one job.
///
/// `sample_keys` holds the normalized key of every one of the N samples in sample order,
/// duplicates kept, with `""` for a sample that gave no valid patch. `verdict` is asked once per
/// unique non-empty key.
///
/// The similarity of a candidate averages its `floor(N/2)` best ratios against all N keys,
/// itself and the empty keys included; with N = 1 that would be an empty mean, so at least one
/// value is taken (the candidate against itself, 1.0).
///
/// With [`Compat::SweSwiss`], an empty key counts as a sample with 0 regression failures once
/// any candidate has a regression result (a job whose regression tests never ran is the
/// reference run without `--regression`, where every sample counts 0 alike).
pub fn select<K: AsRef<str>>(
    sample_keys: &[K],
    verdict: &dyn Fn(&str) -> Verdict,
    config: &SelectionConfig,
) -> Ranking {
    let n = sample_keys.len();
    if n == 0 {
        return Ranking::default();
    }
    let unique = unique_keys(sample_keys);
    let keys: Vec<&str> = unique.iter().map(|(key, _)| *key).collect();
    let ratios = ratio_matrix(&keys);
    let counts: Vec<usize> = unique.iter().map(|(_, indices)| indices.len()).collect();
    let top = (n / 2).max(1);
    let mut candidates: Vec<RankedCandidate> = Vec::new();
    for (slot, (key, indices)) in unique.iter().enumerate() {
        if key.is_empty() {
            continue;
        }
        let u = unique.len();
        let similarity = top_mean(&ratios[slot * u..(slot + 1) * u], &counts, top);
        let votes = indices.len();
        let found = verdict(key);
        candidates.push(RankedCandidate {
            key: (*key).to_owned(),
            sample_indices: indices.clone(),
            votes,
            similarity,
            score: votes as f64 + similarity,
            regression_failures: found.regression_failures,
            reproduction_passed: found.reproduction_passed,
            filtered_out: false,
            selected: false,
        });
    }

    let regression_ran = candidates.iter().any(|c| c.regression_failures.is_some());
    let floor = match config.compat {
        Compat::SweSwiss if regression_ran && keys.contains(&"") => Some(0),
        _ => None,
    };
    let kept = filtered(&candidates, floor);
    for (index, candidate) in candidates.iter_mut().enumerate() {
        candidate.filtered_out = !kept.contains(&index);
    }
    let winner = best(&candidates, &kept);
    if let Some(index) = winner {
        candidates[index].selected = true;
    }
    Ranking { candidates, winner }
}

/// Each distinct key with the indices of its samples, in order of first appearance; the empty
/// key is one of them: it takes part in every candidate's similarity.
fn unique_keys<K: AsRef<str>>(sample_keys: &[K]) -> Vec<(&str, Vec<usize>)> {
    let mut unique: Vec<(&str, Vec<usize>)> = Vec::new();
    let mut slot_of: HashMap<&str, usize> = HashMap::new();
    for (index, key) in sample_keys.iter().enumerate() {
        let key = key.as_ref();
        let slot = *slot_of.entry(key).or_insert_with(|| {
            unique.push((key, Vec::new()));
            unique.len() - 1
        });
        unique[slot].1.push(index);
    }
    unique
}

/// The mean of the `top` largest of a candidate's ratios against every sample, where
/// `ratios[other]` stands for `counts[other]` samples.
fn top_mean(ratios: &[f64], counts: &[usize], top: usize) -> f64 {
    let mut row: Vec<(f64, usize)> = ratios.iter().copied().zip(counts.iter().copied()).collect();
    row.sort_by(|x, y| y.0.total_cmp(&x.0));
    // One addition per sample, largest first, so the sum is bit-for-bit the one a plain
    // loop over all N samples would give.
    let mut sum = 0.0;
    let mut taken = 0;
    'rows: for &(value, count) in &row {
        for _ in 0..count {
            if taken == top {
                break 'rows;
            }
            sum += value;
            taken += 1;
        }
    }
    sum / top as f64
}

/// The kept candidate with the highest (score, similarity). Candidates are in order of first
/// appearance, so keeping the earlier one on a tie is the `-first_index` component of the argmax.
fn best(candidates: &[RankedCandidate], kept: &[usize]) -> Option<usize> {
    let mut winner: Option<usize> = None;
    for &index in kept {
        let better = match winner {
            None => true,
            Some(best) => {
                let (c, b) = (&candidates[index], &candidates[best]);
                c.score
                    .total_cmp(&b.score)
                    .then(c.similarity.total_cmp(&b.similarity))
                    == Ordering::Greater
            }
        };
        if better {
            winner = Some(index);
        }
    }
    winner
}

/// Pairs below this many are not worth a thread.
const PARALLEL_PAIRS: usize = 256;

/// `ratio` between every two keys, row-major `u × u`. Each pair is independent, so the pairs are
/// spread over the machine's cores: 640 mostly unique 4 KB keys are ~200k pairs of ~100 µs each.
/// The values are the same however they are split, so the ranking does not depend on the machine.
fn ratio_matrix(keys: &[&str]) -> Vec<f64> {
    let u = keys.len();
    let pairs: Vec<(usize, usize)> = (0..u)
        .flat_map(|a| (a + 1..u).map(move |b| (a, b)))
        .filter(|&(a, b)| !(keys[a].is_empty() && keys[b].is_empty()))
        .collect();
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(pairs.len() / PARALLEL_PAIRS)
        .max(1);
    let values: Vec<f64> = if threads == 1 {
        pairs
            .iter()
            .map(|&(a, b)| ratio(keys[a], keys[b]))
            .collect()
    } else {
        let chunk = pairs.len().div_ceil(threads);
        std::thread::scope(|scope| {
            let workers: Vec<_> = pairs
                .chunks(chunk)
                .map(|part| {
                    scope.spawn(move || {
                        part.iter()
                            .map(|&(a, b)| ratio(keys[a], keys[b]))
                            .collect::<Vec<f64>>()
                    })
                })
                .collect();
            workers
                .into_iter()
                .flat_map(|worker| {
                    worker
                        .join()
                        .unwrap_or_else(|e| std::panic::resume_unwind(e))
                })
                .collect()
        })
    };
    let mut matrix = vec![0.0_f64; u * u];
    for a in 0..u {
        matrix[a * u + a] = 1.0;
    }
    for (&(a, b), r) in pairs.iter().zip(values) {
        matrix[a * u + b] = r;
        matrix[b * u + a] = r;
    }
    matrix
}

/// Indices of the candidates that survive the regression filter and then the reproduction
/// filter, each step falling back to its input when it would keep nothing.
///
/// `floor`: a failure count that samples other than the candidates hold, taken into the
/// minimum ([`Compat::SweSwiss`]).
fn filtered(candidates: &[RankedCandidate], floor: Option<u32>) -> Vec<usize> {
    let failures =
        |c: &RankedCandidate| c.regression_failures.unwrap_or(UNKNOWN_REGRESSION_FAILURES);
    let Some(fewest) = candidates.iter().map(failures).chain(floor).min() else {
        return Vec::new();
    };
    let regression: Vec<usize> = (0..candidates.len())
        .filter(|&i| failures(&candidates[i]) == fewest)
        .collect();
    let reproduction: Vec<usize> = regression
        .iter()
        .copied()
        .filter(|&i| candidates[i].reproduction_passed == Some(true))
        .collect();
    if !reproduction.is_empty() {
        reproduction
    } else if !regression.is_empty() {
        regression
    } else {
        // Among the candidates alone the minimum is always attained; a floor from invalid
        // samples ([`Compat::SweSwiss`]) can leave the filter empty, and then all compete.
        (0..candidates.len()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SWISS: SelectionConfig = SelectionConfig {
        compat: Compat::Swiss,
    };

    fn untested(_: &str) -> Verdict {
        Verdict::default()
    }

    fn verdicts<'a>(table: &'a [(&'a str, Verdict)]) -> impl Fn(&str) -> Verdict + 'a {
        move |key| {
            table
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| *v)
                .unwrap_or_default()
        }
    }

    fn failures(n: u32) -> Verdict {
        Verdict {
            regression_failures: Some(n),
            reproduction_passed: None,
        }
    }

    fn checked(n: u32, passed: bool) -> Verdict {
        Verdict {
            regression_failures: Some(n),
            reproduction_passed: Some(passed),
        }
    }

    fn winner_key(ranking: &Ranking) -> Option<&str> {
        ranking.winning_candidate().map(|c| c.key.as_str())
    }

    /// The specification read literally: one ratio per pair of samples, no deduplication.
    fn naive_similarity(keys: &[&str], i: usize) -> f64 {
        let mut values: Vec<f64> = keys.iter().map(|k| ratio(keys[i], k)).collect();
        values.sort_by(|a, b| b.total_cmp(a));
        let top = (keys.len() / 2).max(1);
        let mut sum = 0.0;
        for value in &values[..top] {
            sum += value;
        }
        sum / top as f64
    }

    #[test]
    fn majority_wins() {
        let keys = ["-a\n+b", "-a\n+c", "-a\n+b", "-x\n+y", "-a\n+b"];
        let ranking = select(&keys, &untested, &SWISS);
        assert_eq!(winner_key(&ranking), Some("-a\n+b"));
        assert_eq!(ranking.candidates[0].votes, 3);
        assert_eq!(ranking.candidates[0].sample_indices, vec![0, 2, 4]);
        assert!(ranking.candidates[0].selected);
        assert_eq!(ranking.candidates.iter().filter(|c| c.selected).count(), 1);
    }

    #[test]
    fn similarity_breaks_a_vote_tie() {
        // One vote each; the two near-identical fixes support each other, the outlier comes first
        // but stands alone.
        let keys = [
            "completely unrelated change",
            "return value + 1",
            "return value + 2",
            "",
        ];
        let ranking = select(&keys, &untested, &SWISS);
        assert!(ranking.candidates.iter().all(|c| c.votes == 1));
        assert!(ranking.candidates[1].similarity > ranking.candidates[0].similarity);
        // The two near twins tie exactly (ratio is symmetric); the earlier one wins.
        assert_eq!(
            ranking.candidates[1].similarity,
            ranking.candidates[2].similarity
        );
        assert_eq!(winner_key(&ranking), Some("return value + 1"));
    }

    #[test]
    fn first_index_breaks_a_full_tie() {
        let ranking = select(&["x = 1", "y = 2"], &untested, &SWISS);
        assert_eq!(ranking.candidates[0].score, ranking.candidates[1].score);
        assert_eq!(ranking.winner, Some(0));
        let ranking = select(&["y = 2", "x = 1"], &untested, &SWISS);
        assert_eq!(winner_key(&ranking), Some("y = 2"));
    }

    #[test]
    fn empty_keys_count_for_similarity_but_never_compete() {
        let keys = ["", "fix", "", "", "", ""];
        let ranking = select(&keys, &untested, &SWISS);
        assert_eq!(ranking.candidates.len(), 1);
        assert_eq!(ranking.candidates[0].sample_indices, vec![1]);
        // N = 6: the top 3 of [0, 1, 0, 0, 0, 0].
        assert_eq!(ranking.candidates[0].similarity, 1.0 / 3.0);
        assert_eq!(winner_key(&ranking), Some("fix"));

        let ranking = select(&["", "", ""], &untested, &SWISS);
        assert!(ranking.candidates.is_empty());
        assert_eq!(ranking.winner, None);
        assert_eq!(select::<&str>(&[], &untested, &SWISS), Ranking::default());
    }

    #[test]
    fn regression_filter_beats_the_majority() {
        let keys = ["popular", "popular", "popular", "correct"];
        let table = [("popular", failures(2)), ("correct", failures(0))];
        let ranking = select(&keys, &verdicts(&table), &SWISS);
        assert_eq!(winner_key(&ranking), Some("correct"));
        let popular = &ranking.candidates[0];
        assert!(popular.filtered_out);
        assert_eq!(
            popular.votes, 3,
            "a dropped candidate still reports its votes"
        );
        assert!(popular.score > ranking.candidates[1].score);
    }

    #[test]
    fn reproduction_filter_then_fallback() {
        let keys = ["a = 1", "a = 1", "b = 2", "c = 3"];
        let table = [
            ("a = 1", checked(0, false)),
            ("b = 2", checked(0, false)),
            ("c = 3", checked(0, true)),
        ];
        let ranking = select(&keys, &verdicts(&table), &SWISS);
        assert_eq!(winner_key(&ranking), Some("c = 3"));
        assert!(ranking.candidates[0].filtered_out);

        // Nobody passes: the regression-filtered set stands, and the majority takes it.
        let table = [
            ("a = 1", checked(0, false)),
            ("b = 2", checked(0, false)),
            ("c = 3", checked(0, false)),
        ];
        let ranking = select(&keys, &verdicts(&table), &SWISS);
        assert_eq!(winner_key(&ranking), Some("a = 1"));
        assert!(ranking.candidates.iter().all(|c| !c.filtered_out));

        // The regression filter comes first: a reproduction pass cannot rescue a regression.
        let table = [
            ("a = 1", checked(0, false)),
            ("b = 2", checked(1, true)),
            ("c = 3", checked(1, true)),
        ];
        let ranking = select(&keys, &verdicts(&table), &SWISS);
        assert_eq!(winner_key(&ranking), Some("a = 1"));
        assert!(ranking.candidates[1].filtered_out);
    }

    #[test]
    fn missing_regression_results_count_as_ten_thousand_failures() {
        let keys = ["untested", "untested", "untested", "tested"];
        let table = [("tested", failures(9_999))];
        let ranking = select(&keys, &verdicts(&table), &SWISS);
        assert_eq!(winner_key(&ranking), Some("tested"));

        let table = [("tested", failures(10_001))];
        let ranking = select(&keys, &verdicts(&table), &SWISS);
        assert_eq!(winner_key(&ranking), Some("untested"));

        let table = [("tested", failures(10_000))];
        let ranking = select(&keys, &verdicts(&table), &SWISS);
        assert!(ranking.candidates.iter().all(|c| !c.filtered_out));
        assert_eq!(winner_key(&ranking), Some("untested"));
    }

    const SWE_SWISS: SelectionConfig = SelectionConfig {
        compat: Compat::SweSwiss,
    };

    fn kept_keys(ranking: &Ranking) -> Vec<&str> {
        ranking
            .candidates
            .iter()
            .filter(|c| !c.filtered_out)
            .map(|c| c.key.as_str())
            .collect()
    }

    #[test]
    fn sweswiss_counts_an_invalid_sample_as_zero_failures() {
        // Every candidate breaks a test; one sample gave no patch.
        let keys = ["narrow", "", "popular", "popular", "popular"];
        let table = [("narrow", failures(1)), ("popular", failures(2))];

        // Swiss: the fewest failures among the candidates is 1, so `narrow` alone passes.
        let ranking = select(&keys, &verdicts(&table), &SWISS);
        assert_eq!(kept_keys(&ranking), ["narrow"]);
        assert_eq!(winner_key(&ranking), Some("narrow"));

        // SWE-Swiss: the invalid sample's 0 is the minimum, nobody reaches it, and the vote
        // falls back to all candidates, where the majority wins.
        let ranking = select(&keys, &verdicts(&table), &SWE_SWISS);
        assert_eq!(kept_keys(&ranking), ["narrow", "popular"]);
        assert_eq!(winner_key(&ranking), Some("popular"));
    }

    #[test]
    fn sweswiss_fallback_skips_the_reproduction_filter_too() {
        let keys = ["passes", "", "fails", "fails"];
        let table = [("passes", checked(1, true)), ("fails", checked(1, false))];
        let ranking = select(&keys, &verdicts(&table), &SWISS);
        assert_eq!(kept_keys(&ranking), ["passes"]);
        assert_eq!(winner_key(&ranking), Some("passes"));
        let ranking = select(&keys, &verdicts(&table), &SWE_SWISS);
        assert_eq!(kept_keys(&ranking), ["passes", "fails"]);
        assert_eq!(winner_key(&ranking), Some("fails"));
    }

    #[test]
    fn the_two_readings_agree_where_the_floor_changes_nothing() {
        type Case<'a> = (&'a [&'a str], &'a [(&'a str, Verdict)]);
        let cases: [Case<'_>; 4] = [
            // No invalid sample: no floor.
            (&["a", "b", "b"], &[("a", failures(1)), ("b", failures(2))]),
            // A candidate breaks nothing: it reaches the floor itself.
            (
                &["a", "", "b", "b"],
                &[("a", failures(0)), ("b", failures(2))],
            ),
            // No regression result at all: every sample counts alike, the reproduction test
            // still decides.
            (
                &["a", "", "b", "b"],
                &[
                    (
                        "a",
                        Verdict {
                            regression_failures: None,
                            reproduction_passed: Some(true),
                        },
                    ),
                    (
                        "b",
                        Verdict {
                            regression_failures: None,
                            reproduction_passed: Some(false),
                        },
                    ),
                ],
            ),
            // Only invalid samples besides one candidate.
            (&["", "a", ""], &[("a", failures(0))]),
        ];
        for (keys, table) in cases {
            let swiss = select(keys, &verdicts(table), &SWISS);
            let reference = select(keys, &verdicts(table), &SWE_SWISS);
            assert_eq!(swiss, reference, "{keys:?}");
        }
    }

    #[test]
    fn compat_names_parse() {
        assert_eq!(Compat::parse("swiss"), Some(Compat::Swiss));
        assert_eq!(Compat::parse("sweswiss"), Some(Compat::SweSwiss));
        assert_eq!(Compat::parse("SWE-Swiss"), None);
        assert_eq!(SelectionConfig::default().compat, Compat::Swiss);
    }

    #[test]
    fn single_sample() {
        let ranking = select(&["only"], &untested, &SWISS);
        assert_eq!(ranking.winner, Some(0));
        assert_eq!(ranking.candidates[0].similarity, 1.0);
        assert_eq!(ranking.candidates[0].score, 2.0);
    }

    #[test]
    fn hand_computed_example() {
        let keys = ["abcd", "abce", "", "abcd", "xyz"];
        // N = 5, so each similarity is the mean of the best 2 of 5 ratios.
        let near = ratio("abcd", "abce");
        assert_eq!(near, 0.75);
        assert_eq!(ratio("abcd", "xyz"), 0.0);
        assert_eq!(ratio("abce", "xyz"), 0.0);
        let sim_abcd = (1.0 + 1.0) / 2.0; // itself twice
        let sim_abce = (1.0 + near) / 2.0; // itself, then one copy of "abcd"
        let sim_xyz = (1.0 + 0.0) / 2.0; // itself, then nothing in common

        let ranking = select(&keys, &untested, &SWISS);
        let got: Vec<(&str, usize, f64, f64)> = ranking
            .candidates
            .iter()
            .map(|c| (c.key.as_str(), c.votes, c.similarity, c.score))
            .collect();
        assert_eq!(
            got,
            vec![
                ("abcd", 2, sim_abcd, 2.0 + sim_abcd),
                ("abce", 1, sim_abce, 1.0 + sim_abce),
                ("xyz", 1, sim_xyz, 1.0 + sim_xyz),
            ]
        );
        assert_eq!(winner_key(&ranking), Some("abcd"));

        // Drop the majority: similarity still counts it, and lifts its near twin over the outlier.
        let table = [
            ("abcd", failures(1)),
            ("abce", failures(0)),
            ("xyz", failures(0)),
        ];
        let ranking = select(&keys, &verdicts(&table), &SWISS);
        assert_eq!(ranking.candidates[1].similarity, sim_abce);
        assert_eq!(winner_key(&ranking), Some("abce"));
    }

    #[test]
    fn deduplicated_similarity_matches_the_pairwise_definition() {
        let pool = [
            "",
            "def f(x):\n    return x + 1",
            "def f(x):\n    return x + 2",
            "def f(y):\n    return y + 1",
            "class A:\n    pass",
            "λ = 1",
        ];
        let mut state: u32 = 12_345;
        for n in [1, 2, 3, 7, 16, 41] {
            let keys: Vec<&str> = (0..n)
                .map(|_| {
                    state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                    pool[(state >> 16) as usize % pool.len()]
                })
                .collect();
            let ranking = select(&keys, &untested, &SWISS);
            for candidate in &ranking.candidates {
                let first = candidate.sample_indices[0];
                assert_eq!(candidate.similarity, naive_similarity(&keys, first));
                assert_eq!(
                    candidate.votes,
                    keys.iter().filter(|k| **k == candidate.key).count()
                );
            }
        }
    }

    #[test]
    fn many_unique_keys_split_over_threads_rank_as_the_definition_says() {
        // 90 unique keys (4,005 pairs): past the threshold for several threads on any machine
        // with more than one core.
        let keys: Vec<String> = (0..120)
            .map(|i| {
                format!(
                    "def f(x):\n    return x * {} + {}",
                    i % 90,
                    (i % 90) * 7 % 13
                )
            })
            .collect();
        let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
        let ranking = select(&refs, &untested, &SWISS);
        assert_eq!(ranking.candidates.len(), 90);
        for candidate in &ranking.candidates {
            let first = candidate.sample_indices[0];
            assert_eq!(candidate.similarity, naive_similarity(&refs, first));
        }
    }

    #[test]
    fn serializes_the_reproduction_verdict_from_the_issue_side() {
        let keys = ["a", "b", "c"];
        let table = [
            ("a", checked(0, true)),
            ("b", checked(0, false)),
            ("c", failures(0)),
        ];
        let ranking = select(&keys, &verdicts(&table), &SWISS);
        let json = serde_json::to_value(&ranking).unwrap();
        let reproduced: Vec<&serde_json::Value> = json["candidates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| &c["reproduced"])
            .collect();
        assert_eq!(
            reproduced,
            [
                &serde_json::json!(false),
                &serde_json::json!(true),
                &serde_json::Value::Null
            ]
        );
        assert_eq!(json["winner"], serde_json::json!(0));
    }
}
