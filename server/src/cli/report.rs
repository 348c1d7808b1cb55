//! What `swiss fix` prints on stdout without `--json`: a table and the winning diff.

use std::io::{self, Write};

use crate::backend::EndpointUsage;
use crate::job::report::FixReport;
use crate::job::{regression_test_summary, FixOutcome};

pub fn write_human(
    out: &mut impl Write,
    outcome: &FixOutcome,
    report: &FixReport,
) -> io::Result<()> {
    let valid = outcome.samples.iter().filter(|s| s.error.is_none()).count();
    writeln!(
        out,
        "{} unique candidate(s) from {} sample(s), {} valid",
        outcome.candidates.len(),
        outcome.samples.len(),
        valid
    )?;
    if let Some(stop) = &outcome.early_stop {
        writeln!(out, "  {}", stop.summary())?;
    }
    if !outcome.candidates.is_empty() {
        write_table(out, outcome, report)?;
        write_reasons(out, report)?;
    }
    let excluded = outcome
        .verification
        .as_ref()
        .map_or(&[][..], |v| &v.excluded_tests[..]);
    if !excluded.is_empty() {
        writeln!(
            out,
            "  {} passing test(s) left out of the regression tests, the model expects the fix to change them: {}",
            excluded.len(),
            regression_test_summary(excluded)
        )?;
    }
    for (reason, count) in &report.samples.invalid_reasons {
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
        if let Some(confidence) = &report.confidence {
            writeln!(out)?;
            for line in confidence.describe() {
                writeln!(out, "{line}")?;
            }
        }
        writeln!(out, "\nWinning patch (candidate {}):\n", winner.id)?;
        write!(out, "{}", winner.patch)?;
    }
    writeln!(
        out,
        "\nTokens: {} prompt, {} completion",
        outcome.usage.prompt_tokens, outcome.usage.completion_tokens
    )?;
    write_backends(out, &outcome.backends)
}

/// Each endpoint's share, when there is more than one or one failed: one line each.
fn write_backends(out: &mut impl Write, backends: &[EndpointUsage]) -> io::Result<()> {
    if backends.len() < 2 && backends.iter().all(|b| b.failures == 0) {
        return Ok(());
    }
    for b in backends {
        let out_of_pool = match b.taken_out {
            0 => String::new(),
            n => format!(", taken out {n}×"),
        };
        writeln!(
            out,
            "  {}: {} sample(s) in {} request(s), {} prompt + {} completion tokens, {} failure(s){out_of_pool}",
            b.url, b.samples, b.requests, b.prompt_tokens, b.completion_tokens, b.failures
        )?;
    }
    Ok(())
}

/// Under the table, why each other candidate is not the winner.
fn write_reasons(out: &mut impl Write, report: &FixReport) -> io::Result<()> {
    for c in report.candidates.iter().filter(|c| !c.reasons.is_empty()) {
        writeln!(
            out,
            "  candidate {}: {}",
            c.id,
            crate::job::reasons::describe_all(&c.reasons)
        )?;
    }
    Ok(())
}

/// One row a candidate, best first: `*` the winner, `x` filtered out.
fn write_table(out: &mut impl Write, outcome: &FixOutcome, report: &FixReport) -> io::Result<()> {
    writeln!(
        out,
        "     id  votes  similarity    score  regressions  reproduced  files"
    )?;
    for r in &report.candidates {
        let id = r.id;
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
            r.reproduced
                .map_or("-", |reproduced| if reproduced { "yes" } else { "no" }),
        )?;
    }
    Ok(())
}
