//! What `swiss fix` prints on stdout: one JSON object, or a table and the winning diff.

use std::io::{self, Write};

use crate::job::json_report::{invalid_reasons, json_value, ranked};
use crate::job::FixOutcome;

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
        let no_baseline = outcome
            .verification
            .as_ref()
            .and_then(|v| v.baseline.error.as_deref());
        if let Some(error) = no_baseline {
            writeln!(
                out,
                "\nCandidate {} was not regression-checked: {error}",
                winner.id
            )?;
        }
        writeln!(out, "\nWinning patch (candidate {}):\n", winner.id)?;
        write!(out, "{}", winner.patch)?;
    }
    writeln!(
        out,
        "\nTokens: {} prompt, {} completion",
        outcome.usage.prompt_tokens, outcome.usage.completion_tokens
    )
}
