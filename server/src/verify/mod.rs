//! Verification (DESIGN 3.4): test commands and their output, the baseline run, the regression
//! set, model-written reproduction tests, and each unique candidate's test results.

pub mod reproduction;
pub mod run_failure;
pub mod test_command;
pub mod test_results;
pub mod verifier;
