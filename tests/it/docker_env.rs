//! Whether Docker tests run here. They skip only where no Docker engine answers, and even then
//! fail with SWISS_REQUIRE_DOCKER=1 (CI starts an engine, builds the image and sets it). An engine
//! that answers without the test image, or a sandbox that fails to prepare, is a failure: a skip
//! there would report a pass for a test that tested nothing.

use std::fmt::Display;
use std::time::Duration;

use bollard::Docker;

/// The image Docker tests run in: python3 and pytest, built locally by .ci/docker-setup.sh.
pub fn test_image() -> String {
    std::env::var("SWISS_TEST_IMAGE").unwrap_or_else(|_| "swiss-python:ci".to_owned())
}

pub fn docker_required() -> bool {
    crate::required::required("SWISS_REQUIRE_DOCKER")
}

/// What a look at the Docker engine found.
#[derive(Debug, PartialEq)]
pub enum Probe {
    Ready,
    /// No engine answers: the reason, as the client saw it.
    NoEngine(String),
    /// An engine answers, but the image cannot be used.
    NoImage(String),
}

/// Asks the engine at `address` (`None`: DOCKER_HOST or the default socket, as Swiss connects)
/// whether it answers and holds `image`. Runs on a thread of its own, so that sync and async
/// tests can both call it.
pub fn probe(address: Option<&str>, image: &str) -> Probe {
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a runtime for the Docker probe")
                    .block_on(probe_async(address, image))
            })
            .join()
            .expect("the Docker probe does not panic")
    })
}

async fn probe_async(address: Option<&str>, image: &str) -> Probe {
    let client = match address {
        Some(address) => Docker::connect_with_unix(address, 10, bollard::API_DEFAULT_VERSION),
        None => Docker::connect_with_local_defaults(),
    };
    let docker = match client {
        Ok(docker) => docker,
        Err(e) => return Probe::NoEngine(e.to_string()),
    };
    let docker =
        match tokio::time::timeout(Duration::from_secs(10), docker.negotiate_version()).await {
            Ok(Ok(docker)) => docker,
            Ok(Err(e)) => return Probe::NoEngine(e.to_string()),
            Err(_) => return Probe::NoEngine("no answer within 10 s".to_owned()),
        };
    if let Err(e) = docker.ping().await {
        return Probe::NoEngine(e.to_string());
    }
    match docker.inspect_image(image).await {
        Ok(_) => Probe::Ready,
        Err(e) => Probe::NoImage(e.to_string()),
    }
}

/// The skip rule: `Ok(true)` runs the test, `Ok(false)` skips it, `Err` is the one line it
/// fails with.
pub fn decide(probe: &Probe, image: &str, required: bool) -> Result<bool, String> {
    match probe {
        Probe::Ready => Ok(true),
        Probe::NoEngine(why) if required => Err(format!(
            "SWISS_REQUIRE_DOCKER=1 but no Docker engine answers ({why}): start one (.ci/docker-setup.sh does)"
        )),
        Probe::NoEngine(_) => Ok(false),
        Probe::NoImage(why) => Err(format!(
            "the Docker engine answers but the test image {image} is not usable ({why}): build it with .ci/docker-setup.sh, or set SWISS_TEST_IMAGE to an image with python3 and pytest"
        )),
    }
}

/// The test image where an engine answers and holds it; `None` (after saying so on stderr) where
/// no engine answers and Docker is not required; a panic otherwise.
pub fn docker_test_image() -> Option<String> {
    let image = test_image();
    let probe = probe(None, &image);
    match decide(&probe, &image, docker_required()) {
        Ok(true) => Some(image),
        Ok(false) => {
            if let Probe::NoEngine(why) = &probe {
                skip("this test", &format!("no Docker engine answers ({why})"));
            }
            None
        }
        Err(line) => panic!("{line}"),
    }
}

/// Says on stderr (shown with --nocapture) that a Docker test did not run, and why.
pub fn skip(test: &str, why: &dyn Display) {
    crate::required::say_skipped("SWISS_REQUIRE_DOCKER", test, why);
}

#[test]
fn docker_tests_skip_only_where_no_engine_answers() {
    let image = test_image();
    let absent = probe(Some("unix:///nonexistent/docker.sock"), &image);
    assert!(matches!(absent, Probe::NoEngine(_)), "{absent:?}");
    assert_eq!(decide(&absent, &image, false), Ok(false));
    let required = decide(&absent, &image, true).unwrap_err();
    assert!(
        required.starts_with("SWISS_REQUIRE_DOCKER=1 but no Docker engine answers"),
        "{required}"
    );

    let missing = Probe::NoImage("No such image".to_owned());
    for required in [false, true] {
        let line = decide(&missing, "swiss-python:ci", required).unwrap_err();
        assert!(
            line.starts_with(
                "the Docker engine answers but the test image swiss-python:ci is not usable"
            ),
            "{line}"
        );
    }

    // Where an engine answers, a missing image is what the probe reports, never a missing engine.
    match probe(None, "swiss-no-such-image:missing") {
        Probe::NoImage(why) => assert!(why.contains("swiss-no-such-image"), "{why}"),
        Probe::NoEngine(why) => {
            assert!(!docker_required(), "SWISS_REQUIRE_DOCKER=1 but: {why}");
            skip("the engine half of this test", &why);
        }
        Probe::Ready => panic!("an image that does not exist was found"),
    }
}
