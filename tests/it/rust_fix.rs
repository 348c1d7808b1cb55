//! `swiss fix` end to end on a Rust crate (`rust_calc`), verified in the local sandbox by the
//! detected `cargo test --no-fail-fast` and by a Rust reproduction program run as a Cargo
//! example through `reproduction.command`. Rust stands in for Java here: Maven cannot run
//! offline on these machines (no Maven repository is reachable to prepare `~/.m2`).

use swiss_testkit::{rust_calc, FixtureRepo, ScriptedBackend};

use crate::fixture_checks::{
    assert_reproduction_prompt, assert_right_fix_wins, fix_json, Expected,
};

#[test]
fn rust_fix_is_chosen_by_cargo_test_and_a_rust_reproduction_program() {
    let mut files = rust_calc::FILES.to_vec();
    files.push(("swiss.toml", rust_calc::SETTINGS));
    let repo = FixtureRepo::with_files(&files);
    let backend = ScriptedBackend::start_in_background(rust_calc::script());
    let (code, json, stderr) = fix_json(&repo, rust_calc::ISSUE, &backend, &["--samples", "7"]);
    assert_eq!(code, Some(0), "{stderr}\n{json:#}");

    assert_eq!(
        json["verification"]["test_command"],
        "cargo test --no-fail-fast"
    );
    let baseline = &json["verification"]["baseline"];
    assert_eq!(baseline["passed"], 3, "{baseline:#}");
    assert_eq!(baseline["failed"], 1, "keeps_fractions: {baseline:#}");
    let broken = assert_right_fix_wins(
        &json,
        &Expected {
            breaker: "+    Ok(if b == 0 { 0.0 } else { a as f64 / b as f64 })\n",
            wrong: "+    Ok(((a / b) as f64).floor())\n",
            right: "+    Ok(a as f64 / b as f64)\n",
            invalid_reason: "src/lib.rs no longer parses as Rust after the patch",
        },
    );
    assert!(broken.to_string().contains("refuses_zero"), "{broken}");
    assert_reproduction_prompt(
        &backend,
        &[
            "standalone Rust program",
            "`examples/swiss_reproduce_issue.rs`",
            "`cargo run -q --offline --example swiss_reproduce_issue`",
            "Wrap the complete program in ```rust...```.",
        ],
    );
    assert_eq!(
        repo.read("src/lib.rs"),
        rust_calc::LIB,
        "nothing is applied"
    );
}
