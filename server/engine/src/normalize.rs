//! The normalized key of a candidate (DESIGN 3.3): two patches that differ only in formatting,
//! comments or docstrings get the same key.

use similar::{Algorithm, DiffTag};

use std::collections::HashMap;

use super::added_functions::only_adds_functions;
use super::apply::{EditError, FileChange, PatchedFiles};
use super::languages::language_for;
use super::syntax;

/// Unchanged lines kept around each hunk of a key, as many as `git diff` shows.
const CONTEXT: usize = 3;

/// The key of a patch: for each file whose normalized text changes, in path order, a line with
/// the path, then its hunks (separated by `@@`): `-line` removed, `+line` added, ` line` for up
/// to [`CONTEXT`] unchanged normalized lines around them. No line numbers, so lines added or
/// removed far away do not change the key; the context is what tells the same edit made in two
/// places apart (two functions that share a line), as the `git diff` context of Agentless's
/// normalized patches does.
///
/// A file in a language Swiss parses ([`crate::languages`]) is re-printed from its syntax tree;
/// other text has its whitespace runs folded.
///
/// A parsed file whose change only adds functions is keyed by its `-`/`+` lines alone, with
/// neither context nor `@@`, as SWE-Swiss's `normalize_patch` keeps only the lines of such a
/// diff that start with `-` or `+` (`evaluation/agentless/util/postprocess_data.py`): the same
/// new function put in two places is one candidate.
///
/// A patch whose every change vanishes under normalization (comments, docstrings, formatting)
/// has an empty key there, and an empty key never competes in `rerank.py`; here it is the
/// error [`EditError::CommentsOrFormattingOnly`], so the sample counts as invalid with that
/// reason.
pub fn normalized_key(files: &PatchedFiles) -> Result<String, EditError> {
    let mut changes: Vec<&FileChange> = files.changes.iter().collect();
    changes.sort_by(|a, b| a.path.cmp(&b.path));

    let mut key = String::new();
    for change in &changes {
        let before = normalize(&change.path, change.before.as_deref().unwrap_or(""));
        let after = normalize(&change.path, &change.after);
        let shape = match (&before.functions, &after.functions) {
            (Some(old), Some(new)) if only_adds_functions(old, new) => Shape::ChangedLinesOnly,
            _ => Shape::Hunks,
        };
        push_changed_lines(&mut key, &change.path, &before.lines, &after.lines, shape);
    }
    if key.is_empty() {
        return Err(EditError::CommentsOrFormattingOnly);
    }
    Ok(key)
}

/// How one file's changes are written into the key.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// Hunks with [`CONTEXT`] lines, separated by `@@`.
    Hunks,
    /// Only the removed and added lines.
    ChangedLinesOnly,
}

struct Normalized {
    lines: Vec<String>,
    /// The file's functions when it was re-printed from its syntax tree, not folded as text.
    functions: Option<HashMap<String, String>>,
}

/// The normalized lines of one file: code re-printed from its tokens, other text (and code
/// that does not parse) with whitespace runs folded and blank lines dropped.
fn normalize(path: &str, text: &str) -> Normalized {
    if let Some(code) = language_for(path).and_then(|language| syntax::normalized(language, text)) {
        return Normalized {
            lines: code.lines,
            functions: Some(code.functions),
        };
    }
    let lines = text
        .lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|line| !line.is_empty())
        .collect();
    Normalized {
        lines,
        functions: None,
    }
}

fn push_changed_lines(
    key: &mut String,
    path: &str,
    before: &[String],
    after: &[String],
    shape: Shape,
) {
    let ops = similar::capture_diff_slices(Algorithm::Myers, before, after);
    let context = match shape {
        Shape::Hunks => CONTEXT,
        Shape::ChangedLinesOnly => 0,
    };
    // Without a change there is no hunk, and the file is left out of the key.
    let hunks = similar::group_diff_ops(ops, context);
    if hunks.is_empty() {
        return;
    }
    key.push_str(path);
    key.push('\n');
    for (index, hunk) in hunks.into_iter().enumerate() {
        if index > 0 && shape == Shape::Hunks {
            key.push_str("@@\n");
        }
        for op in hunk {
            let (tag, old, new) = op.as_tag_tuple();
            let (kept, removed, added) = match tag {
                DiffTag::Equal if shape == Shape::ChangedLinesOnly => (&[][..], &[][..], &[][..]),
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

    fn key_of(files: &PatchedFiles) -> String {
        normalized_key(files).expect("the patch has a non-empty key")
    }

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
        let key = key_of(&patched("    return w * h\n"));
        assert_eq!(
            key,
            "geo.py\n def area ( w , h ) :\n-    return w + h\n+    return w * h\n def other ( ) :\n     return 0\n"
        );
    }

    #[test]
    fn formatting_and_comments_do_not_change_the_key() {
        let base = key_of(&patched("    return w * h\n"));
        for variant in [
            "    return w*h\n",
            "    return   w  *  h   # fixed\n",
            "    # multiply, do not add\n    return w * h\n",
            "    return w \\\n        * h\n",
        ] {
            assert_eq!(key_of(&patched(variant)), base, "{variant:?}");
        }
    }

    #[test]
    fn wrapping_a_call_does_not_change_the_key() {
        let base = key_of(&patched("    return mul(w, h)\n"));
        let wrapped = key_of(&patched("    return mul(\n        w,\n        h\n    )\n"));
        assert_eq!(wrapped, base);
    }

    #[test]
    fn docstring_changes_do_not_change_the_key() {
        let base = key_of(&patched("    return w * h\n"));
        let with_doc = patched("    return w * h\n");
        let mut files = with_doc.clone();
        files.changes[0].after = files.changes[0]
            .after
            .replace("Area of a rectangle.", "Area of a rectangle (w times h).")
            .replace("Module doc.", "Geometry helpers.");
        assert_eq!(key_of(&files), base);
    }

    #[test]
    fn real_changes_change_the_key() {
        let base = key_of(&patched("    return w * h\n"));
        for variant in [
            "    return h * w\n",
            "    return w * h * 1\n",
            "    return 'w * h'\n",
            "    if w:\n        return w * h\n    return 0\n",
        ] {
            assert_ne!(key_of(&patched(variant)), base, "{variant:?}");
        }
        let inside = patched("    if w:\n        x = 1\n        return x\n    return 0\n");
        let outside = patched("    if w:\n        x = 1\n    return x\n    return 0\n");
        assert_ne!(key_of(&inside), key_of(&outside));
    }

    #[test]
    fn the_same_edit_in_two_places_gives_two_keys() {
        // Two functions share a line; fixing one is not fixing the other, and merging them would
        // give one patch the other's votes and verdict.
        let before = "def f(x):\n    return x + 1\n\n\ndef g(x):\n    return x + 1\n";
        let in_f = before.replacen("return x + 1", "return x + 2", 1);
        let in_g = "def f(x):\n    return x + 1\n\n\ndef g(x):\n    return x + 2\n";
        assert_ne!(
            key_of(&one("m.py", Some(before), &in_f)),
            key_of(&one("m.py", Some(before), in_g))
        );
    }

    #[test]
    fn key_does_not_depend_on_unrelated_positions() {
        let fix = |prefix: &str| {
            let before = format!("{prefix}def f():\n    return 1\n");
            let after = format!("{prefix}def f():\n    return 2\n");
            key_of(&one("m.py", Some(&before), &after))
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
        assert_eq!(key_of(&files), key_of(&patched("    return w * h\n")));
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
        assert_eq!(key_of(&forward), key_of(&backward));
        assert_eq!(
            key_of(&forward),
            "a.py\n-x = 1\n+x = 2\nb.py\n-y = 1\n+y = 2\n"
        );
    }

    #[test]
    fn non_python_files_fold_whitespace() {
        let a = key_of(&one(
            "README.md",
            Some("Hello world\n"),
            "Hello  big world\n",
        ));
        let b = key_of(&one(
            "README.md",
            Some("Hello world\n"),
            "\n  Hello big\tworld  \n\n",
        ));
        assert_eq!(a, b);
        assert_eq!(a, "README.md\n-Hello world\n+Hello big world\n");
    }

    #[test]
    fn unparsable_python_falls_back_to_whitespace_folding() {
        let key = key_of(&one("bad.py", Some("def f(:\n"), "def  f(:\n  x\n"));
        assert_eq!(key, "bad.py\n def f(:\n+x\n");
    }

    #[test]
    fn new_file_key() {
        let key = key_of(&one("new.py", None, "def f():\n    return 1\n"));
        assert_eq!(key, "new.py\n+def f ( ) :\n+    return 1\n");
    }

    #[test]
    fn comment_docstring_or_formatting_only_patch_has_no_key() {
        let before = "def f():\n    \"\"\"Retrun one.\"\"\"\n    return 1  # one\n";
        for after in [
            "def f():\n    \"\"\"Return one.\"\"\"\n    return 1  # one\n",
            "def f():\n    \"\"\"Retrun one.\"\"\"\n    return 1  # the number one\n",
            "def f():\n    \"\"\"Retrun one.\"\"\"\n\n    return  1\n",
        ] {
            let err = normalized_key(&one("m.py", Some(before), after)).unwrap_err();
            assert_eq!(err, EditError::CommentsOrFormattingOnly, "{after:?}");
        }
        assert_eq!(
            EditError::CommentsOrFormattingOnly.to_string(),
            "the patch only changes comments, docstrings or formatting (its normalized key is empty, so it cannot compete)"
        );
    }

    #[test]
    fn an_added_function_is_keyed_by_its_lines_alone() {
        let new_function = "def perimeter(w, h):\n    return 2 * (w + h)\n\n\n";
        // The same function after `area` or at the end: the reference keeps only the `-`/`+`
        // lines of such a diff, so both places give one key.
        let after_area = ORIGINAL.replace("def other", &format!("{new_function}def other"));
        let at_end = format!("{ORIGINAL}\n\n{new_function}");
        let key = key_of(&one("geo.py", Some(ORIGINAL), &after_area));
        assert_eq!(
            key,
            "geo.py\n+def perimeter ( w , h ) :\n+    return 2 * ( w + h )\n"
        );
        assert_eq!(key_of(&one("geo.py", Some(ORIGINAL), &at_end)), key);
        // Two new functions in two places and a new global: no `@@` between them either.
        let two = format!("{after_area}\n\nX = 1\n\n\ndef half(x):\n    return x / 2\n");
        let key = key_of(&one("geo.py", Some(ORIGINAL), &two));
        assert_eq!(
            key,
            "geo.py\n+def perimeter ( w , h ) :\n+    return 2 * ( w + h )\n+X = 1\n+def half ( x ) :\n+    return x / 2\n"
        );
    }

    #[test]
    fn a_changed_function_keeps_its_context_even_beside_a_new_one() {
        let changed = ORIGINAL
            .replace("    return w + h\n", "    return w * h\n")
            .replace("def other", "def extra():\n    return 1\n\n\ndef other");
        let key = key_of(&one("geo.py", Some(ORIGINAL), &changed));
        assert!(key.contains(" def area ( w , h ) :\n"), "{key}");
    }

    #[test]
    fn keys_are_deterministic() {
        let files = patched("    return w * h\n");
        let first = key_of(&files);
        for _ in 0..5 {
            assert_eq!(key_of(&files), first);
        }
    }
}
