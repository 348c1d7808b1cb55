//! Small real git repositories built in the test, with a real bug and real tests.

use std::path::{Path, PathBuf};

use tempfile::TempDir;

/// A git work tree in a temporary folder, removed on drop.
pub struct FixtureRepo {
    dir: TempDir,
}

impl FixtureRepo {
    /// A repository whose first commit holds `files`.
    pub fn with_files(files: &[(&str, &str)]) -> FixtureRepo {
        let dir = tempfile::Builder::new()
            .prefix("swiss-fixture-")
            .tempdir()
            .expect("temp dir");
        let repo = git2::Repository::init(dir.path()).expect("git init");
        for (path, content) in files {
            let full = dir.path().join(path);
            std::fs::create_dir_all(full.parent().expect("parent")).expect("mkdir");
            std::fs::write(&full, content).expect("write fixture file");
        }
        let mut index = repo.index().expect("index");
        index
            .add_all(["*"].iter(), git2::IndexAddOption::DEFAULT, None)
            .expect("git add");
        index.write().expect("write index");
        let tree_id = index.write_tree().expect("write tree");
        let tree = repo.find_tree(tree_id).expect("tree");
        let sig = git2::Signature::now("Swiss Tests", "tests@swiss.invalid").expect("signature");
        repo.commit(Some("HEAD"), &sig, &sig, "fixture", &tree, &[])
            .expect("commit");
        FixtureRepo { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn file(&self, path: &str) -> PathBuf {
        self.dir.path().join(path)
    }

    pub fn read(&self, path: &str) -> String {
        std::fs::read_to_string(self.file(path)).expect("read fixture file")
    }

    pub fn write(&self, path: &str, content: &str) {
        let full = self.file(path);
        std::fs::create_dir_all(full.parent().expect("parent")).expect("mkdir");
        std::fs::write(full, content).expect("write fixture file");
    }

    /// Every regular file under the work tree (`.git` left out) with its bytes: to prove that
    /// a run changed nothing.
    pub fn contents(&self) -> Vec<(PathBuf, Vec<u8>)> {
        let mut out = Vec::new();
        let mut stack = vec![self.path().to_path_buf()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).expect("read dir").flatten() {
                let path = entry.path();
                if entry.file_name() == ".git" {
                    continue;
                }
                let kind = entry.file_type().expect("file type");
                if kind.is_dir() {
                    stack.push(path);
                } else if kind.is_file() {
                    out.push((path.clone(), std::fs::read(&path).expect("read")));
                }
            }
        }
        out.sort();
        out
    }

    /// A repository of `n` tracked files spread over nested packages (plus the calc package),
    /// to measure the engine on a repository of realistic size.
    pub fn large(n: usize) -> FixtureRepo {
        let mut owned: Vec<(String, String)> = calc::FILES
            .iter()
            .map(|(p, c)| (p.to_string(), c.to_string()))
            .collect();
        for i in 0..n.saturating_sub(owned.len()) {
            let path = format!("pkg{}/sub{}/module_{i}.py", i % 20, (i / 20) % 10);
            let content = format!(
                "\"\"\"Module {i}.\"\"\"\n\n\ndef function_{i}(x):\n    return x + {i}\n\n\nclass Thing{i}:\n    value = {i}\n"
            );
            owned.push((path, content));
        }
        let borrowed: Vec<(&str, &str)> = owned
            .iter()
            .map(|(p, c)| (p.as_str(), c.as_str()))
            .collect();
        FixtureRepo::with_files(&borrowed)
    }
}

/// `calc`: a small Python package whose `divide` floors its result. The issue, the test that
/// shows the bug, and model answers for the scripted backend.
pub mod calc {
    use super::FixtureRepo;
    use crate::scripted_backend::{PromptKind, Script};

    /// The model of the engine tests: the fix is the majority (three formattings of it), a
    /// wrong patch comes second, and three answers are unusable.
    pub fn script() -> Script {
        Script::new()
            .answer(PromptKind::Localize, [LOCALIZE_ANSWER])
            .answer(
                PromptKind::Repair,
                [
                    FIX_A, WRONG_ADD, FIX_B, NOT_FOUND, FIX_C, PROSE, ESCAPE, WRONG_ADD,
                ],
            )
    }

    /// The model of the verification tests: the majority patch breaks a test that passed
    /// before, the runner-up passes the old tests but not the reproduction test, and the right
    /// patch comes once. Reproduction scripts: one that never reproduces, the right one twice
    /// (formatted differently), and prose.
    pub fn verification_script() -> Script {
        Script::new()
            .answer(PromptKind::Localize, [LOCALIZE_ANSWER])
            .answer(
                PromptKind::Repair,
                [
                    WRONG_BREAKS_TEST,
                    WRONG_KEEPS_BUG,
                    WRONG_BREAKS_TEST,
                    FIX_A,
                    WRONG_KEEPS_BUG,
                    WRONG_BREAKS_TEST,
                ],
            )
            .answer(
                PromptKind::Reproduce,
                [
                    REPRODUCE_SCRIPT_WRONG,
                    REPRODUCE_SCRIPT,
                    REPRODUCE_SCRIPT_REFORMATTED,
                    PROSE,
                ],
            )
    }

    /// The model of the partial-apply and compare tests: the winner is the fix plus a change of
    /// `calc/fmt.py` (two hunks in two files, `calc/fmt.py`'s first), and the plain fix comes
    /// second.
    pub fn two_hunk_script() -> Script {
        Script::new()
            .answer(PromptKind::Localize, [LOCALIZE_ANSWER])
            .answer(
                PromptKind::Repair,
                [FIX_TWO_FILES, FIX_A, FIX_TWO_FILES, WRONG_ADD],
            )
    }

    pub const OPS: &str = r#""""Arithmetic helpers."""


def add(a, b):
    """Return the sum of a and b."""
    return a + b


def divide(a, b):
    """Return a divided by b."""
    if b == 0:
        raise ZeroDivisionError("cannot divide by zero")
    return a // b


def mean(values):
    """Return the arithmetic mean of values."""
    if not values:
        raise ValueError("mean of an empty sequence")
    return divide(sum(values), len(values))
"#;

    pub const FILES: &[(&str, &str)] = &[
        (
            "calc/__init__.py",
            "from calc.ops import add, divide, mean\n\n__all__ = [\"add\", \"divide\", \"mean\"]\n",
        ),
        ("calc/ops.py", OPS),
        (
            "calc/fmt.py",
            "\"\"\"Formatting of results.\"\"\"\n\n\ndef show(value):\n    return f\"{value:g}\"\n",
        ),
        ("tests/__init__.py", ""),
        (
            "tests/test_ops.py",
            r#"import unittest

from calc.ops import add, divide, mean


class OpsTest(unittest.TestCase):
    def test_add(self):
        self.assertEqual(add(2, 3), 5)

    def test_divide_by_zero(self):
        with self.assertRaises(ZeroDivisionError):
            divide(1, 0)

    def test_divide_exact(self):
        self.assertEqual(divide(6, 3), 2)

    def test_divide_fraction(self):
        self.assertEqual(divide(7, 2), 3.5)

    def test_mean(self):
        self.assertEqual(mean([1, 2]), 1.5)


if __name__ == "__main__":
    unittest.main()
"#,
        ),
        ("README.md", "# calc\n\nArithmetic helpers.\n"),
        (
            "pyproject.toml",
            "[project]\nname = \"calc\"\nversion = \"0.1.0\"\n",
        ),
    ];

    pub const ISSUE: &str = "divide() floors its result\n\n`calc.ops.divide(7, 2)` returns `3` instead of `3.5`, and so `mean([1, 2])` is `1`.\n";

    pub fn repo() -> FixtureRepo {
        FixtureRepo::with_files(FILES)
    }

    /// A localization answer as a reasoning model writes it.
    pub const LOCALIZE_ANSWER: &str =
        "<think>The bug is in divide.</think>\nThe files to edit:\n```\ncalc/ops.py\ncalc/__init__.py\n```\n";

    /// The right fix, three ways that differ only in formatting and comments.
    pub const FIX_A: &str = "```python\n### calc/ops.py\n<<<<<<< SEARCH\n    return a // b\n=======\n    return a / b\n>>>>>>> REPLACE\n```\n";
    /// The fix and a change of how results print, one block each: two hunks in two files.
    pub const FIX_TWO_FILES: &str = "```python\n### calc/ops.py\n<<<<<<< SEARCH\n    return a // b\n=======\n    return a / b\n>>>>>>> REPLACE\n### calc/fmt.py\n<<<<<<< SEARCH\n    return f\"{value:g}\"\n=======\n    return f\"{value:.3g}\"\n>>>>>>> REPLACE\n```\n";
    pub const FIX_B: &str = "Use true division.\n```python\n### calc/ops.py\n<<<<<<< SEARCH\n    return a // b\n=======\n    return a/b  # true division\n>>>>>>> REPLACE\n```\n";
    pub const FIX_C: &str = "```python\n### calc/ops.py\n<<<<<<< SEARCH\n    \"\"\"Return a divided by b.\"\"\"\n    if b == 0:\n        raise ZeroDivisionError(\"cannot divide by zero\")\n    return a // b\n=======\n    \"\"\"Return a divided by b, as a float.\"\"\"\n    if b == 0:\n        raise ZeroDivisionError(\"cannot divide by zero\")\n    return a / b\n>>>>>>> REPLACE\n```\n";

    /// Wrong: it keeps the floor and breaks `add`.
    pub const WRONG_ADD: &str = "```python\n### calc/ops.py\n<<<<<<< SEARCH\n    return a + b\n=======\n    return a - b\n>>>>>>> REPLACE\n```\n";
    /// Unusable: its SEARCH text is not in the file.
    pub const NOT_FOUND: &str = "```python\n### calc/ops.py\n<<<<<<< SEARCH\n    return a % b\n=======\n    return a / b\n>>>>>>> REPLACE\n```\n";
    /// Unusable: it edits a file outside the repository.
    pub const ESCAPE: &str = "```python\n### ../outside.py\n<<<<<<< SEARCH\n=======\nprint('owned')\n>>>>>>> REPLACE\n```\n";
    /// Wrong, and the majority in the verification tests: true division, but dividing by zero
    /// now returns 0.0, which breaks `test_divide_by_zero` (a test that passed before).
    pub const WRONG_BREAKS_TEST: &str = "```python\n### calc/ops.py\n<<<<<<< SEARCH\n    if b == 0:\n        raise ZeroDivisionError(\"cannot divide by zero\")\n    return a // b\n=======\n    return a / b if b else 0.0\n>>>>>>> REPLACE\n```\n";
    /// Wrong in a way only the reproduction test sees: `mean` no longer goes through `divide`,
    /// so every old test passes, but `divide(7, 2)` is still 3.
    pub const WRONG_KEEPS_BUG: &str = "```python\n### calc/ops.py\n<<<<<<< SEARCH\n    return divide(sum(values), len(values))\n=======\n    return sum(values) / len(values)\n>>>>>>> REPLACE\n```\n";

    /// A reproduction script as the model writes it: it prints "Issue reproduced" on the buggy code.
    pub const REPRODUCE_SCRIPT: &str = "```python\nfrom calc.ops import divide\n\ntry:\n    result = divide(7, 2)\nexcept Exception:\n    print(\"Other issues\")\nelse:\n    if result == 3.5:\n        print(\"Issue resolved\")\n    elif result == 3:\n        print(\"Issue reproduced\")\n    else:\n        print(\"Other issues\")\n```\n";
    /// The same script, formatted differently: one vote with the first.
    pub const REPRODUCE_SCRIPT_REFORMATTED: &str = "Here is the test.\n```python\nfrom calc.ops import divide\n\ntry:\n    result = divide(7,2)  # the example from the issue\nexcept Exception:\n    print(\"Other issues\")\nelse:\n    if result == 3.5:\n        print(\"Issue resolved\")\n    elif result == 3:\n        print(\"Issue reproduced\")\n    else:\n        print(\"Other issues\")\n```\n";
    /// A script that does not reproduce the issue on the buggy code: it must not be chosen.
    pub const REPRODUCE_SCRIPT_WRONG: &str = "```python\nfrom calc.ops import add\n\nif add(1, 1) == 2:\n    print(\"Issue resolved\")\nelse:\n    print(\"Issue reproduced\")\n```\n";

    pub const PROSE: &str = "I am not sure how to fix this.";
}
