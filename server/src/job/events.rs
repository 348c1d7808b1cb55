//! What a running job tells whoever watches it.

use crate::verify::reproduction::ScriptVerdict;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    Localize,
    Repair,
    Select,
}

impl Stage {
    pub fn label(self) -> &'static str {
        match self {
            Stage::Localize => "localizing",
            Stage::Repair => "sampling repairs",
            Stage::Select => "selecting",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum JobEvent {
    StageStarted {
        stage: Stage,
        samples: usize,
    },
    /// One more sample of the running stage came in; `valid` says whether it was usable.
    SampleDone {
        stage: Stage,
        done: usize,
        total: usize,
        valid: bool,
    },
    Localized {
        files: Vec<String>,
        skipped_for_budget: Vec<String>,
        /// The user gave the files; the model was not asked.
        given: bool,
    },
    /// Several repair samples that differ only in formatting collapse into one candidate.
    CandidateFound {
        id: u32,
    },
    /// Something the user should know that does not stop the job.
    Warning(String),
    /// How the local sandbox confines the runs (what they can reach), said once per job.
    Confinement(String),
    VerificationStarted {
        sandbox: &'static str,
        test_command: String,
    },
    BaselineDone {
        passed: usize,
        failed: usize,
    },
    /// The model named `excluded` among the `of` passing tests it was shown as ones the fix may
    /// change; `cut` more were not shown for length and stay in the regression set.
    RegressionTestsExcluded {
        excluded: Vec<String>,
        of: usize,
        cut: usize,
    },
    ReproductionChosen {
        generated: usize,
        reproducing: usize,
        chosen: Option<usize>,
    },
    /// `done` of the `found` unique candidates so far are tested.
    CandidateVerified {
        id: u32,
        done: usize,
        found: usize,
        regression_failures: Option<u32>,
        reproduction: Option<ScriptVerdict>,
    },
}
