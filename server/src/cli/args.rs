//! The raw command line. Flags become `Options`; validation happens in `Settings::resolve`.
//! A flag that overrides a setting is an `Option` without a clap default, so that leaving it out
//! keeps `swiss.toml`'s value; its help shows the setting's default from the settings schema.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::config::{default_of, Options, Secret, ENV_MODEL, ENV_SELECTION_COMPAT};

#[derive(Debug, Parser)]
#[command(
    name = "swiss",
    version,
    about = "Turns an issue into a verified patch (the SWE-Swiss pipeline)"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
// Parsed once per process: boxing `FixArgs` would save nothing worth the indirection.
#[allow(clippy::large_enum_variant)]
pub enum Command {
    /// Localize the issue, sample candidate patches, rank them and print the winner.
    Fix(FixArgs),
    /// Serve the Language Server Protocol on stdin/stdout (docs/lsp.md).
    Lsp(LspArgs),
    /// Check this machine: the confinement local test runs get, the backends, Docker.
    Doctor(DoctorArgs),
    /// Print the settings a job in the repository would run with (swiss.toml and the
    /// environment over the defaults, credentials redacted), or with --schema the settings'
    /// JSON Schema.
    Config(ConfigArgs),
    /// Run SWE-bench-format instances through the fix pipeline: predictions, records and a
    /// report (graded with --grade) in the output folder.
    Eval(EvalArgs),
    /// Select again, without the model, over the records of one or more `swiss eval` runs;
    /// records of the same instance are merged into one pool of samples.
    Rerank(RerankArgs),
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// The repository whose swiss.toml applies.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub repo: PathBuf,
    /// Print one JSON object on stdout.
    #[arg(long)]
    pub json: bool,
    /// Check only the confinement: quick, no network (for `:checkhealth`).
    #[arg(long)]
    pub confinement: bool,
    /// Check the confinement and the Docker hosts, not the backends (for `:checkhealth`,
    /// which asks the backends itself).
    #[arg(long, conflicts_with = "confinement")]
    pub sandbox: bool,
    /// The Docker image to look for on each host, over sandbox.image (as the editor sends it).
    #[arg(long, value_name = "IMAGE")]
    pub image: Option<String>,
    /// A Docker engine to check, ENDPOINT[=SLOTS]; repeat it for several. Replaces
    /// sandbox.hosts (as the editor sends it).
    #[arg(long = "docker-host", value_name = "ENDPOINT[=SLOTS]")]
    pub docker_hosts: Vec<String>,
}

impl DoctorArgs {
    /// The sandbox settings given on the command line, over swiss.toml and the environment.
    pub fn options(&self) -> Options {
        let mut o = Options::default();
        o.sandbox.image = self.image.clone();
        o.sandbox.hosts = docker_hosts(&self.docker_hosts);
        o
    }
}

#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// Print the JSON Schema of the settings (swiss.toml, the editor's `swiss.*` settings):
    /// every key with its type, description and default.
    #[arg(long, conflicts_with_all = ["repo", "json"])]
    pub schema: bool,
    /// The repository whose swiss.toml applies (any folder inside a git work tree).
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub repo: PathBuf,
    /// Print the settings as JSON instead of TOML.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct LspArgs {
    /// Accepted for editors that always pass it (vscode-languageclient does); stdio is the only
    /// transport.
    #[arg(long)]
    pub stdio: bool,
}

#[derive(Debug, Args)]
pub struct FixArgs {
    /// The repository to fix (any folder inside a git work tree).
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub repo: PathBuf,
    /// The issue: a GitHub or GitLab issue URL, owner/repo#N, #N or N (an issue of the
    /// repository's `origin`), a text or Markdown file (first line = title), or `-` for standard
    /// input. [env: GITHUB_TOKEN, GITLAB_TOKEN for private issues and higher rate limits]
    #[arg(long, value_name = "REF")]
    pub issue: String,
    /// An OpenAI-compatible base URL such as http://127.0.0.1:8000/v1; repeat to spread samples
    /// over several servers. [env: SWISS_BACKEND_URL, comma-separated]
    #[arg(long = "backend-url", value_name = "URL")]
    pub backend_urls: Vec<String>,
    #[arg(long, value_name = "NAME", help = format!(
        "{} [env: {ENV_MODEL}]",
        with_default("The model name the backend serves.", "backend.model")
    ))]
    pub model: Option<String>,
    /// Bearer key for the backend. [env: SWISS_API_KEY]
    #[arg(long, value_name = "KEY", hide_env_values = true)]
    pub api_key: Option<Secret>,
    #[arg(long, value_name = "N", help = with_default("Repair samples to draw.", "repair.samples"))]
    pub samples: Option<usize>,
    #[arg(long, value_name = "N", help = with_default(
        "Localization samples to draw.",
        "localize.samples"
    ))]
    pub localize_samples: Option<usize>,
    #[arg(long, value_name = "T", help = with_default("Sampling temperature.", "sampling.temperature"))]
    pub temperature: Option<f64>,
    #[arg(long, value_name = "P", help = with_default("Nucleus sampling.", "sampling.top_p"))]
    pub top_p: Option<f64>,
    #[arg(long, value_name = "N", help = with_default(
        "Most tokens per completion, lowered to what the server's context leaves.",
        "sampling.max_tokens"
    ))]
    pub max_tokens: Option<u32>,
    #[arg(long, value_name = "KIND", help = with_default(
        "Where candidates are tested: docker, local, auto (Docker when an engine answers and an \
         image is set, else local with a warning) or none (no verification).",
        "sandbox.kind"
    ))]
    pub sandbox: Option<String>,
    /// The Docker image to test in: the project's interpreter and dependencies.
    #[arg(long, value_name = "IMAGE")]
    pub image: Option<String>,
    /// A Docker engine to verify on, ENDPOINT[=SLOTS] (unix:///path, tcp://host:2376,
    /// ssh://user@host); repeat it for several (sandbox.hosts). [default: the local engine]
    #[arg(long = "docker-host", value_name = "ENDPOINT[=SLOTS]")]
    pub docker_hosts: Vec<String>,
    /// The test command, run with `sh -c` from the repository root. [default: detected]
    #[arg(long = "test-cmd", value_name = "COMMAND")]
    pub test_cmd: Option<String>,
    /// How to read the test output (test.format): pytest, cargo-test, go-test-json, jest-json,
    /// vitest-json, junit-xml, exit-code… [default: inferred from the command]
    #[arg(long = "test-format", value_name = "FORMAT")]
    pub test_format: Option<String>,
    #[arg(long, value_name = "SECS", help = with_default(
        "Seconds one test run may take.",
        "test.timeout_secs"
    ))]
    pub test_timeout: Option<u64>,
    /// Seconds the whole job may take, model and tests included; past it the job stops, changes
    /// nothing and exits 130 (job.timeout_secs). [default: no limit]
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<u64>,
    #[arg(long, value_name = "MODE", help = format!(
        "{} [env: {ENV_SELECTION_COMPAT}]",
        with_default(
            "How the regression filter reads failure counts: swiss (the fewest among the \
             candidates) or sweswiss (among all samples, an invalid one counting 0, as \
             SWE-Swiss's rerank.py).",
            "selection.compat"
        )
    ))]
    pub selection_compat: Option<String>,
    /// Skip the model-written reproduction tests (regression tests still run).
    #[arg(long)]
    pub no_reproduction: bool,
    /// Draw every repair sample even once the rest cannot change the winner
    /// (repair.early_stop = false).
    #[arg(long)]
    pub no_early_stop: bool,
    /// Also write the whole job as JSON to FILE: every sample's raw answer, edits, key and
    /// error, the localization answers, test results and ranking, for re-ranking or replay.
    #[arg(long, value_name = "FILE")]
    pub record: Option<std::path::PathBuf>,
    /// The files to fix, when you know them: repository-relative or absolute inside the
    /// repository; repeat or list several. The model's localization and retrieval are skipped,
    /// and these files are the repair prompt's one context.
    #[arg(long, value_name = "PATH", num_args = 1..)]
    pub files: Vec<std::path::PathBuf>,
    /// Do not keep this job's record under the repository's git dir (`.git/swiss/jobs/`),
    /// where the editor finds it after a restart.
    #[arg(long)]
    pub no_keep: bool,
    /// Print exactly one JSON object on stdout.
    #[arg(long)]
    pub json: bool,
    /// Write the winning patch into the work tree.
    #[arg(long)]
    pub apply: bool,
}

/// The backend and the repair sample count, named alike by `swiss fix` and `swiss eval`.
fn model_options(
    urls: &[String],
    model: &Option<String>,
    api_key: &Option<Secret>,
    samples: Option<usize>,
) -> Options {
    let mut o = Options::default();
    if !urls.is_empty() {
        o.backend.urls = Some(urls.to_vec());
    }
    o.backend.model = model.clone();
    o.backend.api_key = api_key.clone();
    o.repair.samples = samples;
    o
}

impl FixArgs {
    pub fn options(&self) -> Options {
        let mut o = model_options(&self.backend_urls, &self.model, &self.api_key, self.samples);
        o.localize.samples = self.localize_samples;
        o.sampling.temperature = self.temperature;
        o.sampling.top_p = self.top_p;
        o.sampling.max_tokens = self.max_tokens;
        o.sandbox.kind = self.sandbox.clone();
        o.sandbox.image = self.image.clone();
        o.sandbox.hosts = docker_hosts(&self.docker_hosts);
        o.test.command = self.test_cmd.clone();
        o.test.format = self.test_format.clone();
        o.test.timeout_secs = self.test_timeout;
        o.job.timeout_secs = self.timeout;
        o.selection.compat = self.selection_compat.clone();
        if self.no_reproduction {
            o.reproduction.enabled = Some(false);
        }
        if self.no_early_stop {
            o.repair.early_stop = Some(false);
        }
        o
    }
}

/// Where and how instances are tested and graded; shared by `swiss eval` and `swiss rerank`.
#[derive(Debug, Args)]
pub struct EvalSandboxArgs {
    /// Where candidates and predictions are tested: docker, local or none (no verification).
    /// [default: docker with --image-template, else the repository's sandbox.kind in
    /// --repo-config, else local]
    #[arg(long, value_name = "KIND")]
    pub sandbox: Option<String>,
    /// The Docker image of an instance, with placeholders {instance_id}, {instance_id_docker}
    /// (`__` written `_1776_`, lowercase, as SWE-bench's images on Docker Hub), {repo} and
    /// {version}; e.g. 'swebench/sweb.eval.x86_64.{instance_id_docker}:latest'.
    #[arg(long, value_name = "TEMPLATE")]
    pub image_template: Option<String>,
    /// A TOML file with one table per "owner/name" holding test.* and sandbox.* keys of
    /// swiss.toml; they go over the built-in settings of SWE-bench's repositories.
    #[arg(long, value_name = "FILE")]
    pub repo_config: Option<PathBuf>,
    /// Seconds one test run may take. [default: 900]
    #[arg(long, value_name = "SECS")]
    pub test_timeout: Option<u64>,
    /// Grade each winner by SWE-bench's rule: its tests with the instance's test patch, resolved
    /// when every FAIL_TO_PASS and PASS_TO_PASS test passes.
    #[arg(long)]
    pub grade: bool,
    /// Instances run at once; they share the backends and the cap on sandbox runs.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub jobs: usize,
    /// Sandbox runs at once over all instances (sandbox.concurrency). [default: 2]
    #[arg(long, value_name = "N")]
    pub sandbox_concurrency: Option<usize>,
    /// A Docker engine to verify on, ENDPOINT[=SLOTS] (unix:///path, tcp://host:2376,
    /// ssh://user@host); repeat it for several (sandbox.hosts). [default: the local engine]
    #[arg(long = "docker-host", value_name = "ENDPOINT[=SLOTS]")]
    pub docker_hosts: Vec<String>,
    /// `model_name_or_path` in predictions.jsonl. [default: the model name]
    #[arg(long, value_name = "NAME")]
    pub model_name: Option<String>,
    /// Where predictions.jsonl, records/ and report.json go.
    #[arg(long, value_name = "DIR")]
    pub output: PathBuf,
}

impl EvalSandboxArgs {
    pub fn apply(&self, o: &mut Options) {
        o.sandbox.kind = match (&self.sandbox, &self.image_template) {
            (Some(kind), _) => Some(kind.clone()),
            (None, Some(_)) => Some("docker".to_owned()),
            // A repository's table may choose; `local` when none does (`prepare`).
            (None, None) => None,
        };
        o.test.timeout_secs = self.test_timeout;
        o.sandbox.concurrency = self.sandbox_concurrency;
        o.sandbox.hosts = docker_hosts(&self.docker_hosts);
    }
}

/// `--docker-host` given: those hosts replace `sandbox.hosts`; none given leaves the setting.
fn docker_hosts(given: &[String]) -> Option<Vec<String>> {
    (!given.is_empty()).then(|| given.to_vec())
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// SWE-bench's format, JSON Lines or a JSON array.
    #[arg(long, value_name = "FILE")]
    pub instances: PathBuf,
    /// One git repository per `repo` (bare or with a work tree), named owner__name or
    /// owner/name.
    #[arg(long, value_name = "DIR")]
    pub repos: PathBuf,
    /// Only these instances.
    #[arg(long, value_name = "ID", value_delimiter = ',')]
    pub ids: Vec<String>,
    /// An OpenAI-compatible base URL; repeat to spread samples over several servers.
    /// [env: SWISS_BACKEND_URL, comma-separated]
    #[arg(long = "backend-url", value_name = "URL")]
    pub backend_urls: Vec<String>,
    /// The model name the backend serves. [default: SWE-Swiss-32B] [env: SWISS_MODEL]
    #[arg(long, value_name = "NAME")]
    pub model: Option<String>,
    /// Bearer key for the backend. [env: SWISS_API_KEY]
    #[arg(long, value_name = "KEY", hide_env_values = true)]
    pub api_key: Option<Secret>,
    /// Repair samples per instance. [default: 40]
    #[arg(long, value_name = "N")]
    pub samples: Option<usize>,
    /// Draw every repair sample of each instance, so that its record holds the whole pool (for
    /// `swiss rerank` over merged runs); the winner is the same either way.
    #[arg(long)]
    pub no_early_stop: bool,
    /// Skip instances already in the output's predictions.jsonl, without any request.
    #[arg(long)]
    pub resume: bool,
    #[command(flatten)]
    pub run: EvalSandboxArgs,
}

impl EvalArgs {
    pub fn options(&self) -> Options {
        let mut o = model_options(&self.backend_urls, &self.model, &self.api_key, self.samples);
        self.run.apply(&mut o);
        if self.no_early_stop {
            o.repair.early_stop = Some(false);
        }
        o
    }
}

#[derive(Debug, Args)]
pub struct RerankArgs {
    /// The output folder of a `swiss eval` run (or its records/ folder); repeat to merge runs.
    #[arg(long, value_name = "DIR", required = true)]
    pub records: Vec<PathBuf>,
    /// The instances file: needed to grade and to verify candidates no run verified.
    #[arg(long, value_name = "FILE")]
    pub instances: Option<PathBuf>,
    /// The repositories, as for `swiss eval`: needed with --instances.
    #[arg(long, value_name = "DIR")]
    pub repos: Option<PathBuf>,
    #[command(flatten)]
    pub run: EvalSandboxArgs,
}

/// `help` followed by the setting's default, as `swiss config --schema` states it.
fn with_default(help: &str, key: &str) -> String {
    let default = match default_of(key) {
        Some(serde_json::Value::String(text)) => text,
        Some(value) if !value.is_null() => value.to_string(),
        // Reached only by a typo in a key above, which the help test below catches.
        _ => panic!("`{key}` is not a setting with a default"),
    };
    format!("{help} [default: {default}]")
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;
    use crate::config::Settings;

    fn fix_help() -> String {
        let mut cli = Cli::command();
        cli.build();
        let fix = cli.find_subcommand_mut("fix").unwrap();
        fix.render_help().to_string()
    }

    #[test]
    fn the_help_shows_the_defaults_the_settings_resolve_to() {
        Cli::command().debug_assert();
        let help = fix_help();
        let d = Settings::default();
        for expected in [
            format!("Repair samples to draw. [default: {}]", d.repair_samples),
            format!(
                "Localization samples to draw. [default: {}]",
                d.localize_samples
            ),
            format!("[default: {}] [env: {ENV_MODEL}]", d.model),
            format!("Sampling temperature. [default: {}]", d.temperature),
            format!("Nucleus sampling. [default: {}]", d.top_p),
            format!("context leaves. [default: {}]", d.max_tokens.unwrap()),
            format!("[default: {}]", d.test_timeout.as_secs()),
            "(no verification). [default: auto]".to_owned(),
            "rerank.py). [default: swiss] [env: SWISS_SELECTION_COMPAT]".to_owned(),
        ] {
            let flat = help.split_whitespace().collect::<Vec<_>>().join(" ");
            assert!(flat.contains(&expected), "`{expected}` not in:\n{help}");
        }
    }

    #[test]
    fn the_api_key_flag_is_a_secret_from_the_start() {
        let cli =
            Cli::try_parse_from(["swiss", "fix", "--issue", "1", "--api-key", "sk-flag"]).unwrap();
        assert!(!format!("{cli:?}").contains("sk-flag"), "{cli:?}");
        let Command::Fix(args) = cli.command else {
            panic!("parsed as another command");
        };
        let key = args.options().backend.api_key;
        assert_eq!(key.as_ref().map(Secret::expose), Some("sk-flag"));
    }

    #[test]
    fn an_unset_flag_leaves_the_setting_to_the_other_sources() {
        let cli = Cli::try_parse_from(["swiss", "fix", "--issue", "1"]).unwrap();
        let Command::Fix(args) = cli.command else {
            panic!("parsed as another command");
        };
        assert_eq!(args.options(), Options::default());
    }
}
