//! `report.json` (every instance and a summary) and the short human summary on stdout.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::grade::Grade;
use crate::backend::{EndpointUsage, Usage};
use crate::job::EarlyStopRecord;

pub const FILE_NAME: &str = "report.json";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceReport {
    pub instance_id: String,
    pub repo: String,
    /// `None` when not graded.
    pub resolved: Option<bool>,
    /// The winning candidate's id in the instance's record.
    pub winner: Option<u32>,
    /// Unique candidates.
    pub candidates: usize,
    pub samples: usize,
    pub samples_valid: usize,
    pub seconds: f64,
    pub usage: Usage,
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grade: Option<Grade>,
    /// `repair.early_stop` stopped the samples: `samples` are those that came.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub early_stop: Option<EarlyStopRecord>,
}

impl InstanceReport {
    pub fn failed(instance_id: &str, repo: &str, seconds: f64, error: String) -> InstanceReport {
        InstanceReport {
            instance_id: instance_id.to_owned(),
            repo: repo.to_owned(),
            resolved: None,
            winner: None,
            candidates: 0,
            samples: 0,
            samples_valid: 0,
            seconds,
            usage: Usage::default(),
            error: Some(error),
            warnings: Vec::new(),
            grade: None,
            early_stop: None,
        }
    }

    /// One line for a log: the outcome in words.
    pub fn outcome(&self) -> String {
        match (&self.error, self.resolved, self.winner) {
            (Some(error), _, _) => format!("error: {error}"),
            (None, Some(true), _) => "resolved".to_owned(),
            (None, Some(false), Some(_)) => "not resolved".to_owned(),
            (None, _, None) => "no candidate".to_owned(),
            (None, None, Some(id)) => format!("winner {id} (not graded)"),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RepoSummary {
    pub instances: usize,
    pub graded: usize,
    pub resolved: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub instances: usize,
    pub errors: usize,
    pub with_winner: usize,
    pub graded: usize,
    pub resolved: usize,
    pub per_repo: BTreeMap<String, RepoSummary>,
    /// This invocation's wall time (a resumed run counts only its own part).
    pub wall_seconds: f64,
    pub usage: Usage,
    /// Repair samples early stops left undrawn, and their completion tokens (an estimate).
    #[serde(default)]
    pub samples_skipped: usize,
    #[serde(default)]
    pub completion_tokens_saved_estimate: u64,
    /// Each backend endpoint's share of this invocation's requests.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub backends: Vec<EndpointUsage>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalReport {
    pub instances: Vec<InstanceReport>,
    pub summary: Summary,
}

impl EvalReport {
    pub fn new(instances: Vec<InstanceReport>, wall_seconds: f64) -> EvalReport {
        let mut summary = Summary {
            instances: instances.len(),
            wall_seconds,
            ..Summary::default()
        };
        for instance in &instances {
            let repo = summary.per_repo.entry(instance.repo.clone()).or_default();
            repo.instances += 1;
            summary.errors += usize::from(instance.error.is_some());
            summary.with_winner += usize::from(instance.winner.is_some());
            if let Some(resolved) = instance.resolved {
                summary.graded += 1;
                repo.graded += 1;
                summary.resolved += usize::from(resolved);
                repo.resolved += usize::from(resolved);
            }
            summary.usage += instance.usage;
            if let Some(stop) = &instance.early_stop {
                summary.samples_skipped += stop.skipped;
                summary.completion_tokens_saved_estimate += stop.completion_tokens_saved_estimate;
            }
        }
        EvalReport { instances, summary }
    }

    pub fn write(&self, dir: &Path) -> Result<(), String> {
        let path = dir.join(FILE_NAME);
        let text = serde_json::to_string_pretty(self).map_err(|e| e.to_string())?;
        // Written aside and renamed, so an interruption never leaves half a report.
        let partial = dir.join(format!("{FILE_NAME}.partial"));
        std::fs::write(&partial, text + "\n")
            .and_then(|()| std::fs::rename(&partial, &path))
            .map_err(|e| format!("failed to write {}: {e}", path.display()))
    }

    /// The report of an earlier run into `dir`, if it left one that reads.
    pub fn read(dir: &Path) -> Option<EvalReport> {
        let text = std::fs::read_to_string(dir.join(FILE_NAME)).ok()?;
        serde_json::from_str(&text).ok()
    }

    pub fn write_human(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let s = &self.summary;
        if s.graded > 0 {
            writeln!(
                out,
                "resolved {}/{} ({:.1}%)",
                s.resolved,
                s.graded,
                100.0 * s.resolved as f64 / s.graded as f64
            )?;
        } else {
            writeln!(out, "not graded (pass --grade to test the predictions)")?;
        }
        writeln!(
            out,
            "{} instance(s): {} with a winner, {} failed",
            s.instances, s.with_winner, s.errors
        )?;
        for (repo, r) in &s.per_repo {
            if r.graded > 0 {
                writeln!(
                    out,
                    "  {repo}: {}/{} resolved ({} instance(s))",
                    r.resolved, r.graded, r.instances
                )?;
            } else {
                writeln!(out, "  {repo}: {} instance(s)", r.instances)?;
            }
        }
        writeln!(
            out,
            "wall time {:.1} s; tokens: {} prompt, {} completion",
            s.wall_seconds, s.usage.prompt_tokens, s.usage.completion_tokens
        )?;
        for b in s.backends.iter().filter(|_| s.backends.len() > 1) {
            writeln!(
                out,
                "  {}: {} sample(s) in {} request(s), {} failure(s), taken out {}×",
                b.url, b.samples, b.requests, b.failures, b.taken_out
            )?;
        }
        Ok(())
    }
}
