//! `swiss rerank`: the records of one or more runs, pooled by instance and selected again.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Instant;

use futures::stream::{self, StreamExt};

use super::args::RerankArgs;
use super::eval::{
    bad, eval_options, interrupt_on_ctrl_c, read_optional_instances, runtime, summarize, Stop,
};
use super::exit::Exit;
use crate::config::{Options, Settings};
use crate::eval::predictions::{Prediction, Predictions};
use crate::eval::progress::EvalProgress;
use crate::eval::report::EvalReport;
use crate::eval::rerank::{instances_by_id, load_pools, rerank_pool};
use crate::job::JobCancel;

pub fn run(args: RerankArgs) -> Exit {
    match rerank(&args) {
        Ok(exit) => exit,
        Err((exit, message)) => exit.with_message(message),
    }
}

fn rerank(args: &RerankArgs) -> Result<Exit, Stop> {
    let started = Instant::now();
    let pools = load_pools(&args.records).map_err(bad)?;
    let instances = read_optional_instances(args.instances.as_deref())?;
    let mut options = Options::from_env(|name| std::env::var(name).ok());
    let mut flags = Options::default();
    args.run.apply(&mut flags);
    options = options.merged(flags);
    let compat = Settings::resolve(&options).map_err(bad)?.selection_compat;
    let eval = match (&instances, &args.repos) {
        (Some(_), Some(repos)) => Some(eval_options(repos, &args.run, options)?.0),
        (None, None) if !args.run.grade => None,
        _ => {
            return Err(bad(
                "failed to start: --instances and --repos go together (both are needed to grade or to verify candidates no run verified)",
            ))
        }
    };
    let instances = instances_by_id(instances.unwrap_or_default());
    let output: PathBuf = args.run.output.clone();
    std::fs::create_dir_all(&output)
        .map_err(|e| bad(format!("failed to create {}: {e}", output.display())))?;
    let mut predictions = Predictions::open(&output, true).map_err(bad)?;
    let model_name = args
        .run
        .model_name
        .clone()
        .unwrap_or_else(|| "swiss-rerank".to_owned());
    let mut progress = EvalProgress::new(pools.len(), 0);
    let runtime = runtime()?;
    let cancel = JobCancel::new();
    let (reports, interrupted) = runtime.block_on(async {
        interrupt_on_ctrl_c(cancel.clone());
        let token = cancel.token().clone();
        let mut ranked = stream::iter(pools.into_values())
            .map(|pool| {
                let instance = instances.get(&pool.instance_id);
                rerank_pool(
                    pool,
                    instance,
                    eval.as_ref(),
                    compat,
                    args.run.grade,
                    &output,
                    &token,
                )
            })
            .buffer_unordered(args.run.jobs.max(1));
        let mut reports = HashMap::new();
        while let Some((report, patch)) = ranked.next().await {
            if cancel.is_cancelled() {
                return Ok((reports, true));
            }
            predictions
                .append(&Prediction {
                    instance_id: report.instance_id.clone(),
                    model_name_or_path: model_name.clone(),
                    model_patch: patch,
                })
                .map_err(bad)?;
            progress.finished(&report);
            reports.insert(report.instance_id.clone(), report);
        }
        Ok::<_, Stop>((reports, false))
    })?;
    progress.finish();
    let mut ordered: Vec<_> = reports.into_values().collect();
    ordered.sort_by(|a, b| a.instance_id.cmp(&b.instance_id));
    let report = EvalReport::new(ordered, started.elapsed().as_secs_f64());
    report.write(&output).map_err(bad)?;
    summarize(&report)?;
    Ok(if interrupted {
        Exit::Interrupted.with_message("interrupted; the instances reranked so far are written")
    } else {
        Exit::Winner
    })
}
