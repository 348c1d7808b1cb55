//! Stage 2: one repair prompt per context, sampled all at once, and each sample parsed into
//! edits, applied in memory and keyed as soon as it arrives (DESIGN 3.2, 3.3). Samples with one
//! normalized key are one candidate.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::context::JobContext;
use super::events::JobEvent;
use super::record::{CandidateRecord, RepairSample};
use crate::backend::{BackendError, Sample, Usage};
use crate::engine::apply::{apply_edits, FileSource};
use crate::engine::edits::parse_search_replace;
use crate::engine::normalize::normalized_key;
use crate::engine::repair::files_section;
use crate::engine::unified_diff::unified_diff;
use crate::prompts::PromptKind;

/// One repair context as the model sees it: the repair prompt, and the files section that the
/// reproduction prompt carries too.
pub(super) struct RepairPrompt {
    pub prompt: String,
    pub files: String,
    /// The context's files that fit the prompt's token budget.
    pub included: Vec<String>,
}

impl RepairPrompt {
    pub fn new(ctx: &JobContext, paths: &[String]) -> RepairPrompt {
        let files: Vec<(String, Arc<str>)> = paths
            .iter()
            .filter_map(|path| ctx.snapshot.read(path).map(|text| (path.clone(), text)))
            .collect();
        let section = files_section(
            &files,
            ctx.settings.max_prompt_tokens,
            &*ctx.settings.token_count(),
        );
        let prompt = ctx.render(
            PromptKind::Repair,
            &[("issue", &ctx.issue_text), ("files", &section.text)],
        );
        RepairPrompt {
            prompt,
            files: section.text,
            included: section.included,
        }
    }
}

/// Every sample so far, and the unique candidates they gave, in order of arrival.
#[derive(Default)]
pub(super) struct Candidates {
    pub samples: Vec<RepairSample>,
    pub list: Vec<CandidateRecord>,
    by_key: HashMap<String, u32>,
}

impl Candidates {
    /// Parses and applies one sample of repair context `context`; returns the id of the
    /// candidate it created, if it is new.
    pub fn accept(&mut self, ctx: &JobContext, context: usize, sample: Sample) -> Option<u32> {
        let edits = parse_search_replace(&sample.text);
        let mut new_candidate = None;
        let patched = apply_edits(&*ctx.snapshot, &edits)
            .and_then(|files| Ok((normalized_key(&files)?, files)));
        let (key, error, candidate) = match patched {
            Ok((key, files)) => {
                let id = match self.by_key.get(&key) {
                    Some(id) => *id,
                    None => {
                        let id = self.list.len() as u32 + 1;
                        self.by_key.insert(key.clone(), id);
                        ctx.emit(JobEvent::CandidateFound { id });
                        new_candidate = Some(id);
                        self.list.push(CandidateRecord {
                            id,
                            key: key.clone(),
                            patch: unified_diff(&files),
                            files,
                        });
                        id
                    }
                };
                (key, None, Some(id))
            }
            Err(e) => (String::new(), Some(e.to_string()), None),
        };
        self.samples.push(RepairSample {
            index: sample.index,
            context,
            raw: sample.text,
            edits,
            key,
            error,
            candidate,
        });
        new_candidate
    }

    pub fn get(&self, id: u32) -> &CandidateRecord {
        &self.list[id as usize - 1]
    }

    pub fn id_of(&self, key: &str) -> Option<u32> {
        self.by_key.get(key).copied()
    }
}

/// Every context's samples at once, one request with `n` each so the server prefills each
/// context's prompt once, all into `tx` tagged with their context. Sample indices run over the
/// whole job, context by context (context 0 has `0..n0`), since selection reads keys in
/// sample order. Returns the usage of every call and the first error, if any: samples other
/// contexts delivered still count. When `stop` fires (an early stop), the calls still open are
/// dropped, which closes their connections; their usage is unknown and counts 0.
pub(super) async fn sample_contexts(
    ctx: &JobContext,
    requests: Vec<(String, usize)>,
    tx: mpsc::UnboundedSender<(usize, Sample)>,
    stop: &CancellationToken,
) -> (Usage, Option<BackendError>) {
    let mut first_index = 0;
    let calls: Vec<_> = requests
        .into_iter()
        .enumerate()
        .map(|(context, (prompt, n))| {
            let offset = first_index;
            first_index += n;
            let tx = tx.clone();
            async move {
                let (call_tx, mut call_rx) = mpsc::unbounded_channel::<Sample>();
                let forward = async move {
                    while let Some(mut sample) = call_rx.recv().await {
                        sample.index += offset;
                        if tx.send((context, sample)).is_err() {
                            break;
                        }
                    }
                };
                // A call that has ended keeps its usage even when the stop comes at once.
                tokio::select! {
                    biased;
                    (result, ()) = async { tokio::join!(ctx.sample(prompt, n, call_tx), forward) } => result,
                    () = stop.cancelled() => Ok(Usage::default()),
                }
            }
        })
        .collect();
    drop(tx);
    let mut usage = Usage::default();
    let mut error = None;
    for result in futures::future::join_all(calls).await {
        match result {
            Ok(spent) => usage += spent,
            // A cancellation explains every other failure.
            Err(BackendError::Cancelled) => error = Some(BackendError::Cancelled),
            Err(e) => {
                error.get_or_insert(e);
            }
        }
    }
    (usage, error)
}
