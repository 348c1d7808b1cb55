//! One settings schema from every source: `Options` is what a source says (every field optional),
//! `Settings` the validated result. Later sources win: defaults, `swiss.toml`, environment,
//! editor, command-line flags.

mod as_options;
mod options;
mod schema;
mod secret;
mod settings;

pub use options::{
    Options, ENV_API_KEY, ENV_BACKEND_URL, ENV_GITHUB_TOKEN, ENV_GITLAB_TOKEN, ENV_MODEL,
    ENV_SELECTION_COMPAT,
};
pub use schema::{default_of, json_schema, redact_secrets, REDACTED};
pub use secret::Secret;
pub use settings::{
    EmbeddingSettings, GithubSettings, GitlabSettings, SandboxChoice, Settings, SettingsError,
    DEFAULT_GITHUB_API, DEFAULT_GITLAB_API, DEFAULT_MAX_ISSUE_CHARS,
};
