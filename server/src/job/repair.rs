//! Stage 2: the repair prompt, and each sample parsed into edits, applied in memory and keyed
//! as soon as it arrives (DESIGN 3.2, 3.3). Samples with one normalized key are one candidate.

use std::collections::HashMap;
use std::sync::Arc;

use super::context::JobContext;
use super::events::JobEvent;
use super::record::{CandidateRecord, LocalizationRecord, RepairSample};
use crate::backend::Sample;
use crate::engine::apply::{apply_edits, FileSource};
use crate::engine::edits::parse_search_replace;
use crate::engine::normalize::normalized_key;
use crate::engine::repair::files_section;
use crate::engine::unified_diff::unified_diff;
use crate::prompts::PromptKind;

/// What the model is shown of the localized files: the repair prompt and the reproduction
/// prompt both carry it.
pub(super) struct RepairPrompt {
    pub prompt: String,
    pub files: String,
}

impl RepairPrompt {
    pub fn new(ctx: &JobContext, localization: &LocalizationRecord) -> RepairPrompt {
        let files: Vec<(String, Arc<str>)> = localization
            .files
            .iter()
            .filter_map(|path| ctx.snapshot.read(path).map(|text| (path.clone(), text)))
            .collect();
        let section = files_section(
            &files,
            ctx.settings.max_prompt_tokens,
            &*ctx.settings.token_count(),
        );
        ctx.emit(JobEvent::Localized {
            files: section.included.clone(),
            skipped_for_budget: section.skipped.clone(),
        });
        let prompt = ctx.render(
            PromptKind::Repair,
            &[("issue", &ctx.issue_text), ("files", &section.text)],
        );
        RepairPrompt {
            prompt,
            files: section.text,
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
    /// Parses and applies one sample; returns the id of the candidate it created, if it is new.
    pub fn accept(&mut self, ctx: &JobContext, sample: Sample) -> Option<u32> {
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
