//! The sandboxes for real: the local one always, the Docker one where an engine answers (CI
//! starts one and sets SWISS_REQUIRE_DOCKER=1, so there a missing engine fails instead of
//! skipping). Every Docker test checks that nothing labelled with its job is left behind.

use crate::docker_env::{docker_required, skip, test_image};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bollard::Docker;
use swiss::sandbox::docker::{DockerLimits, DockerSandbox, JOB_LABEL};
use swiss::sandbox::leftovers;
use swiss::sandbox::local::{LocalLimits, LocalSandbox};
use swiss::sandbox::{BaseFile, RunOutput, RunSpec, Sandbox, SandboxError};
use tokio_util::sync::CancellationToken;

const OUTPUT_LIMIT: usize = 64 * 1024;

fn file(path: &str, text: &str, executable: bool) -> BaseFile {
    BaseFile {
        path: path.to_owned(),
        bytes: Arc::from(text.as_bytes()),
        executable,
    }
}

/// A tiny Python project with a passing test, a script, and a nested package.
fn base_files() -> Vec<BaseFile> {
    vec![
        file("README.md", "# demo\n", false),
        file("pkg/__init__.py", "", false),
        file("pkg/calc.py", "def add(a, b):\n    return a + b\n", false),
        file(
            "tests/test_calc.py",
            "from pkg.calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n",
            false,
        ),
        file("run.sh", "#!/bin/sh\necho script ran\n", true),
    ]
}

fn spec(command: &str, timeout: Duration) -> RunSpec {
    RunSpec {
        command: command.to_owned(),
        timeout,
        ..RunSpec::default()
    }
}

fn quick(command: &str) -> RunSpec {
    spec(command, Duration::from_secs(30))
}

async fn run(sandbox: &dyn Sandbox, spec: RunSpec) -> RunOutput {
    sandbox
        .run(spec, CancellationToken::new())
        .await
        .expect("the sandbox runs the command")
}

/// A string no other process on the machine has in its command line, for `pgrep -f`.
fn unique_marker(name: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("swiss-marker-{name}-{}-{nanos}", std::process::id())
}

async fn local() -> LocalSandbox {
    LocalSandbox::prepare(
        base_files(),
        LocalLimits {
            output_limit: OUTPUT_LIMIT,
            ..LocalLimits::default()
        },
    )
    .await
    .unwrap()
}

// ---- checks both sandboxes share ----

async fn check_exit_codes(sandbox: &dyn Sandbox) {
    let passed = run(sandbox, quick("echo out; echo err >&2")).await;
    assert_eq!(passed.exit_code, Some(0), "{passed:?}");
    assert_eq!(passed.stdout, "out\n");
    assert_eq!(passed.stderr, "err\n");
    assert!(!passed.timed_out && !passed.truncated);

    let failed = run(sandbox, quick("exit 3")).await;
    assert_eq!(failed.exit_code, Some(3), "{failed:?}");
    assert!(!failed.timed_out);
}

async fn check_overlay_and_delete(sandbox: &dyn Sandbox) {
    let mut overlay =
        quick("cat pkg/calc.py && test ! -e README.md && ./run.sh && cat new/dir/file.txt");
    overlay.files = vec![
        (
            "pkg/calc.py".to_owned(),
            Some(Arc::from("def add(a, b):\n    return a - b\n")),
        ),
        ("README.md".to_owned(), None),
        // Overwriting a script keeps it executable.
        (
            "run.sh".to_owned(),
            Some(Arc::from("#!/bin/sh\necho patched script ran\n")),
        ),
        ("new/dir/file.txt".to_owned(), Some(Arc::from("created\n"))),
    ];
    overlay.env = vec![("SWISS_TEST_VAR".to_owned(), "from the spec".to_owned())];
    let out = run(sandbox, overlay).await;
    assert_eq!(out.exit_code, Some(0), "{out:?}");
    assert_eq!(
        out.stdout,
        "def add(a, b):\n    return a - b\npatched script ran\ncreated\n"
    );

    let mut env = quick("echo \"$SWISS_TEST_VAR\"");
    env.env = vec![("SWISS_TEST_VAR".to_owned(), "from the spec".to_owned())];
    assert_eq!(run(sandbox, env).await.stdout, "from the spec\n");

    let mut escape = quick("true");
    escape.files = vec![("../outside.txt".to_owned(), Some(Arc::from("x")))];
    let err = sandbox
        .run(escape, CancellationToken::new())
        .await
        .unwrap_err();
    assert!(
        matches!(err, SandboxError::Run(ref m) if m.contains("leaves the repository")),
        "{err}"
    );
}

async fn check_isolation(sandbox: &dyn Sandbox) {
    let mut first =
        quick("echo leaked > leak.txt && echo changed >> README.md && rm tests/test_calc.py");
    first.files = vec![("pkg/calc.py".to_owned(), Some(Arc::from("broken = True\n")))];
    assert_eq!(run(sandbox, first).await.exit_code, Some(0));
    let second = run(
        sandbox,
        quick("test ! -e leak.txt && test \"$(cat README.md)\" = '# demo' && test -e tests/test_calc.py && grep -q 'return a + b' pkg/calc.py"),
    )
    .await;
    assert_eq!(
        second.exit_code,
        Some(0),
        "a run saw another run's changes: {second:?}"
    );
}

async fn check_timeout(sandbox: &dyn Sandbox) {
    let started = Instant::now();
    let out = run(
        sandbox,
        spec("echo before; sleep 60", Duration::from_secs(1)),
    )
    .await;
    assert!(out.timed_out, "{out:?}");
    assert_eq!(out.exit_code, None);
    assert_eq!(out.stdout, "before\n", "output up to the timeout is kept");
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "took {:?}",
        started.elapsed()
    );
}

async fn check_output_capped(sandbox: &dyn Sandbox) {
    let started = Instant::now();
    let out = run(
        sandbox,
        spec(
            "yes | head -c 100000000; echo done >&2",
            Duration::from_secs(60),
        ),
    )
    .await;
    let elapsed = started.elapsed();
    assert_eq!(out.exit_code, Some(0), "{:?} {}", out.exit_code, out.stderr);
    assert!(out.truncated);
    assert_eq!(out.stdout.len(), OUTPUT_LIMIT);
    assert!(out.stdout.starts_with("y\ny\n"));
    assert_eq!(
        out.stderr, "done\n",
        "the other stream is still captured whole"
    );
    assert!(
        elapsed < Duration::from_secs(30),
        "100 MB of output took {elapsed:?}"
    );
}

async fn check_cancel(sandbox: &dyn Sandbox, started_after: Duration) {
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    let canceller = tokio::spawn(async move {
        tokio::time::sleep(started_after).await;
        trigger.cancel();
        Instant::now()
    });
    let result = sandbox
        .run(spec("sleep 60", Duration::from_secs(60)), cancel)
        .await;
    let returned = Instant::now();
    let cancelled_at = canceller.await.unwrap();
    assert!(matches!(result, Err(SandboxError::Cancelled)), "{result:?}");
    let lag = returned - cancelled_at;
    assert!(
        lag < Duration::from_secs(1),
        "cancel took {lag:?} to stop the run"
    );
}

// ---- local ----

#[tokio::test]
async fn local_exit_codes_overlay_delete_and_isolation() {
    let sandbox = local().await;
    assert_eq!(sandbox.kind(), "local");
    check_exit_codes(&sandbox).await;
    check_overlay_and_delete(&sandbox).await;
    check_isolation(&sandbox).await;
    sandbox.cleanup().await;
    let after = sandbox.run(quick("true"), CancellationToken::new()).await;
    assert!(matches!(after, Err(SandboxError::Run(_))), "{after:?}");
}

#[tokio::test]
async fn local_runs_in_a_copy_of_its_own() {
    let sandbox = local().await;
    let out = run(&sandbox, quick("pwd")).await;
    let dir = std::path::PathBuf::from(out.stdout.trim());
    assert!(
        dir.file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("swiss-run-"),
        "{dir:?}"
    );
    assert!(
        !dir.exists(),
        "the run folder {dir:?} is removed after the run"
    );
}

#[tokio::test]
async fn local_timeout_kills_the_command() {
    let sandbox = local().await;
    check_timeout(&sandbox).await;
}

#[tokio::test]
async fn local_background_process_does_not_outlive_the_run() {
    let sandbox = local().await;
    let marker = unique_marker("local-bg");
    let started = Instant::now();
    // `kill -0` proves the child was alive when the command ended.
    let command =
        format!("sh -c 'sleep 300; echo {marker}' & sleep 0.1; kill -0 $! && echo started");
    let out = run(&sandbox, quick(&command)).await;
    assert_eq!(out.exit_code, Some(0), "{out:?}");
    assert_eq!(out.stdout, "started\n");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the run waited for its background child"
    );
    assert_no_process(&marker).await;
}

#[tokio::test]
async fn local_daemonized_process_does_not_outlive_the_run() {
    let sandbox = local().await;
    let marker = unique_marker("local-setsid");
    // setsid leaves the run's process group (and session), out of reach of the group kill.
    let command = format!(
        "setsid sh -c 'sleep 300; echo {marker}' >/dev/null 2>&1 & sleep 0.2; echo started"
    );
    let out = run(&sandbox, quick(&command)).await;
    assert_eq!(out.exit_code, Some(0), "{out:?}");
    assert_eq!(out.stdout, "started\n");
    assert_no_process(&marker).await;
}

#[tokio::test]
async fn local_output_is_capped() {
    let sandbox = local().await;
    check_output_capped(&sandbox).await;
}

#[tokio::test]
async fn local_cancel_stops_the_run() {
    let sandbox = local().await;
    check_cancel(&sandbox, Duration::from_millis(300)).await;
}

#[tokio::test]
async fn local_dropped_run_leaves_no_process() {
    let sandbox = local().await;
    let marker = unique_marker("local-drop");
    let command = format!("sh -c 'sleep 300; echo {marker}' & sleep 60");
    let dropped =
        tokio::time::timeout(Duration::from_millis(500), run(&sandbox, quick(&command))).await;
    assert!(dropped.is_err(), "the run should still have been going");
    assert_no_process(&marker).await;
}

/// `pgrep -f` finds processes by command line; a SIGKILLed group may take a moment to be reaped.
async fn assert_no_process(marker: &str) {
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let found = std::process::Command::new("pgrep")
            .args(["-f", marker])
            .output()
            .expect("pgrep runs");
        if !found.status.success() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "a process of the run is still alive: {}",
            String::from_utf8_lossy(&found.stdout)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Report files written by the command come back, picked by the spec's glob, relative to the
/// repository root; the root is where the command ran.
async fn check_reports(sandbox: &dyn Sandbox) {
    let mut spec = quick(
        "mkdir -p out/sub && echo '<a/>' > out/a.xml && echo no > out/a.txt \
         && echo no > out/sub/b.xml && echo '<r/>' > r.xml && pwd",
    );
    spec.reports = Some("out/*.xml".to_owned());
    let out = run(sandbox, spec.clone()).await;
    assert_eq!(out.exit_code, Some(0), "{out:?}");
    let reports: Vec<(&str, &str)> = out
        .reports
        .iter()
        .map(|r| (r.path.as_str(), r.text.as_str()))
        .collect();
    assert_eq!(reports, [("out/a.xml", "<a/>\n")]);
    assert_eq!(out.root.as_deref(), Some(out.stdout.trim()));

    spec.reports = Some("*.xml".to_owned());
    let at_root = run(sandbox, spec.clone()).await;
    let paths: Vec<&str> = at_root.reports.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(paths, ["r.xml"]);

    // A folder the run never made holds no report, and that is no error.
    spec.reports = Some("build/test-results/test/*.xml".to_owned());
    assert!(run(sandbox, spec).await.reports.is_empty());

    // Reports are read from the run's own copy: the next run does not see them.
    let mut next = quick("true");
    next.reports = Some("out/*.xml".to_owned());
    assert!(run(sandbox, next).await.reports.is_empty());
}

#[tokio::test]
async fn local_reads_report_files_back() {
    let sandbox = local().await;
    check_reports(&sandbox).await;
    sandbox.cleanup().await;
}

// ---- docker ----

/// A prepared Docker sandbox, or `None` (after saying why) where no engine answers and the run
/// does not require Docker. Any other failure to prepare (a missing image included) fails the test.
async fn docker(test: &str) -> Option<DockerSandbox> {
    let image = test_image();
    let limits = DockerLimits {
        output_limit: OUTPUT_LIMIT,
        ..DockerLimits::new(image.clone())
    };
    match DockerSandbox::prepare(base_files(), limits).await {
        Ok(sandbox) => Some(sandbox),
        Err(e @ SandboxError::DockerUnavailable(_)) if !docker_required() => {
            skip(test, &e);
            None
        }
        Err(SandboxError::DockerUnavailable(why)) => {
            panic!("{test}: SWISS_REQUIRE_DOCKER=1 but no Docker engine answers: {why}")
        }
        Err(e) => panic!("{test}: failed to prepare a Docker sandbox from {image}: {e}"),
    }
}

/// Containers and images carrying the sandbox's job label: none may be left after a test.
async fn leftovers(job: &str) -> (Vec<String>, Vec<String>) {
    let docker = Docker::connect_with_local_defaults()
        .unwrap()
        .negotiate_version()
        .await
        .unwrap();
    let job = [format!("{JOB_LABEL}={job}")];
    let ids = |found: Vec<leftovers::Labelled>| found.into_iter().map(|l| l.id).collect();
    (
        ids(leftovers::containers(&docker, &job).await.unwrap()),
        ids(leftovers::images(&docker, &job).await.unwrap()),
    )
}

async fn assert_no_containers(job: &str) {
    let (containers, _) = leftovers(job).await;
    assert!(
        containers.is_empty(),
        "containers left behind by job {job}: {containers:?}"
    );
}

/// Cleans up and checks that nothing of the job is left, containers or image.
async fn finish(sandbox: DockerSandbox) {
    let job = sandbox.job().to_owned();
    sandbox.cleanup().await;
    let (containers, images) = leftovers(&job).await;
    assert!(
        containers.is_empty(),
        "containers left behind by job {job}: {containers:?}"
    );
    assert!(
        images.is_empty(),
        "images left behind by job {job}: {images:?}"
    );
}

#[tokio::test]
async fn docker_exit_codes_overlay_delete_isolation_and_pytest() {
    let Some(sandbox) = docker("docker_exit_codes_overlay_delete_isolation_and_pytest").await
    else {
        return;
    };
    assert_eq!(sandbox.kind(), "docker");
    check_exit_codes(&sandbox).await;
    check_overlay_and_delete(&sandbox).await;
    check_isolation(&sandbox).await;

    // The repository's own tests, as verification runs them.
    let passed = run(&sandbox, quick("python3 -m pytest -rA -q tests")).await;
    assert_eq!(
        passed.exit_code,
        Some(0),
        "{}{}",
        passed.stdout,
        passed.stderr
    );
    assert!(
        passed
            .stdout
            .contains("PASSED tests/test_calc.py::test_add"),
        "{}",
        passed.stdout
    );
    let mut broken = quick("python3 -m pytest -rA -q tests");
    broken.files = vec![(
        "pkg/calc.py".to_owned(),
        Some(Arc::from("def add(a, b):\n    return a * b\n")),
    )];
    let failed = run(&sandbox, broken).await;
    assert_eq!(
        failed.exit_code,
        Some(1),
        "{}{}",
        failed.stdout,
        failed.stderr
    );
    assert!(
        failed
            .stdout
            .contains("FAILED tests/test_calc.py::test_add"),
        "{}",
        failed.stdout
    );

    assert_no_containers(sandbox.job()).await;
    finish(sandbox).await;
}

#[tokio::test]
async fn docker_timeout_removes_the_container() {
    let Some(sandbox) = docker("docker_timeout_removes_the_container").await else {
        return;
    };
    check_timeout(&sandbox).await;
    assert_no_containers(sandbox.job()).await;
    finish(sandbox).await;
}

#[tokio::test]
async fn docker_background_process_does_not_outlive_the_run() {
    let Some(sandbox) = docker("docker_background_process_does_not_outlive_the_run").await else {
        return;
    };
    let started = Instant::now();
    let command = "sh -c 'sleep 300; touch late-marker' & sleep 0.1; kill -0 $! && echo started";
    let out = run(&sandbox, quick(command)).await;
    assert_eq!(out.exit_code, Some(0), "{out:?}");
    assert_eq!(out.stdout, "started\n");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the run waited for its background child"
    );
    // The container (and with it its process namespace) is gone.
    assert_no_containers(sandbox.job()).await;
    finish(sandbox).await;
}

#[tokio::test]
async fn docker_output_is_capped() {
    let Some(sandbox) = docker("docker_output_is_capped").await else {
        return;
    };
    check_output_capped(&sandbox).await;
    assert_no_containers(sandbox.job()).await;
    finish(sandbox).await;
}

#[tokio::test]
async fn docker_cancel_stops_the_run() {
    let Some(sandbox) = docker("docker_cancel_stops_the_run").await else {
        return;
    };
    check_cancel(&sandbox, Duration::from_millis(1500)).await;
    assert_no_containers(sandbox.job()).await;
    finish(sandbox).await;
}

#[tokio::test]
async fn docker_dropped_run_and_sandbox_leave_nothing() {
    let Some(sandbox) = docker("docker_dropped_run_and_sandbox_leave_nothing").await else {
        return;
    };
    let job = sandbox.job().to_owned();
    let dropped = tokio::time::timeout(
        Duration::from_millis(1500),
        run(&sandbox, quick("sleep 60")),
    )
    .await;
    assert!(dropped.is_err(), "the run should still have been going");
    assert_no_containers(&job).await;
    // No cleanup call: Drop removes the job image.
    drop(sandbox);
    let (containers, images) = leftovers(&job).await;
    assert!(
        containers.is_empty() && images.is_empty(),
        "left behind: {containers:?} {images:?}"
    );
}

/// An image of the test image with an ENTRYPOINT, removed on drop (a failed assertion too).
struct EntrypointImage(String);

impl EntrypointImage {
    fn build(base: &str) -> EntrypointImage {
        let docker = |args: &[&str]| {
            let out = std::process::Command::new("docker")
                .args(args)
                .output()
                .expect("the docker client runs");
            assert!(
                out.status.success(),
                "docker {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8_lossy(&out.stdout).trim().to_owned()
        };
        let tag = format!("swiss-entrypoint-test:{}", unique_marker("entrypoint"));
        let container = docker(&["create", base, "true"]);
        let committed = docker(&[
            "commit",
            "--change",
            r#"ENTRYPOINT ["python3"]"#,
            &container,
            &tag,
        ]);
        docker(&["rm", "-f", &container]);
        assert!(!committed.is_empty());
        EntrypointImage(tag)
    }
}

impl Drop for EntrypointImage {
    fn drop(&mut self) {
        let _ = std::process::Command::new("docker")
            .args(["rmi", "-f", &self.0])
            .output();
    }
}

#[tokio::test]
async fn docker_image_entrypoint_does_not_swallow_the_command() {
    // A project image built from the project's Dockerfile often has an ENTRYPOINT; the run's
    // `sh -c COMMAND` must still be what runs, not arguments to that entrypoint.
    // The usual probe: skips where no engine or test image is there.
    let Some(probe) = docker("docker_image_entrypoint_does_not_swallow_the_command").await else {
        return;
    };
    finish(probe).await;
    let image = EntrypointImage::build(&test_image());
    let limits = DockerLimits {
        output_limit: OUTPUT_LIMIT,
        ..DockerLimits::new(image.0.clone())
    };
    let sandbox = DockerSandbox::prepare(base_files(), limits)
        .await
        .expect("the sandbox prepares from an image with an entrypoint");
    let out = run(&sandbox, quick("echo ran; cat README.md")).await;
    assert_eq!(out.exit_code, Some(0), "{}{}", out.stdout, out.stderr);
    assert_eq!(out.stdout, "ran\n# demo\n");
    finish(sandbox).await;
}

#[tokio::test]
async fn docker_network_is_blocked() {
    let Some(sandbox) = docker("docker_network_is_blocked").await else {
        return;
    };
    // Guarded: with any interface but loopback the script stops before connecting, so a broken
    // sandbox fails this test without sending a packet off the machine.
    let script = r#"
import socket, sys
names = [name for _, name in socket.if_nameindex()]
if names != ["lo"]:
    print("interfaces:", names)
    sys.exit(7)
try:
    socket.create_connection(("1.1.1.1", 53), timeout=3)
except OSError as e:
    print("blocked:", e)
    sys.exit(1)
print("connected")
"#;
    let mut blocked = quick("python3 net_probe.py");
    blocked.files = vec![("net_probe.py".to_owned(), Some(Arc::from(script)))];
    let out = run(&sandbox, blocked).await;
    assert_eq!(out.exit_code, Some(1), "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.starts_with("blocked:"), "{}", out.stdout);
    finish(sandbox).await;
}

#[tokio::test]
async fn docker_missing_image_is_named() {
    let limits = DockerLimits::new("swiss-no-such-image:missing");
    match DockerSandbox::prepare(base_files(), limits).await {
        Err(SandboxError::Prepare(message)) => {
            assert!(
                message.contains("`swiss-no-such-image:missing`"),
                "{message}"
            );
            assert!(message.contains("--image"), "{message}");
        }
        Err(e @ SandboxError::DockerUnavailable(_)) if !docker_required() => {
            skip("docker_missing_image_is_named", &e)
        }
        other => panic!(
            "expected a missing-image error, got {:?}",
            other.map(|s| s.job().to_owned())
        ),
    }
}

#[tokio::test]
async fn docker_unavailable_engine_is_a_clear_error() {
    let limits = DockerLimits {
        engine: Some("unix:///nonexistent".to_owned()),
        ..DockerLimits::new(test_image())
    };
    let err = DockerSandbox::prepare(base_files(), limits)
        .await
        .err()
        .expect("no engine there");
    let SandboxError::DockerUnavailable(ref message) = err else {
        panic!("{err}")
    };
    assert!(message.contains("/nonexistent"), "{message}");
    assert!(message.contains("--sandbox local"), "{message}");
    assert!(
        err.to_string()
            .starts_with("failed to reach the Docker engine"),
        "{err}"
    );

    // A socket that accepts and hangs up: something is there, but not an engine.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("not-docker.sock");
    let listener = tokio::net::UnixListener::bind(&path).unwrap();
    let server = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            drop(stream);
        }
    });
    let limits = DockerLimits {
        engine: Some(format!("unix://{}", path.display())),
        ..DockerLimits::new(test_image())
    };
    let started = Instant::now();
    let err = DockerSandbox::prepare(base_files(), limits)
        .await
        .err()
        .expect("not an engine");
    assert!(matches!(err, SandboxError::DockerUnavailable(_)), "{err}");
    assert!(started.elapsed() < Duration::from_secs(12));
    server.abort();
}

#[tokio::test]
async fn docker_reads_report_files_back() {
    let Some(sandbox) = docker("docker_reads_report_files_back").await else {
        return;
    };
    check_reports(&sandbox).await;
    // pytest's own JUnit XML, read back out of the container and parsed as verification does.
    let mut junit =
        quick("python3 -m pytest -q -p no:cacheprovider tests --junitxml=reports/junit.xml");
    junit.reports = Some("reports/*.xml".to_owned());
    let out = run(&sandbox, junit).await;
    let results = swiss::verify::test_results::parse_output(
        swiss::verify::test_results::OutputFormat::JunitXml,
        &out,
    );
    assert_eq!(
        results.tests.keys().collect::<Vec<_>>(),
        ["tests.test_calc::test_add"],
        "{out:?}"
    );
    assert_eq!(out.root.as_deref(), Some("/testbed"));
    finish(sandbox).await;
}
