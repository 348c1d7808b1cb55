//! Applying SEARCH/REPLACE edits in memory, never to the user's files.

use std::collections::btree_map::Entry;
use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Arc;

use super::edits::SearchReplace;
use super::languages::language_for;
use super::syntax;

/// Where edits read the original files from. The repo snapshot implements it; tests use a map.
pub trait FileSource {
    /// Turns a path as the model wrote it into a repo-relative path with `/` separators, or says
    /// why it is refused (absolute, `..`, through a symlink, outside the repo).
    fn resolve_path(&self, raw: &str) -> Result<String, String>;
    /// The text of a repo-relative path, `None` when it does not exist (or is not text).
    fn read(&self, path: &str) -> Option<Arc<str>>;
}

/// One file's content before and after a candidate patch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChange {
    pub path: String,
    /// `None` when the patch creates the file.
    pub before: Option<Arc<str>>,
    pub after: String,
}

/// The files a candidate changes, sorted by path.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PatchedFiles {
    pub changes: Vec<FileChange>,
}

/// Why a sample's edits give no candidate. The messages are shown to the user as they are.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    #[error("the answer contains no SEARCH/REPLACE edits")]
    NoEdits,
    #[error("refused to edit {path}: {reason}")]
    UnsafePath { path: String, reason: String },
    #[error("SEARCH text not found in {path}")]
    SearchNotFound { path: String },
    #[error("a SEARCH/REPLACE block for {path} replaces the text with itself")]
    NoOp { path: String },
    #[error("empty SEARCH for {path}, which already exists: it is unclear where the text goes")]
    EmptySearchOnExistingFile { path: String },
    #[error("SEARCH/REPLACE block for {path}, which does not exist")]
    MissingFile { path: String },
    #[error("{path} no longer parses as {language} after the patch")]
    Syntax {
        path: String,
        language: &'static str,
    },
    #[error("the patch only changes blank lines")]
    BlankLinesOnly,
    #[error("the patch changes nothing")]
    NoChange,
    /// Set by [`crate::normalize::normalized_key`]: the patch applies, but its normalized key is
    /// empty.
    #[error("the patch only changes comments, docstrings or formatting (its normalized key is empty, so it cannot compete)")]
    CommentsOrFormattingOnly,
}

/// Applies `edits` in order, each to the current content of its file, in memory.
///
/// See DESIGN 3.2. A SEARCH text matches whole lines: it starts at a line start and its last
/// line ends where a file line ends, so `    return x` never matches the tail of the deeper
/// `        return x`. Lines are compared exactly first; when nothing matches, a match that
/// ignores trailing whitespace on every line is tried, because models often drop trailing
/// spaces (or `\r` of CRLF files) when they copy lines, while the lines themselves are right.
/// Leading whitespace is never relaxed: in Python it is code.
///
/// Every occurrence is replaced, as SWE-Swiss does (`evaluation/agentless/util/
/// postprocess_data.py`, `parse_diff_edit_commands`): it wraps both the SEARCH text and the file
/// text in `\n` and calls Python's `str.replace`, which anchors the match at line boundaries and
/// replaces every non-overlapping occurrence. Two occurrences on back-to-back lines share the
/// newline between them there, so only the first of such a pair is replaced; Swiss does the
/// same, so that a sample gives the same patch here as in the reference.
pub fn apply_edits(
    src: &dyn FileSource,
    edits: &[SearchReplace],
) -> Result<PatchedFiles, EditError> {
    if edits.is_empty() {
        return Err(EditError::NoEdits);
    }
    // path -> (content before the patch, current content)
    let mut files: BTreeMap<String, (Option<Arc<str>>, String)> = BTreeMap::new();
    for edit in edits {
        let path = src
            .resolve_path(&edit.path)
            .map_err(|reason| EditError::UnsafePath {
                path: edit.path.clone(),
                reason,
            })?;
        if edit.search == edit.replace {
            return Err(EditError::NoOp { path });
        }
        let entry = match files.entry(path.clone()) {
            Entry::Occupied(entry) => entry.into_mut(),
            Entry::Vacant(entry) => match src.read(&path) {
                Some(text) => {
                    let current = text.to_string();
                    entry.insert((Some(text), current))
                }
                None if edit.search.is_empty() => {
                    entry.insert((None, edit.replace.clone()));
                    continue;
                }
                None => return Err(EditError::MissingFile { path }),
            },
        };
        let current = &mut entry.1;
        if edit.search.is_empty() {
            return Err(EditError::EmptySearchOnExistingFile { path });
        }
        let found = find_search(current, &edit.search);
        if found.is_empty() {
            return Err(EditError::SearchNotFound { path });
        }
        // From the end, so the earlier ranges still point at the text they matched.
        for found in found.into_iter().rev() {
            let replace = match found.crlf {
                true if !edit.replace.contains('\r') => edit.replace.replace('\n', "\r\n"),
                _ => edit.replace.clone(),
            };
            current.replace_range(found.range, &replace);
        }
    }

    let changes: Vec<FileChange> = files
        .into_iter()
        .filter(|(_, (before, after))| before.as_deref() != Some(after.as_str()))
        .map(|(path, (before, after))| FileChange {
            path,
            before,
            after,
        })
        .collect();
    if changes.is_empty() {
        return Err(EditError::NoChange);
    }
    for change in &changes {
        let Some(language) = language_for(&change.path) else {
            continue;
        };
        let parses = |text: &str| syntax::parses(language, text);
        // A file that did not parse before is not the patch's fault.
        if !parses(&change.after) && change.before.as_deref().is_none_or(parses) {
            return Err(EditError::Syntax {
                path: change.path.clone(),
                language: language.name,
            });
        }
    }
    if changes.iter().all(only_blank_lines_differ) {
        return Err(EditError::BlankLinesOnly);
    }
    Ok(PatchedFiles { changes })
}

struct Found {
    range: Range<usize>,
    /// The matched lines end in `\r\n` while the SEARCH text used `\n`: the replacement must
    /// follow the file's line endings.
    crlf: bool,
}

/// Every place `search` matches whole lines of `content`, in file order, none overlapping and
/// none starting on the line right after the previous one ends (see [`apply_edits`]). Exact
/// line matches when there are any, else the matches that ignore trailing whitespace.
fn find_search(content: &str, search: &str) -> Vec<Found> {
    let wanted: Vec<&str> = search.split_inclusive('\n').map(line_text).collect();
    // (start byte, line without its terminator, end byte including the terminator)
    let mut lines: Vec<(usize, &str, usize)> = Vec::new();
    let mut at = 0;
    for line in content.split_inclusive('\n') {
        lines.push((at, line_text(line), at + line.len()));
        at += line.len();
    }
    if wanted.is_empty() || wanted.len() > lines.len() {
        return Vec::new();
    }
    let exact = matches(&lines, &wanted, |have, want| have == want);
    let starts = if exact.is_empty() {
        matches(&lines, &wanted, |have, want| {
            have.trim_end() == want.trim_end()
        })
    } else {
        exact
    };
    let search_ends_line = search.ends_with('\n');
    let crlf_search = search.contains('\r');
    starts
        .into_iter()
        .map(|first| {
            let window = &lines[first..first + wanted.len()];
            let (start, _, _) = window[0];
            let (last_start, last_line, last_end) = window[window.len() - 1];
            // Without a final newline in SEARCH, the match stops inside the last line and
            // leaves the rest of it (trailing whitespace, the terminator) in place.
            let end = if search_ends_line {
                last_end
            } else {
                let want = wanted[wanted.len() - 1].trim_end();
                let kept = if last_line.starts_with(want) {
                    want.len()
                } else {
                    last_line.len()
                };
                last_start + kept
            };
            let crlf = !crlf_search && content[start..last_end].contains("\r\n");
            Found {
                range: start..end,
                crlf,
            }
        })
        .collect()
}

/// First lines of the windows of `lines` that equal `wanted` line by line under `same`,
/// scanned as `str.replace` scans: after a match, the search resumes past the line that
/// follows it.
fn matches(
    lines: &[(usize, &str, usize)],
    wanted: &[&str],
    same: impl Fn(&str, &str) -> bool,
) -> Vec<usize> {
    let mut found = Vec::new();
    let mut first = 0;
    while first + wanted.len() <= lines.len() {
        let window = &lines[first..first + wanted.len()];
        if window
            .iter()
            .zip(wanted)
            .all(|((_, have, _), want)| same(have, want))
        {
            found.push(first);
            first += wanted.len() + 1;
        } else {
            first += 1;
        }
    }
    found
}

/// A line without its `\n` or `\r\n`.
fn line_text(line: &str) -> &str {
    let line = line.strip_suffix('\n').unwrap_or(line);
    line.strip_suffix('\r').unwrap_or(line)
}

fn only_blank_lines_differ(change: &FileChange) -> bool {
    fn code_lines(text: &str) -> impl Iterator<Item = &str> {
        text.lines().filter(|line| !line.trim().is_empty())
    }
    code_lines(change.before.as_deref().unwrap_or("")).eq(code_lines(&change.after))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    /// A repo held in a map; refuses what a real snapshot refuses.
    struct MapSource(HashMap<String, Arc<str>>);

    impl MapSource {
        fn new(files: &[(&str, &str)]) -> Self {
            MapSource(
                files
                    .iter()
                    .map(|(path, text)| (path.to_string(), Arc::from(*text)))
                    .collect(),
            )
        }
    }

    impl FileSource for MapSource {
        fn resolve_path(&self, raw: &str) -> Result<String, String> {
            if raw.starts_with('/') {
                return Err("absolute paths are refused".into());
            }
            if raw.split('/').any(|part| part == "..") {
                return Err("paths with `..` are refused".into());
            }
            Ok(raw.trim_start_matches("./").to_string())
        }

        fn read(&self, path: &str) -> Option<Arc<str>> {
            self.0.get(path).cloned()
        }
    }

    fn edit(path: &str, search: &str, replace: &str) -> SearchReplace {
        SearchReplace {
            path: path.into(),
            search: search.into(),
            replace: replace.into(),
        }
    }

    fn after(files: &PatchedFiles, path: &str) -> String {
        files
            .changes
            .iter()
            .find(|change| change.path == path)
            .map(|change| change.after.clone())
            .unwrap_or_else(|| panic!("{path} not in the result"))
    }

    const CODE: &str = "def f(x):\n    return x + 1\n\n\ndef g(x):\n    return x + 1\n";

    #[test]
    fn no_edits() {
        let src = MapSource::new(&[]);
        assert_eq!(apply_edits(&src, &[]), Err(EditError::NoEdits));
    }

    #[test]
    fn replaces_every_occurrence_as_the_reference_does() {
        let src = MapSource::new(&[("m.py", CODE)]);
        let files = apply_edits(
            &src,
            &[edit("m.py", "    return x + 1\n", "    return x + 2\n")],
        )
        .unwrap();
        assert_eq!(
            after(&files, "m.py"),
            "def f(x):\n    return x + 2\n\n\ndef g(x):\n    return x + 2\n"
        );
        assert_eq!(files.changes[0].before.as_deref(), Some(CODE));
    }

    #[test]
    fn back_to_back_occurrences_are_replaced_as_str_replace_does() {
        // The expected texts are what SWE-Swiss's `"\n" + file + "\n"` `.replace("\n" + SEARCH
        // + "\n", "\n" + REPLACE + "\n")` gives: an occurrence that starts on the line right
        // after another ends shares its newline with it and is skipped.
        let src = MapSource::new(&[
            ("a.py", "a = 1\na = 1\nb = 2\na = 1\n"),
            ("b.py", "x\ny\nx\ny\nx\ny\nz\n"),
            ("c.py", "x\ny\nq\nx\ny\n"),
        ]);
        let files = apply_edits(&src, &[edit("a.py", "a = 1\n", "a = 9\n")]).unwrap();
        assert_eq!(after(&files, "a.py"), "a = 9\na = 1\nb = 2\na = 9\n");
        let files = apply_edits(&src, &[edit("b.py", "x\ny\n", "w\n")]).unwrap();
        assert_eq!(after(&files, "b.py"), "w\nx\ny\nw\nz\n");
        let files = apply_edits(&src, &[edit("c.py", "x\ny\n", "w\n")]).unwrap();
        assert_eq!(after(&files, "c.py"), "w\nq\nw\n");
    }

    #[test]
    fn exact_lines_win_over_trailing_whitespace_matches() {
        let src = MapSource::new(&[("m.py", "x = 1  \ny = 2\nx = 1\n")]);
        let files = apply_edits(&src, &[edit("m.py", "x = 1\n", "x = 3\n")]).unwrap();
        assert_eq!(after(&files, "m.py"), "x = 1  \ny = 2\nx = 3\n");
    }

    #[test]
    fn sequential_edits_see_earlier_edits() {
        let src = MapSource::new(&[("m.py", CODE)]);
        let edits = [
            edit(
                "m.py",
                "def f(x):\n    return x + 1\n",
                "def f(x):\n    return x + 2\n",
            ),
            // Only f's line reads `+ 2` now.
            edit("m.py", "    return x + 2\n", "    return x * 2\n"),
        ];
        let files = apply_edits(&src, &edits).unwrap();
        assert_eq!(
            after(&files, "m.py"),
            "def f(x):\n    return x * 2\n\n\ndef g(x):\n    return x + 1\n"
        );
    }

    #[test]
    fn search_not_found() {
        let src = MapSource::new(&[("m.py", CODE)]);
        let err = apply_edits(&src, &[edit("m.py", "return y\n", "return z\n")]).unwrap_err();
        assert_eq!(
            err,
            EditError::SearchNotFound {
                path: "m.py".into()
            }
        );
        assert_eq!(err.to_string(), "SEARCH text not found in m.py");
        // Indentation is code: a SEARCH with different leading whitespace does not match.
        let err = apply_edits(
            &src,
            &[edit("m.py", "        return x + 1\n", "        return x\n")],
        );
        assert_eq!(
            err,
            Err(EditError::SearchNotFound {
                path: "m.py".into()
            })
        );
    }

    #[test]
    fn search_matches_at_line_starts_only() {
        // `    return x` is the tail of the deeper `        return x`: matching there would edit
        // the method's line with text meant for a line that does not exist.
        let code = "class A:\n    def f(self, x):\n        return x\n";
        let src = MapSource::new(&[("a.py", code)]);
        let err = apply_edits(
            &src,
            &[edit("a.py", "    return x\n", "    return x + 1\n")],
        );
        assert_eq!(
            err,
            Err(EditError::SearchNotFound {
                path: "a.py".into()
            })
        );
    }

    #[test]
    fn trailing_whitespace_is_tolerated() {
        let src = MapSource::new(&[("m.py", "a = 1   \nb = 2\t\nc = 3\n")]);
        let files =
            apply_edits(&src, &[edit("m.py", "a = 1\nb = 2\n", "a = 10\nb = 20\n")]).unwrap();
        assert_eq!(after(&files, "m.py"), "a = 10\nb = 20\nc = 3\n");
        // SEARCH with trailing spaces the file does not have.
        let files = apply_edits(&src, &[edit("m.py", "c = 3  \n", "c = 30\n")]).unwrap();
        assert_eq!(after(&files, "m.py"), "a = 1   \nb = 2\t\nc = 30\n");
    }

    #[test]
    fn crlf_files_keep_their_line_endings() {
        let src = MapSource::new(&[("w.py", "a = 1\r\nb = 2\r\nc = 3\r\n")]);
        let files = apply_edits(&src, &[edit("w.py", "b = 2\n", "b = 20\nb2 = 21\n")]).unwrap();
        assert_eq!(
            after(&files, "w.py"),
            "a = 1\r\nb = 20\r\nb2 = 21\r\nc = 3\r\n"
        );
    }

    #[test]
    fn search_without_final_newline_matches_inside_the_line() {
        let src = MapSource::new(&[("m.py", "a = 1  \nb = 2\n")]);
        let files = apply_edits(&src, &[edit("m.py", "a = 1", "a = 5")]).unwrap();
        assert_eq!(after(&files, "m.py"), "a = 5  \nb = 2\n");
    }

    #[test]
    fn noop_block_is_an_error() {
        let src = MapSource::new(&[("m.py", CODE)]);
        let err = apply_edits(&src, &[edit("m.py", "def f(x):\n", "def f(x):\n")]);
        assert_eq!(
            err,
            Err(EditError::NoOp {
                path: "m.py".into()
            })
        );
    }

    #[test]
    fn empty_search_creates_a_missing_file() {
        let src = MapSource::new(&[("m.py", CODE)]);
        let files = apply_edits(
            &src,
            &[
                edit("pkg/new.py", "", "X = 1\n"),
                edit("m.py", "def g(x):\n", "def g(y):\n"),
            ],
        )
        .unwrap();
        let paths: Vec<&str> = files.changes.iter().map(|c| c.path.as_str()).collect();
        assert_eq!(paths, ["m.py", "pkg/new.py"]);
        assert_eq!(files.changes[1].before, None);
        assert_eq!(files.changes[1].after, "X = 1\n");
    }

    #[test]
    fn created_file_can_be_edited_again() {
        let src = MapSource::new(&[]);
        let files = apply_edits(
            &src,
            &[
                edit("n.py", "", "X = 1\n"),
                edit("n.py", "X = 1\n", "X = 2\n"),
            ],
        )
        .unwrap();
        assert_eq!(after(&files, "n.py"), "X = 2\n");
    }

    #[test]
    fn empty_search_on_an_existing_file_is_ambiguous() {
        let src = MapSource::new(&[("m.py", CODE)]);
        let err = apply_edits(&src, &[edit("m.py", "", "import os\n")]);
        assert_eq!(
            err,
            Err(EditError::EmptySearchOnExistingFile {
                path: "m.py".into()
            })
        );
    }

    #[test]
    fn search_in_a_missing_file() {
        let src = MapSource::new(&[]);
        let err = apply_edits(&src, &[edit("nope.py", "x\n", "y\n")]);
        assert_eq!(
            err,
            Err(EditError::MissingFile {
                path: "nope.py".into()
            })
        );
    }

    #[test]
    fn unsafe_paths_are_refused() {
        let src = MapSource::new(&[("m.py", CODE)]);
        for path in ["../outside.py", "/etc/passwd", "a/../../b.py"] {
            match apply_edits(&src, &[edit(path, "", "x = 1\n")]) {
                Err(EditError::UnsafePath {
                    path: refused,
                    reason,
                }) => {
                    assert_eq!(refused, path);
                    assert!(!reason.is_empty());
                }
                other => panic!("{path}: {other:?}"),
            }
        }
    }

    #[test]
    fn paths_are_resolved_before_use() {
        let src = MapSource::new(&[("m.py", CODE)]);
        let files = apply_edits(&src, &[edit("./m.py", "def f(x):\n", "def f(y):\n")]).unwrap();
        assert_eq!(files.changes[0].path, "m.py");
    }

    #[test]
    fn python_syntax_break_is_rejected() {
        let src = MapSource::new(&[("m.py", CODE)]);
        let err = apply_edits(&src, &[edit("m.py", "def f(x):\n", "def f(x:\n")]);
        assert_eq!(
            err,
            Err(EditError::Syntax {
                path: "m.py".into(),
                language: "Python"
            })
        );
        // An indentation break is a syntax break too.
        let err = apply_edits(
            &src,
            &[edit(
                "m.py",
                "    return x + 1\n",
                "    y = x\n  return y\n",
            )],
        );
        assert_eq!(
            err,
            Err(EditError::Syntax {
                path: "m.py".into(),
                language: "Python"
            })
        );
        let err = apply_edits(&src, &[edit("new.py", "", "def broken(:\n")]);
        assert_eq!(
            err,
            Err(EditError::Syntax {
                path: "new.py".into(),
                language: "Python"
            })
        );
    }

    #[test]
    fn pre_broken_python_is_not_rejected() {
        let broken = "def f(x:\n    return x + 1\n";
        let src = MapSource::new(&[("m.py", broken)]);
        let files = apply_edits(
            &src,
            &[edit("m.py", "    return x + 1\n", "    return x + 2\n")],
        )
        .unwrap();
        assert_eq!(after(&files, "m.py"), "def f(x:\n    return x + 2\n");
    }

    #[test]
    fn non_python_files_are_not_syntax_checked() {
        let src = MapSource::new(&[("notes.txt", "a\n")]);
        let files = apply_edits(&src, &[edit("notes.txt", "a\n", "def f(:\n")]).unwrap();
        assert_eq!(after(&files, "notes.txt"), "def f(:\n");
    }

    #[test]
    fn blank_lines_only_is_rejected() {
        let src = MapSource::new(&[("m.py", CODE), ("n.py", "x = 1\n")]);
        let edits = [
            edit("m.py", "def f(x):\n", "\ndef f(x):\n"),
            edit("m.py", "\n\ndef g(x):\n", "\ndef g(x):\n"),
            edit("n.py", "x = 1\n", "x = 1\n\n   \n"),
        ];
        assert_eq!(apply_edits(&src, &edits), Err(EditError::BlankLinesOnly));
        // The same with one real change somewhere is fine.
        let mut edits = edits.to_vec();
        edits.push(edit("n.py", "x = 1\n", "x = 2\n"));
        assert!(apply_edits(&src, &edits).is_ok());
    }

    #[test]
    fn unchanged_files_are_dropped_and_no_change_is_an_error() {
        let src = MapSource::new(&[("m.py", CODE), ("n.py", "x = 1\n")]);
        let edits = [
            edit("n.py", "x = 1\n", "x = 2\n"),
            edit("n.py", "x = 2\n", "x = 1\n"),
            edit("m.py", "def g(x):\n", "def g(y):\n"),
        ];
        let files = apply_edits(&src, &edits).unwrap();
        assert_eq!(files.changes.len(), 1);
        assert_eq!(files.changes[0].path, "m.py");
        assert_eq!(apply_edits(&src, &edits[..2]), Err(EditError::NoChange));
    }

    #[test]
    fn parsed_answer_end_to_end() {
        let answer = "<think>### m.py\n<<<<<<< SEARCH\nnothing\n=======\nx\n>>>>>>> REPLACE\n</think>\n```python\n### m.py\n<<<<<<< SEARCH\ndef g(x):\n    return x + 1\n=======\ndef g(x):\n    return x - 1\n>>>>>>> REPLACE\n```\n";
        let src = MapSource::new(&[("m.py", CODE)]);
        let edits = crate::edits::parse_search_replace(answer);
        let files = apply_edits(&src, &edits).unwrap();
        assert!(after(&files, "m.py").ends_with("def g(x):\n    return x - 1\n"));
    }
}
