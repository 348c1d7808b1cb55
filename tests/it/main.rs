//! Integration tests: one binary.
mod backend;
mod cli_support;
mod config_cli;
mod confine;
mod docker_env;
mod eval;
mod fix_cli;
mod issue_sources;
mod localize_recipe;
mod lsp;
mod lsp_client;
mod nvim;
mod sandbox;
mod toolchains;
mod verify_cli;
