//! The job the verified benches time: the calc issue on the calc fixture, tested in the local
//! sandbox with pytest from the tests' venv (so a bench needs none installed).

use std::sync::Arc;

use swiss::backend::BackendClient;
use swiss::config::{Options, Settings};
use swiss::engine::issue::Issue;
use swiss::engine::snapshot::{RepoSnapshot, DEFAULT_MAX_FILE_BYTES};
use swiss::job::JobContext;
use swiss::prompts::Prompts;
use swiss_testkit::{calc, FixtureRepo, ScriptedBackend};

/// `samples` repair samples from `backend`; `tweak` sets whatever the bench compares.
pub fn calc_job(
    repo: &FixtureRepo,
    backend: &ScriptedBackend,
    samples: usize,
    tweak: impl FnOnce(&mut Options),
) -> JobContext {
    let mut options = Options::default();
    options.backend.urls = Some(vec![backend.base_url()]);
    options.repair.samples = Some(samples);
    options.sandbox.kind = Some("local".to_owned());
    options.test.python = Some(swiss_testkit::pytest_venv().python().display().to_string());
    tweak(&mut options);
    let settings = Settings::resolve(&options).expect("settings");
    let client = Arc::new(BackendClient::new(settings.backend_config()).expect("client"));
    let snapshot =
        Arc::new(RepoSnapshot::open(repo.path(), DEFAULT_MAX_FILE_BYTES).expect("snapshot"));
    let issue = Issue::from_text(calc::ISSUE, "bench").expect("issue");
    JobContext::new(snapshot, issue, settings, Prompts::default(), client)
}
