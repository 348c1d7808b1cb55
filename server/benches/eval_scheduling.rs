//! What `swiss eval` adds around each job, and what `--jobs` buys. Eight instances of the calc
//! fixture, each verified with a no-op test command (`true`) in the local sandbox:
//! - overhead: a zero-latency backend, `--jobs 1`; the eval's time per instance (checkout,
//!   settings, record, predictions line) against the bare job on an already open snapshot;
//! - overlap: every request waits `DELAY`, as a model's generation does; `--jobs 1` vs `--jobs 4`.
//!
//! Prints one table; run with `cargo bench -p swiss --bench eval_scheduling`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use swiss::backend::BackendClient;
use swiss::config::{Options, Settings};
use swiss::engine::issue::Issue;
use swiss::engine::snapshot::{RepoSnapshot, DEFAULT_MAX_FILE_BYTES};
use swiss::eval::instances::Instance;
use swiss::eval::prepare::EvalOptions;
use swiss::eval::repo_config::RepoConfig;
use swiss::eval::run::{run_eval, EvalEnd, EvalPlan};
use swiss::eval::solve::Shared;
use swiss::job::{run_fix, JobCancel, JobContext};
use swiss::prompts::Prompts;
use swiss_testkit::median;
use swiss_testkit::{calc, FixtureRepo, ScriptedBackend};

const INSTANCES: usize = 8;
const SAMPLES: usize = 8;
const DELAY: Duration = Duration::from_millis(500);

fn options(backend: &ScriptedBackend) -> Options {
    let mut options = Options::default();
    options.backend.urls = Some(vec![backend.base_url()]);
    options.repair.samples = Some(SAMPLES);
    options.sandbox.kind = Some("local".to_owned());
    options.test.command = Some("true".to_owned());
    options
}

fn instances(repo: &FixtureRepo) -> Vec<Instance> {
    let head = git2::Repository::open(repo.path())
        .and_then(|r| r.head()?.peel_to_commit().map(|c| c.id().to_string()))
        .expect("head");
    (0..INSTANCES)
        .map(|i| {
            serde_json::from_value(serde_json::json!({
                "instance_id": format!("acme__calc-{i}"),
                "repo": "acme/calc",
                "base_commit": head,
                "problem_statement": calc::ISSUE,
            }))
            .expect("instance")
        })
        .collect()
}

/// The wall time of one `swiss eval` over the instances.
fn eval(
    repo: &FixtureRepo,
    delay: Duration,
    jobs: usize,
    runtime: &tokio::runtime::Runtime,
) -> Duration {
    let backend = ScriptedBackend::start_in_background(calc::verification_script().latency(delay));
    let repos = tempfile::tempdir().expect("repos");
    std::os::unix::fs::symlink(repo.path(), repos.path().join("acme__calc")).expect("link");
    let output = tempfile::tempdir().expect("output");
    let options = options(&backend);
    let settings = Settings::resolve(&options).expect("settings");
    let shared = Arc::new(Shared {
        eval: EvalOptions {
            repos: repos.path().to_path_buf(),
            run: options,
            image_template: None,
            repo_config: RepoConfig::default(),
        },
        client: Arc::new(BackendClient::new(settings.backend_config()).expect("client")),
        prompts: Prompts::default(),
        sandbox_permits: Arc::new(tokio::sync::Semaphore::new(settings.concurrency)),
        model_name: "bench".to_owned(),
        grade: false,
        output: output.path().to_path_buf(),
    });
    let plan = EvalPlan {
        instances: instances(repo),
        jobs,
        resume: false,
    };
    let start = Instant::now();
    let (end, report) = runtime
        .block_on(run_eval(shared, plan, JobCancel::new()))
        .expect("eval");
    let elapsed = start.elapsed();
    let errors: Vec<_> = report
        .instances
        .iter()
        .filter_map(|i| i.error.as_ref())
        .collect();
    assert_eq!(end, EvalEnd::Completed, "{errors:?}");
    assert_eq!(report.summary.with_winner, INSTANCES, "{errors:?}");
    elapsed
}

/// One bare job on an open snapshot: what each instance costs without the eval around it.
fn bare_job(repo: &FixtureRepo, runtime: &tokio::runtime::Runtime) -> Duration {
    let backend = ScriptedBackend::start_in_background(calc::verification_script());
    let settings = Settings::resolve(&options(&backend)).expect("settings");
    let client = Arc::new(BackendClient::new(settings.backend_config()).expect("client"));
    let snapshot =
        Arc::new(RepoSnapshot::open(repo.path(), DEFAULT_MAX_FILE_BYTES).expect("snapshot"));
    let ctx = JobContext::new(
        snapshot,
        Issue::verbatim(calc::ISSUE),
        settings,
        Prompts::default(),
        client,
    );
    let start = Instant::now();
    let outcome = runtime.block_on(run_fix(&ctx)).expect("job");
    assert!(outcome.winner().is_some());
    start.elapsed()
}

#[allow(clippy::print_stdout)]
fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let repo = calc::repo();
    let job = median((0..INSTANCES).map(|_| bare_job(&repo, &runtime)).collect());
    let eval_per_instance = median(
        (0..3)
            .map(|_| eval(&repo, Duration::ZERO, 1, &runtime) / INSTANCES as u32)
            .collect(),
    );
    println!(
        "zero-latency backend, --jobs 1: {:.1} ms an instance in swiss eval, {:.1} ms the bare job: {:.1} ms of scheduling, checkout and writing",
        eval_per_instance.as_secs_f64() * 1e3,
        job.as_secs_f64() * 1e3,
        (eval_per_instance.as_secs_f64() - job.as_secs_f64()) * 1e3
    );
    let one = eval(&repo, DELAY, 1, &runtime);
    let four = eval(&repo, DELAY, 4, &runtime);
    println!(
        "{INSTANCES} instances, {} ms a request: --jobs 1 {:.2} s, --jobs 4 {:.2} s ({:.2}x)",
        DELAY.as_millis(),
        one.as_secs_f64(),
        four.as_secs_f64(),
        one.as_secs_f64() / four.as_secs_f64()
    );
}
