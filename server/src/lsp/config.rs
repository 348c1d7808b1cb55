//! Editor settings (`initializationOptions`, `workspace/didChangeConfiguration`,
//! `workspace/configuration`) merged with the other sources as DESIGN 5 orders them: defaults,
//! `swiss.toml`, environment, editor, later winning.

use serde_json::Value;

use crate::config::Options;

/// The section editors keep Swiss's settings under (`"swiss": {...}` in VS Code's settings).
pub const SECTION: &str = "swiss";

#[derive(Debug, Default, Clone)]
pub struct EditorOptions {
    initialization: Options,
    /// The latest pushed or pulled settings, once there are any. They replace
    /// `initializationOptions` whole, so a setting the user removed stops applying; only the
    /// credentials, which an editor may keep out of its settings (VS Code's SecretStorage) and
    /// send at start alone, carry over.
    workspace: Option<Options>,
}

impl EditorOptions {
    pub fn set_initialization(&mut self, value: Value, warnings: &mut Vec<String>) {
        self.initialization =
            Options::from_value(unwrap_section(value), "initializationOptions", warnings);
    }

    /// An empty answer (a client with nothing configured, or no `workspace/configuration`
    /// support) keeps the start-up settings.
    pub fn set_workspace(&mut self, value: Value, warnings: &mut Vec<String>) {
        let value = unwrap_section(value);
        let empty = value.is_null() || value.as_object().is_some_and(|m| m.is_empty());
        self.workspace = (!empty).then(|| Options::from_value(value, "editor settings", warnings));
    }

    pub fn options(&self) -> Options {
        let Some(workspace) = &self.workspace else {
            return self.initialization.clone();
        };
        let init = &self.initialization;
        let mut credentials = Options::default();
        credentials.backend.api_key = init.backend.api_key.clone();
        credentials.github.token = init.github.token.clone();
        credentials.gitlab.token = init.gitlab.token.clone();
        credentials.merged(workspace.clone())
    }
}

/// Clients differ: some send the settings themselves, some wrap them in their section name.
/// `swiss` is no section of the schema, so unwrapping it is unambiguous.
fn unwrap_section(value: Value) -> Value {
    match value {
        Value::Object(mut map) if map.get(SECTION).is_some_and(Value::is_object) => {
            map.remove(SECTION).unwrap_or(Value::Null)
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn workspace_settings_replace_initialization_options_but_credentials() {
        let mut editor = EditorOptions::default();
        let mut warnings = Vec::new();
        editor.set_initialization(
            json!({"backend": {"model": "a", "max_retries": 1, "api_key": "k"}}),
            &mut warnings,
        );
        assert_eq!(editor.options().backend.max_retries, Some(1));
        editor.set_workspace(json!(null), &mut warnings);
        assert_eq!(
            editor.options().backend.max_retries,
            Some(1),
            "an empty answer keeps them"
        );
        // The user removed max_retries and changed the model.
        editor.set_workspace(json!({"swiss": {"backend": {"model": "b"}}}), &mut warnings);
        let options = editor.options();
        assert_eq!(options.backend.model.as_deref(), Some("b"));
        assert_eq!(options.backend.max_retries, None);
        assert_eq!(options.backend.api_key.as_deref(), Some("k"));
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn a_bad_editor_field_is_reported_and_ignored() {
        let mut editor = EditorOptions::default();
        let mut warnings = Vec::new();
        editor.set_initialization(json!({"repair": {"samples": "many"}}), &mut warnings);
        assert_eq!(editor.options().repair.samples, None);
        assert!(warnings[0].contains("repair.samples"), "{warnings:?}");
    }
}
