//! `swiss rerank`: selection again, without the model, over the records of one or more runs.
//! Records of one instance are merged into one pool in the order the runs are given (SWE-Swiss's
//! 60.2% is three 40-sample runs pooled into 120 samples an instance): votes and similarity are
//! over the whole pool. A verdict recorded in any run is reused; a candidate no run verified is
//! verified here when the instances and repositories are given.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use super::grade::grade;
use super::instances::Instance;
use super::prepare::{prepare, EvalOptions};
use super::report::InstanceReport;
use super::solve::RECORDS_DIR;
use crate::config::SandboxChoice;
use crate::engine::apply::apply_edits;
use crate::engine::edits::parse_search_replace;
use crate::engine::issue::Issue;
use crate::engine::selection::{select, Compat, Ranking, SelectionConfig};
use crate::job::verdict_of;
use crate::job::{create_sandbox_for, CandidateRun};
use crate::verify::verifier::TestPlan;

/// What rerank reads of a record (`swiss fix --record`, `records/ID.json` of `swiss eval` or of
/// an earlier rerank); other fields are ignored.
#[derive(Debug, Deserialize)]
struct RecordView {
    issue: Issue,
    samples: Vec<SampleView>,
    candidates: Vec<CandidateView>,
    verification: Option<VerificationView>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SampleView {
    pub index: usize,
    pub raw: String,
    pub key: String,
    pub candidate: Option<u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CandidateView {
    pub id: u32,
    pub key: String,
    pub patch: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct VerificationView {
    candidates: BTreeMap<u32, CandidateRun>,
    #[serde(default)]
    reproduction: Option<ScriptView>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct ScriptView {
    chosen_script: Option<String>,
}

/// Every sample of one instance over the runs, and what is known of each candidate.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Pool {
    pub instance_id: String,
    pub issue: Issue,
    /// In run order, then sample order; `index` renumbered over the pool.
    pub samples: Vec<SampleView>,
    /// Unique keys in order of first appearance, numbered from 1.
    pub candidates: Vec<CandidateView>,
    /// By candidate id.
    pub verdicts: BTreeMap<u32, CandidateRun>,
    /// The first run's chosen reproduction script, for candidates verified here.
    pub reproduction_script: Option<String>,
    pub runs: usize,
}

impl Pool {
    fn new(instance_id: String, issue: Issue) -> Pool {
        Pool {
            instance_id,
            issue,
            samples: Vec::new(),
            candidates: Vec::new(),
            verdicts: BTreeMap::new(),
            reproduction_script: None,
            runs: 0,
        }
    }

    fn add(&mut self, record: RecordView) {
        self.runs += 1;
        let verification = record.verification.unwrap_or_default();
        if self.reproduction_script.is_none() {
            self.reproduction_script = verification.reproduction.and_then(|r| r.chosen_script);
        }
        let mut samples = record.samples;
        samples.sort_by_key(|s| s.index);
        for sample in samples {
            let candidate = (!sample.key.is_empty()).then(|| {
                let original = record
                    .candidates
                    .iter()
                    .find(|c| Some(c.id) == sample.candidate || c.key == sample.key);
                let id = self.id_for(&sample.key, original);
                if let Some(run) = original.and_then(|c| verification.candidates.get(&c.id)) {
                    // A run that tested it beats one whose sandbox failed on it.
                    let known_tested = self.verdicts.get(&id).is_some_and(|v| v.tests().is_some());
                    if !known_tested {
                        self.verdicts.insert(id, run.clone());
                    }
                }
                id
            });
            self.samples.push(SampleView {
                index: self.samples.len(),
                raw: sample.raw,
                key: sample.key,
                candidate,
            });
        }
    }

    fn id_for(&mut self, key: &str, original: Option<&CandidateView>) -> u32 {
        if let Some(known) = self.candidates.iter().find(|c| c.key == key) {
            return known.id;
        }
        let id = self.candidates.len() as u32 + 1;
        self.candidates.push(CandidateView {
            id,
            key: key.to_owned(),
            patch: original.map(|c| c.patch.clone()).unwrap_or_default(),
        });
        id
    }

    /// Candidates with no test result from any run.
    pub fn unverified(&self) -> Vec<u32> {
        self.candidates
            .iter()
            .map(|c| c.id)
            .filter(|id| {
                self.verdicts
                    .get(id)
                    .and_then(CandidateRun::tests)
                    .is_none()
            })
            .collect()
    }

    pub fn rank(&self, compat: Compat) -> Ranking {
        let keys: Vec<&str> = self.samples.iter().map(|s| s.key.as_str()).collect();
        let verdict = |key: &str| {
            verdict_of(
                self.candidates
                    .iter()
                    .find(|c| c.key == key)
                    .and_then(|c| self.verdicts.get(&c.id)),
            )
        };
        select(&keys, &verdict, &SelectionConfig { compat })
    }

    pub fn winner(&self, ranking: &Ranking) -> Option<&CandidateView> {
        let key = &ranking.winning_candidate()?.key;
        self.candidates.iter().find(|c| &c.key == key)
    }
}

/// The folder a `--records` argument names: an eval output folder or its `records/`.
fn records_dir(dir: &Path) -> PathBuf {
    let nested = dir.join(RECORDS_DIR);
    if nested.is_dir() {
        nested
    } else {
        dir.to_path_buf()
    }
}

/// The pools of every instance the runs recorded, by instance id.
pub fn load_pools(dirs: &[PathBuf]) -> Result<BTreeMap<String, Pool>, String> {
    let mut pools: BTreeMap<String, Pool> = BTreeMap::new();
    for dir in dirs {
        let dir = records_dir(dir);
        let entries = std::fs::read_dir(&dir)
            .map_err(|e| format!("failed to read the records in {}: {e}", dir.display()))?;
        let mut paths: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        paths.sort();
        if paths.is_empty() {
            return Err(format!(
                "failed to find records in {}: expected ID.json files (the records/ folder of a swiss eval run)",
                dir.display()
            ));
        }
        for path in paths {
            let id = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let text = std::fs::read_to_string(&path)
                .map_err(|e| format!("failed to read {}: {e}", path.display()))?;
            let record: RecordView = serde_json::from_str(&text)
                .map_err(|e| format!("failed to read the record {}: {e}", path.display()))?;
            pools
                .entry(id.clone())
                .or_insert_with(|| Pool::new(id, record.issue.clone()))
                .add(record);
        }
    }
    Ok(pools)
}

/// The record rerank writes: readable by a later rerank, and by anyone reading `swiss eval`'s.
#[derive(Debug, Serialize)]
struct MergedRecord<'a> {
    issue: &'a Issue,
    runs: usize,
    samples: &'a [SampleView],
    candidates: &'a [CandidateView],
    verification: VerificationView,
    ranking: &'a Ranking,
}

pub fn write_merged_record(output: &Path, pool: &Pool, ranking: &Ranking) -> Result<(), String> {
    let dir = output.join(RECORDS_DIR);
    let path = dir.join(format!("{}.json", pool.instance_id));
    let record = MergedRecord {
        issue: &pool.issue,
        runs: pool.runs,
        samples: &pool.samples,
        candidates: &pool.candidates,
        verification: VerificationView {
            candidates: pool.verdicts.clone(),
            reproduction: Some(ScriptView {
                chosen_script: pool.reproduction_script.clone(),
            }),
        },
        ranking,
    };
    std::fs::create_dir_all(&dir)
        .and_then(|()| {
            std::fs::write(
                &path,
                serde_json::to_string(&record).map_err(std::io::Error::from)?,
            )
        })
        .map_err(|e| format!("failed to write the record {}: {e}", path.display()))
}

/// Verifies the pool's unverified candidates in a fresh checkout: the baseline once, then each
/// candidate (re-applied from its first sample's edits) with the pool's reproduction script.
/// Returns a note when they could not be verified.
pub async fn verify_unverified(
    pool: &mut Pool,
    instance: &Instance,
    eval: &EvalOptions,
    cancel: &CancellationToken,
) -> Result<(), String> {
    let missing = pool.unverified();
    if missing.is_empty() {
        return Ok(());
    }
    let (owned, options) = (instance.clone(), eval.clone());
    let prepared = tokio::task::spawn_blocking(move || prepare(&owned, &options))
        .await
        .map_err(|e| e.to_string())??;
    let settings = &prepared.settings;
    let Some(command) = settings.test_command.clone() else {
        return Err("candidates no run verified stay unverified: no test command".to_owned());
    };
    if settings.sandbox == SandboxChoice::None {
        return Err("candidates no run verified stay unverified: sandbox none".to_owned());
    }
    let files = prepared.snapshot.base_files().map_err(|e| e.to_string())?;
    let (sandbox, _) = create_sandbox_for(settings, files, &|_| {})
        .await
        .map_err(|e| e.to_string())?;
    let plan = TestPlan {
        test: crate::verify::test_command::from_setting(
            &command,
            settings.test_format,
            settings.test_junit_xml.as_deref(),
        ),
        timeout: settings.test_timeout,
        python: settings.python.clone(),
        env: settings.test_env.clone(),
        script: None,
    };
    let result = async {
        let baseline = plan
            .baseline(&*sandbox, cancel)
            .await
            .map_err(|e| e.to_string())?;
        for id in missing {
            let Some(sample) = pool.samples.iter().find(|s| s.candidate == Some(id)) else {
                continue;
            };
            let run = match apply_edits(&prepared.snapshot, &parse_search_replace(&sample.raw)) {
                Ok(files) => match plan
                    .candidate(
                        &*sandbox,
                        &baseline,
                        pool.reproduction_script.as_deref(),
                        &files,
                        cancel,
                    )
                    .await
                {
                    Ok(tests) => CandidateRun::Tested(tests),
                    Err(e) if cancel.is_cancelled() => return Err(e.to_string()),
                    Err(e) => CandidateRun::Failed {
                        error: e.to_string(),
                    },
                },
                Err(e) => CandidateRun::Failed {
                    error: format!("failed to apply the candidate to the base commit: {e}"),
                },
            };
            pool.verdicts.insert(id, run);
        }
        Ok(())
    }
    .await;
    sandbox.cleanup().await;
    result
}

/// Reranks one pool: verification of what no run verified (when the instance is known), the
/// merged record, and the grade.
pub async fn rerank_pool(
    mut pool: Pool,
    instance: Option<&Instance>,
    eval: Option<&EvalOptions>,
    compat: Compat,
    grade_it: bool,
    output: &Path,
    cancel: &CancellationToken,
) -> (InstanceReport, String) {
    let started = Instant::now();
    let mut warnings = Vec::new();
    match (instance, eval) {
        (Some(instance), Some(eval)) => {
            if let Err(e) = verify_unverified(&mut pool, instance, eval, cancel).await {
                warnings.push(e);
            }
        }
        _ if !pool.unverified().is_empty() => warnings.push(
            "candidates no run verified stay unverified: pass --instances and --repos to verify them".to_owned(),
        ),
        _ => {}
    }
    let ranking = pool.rank(compat);
    if let Err(e) = write_merged_record(output, &pool, &ranking) {
        warnings.push(e);
    }
    let patch = pool
        .winner(&ranking)
        .map(|w| w.patch.clone())
        .unwrap_or_default();
    let mut report = InstanceReport {
        instance_id: pool.instance_id.clone(),
        repo: instance.map(|i| i.repo.clone()).unwrap_or_default(),
        resolved: None,
        winner: pool.winner(&ranking).map(|w| w.id),
        candidates: pool.candidates.len(),
        samples: pool.samples.len(),
        samples_valid: pool.samples.iter().filter(|s| !s.key.is_empty()).count(),
        seconds: 0.0,
        usage: Default::default(),
        error: None,
        warnings,
        grade: None,
        early_stop: None,
    };
    if grade_it {
        match graded(instance, eval, &patch, cancel).await {
            Ok(grade) => {
                report.resolved = Some(grade.resolved);
                report.grade = Some(grade);
            }
            Err(e) => report.error = Some(format!("failed to grade: {e}")),
        }
    }
    report.seconds = started.elapsed().as_secs_f64();
    (report, patch)
}

async fn graded(
    instance: Option<&Instance>,
    eval: Option<&EvalOptions>,
    patch: &str,
    cancel: &CancellationToken,
) -> Result<super::grade::Grade, String> {
    let (Some(instance), Some(eval)) = (instance, eval) else {
        return Err("--grade needs --instances and --repos".to_owned());
    };
    let (owned, options) = (instance.clone(), eval.clone());
    let prepared = tokio::task::spawn_blocking(move || prepare(&owned, &options))
        .await
        .map_err(|e| e.to_string())??;
    let test = prepared
        .grade_test
        .ok_or("no test command for this repository")?;
    grade(
        instance,
        &prepared.source,
        patch,
        &prepared.grade_settings,
        test,
        cancel,
    )
    .await
}

/// Instances by id, for the pools that name them.
pub fn instances_by_id(instances: Vec<Instance>) -> Arc<HashMap<String, Instance>> {
    Arc::new(
        instances
            .into_iter()
            .map(|i| (i.instance_id.clone(), i))
            .collect(),
    )
}
