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
use swiss_testkit::{calc, FixtureRepo};
use tokio_util::sync::CancellationToken;

#[path = "support/two_engines.rs"]
mod two_engines;
use two_engines::{print_comparison, TwoEngines};

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
    let engines = TwoEngines::start();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (one, two) = engines.compare(ROUNDS, |hosts| {
        runtime.block_on(verify(
            files.clone(),
            &engines.image,
            hosts.to_vec(),
            &plan,
            &unique,
        ))
    });
    println!("verification of {SAMPLES} samples, {UNIQUE} unique candidates, tests of {TEST_SECS} s (docker, calc fixture, median of {ROUNDS})");
    print_comparison(SLOTS, one, two);
}
