//! Integration tests: one binary.
mod backend;
mod fix_cli;
