//! The resolved configuration a job runs with: every value present and checked.

use std::time::Duration;

use super::options::{
    BackendOptions, EndpointOptions, GithubOptions, GitlabOptions, JobOptions, JobsOptions,
    LocalizeOptions, Options, RepairOptions, ReproductionOptions, RetrievalOptions,
    SamplingOptions, SandboxOptions, SelectionOptions, TestOptions,
};
use super::secret::Secret;
use crate::backend::BackendConfig;
use crate::engine::selection::Compat;
use crate::sandbox::reports::ReportGlob;
use crate::verify::test_results::OutputFormat;

/// The default issue size budget in characters: roughly 6,000 tokens, a fraction of the repair
/// prompt's budget for file contents.
pub const DEFAULT_MAX_ISSUE_CHARS: usize = 24_000;

#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub backend_urls: Vec<String>,
    /// `None`: no limit.
    pub backend_max_concurrent: Option<usize>,
    /// Servers beyond `backend_urls`, each with its own settings, already checked.
    pub backend_endpoints: Vec<EndpointOptions>,
    pub model: String,
    pub api_key: Option<Secret>,
    pub request_timeout: Duration,
    pub max_retries: u32,
    pub stream: bool,
    /// `None`: no system message.
    pub system_message: Option<String>,
    /// The model's `tokenizer.json`, checked to load when resolved.
    pub tokenizer: Option<std::path::PathBuf>,
    pub temperature: f64,
    pub top_p: f64,
    pub max_tokens: Option<u32>,
    pub localize_samples: usize,
    pub max_structure_tokens: usize,
    pub model_top: usize,
    pub retrieval_top: usize,
    pub irrelevant_folders: bool,
    /// `None`: retrieval ranks with BM25.
    pub embedding: Option<EmbeddingSettings>,
    pub repair_samples: usize,
    pub max_prompt_tokens: usize,
    /// Stop the remaining repair samples once they cannot change the winner.
    pub early_stop: bool,
    pub prompts_dir: String,
    pub sandbox: SandboxChoice,
    pub image: Option<String>,
    pub memory_mb: u64,
    pub cpus: f64,
    pub pids_limit: i64,
    pub output_limit_mb: u64,
    pub concurrency: usize,
    /// Empty: the local engine.
    pub docker_hosts: Vec<crate::sandbox::docker_endpoint::DockerEndpoint>,
    pub pull: bool,
    pub sandbox_network: bool,
    pub sandbox_mask: Vec<String>,
    pub sandbox_pass_env: Vec<String>,
    pub allow_unconfined: bool,
    pub test_command: Option<String>,
    pub test_format: Option<OutputFormat>,
    /// `test.junit_xml`: the report glob, checked when read.
    pub test_junit_xml: Option<String>,
    pub test_timeout: Duration,
    pub python: String,
    pub test_env: Vec<(String, String)>,
    pub reproduction: bool,
    pub reproduction_samples: usize,
    /// `reproduction.command`: how a reproduction program runs, `{file}` its path.
    pub reproduction_command: Option<String>,
    /// `reproduction.file`: where the program goes.
    pub reproduction_file: Option<String>,
    /// Ask the model which passing tests the fix may change, and leave them out of the
    /// regression set.
    pub exclude_tests: bool,
    pub selection_compat: Compat,
    pub github: GithubSettings,
    pub gitlab: GitlabSettings,
    pub issue_max_chars: usize,
    /// `None`: a job may take as long as it takes.
    pub job_timeout: Option<Duration>,
    /// Finished jobs kept under the git dir; 0 keeps none.
    pub jobs_keep: usize,
    pub jobs_max_mb: u64,
}

pub const DEFAULT_GITHUB_API: &str = "https://api.github.com";
pub const DEFAULT_GITLAB_API: &str = "https://gitlab.com/api/v4";

/// Where GitHub issues are fetched from; `Debug` shows no token (it is a [`Secret`]).
#[derive(Debug, Clone, PartialEq)]
pub struct GithubSettings {
    /// Without a trailing `/`.
    pub api_url: String,
    pub token: Option<Secret>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct GitlabSettings {
    /// Without a trailing `/`.
    pub api_url: String,
    pub token: Option<Secret>,
    /// Lower-case host names, beyond gitlab.com and the API's own host.
    pub hosts: Vec<String>,
}

/// The embedding server retrieval asks, when there is one.
#[derive(Debug, Clone, PartialEq)]
pub struct EmbeddingSettings {
    /// Without a trailing `/`.
    pub url: String,
    pub model: String,
}

/// Where candidates are tested.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
// Plain comments on the variants: doc comments would turn the schema's `enum` into a `oneOf`.
pub enum SandboxChoice {
    // Docker when an engine answers and an image is set, else local with a warning.
    Auto,
    Docker,
    Local,
    // No verification: selection by votes and similarity alone.
    None,
}

impl SandboxChoice {
    /// By the serde names, the ones the schema lists.
    pub fn parse(text: &str) -> Option<SandboxChoice> {
        serde_json::from_value(serde_json::Value::String(text.to_owned())).ok()
    }
}

/// A value that makes the job impossible, as opposed to one we can ignore.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("invalid setting {name}: {reason}")]
pub struct SettingsError {
    pub name: &'static str,
    pub reason: String,
}

impl Default for Settings {
    /// SWE-Swiss's inference defaults, against a vLLM server on this machine. This is the one
    /// place a default is written down (the backend client's own come from `BackendConfig`):
    /// `resolve`, the schema (`swiss config --schema`), the flags' help and so the VS Code
    /// settings' defaults all read it.
    fn default() -> Self {
        let backend = BackendConfig::default();
        Settings {
            backend_urls: backend.base_urls,
            backend_max_concurrent: backend.max_concurrent,
            backend_endpoints: Vec::new(),
            model: backend.model,
            api_key: None,
            request_timeout: backend.request_timeout,
            max_retries: backend.max_retries,
            stream: backend.stream,
            system_message: backend.system_message,
            tokenizer: None,
            temperature: 0.6,
            top_p: 0.95,
            // SWE-Swiss's: the model reasons at length before it edits. Lowered to what the
            // server's context leaves (see the backend client).
            max_tokens: Some(32_768),
            localize_samples: 4,
            // With an issue of up to 24,000 characters, the localization prompt stays within a
            // 32k-token context.
            max_structure_tokens: 20_000,
            // SWE-Swiss's `combine.py --top_n 3`, on both sides.
            model_top: 3,
            retrieval_top: 3,
            irrelevant_folders: true,
            embedding: None,
            repair_samples: 40,
            early_stop: true,
            max_prompt_tokens: 60_000,
            prompts_dir: ".swiss/prompts".to_owned(),
            sandbox: SandboxChoice::Auto,
            image: None,
            memory_mb: 4096,
            cpus: 2.0,
            pids_limit: 512,
            output_limit_mb: (crate::sandbox::DEFAULT_OUTPUT_LIMIT / (1024 * 1024)) as u64,
            concurrency: 2,
            docker_hosts: Vec::new(),
            pull: false,
            sandbox_network: false,
            sandbox_mask: Vec::new(),
            sandbox_pass_env: Vec::new(),
            allow_unconfined: false,
            test_command: None,
            test_format: None,
            test_junit_xml: None,
            test_timeout: Duration::from_secs(900),
            python: "python3".to_owned(),
            test_env: Vec::new(),
            reproduction: true,
            reproduction_samples: 40,
            reproduction_command: None,
            reproduction_file: None,
            exclude_tests: true,
            selection_compat: Compat::Swiss,
            github: GithubSettings {
                api_url: DEFAULT_GITHUB_API.to_owned(),
                token: None,
            },
            gitlab: GitlabSettings {
                api_url: DEFAULT_GITLAB_API.to_owned(),
                token: None,
                hosts: Vec::new(),
            },
            issue_max_chars: DEFAULT_MAX_ISSUE_CHARS,
            job_timeout: None,
            jobs_keep: 20,
            jobs_max_mb: 100,
        }
    }
}

impl Settings {
    /// The backend client's part, the one place the CLI and the language server take it from.
    pub fn backend_config(&self) -> BackendConfig {
        BackendConfig {
            base_urls: self.backend_urls.clone(),
            max_concurrent: self.backend_max_concurrent,
            endpoints: self
                .backend_endpoints
                .iter()
                .map(|e| crate::backend::EndpointConfig {
                    url: e.url.clone(),
                    max_concurrent: e.max_concurrent,
                    api_key: e.api_key.as_ref().map(|key| key.expose().to_owned()),
                    model: e.model.clone(),
                })
                .collect(),
            model: self.model.clone(),
            api_key: self.api_key.as_ref().map(|key| key.expose().to_owned()),
            request_timeout: self.request_timeout,
            max_retries: self.max_retries,
            stream: self.stream,
            system_message: self.system_message.clone(),
            token_count: self.token_count(),
            ..BackendConfig::default()
        }
    }

    /// How prompt budgets are measured: the model's tokenizer when `backend.tokenizer` names
    /// one (already checked to load), the estimate otherwise.
    pub fn token_count(&self) -> std::sync::Arc<dyn crate::engine::tokens::TokenCount> {
        match self.tokenizer.as_deref().map(crate::tokenizer::load) {
            Some(Ok(tokenizer)) => tokenizer,
            Some(Err(err)) => {
                tracing::warn!("{err}");
                std::sync::Arc::new(crate::engine::tokens::Estimate)
            }
            None => std::sync::Arc::new(crate::engine::tokens::Estimate),
        }
    }

    /// Checks every value; the first that cannot work is the error. Each section starts from
    /// its defaults and overwrites the fields the options set.
    pub fn resolve(options: &Options) -> Result<Settings, SettingsError> {
        let o = options;
        let mut s = Settings::default();
        s.resolve_backend(&o.backend)?;
        s.resolve_sampling(&o.sampling)?;
        s.github = github(&o.github, &s.github.api_url)?;
        s.gitlab = gitlab(&o.gitlab, &s.gitlab.api_url)?;
        s.resolve_localize(&o.localize)?;
        s.embedding = embedding(&o.retrieval)?;
        s.resolve_repair(&o.repair)?;
        s.prompts_dir = o.prompts.dir.clone().unwrap_or(s.prompts_dir);
        s.resolve_sandbox(&o.sandbox)?;
        s.resolve_test(&o.test)?;
        s.resolve_reproduction(&o.reproduction)?;
        s.exclude_tests = o.verification.exclude_tests.unwrap_or(s.exclude_tests);
        s.resolve_selection(&o.selection)?;
        s.issue_max_chars = positive(
            "issue.max_chars",
            o.issue.max_chars.unwrap_or(s.issue_max_chars),
        )?;
        s.resolve_job(&o.job)?;
        s.resolve_jobs(&o.jobs)?;
        Ok(s)
    }

    fn resolve_backend(&mut self, o: &BackendOptions) -> Result<(), SettingsError> {
        let endpoints = o.endpoints.clone().unwrap_or_default();
        // Servers named only in `endpoints` replace the default URL rather than join it.
        let urls = match &o.urls {
            Some(urls) => urls.clone(),
            None if !endpoints.is_empty() => Vec::new(),
            None => std::mem::take(&mut self.backend_urls),
        };
        if urls.is_empty() && endpoints.is_empty() {
            return Err(SettingsError {
                name: "backend.urls",
                reason: "no backend URL given".into(),
            });
        }
        for url in &urls {
            http_url("backend.urls", url)?;
        }
        for endpoint in &endpoints {
            http_url("backend.endpoints", &endpoint.url)?;
            if let Some(max) = endpoint.max_concurrent {
                positive("backend.endpoints", max)?;
            }
        }
        self.backend_urls = urls;
        self.backend_endpoints = endpoints;
        if let Some(max) = o.max_concurrent {
            self.backend_max_concurrent = Some(positive("backend.max_concurrent", max)?);
        }
        if let Some(model) = &o.model {
            self.model = model.clone();
        }
        if self.model.trim().is_empty() {
            return Err(SettingsError {
                name: "backend.model",
                reason: "the model name is empty".into(),
            });
        }
        let timeout_secs = o.timeout_secs.unwrap_or(self.request_timeout.as_secs());
        positive("backend.timeout_secs", timeout_secs as usize)?;
        self.request_timeout = Duration::from_secs(timeout_secs);
        self.tokenizer = o
            .tokenizer
            .as_deref()
            .filter(|path| !path.trim().is_empty())
            .map(std::path::PathBuf::from);
        if let Some(path) = &self.tokenizer {
            crate::tokenizer::load(path).map_err(|reason| SettingsError {
                name: "backend.tokenizer",
                reason,
            })?;
        }
        self.api_key = o.api_key.clone().filter(|k| !k.is_blank());
        self.max_retries = o.max_retries.unwrap_or(self.max_retries);
        self.stream = o.stream.unwrap_or(self.stream);
        match &o.system_message {
            Some(message) if message.is_empty() => self.system_message = None,
            Some(message) => self.system_message = Some(message.clone()),
            None => {}
        }
        Ok(())
    }

    fn resolve_sampling(&mut self, o: &SamplingOptions) -> Result<(), SettingsError> {
        self.temperature = o.temperature.unwrap_or(self.temperature);
        if !(0.0..=2.0).contains(&self.temperature) {
            return Err(SettingsError {
                name: "sampling.temperature",
                reason: format!("{} is outside 0..=2", self.temperature),
            });
        }
        self.top_p = o.top_p.unwrap_or(self.top_p);
        if !(self.top_p > 0.0 && self.top_p <= 1.0) {
            return Err(SettingsError {
                name: "sampling.top_p",
                reason: format!("{} is outside (0, 1]", self.top_p),
            });
        }
        if let Some(max_tokens) = o.max_tokens {
            positive("sampling.max_tokens", max_tokens as usize)?;
        }
        self.max_tokens = o.max_tokens.or(self.max_tokens);
        Ok(())
    }

    fn resolve_localize(&mut self, o: &LocalizeOptions) -> Result<(), SettingsError> {
        self.localize_samples = positive(
            "localize.samples",
            o.samples.unwrap_or(self.localize_samples),
        )?;
        self.max_structure_tokens = positive(
            "localize.max_structure_tokens",
            o.max_structure_tokens.unwrap_or(self.max_structure_tokens),
        )?;
        self.model_top = positive("localize.model_top", o.model_top.unwrap_or(self.model_top))?;
        self.retrieval_top = o.retrieval_top.unwrap_or(self.retrieval_top);
        self.irrelevant_folders = o.irrelevant_folders.unwrap_or(self.irrelevant_folders);
        Ok(())
    }

    fn resolve_repair(&mut self, o: &RepairOptions) -> Result<(), SettingsError> {
        self.repair_samples = positive("repair.samples", o.samples.unwrap_or(self.repair_samples))?;
        self.max_prompt_tokens = positive(
            "repair.max_prompt_tokens",
            o.max_prompt_tokens.unwrap_or(self.max_prompt_tokens),
        )?;
        self.early_stop = o.early_stop.unwrap_or(self.early_stop);
        Ok(())
    }

    fn resolve_sandbox(&mut self, o: &SandboxOptions) -> Result<(), SettingsError> {
        if let Some(kind) = &o.kind {
            self.sandbox = SandboxChoice::parse(kind).ok_or_else(|| SettingsError {
                name: "sandbox.kind",
                reason: format!("`{kind}` is not one of auto, docker, local, none"),
            })?;
        }
        self.image = o.image.clone().filter(|i| !i.trim().is_empty());
        self.memory_mb = positive(
            "sandbox.memory_mb",
            o.memory_mb.unwrap_or(self.memory_mb) as usize,
        )? as u64;
        self.cpus = o.cpus.unwrap_or(self.cpus);
        if self.cpus <= 0.0 || self.cpus.is_nan() {
            return Err(SettingsError {
                name: "sandbox.cpus",
                reason: format!("{} is not positive", self.cpus),
            });
        }
        self.pids_limit = positive(
            "sandbox.pids_limit",
            o.pids_limit.unwrap_or(self.pids_limit).max(0) as usize,
        )? as i64;
        self.output_limit_mb = positive(
            "sandbox.output_limit_mb",
            o.output_limit_mb.unwrap_or(self.output_limit_mb) as usize,
        )? as u64;
        self.concurrency = positive(
            "sandbox.concurrency",
            o.concurrency.unwrap_or(self.concurrency),
        )?;
        if let Some(hosts) = &o.hosts {
            self.docker_hosts = hosts
                .iter()
                .map(|h| crate::sandbox::docker_endpoint::DockerEndpoint::parse(h))
                .collect::<Result<_, _>>()
                .map_err(|reason| SettingsError {
                    name: "sandbox.hosts",
                    reason,
                })?;
        }
        self.pull = o.pull.unwrap_or(self.pull);
        self.sandbox_network = o.network.unwrap_or(self.sandbox_network);
        if let Some(masks) = &o.mask {
            if let Some(bad) = masks
                .iter()
                .find(|m| !(m.starts_with('/') || m.starts_with("~/")))
            {
                return Err(SettingsError {
                    name: "sandbox.mask",
                    reason: format!("`{bad}` is neither an absolute path nor under `~/`"),
                });
            }
            self.sandbox_mask = masks.clone();
        }
        if let Some(pass_env) = &o.pass_env {
            self.sandbox_pass_env = pass_env.clone();
        }
        self.allow_unconfined = o.allow_unconfined.unwrap_or(self.allow_unconfined);
        Ok(())
    }

    fn resolve_test(&mut self, o: &TestOptions) -> Result<(), SettingsError> {
        self.test_command = o.command.clone().filter(|c| !c.trim().is_empty());
        if let Some(format) = &o.format {
            let parsed = serde_json::from_value(serde_json::Value::String(format.clone()));
            self.test_format = Some(parsed.map_err(|_| SettingsError {
                name: "test.format",
                reason: format!(
                    "`{format}` is not one of {}",
                    OutputFormat::NAMES.join(", ")
                ),
            })?);
        }
        if let Some(glob) = o.junit_xml.as_ref().filter(|g| !g.trim().is_empty()) {
            ReportGlob::new(glob).map_err(|reason| SettingsError {
                name: "test.junit_xml",
                reason,
            })?;
            self.test_junit_xml = Some(glob.clone());
        }
        self.test_timeout = Duration::from_secs(positive(
            "test.timeout_secs",
            o.timeout_secs.unwrap_or(self.test_timeout.as_secs()) as usize,
        )? as u64);
        if let Some(python) = o.python.as_ref().filter(|p| !p.trim().is_empty()) {
            self.python = python.clone();
        }
        self.test_env = o.env.clone().unwrap_or_default().into_iter().collect();
        Ok(())
    }

    fn resolve_reproduction(&mut self, o: &ReproductionOptions) -> Result<(), SettingsError> {
        self.reproduction = o.enabled.unwrap_or(self.reproduction);
        self.reproduction_samples = positive(
            "reproduction.samples",
            o.samples.unwrap_or(self.reproduction_samples),
        )?;
        if let Some(command) = &o.command {
            self.reproduction_command = Some(command.clone()).filter(|c| !c.trim().is_empty());
        }
        if let Some(file) = &o.file {
            self.reproduction_file = relative_path("reproduction.file", file)?;
        }
        Ok(())
    }

    fn resolve_selection(&mut self, o: &SelectionOptions) -> Result<(), SettingsError> {
        if let Some(compat) = &o.compat {
            self.selection_compat = Compat::parse(compat).ok_or_else(|| SettingsError {
                name: "selection.compat",
                reason: format!("`{compat}` is not one of swiss, sweswiss"),
            })?;
        }
        Ok(())
    }

    fn resolve_job(&mut self, o: &JobOptions) -> Result<(), SettingsError> {
        if let Some(secs) = o.timeout_secs {
            let secs = positive("job.timeout_secs", secs as usize)? as u64;
            self.job_timeout = Some(Duration::from_secs(secs));
        }
        Ok(())
    }
}

impl Settings {
    fn resolve_jobs(&mut self, o: &JobsOptions) -> Result<(), SettingsError> {
        self.jobs_keep = o.keep.unwrap_or(self.jobs_keep);
        let max_mb = o.max_mb.unwrap_or(self.jobs_max_mb);
        self.jobs_max_mb = positive("jobs.max_mb", max_mb as usize)? as u64;
        Ok(())
    }
}

/// An API root the client can use: http(s) with a host.
fn http_url(name: &'static str, url: &str) -> Result<(), SettingsError> {
    let ok = reqwest::Url::parse(url)
        .map(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
        .unwrap_or(false);
    if ok {
        Ok(())
    } else {
        Err(SettingsError {
            name,
            reason: format!("`{url}` is not an http(s) URL such as http://127.0.0.1:8000/v1"),
        })
    }
}

/// A path inside the repository's copy: relative, and never climbing out of it with `..`.
/// Empty means unset.
fn relative_path(name: &'static str, value: &str) -> Result<Option<String>, SettingsError> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    let path = std::path::Path::new(value);
    let inside = path
        .components()
        .all(|c| matches!(c, std::path::Component::Normal(_)));
    if inside {
        Ok(Some(value.to_owned()))
    } else {
        Err(SettingsError {
            name,
            reason: format!("`{value}` is not a relative path inside the repository"),
        })
    }
}

fn positive(name: &'static str, value: usize) -> Result<usize, SettingsError> {
    if value == 0 {
        Err(SettingsError {
            name,
            reason: "must be at least 1".into(),
        })
    } else {
        Ok(value)
    }
}

fn github(o: &GithubOptions, default_api: &str) -> Result<GithubSettings, SettingsError> {
    Ok(GithubSettings {
        api_url: api_url("github.api_url", o.api_url.as_deref(), default_api)?,
        token: o.token.clone().filter(|t| !t.is_blank()),
    })
}

fn gitlab(o: &GitlabOptions, default_api: &str) -> Result<GitlabSettings, SettingsError> {
    Ok(GitlabSettings {
        api_url: api_url("gitlab.api_url", o.api_url.as_deref(), default_api)?,
        token: o.token.clone().filter(|t| !t.is_blank()),
        hosts: o
            .hosts
            .iter()
            .flatten()
            .filter(|h| !h.trim().is_empty())
            .map(|h| host_name(h))
            .collect::<Result<_, _>>()?,
    })
}

fn api_url(
    name: &'static str,
    given: Option<&str>,
    default: &str,
) -> Result<String, SettingsError> {
    let Some(url) = given.map(str::trim).filter(|u| !u.is_empty()) else {
        return Ok(default.to_owned());
    };
    let ok = reqwest::Url::parse(url)
        .map(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
        .unwrap_or(false);
    if !ok {
        return Err(SettingsError {
            name,
            reason: format!("`{url}` is not an http(s) URL such as {default}"),
        });
    }
    Ok(url.trim_end_matches('/').to_owned())
}

/// `retrieval.embedding_url` and `retrieval.embedding_model` go together: a server serving
/// embeddings checks the model name, and there is no default worth guessing.
fn embedding(o: &RetrievalOptions) -> Result<Option<EmbeddingSettings>, SettingsError> {
    fn given(v: &Option<String>) -> Option<&str> {
        v.as_deref().map(str::trim).filter(|v| !v.is_empty())
    }
    let (Some(url), model) = (given(&o.embedding_url), given(&o.embedding_model)) else {
        return Ok(None);
    };
    let url = api_url(
        "retrieval.embedding_url",
        Some(url),
        "http://127.0.0.1:8001/v1",
    )?;
    let Some(model) = model else {
        return Err(SettingsError {
            name: "retrieval.embedding_model",
            reason: format!(
                "set it to the embedding model {url} serves (retrieval.embedding_url is set)"
            ),
        });
    };
    Ok(Some(EmbeddingSettings {
        url,
        model: model.to_owned(),
    }))
}

/// People paste `https://git.example.org/` as readily as `git.example.org`; both mean the host.
fn host_name(given: &str) -> Result<String, SettingsError> {
    let trimmed = given.trim();
    let bare = trimmed
        .split_once("://")
        .map_or(trimmed, |(_, rest)| rest)
        .trim_end_matches('/');
    let valid = !bare.is_empty()
        && bare
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    if !valid {
        return Err(SettingsError {
            name: "gitlab.hosts",
            reason: format!("`{given}` is not a host name such as gitlab.example.com"),
        });
    }
    Ok(bare.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_swe_swiss() {
        let s = Settings::resolve(&Options::default()).unwrap();
        assert_eq!((s.temperature, s.top_p), (0.6, 0.95));
        assert_eq!((s.localize_samples, s.repair_samples), (4, 40));
        assert_eq!(s.model, "SWE-Swiss-32B");
    }

    #[test]
    fn the_backend_client_takes_its_settings_from_here() {
        let s = Settings::resolve(&Options::default()).unwrap();
        assert!(s.backend_config().stream, "streamed by default");
        let mut o = Options::default();
        o.backend.stream = Some(false);
        o.backend.max_retries = Some(1);
        let config = Settings::resolve(&o).unwrap().backend_config();
        assert!(!config.stream);
        assert_eq!(config.max_retries, 1);
        assert_eq!(config.request_timeout, s.request_timeout);
    }

    #[test]
    fn the_api_key_is_a_secret_in_debug_output_and_reaches_only_the_client() {
        let mut o = Options::default();
        o.backend.api_key = Some(Secret::new("sk-never-shown"));
        let s = Settings::resolve(&o).unwrap();
        for shown in [
            format!("{o:?}"),
            format!("{s:?}"),
            format!("{:?}", s.backend_config()),
        ] {
            assert!(!shown.contains("sk-never-shown"), "{shown}");
            assert!(shown.contains("redacted"), "{shown}");
        }
        assert_eq!(
            s.backend_config().api_key.as_deref(),
            Some("sk-never-shown")
        );
        o.backend.api_key = Some(Secret::new(" "));
        assert_eq!(Settings::resolve(&o).unwrap().api_key, None);
    }

    #[test]
    fn a_pool_of_servers_from_swiss_toml() {
        let mut warnings = Vec::new();
        let o = Options::from_toml(
            "[backend]\nmax_concurrent = 16\napi_key = \"sk-all\"\n\
             [[backend.endpoints]]\nurl = \"http://gpu-1:8000/v1\"\n\
             [[backend.endpoints]]\nurl = \"http://gpu-2:8000/v1\"\nmax_concurrent = 64\n\
             api_key = \"sk-two\"\nmodel = \"swiss-fp8\"\n",
            "swiss.toml",
            &mut warnings,
        );
        assert_eq!(warnings, Vec::<String>::new());
        let s = Settings::resolve(&o).unwrap();
        assert_eq!(
            s.backend_urls,
            Vec::<String>::new(),
            "no default URL beside them"
        );
        let all = s.backend_config().all_endpoints();
        let shown: Vec<_> = all
            .iter()
            .map(|e| {
                (
                    e.url.as_str(),
                    e.max_concurrent,
                    e.api_key.as_deref(),
                    e.model.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            shown,
            [
                (
                    "http://gpu-1:8000/v1",
                    Some(16),
                    Some("sk-all"),
                    Some("SWE-Swiss-32B")
                ),
                (
                    "http://gpu-2:8000/v1",
                    Some(64),
                    Some("sk-two"),
                    Some("swiss-fp8")
                ),
            ]
        );
        assert!(!format!("{s:?}").contains("sk-two"));

        let mut o = Options::default();
        o.backend.max_concurrent = Some(0);
        assert_eq!(
            Settings::resolve(&o).unwrap_err().name,
            "backend.max_concurrent"
        );
        let mut o = Options::default();
        o.backend.endpoints = Some(vec![EndpointOptions {
            url: "gpu-3:8000".into(),
            max_concurrent: None,
            api_key: None,
            model: None,
        }]);
        assert_eq!(Settings::resolve(&o).unwrap_err().name, "backend.endpoints");
    }

    #[test]
    fn impossible_values_are_errors() {
        let mut o = Options::default();
        o.repair.samples = Some(0);
        assert_eq!(Settings::resolve(&o).unwrap_err().name, "repair.samples");
        let mut o = Options::default();
        o.backend.urls = Some(vec!["localhost:8000".into()]);
        let err = Settings::resolve(&o).unwrap_err();
        assert!(err.to_string().contains("localhost:8000"), "{err}");
    }

    #[test]
    fn the_reproduction_file_stays_inside_the_repository() {
        let mut o = Options::default();
        o.reproduction.command = Some("go run ./{file}".into());
        o.reproduction.file = Some("swiss_reproduce/main.go".into());
        let s = Settings::resolve(&o).unwrap();
        assert_eq!(s.reproduction_command.as_deref(), Some("go run ./{file}"));
        assert_eq!(
            s.reproduction_file.as_deref(),
            Some("swiss_reproduce/main.go")
        );
        for outside in ["../main.go", "/tmp/main.go", "a/../../b.go"] {
            o.reproduction.file = Some(outside.into());
            let err = Settings::resolve(&o).unwrap_err();
            assert_eq!(err.name, "reproduction.file", "{outside}");
        }
    }

    #[test]
    fn the_junit_report_glob_is_checked_when_read() {
        let mut o = Options::default();
        o.test.junit_xml = Some("target/surefire-reports/*.xml".into());
        o.test.format = Some("go-test-json".into());
        let s = Settings::resolve(&o).unwrap();
        assert_eq!(
            s.test_junit_xml.as_deref(),
            Some("target/surefire-reports/*.xml")
        );
        assert_eq!(s.test_format, Some(OutputFormat::GoTestJson));
        for bad in ["../reports/*.xml", "/abs/*.xml", "reports/[x"] {
            o.test.junit_xml = Some(bad.into());
            let err = Settings::resolve(&o).unwrap_err();
            assert_eq!(err.name, "test.junit_xml", "{bad}");
            assert!(err.to_string().contains(bad), "{err}");
        }
        o.test.junit_xml = Some(" ".into());
        assert_eq!(Settings::resolve(&o).unwrap().test_junit_xml, None);
    }

    #[test]
    fn confinement_is_on_unless_turned_off() {
        let s = Settings::resolve(&Options::default()).unwrap();
        assert!(!s.sandbox_network && !s.allow_unconfined);
        let mut o = Options::default();
        o.sandbox.mask = Some(vec!["~/.config/secret".into(), "/srv/keys".into()]);
        o.sandbox.pass_env = Some(vec!["DATABASE_URL".into()]);
        o.sandbox.network = Some(true);
        let s = Settings::resolve(&o).unwrap();
        assert_eq!(s.sandbox_mask, ["~/.config/secret", "/srv/keys"]);
        assert_eq!(s.sandbox_pass_env, ["DATABASE_URL"]);
        assert!(s.sandbox_network);
        o.sandbox.mask = Some(vec!["relative/path".into()]);
        let err = Settings::resolve(&o).unwrap_err();
        assert_eq!(err.name, "sandbox.mask");
        assert!(err.to_string().contains("relative/path"), "{err}");
    }

    #[test]
    fn selection_compat_defaults_to_swiss_and_names_the_reference() {
        let s = Settings::resolve(&Options::default()).unwrap();
        assert_eq!(s.selection_compat, Compat::Swiss);
        let mut o = Options::default();
        o.selection.compat = Some("sweswiss".into());
        assert_eq!(
            Settings::resolve(&o).unwrap().selection_compat,
            Compat::SweSwiss
        );
        o.selection.compat = Some("agentless".into());
        let err = Settings::resolve(&o).unwrap_err();
        assert_eq!(err.name, "selection.compat");
        assert!(err.to_string().contains("swiss, sweswiss"), "{err}");
        let env = Options::from_env(|name| {
            (name == crate::config::options::ENV_SELECTION_COMPAT).then(|| "sweswiss".to_owned())
        });
        assert_eq!(env.selection.compat.as_deref(), Some("sweswiss"));
    }

    #[test]
    fn localization_follows_the_reference_and_embeddings_need_a_model() {
        let s = Settings::resolve(&Options::default()).unwrap();
        assert_eq!((s.model_top, s.retrieval_top), (3, 3));
        assert!(s.irrelevant_folders);
        assert_eq!(s.embedding, None, "BM25 unless an embedding server is set");
        let mut o = Options::default();
        o.retrieval.embedding_url = Some("http://gpu:8001/v1/".into());
        let err = Settings::resolve(&o).unwrap_err();
        assert_eq!(err.name, "retrieval.embedding_model");
        o.retrieval.embedding_model = Some("bge-m3".into());
        assert_eq!(
            Settings::resolve(&o).unwrap().embedding,
            Some(EmbeddingSettings {
                url: "http://gpu:8001/v1".into(),
                model: "bge-m3".into()
            })
        );
        o.retrieval.embedding_url = Some("gpu:8001".into());
        assert_eq!(
            Settings::resolve(&o).unwrap_err().name,
            "retrieval.embedding_url"
        );
        o.localize.model_top = Some(0);
        o.retrieval = Default::default();
        assert_eq!(
            Settings::resolve(&o).unwrap_err().name,
            "localize.model_top"
        );
    }

    #[test]
    fn issue_trackers_default_to_the_public_apis() {
        let s = Settings::resolve(&Options::default()).unwrap();
        assert_eq!(s.github.api_url, "https://api.github.com");
        assert_eq!(s.gitlab.api_url, "https://gitlab.com/api/v4");
        let mut o = Options::default();
        o.github.api_url = Some("https://ghe.example.com/api/v3/".into());
        o.github.token = Some(Secret::new("  "));
        o.gitlab.hosts = Some(vec!["https://Git.Example.org/".into(), "".into()]);
        let s = Settings::resolve(&o).unwrap();
        assert_eq!(s.github.api_url, "https://ghe.example.com/api/v3");
        assert_eq!(s.github.token, None, "a blank token is no token");
        assert_eq!(s.gitlab.hosts, ["git.example.org"]);
        o.gitlab.api_url = Some("gitlab.example.org".into());
        assert_eq!(Settings::resolve(&o).unwrap_err().name, "gitlab.api_url");
        o.gitlab.api_url = None;
        o.gitlab.hosts = Some(vec!["git example".into()]);
        assert_eq!(Settings::resolve(&o).unwrap_err().name, "gitlab.hosts");
    }

    #[test]
    fn requests_as_the_reference_sends_them_by_default() {
        let s = Settings::resolve(&Options::default()).unwrap();
        assert_eq!(s.max_tokens, Some(32_768));
        assert_eq!(s.max_prompt_tokens, 60_000);
        let config = s.backend_config();
        assert_eq!(
            config.system_message.as_deref(),
            Some("You are a helpful assistant.")
        );
        assert!(
            !config.token_count.is_exact(),
            "estimated without a tokenizer"
        );

        let mut o = Options::default();
        o.backend.system_message = Some(String::new());
        assert_eq!(Settings::resolve(&o).unwrap().system_message, None);
        o.backend.system_message = Some("Be brief.".into());
        assert_eq!(
            Settings::resolve(&o)
                .unwrap()
                .backend_config()
                .system_message
                .as_deref(),
            Some("Be brief.")
        );
    }

    #[test]
    fn a_tokenizer_that_does_not_load_is_an_error_naming_the_setting() {
        let mut o = Options::default();
        o.backend.tokenizer = Some("/nonexistent/tokenizer.json".into());
        let err = Settings::resolve(&o).unwrap_err();
        assert_eq!(err.name, "backend.tokenizer");
        assert!(err.reason.contains("tokenizer.json"), "{err}");
    }
}
