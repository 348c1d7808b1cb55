//! A component a test needs and this machine lacks: the test skips with one line on stderr,
//! or fails where CI set `SWISS_REQUIRE_<COMPONENT>=1`, so that a skip there cannot report a
//! pass for a test that tested nothing.

/// Whether `variable` (`SWISS_REQUIRE_DOCKER`, …) is set to 1.
pub fn required(variable: &str) -> bool {
    std::env::var(variable).is_ok_and(|v| v == "1")
}

/// Says on stderr (shown with --nocapture) that `test` did not run, and why.
#[allow(clippy::print_stderr)]
pub fn say_skipped(variable: &str, test: &str, why: &dyn std::fmt::Display) {
    eprintln!("skipped {test}: {why} (set {variable}=1 to make this a failure)");
}

/// A panic naming `why` where `variable` is 1, else the skip said on stderr.
pub fn skip_unless_required(variable: &str, test: &str, why: &str) {
    assert!(!required(variable), "{variable}=1 but {why}");
    say_skipped(variable, test, &why);
}
