//! Engine overhead of a 40-sample `swiss fix` on a repository of 5,000 tracked files, against the
//! scripted backend with zero latency: everything but waiting for a model. The same prompts sent
//! straight through the client (no engine) give the loopback HTTP cost to compare with.

use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion};
use swiss::backend::{BackendClient, BackendConfig, ChatMessage, SamplingParams};
use swiss::config::{Options, Settings};
use swiss::engine::issue::Issue;
use swiss::engine::localize::structure_tree;
use swiss::engine::snapshot::{RepoSnapshot, DEFAULT_MAX_FILE_BYTES};
use swiss::job::{run_fix, JobContext};
use swiss::prompts::Prompts;
use swiss_testkit::{calc, FixtureRepo, PromptKind, Script, ScriptedBackend};
use tokio_util::sync::CancellationToken;

const FILES: usize = 5_000;
const SAMPLES: usize = 40;

fn bench(c: &mut Criterion) {
    let repo = FixtureRepo::large(FILES);
    let backend = ScriptedBackend::start_in_background(
        Script::new()
            .answer(PromptKind::Localize, [calc::LOCALIZE_ANSWER])
            .answer(
                PromptKind::Repair,
                [
                    calc::FIX_A,
                    calc::FIX_B,
                    calc::FIX_C,
                    calc::WRONG_ADD,
                    calc::NOT_FOUND,
                    calc::PROSE,
                ],
            ),
    );
    let mut options = Options::default();
    options.backend.urls = Some(vec![backend.base_url()]);
    options.repair.samples = Some(SAMPLES);
    // Verification has its own bench (sandbox_overhead); this one measures the engine alone.
    options.sandbox.kind = Some("none".to_owned());
    let settings = Settings::resolve(&options).expect("settings");
    let client = Arc::new(
        BackendClient::new(BackendConfig {
            base_urls: settings.backend_urls.clone(),
            ..BackendConfig::default()
        })
        .expect("client"),
    );
    let issue = Issue::from_text(calc::ISSUE, "bench").expect("issue");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let cancel = CancellationToken::new();

    let mut group = c.benchmark_group("engine_overhead");
    group.sample_size(20);
    group.bench_function("snapshot_open_5000_files", |b| {
        b.iter(|| RepoSnapshot::open(repo.path(), DEFAULT_MAX_FILE_BYTES).expect("snapshot"))
    });
    group.bench_function("fix_40_samples_5000_files", |b| {
        b.iter(|| {
            let snapshot = Arc::new(
                RepoSnapshot::open(repo.path(), DEFAULT_MAX_FILE_BYTES).expect("snapshot"),
            );
            let ctx = JobContext::new(
                snapshot,
                issue.clone(),
                settings.clone(),
                Prompts::default(),
                client.clone(),
            );
            let outcome = runtime.block_on(run_fix(&ctx)).expect("job");
            assert!(outcome.winner().is_some());
            outcome
        })
    });
    // The two requests a job makes, without the engine: what the loopback backend itself costs.
    let snapshot = RepoSnapshot::open(repo.path(), DEFAULT_MAX_FILE_BYTES).expect("snapshot");
    let structure = structure_tree(snapshot.paths());
    let localize = [ChatMessage::user(format!(
        "Repository Structure\n{structure}"
    ))];
    let repair = [ChatMessage::user(format!("SEARCH/REPLACE\n{}", calc::OPS))];
    group.bench_function("backend_only_4_plus_40_samples", |b| {
        b.iter(|| {
            runtime.block_on(async {
                for (messages, n) in [(&localize, 4), (&repair, SAMPLES)] {
                    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
                    client
                        .sample(messages, n, &SamplingParams::default(), tx, &cancel)
                        .await
                        .expect("sample");
                    while rx.try_recv().is_ok() {}
                }
            })
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
