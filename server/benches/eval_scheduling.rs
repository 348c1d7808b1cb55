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
use swiss::job::{run_fix, JobContext};
use swiss::prompts::Prompts;
use swiss_testkit::median;
use swiss_testkit::{calc, FixtureRepo, ScriptedBackend};

#[path = "support/calc_eval.rs"]
mod calc_eval;
use calc_eval::{eval, INSTANCES};

const DELAY: Duration = Duration::from_millis(500);

/// Every test run a no-op in the local sandbox: what is timed is the eval around the job.
fn local_noop(options: &mut Options) {
    options.sandbox.kind = Some("local".to_owned());
    options.test.command = Some("true".to_owned());
}

/// One bare job on an open snapshot: what each instance costs without the eval around it.
fn bare_job(repo: &FixtureRepo, runtime: &tokio::runtime::Runtime) -> Duration {
    let backend = ScriptedBackend::start_in_background(calc::verification_script());
    let options = calc_eval::options(&backend, &local_noop);
    let settings = Settings::resolve(&options).expect("settings");
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
            .map(|_| eval(&repo, Duration::ZERO, 1, &runtime, &local_noop) / INSTANCES as u32)
            .collect(),
    );
    println!(
        "zero-latency backend, --jobs 1: {:.1} ms an instance in swiss eval, {:.1} ms the bare job: {:.1} ms of scheduling, checkout and writing",
        eval_per_instance.as_secs_f64() * 1e3,
        job.as_secs_f64() * 1e3,
        (eval_per_instance.as_secs_f64() - job.as_secs_f64()) * 1e3
    );
    let one = eval(&repo, DELAY, 1, &runtime, &local_noop);
    let four = eval(&repo, DELAY, 4, &runtime, &local_noop);
    println!(
        "{INSTANCES} instances, {} ms a request: --jobs 1 {:.2} s, --jobs 4 {:.2} s ({:.2}x)",
        DELAY.as_millis(),
        one.as_secs_f64(),
        four.as_secs_f64(),
        one.as_secs_f64() / four.as_secs_f64()
    );
}
