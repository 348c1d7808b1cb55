//! One settings schema from every source: `Options` is what a source says (every field optional),
//! `Settings` the validated result. Later sources win: defaults, `swiss.toml`, environment,
//! editor, command-line flags.

mod options;
mod settings;

pub use options::{Options, ENV_API_KEY, ENV_BACKEND_URL, ENV_MODEL};
pub use settings::{SandboxChoice, Settings, SettingsError};
