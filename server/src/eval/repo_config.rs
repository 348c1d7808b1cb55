//! `--repo-config FILE`: per-repository test settings for `swiss eval`, one TOML table per
//! `"owner/name"` holding `test.*` and `sandbox.*` keys of `swiss.toml`. They go over the
//! built-in settings of SWE-bench's repositories (`specs`), so a dataset of other repositories
//! works, and a built-in command can be corrected without a new release.

use std::collections::BTreeMap;
use std::path::Path;

use super::specs::RepoSpec;
use crate::config::Options;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct RepoConfig {
    repos: BTreeMap<String, Options>,
}

/// The sections a repository's table may hold: the rest of `swiss.toml` is the run's, not a
/// repository's.
const SECTIONS: &[&str] = &["test", "sandbox"];

impl RepoConfig {
    /// Strict, unlike `swiss.toml`: a benchmark run with a silently ignored key would measure
    /// something else than the user meant.
    pub fn read(path: &Path) -> Result<RepoConfig, String> {
        let fail =
            |message: String| format!("failed to read --repo-config {}: {message}", path.display());
        let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
        RepoConfig::parse(&text).map_err(fail)
    }

    pub fn parse(text: &str) -> Result<RepoConfig, String> {
        let table: toml::Table = toml::from_str(text).map_err(|e| e.message().to_owned())?;
        let mut repos = BTreeMap::new();
        for (repo, value) in table {
            let toml::Value::Table(sections) = value else {
                return Err(format!(
                    "`{repo}` must be a table such as [\"{repo}\"] with test.* and sandbox.* keys"
                ));
            };
            if let Some(other) = sections.keys().find(|k| !SECTIONS.contains(&k.as_str())) {
                return Err(format!(
                    "`{repo}.{other}` is not allowed here: a repository's table holds test.* and sandbox.* keys only"
                ));
            }
            let json = serde_json::to_value(&sections).map_err(|e| e.to_string())?;
            let options: Options =
                serde_json::from_value(json).map_err(|e| format!("`{repo}`: {e}"))?;
            repos.insert(repo, options);
        }
        Ok(RepoConfig { repos })
    }

    pub fn get(&self, repo: &str) -> Option<&Options> {
        self.repos.get(repo)
    }
}

/// A built-in spec as options, so the repository's table and the command line merge over it
/// field by field.
pub fn spec_options(spec: &RepoSpec) -> Options {
    let mut options = Options::default();
    options.test.command = Some(spec.test_command.clone());
    options.test.format = serde_json::to_value(spec.test_format)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned));
    options.test.python = spec.python.clone();
    if !spec.env.is_empty() {
        options.test.env = Some(spec.env.iter().cloned().collect());
    }
    options
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::test_results::OutputFormat;

    #[test]
    fn tables_of_test_and_sandbox_keys() {
        let config = RepoConfig::parse(
            r#"
["marshmallow-code/marshmallow"]
test.command = "python -m pytest -rA"
test.env = { PYTHONPATH = "src" }
sandbox.memory_mb = 2048
"#,
        )
        .unwrap();
        let options = config.get("marshmallow-code/marshmallow").unwrap();
        assert_eq!(
            options.test.command.as_deref(),
            Some("python -m pytest -rA")
        );
        assert_eq!(
            options
                .test
                .env
                .as_ref()
                .unwrap()
                .get("PYTHONPATH")
                .map(String::as_str),
            Some("src")
        );
        assert_eq!(options.sandbox.memory_mb, Some(2048));
        assert!(config.get("other/repo").is_none());
    }

    #[test]
    fn other_sections_and_unknown_keys_are_refused() {
        let err = RepoConfig::parse("[\"o/r\"]\nbackend.model = \"x\"\n").unwrap_err();
        assert!(err.contains("`o/r.backend` is not allowed"), "{err}");
        let err = RepoConfig::parse("[\"o/r\"]\ntest.comand = \"x\"\n").unwrap_err();
        assert!(err.contains("comand"), "{err}");
        let err = RepoConfig::parse("\"o/r\" = 3\n").unwrap_err();
        assert!(err.contains("must be a table"), "{err}");
    }

    #[test]
    fn built_in_specs_resolve_into_settings_with_their_format() {
        for (repo, version) in [
            ("django/django", "3.0"),
            ("sympy/sympy", "1.12"),
            ("matplotlib/matplotlib", "3.5"),
        ] {
            let spec = super::super::specs::builtin_spec(repo, version).unwrap();
            let settings = crate::config::Settings::resolve(&spec_options(&spec)).unwrap();
            assert_eq!(settings.test_format, Some(spec.test_format), "{repo}");
            assert_eq!(settings.test_command, Some(spec.test_command.clone()));
        }
    }

    #[test]
    fn a_spec_becomes_options_that_a_table_overrides() {
        let spec = RepoSpec {
            test_command: "pytest -rA".into(),
            test_format: OutputFormat::Pytest,
            env: vec![("A".into(), "1".into())],
            python: Some("python".into()),
        };
        let config = RepoConfig::parse("[\"o/r\"]\ntest.python = \"python3.9\"\n").unwrap();
        let merged = spec_options(&spec).merged(config.get("o/r").unwrap().clone());
        assert_eq!(merged.test.command.as_deref(), Some("pytest -rA"));
        assert_eq!(merged.test.format.as_deref(), Some("pytest"));
        assert_eq!(merged.test.python.as_deref(), Some("python3.9"));
        assert_eq!(
            merged.test.env.unwrap().get("A").map(String::as_str),
            Some("1")
        );
    }
}
