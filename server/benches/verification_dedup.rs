//! Verification the Swiss way against the SWE-bench-harness way, for 40 samples that hold 8 unique
//! candidates: one prepared sandbox, a baseline, and the 8 unique candidates tested (2 at a time),
//! versus the same baseline and then a fresh sandbox and a full test run for each of the 40
//! samples one by one.
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
        test: from_setting(&PYTEST_COMMAND.replacen("python3", &python, 1), None),
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

    let swiss_way = runtime.block_on(async {
        let start = Instant::now();
        let sandbox = sandbox(files.clone(), image.as_deref()).await;
        let baseline = plan.baseline(&*sandbox, &cancel).await.expect("baseline");
        let semaphore = tokio::sync::Semaphore::new(CONCURRENCY);
        let runs = unique.iter().map(|files| async {
            let _permit = semaphore.acquire().await.expect("permit");
            plan.candidate(&*sandbox, &baseline, None, files, &cancel)
                .await
                .expect("candidate")
        });
        let results = futures::future::join_all(runs).await;
        assert!(results.iter().all(|r| r.regression_failures == Some(0)));
        sandbox.cleanup().await;
        start.elapsed()
    });

    let harness_way = runtime.block_on(async {
        let start = Instant::now();
        let first = sandbox(files.clone(), image.as_deref()).await;
        let baseline = plan.baseline(&*first, &cancel).await.expect("baseline");
        first.cleanup().await;
        for i in 0..SAMPLES {
            let sandbox = sandbox(files.clone(), image.as_deref()).await;
            plan.candidate(&*sandbox, &baseline, None, &unique[i % UNIQUE], &cancel)
                .await
                .expect("candidate");
            sandbox.cleanup().await;
        }
        start.elapsed()
    });

    let kind = if image.is_some() { "docker" } else { "local" };
    println!("verification of {SAMPLES} samples with {UNIQUE} unique candidates ({kind} sandbox, calc fixture, pytest)");
    println!("  swiss (prepare once, baseline once, {UNIQUE} unique, {CONCURRENCY} at a time): {:>8.2} s", swiss_way.as_secs_f64());
    println!(
        "  harness way (baseline, then a fresh sandbox + run for each of {SAMPLES}):{:>8.2} s",
        harness_way.as_secs_f64()
    );
    println!(
        "  ratio: {:.1}x",
        harness_way.as_secs_f64() / swiss_way.as_secs_f64()
    );
}
