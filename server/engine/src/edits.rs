//! SEARCH/REPLACE blocks as the model writes them.

/// One `### path` + `<<<<<<< SEARCH` / `=======` / `>>>>>>> REPLACE` block.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SearchReplace {
    /// The path exactly as the model wrote it (not yet checked against the repo).
    pub path: String,
    pub search: String,
    pub replace: String,
}

const SEARCH: &str = "<<<<<<< SEARCH";
const DIVIDER: &str = "=======";
const REPLACE: &str = ">>>>>>> REPLACE";

/// Finds the SEARCH/REPLACE blocks in raw model output, in the order written.
///
/// Only the text after the last `</think>` counts: a reasoning model drafts blocks in its
/// thinking that it then revises; output cut off inside `<think>` has no answer at all.
/// The path is the `### path` line before `<<<<<<< SEARCH` (blank lines and code fence lines
/// between them are allowed); a block without one reuses the previous block's path, as
/// Agentless writes several blocks for one file under one heading. Blocks that have no path at
/// all, or that never reach `>>>>>>> REPLACE`, are skipped. Line endings are read as `\n`
/// whether the model wrote `\n` or `\r\n`.
pub fn parse_search_replace(text: &str) -> Vec<SearchReplace> {
    let answer = match text.rfind("</think>") {
        Some(at) => &text[at + "</think>".len()..],
        None => text,
    };
    if answer.contains("<think>") {
        // The output stopped while the model was still thinking (a length cut-off): whatever
        // blocks it holds are drafts, not an answer.
        return Vec::new();
    }
    let lines: Vec<&str> = answer
        .split('\n')
        .map(|line| line.strip_suffix('\r').unwrap_or(line))
        .collect();

    let mut edits = Vec::new();
    let mut path: Option<String> = None;
    // Lines before this index belong to an earlier block and cannot name the next one's path.
    let mut scan_from = 0;
    let mut i = 0;
    while i < lines.len() {
        if !is_marker(lines[i], SEARCH) {
            i += 1;
            continue;
        }
        if let Some(named) = path_before(&lines[scan_from..i]) {
            path = Some(named);
        }
        match read_block(&lines, i + 1) {
            Block::Complete {
                search,
                replace,
                next,
            } => {
                if let Some(path) = &path {
                    edits.push(SearchReplace {
                        path: path.clone(),
                        search,
                        replace,
                    });
                }
                i = next;
                scan_from = next;
            }
            Block::Broken { next, interrupted } => {
                // The path line of the block that interrupted this one sits inside its body.
                scan_from = if interrupted { i + 1 } else { next };
                i = next;
            }
        }
    }
    edits
}

enum Block {
    Complete {
        search: String,
        replace: String,
        next: usize,
    },
    /// Malformed; parsing resumes at `next`. `interrupted`: a new SEARCH marker at `next` came
    /// before this block ended.
    Broken { next: usize, interrupted: bool },
}

/// Reads a block body starting just after its SEARCH marker.
fn read_block(lines: &[&str], start: usize) -> Block {
    let mut divider = None;
    for (at, line) in lines.iter().enumerate().skip(start) {
        if is_marker(line, SEARCH) {
            // A new block began before this one ended: drop this one, start over there.
            return Block::Broken {
                next: at,
                interrupted: true,
            };
        }
        match divider {
            None if is_marker(line, DIVIDER) => divider = Some(at),
            None if is_marker(line, REPLACE) => {
                return Block::Broken {
                    next: at + 1,
                    interrupted: false,
                }
            }
            Some(div) if is_marker(line, REPLACE) => {
                return Block::Complete {
                    search: join_lines(&lines[start..div]),
                    replace: join_lines(&lines[div + 1..at]),
                    next: at + 1,
                }
            }
            _ => {}
        }
    }
    Block::Broken {
        next: lines.len(),
        interrupted: false,
    }
}

fn is_marker(line: &str, marker: &str) -> bool {
    line.trim_end() == marker
}

fn join_lines(lines: &[&str]) -> String {
    let mut text = String::new();
    for line in lines {
        text.push_str(line);
        text.push('\n');
    }
    text
}

/// The path named by the last `### path` line of `lines`, if nothing but blank lines and code
/// fences follow it.
fn path_before(lines: &[&str]) -> Option<String> {
    for line in lines.iter().rev() {
        let line = line.trim();
        if line.is_empty() || line.starts_with("```") {
            continue;
        }
        return line.strip_prefix("###").and_then(clean_path);
    }
    None
}

fn clean_path(raw: &str) -> Option<String> {
    let mut path = raw.trim();
    path = path.trim_matches('`').trim();
    while let Some(rest) = path.strip_prefix("./") {
        path = rest;
    }
    (!path.is_empty() && !path.contains(char::is_whitespace)).then(|| path.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edit(path: &str, search: &str, replace: &str) -> SearchReplace {
        SearchReplace {
            path: path.into(),
            search: search.into(),
            replace: replace.into(),
        }
    }

    #[test]
    fn two_blocks_two_files() {
        let text = "Here is the fix.\n\n```python\n### src/a.py\n<<<<<<< SEARCH\nx = 1\n=======\nx = 2\n>>>>>>> REPLACE\n```\n\nAnd:\n\n```python\n### lib/b.py\n<<<<<<< SEARCH\ndef f():\n    pass\n=======\ndef f():\n    return 1\n>>>>>>> REPLACE\n```\n";
        assert_eq!(
            parse_search_replace(text),
            vec![
                edit("src/a.py", "x = 1\n", "x = 2\n"),
                edit(
                    "lib/b.py",
                    "def f():\n    pass\n",
                    "def f():\n    return 1\n"
                ),
            ]
        );
    }

    #[test]
    fn block_without_path_inherits_previous_path() {
        let text = "```python\n### a.py\n<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE\n<<<<<<< SEARCH\nc\n=======\nd\n>>>>>>> REPLACE\n```\n";
        assert_eq!(
            parse_search_replace(text),
            vec![edit("a.py", "a\n", "b\n"), edit("a.py", "c\n", "d\n")]
        );
    }

    #[test]
    fn block_without_any_path_is_skipped() {
        let text = "<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE\n### a.py\n<<<<<<< SEARCH\nc\n=======\nd\n>>>>>>> REPLACE\n";
        assert_eq!(parse_search_replace(text), vec![edit("a.py", "c\n", "d\n")]);
    }

    #[test]
    fn prose_heading_far_from_block_is_not_a_path() {
        let text = "### a.py\n<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE\n### Explanation\nThe next block fixes more.\n<<<<<<< SEARCH\nc\n=======\nd\n>>>>>>> REPLACE\n";
        assert_eq!(
            parse_search_replace(text),
            vec![edit("a.py", "a\n", "b\n"), edit("a.py", "c\n", "d\n")]
        );
    }

    #[test]
    fn only_text_after_last_think_counts() {
        let text = "<think>\nMaybe:\n### a.py\n<<<<<<< SEARCH\nwrong\n=======\nidea\n>>>>>>> REPLACE\n</think>\nOK.\n<think>more</think>\n```python\n### b.py\n<<<<<<< SEARCH\nold\n=======\nnew\n>>>>>>> REPLACE\n```";
        assert_eq!(
            parse_search_replace(text),
            vec![edit("b.py", "old\n", "new\n")]
        );
    }

    #[test]
    fn crlf_and_trailing_spaces_on_markers() {
        let text = "```python\r\n### a.py \r\n<<<<<<< SEARCH  \r\nx = 1\r\n======= \r\nx = 2\r\n>>>>>>> REPLACE\t\r\n```\r\n";
        assert_eq!(
            parse_search_replace(text),
            vec![edit("a.py", "x = 1\n", "x = 2\n")]
        );
    }

    #[test]
    fn unfenced_and_other_language_fences() {
        let unfenced = "### a.py\n<<<<<<< SEARCH\nx\n=======\ny\n>>>>>>> REPLACE";
        assert_eq!(
            parse_search_replace(unfenced),
            vec![edit("a.py", "x\n", "y\n")]
        );
        let rust = "```rust\n### src/lib.rs\n<<<<<<< SEARCH\nfn a() {}\n=======\nfn b() {}\n>>>>>>> REPLACE\n```";
        assert_eq!(
            parse_search_replace(rust),
            vec![edit("src/lib.rs", "fn a() {}\n", "fn b() {}\n")]
        );
    }

    #[test]
    fn path_line_before_fence_and_decorated_paths() {
        let text = "### `./pkg/mod.py`\n\n```python\n<<<<<<< SEARCH\nx\n=======\ny\n>>>>>>> REPLACE\n```\n### ./other.py\n<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE\n";
        assert_eq!(
            parse_search_replace(text),
            vec![
                edit("pkg/mod.py", "x\n", "y\n"),
                edit("other.py", "a\n", "b\n")
            ]
        );
    }

    #[test]
    fn empty_sections_and_exact_lines() {
        let text = "### new.py\n<<<<<<< SEARCH\n=======\n    indented  \n\nlast\n>>>>>>> REPLACE\n### a.py\n<<<<<<< SEARCH\nremove me\n=======\n>>>>>>> REPLACE\n";
        assert_eq!(
            parse_search_replace(text),
            vec![
                edit("new.py", "", "    indented  \n\nlast\n"),
                edit("a.py", "remove me\n", ""),
            ]
        );
    }

    #[test]
    fn divider_inside_replace_is_content() {
        let text =
            "### README.rst\n<<<<<<< SEARCH\nTitle\n=======\nTitle\n=======\n>>>>>>> REPLACE\n";
        assert_eq!(
            parse_search_replace(text),
            vec![edit("README.rst", "Title\n", "Title\n=======\n")]
        );
    }

    #[test]
    fn malformed_blocks_are_skipped() {
        // No divider, then an unterminated block after a good one.
        let text = "### a.py\n<<<<<<< SEARCH\nx\n>>>>>>> REPLACE\n### b.py\n<<<<<<< SEARCH\n1\n=======\n2\n>>>>>>> REPLACE\n### c.py\n<<<<<<< SEARCH\nq\n=======\nr\n";
        assert_eq!(parse_search_replace(text), vec![edit("b.py", "1\n", "2\n")]);
        // A block cut short by the next SEARCH marker.
        let text = "### a.py\n<<<<<<< SEARCH\nx\n### b.py\n<<<<<<< SEARCH\n1\n=======\n2\n>>>>>>> REPLACE\n";
        assert_eq!(parse_search_replace(text), vec![edit("b.py", "1\n", "2\n")]);
    }

    #[test]
    fn garbage_gives_nothing() {
        assert!(parse_search_replace("").is_empty());
        assert!(parse_search_replace("I could not find the bug, sorry.").is_empty());
        assert!(parse_search_replace("=======\n>>>>>>> REPLACE\n<<<<<<<").is_empty());
        assert!(parse_search_replace("</think>").is_empty());
    }

    #[test]
    fn unfinished_thinking_gives_nothing() {
        let text = "<think>\n### a.py\n<<<<<<< SEARCH\nx\n=======\ny\n>>>>>>> REPLACE\nhmm, but";
        assert!(parse_search_replace(text).is_empty());
        let text = format!("<think>a</think>ok<think>\n{}", &text[8..]);
        assert!(parse_search_replace(&text).is_empty());
    }
}
