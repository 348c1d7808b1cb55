//! What `swiss fix` prints on stdout: one JSON object, or a table and the winning diff.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde_json::{json, Value};

use crate::engine::selection::RankedCandidate;
use crate::job::FixOutcome;

/// Candidates best first: the winner, then the rest of the filtered set by score, then the
/// filtered-out ones, so the reason the winner won reads top to bottom.
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

pub fn write_json(out: &mut impl Write, outcome: &FixOutcome) -> io::Result<()> {
    serde_json::to_writer(&mut *out, &json_value(outcome))?;
    writeln!(out)
}

pub fn write_human(out: &mut impl Write, outcome: &FixOutcome) -> io::Result<()> {
    let valid = outcome.samples.iter().filter(|s| s.error.is_none()).count();
    writeln!(
        out,
        "{} unique candidate(s) from {} sample(s), {} valid",
        outcome.candidates.len(),
        outcome.samples.len(),
        valid
    )?;
    if !outcome.candidates.is_empty() {
        writeln!(
            out,
            "     id  votes  similarity    score  regressions  reproduced  files"
        )?;
        for (id, r) in ranked(outcome) {
            let mark = if r.selected {
                "*"
            } else if r.filtered_out {
                "x"
            } else {
                " "
            };
            let files = outcome
                .candidate(id)
                .map(|c| {
                    c.files
                        .changes
                        .iter()
                        .map(|f| f.path.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default();
            writeln!(
                out,
                "  {mark} {id:>3}  {:>5}  {:>10.4}  {:>7.4}  {:>11}  {:>10}  {files}",
                r.votes,
                r.similarity,
                r.score,
                r.regression_failures
                    .map_or("-".to_owned(), |n| n.to_string()),
                r.reproduction_passed
                    .map_or("-", |p| if p { "no" } else { "yes" }),
            )?;
        }
    }
    for (reason, count) in invalid_reasons(outcome) {
        writeln!(out, "  {count} invalid sample(s): {reason}")?;
    }
    if let Some(winner) = outcome.winner() {
        writeln!(out, "\nWinning patch (candidate {}):\n", winner.id)?;
        write!(out, "{}", winner.patch)?;
    }
    writeln!(
        out,
        "\nTokens: {} prompt, {} completion",
        outcome.usage.prompt_tokens, outcome.usage.completion_tokens
    )
}

/// Reasons are grouped by their wording without the file name, so 40 samples make a short list.
fn invalid_reasons(outcome: &FixOutcome) -> BTreeMap<String, usize> {
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
