//! Stage 4: enhanced self-consistency over every sample (DESIGN 3.5), each candidate judged by
//! its verification verdict.

use std::collections::BTreeMap;

use super::context::JobContext;
use super::events::{JobEvent, Stage};
use super::repair::Candidates;
use super::verify::CandidateRun;
use crate::engine::selection::{select, Ranking, SelectionConfig, Verdict};
use crate::verify::reproduction::ScriptVerdict;

pub(super) fn rank(
    ctx: &JobContext,
    candidates: &mut Candidates,
    tested: &BTreeMap<u32, CandidateRun>,
) -> Ranking {
    // Selection reads keys in sample order, whatever order the answers came in.
    candidates.samples.sort_by_key(|s| s.index);
    ctx.emit(JobEvent::StageStarted {
        stage: Stage::Select,
        samples: candidates.samples.len(),
    });
    let keys: Vec<String> = candidates.samples.iter().map(|s| s.key.clone()).collect();
    let verdict = |key: &str| verdict_of(candidates.id_of(key).and_then(|id| tested.get(&id)));
    let config = SelectionConfig {
        compat: ctx.settings.selection_compat,
    };
    select(&keys, &verdict, &config)
}

/// What selection reads of a candidate's verification: nothing when it was not tested or its run
/// could not be carried out.
pub fn verdict_of(run: Option<&CandidateRun>) -> Verdict {
    let tests = run.and_then(CandidateRun::tests);
    Verdict {
        regression_failures: tests.and_then(|t| t.regression_failures),
        reproduction_passed: tests
            .and_then(|t| t.reproduction)
            .map(|v| v == ScriptVerdict::Resolved),
    }
}
