//! Swiss: the SWE-Swiss repair pipeline (localize, sample SEARCH/REPLACE patches, verify, vote)
//! as a library. The engine knows nothing of LSP; the CLI and the language server drive it.

pub mod backend;
pub mod cli;
pub mod config;
pub mod eval;
pub mod issue_source;
pub mod job;
pub mod lsp;
pub mod prompts;
pub mod sandbox;
pub mod tokenizer;
pub mod verify;

/// The protocol-free core, its own crate so that no arrow points from it to LSP, HTTP or Docker.
pub use swiss_engine as engine;
