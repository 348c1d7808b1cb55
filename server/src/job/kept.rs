//! Finished jobs kept on disk, so they outlive the editor: each under
//! `<git dir>/swiss/jobs/<job id>/` (inside the repository's git dir, so never committed; a
//! worktree's own git dir for a worktree). A job folder holds `record.json` (the whole job, as
//! `--record` writes it), `files.json` (every candidate's files before and after, which apply and
//! its stale checks need) and `job.json` (id, issue reference, finish time, applied candidate).
//! A folder is written whole under a temporary name and then renamed, so a reader sees a job
//! complete or not at all. The oldest jobs go first once `jobs.keep` or `jobs.max_mb` is passed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::record::FixOutcome;
use crate::config::Settings;
use crate::engine::apply::{FileChange, PatchedFiles};

const META: &str = "job.json";
const RECORD: &str = "record.json";
const FILES: &str = "files.json";
const TEMP_PREFIX: &str = ".tmp-";
/// A temporary folder older than this was left by a process that died while writing.
const ABANDONED: Duration = Duration::from_secs(600);
const ID_PREFIX: &str = "job-";

/// How many jobs, and how many bytes of them, a repository keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeepLimits {
    /// 0: nothing is kept.
    pub jobs: usize,
    pub bytes: u64,
}

impl KeepLimits {
    pub fn from_settings(settings: &Settings) -> KeepLimits {
        KeepLimits {
            jobs: settings.jobs_keep,
            bytes: settings.jobs_max_mb.saturating_mul(1024 * 1024),
        }
    }
}

/// What `job.json` holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeptMeta {
    pub id: String,
    /// What started the job (`--issue`, or the editor's `swiss.fixIssue` issue), to run it again.
    pub issue_ref: String,
    /// Seconds since the Unix epoch.
    pub finished_at: u64,
    /// The candidate applied from the editor, if any.
    #[serde(default)]
    pub applied: Option<u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct KeptChange {
    path: String,
    before: Option<String>,
    after: String,
}

/// A kept job read back: its record with every candidate's files in place.
#[derive(Debug, Clone)]
pub struct KeptJob {
    pub meta: KeptMeta,
    pub outcome: FixOutcome,
    pub dir: PathBuf,
}

/// The kept jobs of one repository.
#[derive(Debug, Clone)]
pub struct JobStore {
    dir: PathBuf,
    /// The repository's work tree, when the store was found from one.
    work_tree: Option<PathBuf>,
}

impl JobStore {
    /// The store of the repository around `dir`.
    pub fn for_repo(dir: &Path) -> Result<JobStore, String> {
        let repo = git2::Repository::discover(dir).map_err(|e| {
            format!(
                "failed to find the git dir of {} to keep jobs in: {}",
                dir.display(),
                e.message()
            )
        })?;
        Ok(JobStore {
            dir: repo.path().join("swiss").join("jobs"),
            work_tree: repo.workdir().map(Path::to_path_buf),
        })
    }

    pub fn at(dir: PathBuf) -> JobStore {
        JobStore {
            dir,
            work_tree: None,
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn work_tree(&self) -> Option<&Path> {
        self.work_tree.as_deref()
    }

    /// One past the highest `job-N` kept, so a new job's id names no kept one.
    pub fn next_number(&self) -> u64 {
        self.entries()
            .filter_map(|(name, _)| job_number(&name))
            .max()
            .map_or(1, |n| n + 1)
    }

    /// Whether `outcome` is worth keeping: a job without a candidate has nothing to list or
    /// apply later (`--record` still writes it).
    pub fn worth_keeping(outcome: &FixOutcome) -> bool {
        !outcome.candidates.is_empty()
    }

    /// Writes the job under `id`, or under the next free `job-N` when `id` is taken by another
    /// job (a `swiss fix` that finished meanwhile) or not given; then removes the oldest jobs
    /// past `limits`. Returns the folder written.
    pub fn keep(
        &self,
        id: Option<&str>,
        issue_ref: &str,
        outcome: &FixOutcome,
        limits: KeepLimits,
    ) -> Result<PathBuf, String> {
        let failed = |e: std::io::Error| {
            format!(
                "failed to keep the job in {}: {e} (set jobs.keep = 0 to stop keeping jobs)",
                self.dir.display()
            )
        };
        std::fs::create_dir_all(&self.dir).map_err(failed)?;
        let temp = tempfile::Builder::new()
            .prefix(TEMP_PREFIX)
            .tempdir_in(&self.dir)
            .map_err(failed)?;
        let mut meta = KeptMeta {
            id: String::new(),
            issue_ref: issue_ref.to_owned(),
            finished_at: now(),
            applied: None,
        };
        write_json(&temp.path().join(RECORD), outcome).map_err(failed)?;
        write_json(&temp.path().join(FILES), &candidate_files(outcome)).map_err(failed)?;
        let mut next = self.next_number();
        let mut wanted = id.map(str::to_owned);
        loop {
            meta.id = wanted.take().unwrap_or_else(|| {
                next += 1;
                format!("{ID_PREFIX}{}", next - 1)
            });
            write_json(&temp.path().join(META), &meta).map_err(failed)?;
            let target = self.dir.join(&meta.id);
            if target.exists() {
                continue;
            }
            // A rename onto an existing folder with files fails, so two writers never mix; a
            // failure with the target still absent is not a lost race but the error itself.
            match std::fs::rename(temp.path(), &target) {
                Ok(()) => {
                    let _ = temp.keep();
                    self.clean(limits, &meta.id).map_err(failed)?;
                    return Ok(target);
                }
                Err(_) if target.exists() => continue,
                Err(e) => return Err(failed(e)),
            }
        }
    }

    /// Records that the editor applied `candidate`, so a later server offers the job as applied.
    pub fn mark_applied(&self, id: &str, candidate: u32) -> Result<(), String> {
        let path = self.dir.join(id).join(META);
        let failed = |e: String| format!("failed to update {}: {e}", path.display());
        let text = std::fs::read_to_string(&path).map_err(|e| failed(e.to_string()))?;
        let mut meta: KeptMeta = serde_json::from_str(&text).map_err(|e| failed(e.to_string()))?;
        meta.applied = Some(candidate);
        write_json(&path, &meta).map_err(|e| failed(e.to_string()))
    }

    /// Every kept job, oldest first, and a warning for each folder that could not be read
    /// (it is skipped, never fatal).
    pub fn load_all(&self) -> (Vec<KeptJob>, Vec<String>) {
        let mut jobs = Vec::new();
        let mut warnings = Vec::new();
        for (name, path) in self.entries() {
            match load(&path) {
                Ok(job) => jobs.push(job),
                Err(e) => warnings.push(format!(
                    "skipped the kept job {name} ({e}); delete {} if it stays unreadable",
                    path.display()
                )),
            }
        }
        jobs.sort_by_key(|job| (job.meta.finished_at, job_number(&job.meta.id)));
        (jobs, warnings)
    }

    /// Removes abandoned temporary folders, then the oldest jobs while more than `limits.jobs`
    /// or more than `limits.bytes` are kept; `newest` (the job just written) always stays.
    fn clean(&self, limits: KeepLimits, newest: &str) -> std::io::Result<()> {
        let mut kept = Vec::new();
        for entry in std::fs::read_dir(&self.dir)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with(TEMP_PREFIX) {
                let age = entry.metadata()?.modified()?.elapsed().unwrap_or_default();
                if age > ABANDONED {
                    std::fs::remove_dir_all(entry.path())?;
                }
                continue;
            }
            if name == newest || !entry.file_type()?.is_dir() {
                continue;
            }
            let finished = read_meta(&entry.path()).map_or(0, |m| m.finished_at);
            kept.push((finished, job_number(&name), entry.path()));
        }
        kept.sort();
        let mut sizes: Vec<u64> = kept.iter().map(|(_, _, path)| size_of(path)).collect();
        let mut total: u64 = sizes.iter().sum::<u64>() + size_of(&self.dir.join(newest));
        let mut count = kept.len() + 1;
        for (_, _, path) in &kept {
            if count <= limits.jobs && total <= limits.bytes {
                break;
            }
            std::fs::remove_dir_all(path)?;
            count -= 1;
            total -= sizes.remove(0);
        }
        Ok(())
    }

    /// The job folders (temporary ones left out), by name.
    fn entries(&self) -> impl Iterator<Item = (String, PathBuf)> {
        std::fs::read_dir(&self.dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
            .filter(|(name, _)| !name.starts_with(TEMP_PREFIX))
    }
}

/// `N` of a `job-N` id.
pub fn job_number(name: &str) -> Option<u64> {
    name.strip_prefix(ID_PREFIX)?.parse().ok()
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn candidate_files(outcome: &FixOutcome) -> BTreeMap<u32, Vec<KeptChange>> {
    outcome
        .candidates
        .iter()
        .map(|c| {
            let changes = c.files.changes.iter().map(|change| KeptChange {
                path: change.path.clone(),
                before: change.before.as_deref().map(str::to_owned),
                after: change.after.clone(),
            });
            (c.id, changes.collect())
        })
        .collect()
}

/// Written beside the target and renamed over it, so a reader never sees half a file.
fn write_json(path: &Path, value: &impl Serialize) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut file = tempfile::NamedTempFile::new_in(dir)?;
    serde_json::to_writer(std::io::BufWriter::new(&mut file), value)?;
    file.as_file().sync_all()?;
    file.persist(path).map_err(|e| e.error)?;
    Ok(())
}

fn read_meta(dir: &Path) -> Result<KeptMeta, String> {
    read_json(&dir.join(META))
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("failed to read {}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("failed to parse {}: {e}", path.display()))
}

fn load(dir: &Path) -> Result<KeptJob, String> {
    let meta = read_meta(dir)?;
    let mut outcome: FixOutcome = read_json(&dir.join(RECORD))?;
    let mut files: BTreeMap<u32, Vec<KeptChange>> = read_json(&dir.join(FILES))?;
    for candidate in &mut outcome.candidates {
        let changes = files.remove(&candidate.id).ok_or_else(|| {
            format!(
                "{} has no files for candidate {}",
                dir.join(FILES).display(),
                candidate.id
            )
        })?;
        candidate.files = PatchedFiles {
            changes: changes
                .into_iter()
                .map(|c| FileChange {
                    path: c.path,
                    before: c.before.map(Arc::from),
                    after: c.after,
                })
                .collect(),
        };
    }
    Ok(KeptJob {
        meta,
        outcome,
        dir: dir.to_path_buf(),
    })
}

fn size_of(path: &Path) -> u64 {
    std::fs::read_dir(path)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::Usage;
    use crate::engine::issue::Issue;
    use crate::engine::selection::{select, SelectionConfig, Verdict};
    use crate::job::record::{CandidateRecord, LocalizationRecord, RepairSample};

    /// A one-candidate outcome whose winner changes `a.py`; `verdict` decides `reproduced`.
    fn outcome(title: &str, after: &str) -> FixOutcome {
        let verdict = Verdict {
            regression_failures: Some(0),
            reproduction_passed: Some(true),
        };
        FixOutcome {
            issue: Issue {
                title: title.to_owned(),
                body: "body".to_owned(),
                url: None,
            },
            localization: LocalizationRecord {
                samples: Vec::new(),
                parsed: Vec::new(),
                irrelevant: None,
                retrieval: None,
                given: true,
                contexts: crate::engine::contexts::repair_contexts(&[vec!["a.py".into()]], 1),
                files: vec!["a.py".into()],
            },
            samples: vec![RepairSample {
                index: 0,
                context: 0,
                raw: "raw".into(),
                edits: Vec::new(),
                key: "k".into(),
                error: None,
                candidate: Some(1),
            }],
            candidates: vec![CandidateRecord {
                id: 1,
                key: "k".into(),
                patch: "diff".into(),
                files: PatchedFiles {
                    changes: vec![FileChange {
                        path: "a.py".into(),
                        before: Some(Arc::from("x = 1\n")),
                        after: after.to_owned(),
                    }],
                },
            }],
            ranking: select(&["k"], &|_| verdict, &SelectionConfig::default()),
            verification: None,
            usage: Usage::default(),
            backends: Vec::new(),
            confidence: None,
            early_stop: None,
        }
    }

    const ROOMY: KeepLimits = KeepLimits {
        jobs: 20,
        bytes: u64::MAX,
    };

    #[test]
    fn a_kept_job_reads_back_as_it_was_written() {
        let dir = tempfile::tempdir().unwrap();
        let store = JobStore::at(dir.path().join("jobs"));
        let written = outcome("one", "x = 2\n");
        let path = store.keep(Some("job-3"), "#7", &written, ROOMY).unwrap();
        assert_eq!(path, store.dir().join("job-3"));
        store.mark_applied("job-3", 1).unwrap();
        let (jobs, warnings) = store.load_all();
        assert!(warnings.is_empty(), "{warnings:?}");
        let [job] = &jobs[..] else {
            panic!("expected one kept job, got {}", jobs.len())
        };
        assert_eq!(job.meta.id, "job-3");
        assert_eq!(job.meta.issue_ref, "#7");
        assert_eq!(job.meta.applied, Some(1));
        // The record round-trips field for field, `reproduced`'s inversion included.
        assert_eq!(
            serde_json::to_value(&job.outcome).unwrap(),
            serde_json::to_value(&written).unwrap()
        );
        assert_eq!(job.outcome.candidates[0].files, written.candidates[0].files);
        assert_eq!(job.outcome.ranking, written.ranking);
        assert_eq!(store.next_number(), 4);
    }

    #[test]
    fn a_taken_id_or_none_gets_the_next_free_number() {
        let dir = tempfile::tempdir().unwrap();
        let store = JobStore::at(dir.path().join("jobs"));
        let first = outcome("one", "x = 2\n");
        store.keep(Some("job-1"), "a", &first, ROOMY).unwrap();
        let second = store.keep(Some("job-1"), "b", &first, ROOMY).unwrap();
        assert_eq!(second, store.dir().join("job-2"));
        let third = store.keep(None, "c", &first, ROOMY).unwrap();
        assert_eq!(third, store.dir().join("job-3"));
        let (jobs, _) = store.load_all();
        let refs: Vec<&str> = jobs.iter().map(|j| j.meta.issue_ref.as_str()).collect();
        assert_eq!(refs, ["a", "b", "c"]);
    }

    #[test]
    fn the_oldest_jobs_go_once_the_count_or_the_size_is_passed() {
        let dir = tempfile::tempdir().unwrap();
        let store = JobStore::at(dir.path().join("jobs"));
        let small = outcome("small", "x = 2\n");
        let limits = KeepLimits {
            jobs: 2,
            bytes: u64::MAX,
        };
        for _ in 0..4 {
            store.keep(None, "r", &small, limits).unwrap();
        }
        let ids = |store: &JobStore| -> Vec<String> {
            store.load_all().0.into_iter().map(|j| j.meta.id).collect()
        };
        assert_eq!(ids(&store), ["job-3", "job-4"]);

        // One large job passes the size cap alone: the others go, it stays.
        let size = size_of(&store.dir().join("job-4"));
        let limits = KeepLimits {
            jobs: 10,
            bytes: size * 2,
        };
        let large = outcome("large", &"y = 3\n".repeat(10_000));
        store.keep(None, "r", &large, limits).unwrap();
        assert_eq!(ids(&store), ["job-5"]);
    }

    #[test]
    fn an_unreadable_job_is_skipped_with_a_warning_and_cleaned_first() {
        let dir = tempfile::tempdir().unwrap();
        let store = JobStore::at(dir.path().join("jobs"));
        let good = outcome("good", "x = 2\n");
        store.keep(None, "r", &good, ROOMY).unwrap();
        std::fs::create_dir_all(store.dir().join("job-9")).unwrap();
        std::fs::write(store.dir().join("job-9").join(META), "{not json").unwrap();
        let (jobs, warnings) = store.load_all();
        assert_eq!(jobs.len(), 1);
        assert_eq!(warnings.len(), 1);
        assert!(
            warnings[0].contains("skipped the kept job job-9"),
            "{warnings:?}"
        );

        let limits = KeepLimits {
            jobs: 2,
            bytes: u64::MAX,
        };
        store.keep(None, "r", &good, limits).unwrap();
        let names: Vec<String> = store.entries().map(|(name, _)| name).collect();
        assert!(!names.contains(&"job-9".to_owned()), "{names:?}");
        assert_eq!(names.len(), 2);
    }

    #[test]
    fn the_store_lives_in_the_git_dir_of_a_worktree() {
        let dir = tempfile::tempdir().unwrap();
        let main = dir.path().join("main");
        let git = |cwd: &Path, args: &[&str]| {
            let out = std::process::Command::new("git")
                .args(["-c", "user.name=t", "-c", "user.email=t@t"])
                .args(args)
                .current_dir(cwd)
                .output()
                .unwrap();
            assert!(out.status.success(), "{out:?}");
        };
        std::fs::create_dir_all(&main).unwrap();
        git(&main, &["init", "-q"]);
        git(&main, &["commit", "-q", "--allow-empty", "-m", "init"]);
        git(&main, &["worktree", "add", "-q", "../wt"]);
        let main_store = JobStore::for_repo(&main).unwrap();
        assert!(
            main_store.dir().ends_with(".git/swiss/jobs"),
            "{}",
            main_store.dir().display()
        );
        let wt_store = JobStore::for_repo(&dir.path().join("wt")).unwrap();
        assert!(
            wt_store.dir().ends_with("worktrees/wt/swiss/jobs"),
            "{}",
            wt_store.dir().display()
        );
    }
}
