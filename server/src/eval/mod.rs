//! `swiss eval`: SWE-bench-format instances through the repair pipeline, graded by the
//! benchmark's own rules.

pub mod directives;
pub mod specs;
