//! How far to trust a winner, from data: in SWE-Swiss's published runs the share of the samples
//! that the selected patch holds predicts whether it resolves the issue. The figures are counted
//! from its per-issue results by `tests/golden/confidence/bands.py` into
//! `confidence_bands.json`, which names the repository, paths and commit they come from.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use super::early_stop::EarlyStopRecord;
use super::verify::VerificationReport;
use crate::engine::selection::Ranking;

/// How strongly the samples agree on the winner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Band {
    High,
    Medium,
    Low,
}

impl Band {
    pub fn as_str(self) -> &'static str {
        match self {
            Band::High => "high",
            Band::Medium => "medium",
            Band::Low => "low",
        }
    }

    /// Which winners the reference counted in this band.
    fn range(self) -> &'static str {
        match self {
            Band::High => "at least half of the samples",
            Band::Medium => "a quarter to half of the samples",
            Band::Low => "under a quarter of the samples",
        }
    }
}

/// The winner's share of the samples and what the reference says of such winners.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Confidence {
    /// `votes / samples`, rounded to 3 decimals (the band is decided on the exact counts).
    pub share: f64,
    pub votes: usize,
    pub samples: usize,
    pub band: Band,
    /// The share of issues the reference resolved with a winner in this band.
    pub resolve_rate: f64,
    pub source: String,
    /// What makes the band mean less for this job; empty when the winner passed every check.
    #[serde(default)]
    pub caveats: Vec<Caveat>,
}

/// A way this job's winner differs from the reference's, whose winners passed its tests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Caveat {
    /// Verification was off (`--sandbox none`, or no test command): votes alone chose.
    Unverified,
    /// The baseline ran no test, so no candidate was regression-checked.
    NoRegressionCheck,
    /// The winner passed no reproduction test because there was none; `note` says why.
    NoReproductionTest { note: Option<String> },
    /// There was a reproduction test and the winner did not pass it (no candidate did).
    ReproductionNotPassed,
    /// The sandbox could not test the winner itself.
    WinnerNotTested,
    /// `repair.early_stop` stopped the samples: the share is over the `received` of `requested`.
    /// The winner is the one all samples would have given, but its share could have moved.
    EarlyStop { received: usize, requested: usize },
}

impl Caveat {
    pub fn describe(&self) -> String {
        match self {
            Caveat::Unverified => "verification was off (sandbox none or no test command): votes alone chose, so the band means less than the reference's, whose winners passed its tests".to_owned(),
            Caveat::NoRegressionCheck => "no candidate was regression-checked (the baseline ran no test), so the band means less".to_owned(),
            Caveat::NoReproductionTest { note } => format!(
                "the winner passed no reproduction test: none was valid{}, so the band means less",
                note.as_deref().map(|n| format!(" ({n})")).unwrap_or_default()
            ),
            Caveat::ReproductionNotPassed => "the winner did not pass the reproduction test (no candidate did), so the band means less".to_owned(),
            Caveat::WinnerNotTested => "the sandbox could not test the winner, so the band means less".to_owned(),
            Caveat::EarlyStop { received, requested } => format!(
                "sampling stopped early: the share is over {received} of {requested} requested samples (the winner cannot change, its share could)"
            ),
        }
    }
}

/// `confidence_bands.json`, as the script writes it.
#[derive(Debug, Deserialize)]
struct Table {
    source: Source,
    samples: usize,
    bands: Vec<BandRow>,
}

#[derive(Debug, Deserialize)]
struct Source {
    repository: String,
    commit: String,
    what: String,
}

#[derive(Debug, Deserialize)]
struct BandRow {
    band: Band,
    /// Exact in binary (0.5, 0.25, 0), so `votes >= min_share * samples` compares exactly.
    min_share: f64,
    resolved: usize,
    issues: usize,
}

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        serde_json::from_str(include_str!("confidence_bands.json"))
            .expect("confidence_bands.json is checked by the tests")
    })
}

/// Where the figures come from, in one line.
pub fn source() -> String {
    let table = table();
    let commit: String = table.source.commit.chars().take(7).collect();
    format!(
        "{} ({}, results/40patches_results{{0,1,2}} at {commit})",
        table.source.what, table.source.repository
    )
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Whole percents, as the table and the text give them: 364 of 436 is 83%, where 0.835
/// would read as 84%.
fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

impl Confidence {
    /// The band of a winner holding `votes` of `samples`; `None` without samples.
    pub fn of_share(votes: usize, samples: usize) -> Option<Confidence> {
        if samples == 0 {
            return None;
        }
        let row = table()
            .bands
            .iter()
            .find(|row| votes as f64 >= row.min_share * samples as f64)?;
        Some(Confidence {
            share: round3(votes as f64 / samples as f64),
            votes,
            samples,
            band: row.band,
            resolve_rate: round2(row.resolved as f64 / row.issues as f64),
            source: source(),
            caveats: Vec::new(),
        })
    }

    /// The confidence of a job's winner; `None` when selection had no winner. `samples` counts
    /// every repair sample that came, valid or not, as the reference's 40 do.
    pub fn of_job(
        ranking: &Ranking,
        samples: usize,
        verification: Option<&VerificationReport>,
        early_stop: Option<&EarlyStopRecord>,
    ) -> Option<Confidence> {
        let winner = ranking.winning_candidate()?;
        let mut confidence = Confidence::of_share(winner.votes, samples)?;
        if let Some(stop) = early_stop {
            confidence.caveats.push(Caveat::EarlyStop {
                received: stop.received,
                requested: stop.requested,
            });
        }
        let Some(verification) = verification else {
            confidence.caveats.push(Caveat::Unverified);
            return Some(confidence);
        };
        let baseline_ran = verification.baseline.error.is_none();
        if !baseline_ran {
            confidence.caveats.push(Caveat::NoRegressionCheck);
        }
        let tested = winner.regression_failures.is_some() || winner.reproduction_passed.is_some();
        if baseline_ran && !tested {
            confidence.caveats.push(Caveat::WinnerNotTested);
        }
        if verification.reproduction.chosen_script.is_none() {
            confidence.caveats.push(Caveat::NoReproductionTest {
                note: verification.reproduction.note.clone(),
            });
        } else if tested && winner.reproduction_passed != Some(true) {
            confidence.caveats.push(Caveat::ReproductionNotPassed);
        }
        Some(confidence)
    }

    /// Percent, for text.
    fn percent(x: f64) -> String {
        format!("{:.0}%", x * 100.0)
    }

    /// A few words, for a diagnostic.
    pub fn short(&self) -> String {
        let mut out = format!(
            "confidence {}: {} of the samples agree, {} resolved in SWE-Swiss's runs",
            self.band.as_str(),
            Self::percent(self.share),
            Self::percent(self.resolve_rate)
        );
        if !self.caveats.is_empty() {
            out.push_str(" (lowered: see hover)");
        }
        out
    }

    /// The whole statement with its source, then each caveat, one a line.
    pub fn describe(&self) -> Vec<String> {
        let mut lines = vec![format!(
            "Confidence {}: the winner holds {} of {} samples ({}); winners with {} were resolved {} of the time in {}",
            self.band.as_str(),
            self.votes,
            self.samples,
            Self::percent(self.share),
            self.band.range(),
            Self::percent(self.resolve_rate),
            self.source
        )];
        let drawn = table().samples;
        if self.samples != drawn {
            lines[0].push_str(&format!(
                " — this job drew {} samples, not {drawn}",
                self.samples
            ));
        }
        lines.extend(
            self.caveats
                .iter()
                .map(|c| format!("But {}.", c.describe())),
        );
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::reasons::tests::{ranked, tested, verification};
    use serde_json::json;

    #[test]
    fn the_table_holds_the_figures_of_the_reference() {
        let table = table();
        assert_eq!(table.samples, 40);
        let bands: Vec<(Band, f64, usize, usize)> = table
            .bands
            .iter()
            .map(|r| (r.band, r.min_share, r.resolved, r.issues))
            .collect();
        assert_eq!(
            bands,
            [
                (Band::High, 0.5, 364, 436),
                (Band::Medium, 0.25, 164, 265),
                (Band::Low, 0.0, 344, 795)
            ]
        );
        assert!(source().contains("github.com/zhenyuhe00/SWE-Swiss"));
        assert!(source().contains("at b25d46a)"), "{}", source());
    }

    #[test]
    fn bands_change_exactly_at_a_half_and_a_quarter() {
        let band = |votes, samples| Confidence::of_share(votes, samples).map(|c| c.band);
        assert_eq!(band(20, 40), Some(Band::High));
        assert_eq!(band(19, 40), Some(Band::Medium));
        assert_eq!(band(10, 40), Some(Band::Medium));
        assert_eq!(band(9, 40), Some(Band::Low));
        assert_eq!(band(0, 40), Some(Band::Low));
        assert_eq!(band(40, 40), Some(Band::High));
        // Odd sample counts: 3 of 7 is under half, 2 of 7 over a quarter, 1 of 5 under it.
        assert_eq!(band(4, 7), Some(Band::High));
        assert_eq!(band(3, 7), Some(Band::Medium));
        assert_eq!(band(2, 7), Some(Band::Medium));
        assert_eq!(band(1, 5), Some(Band::Low));
        assert_eq!(band(1, 0), None);
        let high = Confidence::of_share(20, 40).unwrap();
        assert_eq!((high.share, high.resolve_rate), (0.5, 0.83));
        let medium = Confidence::of_share(3, 8).unwrap();
        assert_eq!((medium.share, medium.resolve_rate), (0.375, 0.62));
        let low = Confidence::of_share(1, 3 * 40).unwrap();
        assert_eq!((low.share, low.resolve_rate), (0.008, 0.43));
    }

    #[test]
    fn the_text_says_the_band_its_figure_its_source_and_what_lowers_it() {
        let mut confidence = Confidence::of_share(3, 8).unwrap();
        assert_eq!(
            confidence.short(),
            "confidence medium: 38% of the samples agree, 62% resolved in SWE-Swiss's runs"
        );
        confidence.caveats = vec![
            Caveat::Unverified,
            Caveat::NoReproductionTest {
                note: Some("no script reproduced the issue".to_owned()),
            },
        ];
        assert!(confidence.short().ends_with("(lowered: see hover)"));
        let lines = confidence.describe();
        assert!(
            lines[0].starts_with("Confidence medium: the winner holds 3 of 8 samples (38%); winners with a quarter to half of the samples were resolved 62% of the time in SWE-Swiss-32B on SWE-bench Verified"),
            "{lines:?}"
        );
        assert!(lines[1].contains("verification was off"), "{lines:?}");
        assert!(
            lines[2].contains("the winner passed no reproduction test: none was valid (no script reproduced the issue)"),
            "{lines:?}"
        );
    }

    fn ranking(winner: (Option<u32>, Option<bool>)) -> Ranking {
        Ranking {
            candidates: vec![
                ranked(3, 0.9, 0, winner, false, true),
                ranked(2, 1.0, 3, (Some(4), Some(false)), true, false),
            ],
            winner: Some(0),
        }
    }

    fn caveats(
        winner: (Option<u32>, Option<bool>),
        verification: Option<&VerificationReport>,
    ) -> Vec<Caveat> {
        Confidence::of_job(&ranking(winner), 8, verification, None)
            .unwrap()
            .caveats
    }

    #[test]
    fn a_job_says_what_lowers_its_band() {
        let clean = (Some(0), Some(true));
        let runs = json!({"1": tested(0, &[], "resolved")});
        let full = verification(runs.clone(), Some("s"), None);
        let confidence = Confidence::of_job(&ranking(clean), 8, Some(&full), None).unwrap();
        assert_eq!(
            (confidence.votes, confidence.samples, confidence.band),
            (3, 8, Band::Medium)
        );
        assert_eq!(confidence.caveats, []);
        assert_eq!(caveats((None, None), None), [Caveat::Unverified]);
        assert_eq!(
            caveats(
                (Some(0), None),
                Some(&verification(runs.clone(), None, None))
            ),
            [Caveat::NoReproductionTest {
                note: Some("no script reproduced the issue".to_owned())
            }]
        );
        assert_eq!(
            caveats((Some(0), Some(false)), Some(&full)),
            [Caveat::ReproductionNotPassed]
        );
        assert_eq!(
            caveats(
                (None, Some(true)),
                Some(&verification(runs, Some("s"), Some("no test ran")))
            ),
            [Caveat::NoRegressionCheck]
        );
        assert_eq!(
            caveats((None, None), Some(&full)),
            [Caveat::WinnerNotTested]
        );
        let none = Ranking {
            winner: None,
            ..ranking(clean)
        };
        assert_eq!(Confidence::of_job(&none, 8, Some(&full), None), None);
    }

    #[test]
    fn an_early_stop_says_the_share_is_over_the_samples_that_came() {
        let runs = json!({"1": tested(0, &[], "resolved")});
        let full = verification(runs, Some("s"), None);
        let stop = EarlyStopRecord {
            requested: 30,
            received: 8,
            skipped: 22,
            completion_tokens_saved_estimate: 400,
            winner: 1,
            votes: 3,
            runner_up_votes: 0,
        };
        let clean = (Some(0), Some(true));
        let confidence = Confidence::of_job(&ranking(clean), 8, Some(&full), Some(&stop)).unwrap();
        assert_eq!(
            confidence.caveats,
            [Caveat::EarlyStop {
                received: 8,
                requested: 30
            }]
        );
        let lines = confidence.describe();
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(
            lines[1].contains("the share is over 8 of 30 requested samples"),
            "{lines:?}"
        );
        assert!(confidence.short().ends_with("(lowered: see hover)"));
        assert_eq!(
            serde_json::to_value(&confidence.caveats[0]).unwrap(),
            json!({"kind": "early-stop", "received": 8, "requested": 30})
        );
    }
}
