//! A pool of model servers: scripted backends on 127.0.0.1 with their own speeds and slots, one
//! failing for good, one coming back.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use swiss::backend::{
    BackendClient, BackendConfig, BackendError, ChatMessage, EndpointConfig, EndpointUsage, Sample,
    SamplingParams, Usage,
};
use swiss_testkit::{calc, Fault, PromptKind, Script, ScriptedBackend};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::cli_support::{stderr, stdout_json, swiss, swiss_fix, write_issue};
use crate::lsp_client::TestClient;

fn repair_script() -> Script {
    Script::new().answer(
        PromptKind::Repair,
        (0..8).map(|i| format!("patch number {i}")),
    )
}

fn endpoint(backend: &ScriptedBackend, max_concurrent: Option<usize>) -> EndpointConfig {
    EndpointConfig {
        url: backend.base_url(),
        max_concurrent,
        ..EndpointConfig::default()
    }
}

fn pool(endpoints: Vec<EndpointConfig>, probe_interval: Duration) -> BackendClient {
    BackendClient::new(BackendConfig {
        base_urls: Vec::new(),
        endpoints,
        probe_interval,
        request_timeout: Duration::from_secs(20),
        max_retries: 2,
        initial_backoff: Duration::from_millis(10),
        ..BackendConfig::default()
    })
    .unwrap()
}

async fn sample(client: &BackendClient, n: usize) -> (Result<Usage, BackendError>, Vec<Sample>) {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let prompt = [ChatMessage::user("Fix it with SEARCH/REPLACE edits.")];
    let params = SamplingParams::default();
    let result = client
        .sample(&prompt, n, &params, tx, &CancellationToken::new())
        .await;
    let mut samples = Vec::new();
    while let Ok(sample) = rx.try_recv() {
        samples.push(sample);
    }
    (result, samples)
}

fn asked_of(backend: &ScriptedBackend) -> u64 {
    backend.requests().iter().filter_map(|r| r.n).sum()
}

/// A URL where nothing listens: bound once to get a free port, then released.
fn refused_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}/v1")
}

fn row<'a>(usage: &'a [EndpointUsage], backend_url: &str) -> &'a EndpointUsage {
    usage
        .iter()
        .find(|row| row.url == backend_url)
        .unwrap_or_else(|| panic!("no usage row for {backend_url} in {usage:?}"))
}

#[tokio::test]
async fn the_faster_server_takes_more_samples_and_neither_is_sent_more_than_its_slots() {
    let slow =
        ScriptedBackend::start(repair_script().latency(Duration::from_millis(400)).slots(2)).await;
    let fast =
        ScriptedBackend::start(repair_script().latency(Duration::from_millis(40)).slots(2)).await;
    let client = pool(
        vec![endpoint(&slow, Some(2)), endpoint(&fast, Some(2))],
        Duration::from_secs(30),
    );

    // Three calls at once, as the stages and jobs of `swiss eval` share one client.
    let calls = (0..3).map(|_| sample(&client, 8));
    let results = futures::future::join_all(calls).await;

    for (result, samples) in results {
        result.unwrap();
        assert_eq!(samples.len(), 8);
    }
    let (from_slow, from_fast) = (asked_of(&slow), asked_of(&fast));
    assert_eq!(from_slow + from_fast, 24);
    assert!(
        from_fast >= 2 * from_slow,
        "the fast server took {from_fast} samples, the slow one {from_slow}"
    );
    assert!(slow.peak_in_service() <= 2, "{}", slow.peak_in_service());
    assert!(fast.peak_in_service() <= 2, "{}", fast.peak_in_service());
    let usage = client.usage_by_endpoint();
    assert_eq!(row(&usage, &fast.base_url()).samples, from_fast);
    assert_eq!(row(&usage, &slow.base_url()).samples, from_slow);
    assert_eq!(
        row(&usage, &fast.base_url()).requests,
        fast.requests().len() as u64
    );
}

#[tokio::test]
async fn a_server_down_for_good_is_taken_out_and_every_call_still_gets_n() {
    let live = ScriptedBackend::start(repair_script()).await;
    let dead = refused_url();
    let client = pool(
        vec![
            EndpointConfig {
                url: dead.clone(),
                ..EndpointConfig::default()
            },
            endpoint(&live, None),
        ],
        Duration::from_secs(30),
    );

    let (result, samples) = sample(&client, 6).await;
    result.unwrap();
    assert_eq!(samples.len(), 6);
    let usage = client.usage_by_endpoint();
    let down = row(&usage, &dead);
    assert_eq!((down.samples, down.taken_out), (0, 1));
    assert_eq!(down.failures, 3, "the first attempt and 2 retries");

    // Out of the pool: the next call does not wait on it at all.
    let (result, samples) = sample(&client, 6).await;
    result.unwrap();
    assert_eq!(samples.len(), 6);
    assert_eq!(row(&client.usage_by_endpoint(), &dead).requests, 3);
    assert_eq!(asked_of(&live), 12);
}

#[tokio::test]
async fn open_requests_on_a_server_taken_out_are_asked_again_elsewhere() {
    // The first request the flaky server gets hangs; every later one fails.
    let mut flaky_script = repair_script().fault(Fault::Hang);
    for _ in 0..3 {
        flaky_script = flaky_script.fault(Fault::status(502, "bad gateway"));
    }
    let flaky = ScriptedBackend::start(flaky_script).await;
    let live = ScriptedBackend::start(repair_script()).await;
    let client = Arc::new(pool(
        vec![endpoint(&flaky, None), endpoint(&live, None)],
        Duration::from_secs(30),
    ));

    let started = Instant::now();
    let first = tokio::spawn({
        let client = client.clone();
        async move { sample(&client, 4).await }
    });
    while flaky.requests().is_empty() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (second, second_samples) = sample(&client, 4).await;
    let (first, first_samples) = first.await.unwrap();

    second.unwrap();
    first.unwrap();
    assert_eq!(first_samples.len(), 4);
    assert_eq!(second_samples.len(), 4);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the hanging request was waited for: {:?}",
        started.elapsed()
    );
    let usage = client.usage_by_endpoint();
    assert_eq!(row(&usage, &flaky.base_url()).samples, 0);
    assert_eq!(row(&usage, &flaky.base_url()).taken_out, 1);
    assert_eq!(row(&usage, &live.base_url()).samples, 8);
}

#[tokio::test]
async fn a_server_that_comes_back_is_used_again_after_the_probe() {
    let first_life = ScriptedBackend::start(repair_script()).await;
    let addr = first_life.addr();
    let url = first_life.base_url();
    first_life.shutdown();
    let live = ScriptedBackend::start(repair_script()).await;
    let client = pool(
        vec![
            EndpointConfig {
                url: url.clone(),
                ..EndpointConfig::default()
            },
            endpoint(&live, None),
        ],
        Duration::from_millis(200),
    );

    let (result, samples) = sample(&client, 4).await;
    result.unwrap();
    assert_eq!(samples.len(), 4);
    assert_eq!(row(&client.usage_by_endpoint(), &url).taken_out, 1);

    let back = ScriptedBackend::start_at(addr, repair_script()).await;
    let deadline = Instant::now() + Duration::from_secs(5);
    while back.models_requests() == 0 {
        assert!(Instant::now() < deadline, "the server was never probed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The probe's answer puts it back; give the client a moment to read it.
    tokio::time::sleep(Duration::from_millis(100)).await;

    let (result, samples) = sample(&client, 4).await;
    result.unwrap();
    assert_eq!(samples.len(), 4);
    assert_eq!(asked_of(&back), 2, "split evenly again once it is back");
    assert_eq!(row(&client.usage_by_endpoint(), &url).samples, 2);
}

#[tokio::test]
async fn a_zero_limit_is_refused_when_the_client_is_made() {
    let err = BackendClient::new(BackendConfig {
        max_concurrent: Some(0),
        ..BackendConfig::default()
    })
    .unwrap_err();
    assert!(err.to_string().contains("max_concurrent"), "{err}");
}

/// `[[backend.endpoints]]` tables for swiss.toml, fast retries and a short probe interval aside.
fn endpoints_toml(urls: &[(String, Option<usize>)]) -> String {
    let mut toml = "[backend]\nmax_retries = 1\ntimeout_secs = 5\n".to_owned();
    for (url, max) in urls {
        toml.push_str(&format!("[[backend.endpoints]]\nurl = \"{url}\"\n"));
        if let Some(max) = max {
            toml.push_str(&format!("max_concurrent = {max}\n"));
        }
    }
    toml
}

#[test]
fn a_fix_spreads_over_the_pool_and_reports_each_server_in_json() {
    let repo = calc::repo();
    let fast = ScriptedBackend::start_in_background(calc::script());
    let other = ScriptedBackend::start_in_background(calc::script());
    let dead = refused_url();
    repo.write(
        "swiss.toml",
        &endpoints_toml(&[
            (fast.base_url(), Some(4)),
            (dead.clone(), None),
            (other.base_url(), Some(4)),
        ]),
    );
    let issues = tempfile::tempdir().unwrap();
    let issue = write_issue(issues.path(), calc::ISSUE);
    let output = swiss_fix(
        repo.path(),
        &[
            "--issue",
            &issue,
            "--samples",
            "8",
            "--json",
            "--sandbox",
            "none",
        ],
    )
    .output()
    .unwrap();

    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let json = stdout_json(&output);
    assert_eq!(json["samples"]["total"], 8);
    let backends = json["backends"].as_array().unwrap();
    let urls: Vec<&str> = backends
        .iter()
        .map(|b| b["url"].as_str().unwrap())
        .collect();
    assert_eq!(urls, [fast.base_url(), dead.clone(), other.base_url()]);
    let samples = |i: usize| backends[i]["samples"].as_u64().unwrap();
    assert_eq!(samples(1), 0);
    assert_eq!(backends[1]["taken_out"], 1);
    assert!(backends[1]["failures"].as_u64().unwrap() >= 1);
    assert!(samples(0) > 0 && samples(2) > 0, "{backends:?}");
    let asked = asked_of(&fast) + asked_of(&other);
    assert_eq!(
        samples(0) + samples(2),
        asked,
        "every sample asked for came back"
    );
    for (i, backend) in [(0, &fast), (2, &other)] {
        assert_eq!(
            backends[i]["requests"].as_u64().unwrap(),
            backend.requests().len() as u64
        );
        assert!(backend.peak_in_service() <= 4);
    }

    // Without --json, the summary has a line a server.
    let output = swiss_fix(
        repo.path(),
        &["--issue", &issue, "--samples", "8", "--sandbox", "none"],
    )
    .output()
    .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .find(|line| line.starts_with(&format!("  {dead}: ")))
        .unwrap_or_else(|| panic!("no line for {dead}: {stdout}"));
    assert!(line.contains(": 0 sample(s) in "), "{line}");
    assert!(line.ends_with(", taken out 1×"), "{line}");
    for url in [fast.base_url(), other.base_url()] {
        assert!(stdout.contains(&format!("  {url}: ")), "{stdout}");
    }
}

#[test]
fn doctor_checks_that_each_server_answers_and_serves_its_model() {
    let serving = ScriptedBackend::start_in_background(Script::new().models(["SWE-Swiss-32B"]));
    let wrong = ScriptedBackend::start_in_background(Script::new().models(["another-model"]));
    let dead = refused_url();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("swiss.toml"),
        endpoints_toml(&[
            (serving.base_url(), Some(8)),
            (wrong.base_url(), None),
            (dead.clone(), None),
        ]),
    )
    .unwrap();
    let output = swiss(&["doctor", "--json", "--repo"])
        .arg(dir.path())
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .output()
        .unwrap();
    let report = stdout_json(&output);
    let checks = report["backends"].as_array().unwrap();
    assert_eq!(checks.len(), 3, "{report:#}");
    assert_eq!(checks[0]["ok"], true, "{report:#}");
    assert_eq!(checks[0]["max_concurrent"], 8);
    assert_eq!(checks[1]["ok"], false);
    assert_eq!(checks[1]["model_served"], false);
    assert!(checks[1]["error"]
        .as_str()
        .unwrap()
        .contains("does not serve the model `SWE-Swiss-32B`"));
    assert_eq!(checks[2]["ok"], false);
    assert_eq!(checks[2]["model_served"], Value::Null);
    assert!(checks[2]["error"]
        .as_str()
        .unwrap()
        .starts_with("failed to reach"));
}

#[tokio::test]
async fn the_editor_settings_make_a_pool_for_the_language_server_too() {
    let repo = calc::repo();
    let first = ScriptedBackend::start(calc::script()).await;
    let second = ScriptedBackend::start(calc::script()).await;
    let dead = refused_url();
    let client = TestClient::start();
    let endpoints = json!([
        {"url": first.base_url(), "max_concurrent": 2},
        {"url": dead},
        {"url": second.base_url(), "max_concurrent": 2},
    ]);
    let settings = json!({
        "backend": {"endpoints": endpoints, "max_retries": 0, "timeout_secs": 10},
        "localize": {"samples": 1},
        "repair": {"samples": 8},
        "sandbox": {"kind": "none"},
    });
    client.initialize(repo.path(), json!({}), settings).await;
    client
        .execute("swiss.fixIssue", json!([{"issue": calc::ISSUE}]))
        .await
        .unwrap();
    let report = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            match client
                .execute("swiss.candidates", json!([{"job": "job-1"}]))
                .await
            {
                Ok(report) => break report,
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    })
    .await
    .expect("the job finished");

    let backends = report["backends"].as_array().unwrap();
    assert_eq!(backends.len(), 3, "{report:#}");
    assert_eq!(backends[1]["samples"], 0);
    assert_eq!(backends[1]["taken_out"], 1);
    let repair = |b: &ScriptedBackend| {
        b.requests()
            .iter()
            .filter(|r| r.kind == PromptKind::Repair)
            .count()
    };
    assert!(repair(&first) > 0 && repair(&second) > 0);
    assert!(first.peak_in_service() <= 2 && second.peak_in_service() <= 2);
    client.shutdown().await;
}
