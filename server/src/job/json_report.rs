//! The JSON view of a finished job: what `swiss fix --json` prints and `swiss.candidates` answers.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::record::FixOutcome;
use crate::engine::selection::RankedCandidate;

/// Candidates best first: the winner, then the rest of the filtered set by score, then the
/// filtered-out ones, so the reason the winner won reads top to bottom.
pub fn ranked(outcome: &FixOutcome) -> Vec<(u32, &RankedCandidate)> {
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

pub fn json_value(outcome: &FixOutcome) -> Value {
    let candidates: Vec<Value> = ranked(outcome)
        .into_iter()
        .map(|(id, r)| {
            let patch = outcome
                .candidate(id)
                .map(|c| c.patch.as_str())
                .unwrap_or_default();
            json!({
                "id": id,
                "patch": patch,
                "key": r.key,
                "sample_indices": r.sample_indices,
                "votes": r.votes,
                "similarity": r.similarity,
                "score": r.score,
                "regression_failures": r.regression_failures,
                // Seen from the issue: false when the reproduction test passes with the patch.
                "reproduced": r.reproduction_passed.map(|passed| !passed),
                "filtered_out": r.filtered_out,
                "selected": r.selected,
            })
        })
        .collect();
    let winner = outcome.winner();
    json!({
        "issue": {
            "title": outcome.issue.title,
            "body": outcome.issue.body,
            "url": outcome.issue.url,
        },
        "localized_files": outcome.localization.files,
        "candidates": candidates,
        "winner": winner.map(|c| c.id),
        "winner_patch": winner.map(|c| c.patch.clone()),
        "samples": {
            "total": outcome.samples.len(),
            "valid": outcome.samples.iter().filter(|s| s.error.is_none()).count(),
            "invalid_reasons": invalid_reasons(outcome),
        },
        "verification": outcome.verification,
        "usage": {
            "prompt_tokens": outcome.usage.prompt_tokens,
            "completion_tokens": outcome.usage.completion_tokens,
        },
    })
}

/// Reasons are grouped by their wording without the file name, so 40 samples make a short list.
pub fn invalid_reasons(outcome: &FixOutcome) -> BTreeMap<String, usize> {
    let mut reasons = BTreeMap::new();
    for sample in &outcome.samples {
        if let Some(error) = &sample.error {
            *reasons.entry(error.clone()).or_insert(0) += 1;
        }
    }
    reasons
}

pub fn no_candidate_summary(outcome: &FixOutcome) -> String {
    let reasons: Vec<String> = invalid_reasons(outcome)
        .into_iter()
        .map(|(reason, n)| format!("{n} × {reason}"))
        .collect();
    format!(
        "no valid candidate: none of the {} repair samples gave a usable edit ({})",
        outcome.samples.len(),
        if reasons.is_empty() {
            "no samples".to_owned()
        } else {
            reasons.join("; ")
        }
    )
}
