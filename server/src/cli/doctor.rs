//! `swiss doctor`: what this machine offers a job, before one runs: the confinement local runs
//! get, whether each backend answers, and whether a Docker engine and the image are there.

use std::io::Write;
use std::time::Duration;

use serde::Serialize;

use super::args::DoctorArgs;
use super::exit::Exit;
use crate::config::{Options, Settings};
use crate::sandbox::confine::{self, ConfineSettings, Confiner, Mechanism};
use crate::sandbox::docker_endpoint::DockerEndpoint;
use crate::sandbox::docker_hosts;

#[derive(Debug, Serialize)]
struct Report {
    confinement: ConfinementCheck,
    /// Absent with `--confinement`.
    #[serde(skip_serializing_if = "Option::is_none")]
    backends: Option<Vec<BackendCheck>>,
    /// One per Docker host (`sandbox.hosts`, else the local engine).
    #[serde(skip_serializing_if = "Option::is_none")]
    docker: Option<Vec<DockerCheck>>,
}

#[derive(Debug, Serialize)]
struct ConfinementCheck {
    /// `bubblewrap`, `namespaces+landlock` or `none`.
    mechanism: &'static str,
    ok: bool,
    /// The line a job prints, or why there is no confinement and what to do.
    note: String,
}

#[derive(Debug, Serialize)]
struct BackendCheck {
    url: String,
    /// It answers `GET /models` and, where it lists models, lists `model`.
    ok: bool,
    /// The model name requests to it carry.
    model: String,
    models: Vec<String>,
    /// `None` when it could not be asked.
    model_served: Option<bool>,
    max_concurrent: Option<usize>,
    error: Option<String>,
}

#[derive(Debug, Serialize)]
struct DockerCheck {
    host: String,
    /// Runs it takes at once.
    slots: usize,
    ok: bool,
    version: Option<String>,
    error: Option<String>,
    image: Option<String>,
    image_present: Option<bool>,
    /// Job images Swiss made there that still exist: those of running jobs, or leftovers the
    /// next job's sweep removes.
    job_images: Option<usize>,
}

pub fn run(args: DoctorArgs) -> Exit {
    let mut warnings = Vec::new();
    let options = Options::from_repo_file(&args.repo, &mut warnings)
        .merged(Options::from_env(|name| std::env::var(name).ok()))
        .merged(args.options());
    for warning in &warnings {
        let _ = writeln!(std::io::stderr(), "swiss: warning: {warning}");
    }
    let settings = match Settings::resolve(&options) {
        Ok(settings) => settings,
        Err(e) => return Exit::BadInput.with_message(e),
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            return Exit::BadInput.with_message(format!("failed to start the async runtime: {e}"))
        }
    };
    let report = Report {
        confinement: confinement(&settings),
        backends: (!args.confinement && !args.sandbox)
            .then(|| runtime.block_on(backends(&settings))),
        docker: (!args.confinement).then(|| runtime.block_on(docker(&settings))),
    };
    let text = if args.json {
        serde_json::to_string_pretty(&report).unwrap_or_default()
    } else {
        human(&report)
    };
    let _ = writeln!(std::io::stdout(), "{text}");
    Exit::Winner
}

fn confinement(settings: &Settings) -> ConfinementCheck {
    let mechanism = confine::available();
    let note = match mechanism {
        Mechanism::Unavailable { why } => {
            format!("{why}. To fix: {}", confine::HOW_TO_CONFINE)
        }
        _ => match Confiner::new(ConfineSettings::from_settings(settings)) {
            Ok(confiner) => confiner.confinement().summary(),
            Err(e) => e,
        },
    };
    ConfinementCheck {
        mechanism: mechanism.name(),
        ok: !matches!(mechanism, Mechanism::Unavailable { .. }),
        note,
    }
}

/// `GET /v1/models` on each backend endpoint (`backend.urls`, then `backend.endpoints`), with
/// its key: the cheapest request every OpenAI-compatible server answers, and the list that says
/// whether it serves the model the requests will name.
async fn backends(settings: &Settings) -> Vec<BackendCheck> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build();
    let mut checks = Vec::new();
    for endpoint in settings.backend_config().all_endpoints() {
        let model = endpoint.model.clone().unwrap_or_default();
        let result = match &client {
            Ok(client) => models(client, &endpoint.url, endpoint.api_key.as_deref()).await,
            Err(e) => Err(format!("failed to make an HTTP client: {e}")),
        };
        let mut check = BackendCheck {
            url: endpoint.url.clone(),
            ok: false,
            model: model.clone(),
            models: Vec::new(),
            model_served: None,
            max_concurrent: endpoint.max_concurrent,
            error: None,
        };
        match result {
            // A server that lists no model (some proxies) cannot be held to one.
            Ok(models) => {
                let served = models.is_empty() || models.contains(&model);
                check.ok = served;
                check.model_served = Some(served);
                if !served {
                    check.error = Some(format!(
                        "it does not serve the model `{model}`: set backend.model (or this endpoint's model) to one of {}",
                        models.join(", ")
                    ));
                }
                check.models = models;
            }
            Err(error) => check.error = Some(error),
        }
        checks.push(check);
    }
    checks
}

async fn models(
    client: &reqwest::Client,
    url: &str,
    api_key: Option<&str>,
) -> Result<Vec<String>, String> {
    let mut request = client.get(format!("{}/models", url.trim_end_matches('/')));
    if let Some(key) = api_key {
        request = request.bearer_auth(key);
    }
    let response = request
        .send()
        .await
        .map_err(|e| format!("failed to reach the backend: {e}"))?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!("the backend answered HTTP {status} to GET /models"));
    }
    let body: serde_json::Value = response
        .json()
        .await
        .map_err(|e| format!("failed to read the model list: {e}"))?;
    Ok(body["data"]
        .as_array()
        .map(|models| {
            models
                .iter()
                .filter_map(|m| m["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default())
}

/// Every Docker host a job would use, checked at once.
async fn docker(settings: &Settings) -> Vec<DockerCheck> {
    let endpoints = if settings.docker_hosts.is_empty() {
        vec![DockerEndpoint::local()]
    } else {
        settings.docker_hosts.clone()
    };
    futures::future::join_all(endpoints.iter().map(|e| docker_host(settings, e))).await
}

async fn docker_host(settings: &Settings, endpoint: &DockerEndpoint) -> DockerCheck {
    let host = docker_hosts::host(endpoint, endpoint.slots.unwrap_or(settings.concurrency));
    let mut check = DockerCheck {
        host: host.name.clone(),
        slots: host.load().slots,
        ok: false,
        version: None,
        error: None,
        image: settings.image.clone(),
        image_present: None,
        job_images: None,
    };
    let docker = match host.client().await {
        Ok(docker) => docker,
        Err(e) => {
            check.error = Some(e.to_string());
            return check;
        }
    };
    check.ok = true;
    check.version = docker.version().await.ok().and_then(|v| v.version);
    if let Some(image) = &settings.image {
        check.image_present = Some(docker.inspect_image(image).await.is_ok());
    }
    let managed = [format!("{}=1", crate::sandbox::docker::MANAGED_LABEL)];
    check.job_images = crate::sandbox::leftovers::images(&docker, &managed)
        .await
        .ok()
        .map(|images| images.len());
    check
}

fn human(report: &Report) -> String {
    let mark = |ok: bool| if ok { "ok" } else { "FAIL" };
    let mut lines = vec![format!(
        "confinement: {} ({}): {}",
        mark(report.confinement.ok),
        report.confinement.mechanism,
        report.confinement.note
    )];
    for backend in report.backends.iter().flatten() {
        let limit = backend
            .max_concurrent
            .map_or_else(String::new, |max| format!(", {max} samples at once"));
        lines.push(match &backend.error {
            None => format!(
                "backend {}: ok, serves {}{limit}",
                backend.url,
                backend.models.join(", ")
            ),
            Some(error) => format!("backend {}: FAIL: {error}", backend.url),
        });
    }
    for docker in report.docker.iter().flatten() {
        lines.push(docker_line(docker));
    }
    lines.join("\n")
}

fn docker_line(docker: &DockerCheck) -> String {
    let engine = format!(
        "engine {}, {} slot(s){}",
        docker.version.as_deref().unwrap_or("?"),
        docker.slots,
        match docker.job_images {
            Some(0) | None => String::new(),
            Some(n) => format!(", {n} Swiss job image(s)"),
        }
    );
    let host = &docker.host;
    match (&docker.error, &docker.image, docker.image_present) {
        (Some(error), _, _) => format!("docker {host}: not available: {error}"),
        (None, Some(image), Some(false)) => {
            format!("docker {host}: ok ({engine}), but image {image} is missing: build or pull it")
        }
        (None, Some(image), _) => format!("docker {host}: ok ({engine}), image {image} present"),
        (None, None, _) => {
            format!("docker {host}: ok ({engine}); set sandbox.image to test candidates in it")
        }
    }
}
