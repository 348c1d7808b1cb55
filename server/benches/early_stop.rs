//! `repair.early_stop` on two scripted models: a strong majority (five of every six samples are
//! the right fix) and a split one (three of eight). Each runs a whole verified `swiss fix` job
//! with 40 repair samples finishing `GAP` apart, with the early stop and without, and prints the
//! samples skipped, the completion tokens saved (the job's estimate, and the repair tokens the
//! scripted server would have reported for the skipped samples) and the wall time. The two runs
//! of a model must pick the same patch. Verification runs in the local sandbox on the calc
//! fixture (pytest). Run with `cargo bench -p swiss --bench early_stop`.

use std::time::{Duration, Instant};

use swiss::job::{run_fix, FixOutcome};
use swiss_testkit::{calc, median, Script, ScriptedBackend};

#[path = "support/calc_job.rs"]
mod calc_job;
use calc_job::calc_job;

const SAMPLES: usize = 40;
/// Time between two repair samples finishing: a 32B model's samples of different lengths.
const GAP: Duration = Duration::from_millis(250);
const RUNS: usize = 3;

/// A scripted model whose repair samples finish a gap apart.
type ScriptFor = fn(Duration) -> Script;

struct Run {
    outcome: FixOutcome,
    wall: Duration,
}

fn job(script: Script, early_stop: bool, runtime: &tokio::runtime::Runtime) -> Run {
    let repo = calc::repo();
    let backend = ScriptedBackend::start_in_background(script);
    let ctx = calc_job(&repo, &backend, SAMPLES, |o| {
        o.repair.early_stop = Some(early_stop);
    });
    let start = Instant::now();
    let outcome = runtime.block_on(run_fix(&ctx)).expect("job");
    Run {
        outcome,
        wall: start.elapsed(),
    }
}

/// The completion tokens the scripted server reports for one repair sample of each kind, the
/// mean over the samples a full run drew: what each skipped sample would have cost.
fn repair_tokens_per_sample(full: &FixOutcome) -> f64 {
    let tokens: u64 = full
        .samples
        .iter()
        .map(|s| swiss_testkit::scripted_backend::completion_tokens(&s.raw))
        .sum();
    tokens as f64 / full.samples.len() as f64
}

fn winner_patch(outcome: &FixOutcome) -> String {
    outcome
        .winner()
        .map(|w| w.patch.clone())
        .unwrap_or_default()
}

#[allow(clippy::print_stdout)]
fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    println!(
        "a verified job, {SAMPLES} repair samples finishing {} ms apart (local sandbox, calc fixture, median of {RUNS})",
        GAP.as_millis()
    );
    let models: [(&str, ScriptFor); 2] = [
        ("strong majority (5/6)", calc::strong_majority_script),
        ("split (3/8)", calc::split_script),
    ];
    for (name, script) in models {
        let early: Vec<Run> = (0..RUNS)
            .map(|_| job(script(GAP), true, &runtime))
            .collect();
        let full: Vec<Run> = (0..RUNS)
            .map(|_| job(script(GAP), false, &runtime))
            .collect();
        for run in early.iter().chain(&full) {
            assert_eq!(
                winner_patch(&run.outcome),
                winner_patch(&full[0].outcome),
                "{name}: the early stop changed the winner"
            );
        }
        let skipped: Vec<usize> = early
            .iter()
            .map(|r| r.outcome.early_stop.as_ref().map_or(0, |s| s.skipped))
            .collect();
        let estimate: Vec<u64> = early
            .iter()
            .map(|r| {
                r.outcome
                    .early_stop
                    .as_ref()
                    .map_or(0, |s| s.completion_tokens_saved_estimate)
            })
            .collect();
        let per_sample = repair_tokens_per_sample(&full[0].outcome);
        let mid = |mut v: Vec<usize>| {
            v.sort_unstable();
            v[v.len() / 2]
        };
        let skipped_mid = mid(skipped.clone());
        println!(
            "  {name:<22} skipped {skipped_mid}/{SAMPLES} samples (runs: {skipped:?}), completion tokens saved ~{} (job's estimate, runs: {estimate:?}; the server's count for those samples: {:.0}), job {:>5.2} s vs {:>5.2} s without early stop, same winner",
            mid(estimate.iter().map(|&e| e as usize).collect()),
            per_sample * skipped_mid as f64,
            median(early.iter().map(|r| r.wall).collect()).as_secs_f64(),
            median(full.iter().map(|r| r.wall).collect()).as_secs_f64(),
        );
    }
}
