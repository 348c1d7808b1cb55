//! Per-candidate overhead of each sandbox: a no-op `true` run (start to result, with the copy or
//! container it needs) over a repository of 500 small files, plus the once-per-job preparation.
//! Docker is measured where an engine answers and the test image (`SWISS_TEST_IMAGE`, default
//! `swiss-python:ci`, built by `.ci/docker-setup.sh`) is present.

use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use swiss::sandbox::docker::{DockerLimits, DockerSandbox};
use swiss::sandbox::local::{LocalLimits, LocalSandbox};
use swiss::sandbox::{BaseFile, RunSpec, Sandbox};
use tokio_util::sync::CancellationToken;

const FILES: usize = 500;

fn base_files() -> Vec<BaseFile> {
    (0..FILES)
        .map(|i| BaseFile {
            path: format!("pkg{}/module_{i}.py", i % 20),
            bytes: Arc::from(format!("def f_{i}(x):\n    return x + {i}\n").into_bytes()),
            executable: false,
        })
        .collect()
}

fn no_op() -> RunSpec {
    RunSpec {
        command: "true".to_owned(),
        timeout: Duration::from_secs(60),
        ..RunSpec::default()
    }
}

fn run_once(runtime: &tokio::runtime::Runtime, sandbox: &dyn Sandbox) {
    let out = runtime
        .block_on(sandbox.run(no_op(), CancellationToken::new()))
        .expect("the no-op runs");
    assert_eq!(out.exit_code, Some(0));
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut group = c.benchmark_group("sandbox_overhead");
    group.sample_size(20);

    let local = runtime
        .block_on(LocalSandbox::prepare(base_files(), LocalLimits::default()))
        .unwrap();
    group.bench_function("local/run_true", |b| b.iter(|| run_once(&runtime, &local)));
    runtime.block_on(local.cleanup());

    let image = std::env::var("SWISS_TEST_IMAGE").unwrap_or_else(|_| "swiss-python:ci".to_owned());
    let prepare = || DockerSandbox::prepare(base_files(), DockerLimits::new(image.clone()));
    match runtime.block_on(prepare()) {
        Ok(docker) => {
            group.bench_function("docker/run_true", |b| {
                b.iter(|| run_once(&runtime, &docker))
            });
            runtime.block_on(docker.cleanup());
            group.sample_size(10);
            group.bench_function("docker/prepare", |b| {
                b.iter(|| {
                    let sandbox = runtime.block_on(prepare()).unwrap();
                    runtime.block_on(sandbox.cleanup());
                })
            });
        }
        Err(e) => skip(&e),
    }
    group.finish();
}

#[allow(
    clippy::print_stderr,
    reason = "a bench that cannot run says so on the terminal"
)]
fn skip(e: &swiss::sandbox::SandboxError) {
    eprintln!("sandbox_overhead: Docker not measured: {e}");
}

criterion_group!(benches, bench);
criterion_main!(benches);
