//! Whether Docker tests can run here. CI starts an engine, builds the image and sets
//! SWISS_REQUIRE_DOCKER=1, so there a missing engine or image fails the test instead of skipping it.

use std::process::Command;

/// The image Docker tests run in: python3 and pytest, built locally by .ci/docker-setup.sh.
pub fn test_image() -> String {
    std::env::var("SWISS_TEST_IMAGE").unwrap_or_else(|_| "swiss-python:ci".to_owned())
}

pub fn docker_required() -> bool {
    std::env::var("SWISS_REQUIRE_DOCKER").is_ok_and(|v| v == "1")
}

/// The test image when an engine answers and has it; `None` (after saying so on stderr) when
/// not and Docker is not required; a panic when it is required.
pub fn docker_test_image() -> Option<String> {
    let image = test_image();
    let probe = Command::new("docker")
        .args(["image", "inspect", "--format", "{{.Id}}", &image])
        .output();
    let why = match probe {
        Ok(out) if out.status.success() => return Some(image),
        Ok(out) => String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        Err(e) => format!("failed to run the docker client: {e}"),
    };
    assert!(
        !docker_required(),
        "SWISS_REQUIRE_DOCKER=1 but the Docker image {image} is not usable: {why} (run .ci/docker-setup.sh)"
    );
    skip(
        "this test",
        &format!("Docker image {image} is not usable here ({why})"),
    );
    None
}

/// Says on stderr (shown with --nocapture) that a Docker test did not run, and why.
#[allow(clippy::print_stderr)]
pub fn skip(test: &str, why: &dyn std::fmt::Display) {
    eprintln!("skipped {test}: {why} (set SWISS_REQUIRE_DOCKER=1 to make this a failure)");
}
