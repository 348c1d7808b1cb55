//! The protocol-free core: plain data and plain functions from an issue to a ranking.

pub mod added_functions;
pub mod apply;
pub mod base_file;
pub mod brace_printer;
pub mod chunks;
pub mod contexts;
pub mod definitions;
pub mod edits;
pub mod hunks;
pub mod issue;
#[cfg(test)]
mod language_keys_tests;
pub mod languages;
pub mod localize;
pub mod normalize;
pub mod python_syntax;
pub mod repair;
pub mod retrieve;
pub mod selection;
pub mod similarity;
pub mod snapshot;
pub mod structure_fit;
pub mod syntax;
pub mod tokens;
pub mod unified_diff;
pub mod write_back;
