//! Verification the Swiss way against the SWE-bench-harness way, for 40 samples that hold 8 unique
//! candidates: one prepared sandbox, a baseline, and the 8 unique candidates tested, versus the
//! same baseline and then a fresh sandbox and a full test run for each of the 40 samples. Each way
//! runs 1 and 2 at a time, so that what deduplication buys (equal concurrency) reads apart from
//! what parallelism buys.
//! Docker is used when the test image is there (SWISS_TEST_IMAGE, default swiss-python:ci),
//! else the local sandbox. Prints one table; run with `cargo bench --bench verification_dedup`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use swiss::engine::apply::{FileChange, PatchedFiles};
use swiss::engine::snapshot::{RepoSnapshot, DEFAULT_MAX_FILE_BYTES};
use swiss::sandbox::docker::{DockerLimits, DockerSandbox};
use swiss::sandbox::local::{LocalLimits, LocalSandbox};
use swiss::sandbox::{BaseFile, Sandbox};
use swiss::verify::test_command::{from_setting, PYTEST_COMMAND};
use swiss::verify::verifier::TestPlan;
use swiss_testkit::calc;
use tokio_util::sync::CancellationToken;

const SAMPLES: usize = 40;
const UNIQUE: usize = 8;
const CONCURRENCY: usize = 2;

async fn sandbox(files: Vec<BaseFile>, image: Option<&str>) -> Arc<dyn Sandbox> {
    match image {
        Some(image) => Arc::new(
            DockerSandbox::prepare(files, DockerLimits::new(image))
                .await
                .expect("docker sandbox"),
        ),
        None => Arc::new(
            LocalSandbox::prepare(files, LocalLimits::default())
                .await
                .expect("local sandbox"),
        ),
    }
}

fn candidates() -> Vec<PatchedFiles> {
    (0..UNIQUE)
        .map(|i| PatchedFiles {
            changes: vec![FileChange {
                path: "calc/ops.py".to_owned(),
                before: Some(Arc::from(calc::OPS)),
                after: calc::OPS.replace("return a // b", &format!("return a / b + {i} * 0")),
            }],
        })
        .collect()
}

fn docker_image() -> Option<String> {
    let image = std::env::var("SWISS_TEST_IMAGE").unwrap_or_else(|_| "swiss-python:ci".to_owned());
    let found = std::process::Command::new("docker")
        .args(["image", "inspect", &image])
        .output()
        .is_ok_and(|o| o.status.success());
    found.then_some(image)
}

#[allow(clippy::print_stdout)]
fn main() {
    let repo = calc::repo();
    let snapshot = RepoSnapshot::open(repo.path(), DEFAULT_MAX_FILE_BYTES).expect("snapshot");
    let files = snapshot.base_files().expect("files");
    let image = docker_image();
    // In Docker the image's python3 runs pytest; locally the tests' venv does, so the bench needs
    // no pytest installed.
    let python = match image {
        Some(_) => "python3".to_owned(),
        None => swiss_testkit::pytest_venv().python().display().to_string(),
    };
    let plan = TestPlan {
        test: from_setting(&PYTEST_COMMAND.replacen("python3", &python, 1), None, None),
        timeout: Duration::from_secs(300),
        python,
        env: Vec::new(),
        script: None,
    };
    let unique = candidates();
    let cancel = CancellationToken::new();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let image = image.as_deref();
    let time_swiss = |at_once: usize| {
        runtime.block_on(swiss_way(&files, image, &plan, &unique, at_once, &cancel))
    };
    let time_harness = |at_once: usize| {
        runtime.block_on(harness_way(&files, image, &plan, &unique, at_once, &cancel))
    };
    let (swiss_1, swiss_2) = (time_swiss(1), time_swiss(CONCURRENCY));
    let (harness_1, harness_2) = (time_harness(1), time_harness(CONCURRENCY));

    let kind = if image.is_some() { "docker" } else { "local" };
    let s = |d: Duration| d.as_secs_f64();
    println!("verification of {SAMPLES} samples with {UNIQUE} unique candidates ({kind} sandbox, calc fixture, pytest)");
    println!("  swiss (prepare once, baseline once, the {UNIQUE} unique only), runs at once:  1: {:>6.2} s   {CONCURRENCY}: {:>6.2} s", s(swiss_1), s(swiss_2));
    println!("  harness way (baseline, then a fresh sandbox + run for each of {SAMPLES}):     1: {:>6.2} s   {CONCURRENCY}: {:>6.2} s", s(harness_1), s(harness_2));
    println!(
        "  swiss at {CONCURRENCY} vs the harness at 1 (as the two are usually run): {:.1}x",
        s(harness_1) / s(swiss_2)
    );
    println!(
        "  at equal concurrency, what deduplication and the shared preparation buy: {:.1}x at 1, {:.1}x at {CONCURRENCY}",
        s(harness_1) / s(swiss_1),
        s(harness_2) / s(swiss_2)
    );
    println!(
        "  what {CONCURRENCY} runs at once buy: swiss {:.2}x, harness way {:.2}x",
        s(swiss_1) / s(swiss_2),
        s(harness_1) / s(harness_2)
    );
}

/// One prepared sandbox, one baseline, the unique candidates `at_once` at a time.
async fn swiss_way(
    files: &[BaseFile],
    image: Option<&str>,
    plan: &TestPlan,
    unique: &[PatchedFiles],
    at_once: usize,
    cancel: &CancellationToken,
) -> Duration {
    let start = Instant::now();
    let sandbox = sandbox(files.to_vec(), image).await;
    let baseline = plan.baseline(&*sandbox, cancel).await.expect("baseline");
    let semaphore = tokio::sync::Semaphore::new(at_once);
    let runs = unique.iter().map(|files| async {
        let _permit = semaphore.acquire().await.expect("permit");
        plan.candidate(&*sandbox, &baseline, None, files, cancel)
            .await
            .expect("candidate")
    });
    let results = futures::future::join_all(runs).await;
    assert!(results.iter().all(|r| r.regression_failures == Some(0)));
    sandbox.cleanup().await;
    start.elapsed()
}

/// The same baseline, then each of the samples (duplicates included) in a fresh sandbox of its
/// own, `at_once` at a time.
async fn harness_way(
    files: &[BaseFile],
    image: Option<&str>,
    plan: &TestPlan,
    unique: &[PatchedFiles],
    at_once: usize,
    cancel: &CancellationToken,
) -> Duration {
    let start = Instant::now();
    let first = sandbox(files.to_vec(), image).await;
    let baseline = plan.baseline(&*first, cancel).await.expect("baseline");
    first.cleanup().await;
    let semaphore = tokio::sync::Semaphore::new(at_once);
    let runs = (0..SAMPLES).map(|i| {
        let (semaphore, baseline) = (&semaphore, &baseline);
        async move {
            let _permit = semaphore.acquire().await.expect("permit");
            let sandbox = sandbox(files.to_vec(), image).await;
            plan.candidate(&*sandbox, baseline, None, &unique[i % UNIQUE], cancel)
                .await
                .expect("candidate");
            sandbox.cleanup().await;
        }
    });
    futures::future::join_all(runs).await;
    start.elapsed()
}
