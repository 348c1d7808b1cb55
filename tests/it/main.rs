//! Integration tests: one binary.
mod backend;
mod cli_support;
mod config_cli;
mod confine;
mod docker_env;
mod docker_hosts;
mod eval;
mod fix_cli;
mod issue_sources;
mod local_sshd;
mod localize_recipe;
mod lsp;
mod lsp_client;
mod nvim;
mod sandbox;
mod verify_cli;
