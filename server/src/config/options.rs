//! What one configuration source says. Every field is optional; a bad value is reported as a
//! warning and ignored, so one typo never stops the server or the CLI.
//!
//! These types are also the settings schema: their doc comments are the descriptions that
//! `swiss config --schema` prints, and the defaults it shows come from `Settings::default()`.

use std::path::Path;

use super::secret::Secret;
use super::settings::SandboxChoice;
use crate::engine::selection::Compat;
use crate::verify::test_results::OutputFormat;

pub const ENV_BACKEND_URL: &str = "SWISS_BACKEND_URL";
pub const ENV_MODEL: &str = "SWISS_MODEL";
pub const ENV_API_KEY: &str = "SWISS_API_KEY";
pub const ENV_GITHUB_TOKEN: &str = "GITHUB_TOKEN";
pub const ENV_GITLAB_TOKEN: &str = "GITLAB_TOKEN";
pub const ENV_SELECTION_COMPAT: &str = "SWISS_SELECTION_COMPAT";

/// Swiss's settings, as `swiss.toml` at the repository root holds them; the editor sends the same
/// sections. Every field is optional: an unset one takes the next source's value, then the default.
#[derive(
    Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(default, deny_unknown_fields)]
#[schemars(title = "Swiss settings")]
pub struct Options {
    pub backend: BackendOptions,
    pub sampling: SamplingOptions,
    pub localize: LocalizeOptions,
    pub retrieval: RetrievalOptions,
    pub repair: RepairOptions,
    pub prompts: PromptOptions,
    pub sandbox: SandboxOptions,
    pub test: TestOptions,
    pub reproduction: ReproductionOptions,
    pub verification: VerificationOptions,
    pub selection: SelectionOptions,
    pub github: GithubOptions,
    pub gitlab: GitlabOptions,
    pub issue: IssueOptions,
    pub job: JobOptions,
    pub jobs: JobsOptions,
}

/// A whole job.
#[derive(
    Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(default, deny_unknown_fields)]
pub struct JobOptions {
    /// Seconds a whole job may take, model and tests included; past it the job is cancelled
    /// (reason `timeout`) and nothing is changed. Unset: no limit.
    #[schemars(range(min = 1))]
    pub timeout_secs: Option<u64>,
}

/// Finished jobs kept under the repository's git dir (`.git/swiss/jobs/`), so the editor lists
/// and applies them after a restart.
#[derive(
    Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(default, deny_unknown_fields)]
pub struct JobsOptions {
    /// Finished jobs kept per repository; past it the oldest go first. 0 keeps none.
    pub keep: Option<usize>,
    /// Megabytes the kept jobs may take together; past it the oldest go first (the newest job
    /// always stays).
    #[schemars(range(min = 1))]
    pub max_mb: Option<u64>,
}

/// The issue text the model reads.
#[derive(
    Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(default, deny_unknown_fields)]
pub struct IssueOptions {
    /// Size budget of a tracker issue's text (title, body, comments) in characters; a longer
    /// thread is cut from the middle, and says so.
    #[schemars(range(min = 1))]
    pub max_chars: Option<usize>,
}

/// Where GitHub issues are fetched from.
#[derive(
    Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(default, deny_unknown_fields)]
pub struct GithubOptions {
    /// The REST API root: `https://api.github.com`, or `https://HOST/api/v3` for GitHub
    /// Enterprise.
    pub api_url: Option<String>,
    /// Sent as a bearer token to `api_url` only, never logged; `GITHUB_TOKEN` sets it too.
    pub token: Option<Secret>,
}

/// Where GitLab issues are fetched from.
#[derive(
    Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(default, deny_unknown_fields)]
pub struct GitlabOptions {
    /// The REST v4 API root: `https://gitlab.com/api/v4`, or a self-hosted instance's.
    pub api_url: Option<String>,
    /// Sent as `PRIVATE-TOKEN` to `api_url` and the `hosts` only, never logged; `GITLAB_TOKEN`
    /// sets it too.
    pub token: Option<Secret>,
    /// Host names of self-hosted GitLab instances, so their URLs and remotes are recognised.
    pub hosts: Option<Vec<String>>,
}

/// Where and within which limits candidates are tested.
#[derive(
    Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(default, deny_unknown_fields)]
pub struct SandboxOptions {
    /// Where candidates are verified: `auto` (Docker when an engine answers and an image is set,
    /// else local), `docker`, `local`, or `none` (no verification: votes and similarity alone).
    // A string rather than the enum, so that a wrong kind is an error of the job (exit 2), not a
    // warning that silently falls back to the default.
    #[schemars(with = "Option<SandboxChoice>")]
    pub kind: Option<String>,
    /// The Docker image with the project's interpreter and dependencies.
    pub image: Option<String>,
    /// Memory limit of a sandbox run, in MiB.
    #[schemars(range(min = 1))]
    pub memory_mb: Option<u64>,
    /// CPU limit of a sandbox run.
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub cpus: Option<f64>,
    /// Process limit of a sandbox run.
    #[schemars(range(min = 1))]
    pub pids_limit: Option<i64>,
    /// Cap on each of a run's stdout and stderr, in MiB; tests reported after it are not seen.
    #[schemars(range(min = 1))]
    pub output_limit_mb: Option<u64>,
    /// Sandbox runs at once.
    #[schemars(range(min = 1))]
    pub concurrency: Option<usize>,
    /// Docker engines to verify on, each `ENDPOINT[=SLOTS]`: `unix:///path`, `tcp://host:2376`
    /// (TLS from `DOCKER_CERT_PATH`), `ssh://user@host`; SLOTS defaults to `concurrency`.
    /// Unset: the local engine (`DOCKER_HOST`).
    pub hosts: Option<Vec<String>>,
    /// Pull the image on a Docker host that lacks it.
    pub pull: Option<bool>,
    /// Let local runs reach the network (they get loopback only otherwise).
    pub network: Option<bool>,
    /// More locations to hide from local runs: absolute paths or `~/…`.
    pub mask: Option<Vec<String>>,
    /// More environment variables to pass into runs, credentials included.
    pub pass_env: Option<Vec<String>>,
    /// Run local runs unconfined where no confinement is possible (no bubblewrap, no user
    /// namespaces).
    pub allow_unconfined: Option<bool>,
}

/// How the project's tests run.
#[derive(
    Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(default, deny_unknown_fields)]
pub struct TestOptions {
    /// The test command, run with `sh -c` from the repository root; detected when unset.
    pub command: Option<String>,
    /// How to read the test output: `pytest`, `cargo-test`, `go-test-json`, `jest-json`,
    /// `vitest-json`, `junit-xml`, `exit-code`, `django`, `sympy`, `unittest`, or one of the
    /// `swebench-*` readings of pytest; inferred from the runner the command names when unset.
    #[schemars(schema_with = "format_schema")]
    pub format: Option<String>,
    /// JUnit XML report files to read once the test command has run, as a glob relative to the
    /// repository root (`target/surefire-reports/*.xml`); setting it reads the results from
    /// them (`junit-xml`) unless test.format says otherwise.
    pub junit_xml: Option<String>,
    /// Timeout of one test run, in seconds.
    #[schemars(range(min = 1))]
    pub timeout_secs: Option<u64>,
    /// The interpreter for reproduction scripts and the detected test command, e.g.
    /// `.venv/bin/python`.
    pub python: Option<String>,
    /// Extra environment for test runs and reproduction scripts (e.g. `PYTHONPATH = "src"`).
    pub env: Option<std::collections::BTreeMap<String, String>>,
}

/// Model-written reproduction tests.
#[derive(
    Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(default, deny_unknown_fields)]
pub struct ReproductionOptions {
    /// Have the model write reproduction tests and keep the candidates that pass them.
    pub enabled: Option<bool>,
    /// Reproduction scripts sampled per job.
    #[schemars(range(min = 1))]
    pub samples: Option<usize>,
    /// How a reproduction program runs, `{file}` standing for `reproduction.file`, e.g.
    /// `go run ./{file}`; unset: `test.python {file}` for Python, `node {file}` for JavaScript,
    /// `npx tsx {file}` for TypeScript, and no reproduction test for other languages.
    pub command: Option<String>,
    /// Where the program goes in the repository's copy, e.g. `swiss_reproduce/main.go`; unset:
    /// `swiss_reproduce_issue` with the language's extension.
    pub file: Option<String>,
}

/// How candidates are judged against the project's own tests.
#[derive(
    Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(default, deny_unknown_fields)]
pub struct VerificationOptions {
    /// After the baseline, ask the model which passing tests the fix may legitimately change
    /// (SWE-Swiss's regression-test selection) and leave those out of the regression set.
    pub exclude_tests: Option<bool>,
}

/// How the winner is chosen.
#[derive(
    Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(default, deny_unknown_fields)]
pub struct SelectionOptions {
    /// `swiss` (the fewest regression failures among the candidates) or `sweswiss` (among all
    /// samples, an invalid one counting 0, as SWE-Swiss's `rerank.py`).
    #[schemars(schema_with = "compat_schema")]
    pub compat: Option<String>,
}

/// The OpenAI-compatible model server(s).
#[derive(
    Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(default, deny_unknown_fields)]
pub struct BackendOptions {
    /// OpenAI-compatible API roots (`…/v1`), e.g. vLLM or SGLang serving SWE-Swiss-32B; the
    /// samples are spread over them. `SWISS_BACKEND_URL` sets them too (comma-separated).
    pub urls: Option<Vec<String>>,
    /// The model name sent to the backend; `SWISS_MODEL` sets it too.
    pub model: Option<String>,
    /// Sent as a bearer token, never logged or printed; `SWISS_API_KEY` sets it too.
    pub api_key: Option<Secret>,
    /// Timeout of one request in seconds; for a streamed answer, the longest silence.
    #[schemars(range(min = 1))]
    pub timeout_secs: Option<u64>,
    /// Retries on connection errors, timeouts, 429 and 5xx.
    pub max_retries: Option<u32>,
    /// Streamed answers: each sample arrives, and is tested, as soon as it is written.
    pub stream: Option<bool>,
    /// Sent first in every request as the system message; "" sends none.
    pub system_message: Option<String>,
    /// The model's `tokenizer.json`, to measure prompt budgets in its tokens rather than by
    /// the estimate.
    pub tokenizer: Option<String>,
    /// Samples each of `urls` may be writing at once, over every job of one Swiss process (set
    /// it to the server's batch size, e.g. vLLM's `--max-num-seqs`); unset: no limit. Samples
    /// go to the server with the most free slots, weighted by how fast it has recently been.
    #[schemars(range(min = 1))]
    pub max_concurrent: Option<usize>,
    /// More servers, each `{url, max_concurrent, api_key, model}`; an unset field takes the
    /// section's value. A server that fails for good is taken out and probed again.
    pub endpoints: Option<Vec<EndpointOptions>>,
}

/// One model server of the pool with settings of its own.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointOptions {
    /// An OpenAI-compatible API root (`…/v1`).
    pub url: String,
    /// Samples it may be writing at once; unset: `backend.max_concurrent`.
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub max_concurrent: Option<usize>,
    /// Its bearer token; unset: `backend.api_key`.
    #[serde(default)]
    pub api_key: Option<Secret>,
    /// The model name it serves; unset: `backend.model`.
    #[serde(default)]
    pub model: Option<String>,
}

/// How the model samples.
#[derive(
    Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(default, deny_unknown_fields)]
pub struct SamplingOptions {
    /// Sampling temperature (SWE-Swiss: 0.6).
    #[schemars(range(min = 0.0, max = 2.0))]
    pub temperature: Option<f64>,
    /// Nucleus sampling `top_p` (SWE-Swiss: 0.95).
    #[schemars(range(max = 1.0), extend("exclusiveMinimum" = 0))]
    pub top_p: Option<f64>,
    /// Most tokens per answer (SWE-Swiss: 32768), lowered to what the server's context leaves.
    #[schemars(range(min = 1))]
    pub max_tokens: Option<u32>,
}

/// Finding the files to edit.
#[derive(
    Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(default, deny_unknown_fields)]
pub struct LocalizeOptions {
    /// Localization samples voted on to pick the files to edit.
    #[schemars(range(min = 1))]
    pub samples: Option<usize>,
    /// Budget of the repository structure in the localization prompt; a larger one shows the
    /// files the issue names first, then the shallowest.
    #[schemars(range(min = 1))]
    pub max_structure_tokens: Option<usize>,
    /// Files of each localization answer that go into its repair context.
    #[schemars(range(min = 1))]
    pub model_top: Option<usize>,
    /// Retrieved files added to every repair context.
    pub retrieval_top: Option<usize>,
    /// Ask the model for folders to leave out of retrieval first, as SWE-Swiss does.
    pub irrelevant_folders: Option<bool>,
}

/// Retrieval's ranking of the source files against the issue.
#[derive(
    Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(default, deny_unknown_fields)]
pub struct RetrievalOptions {
    /// An OpenAI-compatible API root serving an embedding model, e.g. `http://127.0.0.1:8001/v1`;
    /// without one, retrieval ranks with BM25.
    pub embedding_url: Option<String>,
    /// The embedding model that server serves; required with `embedding_url`.
    pub embedding_model: Option<String>,
}

/// Sampling the candidate patches.
#[derive(
    Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(default, deny_unknown_fields)]
pub struct RepairOptions {
    /// Repair samples (patches) per job; SWE-Swiss draws 40, an editor may want fewer.
    #[schemars(range(min = 1))]
    pub samples: Option<usize>,
    /// Budget for the file contents in the repair prompt, in tokens (the model's with
    /// `backend.tokenizer`, estimated otherwise).
    #[schemars(range(min = 1))]
    pub max_prompt_tokens: Option<usize>,
    /// Stop sampling once the samples still to come cannot change the winner: it is verified
    /// clean, passes the reproduction test (when one is valid) and leads by more votes than the
    /// samples left plus one. The winner is the full run's; scores are over the samples that
    /// came. On by default.
    pub early_stop: Option<bool>,
}

/// Prompt templates.
#[derive(
    Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(default, deny_unknown_fields)]
pub struct PromptOptions {
    /// A folder, relative to the repository root, whose `localize.md`, `repair.md`,
    /// `reproduce.md`, `reproduce_program.md`, `select_regression.md` or
    /// `irrelevant_folders.md` replace the built-in templates.
    pub dir: Option<String>,
}

/// `Compat` lives in the engine, which has no schema crate; its serde names are the values.
fn compat_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    names_schema(
        every_compat()
            .iter()
            .filter_map(|compat| serde_json::to_value(compat).ok()),
    )
}

fn format_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    names_schema(OutputFormat::NAMES.iter().map(|name| (*name).into()))
}

/// A setting that is one of `names` or unset.
fn names_schema(names: impl Iterator<Item = serde_json::Value>) -> schemars::Schema {
    let mut names: Vec<serde_json::Value> = names.collect();
    names.push(serde_json::Value::Null);
    schemars::json_schema!({ "type": ["string", "null"], "enum": names })
}

fn every_compat() -> [Compat; 2] {
    // No wildcard: a new mode does not compile until it is listed here, and so in the schema.
    match Compat::default() {
        Compat::Swiss | Compat::SweSwiss => [Compat::Swiss, Compat::SweSwiss],
    }
}

impl Options {
    /// Reads `swiss.toml` from the repository root. A missing file says nothing; a malformed one
    /// is reported and ignored as a whole; a bad field is reported and ignored alone.
    pub fn from_repo_file(root: &Path, warnings: &mut Vec<String>) -> Options {
        let path = root.join("swiss.toml");
        match std::fs::read_to_string(&path) {
            Ok(text) => Options::from_toml(&text, "swiss.toml", warnings),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Options::default(),
            Err(e) => {
                warnings.push(format!("failed to read swiss.toml: {e}; it is ignored"));
                Options::default()
            }
        }
    }

    pub fn from_toml(text: &str, origin: &str, warnings: &mut Vec<String>) -> Options {
        match toml::from_str::<toml::Value>(text) {
            Ok(value) => Options::from_value(
                serde_json::to_value(value).unwrap_or_default(),
                origin,
                warnings,
            ),
            Err(e) => {
                warnings.push(format!(
                    "failed to parse {origin}: {}; it is ignored",
                    e.message()
                ));
                Options::default()
            }
        }
    }

    /// Field by field, so that one wrong value costs only itself. The editor sends its
    /// `initializationOptions` through here too.
    pub fn from_value(
        value: serde_json::Value,
        origin: &str,
        warnings: &mut Vec<String>,
    ) -> Options {
        let serde_json::Value::Object(sections) = value else {
            if !value.is_null() {
                warnings.push(format!(
                    "{origin}: settings must be a table; they are ignored"
                ));
            }
            return Options::default();
        };
        let mut kept = serde_json::Map::new();
        for (section, fields) in sections {
            let serde_json::Value::Object(fields) = fields else {
                warnings.push(format!(
                    "{origin}: `{section}` must be a table; it is ignored"
                ));
                continue;
            };
            let mut kept_fields = serde_json::Map::new();
            for (field, value) in fields {
                let mut probe = serde_json::Map::new();
                let mut inner = serde_json::Map::new();
                inner.insert(field.clone(), value.clone());
                probe.insert(section.clone(), serde_json::Value::Object(inner));
                match serde_json::from_value::<Options>(serde_json::Value::Object(probe)) {
                    Ok(_) => {
                        kept_fields.insert(field, value);
                    }
                    Err(e) => warnings.push(format!(
                        "{origin}: `{section}.{field}` is ignored: {}",
                        first_clause(&e.to_string())
                    )),
                }
            }
            kept.insert(section, serde_json::Value::Object(kept_fields));
        }
        serde_json::from_value(serde_json::Value::Object(kept)).unwrap_or_default()
    }

    /// `SWISS_BACKEND_URL` (comma-separated for several), `SWISS_MODEL`, `SWISS_API_KEY`,
    /// `GITHUB_TOKEN`, `GITLAB_TOKEN`, `SWISS_SELECTION_COMPAT`.
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Options {
        let non_empty = |name: &str| get(name).filter(|v| !v.trim().is_empty());
        Options {
            backend: BackendOptions {
                urls: non_empty(ENV_BACKEND_URL).map(|v| {
                    v.split(',')
                        .map(|u| u.trim().to_owned())
                        .filter(|u| !u.is_empty())
                        .collect()
                }),
                model: non_empty(ENV_MODEL),
                api_key: non_empty(ENV_API_KEY).map(Secret::new),
                ..BackendOptions::default()
            },
            github: GithubOptions {
                token: non_empty(ENV_GITHUB_TOKEN).map(Secret::new),
                ..GithubOptions::default()
            },
            gitlab: GitlabOptions {
                token: non_empty(ENV_GITLAB_TOKEN).map(Secret::new),
                ..GitlabOptions::default()
            },
            selection: SelectionOptions {
                compat: non_empty(ENV_SELECTION_COMPAT),
            },
            ..Options::default()
        }
    }

    /// `other`'s fields win where it sets them.
    pub fn merged(self, other: Options) -> Options {
        Options {
            backend: self.backend.merged(other.backend),
            sampling: self.sampling.merged(other.sampling),
            localize: self.localize.merged(other.localize),
            retrieval: self.retrieval.merged(other.retrieval),
            repair: self.repair.merged(other.repair),
            prompts: self.prompts.merged(other.prompts),
            sandbox: self.sandbox.merged(other.sandbox),
            test: self.test.merged(other.test),
            reproduction: self.reproduction.merged(other.reproduction),
            verification: self.verification.merged(other.verification),
            selection: self.selection.merged(other.selection),
            github: self.github.merged(other.github),
            gitlab: self.gitlab.merged(other.gitlab),
            issue: self.issue.merged(other.issue),
            job: self.job.merged(other.job),
            jobs: self.jobs.merged(other.jobs),
        }
    }
}

/// A section's `merged`: `other`'s fields win where it sets them. The struct literal names every
/// field with no `..`, so a field added to a section does not compile until it is listed here.
macro_rules! merged_field_by_field {
    ($($section:ident { $($field:ident),+ $(,)? })+) => {
        $(impl $section {
            fn merged(self, other: $section) -> $section {
                $section {
                    $($field: other.$field.or(self.$field)),+
                }
            }
        })+
    };
}

merged_field_by_field! {
    BackendOptions {
        urls,
        model,
        api_key,
        timeout_secs,
        max_retries,
        stream,
        system_message,
        tokenizer,
        max_concurrent,
        endpoints,
    }
    SamplingOptions { temperature, top_p, max_tokens }
    LocalizeOptions {
        samples,
        max_structure_tokens,
        model_top,
        retrieval_top,
        irrelevant_folders,
    }
    RetrievalOptions { embedding_url, embedding_model }
    RepairOptions { samples, max_prompt_tokens, early_stop }
    PromptOptions { dir }
    SandboxOptions {
        kind,
        image,
        memory_mb,
        cpus,
        pids_limit,
        output_limit_mb,
        concurrency,
        hosts,
        pull,
        network,
        mask,
        pass_env,
        allow_unconfined,
    }
    TestOptions { command, format, junit_xml, timeout_secs, python, env }
    ReproductionOptions { enabled, samples, command, file }
    VerificationOptions { exclude_tests }
    SelectionOptions { compat }
    GithubOptions { api_url, token }
    GitlabOptions { api_url, token, hosts }
    IssueOptions { max_chars }
    JobOptions { timeout_secs }
    JobsOptions { keep, max_mb }
}

fn first_clause(message: &str) -> &str {
    message.split(" at line ").next().unwrap_or(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_field_is_ignored_alone() {
        let mut warnings = Vec::new();
        let options = Options::from_toml(
            "[backend]\nmodel = \"m\"\ntimeout_secs = \"soon\"\ncolour = 1\n[repair]\nsamples = 8\n",
            "swiss.toml",
            &mut warnings,
        );
        assert_eq!(options.backend.model.as_deref(), Some("m"));
        assert_eq!(options.backend.timeout_secs, None);
        assert_eq!(options.repair.samples, Some(8));
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[0].contains("backend.colour") || warnings[1].contains("backend.colour"));
        assert!(warnings.iter().any(|w| w.contains("backend.timeout_secs")));
    }

    #[test]
    fn malformed_toml_is_ignored_with_a_warning() {
        let mut warnings = Vec::new();
        let options = Options::from_toml("[backend\nmodel=", "swiss.toml", &mut warnings);
        assert_eq!(options, Options::default());
        assert!(
            warnings[0].starts_with("failed to parse swiss.toml"),
            "{warnings:?}"
        );
    }

    #[test]
    fn later_sources_win_field_by_field() {
        let file = Options::from_toml(
            "[backend]\nmodel = \"file\"\nurls = [\"http://a/v1\"]\n",
            "swiss.toml",
            &mut Vec::new(),
        );
        let env = Options::from_env(|name| {
            (name == ENV_BACKEND_URL).then(|| "http://b/v1, http://c/v1".to_owned())
        });
        let merged = file.merged(env);
        assert_eq!(merged.backend.model.as_deref(), Some("file"));
        assert_eq!(
            merged.backend.urls,
            Some(vec!["http://b/v1".to_owned(), "http://c/v1".to_owned()])
        );
    }

    #[test]
    fn tracker_tokens_come_from_the_environment_and_never_show() {
        let file = Options::from_toml(
            "[github]\napi_url = \"https://ghe.example.com/api/v3\"\ntoken = \"from-file\"\n[gitlab]\nhosts = [\"git.example.org\"]\n",
            "swiss.toml",
            &mut Vec::new(),
        );
        let env = Options::from_env(|name| match name {
            ENV_GITHUB_TOKEN => Some("ghp_secret".to_owned()),
            ENV_GITLAB_TOKEN => Some("glpat_secret".to_owned()),
            _ => None,
        });
        let merged = file.merged(env);
        assert_eq!(
            merged.github.api_url.as_deref(),
            Some("https://ghe.example.com/api/v3")
        );
        assert_eq!(
            merged.github.token.as_ref().map(Secret::expose),
            Some("ghp_secret")
        );
        assert_eq!(
            merged.gitlab.hosts,
            Some(vec!["git.example.org".to_owned()])
        );
        let debug = format!("{merged:?}");
        assert!(
            !debug.contains("ghp_secret") && !debug.contains("glpat_secret"),
            "{debug}"
        );
    }
}
