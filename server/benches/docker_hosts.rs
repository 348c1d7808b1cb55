//! Verification over one Docker engine against two (`sandbox.hosts`): a 40-sample job whose
//! samples hold 16 unique candidates, each tested once, the tests taking 2 s a run (the calc
//! fixture with a conftest.py that sleeps). One engine with 2 slots, then the same engine and a
//! second one (started here, the test image copied into it) with 2 slots each. Times cover the
//! whole verification: the job image on each host, the baseline and the 16 runs. Needs the test
//! image (SWISS_TEST_IMAGE, default swiss-python:ci) and dockerd; prints one table; run with
//! `cargo bench --bench docker_hosts`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use swiss::engine::apply::{FileChange, PatchedFiles};
use swiss::engine::snapshot::{RepoSnapshot, DEFAULT_MAX_FILE_BYTES};
use swiss::sandbox::docker::DockerLimits;
use swiss::sandbox::docker_endpoint::DockerEndpoint;
use swiss::sandbox::docker_pool::{DockerPool, PoolSettings};
use swiss::sandbox::{BaseFile, Sandbox};
use swiss::verify::test_command::{from_setting, PYTEST_COMMAND};
use swiss::verify::verifier::TestPlan;
use swiss_testkit::{calc, median, FixtureRepo, SecondEngine};
use tokio_util::sync::CancellationToken;

const SAMPLES: usize = 40;
const UNIQUE: usize = 16;
const SLOTS: usize = 2;
const TEST_SECS: u32 = 2;
const ROUNDS: usize = 3;

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

/// The baseline, then every unique candidate, as many at once as the hosts have slots.
async fn verify(
    files: Vec<BaseFile>,
    image: &str,
    endpoints: Vec<DockerEndpoint>,
    plan: &TestPlan,
    unique: &[PatchedFiles],
) -> Duration {
    let cancel = CancellationToken::new();
    let start = Instant::now();
    let settings = PoolSettings {
        endpoints,
        default_slots: SLOTS,
        pull: false,
    };
    let sandbox = DockerPool::prepare(files, DockerLimits::new(image), settings)
        .await
        .expect("docker pool");
    let baseline = plan.baseline(&sandbox, &cancel).await.expect("baseline");
    let permits = tokio::sync::Semaphore::new(sandbox.capacity().unwrap_or(SLOTS));
    let runs = unique.iter().map(|files| async {
        let _permit = permits.acquire().await.expect("permit");
        plan.candidate(&sandbox, &baseline, None, files, &cancel)
            .await
            .expect("candidate")
    });
    let results = futures::future::join_all(runs).await;
    assert!(results.iter().all(|r| r.regression_failures == Some(0)));
    let elapsed = start.elapsed();
    sandbox.cleanup().await;
    elapsed
}

#[allow(clippy::print_stdout)]
fn main() {
    let image = std::env::var("SWISS_TEST_IMAGE").unwrap_or_else(|_| "swiss-python:ci".to_owned());
    let conftest = format!("import time\ntime.sleep({TEST_SECS})\n");
    let mut fixture: Vec<(&str, &str)> = calc::FILES.to_vec();
    fixture.push(("conftest.py", &conftest));
    let repo = FixtureRepo::with_files(&fixture);
    let snapshot = RepoSnapshot::open(repo.path(), DEFAULT_MAX_FILE_BYTES).expect("snapshot");
    let files = snapshot.base_files().expect("files");
    let plan = TestPlan {
        test: from_setting(PYTEST_COMMAND, None, None),
        timeout: Duration::from_secs(300),
        python: "python3".to_owned(),
        env: Vec::new(),
        script: None,
    };
    let unique = candidates();
    let second = SecondEngine::start(&image);
    let local = DockerEndpoint::local();
    let other = DockerEndpoint::parse(&second.address()).expect("endpoint");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut one = Vec::new();
    let mut two = Vec::new();
    for _ in 0..ROUNDS {
        one.push(runtime.block_on(verify(
            files.clone(),
            &image,
            vec![local.clone()],
            &plan,
            &unique,
        )));
        two.push(runtime.block_on(verify(
            files.clone(),
            &image,
            vec![local.clone(), other.clone()],
            &plan,
            &unique,
        )));
    }
    let (one, two) = (median(one), median(two));
    println!("verification of {SAMPLES} samples, {UNIQUE} unique candidates, tests of {TEST_SECS} s (docker, calc fixture, median of {ROUNDS})");
    println!(
        "  one engine, {SLOTS} slots:          {:>8.2} s",
        one.as_secs_f64()
    );
    println!(
        "  two engines, {SLOTS} slots each:    {:>8.2} s",
        two.as_secs_f64()
    );
    println!(
        "  ratio: {:.2}x (2x is the most two engines can give)",
        one.as_secs_f64() / two.as_secs_f64()
    );
}
