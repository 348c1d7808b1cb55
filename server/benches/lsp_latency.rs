//! Editor-facing latency of `swiss lsp` while a job runs (issue 4, "Performance"): hover,
//! codeAction and didChange round-trips while a 40-sample job WITH verification (local sandbox,
//! the calc fixture's pytest suite plus model-written reproduction scripts) runs in the
//! background, against the same requests with no job at all.
//!
//! Setup: the real server in-process over `tokio::io::duplex`, driven by the integration tests'
//! client (tests/it/lsp_client.rs), on one multi-thread tokio runtime with the default worker
//! count (one per core, as `swiss lsp` builds it). The scripted backend runs on its own thread;
//! it answers one sample per request (`ignore_n`, like llama.cpp or Ollama) after
//! `BACKEND_LATENCY`, so the 40 repair samples trickle in eight at a time (the client's bound
//! on requests in flight) and each one is parsed and reported while we measure. Verification
//! then runs pytest (the baseline, then every unique candidate) and the reproduction scripts in
//! the local sandbox, two at a time (`sandbox.concurrency` default), competing for the cores.
//!
//! One round is, in this order and each timed from just before the client writes the request
//! to when its reply has been read back:
//! - `hover` on line 0 of calc/ops.py, where the job's "localized" diagnostic sits (it answers
//!   the job's stage while the job runs, `null` with no job);
//! - `codeAction` on the same spot, with the Swiss diagnostics the server last published there
//!   in `context.diagnostics` (the "Cancel Swiss job" quick fix and the "Fix issue" actions);
//! - `didChange`: an incremental edit of calc/ops.py's last line (one new version each round).
//!   A notification has no reply, so it is timed as the notification followed at once by a
//!   cheap request (`swiss/ping`, a method the server does not have: parsed, routed, answered
//!   MethodNotFound), until that request's reply. The server applies a change before its
//!   handler's first await and starts handlers in arrival order, so the reply comes after the
//!   change has landed; every 20 rounds (untimed) a codeAction on that line checks that the
//!   buffer holds the newest version (it offers "Fix issue #<version>");
//! - `ping` alone, the transport and dispatch floor, to subtract from the didChange row.
//!
//! Rounds are paced to spread `ROUNDS` of them over one job's length, measured by an untimed
//! calibration job first (which also warms pytest up). The no-job rounds use the same pacing.
//! A job that ends before `ROUNDS` rounds are in is dismissed and another one started; only
//! rounds that begin while a job runs count as "job". Job rounds are also split by stage:
//! localization and sampling (progress < 70 %) versus verification and selection.
//!
//! `cargo bench -p swiss --bench lsp_latency` prints the tables; the run itself takes about 20 s.

#![allow(clippy::print_stdout)]

#[allow(dead_code)]
#[path = "../../tests/it/lsp_client.rs"]
mod lsp_client;

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use swiss_testkit::{calc, FixtureRepo, PromptKind, Script, ScriptedBackend};

use lsp_client::{uri, TestClient};

const ROUNDS: usize = 200;
const WARMUP_ROUNDS: usize = 30;
const REPAIR_SAMPLES: usize = 40;
const BACKEND_LATENCY: Duration = Duration::from_millis(500);
const JOB_TIMEOUT: Duration = Duration::from_secs(120);
/// The line of calc/ops.py each didChange rewrites: the comment the bench appends.
fn edited_line(version: i32) -> String {
    format!("# edited by the latency bench, see #{version}\n")
}

fn script() -> Script {
    Script::new()
        .ignore_n()
        .latency(BACKEND_LATENCY)
        .answer(PromptKind::Localize, [calc::LOCALIZE_ANSWER])
        .answer(
            PromptKind::Repair,
            [
                calc::FIX_A,
                calc::WRONG_BREAKS_TEST,
                calc::FIX_B,
                calc::WRONG_KEEPS_BUG,
                calc::FIX_C,
                calc::WRONG_ADD,
                calc::NOT_FOUND,
                calc::PROSE,
            ],
        )
        .answer(
            PromptKind::Reproduce,
            [
                calc::REPRODUCE_SCRIPT,
                calc::REPRODUCE_SCRIPT_WRONG,
                calc::REPRODUCE_SCRIPT_REFORMATTED,
                calc::PROSE,
            ],
        )
}

#[derive(Default)]
struct Samples {
    hover: Vec<Duration>,
    code_action: Vec<Duration>,
    did_change: Vec<Duration>,
    ping: Vec<Duration>,
}

impl Samples {
    fn push(&mut self, round: &Round) {
        self.hover.push(round.hover);
        self.code_action.push(round.code_action);
        self.did_change.push(round.did_change);
        self.ping.push(round.ping);
    }

    fn rows(&self) -> [(&'static str, &[Duration]); 4] {
        [
            ("hover", &self.hover),
            ("codeAction", &self.code_action),
            ("didChange (+ping)", &self.did_change),
            ("ping alone", &self.ping),
        ]
    }
}

struct Round {
    hover: Duration,
    code_action: Duration,
    did_change: Duration,
    ping: Duration,
}

struct Bench {
    client: TestClient,
    ops_uri: String,
    /// Lines of calc/ops.py before the appended comment line.
    edited_at: u64,
    version: i32,
}

impl Bench {
    /// The Swiss diagnostics last published for calc/ops.py that cover line 0, as an editor
    /// puts them in a codeAction request there.
    fn diagnostics_at_line_0(&self) -> Value {
        let published = self.client.notifications("textDocument/publishDiagnostics");
        let last = published.iter().rev().find(|p| p["uri"] == self.ops_uri);
        let diagnostics = last
            .and_then(|p| p["diagnostics"].as_array())
            .map(|all| {
                all.iter()
                    .filter(|d| d["range"]["start"]["line"] == 0)
                    .cloned()
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        Value::Array(diagnostics)
    }

    async fn round(&mut self) -> Round {
        let diagnostics = self.diagnostics_at_line_0();
        let position = json!({"line": 0, "character": 0});

        let started = Instant::now();
        self.client
            .request(
                "textDocument/hover",
                json!({"textDocument": {"uri": self.ops_uri}, "position": position}),
            )
            .await
            .expect("hover answers");
        let hover = started.elapsed();

        let started = Instant::now();
        let actions = self
            .client
            .request(
                "textDocument/codeAction",
                json!({
                    "textDocument": {"uri": self.ops_uri},
                    "range": {"start": position, "end": position},
                    "context": {"diagnostics": diagnostics},
                }),
            )
            .await
            .expect("codeAction answers");
        let code_action = started.elapsed();
        assert!(actions.as_array().is_some_and(|a| !a.is_empty()));

        self.version += 1;
        let line = self.edited_at;
        let started = Instant::now();
        self.client
            .notify(
                "textDocument/didChange",
                json!({
                    "textDocument": {"uri": self.ops_uri, "version": self.version},
                    "contentChanges": [{
                        "range": {
                            "start": {"line": line, "character": 0},
                            "end": {"line": line + 1, "character": 0},
                        },
                        "text": edited_line(self.version),
                    }],
                }),
            )
            .await;
        self.ping().await;
        let did_change = started.elapsed();

        let started = Instant::now();
        self.ping().await;
        let ping = started.elapsed();

        Round {
            hover,
            code_action,
            did_change,
            ping,
        }
    }

    async fn ping(&self) {
        let answer = self.client.request("swiss/ping", json!({})).await;
        assert!(answer.is_err(), "swiss/ping is not a method: {answer:?}");
    }

    /// Untimed: the buffer holds the newest version, so every change so far has landed.
    async fn check_buffer(&self) {
        let line = json!({"line": self.edited_at, "character": 0});
        let actions = self
            .client
            .request(
                "textDocument/codeAction",
                json!({
                    "textDocument": {"uri": self.ops_uri},
                    "range": {"start": line, "end": line},
                    "context": {"diagnostics": [], "only": ["source"]},
                }),
            )
            .await
            .expect("codeAction answers");
        let want = format!("Fix issue #{}", self.version);
        assert!(
            actions
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a["title"] == want.as_str()),
            "the buffer is not at version {}: {actions:#}",
            self.version
        );
    }

    async fn start_job(&self) -> String {
        let reply = self
            .client
            .execute("swiss.fixIssue", json!([{"issue": calc::ISSUE}]))
            .await
            .expect("the job starts");
        reply["job"].as_str().expect("a job id").to_owned()
    }

    /// The job's last progress percentage, and whether its progress has ended.
    fn job_progress(&self, job: &str) -> (u64, Option<String>) {
        let token = format!("swiss/{job}");
        let mut percentage = 0;
        let mut end = None;
        for note in self.client.notifications("$/progress") {
            if note["token"] != token.as_str() {
                continue;
            }
            let value = &note["value"];
            if let Some(p) = value["percentage"].as_u64() {
                percentage = percentage.max(p);
            }
            if value["kind"] == "end" {
                end = Some(value["message"].as_str().unwrap_or_default().to_owned());
            }
        }
        (percentage, end)
    }

    async fn wait_job(&self, job: &str) -> String {
        let deadline = Instant::now() + JOB_TIMEOUT;
        loop {
            if let (_, Some(end)) = self.job_progress(job) {
                return end;
            }
            assert!(Instant::now() < deadline, "{job} did not end");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn dismiss(&self, job: &str) {
        self.client
            .execute("swiss.dismiss", json!([{"job": job}]))
            .await
            .expect("dismiss");
    }

    fn verified_reports(&self, job: &str) -> usize {
        let token = format!("swiss/{job}");
        self.client
            .notifications("$/progress")
            .iter()
            .filter(|n| n["token"] == token.as_str())
            .filter(|n| {
                n["value"]["message"]
                    .as_str()
                    .is_some_and(|m| m.starts_with("verified candidate"))
            })
            .count()
    }
}

/// Sleeps until the next slot of a fixed schedule; a late round does not make the next ones
/// bunch up.
struct Pacer {
    interval: Duration,
    next: Instant,
}

impl Pacer {
    fn new(interval: Duration) -> Pacer {
        Pacer {
            interval,
            next: Instant::now(),
        }
    }

    async fn wait(&mut self) {
        let now = Instant::now();
        if self.next > now {
            tokio::time::sleep_until(self.next.into()).await;
        }
        self.next = self.next.max(now) + self.interval;
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    // Nearest rank.
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

fn stats(samples: &[Duration]) -> (Duration, Duration) {
    let mut sorted = samples.to_vec();
    sorted.sort();
    (percentile(&sorted, 50.0), percentile(&sorted, 99.0))
}

fn ms(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1e3)
}

fn ratio(a: Duration, b: Duration) -> String {
    format!("{:.2}x", a.as_secs_f64() / b.as_secs_f64())
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned())
}

fn main() {
    // `cargo bench` passes `--bench`; there is nothing to filter.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let backend = ScriptedBackend::start_in_background(script());
    let repo = calc::repo();
    runtime.block_on(run(&repo, &backend, cores));
    drop(runtime);
}

async fn run(repo: &FixtureRepo, backend: &ScriptedBackend, cores: usize) {
    let client = TestClient::start();
    client
        .initialize(
            repo.path(),
            json!({
                "window": {"workDoneProgress": true, "showDocument": {"support": true}},
                "workspace": {
                    "applyEdit": true,
                    "workspaceEdit": {"documentChanges": true, "resourceOperations": ["create"]},
                },
            }),
            json!({
                "backend": {"urls": [backend.base_url()], "max_retries": 0, "timeout_secs": 30},
                "repair": {"samples": REPAIR_SAMPLES},
                "sandbox": {"kind": "local"},
                // pytest from the tests' venv, so the bench needs none installed.
                "test": {"python": swiss_testkit::pytest_venv().python()},
            }),
        )
        .await;
    let ops = repo.file("calc/ops.py");
    let edited_at = calc::OPS.lines().count() as u64;
    let mut bench = Bench {
        ops_uri: uri(&ops),
        client,
        edited_at,
        version: 1,
    };
    bench
        .client
        .did_open(&ops, 1, &format!("{}{}", calc::OPS, edited_line(1)))
        .await;
    bench
        .client
        .did_open(
            &repo.file("calc/__init__.py"),
            1,
            &repo.read("calc/__init__.py"),
        )
        .await;

    for _ in 0..WARMUP_ROUNDS {
        bench.round().await;
    }
    bench.check_buffer().await;

    // Calibration (untimed): how long one job lasts here, to spread the rounds over it.
    let started = Instant::now();
    let job = bench.start_job().await;
    let end = bench.wait_job(&job).await;
    let job_length = started.elapsed();
    assert!(end.contains("winner"), "the job finds a winner: {end}");
    let verified = bench.verified_reports(&job);
    bench.dismiss(&job).await;
    let interval = job_length / (ROUNDS as u32 + 20);

    let mut idle = Samples::default();
    let mut pacer = Pacer::new(interval);
    let idle_started = Instant::now();
    for i in 0..ROUNDS {
        pacer.wait().await;
        let round = bench.round().await;
        idle.push(&round);
        if i % 20 == 19 {
            bench.check_buffer().await;
        }
    }
    let idle_length = idle_started.elapsed();

    let mut busy = Samples::default();
    let mut sampling = Samples::default();
    let mut verifying = Samples::default();
    let mut jobs = Vec::new();
    let mut job = bench.start_job().await;
    let mut job_started = Instant::now();
    let mut pacer = Pacer::new(interval);
    while busy.hover.len() < ROUNDS {
        pacer.wait().await;
        let (percentage, end) = bench.job_progress(&job);
        if let Some(end) = end {
            jobs.push((job.clone(), job_started.elapsed(), end));
            bench.dismiss(&job).await;
            job = bench.start_job().await;
            job_started = Instant::now();
            continue;
        }
        let round = bench.round().await;
        busy.push(&round);
        if percentage < 70 {
            sampling.push(&round);
        } else {
            verifying.push(&round);
        }
        if busy.hover.len() % 20 == 0 {
            bench.check_buffer().await;
        }
    }
    let end = bench.wait_job(&job).await;
    jobs.push((job.clone(), job_started.elapsed(), end));
    bench.check_buffer().await;
    bench.client.shutdown().await;

    println!();
    println!("swiss lsp latency while a job runs (issue 4)");
    println!("machine: {cores} cores, {}", cpu_model());
    println!(
        "job: {REPAIR_SAMPLES} repair samples (backend {} ms per request, one sample each, 8 in \
         flight), local sandbox, pytest + reproduction; calibration job {:.1} s, {verified} \
         candidates verified",
        BACKEND_LATENCY.as_millis(),
        job_length.as_secs_f64()
    );
    for (id, length, end) in &jobs {
        println!("measured {id}: {:.1} s ({end})", length.as_secs_f64());
    }
    println!(
        "rounds: {ROUNDS} per phase, one every {:.1} ms (no-job phase took {:.1} s)",
        interval.as_secs_f64() * 1e3,
        idle_length.as_secs_f64()
    );
    println!();
    println!(
        "| request | no job p50 ms | no job p99 ms | job p50 ms | job p99 ms | p50 ratio | p99 ratio |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for ((name, idle), (_, busy)) in idle.rows().into_iter().zip(busy.rows()) {
        let (idle_p50, idle_p99) = stats(idle);
        let (busy_p50, busy_p99) = stats(busy);
        println!(
            "| {name} | {} | {} | {} | {} | {} | {} |",
            ms(idle_p50),
            ms(idle_p99),
            ms(busy_p50),
            ms(busy_p99),
            ratio(busy_p50, idle_p50),
            ratio(busy_p99, idle_p99)
        );
    }
    println!();
    println!("job rounds by stage:");
    println!("| request | sampling n | sampling p50 ms | sampling p99 ms | verifying n | verifying p50 ms | verifying p99 ms |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for ((name, s), (_, v)) in sampling.rows().into_iter().zip(verifying.rows()) {
        let cell = |x: &[Duration]| {
            if x.is_empty() {
                ("-".to_owned(), "-".to_owned())
            } else {
                let (p50, p99) = stats(x);
                (ms(p50), ms(p99))
            }
        };
        let (s50, s99) = cell(s);
        let (v50, v99) = cell(v);
        println!(
            "| {name} | {} | {s50} | {s99} | {} | {v50} | {v99} |",
            s.len(),
            v.len()
        );
    }
    println!();
}
