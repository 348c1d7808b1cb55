//! The resolved configuration a job runs with: every value present and checked.

use std::time::Duration;

use super::options::Options;

#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub backend_urls: Vec<String>,
    pub model: String,
    pub api_key: Option<String>,
    pub request_timeout: Duration,
    pub max_retries: u32,
    pub temperature: f64,
    pub top_p: f64,
    pub max_tokens: Option<u32>,
    pub localize_samples: usize,
    pub repair_samples: usize,
    pub max_prompt_tokens: usize,
    pub prompts_dir: String,
}

/// A value that makes the job impossible, as opposed to one we can ignore.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("invalid setting {name}: {reason}")]
pub struct SettingsError {
    pub name: &'static str,
    pub reason: String,
}

impl Default for Settings {
    /// SWE-Swiss's inference defaults, against a vLLM server on this machine.
    fn default() -> Self {
        Settings {
            backend_urls: vec!["http://127.0.0.1:8000/v1".to_owned()],
            model: "SWE-Swiss-32B".to_owned(),
            api_key: None,
            request_timeout: Duration::from_secs(600),
            max_retries: 4,
            temperature: 0.6,
            top_p: 0.95,
            max_tokens: None,
            localize_samples: 4,
            repair_samples: 40,
            max_prompt_tokens: 24_000,
            prompts_dir: ".swiss/prompts".to_owned(),
        }
    }
}

impl Settings {
    /// Checks every value; the first that cannot work is the error.
    pub fn resolve(options: &Options) -> Result<Settings, SettingsError> {
        let d = Settings::default();
        let o = options;
        let urls = o.backend.urls.clone().unwrap_or(d.backend_urls);
        if urls.is_empty() {
            return Err(SettingsError {
                name: "backend.urls",
                reason: "no backend URL given".into(),
            });
        }
        for url in &urls {
            let ok = reqwest::Url::parse(url)
                .map(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
                .unwrap_or(false);
            if !ok {
                return Err(SettingsError {
                    name: "backend.urls",
                    reason: format!(
                        "`{url}` is not an http(s) URL such as http://127.0.0.1:8000/v1"
                    ),
                });
            }
        }
        let model = o.backend.model.clone().unwrap_or(d.model);
        if model.trim().is_empty() {
            return Err(SettingsError {
                name: "backend.model",
                reason: "the model name is empty".into(),
            });
        }
        let temperature = o.sampling.temperature.unwrap_or(d.temperature);
        if !(0.0..=2.0).contains(&temperature) {
            return Err(SettingsError {
                name: "sampling.temperature",
                reason: format!("{temperature} is outside 0..=2"),
            });
        }
        let top_p = o.sampling.top_p.unwrap_or(d.top_p);
        if !(top_p > 0.0 && top_p <= 1.0) {
            return Err(SettingsError {
                name: "sampling.top_p",
                reason: format!("{top_p} is outside (0, 1]"),
            });
        }
        let positive = |name: &'static str, value: usize| {
            if value == 0 {
                Err(SettingsError {
                    name,
                    reason: "must be at least 1".into(),
                })
            } else {
                Ok(value)
            }
        };
        let timeout_secs = o
            .backend
            .timeout_secs
            .unwrap_or(d.request_timeout.as_secs());
        positive("backend.timeout_secs", timeout_secs as usize)?;
        if let Some(max_tokens) = o.sampling.max_tokens {
            positive("sampling.max_tokens", max_tokens as usize)?;
        }
        Ok(Settings {
            backend_urls: urls,
            model,
            api_key: o.backend.api_key.clone().filter(|k| !k.is_empty()),
            request_timeout: Duration::from_secs(timeout_secs),
            max_retries: o.backend.max_retries.unwrap_or(d.max_retries),
            temperature,
            top_p,
            max_tokens: o.sampling.max_tokens,
            localize_samples: positive(
                "localize.samples",
                o.localize.samples.unwrap_or(d.localize_samples),
            )?,
            repair_samples: positive(
                "repair.samples",
                o.repair.samples.unwrap_or(d.repair_samples),
            )?,
            max_prompt_tokens: positive(
                "repair.max_prompt_tokens",
                o.repair.max_prompt_tokens.unwrap_or(d.max_prompt_tokens),
            )?,
            prompts_dir: o.prompts.dir.clone().unwrap_or(d.prompts_dir),
        })
    }
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
    fn impossible_values_are_errors() {
        let mut o = Options::default();
        o.repair.samples = Some(0);
        assert_eq!(Settings::resolve(&o).unwrap_err().name, "repair.samples");
        let mut o = Options::default();
        o.backend.urls = Some(vec!["localhost:8000".into()]);
        let err = Settings::resolve(&o).unwrap_err();
        assert!(err.to_string().contains("localhost:8000"), "{err}");
    }
}
