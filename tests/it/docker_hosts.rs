//! `sandbox.hosts` for real: a job spreads its runs over two Docker engines, finishes with the
//! same verdicts when one of them stops mid-job, leaves nothing behind on the one still running,
//! and the stopped one, restarted, is swept by the next job; and an `ssh://` host reached
//! through an sshd on 127.0.0.1. Where Docker is required (CI), so are dockerd and sshd.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use swiss_testkit::{calc, FixtureRepo, ScriptedBackend, SecondEngine};

use crate::cli_support::{stderr, stdout_json, write_issue};
use crate::docker_env::docker_test_image;
use crate::local_sshd::{user_name, LocalSshd};
use crate::verify_cli::{assert_verified_choice, fix_command, run_fix_with_env};

/// The machine's own engine, as Swiss finds it without settings.
pub(crate) fn local_engine() -> String {
    std::env::var("DOCKER_HOST").unwrap_or_else(|_| "unix:///var/run/docker.sock".to_owned())
}

/// The calc fixture whose pytest runs take `secs` longer, so that runs overlap and a stop lands
/// mid-run; the verdicts stay the calc fixture's.
fn slow_calc(secs: u32) -> FixtureRepo {
    let conftest = format!("import time\ntime.sleep({secs})\n");
    let mut files: Vec<(&str, &str)> = calc::FILES.to_vec();
    files.push(("conftest.py", &conftest));
    FixtureRepo::with_files(&files)
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Run containers started on an engine between two times (the preparation container of a job
/// image is created and committed, never started).
fn runs_started(docker: &dyn Fn(&[&str]) -> (bool, String), since: u64, until: u64) -> usize {
    let (ok, out) = docker(&[
        "events",
        "--since",
        &since.to_string(),
        "--until",
        &until.to_string(),
        "--filter",
        "type=container",
        "--filter",
        "event=start",
        "--filter",
        "label=swiss.managed=1",
        "--format",
        "{{.ID}}",
    ]);
    assert!(ok, "docker events");
    out.lines().count()
}

fn machine_docker(args: &[&str]) -> (bool, String) {
    let out = Command::new("docker").args(args).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).trim().to_owned(),
    )
}

/// Containers and images on an engine labelled with a Swiss process.
fn left_by(docker: &dyn Fn(&[&str]) -> (bool, String), pid: u32) -> (String, String) {
    let owner = format!("label=swiss.pid={pid}");
    (
        docker(&["ps", "-aq", "--filter", &owner]).1,
        docker(&["images", "-q", "--filter", &owner]).1,
    )
}

fn hosts_of_runs(json: &Value) -> Vec<String> {
    let verification = &json["verification"];
    let mut hosts: Vec<String> = verification["candidates"]
        .as_object()
        .unwrap()
        .values()
        .chain(std::iter::once(&verification["baseline"]))
        .map(|run| {
            run["host"]
                .as_str()
                .expect("each run names its host")
                .to_owned()
        })
        .collect();
    hosts.sort();
    hosts.dedup();
    hosts
}

#[test]
fn a_job_spreads_over_two_engines_and_outlives_one_of_them() {
    let Some(image) = docker_test_image() else {
        return;
    };
    let mut second = SecondEngine::start(&image);
    let engines = [
        format!("{}=1", local_engine()),
        format!("{}=1", second.address()),
    ];
    let backend = ScriptedBackend::start_in_background(calc::verification_script());
    let mut args = vec!["--sandbox", "docker", "--image", &image];
    for engine in &engines {
        args.extend(["--docker-host", engine]);
    }

    // Two slots over two engines, and each candidate runs its tests and its reproduction
    // script at once: runs go to both.
    let repo = slow_calc(1);
    let since = now();
    let (code, json, err) = run_fix_with_env(repo.path(), &backend, &args, &[]);
    assert_verified_choice(code, &json, &err, "docker");
    let until = now() + 1;
    assert!(runs_started(&machine_docker, since, until) > 0, "{err}");
    assert!(
        runs_started(&|a: &[&str]| second.docker(a), since, until) > 0,
        "{err}"
    );
    for host in hosts_of_runs(&json) {
        assert!(
            engines.iter().any(|e| e.starts_with(&host)),
            "{host} is none of {engines:?}"
        );
    }

    // Stopped while it runs a test: its runs go to the other engine, and the verdicts stand.
    let repo = slow_calc(3);
    let issues = tempfile::tempdir().unwrap();
    let issue = write_issue(issues.path(), calc::ISSUE);
    let child = fix_command(repo.path(), &issue, &backend, &args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let deadline = Instant::now() + Duration::from_secs(120);
    let running = format!("label=swiss.pid={pid}");
    while second
        .docker(&[
            "ps",
            "-q",
            "--filter",
            &running,
            "--filter",
            "status=running",
        ])
        .1
        .is_empty()
    {
        assert!(
            Instant::now() < deadline,
            "no run reached the second engine"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    second.stop();
    let output = child.wait_with_output().unwrap();
    let err = stderr(&output);
    assert_verified_choice(output.status.code(), &stdout_json(&output), &err, "docker");
    assert_eq!(
        left_by(&machine_docker, pid),
        (String::new(), String::new()),
        "left on the engine still running"
    );

    // Back up, it still holds what the stopped job made there; the next job sweeps it.
    second.restart();
    assert_ne!(
        left_by(&|a: &[&str]| second.docker(a), pid).1,
        "",
        "the job image stayed"
    );
    let (code, json, err) = run_fix_with_env(repo.path(), &backend, &args, &[]);
    assert_verified_choice(code, &json, &err, "docker");
    assert_eq!(
        left_by(&|a: &[&str]| second.docker(a), pid),
        (String::new(), String::new()),
        "swept by the next job"
    );
}

#[test]
fn a_host_without_the_image_is_left_out() {
    let Some(image) = docker_test_image() else {
        return;
    };
    let bare = SecondEngine::bare();
    let backend = ScriptedBackend::start_in_background(calc::verification_script());
    let repo = calc::repo();
    let bare_host = format!("{}=4", bare.address());
    let local_host = format!("{}=1", local_engine());
    let (code, json, err) = run_fix_with_env(
        repo.path(),
        &backend,
        &[
            "--sandbox",
            "docker",
            "--image",
            &image,
            "--docker-host",
            &bare_host,
            "--docker-host",
            &local_host,
        ],
        &[],
    );
    assert_verified_choice(code, &json, &err, "docker");
    assert_eq!(hosts_of_runs(&json), vec![local_engine()]);
    assert_eq!(bare.docker(&["ps", "-aq"]).1, "", "nothing ran there");
}

#[test]
fn an_ssh_host_is_reached_through_a_forwarded_socket() {
    let Some(image) = docker_test_image() else {
        return;
    };
    let sshd = LocalSshd::start();
    let endpoint = format!("ssh://{}@127.0.0.1:{}=2", user_name(), sshd.port);
    let backend = ScriptedBackend::start_in_background(calc::verification_script());
    let repo = calc::repo();
    let ssh_command = sshd.ssh_command();
    let (code, json, err) = run_fix_with_env(
        repo.path(),
        &backend,
        &[
            "--sandbox",
            "docker",
            "--image",
            &image,
            "--docker-host",
            &endpoint,
        ],
        &[("SWISS_SSH_COMMAND", &ssh_command)],
    );
    assert_verified_choice(
        code,
        &json,
        &format!("{err}\nsshd: {}", sshd.log()),
        "docker",
    );
    assert_eq!(
        hosts_of_runs(&json),
        vec![endpoint.trim_end_matches("=2").to_owned()]
    );
}

#[test]
fn doctor_reports_each_docker_host() {
    let Some(image) = docker_test_image() else {
        return;
    };
    let repo = tempfile::tempdir().unwrap();
    std::fs::write(
        repo.path().join("swiss.toml"),
        format!(
            "[sandbox]\nimage = \"{image}\"\nconcurrency = 3\nhosts = [\"unix:///nonexistent/docker.sock=5\", \"{}\"]\n",
            local_engine()
        ),
    )
    .unwrap();
    let output = crate::cli_support::swiss(&["doctor", "--json", "--repo"])
        .arg(repo.path())
        .env("SWISS_BACKEND_URL", "http://127.0.0.1:9/v1")
        .output()
        .unwrap();
    let report = stdout_json(&output);
    let hosts = report["docker"].as_array().expect("one check per host");
    assert_eq!(hosts.len(), 2, "{report:#}");
    assert_eq!(hosts[0]["host"], "unix:///nonexistent/docker.sock");
    assert_eq!(hosts[0]["ok"], false);
    assert_eq!(hosts[0]["slots"], 5);
    assert!(hosts[0]["error"]
        .as_str()
        .unwrap()
        .starts_with("failed to reach the Docker engine: no Docker engine answers at unix:///nonexistent/docker.sock"));
    assert_eq!(hosts[1]["host"], local_engine());
    assert_eq!(hosts[1]["ok"], true);
    assert_eq!(
        hosts[1]["slots"], 3,
        "sandbox.concurrency where the host names none"
    );
    assert_eq!(hosts[1]["image_present"], true);

    let text = crate::cli_support::swiss(&["doctor", "--repo"])
        .arg(repo.path())
        .env("SWISS_BACKEND_URL", "http://127.0.0.1:9/v1")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("docker unix:///nonexistent/docker.sock: not available: "),
        "{text}"
    );
    assert!(
        text.contains(&format!("docker {}: ok (engine ", local_engine()))
            && text.contains("3 slot(s)"),
        "{text}"
    );
}

#[test]
fn a_docker_host_that_is_no_endpoint_is_bad_input() {
    let repo = calc::repo();
    let output = crate::cli_support::swiss_fix(
        repo.path(),
        &[
            "--issue",
            "x",
            "--docker-host",
            "/var/run/docker.sock",
            "--json",
        ],
    )
    .output()
    .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("sandbox.hosts: `/var/run/docker.sock` is not a Docker endpoint"),
        "{}",
        stderr(&output)
    );
}
