//! What the benches of one Docker engine against two share: a second engine on this machine
//! holding the test image, rounds alternating between the local engine alone and both, and the
//! lines that compare them.

use std::time::Duration;

use swiss::sandbox::docker_endpoint::DockerEndpoint;
use swiss_testkit::{median, SecondEngine};

pub struct TwoEngines {
    /// Stopped when dropped.
    _second: SecondEngine,
    pub image: String,
    pub one: Vec<DockerEndpoint>,
    pub two: Vec<DockerEndpoint>,
}

impl TwoEngines {
    /// The test image is SWISS_TEST_IMAGE, default swiss-python:ci, as in the tests.
    pub fn start() -> TwoEngines {
        let image =
            std::env::var("SWISS_TEST_IMAGE").unwrap_or_else(|_| "swiss-python:ci".to_owned());
        let second = SecondEngine::start(&image);
        let local = DockerEndpoint::local();
        let other = DockerEndpoint::parse(&second.address()).expect("endpoint");
        TwoEngines {
            _second: second,
            image,
            one: vec![local.clone()],
            two: vec![local, other],
        }
    }

    /// The medians of `run` on one engine and on two, `rounds` of each, alternated so that the
    /// machine's drift touches both alike.
    pub fn compare(
        &self,
        rounds: usize,
        mut run: impl FnMut(&[DockerEndpoint]) -> Duration,
    ) -> (Duration, Duration) {
        let mut one = Vec::new();
        let mut two = Vec::new();
        for _ in 0..rounds {
            one.push(run(&self.one));
            two.push(run(&self.two));
        }
        (median(one), median(two))
    }
}

#[allow(clippy::print_stdout)]
pub fn print_comparison(slots: usize, one: Duration, two: Duration) {
    println!(
        "  one engine, {slots} slots:          {:>8.2} s",
        one.as_secs_f64()
    );
    println!(
        "  two engines, {slots} slots each:    {:>8.2} s",
        two.as_secs_f64()
    );
    println!(
        "  ratio: {:.2}x (2x is the most two engines can give)",
        one.as_secs_f64() / two.as_secs_f64()
    );
}
