//! Integration tests: one binary.
mod backend;
mod fix_cli;
mod sandbox;
mod docker_env;
mod verify_cli;
mod lsp;
mod lsp_client;
mod nvim;
mod issue_sources;
