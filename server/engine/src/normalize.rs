//! The normalized key of a candidate (DESIGN 3.3): two patches that differ only in formatting,
//! comments or docstrings get the same key.

use similar::{Algorithm, DiffTag};

use super::apply::{FileChange, PatchedFiles};
use super::python_syntax;

/// Starts the key of a patch whose every change vanishes under normalization (a comment or
/// docstring fix). It is still a valid candidate and the empty key means "no valid patch" to
/// selection, so such a patch is keyed on its exact changed lines instead. A resolved path is
/// repo-relative, so no per-file heading of a normal key can start with `/`.
const FORMATTING_ONLY: &str = "/formatting-only\n";

/// Unchanged lines kept around each hunk of a key, as many as `git diff` shows.
const CONTEXT: usize = 3;

/// The key of a patch: for each file whose normalized text changes, in path order, a line with
/// the path, then its hunks (separated by `@@`): `-line` removed, `+line` added, ` line` for up
/// to [`CONTEXT`] unchanged normalized lines around them. No line numbers, so lines added or
/// removed far away do not change the key; the context is what tells the same edit made in two
/// places apart (two functions that share a line), as the `git diff` context of Agentless's
/// normalized patches does.
pub fn normalized_key(files: &PatchedFiles) -> String {
    let mut changes: Vec<&FileChange> = files.changes.iter().collect();
    changes.sort_by(|a, b| a.path.cmp(&b.path));

    let mut key = String::new();
    for change in &changes {
        let before = normalize(&change.path, change.before.as_deref().unwrap_or(""));
        let after = normalize(&change.path, &change.after);
        push_changed_lines(&mut key, &change.path, &before, &after);
    }
    if key.is_empty() {
        key.push_str(FORMATTING_ONLY);
        for change in &changes {
            let before = exact_lines(change.before.as_deref().unwrap_or(""));
            let after = exact_lines(&change.after);
            push_changed_lines(&mut key, &change.path, &before, &after);
        }
    }
    key
}

/// The normalized lines of one file: Python re-printed from its tokens, other text (and Python
/// that does not parse) with whitespace runs folded and blank lines dropped.
fn normalize(path: &str, text: &str) -> Vec<String> {
    let is_python = path.ends_with(".py") || path.ends_with(".pyi");
    if is_python {
        if let Some(lines) = python_syntax::normalized_lines(text) {
            return lines;
        }
    }
    text.lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|line| !line.is_empty())
        .collect()
}

fn exact_lines(text: &str) -> Vec<String> {
    text.split_inclusive('\n')
        .map(|line| line.strip_suffix('\n').unwrap_or(line).to_string())
        .collect()
}

fn push_changed_lines(key: &mut String, path: &str, before: &[String], after: &[String]) {
    let ops = similar::capture_diff_slices(Algorithm::Myers, before, after);
    // Without a change there is no hunk, and the file is left out of the key.
    let hunks = similar::group_diff_ops(ops, CONTEXT);
    if hunks.is_empty() {
        return;
    }
    key.push_str(path);
    key.push('\n');
    for (index, hunk) in hunks.into_iter().enumerate() {
        if index > 0 {
            key.push_str("@@\n");
        }
        for op in hunk {
            let (tag, old, new) = op.as_tag_tuple();
            let (kept, removed, added) = match tag {
                DiffTag::Equal => (&before[old], &[][..], &[][..]),
                DiffTag::Delete => (&[][..], &before[old], &[][..]),
                DiffTag::Insert => (&[][..], &[][..], &after[new]),
                DiffTag::Replace => (&[][..], &before[old], &after[new]),
            };
            for (sign, line) in kept
                .iter()
                .map(|line| (' ', line))
                .chain(removed.iter().map(|line| ('-', line)))
                .chain(added.iter().map(|line| ('+', line)))
            {
                key.push(sign);
                key.push_str(line);
                key.push('\n');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn one(path: &str, before: Option<&str>, after: &str) -> PatchedFiles {
        PatchedFiles {
            changes: vec![FileChange {
                path: path.into(),
                before: before.map(Arc::from),
                after: after.into(),
            }],
        }
    }

    const ORIGINAL: &str = "\
\"\"\"Module doc.\"\"\"


def area(w, h):
    \"\"\"Area of a rectangle.\"\"\"
    return w + h


def other():
    return 0
";

    fn patched(body: &str) -> PatchedFiles {
        let after = ORIGINAL.replace("    return w + h\n", body);
        one("geo.py", Some(ORIGINAL), &after)
    }

    #[test]
    fn key_lists_changed_normalized_lines_and_their_context() {
        let key = normalized_key(&patched("    return w * h\n"));
        assert_eq!(
            key,
            "geo.py\n def area ( w , h ) :\n-    return w + h\n+    return w * h\n def other ( ) :\n     return 0\n"
        );
    }

    #[test]
    fn formatting_and_comments_do_not_change_the_key() {
        let base = normalized_key(&patched("    return w * h\n"));
        for variant in [
            "    return w*h\n",
            "    return   w  *  h   # fixed\n",
            "    # multiply, do not add\n    return w * h\n",
            "    return w \\\n        * h\n",
        ] {
            assert_eq!(normalized_key(&patched(variant)), base, "{variant:?}");
        }
    }

    #[test]
    fn wrapping_a_call_does_not_change_the_key() {
        let base = normalized_key(&patched("    return mul(w, h)\n"));
        let wrapped = normalized_key(&patched("    return mul(\n        w,\n        h\n    )\n"));
        assert_eq!(wrapped, base);
    }

    #[test]
    fn docstring_changes_do_not_change_the_key() {
        let base = normalized_key(&patched("    return w * h\n"));
        let with_doc = patched("    return w * h\n");
        let mut files = with_doc.clone();
        files.changes[0].after = files.changes[0]
            .after
            .replace("Area of a rectangle.", "Area of a rectangle (w times h).")
            .replace("Module doc.", "Geometry helpers.");
        assert_eq!(normalized_key(&files), base);
    }

    #[test]
    fn real_changes_change_the_key() {
        let base = normalized_key(&patched("    return w * h\n"));
        for variant in [
            "    return h * w\n",
            "    return w * h * 1\n",
            "    return 'w * h'\n",
            "    if w:\n        return w * h\n    return 0\n",
        ] {
            assert_ne!(normalized_key(&patched(variant)), base, "{variant:?}");
        }
        let inside = patched("    if w:\n        x = 1\n        return x\n    return 0\n");
        let outside = patched("    if w:\n        x = 1\n    return x\n    return 0\n");
        assert_ne!(normalized_key(&inside), normalized_key(&outside));
    }

    #[test]
    fn the_same_edit_in_two_places_gives_two_keys() {
        // Two functions share a line; fixing one is not fixing the other, and merging them would
        // give one patch the other's votes and verdict.
        let before = "def f(x):\n    return x + 1\n\n\ndef g(x):\n    return x + 1\n";
        let in_f = before.replacen("return x + 1", "return x + 2", 1);
        let in_g = "def f(x):\n    return x + 1\n\n\ndef g(x):\n    return x + 2\n";
        assert_ne!(
            normalized_key(&one("m.py", Some(before), &in_f)),
            normalized_key(&one("m.py", Some(before), in_g))
        );
    }

    #[test]
    fn key_does_not_depend_on_unrelated_positions() {
        let fix = |prefix: &str| {
            let before = format!("{prefix}def f():\n    return 1\n");
            let after = format!("{prefix}def f():\n    return 2\n");
            normalized_key(&one("m.py", Some(&before), &after))
        };
        // Beyond the context: the lines before the hunk's context changed, not the hunk.
        let far = "import os\nimport sys\nimport re\n\n\nX = 1\nY = 2\nZ = 3\n\n\n";
        let near = "A = 0\nB = 0\nC = 0\n";
        assert_eq!(fix(near), fix(&format!("{far}{near}")));
    }

    #[test]
    fn files_whose_change_is_only_formatting_are_left_out() {
        let mut files = patched("    return w * h\n");
        files.changes.push(FileChange {
            path: "z_util.py".into(),
            before: Some(Arc::from("x = 1\n")),
            after: "x = 1  # tidy\n".into(),
        });
        assert_eq!(
            normalized_key(&files),
            normalized_key(&patched("    return w * h\n"))
        );
    }

    #[test]
    fn files_are_keyed_in_path_order() {
        let a = FileChange {
            path: "a.py".into(),
            before: Some(Arc::from("x = 1\n")),
            after: "x = 2\n".into(),
        };
        let b = FileChange {
            path: "b.py".into(),
            before: Some(Arc::from("y = 1\n")),
            after: "y = 2\n".into(),
        };
        let forward = PatchedFiles {
            changes: vec![a.clone(), b.clone()],
        };
        let backward = PatchedFiles {
            changes: vec![b, a],
        };
        assert_eq!(normalized_key(&forward), normalized_key(&backward));
        assert_eq!(
            normalized_key(&forward),
            "a.py\n-x = 1\n+x = 2\nb.py\n-y = 1\n+y = 2\n"
        );
    }

    #[test]
    fn non_python_files_fold_whitespace() {
        let a = normalized_key(&one(
            "README.md",
            Some("Hello world\n"),
            "Hello  big world\n",
        ));
        let b = normalized_key(&one(
            "README.md",
            Some("Hello world\n"),
            "\n  Hello big\tworld  \n\n",
        ));
        assert_eq!(a, b);
        assert_eq!(a, "README.md\n-Hello world\n+Hello big world\n");
    }

    #[test]
    fn unparsable_python_falls_back_to_whitespace_folding() {
        let key = normalized_key(&one("bad.py", Some("def f(:\n"), "def  f(:\n  x\n"));
        assert_eq!(key, "bad.py\n def f(:\n+x\n");
    }

    #[test]
    fn new_file_key() {
        let key = normalized_key(&one("new.py", None, "def f():\n    return 1\n"));
        assert_eq!(key, "new.py\n+def f ( ) :\n+    return 1\n");
    }

    #[test]
    fn formatting_only_patch_still_has_a_distinct_key() {
        let doc_fix = |doc: &str| {
            normalized_key(&one(
                "m.py",
                Some("def f():\n    \"\"\"Retrun one.\"\"\"\n    return 1\n"),
                &format!("def f():\n    \"\"\"{doc}\"\"\"\n    return 1\n"),
            ))
        };
        let key = doc_fix("Return one.");
        assert!(!key.is_empty());
        assert!(key.starts_with(FORMATTING_ONLY));
        assert_ne!(key, doc_fix("Returns 1."));
        assert_eq!(key, doc_fix("Return one."));
    }

    #[test]
    fn keys_are_deterministic() {
        let files = patched("    return w * h\n");
        let first = normalized_key(&files);
        for _ in 0..5 {
            assert_eq!(normalized_key(&files), first);
        }
    }
}
