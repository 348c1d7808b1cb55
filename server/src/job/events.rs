//! What a running job tells whoever watches it.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
    },
    /// Several repair samples that differ only in formatting collapse into one candidate.
    CandidateFound {
        id: u32,
        key_len: usize,
    },
}
