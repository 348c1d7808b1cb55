//! Verification (DESIGN 3.4): test commands and their output, the baseline run, the regression
//! set, model-written reproduction tests, and each unique candidate's test results.

pub mod django_log;
pub mod go_test_json;
pub mod jest_json;
pub mod junit_xml;
pub mod reproduction;
pub mod reproduction_program;
pub mod run_failure;
pub mod swebench_pytest;
pub mod sympy_log;
pub mod test_command;
pub mod test_results;
pub mod unittest_log;
pub mod verifier;
