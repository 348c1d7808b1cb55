//! `swiss eval --jobs 4` over one Docker engine against two (`sandbox.hosts`): the eight calc
//! instances of `eval_scheduling`, each verified in Docker with a test command that takes
//! `TEST_SECS` (`sleep`, so that the runs, not the model, bound the eval), a zero-latency
//! backend. One engine with 2 slots, then the same engine and a second one (started here, the
//! test image copied into it) with 2 slots each. Needs the test image (SWISS_TEST_IMAGE, default
//! swiss-python:ci) and dockerd; prints one table; run with `cargo bench -p swiss --bench
//! eval_hosts`.

use std::time::Duration;

use swiss::config::Options;
use swiss::sandbox::docker_endpoint::DockerEndpoint;
use swiss_testkit::calc;

#[path = "support/calc_eval.rs"]
mod calc_eval;
use calc_eval::{eval, INSTANCES};
#[path = "support/two_engines.rs"]
mod two_engines;
use two_engines::{print_comparison, TwoEngines};

const JOBS: usize = 4;
const SLOTS: usize = 2;
const TEST_SECS: u32 = 2;
const ROUNDS: usize = 3;

/// Docker on `hosts`, `SLOTS` runs at once on each.
fn on_hosts<'a>(image: &'a str, hosts: &'a [DockerEndpoint]) -> impl Fn(&mut Options) + 'a {
    move |options: &mut Options| {
        options.sandbox.kind = Some("docker".to_owned());
        options.sandbox.image = Some(image.to_owned());
        options.sandbox.concurrency = Some(SLOTS);
        options.sandbox.hosts = Some(hosts.iter().map(DockerEndpoint::written).collect());
        options.test.command = Some(format!("sleep {TEST_SECS}"));
    }
}

#[allow(clippy::print_stdout)]
fn main() {
    let repo = calc::repo();
    let engines = TwoEngines::start();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (one, two) = engines.compare(ROUNDS, |hosts| {
        let tweak = on_hosts(&engines.image, hosts);
        eval(&repo, Duration::ZERO, JOBS, &runtime, &tweak)
    });
    println!("swiss eval --jobs {JOBS} over {INSTANCES} calc instances, Docker, tests of {TEST_SECS} s, zero-latency backend (median of {ROUNDS})");
    print_comparison(SLOTS, one, two);
}
