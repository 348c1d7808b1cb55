//! What one configuration source says. Every field is optional; a bad value is reported as a
//! warning and ignored, so one typo never stops the server or the CLI.

use std::path::Path;

use super::secret::Secret;

pub const ENV_BACKEND_URL: &str = "SWISS_BACKEND_URL";
pub const ENV_MODEL: &str = "SWISS_MODEL";
pub const ENV_API_KEY: &str = "SWISS_API_KEY";
pub const ENV_GITHUB_TOKEN: &str = "GITHUB_TOKEN";
pub const ENV_GITLAB_TOKEN: &str = "GITLAB_TOKEN";
pub const ENV_SELECTION_COMPAT: &str = "SWISS_SELECTION_COMPAT";

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Options {
    pub backend: BackendOptions,
    pub sampling: SamplingOptions,
    pub localize: LocalizeOptions,
    pub repair: RepairOptions,
    pub prompts: PromptOptions,
    pub sandbox: SandboxOptions,
    pub test: TestOptions,
    pub reproduction: ReproductionOptions,
    pub selection: SelectionOptions,
    pub github: GithubOptions,
    pub gitlab: GitlabOptions,
    pub issue: IssueOptions,
}

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IssueOptions {
    /// Size budget of a tracker issue's text (title, body, comments) in characters; a longer
    /// thread is cut from the middle, and says so.
    pub max_chars: Option<usize>,
}

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GithubOptions {
    /// The REST API root: `https://api.github.com`, or `https://HOST/api/v3` for GitHub
    /// Enterprise.
    pub api_url: Option<String>,
    pub token: Option<Secret>,
}

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GitlabOptions {
    /// The REST v4 API root: `https://gitlab.com/api/v4`, or a self-hosted instance's.
    pub api_url: Option<String>,
    pub token: Option<Secret>,
    /// Host names of self-hosted GitLab instances, so their URLs and remotes are recognised.
    pub hosts: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SandboxOptions {
    /// `auto`, `docker`, `local` or `none`.
    pub kind: Option<String>,
    /// The Docker image with the project's interpreter and dependencies.
    pub image: Option<String>,
    pub memory_mb: Option<u64>,
    pub cpus: Option<f64>,
    pub pids_limit: Option<i64>,
    /// Cap on each of a run's stdout and stderr, in MiB.
    pub output_limit_mb: Option<u64>,
    /// Sandbox runs at once.
    pub concurrency: Option<usize>,
}

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TestOptions {
    /// Run with `sh -c` from the repository root; detected when absent.
    pub command: Option<String>,
    /// `pytest`, `cargo-test`, `exit-code`, `django`, `sympy`, `unittest`, or one of the
    /// `swebench-*` readings of pytest; inferred from the command when absent.
    pub format: Option<String>,
    pub timeout_secs: Option<u64>,
    /// The interpreter for reproduction scripts, e.g. `.venv/bin/python`.
    pub python: Option<String>,
    /// Extra environment for test runs and reproduction scripts (e.g. `PYTHONPATH = "src"`).
    pub env: Option<std::collections::BTreeMap<String, String>>,
}

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReproductionOptions {
    pub enabled: Option<bool>,
    pub samples: Option<usize>,
}

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SelectionOptions {
    /// `swiss` (the fewest regression failures among the candidates) or `sweswiss` (among all
    /// samples, an invalid one counting 0, as SWE-Swiss's `rerank.py`).
    pub compat: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BackendOptions {
    pub urls: Option<Vec<String>>,
    pub model: Option<String>,
    pub api_key: Option<String>,
    pub timeout_secs: Option<u64>,
    pub max_retries: Option<u32>,
    /// Streamed answers (the default): each sample arrives when it finishes.
    pub stream: Option<bool>,
    /// Sent first in every request; "" sends none. Default: SWE-Swiss's "You are a helpful
    /// assistant.".
    pub system_message: Option<String>,
    /// The model's `tokenizer.json`, to measure prompt budgets in its tokens rather than by
    /// the estimate.
    pub tokenizer: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SamplingOptions {
    pub temperature: Option<f64>,
    pub top_p: Option<f64>,
    pub max_tokens: Option<u32>,
}

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LocalizeOptions {
    pub samples: Option<usize>,
    /// Budget of the repository structure in the localization prompt; a larger one shows the
    /// files the issue names first, then the shallowest.
    pub max_structure_tokens: Option<usize>,
}

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RepairOptions {
    pub samples: Option<usize>,
    /// Budget for the file contents in the repair prompt, in tokens (the model's with
    /// `backend.tokenizer`, estimated otherwise).
    pub max_prompt_tokens: Option<usize>,
}

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PromptOptions {
    /// A folder, relative to the repository root, whose `localize.md`, `repair.md`,
    /// `reproduce.md` or `select_regression.md` replace the built-in templates.
    pub dir: Option<String>,
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
                api_key: non_empty(ENV_API_KEY),
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
        fn pick<T>(base: Option<T>, over: Option<T>) -> Option<T> {
            over.or(base)
        }
        Options {
            backend: BackendOptions {
                urls: pick(self.backend.urls, other.backend.urls),
                model: pick(self.backend.model, other.backend.model),
                api_key: pick(self.backend.api_key, other.backend.api_key),
                timeout_secs: pick(self.backend.timeout_secs, other.backend.timeout_secs),
                max_retries: pick(self.backend.max_retries, other.backend.max_retries),
                stream: pick(self.backend.stream, other.backend.stream),
                system_message: pick(self.backend.system_message, other.backend.system_message),
                tokenizer: pick(self.backend.tokenizer, other.backend.tokenizer),
            },
            sampling: SamplingOptions {
                temperature: pick(self.sampling.temperature, other.sampling.temperature),
                top_p: pick(self.sampling.top_p, other.sampling.top_p),
                max_tokens: pick(self.sampling.max_tokens, other.sampling.max_tokens),
            },
            localize: LocalizeOptions {
                samples: pick(self.localize.samples, other.localize.samples),
                max_structure_tokens: pick(
                    self.localize.max_structure_tokens,
                    other.localize.max_structure_tokens,
                ),
            },
            repair: RepairOptions {
                samples: pick(self.repair.samples, other.repair.samples),
                max_prompt_tokens: pick(
                    self.repair.max_prompt_tokens,
                    other.repair.max_prompt_tokens,
                ),
            },
            prompts: PromptOptions {
                dir: pick(self.prompts.dir, other.prompts.dir),
            },
            sandbox: SandboxOptions {
                kind: pick(self.sandbox.kind, other.sandbox.kind),
                image: pick(self.sandbox.image, other.sandbox.image),
                memory_mb: pick(self.sandbox.memory_mb, other.sandbox.memory_mb),
                cpus: pick(self.sandbox.cpus, other.sandbox.cpus),
                pids_limit: pick(self.sandbox.pids_limit, other.sandbox.pids_limit),
                output_limit_mb: pick(self.sandbox.output_limit_mb, other.sandbox.output_limit_mb),
                concurrency: pick(self.sandbox.concurrency, other.sandbox.concurrency),
            },
            test: TestOptions {
                command: pick(self.test.command, other.test.command),
                format: pick(self.test.format, other.test.format),
                timeout_secs: pick(self.test.timeout_secs, other.test.timeout_secs),
                python: pick(self.test.python, other.test.python),
                env: pick(self.test.env, other.test.env),
            },
            reproduction: ReproductionOptions {
                enabled: pick(self.reproduction.enabled, other.reproduction.enabled),
                samples: pick(self.reproduction.samples, other.reproduction.samples),
            },
            selection: SelectionOptions {
                compat: pick(self.selection.compat, other.selection.compat),
            },
            github: GithubOptions {
                api_url: pick(self.github.api_url, other.github.api_url),
                token: pick(self.github.token, other.github.token),
            },
            gitlab: GitlabOptions {
                api_url: pick(self.gitlab.api_url, other.gitlab.api_url),
                token: pick(self.gitlab.token, other.gitlab.token),
                hosts: pick(self.gitlab.hosts, other.gitlab.hosts),
            },
            issue: IssueOptions {
                max_chars: pick(self.issue.max_chars, other.issue.max_chars),
            },
        }
    }
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
