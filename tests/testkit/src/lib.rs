//! Test support for Swiss: the scripted OpenAI-compatible backend and fixture repositories.

pub mod docker_engine;
pub mod fixture_repo;
pub mod go_calc;
pub mod js_calc;
pub mod language_fixture;
pub mod median;
pub mod pytest_venv;
pub mod rust_calc;
pub mod scripted_backend;
pub mod still_answers;
pub mod ts_calc;

pub use docker_engine::SecondEngine;
pub use fixture_repo::{calc, FixtureRepo};
pub use median::median;
pub use pytest_venv::{pytest_venv, PytestVenv};
pub use scripted_backend::{
    Fault, PromptKind, RecordedMessage, RecordedRequest, Script, ScriptedBackend,
};
pub mod issue_tracker;
pub use issue_tracker::{IssueTracker, TrackerRequest, TrackerResponse};
