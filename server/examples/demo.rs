//! Swiss's main job end to end on a machine without a GPU: a small Python repository with a real
//! bug, a stand-in model (the scripted OpenAI-compatible server the tests use, on 127.0.0.1) that
//! answers like SWE-Swiss would, and the real `swiss fix` with verification in the local sandbox.
//! Run with `cargo run --release --example demo`; add `-- --json` or other `swiss fix` flags.

use std::process::ExitCode;

use swiss_testkit::{calc, ScriptedBackend};

fn main() -> ExitCode {
    let repo = calc::repo();
    let issue = repo.path().join(".git").join("demo-issue.md");
    if let Err(e) = std::fs::write(&issue, calc::ISSUE) {
        let _ = std::io::Write::write_fmt(
            &mut std::io::stderr(),
            format_args!("demo: failed to write the issue: {e}\n"),
        );
        return ExitCode::from(2);
    }
    let backend = ScriptedBackend::start_in_background(calc::verification_script());
    let url = backend.base_url();
    let mut args: Vec<String> = ["swiss", "fix", "--repo"].map(String::from).to_vec();
    args.push(repo.path().display().to_string());
    args.extend(["--issue".to_owned(), issue.display().to_string()]);
    args.extend([
        "--backend-url".to_owned(),
        url,
        "--samples".to_owned(),
        "6".to_owned(),
    ]);
    args.extend(["--sandbox".to_owned(), "local".to_owned()]);
    args.extend(std::env::args().skip(1));
    swiss::cli::main_from(args)
}
