//! Which command tests a repository and how to read what it prints: the user's command when the
//! settings name one, else a guess from the tracked files.

use super::test_results::OutputFormat;

/// `-rA` puts every test's outcome in the short summary, which the parser reads; without the
/// cache provider a run leaves no `.pytest_cache` behind in the tree under test.
pub const PYTEST_COMMAND: &str = "python3 -m pytest -rA -v -p no:cacheprovider";

/// `--no-fail-fast`: one failing test binary must not hide the results of the others.
pub const CARGO_COMMAND: &str = "cargo test --no-fail-fast";

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TestCommand {
    /// Run with `sh -c` from the repository root.
    pub command: String,
    pub format: OutputFormat,
}

/// Guesses the test command from the repository's tracked paths (relative, `/`-separated).
///
/// Python wins outright only when it is plainly a pytest project: test files and a pytest
/// configuration or `conftest.py` at the root. Otherwise a root `Cargo.toml` means cargo, since
/// Rust projects often carry Python helper scripts; then any Python file with one pytest signal
/// (a config file at the root, a `conftest.py`, a `test_*.py` or `*_test.py`) means pytest.
pub fn detect<I, S>(paths: I) -> Option<TestCommand>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut python = false;
    let mut python_tests = false;
    let mut root_pytest_signal = false;
    let mut cargo = false;
    for path in paths {
        let path = path.as_ref();
        let path = path.strip_prefix("./").unwrap_or(path);
        let (dir, file) = match path.rsplit_once('/') {
            Some((dir, file)) => (Some(dir), file),
            None => (None, path),
        };
        let at_root = dir.is_none();
        if file.ends_with(".py") {
            python = true;
        }
        if is_python_test_file(file) {
            python_tests = true;
        }
        if at_root
            && matches!(
                file,
                "pytest.ini" | "pyproject.toml" | "setup.cfg" | "tox.ini" | "conftest.py"
            )
        {
            root_pytest_signal = true;
        }
        if at_root && file == "Cargo.toml" {
            cargo = true;
        }
    }
    let pytest = TestCommand {
        command: PYTEST_COMMAND.to_owned(),
        format: OutputFormat::Pytest,
    };
    if python_tests && root_pytest_signal {
        Some(pytest)
    } else if cargo {
        Some(TestCommand {
            command: CARGO_COMMAND.to_owned(),
            format: OutputFormat::CargoTest,
        })
    } else if python && (python_tests || root_pytest_signal) {
        Some(pytest)
    } else {
        None
    }
}

/// `conftest.py` holds fixtures rather than tests, but only a pytest suite has one.
fn is_python_test_file(file: &str) -> bool {
    file == "conftest.py"
        || (file.starts_with("test_") && file.ends_with(".py"))
        || (file.ends_with("_test.py") && file.len() > "_test.py".len())
}

/// The test command the user configured; without an explicit format, the format is read off
/// the command.
pub fn from_setting(command: &str, format: Option<OutputFormat>) -> TestCommand {
    TestCommand {
        command: command.to_owned(),
        format: format.unwrap_or_else(|| infer_format(command)),
    }
}

/// `pytest` anywhere (`pytest`, `python -m pytest`, `.venv/bin/pytest`, `py.test`) → pytest;
/// cargo running `test`, `t` or `nextest`, with or without a `+toolchain` → cargo; Django's
/// `tests/runtests.py` → django; sympy's `bin/test` → sympy; `python -m unittest` → unittest;
/// anything else is judged by its exit code.
pub fn infer_format(command: &str) -> OutputFormat {
    if command.contains("pytest") || command.contains("py.test") {
        return OutputFormat::Pytest;
    }
    let words: Vec<&str> = command.split_whitespace().collect();
    let runs = |script: &str| {
        words
            .iter()
            .any(|word| *word == script || word.ends_with(&format!("/{script}")))
    };
    if runs("tests/runtests.py") {
        return OutputFormat::Django;
    }
    if runs("bin/test") {
        return OutputFormat::Sympy;
    }
    if words.windows(2).any(|pair| pair == ["-m", "unittest"]) {
        return OutputFormat::Unittest;
    }
    for (i, word) in words.iter().enumerate() {
        let program = word.rsplit('/').next().unwrap_or(word);
        if program != "cargo" {
            continue;
        }
        let subcommand = words[i + 1..].iter().find(|w| !w.starts_with('+'));
        if matches!(subcommand, Some(&("test" | "t" | "nextest"))) {
            return OutputFormat::CargoTest;
        }
    }
    OutputFormat::ExitCode
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detected(paths: &[&str]) -> Option<(String, OutputFormat)> {
        detect(paths).map(|c| (c.command, c.format))
    }

    fn pytest() -> Option<(String, OutputFormat)> {
        Some((PYTEST_COMMAND.to_owned(), OutputFormat::Pytest))
    }

    fn cargo() -> Option<(String, OutputFormat)> {
        Some((CARGO_COMMAND.to_owned(), OutputFormat::CargoTest))
    }

    #[test]
    fn python_projects_get_pytest() {
        assert_eq!(
            detected(&["setup.py", "pkg/__init__.py", "tests/test_core.py"]),
            pytest()
        );
        assert_eq!(detected(&["pkg/core.py", "pkg/core_test.py"]), pytest());
        assert_eq!(
            detected(&["pyproject.toml", "src/pkg/__init__.py"]),
            pytest()
        );
        assert_eq!(detected(&["pkg/mod.py", "pkg/conftest.py"]), pytest());
        assert_eq!(detected(&["./tox.ini", "./pkg/mod.py"]), pytest());
        assert_eq!(detected(&["pytest.ini", "lib/a.py"]), pytest());
        assert_eq!(detected(&["setup.cfg", "lib/a.py"]), pytest());
    }

    #[test]
    fn python_files_without_a_pytest_signal_are_not_enough() {
        assert_eq!(detected(&["scripts/build.py", "README.md"]), None);
        // Config files count at the root only.
        assert_eq!(detected(&["docs/conf.py", "docs/pyproject.toml"]), None);
        // `_test.py` alone is no test file name.
        assert_eq!(detected(&["a.py", "_test.py"]), None);
        // A pytest config without any Python has nothing to test.
        assert_eq!(detected(&["pyproject.toml"]), None);
    }

    #[test]
    fn rust_projects_get_cargo_test() {
        assert_eq!(
            detected(&["Cargo.toml", "Cargo.lock", "src/lib.rs", "tests/it.rs"]),
            cargo()
        );
        assert_eq!(
            detected(&["crates/a/Cargo.toml", "crates/a/src/lib.rs"]),
            None
        );
    }

    #[test]
    fn rust_projects_with_python_helpers_stay_cargo() {
        assert_eq!(
            detected(&[
                "Cargo.toml",
                "src/main.rs",
                "scripts/test_release.py",
                "scripts/gen.py"
            ]),
            cargo()
        );
        assert_eq!(
            detected(&[
                "Cargo.toml",
                "src/lib.rs",
                "pyproject.toml",
                "bench/plot.py"
            ]),
            cargo()
        );
    }

    #[test]
    fn a_plain_pytest_suite_beside_a_cargo_manifest_wins() {
        assert_eq!(
            detected(&[
                "Cargo.toml",
                "pyproject.toml",
                "src/lib.rs",
                "python/pkg/__init__.py",
                "tests/test_api.py"
            ]),
            pytest()
        );
    }

    #[test]
    fn nothing_known_detects_nothing() {
        assert_eq!(detected(&[]), None);
        assert_eq!(
            detected(&["package.json", "index.js", "test/test_x.js"]),
            None
        );
    }

    #[test]
    fn detect_takes_owned_and_borrowed_paths() {
        let owned = vec!["Cargo.toml".to_owned()];
        assert!(detect(&owned).is_some());
        assert!(detect(owned).is_some());
        let borrowed: Vec<&str> = vec!["Cargo.toml"];
        assert!(detect(&borrowed).is_some());
    }

    #[test]
    fn format_is_inferred_from_the_command() {
        let cases = [
            ("pytest", OutputFormat::Pytest),
            ("python -m pytest -rA tests/test_x.py", OutputFormat::Pytest),
            (".venv/bin/pytest -x", OutputFormat::Pytest),
            ("py.test -rA", OutputFormat::Pytest),
            ("cargo test", OutputFormat::CargoTest),
            ("cargo  test --workspace", OutputFormat::CargoTest),
            ("cargo +nightly test", OutputFormat::CargoTest),
            ("cargo t -p core", OutputFormat::CargoTest),
            ("cargo nextest run", OutputFormat::CargoTest),
            (
                "RUST_LOG=off ~/.cargo/bin/cargo test",
                OutputFormat::CargoTest,
            ),
            (
                "./tests/runtests.py --verbosity 2 --settings=test_sqlite --parallel 1 admin_views",
                OutputFormat::Django,
            ),
            ("python tests/runtests.py queries", OutputFormat::Django),
            (
                "PYTHONWARNINGS='ignore::UserWarning' bin/test -C --verbose sympy/core",
                OutputFormat::Sympy,
            ),
            ("./bin/test sympy/sets", OutputFormat::Sympy),
            (
                "python -m unittest -v tests.test_calc",
                OutputFormat::Unittest,
            ),
            ("python3 tests/runtests.pyc", OutputFormat::ExitCode),
            ("./bin/tests", OutputFormat::ExitCode),
            ("cargo build && ./run-tests.sh", OutputFormat::ExitCode),
            ("make test", OutputFormat::ExitCode),
            ("tox -e py311", OutputFormat::ExitCode),
            ("cargo", OutputFormat::ExitCode),
        ];
        for (command, format) in cases {
            assert_eq!(
                from_setting(command, None),
                TestCommand {
                    command: command.to_owned(),
                    format
                },
                "{command}"
            );
        }
    }

    #[test]
    fn an_explicit_format_wins() {
        let command = from_setting("./ci/test.sh", Some(OutputFormat::Pytest));
        assert_eq!(command.format, OutputFormat::Pytest);
        assert_eq!(command.command, "./ci/test.sh");
        assert_eq!(
            from_setting("pytest", Some(OutputFormat::ExitCode)).format,
            OutputFormat::ExitCode
        );
    }
}
