//! Resolved settings written back in the shape of a source, so the schema's defaults and
//! `swiss config`'s output read like `swiss.toml` and come from the same values a job runs with.

use super::options::{
    BackendOptions, GithubOptions, GitlabOptions, IssueOptions, JobOptions, JobsOptions,
    LocalizeOptions, Options, PromptOptions, RepairOptions, ReproductionOptions, RetrievalOptions,
    SamplingOptions, SandboxOptions, SelectionOptions, TestOptions, VerificationOptions,
};
use super::settings::Settings;

impl Options {
    /// Every setting at its default (`None` where the default is to leave it unset).
    pub fn defaults() -> Options {
        Options::from(&Settings::default())
    }
}

/// Field by field with no `..Default::default()`, so that a new setting does not compile until it
/// says here how it is written, and so has a default in the schema.
impl From<&Settings> for Options {
    fn from(s: &Settings) -> Options {
        Options {
            backend: backend_options(s),
            sampling: SamplingOptions {
                temperature: Some(s.temperature),
                top_p: Some(s.top_p),
                max_tokens: s.max_tokens,
            },
            localize: LocalizeOptions {
                samples: Some(s.localize_samples),
                max_structure_tokens: Some(s.max_structure_tokens),
                model_top: Some(s.model_top),
                retrieval_top: Some(s.retrieval_top),
                irrelevant_folders: Some(s.irrelevant_folders),
            },
            retrieval: RetrievalOptions {
                embedding_url: s.embedding.as_ref().map(|e| e.url.clone()),
                embedding_model: s.embedding.as_ref().map(|e| e.model.clone()),
            },
            repair: RepairOptions {
                samples: Some(s.repair_samples),
                max_prompt_tokens: Some(s.max_prompt_tokens),
                early_stop: Some(s.early_stop),
            },
            prompts: PromptOptions {
                dir: Some(s.prompts_dir.clone()),
            },
            sandbox: sandbox_options(s),
            test: test_options(s),
            reproduction: ReproductionOptions {
                enabled: Some(s.reproduction),
                samples: Some(s.reproduction_samples),
                command: s.reproduction_command.clone(),
                file: s.reproduction_file.clone(),
            },
            verification: VerificationOptions {
                exclude_tests: Some(s.exclude_tests),
            },
            selection: SelectionOptions {
                compat: Some(serde_name(&s.selection_compat)),
            },
            github: GithubOptions {
                api_url: Some(s.github.api_url.clone()),
                token: s.github.token.clone(),
            },
            gitlab: GitlabOptions {
                api_url: Some(s.gitlab.api_url.clone()),
                token: s.gitlab.token.clone(),
                hosts: Some(s.gitlab.hosts.clone()),
            },
            issue: IssueOptions {
                max_chars: Some(s.issue_max_chars),
            },
            job: JobOptions {
                timeout_secs: s.job_timeout.map(|t| t.as_secs()),
            },
            jobs: JobsOptions {
                keep: Some(s.jobs_keep),
                max_mb: Some(s.jobs_max_mb),
            },
        }
    }
}

fn backend_options(s: &Settings) -> BackendOptions {
    BackendOptions {
        urls: Some(s.backend_urls.clone()),
        model: Some(s.model.clone()),
        api_key: s.api_key.clone(),
        timeout_secs: Some(s.request_timeout.as_secs()),
        max_retries: Some(s.max_retries),
        stream: Some(s.stream),
        // No system message is written "", as a source says it.
        system_message: Some(s.system_message.clone().unwrap_or_default()),
        tokenizer: s.tokenizer.as_ref().map(|path| path.display().to_string()),
        max_concurrent: s.backend_max_concurrent,
        endpoints: Some(s.backend_endpoints.clone()),
    }
}

fn sandbox_options(s: &Settings) -> SandboxOptions {
    SandboxOptions {
        kind: Some(serde_name(&s.sandbox)),
        image: s.image.clone(),
        memory_mb: Some(s.memory_mb),
        cpus: Some(s.cpus),
        pids_limit: Some(s.pids_limit),
        output_limit_mb: Some(s.output_limit_mb),
        concurrency: Some(s.concurrency),
        hosts: Some(s.docker_hosts.iter().map(|h| h.written()).collect()),
        pull: Some(s.pull),
        network: Some(s.sandbox_network),
        mask: Some(s.sandbox_mask.clone()),
        pass_env: Some(s.sandbox_pass_env.clone()),
        allow_unconfined: Some(s.allow_unconfined),
    }
}

fn test_options(s: &Settings) -> TestOptions {
    TestOptions {
        command: s.test_command.clone(),
        format: s.test_format.as_ref().map(serde_name),
        junit_xml: s.test_junit_xml.clone(),
        timeout_secs: Some(s.test_timeout.as_secs()),
        python: Some(s.python.clone()),
        env: Some(s.test_env.iter().cloned().collect()),
    }
}

/// The name a unit variant has in settings files, which is its serde name.
fn serde_name(value: &impl serde::Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => name,
        other => unreachable!("a settings enum serializes as its name, not {other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_resolve_to_the_default_settings() {
        assert_eq!(
            Settings::resolve(&Options::defaults()).unwrap(),
            Settings::default()
        );
    }

    #[test]
    fn resolved_settings_written_back_resolve_to_themselves() {
        let mut warnings = Vec::new();
        let options = Options::from_toml(
            "[backend]\nurls = [\"http://a:1/v1\", \"http://b:2/v1\"]\napi_key = \"sk-1\"\n\
             [sampling]\nmax_tokens = 512\n[sandbox]\nkind = \"local\"\nimage = \"img\"\n\
             [test]\nformat = \"cargo-test\"\nenv = { A = \"1\" }\n[selection]\ncompat = \"sweswiss\"\n[gitlab]\nhosts = [\"git.example.org\"]\n",
            "swiss.toml",
            &mut warnings,
        );
        assert!(warnings.is_empty(), "{warnings:?}");
        let settings = Settings::resolve(&options).unwrap();
        let written = Options::from(&settings);
        assert_eq!(written.sandbox.kind.as_deref(), Some("local"));
        assert_eq!(written.test.format.as_deref(), Some("cargo-test"));
        assert_eq!(written.selection.compat.as_deref(), Some("sweswiss"));
        assert_eq!(Settings::resolve(&written).unwrap(), settings);
    }
}
