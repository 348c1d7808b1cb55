//! The `swiss eval` the scheduling benches time: eight instances of the calc fixture, answered by
//! the scripted backend; `tweak` sets the sandbox and the test command each bench compares.

use std::sync::Arc;
use std::time::{Duration, Instant};

use swiss::backend::BackendClient;
use swiss::config::{Options, Settings};
use swiss::eval::instances::Instance;
use swiss::eval::prepare::EvalOptions;
use swiss::eval::repo_config::RepoConfig;
use swiss::eval::run::{run_eval, EvalEnd, EvalPlan};
use swiss::eval::solve::Shared;
use swiss::job::{sandbox_capacity, JobCancel};
use swiss::prompts::Prompts;
use swiss_testkit::{calc, FixtureRepo, ScriptedBackend};

pub const INSTANCES: usize = 8;
pub const SAMPLES: usize = 8;

/// The backend and sample count every eval bench shares; the sandbox is the caller's.
pub fn options(backend: &ScriptedBackend, tweak: &dyn Fn(&mut Options)) -> Options {
    let mut options = Options::default();
    options.backend.urls = Some(vec![backend.base_url()]);
    options.repair.samples = Some(SAMPLES);
    tweak(&mut options);
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

/// The wall time of one `swiss eval --jobs JOBS` over the instances, every request waiting
/// `delay`; the sandbox permits are what `swiss eval` gives (every host's slots).
pub fn eval(
    repo: &FixtureRepo,
    delay: Duration,
    jobs: usize,
    runtime: &tokio::runtime::Runtime,
    tweak: &dyn Fn(&mut Options),
) -> Duration {
    let backend = ScriptedBackend::start_in_background(calc::verification_script().latency(delay));
    let repos = tempfile::tempdir().expect("repos");
    std::os::unix::fs::symlink(repo.path(), repos.path().join("acme__calc")).expect("link");
    let output = tempfile::tempdir().expect("output");
    let options = options(&backend, tweak);
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
        sandbox_permits: Arc::new(tokio::sync::Semaphore::new(sandbox_capacity(&settings))),
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
