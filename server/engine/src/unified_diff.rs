//! The `git diff`-style text of a candidate, accepted by `git apply` and `patch -p1`.

use std::fmt::Write;

use similar::{ChangeTag, TextDiff};

use super::apply::PatchedFiles;

/// Lines of unchanged context around each hunk, as `git diff` uses by default.
const CONTEXT: usize = 3;

/// A `git diff`-style patch of `files`, in their order (sorted by path).
pub fn unified_diff(files: &PatchedFiles) -> String {
    let mut out = String::new();
    for change in &files.changes {
        let before = change.before.as_deref();
        if before == Some(change.after.as_str()) {
            continue;
        }
        let a = quote_path("a/", &change.path);
        let b = quote_path("b/", &change.path);
        let _ = writeln!(out, "diff --git {a} {b}");
        if before.is_none() {
            out.push_str("new file mode 100644\n");
            if change.after.is_empty() {
                // git writes no ---/+++ lines for an empty new file, and `git apply` expects none.
                continue;
            }
        }
        let _ = writeln!(
            out,
            "--- {}",
            if before.is_some() { &a } else { "/dev/null" }
        );
        let _ = writeln!(out, "+++ {b}");
        write_hunks(&mut out, before.unwrap_or(""), &change.after);
    }
    out
}

fn write_hunks(out: &mut String, old: &str, new: &str) {
    let diff = TextDiff::from_lines(old, new);
    let mut udiff = diff.unified_diff();
    udiff.context_radius(CONTEXT);
    for hunk in udiff.iter_hunks() {
        let _ = writeln!(out, "{}", hunk.header());
        // similar's own hunk printer leaves out the "no newline" marker when neither side ends
        // in a newline, which makes git add one; print the lines here instead.
        for change in hunk.iter_changes() {
            let tag = match change.tag() {
                ChangeTag::Equal => ' ',
                ChangeTag::Delete => '-',
                ChangeTag::Insert => '+',
            };
            out.push(tag);
            out.push_str(change.value());
            if !change.value().ends_with('\n') {
                out.push_str("\n\\ No newline at end of file\n");
            }
        }
    }
}

/// A path as git prints it in headers: C-style quoted when it holds a quote, a backslash or a
/// control character, since such names would otherwise be misread.
fn quote_path(prefix: &str, path: &str) -> String {
    let needs_quotes = path
        .chars()
        .any(|c| c == '"' || c == '\\' || c.is_control());
    if !needs_quotes {
        return format!("{prefix}{path}");
    }
    let mut quoted = String::from("\"");
    quoted.push_str(prefix);
    for c in path.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            '\t' => quoted.push_str("\\t"),
            '\n' => quoted.push_str("\\n"),
            '\r' => quoted.push_str("\\r"),
            c if c.is_control() => {
                let mut buf = [0u8; 4];
                for byte in c.encode_utf8(&mut buf).bytes() {
                    let _ = write!(quoted, "\\{byte:03o}");
                }
            }
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::process::Command;
    use std::sync::Arc;

    use super::*;
    use crate::apply::FileChange;

    fn change(path: &str, before: Option<&str>, after: &str) -> FileChange {
        FileChange {
            path: path.into(),
            before: before.map(Arc::from),
            after: after.into(),
        }
    }

    fn git(dir: &Path, args: &[&str]) -> std::process::Output {
        Command::new("git")
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap_or_else(|e| {
                panic!("failed to run git ({e}): install it (on Debian or Ubuntu `apt-get install git`)")
            })
    }

    /// Writes the before files into a fresh repo, applies the patch with `git apply`, and checks
    /// every file ends up as `after`.
    fn assert_git_applies(files: &PatchedFiles) {
        let patch = unified_diff(files);
        let dir = tempfile::tempdir().unwrap();
        assert!(git(dir.path(), &["init", "-q"]).status.success());
        for change in &files.changes {
            if let Some(before) = &change.before {
                let path = dir.path().join(&change.path);
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(&path, before.as_bytes()).unwrap();
            }
        }
        std::fs::write(dir.path().join("fix.patch"), &patch).unwrap();
        let check = git(dir.path(), &["apply", "--check", "fix.patch"]);
        assert!(
            check.status.success(),
            "git apply --check failed: {}\n{patch}",
            String::from_utf8_lossy(&check.stderr)
        );
        let apply = git(dir.path(), &["apply", "fix.patch"]);
        assert!(apply.status.success(), "git apply failed\n{patch}");
        for change in &files.changes {
            let got = std::fs::read_to_string(dir.path().join(&change.path)).unwrap();
            assert_eq!(
                got, change.after,
                "{} after git apply\n{patch}",
                change.path
            );
        }
    }

    /// The same with `patch -p1`, which reads the headers differently from git.
    fn assert_patch_applies(files: &PatchedFiles) {
        let patch = unified_diff(files);
        let dir = tempfile::tempdir().unwrap();
        for change in &files.changes {
            if let Some(before) = &change.before {
                let path = dir.path().join(&change.path);
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(&path, before.as_bytes()).unwrap();
            }
        }
        std::fs::write(dir.path().join("fix.patch"), &patch).unwrap();
        let out = Command::new("patch")
            .args(["-p1", "--batch", "--forward", "-i", "fix.patch"])
            .current_dir(dir.path())
            .output()
            .expect("patch runs");
        assert!(
            out.status.success(),
            "patch -p1 failed: {}\n{patch}",
            String::from_utf8_lossy(&out.stdout)
        );
        for change in &files.changes {
            let got = std::fs::read_to_string(dir.path().join(&change.path)).unwrap();
            assert_eq!(
                got, change.after,
                "{} after patch -p1\n{patch}",
                change.path
            );
        }
    }

    fn long_file() -> String {
        (1..=40).map(|i| format!("line {i}\n")).collect()
    }

    #[test]
    fn format_of_a_simple_change() {
        let files = PatchedFiles {
            changes: vec![change("pkg/a.py", Some("x = 1\ny = 2\n"), "x = 1\ny = 3\n")],
        };
        assert_eq!(
            unified_diff(&files),
            "diff --git a/pkg/a.py b/pkg/a.py\n--- a/pkg/a.py\n+++ b/pkg/a.py\n\
             @@ -1,2 +1,2 @@\n x = 1\n-y = 2\n+y = 3\n"
        );
        assert_git_applies(&files);
        assert_patch_applies(&files);
    }

    #[test]
    fn several_files_several_hunks_and_a_new_file() {
        let before = long_file();
        let after = before
            .replace("line 3\n", "line three\n")
            .replace("line 30\n", "line 30\nextra\n");
        let files = PatchedFiles {
            changes: vec![
                change("a.txt", Some(&before), &after),
                change("new/dir/b.py", None, "def f():\n    return 1\n"),
                change("z.py", Some("a\n"), "b\n"),
            ],
        };
        let patch = unified_diff(&files);
        assert_eq!(patch.matches("\n@@ ").count(), 4, "{patch}");
        assert!(patch.contains("new file mode 100644\n--- /dev/null\n+++ b/new/dir/b.py\n"));
        assert_git_applies(&files);
        assert_patch_applies(&files);
    }

    #[test]
    fn missing_newlines_at_end_of_file() {
        let files = PatchedFiles {
            changes: vec![
                change("a.py", Some("x = 1\ny = 2"), "x = 1\ny = 3"),
                change("b.py", Some("x = 1\n"), "x = 1\ny = 2"),
                change("c.py", Some("x = 1"), "x = 2\n"),
                change("d.py", None, "no newline"),
            ],
        };
        let patch = unified_diff(&files);
        assert!(patch.contains("\\ No newline at end of file\n"), "{patch}");
        assert_git_applies(&files);
        assert_patch_applies(&files);
    }

    #[test]
    fn crlf_and_unicode_content() {
        let files = PatchedFiles {
            changes: vec![change(
                "win.py",
                Some("a = 1\r\nb = 'é'\r\nc = 3\r\n"),
                "a = 1\r\nb = 'ü'\r\nc = 3\r\n",
            )],
        };
        assert_git_applies(&files);
    }

    #[test]
    fn emptied_file_and_empty_new_file() {
        let files = PatchedFiles {
            changes: vec![
                change("empty_new.py", None, ""),
                change("gone.py", Some("x = 1\n"), ""),
            ],
        };
        assert_git_applies(&files);
    }

    #[test]
    fn awkward_paths_are_quoted() {
        assert_eq!(quote_path("a/", "dir/x.py"), "a/dir/x.py");
        assert_eq!(quote_path("a/", "with space.py"), "a/with space.py");
        assert_eq!(quote_path("b/", "tab\there.py"), "\"b/tab\\there.py\"");
        let files = PatchedFiles {
            changes: vec![
                change("with space.py", Some("x\n"), "y\n"),
                change("tab\tand\"quote.py", Some("x\n"), "y\n"),
            ],
        };
        assert_git_applies(&files);
    }

    #[test]
    fn unchanged_files_are_left_out() {
        let files = PatchedFiles {
            changes: vec![change("same.py", Some("x\n"), "x\n")],
        };
        assert_eq!(unified_diff(&files), "");
    }
}
