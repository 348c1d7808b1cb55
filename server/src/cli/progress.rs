//! Stage-by-stage progress on stderr: a live line on a terminal, one line per stage elsewhere.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;

use crate::job::{regression_test_summary as summary, JobEvent, Stage};
use crate::verify::reproduction::ScriptVerdict;

pub struct Progress {
    enabled: bool,
    live: bool,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    line_open: bool,
    valid: usize,
    candidates: u32,
    last: Option<(Stage, usize, usize)>,
    /// Where the next verified candidate ran, and the hosts' load then (several hosts only).
    hosts: Option<String>,
}

impl Progress {
    /// Quiet in `--json` mode: a script reading stdout wants stderr for errors only.
    pub fn new(enabled: bool) -> Progress {
        Progress {
            enabled,
            live: std::io::stderr().is_terminal(),
            state: Mutex::new(State::default()),
        }
    }

    pub fn event(&self, event: JobEvent) {
        if !self.enabled {
            // Even a script reading the JSON wants to know why a result is weaker than asked, and
            // what the model's code could reach.
            if let note @ (JobEvent::Warning(_) | JobEvent::Confinement(_)) = event {
                let _ = writeln!(std::io::stderr(), "swiss: {}", note_line(note));
            }
            return;
        }
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let mut err = std::io::stderr().lock();
        match event {
            JobEvent::StageStarted { stage, samples } => {
                close_stage(&mut state, &mut err, self.live);
                state.valid = 0;
                let _ = writeln!(
                    err,
                    "swiss: {} ({samples} sample{})",
                    stage.label(),
                    plural(samples)
                );
            }
            JobEvent::SampleDone {
                stage,
                done,
                total,
                valid,
            } => {
                state.valid += usize::from(valid);
                state.last = Some((stage, done, total));
                if self.live {
                    let _ = write!(err, "\r\x1b[2K{}", sample_line(&state, stage, done, total));
                    state.line_open = true;
                }
            }
            JobEvent::Localized {
                files,
                skipped_for_budget,
                given,
            } => {
                close_stage(&mut state, &mut err, self.live);
                write_localized(&mut err, &files, &skipped_for_budget, given);
            }
            JobEvent::CandidateFound { id } => state.candidates = id,
            JobEvent::HostsBusy { host, hosts } => {
                let on = host.map(|h| format!("ran on {h}; ")).unwrap_or_default();
                state.hosts = Some(format!(
                    "{on}{}",
                    crate::sandbox::docker_hosts::load_line(&hosts)
                ));
            }
            JobEvent::CandidateVerified {
                id,
                done,
                found,
                regression_failures,
                reproduction,
            } => {
                let mut line = verified_line(id, done, found, regression_failures, reproduction);
                if let Some(hosts) = state.hosts.take() {
                    line.push_str(&format!(" [{hosts}]"));
                }
                self.write_result(&mut state, &mut err, &line);
            }
            note @ (JobEvent::Warning(_)
            | JobEvent::Confinement(_)
            | JobEvent::VerificationStarted { .. }
            | JobEvent::BaselineDone { .. }
            | JobEvent::RegressionTestsExcluded { .. }
            | JobEvent::ReproductionChosen { .. }
            | JobEvent::EarlyStopped { .. }) => {
                clear_live(&mut state, &mut err);
                let _ = writeln!(err, "swiss: {}", note_line(note));
            }
        }
    }

    /// A candidate's result: on the live line, which the next one replaces, or a line of its own.
    fn write_result(&self, state: &mut State, err: &mut impl Write, line: &str) {
        if self.live {
            let _ = write!(err, "\r\x1b[2K{line}");
            state.line_open = true;
        } else {
            let _ = writeln!(err, "{line}");
        }
    }

    pub fn finish(&self) {
        if !self.enabled {
            return;
        }
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        close_stage(&mut state, &mut std::io::stderr().lock(), self.live);
    }
}

fn localized_line(files: &[String], given: bool) -> String {
    if given {
        format!("files given (no localization asked): {}", files.join(", "))
    } else {
        format!("localized: {}", files.join(", "))
    }
}

fn verified_line(
    id: u32,
    done: usize,
    found: usize,
    regression_failures: Option<u32>,
    reproduction: Option<ScriptVerdict>,
) -> String {
    format!(
        "swiss: verifying {} {done}/{found} candidates (candidate {id}: {} regression failure(s){})",
        bar(done, found),
        regression_failures.map_or("?".to_owned(), |n| n.to_string()),
        match reproduction {
            Some(ScriptVerdict::Resolved) => ", reproduction passes",
            Some(_) => ", reproduction fails",
            None => "",
        }
    )
}

/// A verification step or a warning: a line of its own between the live updates.
fn note_line(event: JobEvent) -> String {
    match event {
        JobEvent::Warning(message) => format!("warning: {message}"),
        JobEvent::Confinement(summary) => summary,
        JobEvent::VerificationStarted {
            sandbox,
            test_command,
        } => format!("verifying in a {sandbox} sandbox with `{test_command}`"),
        JobEvent::BaselineDone { passed, failed } => format!(
            "baseline: {passed} passing test(s) form the regression set, {failed} already failing"
        ),
        JobEvent::RegressionTestsExcluded { excluded, of, cut } => {
            let cut = match cut {
                0 => String::new(),
                cut => format!("; {cut} not shown for length stay in"),
            };
            match excluded.len() {
                0 => format!("regression tests: the model expects the fix to change none of the {of} passing test(s){cut}"),
                n => format!(
                    "regression tests: {n} of {of} passing test(s) left out, the fix may change them: {}{cut}",
                    summary(&excluded)
                ),
            }
        }
        JobEvent::ReproductionChosen {
            generated,
            reproducing,
            chosen: Some(index),
        } => format!(
            "reproduction test: sample {index} chosen ({reproducing} of {generated} reproduce the issue)"
        ),
        JobEvent::ReproductionChosen { generated, .. } => format!(
            "no reproduction test reproduces the issue ({generated} written); regression tests only"
        ),
        JobEvent::EarlyStopped {
            winner,
            votes,
            runner_up_votes,
            received,
            requested,
        } => format!(
            "early stop: after {received}/{requested} samples candidate {winner} is verified and leads {votes} to {runner_up_votes}, more than the samples left can change; closing the rest"
        ),
        other => format!("{other:?}"),
    }
}

/// A message between live updates must not end up glued to the progress line.
fn clear_live(state: &mut State, err: &mut impl Write) {
    if state.line_open {
        let _ = write!(err, "\r\x1b[2K");
        state.line_open = false;
    }
}

fn close_stage(state: &mut State, err: &mut impl Write, live: bool) {
    if let Some((stage, done, total)) = state.last.take() {
        if live {
            let _ = write!(err, "\r\x1b[2K");
        }
        let _ = writeln!(err, "{}", sample_line(state, stage, done, total));
    }
    state.line_open = false;
}

fn sample_line(state: &State, stage: Stage, done: usize, total: usize) -> String {
    match stage {
        Stage::Repair => format!(
            "swiss: repair samples {done}/{total} ({} valid, {} unique candidate{})",
            state.valid,
            state.candidates,
            plural(state.candidates as usize)
        ),
        other => format!("swiss: {} {done}/{total}", other.label()),
    }
}

/// A 20-cell bar: candidates keep arriving while others are verified, so `total` may grow.
fn bar(done: usize, total: usize) -> String {
    const CELLS: usize = 20;
    let filled = (done * CELLS).checked_div(total).unwrap_or(0).min(CELLS);
    format!("[{}{}]", "#".repeat(filled), "-".repeat(CELLS - filled))
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// The localized (or given) files, and those the token budget left out of the repair prompt.
fn write_localized(
    err: &mut impl Write,
    files: &[String],
    skipped_for_budget: &[String],
    given: bool,
) {
    let _ = writeln!(err, "swiss: {}", localized_line(files, given));
    if !skipped_for_budget.is_empty() {
        let _ = writeln!(
            err,
            "swiss: left out of the repair prompt (over the token budget): {}",
            skipped_for_budget.join(", ")
        );
    }
}
