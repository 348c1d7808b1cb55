//! `repair.early_stop` end to end: the built `swiss fix --json` against a model whose repair
//! samples come one at a time and mostly agree. The stop closes the open request, skips the
//! rest, and picks the patch that drawing every sample (`--no-early-stop`) picks.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;
use swiss_testkit::calc;
use swiss_testkit::ScriptedBackend;

use crate::cli_support::{stderr, stdout_json, swiss_fix, write_issue};

const SAMPLES: usize = 30;

fn fix(repo: &Path, backend: &ScriptedBackend, extra: &[&str]) -> Value {
    let issues = tempfile::tempdir().unwrap();
    let issue = write_issue(issues.path(), calc::ISSUE);
    let url = backend.base_url();
    let samples = SAMPLES.to_string();
    let mut args = vec![
        "--issue",
        &issue,
        "--backend-url",
        &url,
        "--samples",
        &samples,
        "--sandbox",
        "local",
        "--json",
    ];
    args.extend_from_slice(extra);
    let output = swiss_fix(repo, &args).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    stdout_json(&output)
}

#[test]
fn a_settled_majority_stops_sampling_and_wins_as_the_full_run_does() {
    let repo = calc::repo();
    let backend = ScriptedBackend::start_in_background(calc::strong_majority_script(
        Duration::from_millis(300),
    ));
    let early = fix(repo.path(), &backend, &[]);
    let stop = &early["samples"]["early_stop"];
    let skipped = stop["skipped"]
        .as_u64()
        .unwrap_or_else(|| panic!("{early:#}")) as usize;
    let received = early["samples"]["total"].as_u64().unwrap() as usize;
    assert!(skipped > 0, "{stop}");
    assert_eq!(received + skipped, SAMPLES, "{stop}");
    assert_eq!(stop["received"], received);
    assert_eq!(
        early["confidence"]["caveats"],
        serde_json::json!([{"kind": "early-stop", "received": received, "requested": SAMPLES}]),
        "{early:#}"
    );
    assert!(
        stop["completion_tokens_saved_estimate"].as_u64().unwrap() > 0,
        "{stop}"
    );
    // The lead was more than the samples left plus one when the stop fired.
    let (votes, runner_up) = (
        stop["votes"].as_u64().unwrap(),
        stop["runner_up_votes"].as_u64().unwrap(),
    );
    assert!(
        votes as usize > runner_up as usize + (SAMPLES - received) + 1,
        "{stop}"
    );
    assert_eq!(stop["winner"], early["winner"]);
    let winner = &early["candidates"][0];
    assert_eq!(winner["regression_failures"], 0);
    assert_eq!(winner["reproduced"], false);

    // The scripted model saw the client hang up on the repair stream it was still writing.
    let deadline = Instant::now() + Duration::from_secs(10);
    while backend.abandoned_streams() == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        backend.abandoned_streams() > 0,
        "the open request was not closed"
    );

    let backend = ScriptedBackend::start_in_background(calc::strong_majority_script(
        Duration::from_millis(300),
    ));
    let full = fix(repo.path(), &backend, &["--no-early-stop"]);
    assert_eq!(full["samples"]["total"], SAMPLES);
    assert_eq!(
        full["samples"].get("early_stop"),
        None,
        "{:#}",
        full["samples"]
    );
    assert_eq!(full["winner_patch"], early["winner_patch"]);
    assert!(early["winner_patch"]
        .as_str()
        .unwrap()
        .contains("+    return a / b\n"));
    assert_eq!(backend.abandoned_streams(), 0);
}

#[test]
fn test_runs_still_waiting_for_the_sandbox_are_dropped_when_the_winner_is_settled() {
    let repo = calc::repo();
    // One run at a time, each over four seconds: the two wrong candidates, found second and
    // third, queue behind the right one, and the stop (due once the right one is verified, at
    // about the 18th sample, 7 s in) comes before the third gets its turn (after the baseline
    // and two runs, 12 s in): a margin that a loaded machine's slower runs only widen.
    repo.write("swiss.toml", "[sandbox]\nconcurrency = 1\n");
    let mut repairs = vec![calc::FIX_A, calc::WRONG_ADD, calc::WRONG_KEEPS_BUG];
    repairs.extend([calc::FIX_B, calc::FIX_A, calc::FIX_C].repeat(9));
    let backend = ScriptedBackend::start_in_background(calc::paced_script(
        &repairs,
        Duration::from_millis(400),
    ));
    let slow = "sleep 4 && python3 -m pytest -rA -v -p no:cacheprovider";
    let json = fix(repo.path(), &backend, &["--test-cmd", slow]);
    assert!(
        json["samples"]["early_stop"]["skipped"]
            .as_u64()
            .unwrap_or(0)
            > 0,
        "{json:#}"
    );
    let fix = &json["candidates"][0];
    assert_eq!(fix["selected"], true);
    assert!(fix["patch"]
        .as_str()
        .unwrap()
        .contains("+    return a / b\n"));
    let keeps_bug = json["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| {
            c["patch"]
                .as_str()
                .unwrap()
                .contains("sum(values) / len(values)")
        })
        .unwrap_or_else(|| panic!("{json:#}"));
    assert_eq!(keeps_bug["regression_failures"], Value::Null, "{json:#}");
    let tested = json["verification"]["candidates"].as_object().unwrap();
    assert!(
        !tested.contains_key(&keeps_bug["id"].to_string()),
        "its run was dropped: {tested:#?}"
    );
    assert!(tested.contains_key(&fix["id"].to_string()));
}
