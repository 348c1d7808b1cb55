//! Everything an instance needs before its job: a fresh checkout of the base commit, and the
//! settings it is tested with. Test settings come from the built-in spec of its repository, then
//! `--repo-config`, then the command line; the test directives of the test patch are appended to
//! the command, those that exist at the base commit for the job (the model and the job never see
//! the test patch), all of them for grading.

use std::path::{Path, PathBuf};

use super::checkout::{checkout, find_repo, Checkout};
use super::directives::test_directives;
use super::image::image_for;
use super::instances::Instance;
use super::repo_config::{spec_options, RepoConfig};
use super::specs::builtin_spec;
use crate::config::{Options, SandboxChoice, Settings};
use crate::engine::snapshot::{RepoSnapshot, DEFAULT_MAX_FILE_BYTES};
use crate::verify::test_command::TestCommand;

/// What every instance of a run shares.
#[derive(Debug, Clone)]
pub struct EvalOptions {
    pub repos: PathBuf,
    /// Environment and command-line options; they win over the per-repository ones.
    pub run: Options,
    pub image_template: Option<String>,
    pub repo_config: RepoConfig,
}

pub struct PreparedInstance {
    /// Held for the job's whole life: the snapshot reads files from it.
    pub checkout: Checkout,
    pub source: PathBuf,
    pub snapshot: RepoSnapshot,
    /// The job's: the command runs the directives that exist at the base commit.
    pub settings: Settings,
    /// The grading command: every directive of the test patch. `None` without a test command.
    pub grade_test: Option<TestCommand>,
    /// The sandbox and test settings before the job's were narrowed to the base commit.
    pub grade_settings: Settings,
    pub warnings: Vec<String>,
}

impl EvalOptions {
    /// The instance's options before its directives: the run's over its repository's.
    pub fn options_for(&self, instance: &Instance) -> Options {
        let mut options = Options::default();
        if let Some(spec) = builtin_spec(&instance.repo, &instance.version) {
            options = options.merged(spec_options(&spec));
        }
        if let Some(config) = self.repo_config.get(&instance.repo) {
            options = options.merged(config.clone());
        }
        options = options.merged(self.run.clone());
        if let Some(template) = &self.image_template {
            options.sandbox.image = Some(image_for(template, instance));
        }
        // `auto` would warn on every instance that has no image: a benchmark says where it tests.
        options
            .sandbox
            .kind
            .get_or_insert_with(|| "local".to_owned());
        options
    }
}

/// Blocking (git2 and file reads): call it from `spawn_blocking`.
pub fn prepare(instance: &Instance, eval: &EvalOptions) -> Result<PreparedInstance, String> {
    let source = find_repo(&eval.repos, &instance.repo).map_err(|e| e.to_string())?;
    let checkout =
        checkout(&source, &instance.repo, &instance.base_commit).map_err(|e| e.to_string())?;
    let snapshot =
        RepoSnapshot::open(checkout.path(), DEFAULT_MAX_FILE_BYTES).map_err(|e| e.to_string())?;
    let mut settings = Settings::resolve(&eval.options_for(instance))
        .map_err(|e| format!("failed to resolve the settings of {}: {e}", instance.repo))?;
    let grade_settings = settings.clone();
    let mut warnings = Vec::new();
    let base_test = crate::job::test_command(&settings, &snapshot);
    let directives = test_directives(&instance.repo, &instance.test_patch);
    let at_base: Vec<String> = directives
        .iter()
        .filter(|d| exists_at_base(&snapshot, d))
        .cloned()
        .collect();
    let grade_test = base_test
        .as_ref()
        .map(|test| with_directives(test, &directives));
    match &base_test {
        None => {
            if settings.sandbox != SandboxChoice::None {
                warnings.push(format!(
                    "no test command for {}: candidates are not verified (set test.command for it in --repo-config)",
                    instance.repo
                ));
            }
            settings.sandbox = SandboxChoice::None;
        }
        Some(_) if at_base.is_empty() && !directives.is_empty() => {
            warnings.push(
                "none of the test patch's test files exists at the base commit: candidates are not verified".to_owned(),
            );
            settings.sandbox = SandboxChoice::None;
        }
        Some(test) => {
            let test = with_directives(test, &at_base);
            settings.test_command = Some(test.command);
            settings.test_format = Some(test.format);
        }
    }
    Ok(PreparedInstance {
        checkout,
        source,
        snapshot,
        settings,
        grade_test,
        grade_settings,
        warnings,
    })
}

fn with_directives(test: &TestCommand, directives: &[String]) -> TestCommand {
    let mut command = test.command.clone();
    for directive in directives {
        command.push(' ');
        command.push_str(&shell_word(directive));
    }
    TestCommand {
        command,
        ..test.clone()
    }
}

/// A directive is a path (`tests/test_x.py`) or a dotted module under `tests/` (Django's
/// `admin_views.tests`); either way it names a file of the snapshot when it exists.
fn exists_at_base(snapshot: &RepoSnapshot, directive: &str) -> bool {
    let as_module = format!("{}.py", directive.replace('.', "/"));
    snapshot.contains(directive)
        || snapshot.contains(&as_module)
        || snapshot.contains(&format!("tests/{as_module}"))
        || Path::new(directive).extension().is_none()
            && snapshot
                .paths()
                .any(|p| p.starts_with(&format!("{}/", directive.trim_end_matches('/'))))
}

fn shell_word(word: &str) -> String {
    if word
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+:@%=,".contains(c))
    {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::test_results::OutputFormat;

    fn eval_options(run: Options, repo_config: &str, template: Option<&str>) -> EvalOptions {
        EvalOptions {
            repos: PathBuf::from("repos"),
            run,
            image_template: template.map(str::to_owned),
            repo_config: RepoConfig::parse(repo_config).unwrap(),
        }
    }

    #[test]
    fn the_command_line_wins_over_the_repository_table_and_local_is_the_default() {
        let instance: Instance = serde_json::from_value(serde_json::json!({
            "instance_id": "o__r-1", "repo": "o/r", "base_commit": "abc",
            "problem_statement": "x", "version": "1.0",
        }))
        .unwrap();
        let table = "[\"o/r\"]\nsandbox.kind = \"docker\"\ntest.command = \"pytest\"\n";
        let kind = |run: Options, table: &str, template: Option<&str>| {
            let options = eval_options(run, table, template).options_for(&instance);
            (options.sandbox.kind.unwrap(), options.sandbox.image)
        };
        assert_eq!(
            kind(Options::default(), table, None),
            ("docker".into(), None)
        );
        assert_eq!(kind(Options::default(), "", None), ("local".into(), None));
        let mut local = Options::default();
        local.sandbox.kind = Some("local".into());
        assert_eq!(kind(local, table, None), ("local".into(), None));
        assert_eq!(
            kind(Options::default(), "", Some("img:{instance_id}")),
            ("local".into(), Some("img:o__r-1".into())),
            "the command line sets docker with a template; options_for only fills the image"
        );
        let options = eval_options(Options::default(), table, None).options_for(&instance);
        assert_eq!(options.test.command.as_deref(), Some("pytest"));
    }

    #[test]
    fn directives_are_appended_as_shell_words() {
        let test = TestCommand {
            command: "pytest -rA".into(),
            format: OutputFormat::Pytest,
            junit_xml: None,
        };
        let with = with_directives(&test, &["tests/test_a.py".into(), "it's.py".into()]);
        assert_eq!(with.command, "pytest -rA tests/test_a.py 'it'\\''s.py'");
        assert_eq!(with.format, OutputFormat::Pytest);
    }
}
