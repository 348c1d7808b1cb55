//! `swiss eval`: reads and checks the whole input first (exit 2 before any request), then runs
//! the instances and prints the summary.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use tokio::sync::Semaphore;

use super::args::{EvalArgs, EvalSandboxArgs};
use super::exit::Exit;
use crate::backend::BackendClient;
use crate::config::{Options, Settings};
use crate::eval::instances::{read_instances, Instance};
use crate::eval::prepare::EvalOptions;
use crate::eval::repo_config::RepoConfig;
use crate::eval::report::EvalReport;
use crate::eval::run::{run_eval, EvalEnd, EvalPlan};
use crate::eval::solve::Shared;
use crate::job::{CancelReason, JobCancel};
use crate::prompts::Prompts;

/// An exit with the line that says why.
pub(super) type Stop = (Exit, String);

pub fn run(args: EvalArgs) -> Exit {
    match eval(&args) {
        Ok(exit) => exit,
        Err((exit, message)) => exit.with_message(message),
    }
}

pub(super) fn bad(message: impl std::fmt::Display) -> Stop {
    (Exit::BadInput, message.to_string())
}

fn eval(args: &EvalArgs) -> Result<Exit, Stop> {
    let mut instances = read_instances(&args.instances).map_err(bad)?;
    if !args.ids.is_empty() {
        if let Some(unknown) = args
            .ids
            .iter()
            .find(|id| !instances.iter().any(|i| &&i.instance_id == id))
        {
            return Err(bad(format!(
                "failed to find instance {unknown} in {} (check --ids)",
                args.instances.display()
            )));
        }
        instances.retain(|i| args.ids.contains(&i.instance_id));
    }
    let options = Options::from_env(|name| std::env::var(name).ok()).merged(args.options());
    let (eval, settings) = eval_options(&args.repos, &args.run, options)?;
    let client = Arc::new(BackendClient::new(settings.backend_config()).map_err(bad)?);
    let shared = Arc::new(Shared {
        eval,
        client,
        prompts: Prompts::default(),
        sandbox_permits: Arc::new(Semaphore::new(crate::job::sandbox_capacity(&settings))),
        model_name: args
            .run
            .model_name
            .clone()
            .unwrap_or_else(|| settings.model.clone()),
        grade: args.run.grade,
        output: args.run.output.clone(),
    });
    let plan = EvalPlan {
        instances,
        jobs: args.run.jobs,
        resume: args.resume,
    };
    let runtime = runtime()?;
    let cancel = JobCancel::new();
    let ended = runtime.block_on(async {
        interrupt_on_ctrl_c(cancel.clone());
        run_eval(shared, plan, cancel).await
    });
    let (end, report) = ended.map_err(bad)?;
    summarize(&report)?;
    Ok(match end {
        EvalEnd::Completed => Exit::Winner,
        EvalEnd::BackendDown(error) => Exit::Backend.with_message(format!(
            "{error}; stopped before any instance finished (start the backend, then rerun with --resume)"
        )),
        EvalEnd::Interrupted => Exit::Interrupted.with_message(
            "interrupted; finished instances are written, --resume runs the rest",
        ),
    })
}

/// The run's options checked once, before anything runs: a bad flag is exit 2 here rather than
/// an error on every instance.
pub(super) fn eval_options(
    repos: &Path,
    run: &EvalSandboxArgs,
    options: Options,
) -> Result<(EvalOptions, Settings), Stop> {
    if !repos.is_dir() {
        return Err(bad(format!(
            "failed to read --repos {}: not a folder",
            repos.display()
        )));
    }
    let repo_config = match &run.repo_config {
        Some(path) => RepoConfig::read(path).map_err(bad)?,
        None => RepoConfig::default(),
    };
    let settings = Settings::resolve(&options).map_err(bad)?;
    let eval = EvalOptions {
        repos: repos.to_path_buf(),
        run: options,
        image_template: run.image_template.clone(),
        repo_config,
    };
    Ok((eval, settings))
}

pub(super) fn runtime() -> Result<tokio::runtime::Runtime, Stop> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| bad(format!("failed to start the async runtime: {e}")))
}

pub(super) fn interrupt_on_ctrl_c(cancel: JobCancel) {
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            cancel.cancel(CancelReason::User);
        }
    });
}

pub(super) fn summarize(report: &EvalReport) -> Result<(), Stop> {
    let mut stdout = std::io::stdout().lock();
    report
        .write_human(&mut stdout)
        .and_then(|()| stdout.flush())
        .map_err(|e| bad(format!("failed to write the summary: {e}")))
}

/// `--instances` for rerank, which may also go without.
pub(super) fn read_optional_instances(path: Option<&Path>) -> Result<Option<Vec<Instance>>, Stop> {
    path.map(|p| read_instances(p).map_err(bad)).transpose()
}
