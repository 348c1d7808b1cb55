//! A whole verified `swiss fix` job with streamed answers against the same job with one JSON body
//! per request. The scripted model writes its choices one after another (`stream_gap` apart); the
//! JSON server answers when the last is written, the streaming one hands each on as it finishes.
//! Verification runs in the local sandbox on the calc fixture (pytest). Prints one table; run
//! with `cargo bench -p swiss --bench streaming_overlap`.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use swiss::job::{run_fix, JobEvent};
use swiss_testkit::median;
use swiss_testkit::{calc, ScriptedBackend};

#[path = "support/calc_job.rs"]
mod calc_job;
use calc_job::calc_job;

const SAMPLES: usize = 12;
/// Time between two choices finishing: a 32B model's samples of different lengths.
const GAP: Duration = Duration::from_millis(400);
const RUNS: usize = 3;

struct Timing {
    first_verified: Duration,
    total: Duration,
}

fn job(stream: bool, runtime: &tokio::runtime::Runtime) -> Timing {
    let repo = calc::repo();
    let backend = ScriptedBackend::start_in_background(calc::verification_script().stream_gap(GAP));
    let ctx = calc_job(&repo, &backend, SAMPLES, |o| {
        o.backend.stream = Some(stream)
    });
    let start = Instant::now();
    let first_verified = Arc::new(Mutex::new(None));
    let seen = first_verified.clone();
    let ctx = ctx.with_events(Arc::new(move |event: JobEvent| {
        if let JobEvent::CandidateVerified { .. } = event {
            seen.lock().expect("lock").get_or_insert(start.elapsed());
        }
    }));
    let outcome = runtime.block_on(run_fix(&ctx)).expect("job");
    let total = start.elapsed();
    assert!(outcome.winner().is_some(), "the right fix wins");
    let first_verified = first_verified
        .lock()
        .expect("lock")
        .expect("a verified candidate");
    Timing {
        first_verified,
        total,
    }
}

#[allow(clippy::print_stdout)]
fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut rows = Vec::new();
    for stream in [true, false] {
        let runs: Vec<Timing> = (0..RUNS).map(|_| job(stream, &runtime)).collect();
        rows.push((
            stream,
            median(runs.iter().map(|t| t.first_verified).collect()),
            median(runs.iter().map(|t| t.total).collect()),
        ));
    }
    println!(
        "a verified job, {SAMPLES} repair samples finishing {} ms apart (local sandbox, calc fixture, median of {RUNS})",
        GAP.as_millis()
    );
    for (stream, first, total) in &rows {
        let mode = if *stream { "streamed" } else { "one JSON body" };
        println!(
            "  {mode:<14} first candidate verified {:>6.2} s, job done {:>6.2} s",
            first.as_secs_f64(),
            total.as_secs_f64()
        );
    }
    let (_, s_first, s_total) = rows[0];
    let (_, j_first, j_total) = rows[1];
    println!(
        "  ratio (JSON / streamed): first verified {:.2}x, job {:.2}x",
        j_first.as_secs_f64() / s_first.as_secs_f64(),
        j_total.as_secs_f64() / s_total.as_secs_f64()
    );
}
