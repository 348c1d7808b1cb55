//! Issues from GitHub and GitLab: `swiss fix --issue` and `swiss.fixIssue` against a fake
//! tracker on 127.0.0.1 (the API URLs come from settings), with the scripted model backend.

use std::process::Output;
use std::time::Duration;

use serde_json::{json, Value};
use swiss_testkit::{
    calc, FixtureRepo, IssueTracker, PromptKind, Script, ScriptedBackend, TrackerResponse,
};

use crate::cli_support::{stderr, stdout_json, swiss_fix as swiss};
use crate::lsp_client::TestClient;

const TOKEN: &str = "ghp_test_token_do_not_echo";

fn calc_script() -> Script {
    Script::new()
        .answer(PromptKind::Localize, [calc::LOCALIZE_ANSWER])
        .answer(
            PromptKind::Repair,
            [calc::FIX_A, calc::WRONG_ADD, calc::FIX_B, calc::FIX_C],
        )
}

/// The calc fixture with `origin` set and both trackers' APIs pointed at `tracker`.
fn calc_repo(origin: Option<&str>, tracker: &IssueTracker) -> FixtureRepo {
    let repo = calc::repo();
    if let Some(url) = origin {
        git2::Repository::open(repo.path())
            .unwrap()
            .remote("origin", url)
            .unwrap();
    }
    repo.write(
        "swiss.toml",
        &format!(
            "[backend]\nmax_retries = 0\ntimeout_secs = 10\n\n[github]\napi_url = \"{}\"\n\n[gitlab]\napi_url = \"{}\"\n",
            tracker.github_api_url(),
            tracker.gitlab_api_url()
        ),
    );
    repo
}

const ISSUE_BODY: &str = "<!-- Thanks for the report! Fill in the sections below. -->\r\n`calc.ops.divide(7, 2)` returns `3` instead of `3.5`.\r\n\r\n![screenshot](https://user-images.example/shot.png)\r\n<img width=\"400\" src=\"https://user-images.example/2.png\">\r\n";

fn github_calc_issue(tracker: &IssueTracker, number: u64) {
    tracker.github_issue(
        "acme/calc",
        number,
        "divide() floors its result",
        ISSUE_BODY,
        &[
            ("ana", "Same here: `mean([1, 2])` is 1."),
            ("bo", "<!-- triage bot -->Probably the `//` in ops.py."),
            ("cy", "The fix should keep ZeroDivisionError."),
        ],
    );
}

fn run_fix(repo: &FixtureRepo, backend: &ScriptedBackend, issue: &str) -> Output {
    swiss(
        repo.path(),
        &[
            "--issue",
            issue,
            "--backend-url",
            &backend.base_url(),
            "--samples",
            "4",
            "--localize-samples",
            "1",
            "--json",
            "--sandbox",
            "none",
        ],
    )
    .env("GITHUB_TOKEN", TOKEN)
    .output()
    .unwrap()
}

fn repair_prompt(backend: &ScriptedBackend) -> String {
    backend
        .requests()
        .iter()
        .find(|r| r.kind == PromptKind::Repair)
        .map(|r| r.prompt().to_owned())
        .expect("a repair request")
}

#[test]
fn fix_reads_a_github_issue_url_with_every_page_of_comments() {
    let tracker = IssueTracker::start();
    github_calc_issue(&tracker, 7);
    let repo = calc_repo(None, &tracker);
    let backend = ScriptedBackend::start_in_background(calc_script());

    let output = run_fix(&repo, &backend, "https://github.com/acme/calc/issues/7");
    assert_eq!(output.status.code(), Some(0), "stderr: {}", stderr(&output));
    let json = stdout_json(&output);
    assert_eq!(json["issue"]["title"], "divide() floors its result");
    assert_eq!(
        json["issue"]["url"], "https://github.com/acme/calc/issues/7",
        "the issue's page, for the editor's diagnostics to link to"
    );
    let body = json["issue"]["body"].as_str().unwrap();
    assert_eq!(
        body,
        "`calc.ops.divide(7, 2)` returns `3` instead of `3.5`.\n\n\
         Comment by @ana:\nSame here: `mean([1, 2])` is 1.\n\n\
         Comment by @bo:\nProbably the `//` in ops.py.\n\n\
         Comment by @cy:\nThe fix should keep ZeroDivisionError."
    );
    assert!(json["winner_patch"]
        .as_str()
        .unwrap()
        .contains("+    return a / b"));
    let prompt = repair_prompt(&backend);
    assert!(
        prompt
            .contains("--- BEGIN ISSUE ---\ndivide() floors its result\n\n`calc.ops.divide(7, 2)`"),
        "{prompt}"
    );
    assert!(prompt.contains("Comment by @cy:\nThe fix should keep ZeroDivisionError."));

    let requests = tracker.requests();
    let targets: Vec<&str> = requests.iter().map(|r| r.target.as_str()).collect();
    assert_eq!(
        targets,
        [
            "/repos/acme/calc/issues/7",
            "/repos/acme/calc/issues/7/comments?per_page=100",
            "/repos/acme/calc/issues/7/comments?per_page=100&page=2",
        ]
    );
    for request in &requests {
        assert_eq!(request.method, "GET");
        assert_eq!(
            request.header("authorization"),
            Some(format!("Bearer {TOKEN}").as_str())
        );
        assert_eq!(
            request.header("accept"),
            Some("application/vnd.github+json")
        );
        assert!(request
            .header("user-agent")
            .is_some_and(|ua| ua.starts_with("swiss/")));
    }
    let all_output = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        stderr(&output)
    );
    assert!(!all_output.contains(TOKEN), "the token is never echoed");
}

#[test]
fn a_long_thread_is_cut_to_the_issue_size_budget_from_swiss_toml() {
    let tracker = IssueTracker::start();
    let long: Vec<(String, String)> = (0..40)
        .map(|i| {
            (
                format!("user{i}"),
                format!("Comment {i}: {}", "more detail ".repeat(20)),
            )
        })
        .collect();
    let comments: Vec<(&str, &str)> = long
        .iter()
        .map(|(who, text)| (who.as_str(), text.as_str()))
        .collect();
    tracker.github_issue(
        "acme/calc",
        9,
        "divide() floors its result",
        ISSUE_BODY,
        &comments,
    );
    let repo = calc_repo(None, &tracker);
    let mut config = std::fs::read_to_string(repo.path().join("swiss.toml")).unwrap();
    config.push_str("\n[issue]\nmax_chars = 2000\n");
    repo.write("swiss.toml", &config);
    let backend = ScriptedBackend::start_in_background(calc_script());

    let output = run_fix(&repo, &backend, "https://github.com/acme/calc/issues/9");
    assert_eq!(output.status.code(), Some(0), "stderr: {}", stderr(&output));
    let body = stdout_json(&output)["issue"]["body"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        body.chars().count() <= 2000,
        "{} chars",
        body.chars().count()
    );
    assert!(
        body.contains("Comment 0:") && body.contains("Comment 39:"),
        "{body}"
    );
    assert!(
        body.contains("left out here to fit the size budget"),
        "{body}"
    );

    repo.write(
        "swiss.toml",
        &config.replace("max_chars = 2000", "max_chars = 0"),
    );
    let output = run_fix(&repo, &backend, "https://github.com/acme/calc/issues/9");
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("issue.max_chars"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn hash_numbers_resolve_against_the_origin_remote() {
    let tracker = IssueTracker::start();
    github_calc_issue(&tracker, 12);
    let backend = ScriptedBackend::start_in_background(calc_script());
    for (origin, reference) in [
        ("git@github.com:acme/calc.git", "#12"),
        ("https://github.com/acme/calc.git", "12"),
        ("ssh://git@github.com/acme/calc", "acme/calc#12"),
    ] {
        let repo = calc_repo(Some(origin), &tracker);
        let output = run_fix(&repo, &backend, reference);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{origin} {reference}: {}",
            stderr(&output)
        );
        assert_eq!(
            stdout_json(&output)["issue"]["url"],
            "https://github.com/acme/calc/issues/12"
        );
    }
    // Fetched once per process: three processes, three fetches of the issue.
    assert_eq!(tracker.requests_to("/repos/acme/calc/issues/12").len(), 3);

    let no_origin = calc_repo(None, &tracker);
    let output = run_fix(&no_origin, &backend, "#12");
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output).trim(),
        "swiss: failed to resolve #12: the repository has no `origin` remote to take the issue from; write owner/repo#12 or give the issue URL"
    );
}

#[test]
fn gitlab_issues_with_subgroups_notes_and_the_private_token() {
    let tracker = IssueTracker::start();
    tracker.gitlab_issue(
        "group/sub/calc",
        3,
        "divide() floors its result",
        "`divide(7, 2)` returns `3`.\n<!-- template -->",
        &[
            ("ana", "Seen on 3.12 too.", false),
            ("ana", "added ~bug label", true),
            ("bo", "It is the floor division.", false),
            ("bo", "changed the description", true),
        ],
    );
    let backend = ScriptedBackend::start_in_background(calc_script());
    let repo = calc_repo(Some("git@gitlab.com:group/sub/calc.git"), &tracker);
    let output = swiss(
        repo.path(),
        &[
            "--issue",
            "#3",
            "--backend-url",
            &backend.base_url(),
            "--samples",
            "4",
            "--localize-samples",
            "1",
            "--json",
            "--sandbox",
            "none",
        ],
    )
    .env("GITLAB_TOKEN", "glpat-test")
    .output()
    .unwrap();
    assert_eq!(output.status.code(), Some(0), "stderr: {}", stderr(&output));
    let json = stdout_json(&output);
    assert_eq!(
        json["issue"]["url"],
        "https://gitlab.com/group/sub/calc/-/issues/3"
    );
    assert_eq!(
        json["issue"]["body"],
        "`divide(7, 2)` returns `3`.\n\nComment by @ana:\nSeen on 3.12 too.\n\nComment by @bo:\nIt is the floor division."
    );
    let targets: Vec<String> = tracker.requests().into_iter().map(|r| r.target).collect();
    assert_eq!(
        targets,
        [
            "/api/v4/projects/group%2Fsub%2Fcalc/issues/3",
            "/api/v4/projects/group%2Fsub%2Fcalc/issues/3/notes?sort=asc&order_by=created_at&per_page=100",
            "/api/v4/projects/group%2Fsub%2Fcalc/issues/3/notes?sort=asc&order_by=created_at&per_page=100&page=2",
        ]
    );
    for request in tracker.requests() {
        assert_eq!(request.header("private-token"), Some("glpat-test"));
        assert_eq!(request.header("authorization"), None);
    }

    // The same issue by its URL, from a repository without a remote.
    let plain = calc_repo(None, &tracker);
    let output = run_fix(
        &plain,
        &backend,
        "https://gitlab.com/group/sub/calc/-/issues/3",
    );
    assert_eq!(output.status.code(), Some(0), "stderr: {}", stderr(&output));

    // And by the work-item URL GitLab 17 links issues with.
    let output = run_fix(
        &plain,
        &backend,
        "https://gitlab.com/group/sub/calc/-/work_items/3",
    );
    assert_eq!(output.status.code(), Some(0), "stderr: {}", stderr(&output));
    assert_eq!(
        stdout_json(&output)["issue"]["title"],
        "divide() floors its result"
    );
}

#[test]
fn tracker_errors_exit_2_and_say_what_to_do() {
    let tracker = IssueTracker::start();
    tracker.github_pull_request("acme/calc", 5, "Use true division");
    tracker.route(
        "/repos/acme/calc/issues/6",
        TrackerResponse::json(401, r#"{"message":"Bad credentials"}"#),
    );
    let reset = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 600;
    tracker.route(
        "/repos/acme/calc/issues/8",
        TrackerResponse::json(
            403,
            r#"{"message":"API rate limit exceeded for 127.0.0.1."}"#,
        )
        .with_header("x-ratelimit-limit", "60")
        .with_header("x-ratelimit-remaining", "0")
        .with_header("x-ratelimit-reset", reset.to_string()),
    );
    let backend = ScriptedBackend::start_in_background(calc_script());
    let repo = calc_repo(Some("git@github.com:acme/calc.git"), &tracker);

    let cases: [(&str, bool, &str); 5] = [
        (
            "#404",
            false,
            "swiss: failed to fetch acme/calc#404 from GitHub: not found or private; check the reference, or set GITHUB_TOKEN (or github.token) to a token that can read it",
        ),
        (
            "#6",
            true,
            "swiss: failed to fetch acme/calc#6 from GitHub: the token was rejected (HTTP 401); check GITHUB_TOKEN or github.token, or unset it to read public issues",
        ),
        (
            "#8",
            false,
            "swiss: failed to fetch acme/calc#8 from GitHub: the API rate limit is used up; it resets at ",
        ),
        (
            "#5",
            false,
            "swiss: failed to fetch acme/calc#5: it is a pull request, not an issue; give the issue it addresses instead",
        ),
        (
            "https://github.com/acme/calc/pull/5",
            false,
            "swiss: failed to fetch acme/calc#5: it is a pull request, not an issue",
        ),
    ];
    for (reference, with_token, expected) in cases {
        let mut cmd = swiss(
            repo.path(),
            &["--issue", reference, "--backend-url", &backend.base_url()],
        );
        if with_token {
            cmd.env("GITHUB_TOKEN", TOKEN);
        }
        let output = cmd.output().unwrap();
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{reference}: {err}");
        assert!(err.starts_with(expected), "{reference}: {err}");
        assert_eq!(err.lines().count(), 1, "{reference}: {err}");
        assert!(!err.contains(TOKEN), "{err}");
    }
    let rate_limited = stderr(&swiss(repo.path(), &["--issue", "#8"]).output().unwrap());
    assert!(
        rate_limited
            .contains("UTC (in 10 min); set GITHUB_TOKEN (or github.token) for a higher limit"),
        "{rate_limited}"
    );
    assert!(
        backend.requests().is_empty(),
        "nothing goes to the model without an issue"
    );
}

#[test]
fn a_redirect_to_another_port_does_not_get_the_gitlab_token() {
    // reqwest drops `Authorization` on a cross-host redirect, not `PRIVATE-TOKEN`: a redirect to
    // another service on the same host must not be followed with it.
    let tracker = IssueTracker::start();
    let elsewhere = IssueTracker::start();
    elsewhere.gitlab_issue("group/calc", 3, "divide() floors", "It returns 3.", &[]);
    let path = "/api/v4/projects/group%2Fcalc/issues/3";
    tracker.route(
        path,
        TrackerResponse::json(301, "{}")
            .with_header("Location", format!("{}{path}", elsewhere.url())),
    );
    let repo = calc_repo(None, &tracker);
    let output = swiss(
        repo.path(),
        &["--issue", "https://gitlab.com/group/calc/-/issues/3"],
    )
    .env("GITLAB_TOKEN", "glpat-test")
    .output()
    .unwrap();
    let err = stderr(&output);
    assert_ne!(output.status.code(), Some(0), "{err}");
    assert_eq!(tracker.requests_to(path).len(), 1);
    for request in elsewhere.requests() {
        assert_eq!(request.header("private-token"), None, "{}", request.target);
    }
    assert!(!err.contains("glpat-test"), "{err}");
    assert!(
        err.contains(&format!(
            "HTTP 301 redirects to another server ({}), which Swiss does not send the token to",
            elsewhere.url()
        )),
        "{err}"
    );
}

#[test]
fn an_unreachable_tracker_exits_3() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let repo = calc::repo();
    repo.write(
        "swiss.toml",
        &format!("[github]\napi_url = \"http://127.0.0.1:{port}\"\n"),
    );
    let output = swiss(
        repo.path(),
        &["--issue", "https://github.com/acme/calc/issues/1"],
    )
    .output()
    .unwrap();
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(3), "{err}");
    assert!(
        err.starts_with(&format!(
            "swiss: failed to reach GitHub at http://127.0.0.1:{port}: "
        )),
        "{err}"
    );
    assert!(
        err.trim_end()
            .ends_with("check the network connection and github.api_url, then try again"),
        "{err}"
    );
}

#[test]
fn a_local_issue_file_needs_no_tracker() {
    // The trackers' APIs point at nothing: a file must not touch them.
    let repo = calc::repo();
    repo.write(
        "swiss.toml",
        "[github]\napi_url = \"http://127.0.0.1:9\"\n[gitlab]\napi_url = \"http://127.0.0.1:9/api/v4\"\n",
    );
    let issues = tempfile::tempdir().unwrap();
    let file = issues.path().join("7");
    std::fs::write(&file, calc::ISSUE).unwrap();
    let backend = ScriptedBackend::start_in_background(calc_script());
    let output = swiss(
        repo.path(),
        &[
            "--issue",
            &file.display().to_string(),
            "--backend-url",
            &backend.base_url(),
            "--samples",
            "4",
            "--json",
            "--sandbox",
            "none",
        ],
    )
    .output()
    .unwrap();
    assert_eq!(output.status.code(), Some(0), "stderr: {}", stderr(&output));
    let json = stdout_json(&output);
    assert_eq!(json["issue"]["title"], "divide() floors its result");
    assert_eq!(json["issue"]["url"], Value::Null);
}

fn lsp_options(backend: &ScriptedBackend, tracker: &IssueTracker) -> Value {
    json!({
        "backend": {"urls": [backend.base_url()], "max_retries": 0, "timeout_secs": 10},
        "localize": {"samples": 1},
        "repair": {"samples": 4},
        "sandbox": {"kind": "none"},
        "github": {"api_url": tracker.github_api_url(), "token": "lsp-token"},
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fix_issue_fetches_hash_references_and_links_diagnostics_to_the_issue() {
    let tracker = IssueTracker::start();
    github_calc_issue(&tracker, 21);
    let backend = ScriptedBackend::start(calc_script()).await;
    let repo = calc::repo();
    git2::Repository::open(repo.path())
        .unwrap()
        .remote("origin", "git@github.com:acme/calc.git")
        .unwrap();
    let client = TestClient::start();
    client
        .initialize(
            repo.path(),
            json!({"window": {"workDoneProgress": true}}),
            lsp_options(&backend, &tracker),
        )
        .await;

    let started = client
        .execute("swiss.fixIssue", json!([{"issue": "#21"}]))
        .await
        .unwrap();
    assert_eq!(started, json!({"job": "job-1"}));
    let end = client
        .wait_notification(
            "$/progress",
            |p| p["token"] == "swiss/job-1" && p["value"]["kind"] == "end",
            Duration::from_secs(30),
        )
        .await;
    assert!(
        end["value"]["message"]
            .as_str()
            .unwrap()
            .contains("winner: candidate 1"),
        "{end}"
    );
    let published = client.notifications("textDocument/publishDiagnostics");
    let winner = published
        .iter()
        .rev()
        .find(|p| p["diagnostics"][0]["code"] == "winner")
        .unwrap_or_else(|| panic!("no winner diagnostics: {published:#?}"));
    let diagnostic = &winner["diagnostics"][0];
    assert_eq!(
        diagnostic["codeDescription"]["href"],
        "https://github.com/acme/calc/issues/21"
    );
    assert_eq!(
        diagnostic["relatedInformation"][0]["message"],
        "issue: divide() floors its result"
    );
    let prompt = repair_prompt(&backend);
    assert!(
        prompt.contains("Comment by @bo:\nProbably the `//` in ops.py."),
        "{prompt}"
    );
    let requests = tracker.requests();
    assert_eq!(requests.len(), 3, "the issue and two pages of comments");
    assert_eq!(
        requests[0].header("authorization"),
        Some("Bearer lsp-token")
    );

    // The same reference again (a re-run) comes from the cache.
    client
        .execute("swiss.fixIssue", json!([{"issue": "acme/calc#21"}]))
        .await
        .unwrap();
    assert_eq!(tracker.requests().len(), 3);

    // Tracker errors are the command's answer; pasted text still is the issue itself.
    let err = client
        .execute("swiss.fixIssue", json!([{"issue": "#99"}]))
        .await
        .unwrap_err();
    assert_eq!(err["code"], -32803, "{err}");
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("failed to fetch acme/calc#99 from GitHub: not found or private"),
        "{err}"
    );
    let asked = tracker.requests().len();
    let pasted = client
        .execute(
            "swiss.fixIssue",
            json!([{"issue": "divide() floors, see #21\nmean([1, 2]) is 1"}]),
        )
        .await
        .unwrap();
    assert_eq!(pasted, json!({"job": "job-3"}));
    assert_eq!(
        tracker.requests().len(),
        asked,
        "text that mentions a reference is not a reference"
    );
    client.shutdown().await;
}
