//! `swiss eval` and `swiss rerank`: SWE-bench-format instances through the fix pipeline, with
//! SWE-bench predictions, per-instance records and a graded report out.

pub mod checkout;
pub mod directives;
pub mod grade;
pub mod image;
pub mod instances;
pub mod predictions;
pub mod prepare;
pub mod progress;
pub mod repo_config;
pub mod report;
pub mod rerank;
pub mod run;
pub mod solve;
pub mod specs;
