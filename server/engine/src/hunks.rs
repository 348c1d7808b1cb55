//! A candidate cut into hunks, so that part of it can be taken: the changed lines of each file
//! without context, in one stable order (files by path, hunks top to bottom), which the editor's
//! diagnostics, code actions and `swiss.applyCandidate {hunks}` all number the same way.

use std::collections::BTreeSet;
use std::ops::Range;

use similar::TextDiff;

use super::apply::{FileChange, PatchedFiles};

/// One changed region of one file, in the coordinates of the text before the patch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hunk {
    pub path: String,
    /// Whole lines of the text before the patch; empty for a pure insertion (it goes at
    /// `old.start`).
    pub old: Range<usize>,
    pub old_text: String,
    pub new_text: String,
}

/// Why a set of hunks cannot be taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HunkError {
    #[error("no hunk was chosen; name at least one, or apply the whole candidate")]
    NoneChosen,
    #[error("the candidate has no hunk {index}: its hunks are numbered 0 to {last}, as the winner's diagnostics number them (data.hunk)")]
    Unknown { index: usize, last: usize },
}

/// Every hunk of `files`, numbered by position: files in the order of `files` (sorted by path),
/// hunks in file order. A file the patch creates is one hunk; one it creates empty has none.
pub fn hunks(files: &PatchedFiles) -> Vec<Hunk> {
    files.changes.iter().flat_map(file_hunks).collect()
}

/// The hunks of one file: line-level, without context, the smallest edits an editor can apply
/// and undo.
pub fn file_hunks(change: &FileChange) -> Vec<Hunk> {
    let before = change.before.as_deref().unwrap_or("");
    let after = change.after.as_str();
    let diff = TextDiff::from_lines(before, after);
    let old_starts = line_starts(before);
    let new_starts = line_starts(after);
    diff.grouped_ops(0)
        .into_iter()
        .filter_map(|group| {
            let first = group.first()?;
            let last = group.last()?;
            let old = old_starts[first.old_range().start]..old_starts[last.old_range().end];
            let new = new_starts[first.new_range().start]..new_starts[last.new_range().end];
            Some(Hunk {
                path: change.path.clone(),
                old_text: before[old.clone()].to_owned(),
                new_text: after[new].to_owned(),
                old,
            })
        })
        .filter(|hunk| hunk.old_text != hunk.new_text)
        .collect()
}

/// The part of `files` made of the hunks numbered `chosen` (see [`hunks`]): each file touched by
/// a chosen hunk, with only those hunks applied to its text before the patch. Files without a
/// chosen hunk are left out, so applying the result leaves the other hunks undone.
pub fn select_hunks(files: &PatchedFiles, chosen: &[usize]) -> Result<PatchedFiles, HunkError> {
    if chosen.is_empty() {
        return Err(HunkError::NoneChosen);
    }
    let chosen: BTreeSet<usize> = chosen.iter().copied().collect();
    let mut changes = Vec::new();
    let mut index = 0;
    for change in &files.changes {
        let mut taken = Vec::new();
        for hunk in file_hunks(change) {
            if chosen.contains(&index) {
                taken.push(hunk);
            }
            index += 1;
        }
        if !taken.is_empty() {
            changes.push(FileChange {
                path: change.path.clone(),
                before: change.before.clone(),
                after: splice(change.before.as_deref().unwrap_or(""), &taken),
            });
        }
    }
    if let Some(&unknown) = chosen.iter().find(|&&i| i >= index) {
        return Err(HunkError::Unknown {
            index: unknown,
            last: index.saturating_sub(1),
        });
    }
    Ok(PatchedFiles { changes })
}

/// `before` with `taken` (hunks of it, top to bottom, none overlapping) put in.
fn splice(before: &str, taken: &[Hunk]) -> String {
    let mut out = String::with_capacity(before.len());
    let mut at = 0;
    for hunk in taken {
        out.push_str(&before[at..hunk.old.start]);
        out.push_str(&hunk.new_text);
        at = hunk.old.end;
    }
    out.push_str(&before[at..]);
    out
}

/// Byte offsets of the line starts of `text`, with its length last: `similar` counts a final
/// line without a newline as a line too.
fn line_starts(text: &str) -> Vec<usize> {
    let mut starts = vec![0];
    starts.extend(text.match_indices('\n').map(|(at, _)| at + 1));
    if *starts.last().unwrap_or(&0) != text.len() {
        starts.push(text.len());
    }
    starts
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn change(path: &str, before: Option<&str>, after: &str) -> FileChange {
        FileChange {
            path: path.into(),
            before: before.map(Arc::from),
            after: after.into(),
        }
    }

    fn two_files() -> PatchedFiles {
        PatchedFiles {
            changes: vec![
                change("a.py", Some("a\nb\nc\nd\ne\n"), "a\nB\nc\nd\nE\nf\n"),
                change("b.py", Some("x = 1\n"), "x = 2\n"),
            ],
        }
    }

    #[test]
    fn hunks_are_whole_lines_numbered_by_path_then_position() {
        let all = hunks(&two_files());
        let summary: Vec<(&str, &str, &str)> = all
            .iter()
            .map(|h| (h.path.as_str(), h.old_text.as_str(), h.new_text.as_str()))
            .collect();
        assert_eq!(
            summary,
            [
                ("a.py", "b\n", "B\n"),
                ("a.py", "e\n", "E\nf\n"),
                ("b.py", "x = 1\n", "x = 2\n"),
            ]
        );
        assert_eq!(all[0].old, 2..4);
        assert_eq!(all[1].old, 8..10);
    }

    #[test]
    fn a_pure_insertion_has_an_empty_old_range_where_it_goes() {
        let all = hunks(&PatchedFiles {
            changes: vec![change("m.py", Some("a\nb\n"), "a\nnew\nb\nlast\n")],
        });
        assert_eq!(all.len(), 2);
        assert_eq!(
            (all[0].old.clone(), all[0].new_text.as_str()),
            (2..2, "new\n")
        );
        assert_eq!(
            (all[1].old.clone(), all[1].new_text.as_str()),
            (4..4, "last\n")
        );
    }

    #[test]
    fn every_hunk_together_is_the_whole_candidate() {
        let files = two_files();
        assert_eq!(select_hunks(&files, &[2, 0, 1]).unwrap(), files);
        let created = PatchedFiles {
            changes: vec![
                change("m.py", Some("x\ny"), "x\nz"),
                change("new.py", None, "def f():\n    return 1\n"),
            ],
        };
        assert_eq!(hunks(&created).len(), 2);
        assert_eq!(select_hunks(&created, &[0, 1]).unwrap(), created);
    }

    #[test]
    fn one_hunk_leaves_the_others_out() {
        let files = two_files();
        let second = select_hunks(&files, &[1]).unwrap();
        assert_eq!(
            second.changes,
            [change(
                "a.py",
                Some("a\nb\nc\nd\ne\n"),
                "a\nb\nc\nd\nE\nf\n"
            )]
        );
        let across = select_hunks(&files, &[0, 2, 0]).unwrap();
        assert_eq!(
            across.changes,
            [
                change("a.py", Some("a\nb\nc\nd\ne\n"), "a\nB\nc\nd\ne\n"),
                change("b.py", Some("x = 1\n"), "x = 2\n"),
            ]
        );
    }

    #[test]
    fn crlf_and_a_last_line_without_newline_survive() {
        let files = PatchedFiles {
            changes: vec![change("w.py", Some("a\r\nb\r\nc"), "A\r\nb\r\nC")],
        };
        assert_eq!(hunks(&files).len(), 2);
        let last = select_hunks(&files, &[1]).unwrap();
        assert_eq!(last.changes[0].after, "a\r\nb\r\nC");
        let first = select_hunks(&files, &[0]).unwrap();
        assert_eq!(first.changes[0].after, "A\r\nb\r\nc");
    }

    #[test]
    fn unknown_and_empty_choices_are_refused() {
        let files = two_files();
        let err = select_hunks(&files, &[0, 3]).unwrap_err();
        assert_eq!(err, HunkError::Unknown { index: 3, last: 2 });
        assert_eq!(
            err.to_string(),
            "the candidate has no hunk 3: its hunks are numbered 0 to 2, as the winner's diagnostics number them (data.hunk)"
        );
        assert_eq!(select_hunks(&files, &[]), Err(HunkError::NoneChosen));
    }
}
