//! Which command tests a repository and how to read what it prints: the user's command when the
//! settings name one, else a guess from the tracked files.

use super::test_results::OutputFormat;

/// `-rA` puts every test's outcome in the short summary, which the parser reads; without the
/// cache provider a run leaves no `.pytest_cache` behind in the tree under test.
pub const PYTEST_COMMAND: &str = "python3 -m pytest -rA -v -p no:cacheprovider";

/// `--no-fail-fast`: one failing test binary must not hide the results of the others.
pub const CARGO_COMMAND: &str = "cargo test --no-fail-fast";

/// `-json`: one event a line, read per test (go_test_json.rs).
pub const GO_COMMAND: &str = "go test -json ./...";

/// The runners a repository installs under `node_modules`: no `npx`, which would try the
/// network for a runner that is missing.
pub const JEST_COMMAND: &str = "node_modules/.bin/jest --json";
pub const VITEST_COMMAND: &str = "node_modules/.bin/vitest run --reporter=json";

pub const MAVEN_COMMAND: &str = "mvn -q test";
/// Surefire's reports of one module, and of every module of a multi-module build.
pub const SUREFIRE_REPORTS: &str = "target/surefire-reports/*.xml";
pub const SUREFIRE_REPORTS_ALL: &str = "**/target/surefire-reports/*.xml";

/// `--continue`: one failing project must not hide the results of the others.
pub const GRADLE_COMMAND: &str = "gradle test --continue";
pub const GRADLE_WRAPPER_COMMAND: &str = "./gradlew test --continue";
pub const GRADLE_REPORTS: &str = "build/test-results/test/*.xml";
pub const GRADLE_REPORTS_ALL: &str = "**/build/test-results/test/*.xml";

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TestCommand {
    /// Run with `sh -c` from the repository root.
    pub command: String,
    pub format: OutputFormat,
    /// The JUnit XML reports to read after the command, a glob relative to the repository root.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub junit_xml: Option<String>,
}

impl TestCommand {
    fn new(command: &str, format: OutputFormat) -> TestCommand {
        TestCommand {
            command: command.to_owned(),
            format,
            junit_xml: None,
        }
    }

    fn with_reports(command: &str, reports: &str) -> TestCommand {
        TestCommand {
            junit_xml: Some(reports.to_owned()),
            ..TestCommand::new(command, OutputFormat::JunitXml)
        }
    }
}

/// What the tracked paths say about the repository's test runners.
#[derive(Default)]
struct Signals {
    python: bool,
    python_tests: bool,
    root_pytest_signal: bool,
    cargo: bool,
    go: bool,
    package_json: bool,
    maven: bool,
    maven_modules: bool,
    gradle: bool,
    gradle_projects: bool,
    gradle_wrapper: bool,
}

impl Signals {
    fn read<S: AsRef<str>>(paths: impl IntoIterator<Item = S>) -> Signals {
        let mut signals = Signals::default();
        for path in paths {
            let path = path.as_ref();
            let path = path.strip_prefix("./").unwrap_or(path);
            let (dir, file) = match path.rsplit_once('/') {
                Some((dir, file)) => (Some(dir), file),
                None => (None, path),
            };
            signals.python |= file.ends_with(".py");
            signals.python_tests |= is_python_test_file(file);
            let gradle_build = matches!(file, "build.gradle" | "build.gradle.kts");
            if dir.is_some() {
                signals.maven_modules |= file == "pom.xml";
                signals.gradle_projects |= gradle_build;
                continue;
            }
            signals.root_pytest_signal |= matches!(
                file,
                "pytest.ini" | "pyproject.toml" | "setup.cfg" | "tox.ini" | "conftest.py"
            );
            signals.cargo |= file == "Cargo.toml";
            signals.go |= file == "go.mod";
            signals.package_json |= file == "package.json";
            signals.maven |= file == "pom.xml";
            signals.gradle |= gradle_build;
            signals.gradle_wrapper |= file == "gradlew";
        }
        signals
    }
}

/// Guesses the test command from the repository's tracked paths (relative, `/`-separated) and,
/// for `package.json`, its text (`read` gives a tracked file's text).
///
/// Python wins outright only when it is plainly a pytest project: test files and a pytest
/// configuration or `conftest.py` at the root. Otherwise a root manifest decides, in this order,
/// since projects often carry helper scripts in other languages: `Cargo.toml` (cargo), `go.mod`
/// (`go test -json`), a `package.json` whose test script runs jest or vitest (that runner with
/// its JSON report), `pom.xml` (Maven, Surefire's reports), `build.gradle(.kts)` (Gradle, its
/// reports). Then any Python file with one pytest signal (a config file at the root, a
/// `conftest.py`, a `test_*.py` or `*_test.py`) means pytest.
pub fn detect<S: AsRef<str>>(
    paths: impl IntoIterator<Item = S>,
    read: impl Fn(&str) -> Option<String>,
) -> Option<TestCommand> {
    let s = Signals::read(paths);
    let pytest = || TestCommand::new(PYTEST_COMMAND, OutputFormat::Pytest);
    if s.python_tests && s.root_pytest_signal {
        return Some(pytest());
    }
    if s.cargo {
        return Some(TestCommand::new(CARGO_COMMAND, OutputFormat::CargoTest));
    }
    if s.go {
        return Some(TestCommand::new(GO_COMMAND, OutputFormat::GoTestJson));
    }
    if let Some(node) = s
        .package_json
        .then(|| read("package.json"))
        .flatten()
        .and_then(|text| node_runner(&text))
    {
        return Some(node);
    }
    if s.maven {
        let reports = if s.maven_modules {
            SUREFIRE_REPORTS_ALL
        } else {
            SUREFIRE_REPORTS
        };
        return Some(TestCommand::with_reports(MAVEN_COMMAND, reports));
    }
    if s.gradle {
        let command = if s.gradle_wrapper {
            GRADLE_WRAPPER_COMMAND
        } else {
            GRADLE_COMMAND
        };
        let reports = if s.gradle_projects {
            GRADLE_REPORTS_ALL
        } else {
            GRADLE_REPORTS
        };
        return Some(TestCommand::with_reports(command, reports));
    }
    (s.python && (s.python_tests || s.root_pytest_signal)).then(pytest)
}

/// The runner `package.json`'s test script names, run with its JSON report.
fn node_runner(package_json: &str) -> Option<TestCommand> {
    let manifest: serde_json::Value = serde_json::from_str(package_json).ok()?;
    let script = manifest.get("scripts")?.get("test")?.as_str()?;
    let programs: Vec<&str> = script.split_whitespace().map(program).collect();
    if programs.contains(&"vitest") {
        Some(TestCommand::new(VITEST_COMMAND, OutputFormat::VitestJson))
    } else if programs.contains(&"jest") {
        Some(TestCommand::new(JEST_COMMAND, OutputFormat::JestJson))
    } else {
        None
    }
}

/// A command word's program name: `node_modules/.bin/vitest` → `vitest`.
fn program(word: &str) -> &str {
    word.rsplit('/').next().unwrap_or(word)
}

/// `conftest.py` holds fixtures rather than tests, but only a pytest suite has one.
fn is_python_test_file(file: &str) -> bool {
    file == "conftest.py"
        || (file.starts_with("test_") && file.ends_with(".py"))
        || (file.ends_with("_test.py") && file.len() > "_test.py".len())
}

/// The test command the user configured. Without an explicit format, a `test.junit_xml` glob
/// means JUnit XML, else the format is read off the command; a Maven or Gradle command read as
/// JUnit XML without a glob reads the build tool's own report folder.
pub fn from_setting(
    command: &str,
    format: Option<OutputFormat>,
    junit_xml: Option<&str>,
) -> TestCommand {
    let format = match (format, junit_xml) {
        (Some(format), _) => format,
        (None, Some(_)) => OutputFormat::JunitXml,
        (None, None) => infer_format(command),
    };
    let junit_xml = junit_xml
        .map(str::to_owned)
        .or_else(|| (format == OutputFormat::JunitXml).then(|| default_reports(command))?);
    TestCommand {
        command: command.to_owned(),
        format,
        junit_xml,
    }
}

/// Where the build tool a command runs writes its JUnit XML reports, in any module.
fn default_reports(command: &str) -> Option<String> {
    let programs: Vec<&str> = command.split_whitespace().map(program).collect();
    if programs.iter().any(|p| matches!(*p, "mvn" | "mvnw")) {
        Some(SUREFIRE_REPORTS_ALL.to_owned())
    } else if programs.iter().any(|p| matches!(*p, "gradle" | "gradlew")) {
        Some(GRADLE_REPORTS_ALL.to_owned())
    } else {
        None
    }
}

/// `pytest` anywhere (`pytest`, `python -m pytest`, `.venv/bin/pytest`, `py.test`) → pytest;
/// cargo running `test`, `t` or `nextest`, with or without a `+toolchain` → cargo; `go test` with
/// `-json` → go-test-json; `jest` with `--json` → jest-json; `vitest` with a json reporter →
/// vitest-json; Maven or Gradle (`mvn`, `mvnw`, `gradle`, `gradlew`) → junit-xml; Django's
/// `tests/runtests.py` → django; sympy's `bin/test` → sympy; `python -m unittest` → unittest;
/// anything else is judged by its exit code. The runner may be named anywhere in the command,
/// by any path (`ln -sfn /deps node_modules && node_modules/.bin/vitest run --reporter=json`).
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
    if let Some(format) = js_or_go_format(&words) {
        return format;
    }
    for (i, word) in words.iter().enumerate() {
        match program(word) {
            "mvn" | "mvnw" | "gradle" | "gradlew" => return OutputFormat::JunitXml,
            "cargo" => {
                let subcommand = words[i + 1..].iter().find(|w| !w.starts_with('+'));
                if matches!(subcommand, Some(&("test" | "t" | "nextest"))) {
                    return OutputFormat::CargoTest;
                }
            }
            _ => {}
        }
    }
    OutputFormat::ExitCode
}

/// The JSON-reporting runners, each with the option that makes it report JSON after it (up to
/// the end of its command in a `&&`/`;` chain).
fn js_or_go_format(words: &[&str]) -> Option<OutputFormat> {
    for (i, word) in words.iter().enumerate() {
        let rest = &words[i + 1..];
        let rest = &rest[..rest
            .iter()
            .position(|w| matches!(*w, "&&" | "||" | ";" | "|"))
            .unwrap_or(rest.len())];
        let has = |flag: &str| rest.contains(&flag);
        match program(word) {
            "go" if rest.first() == Some(&"test") && has("-json") => {
                return Some(OutputFormat::GoTestJson)
            }
            "jest" if has("--json") => return Some(OutputFormat::JestJson),
            "vitest"
                if has("--reporter=json")
                    || rest.windows(2).any(|pair| pair == ["--reporter", "json"]) =>
            {
                return Some(OutputFormat::VitestJson)
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detected(paths: &[&str]) -> Option<(String, OutputFormat)> {
        detect(paths, |_| None).map(|c| (c.command, c.format))
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
        assert!(detect(&owned, |_| None).is_some());
        assert!(detect(owned, |_| None).is_some());
        let borrowed: Vec<&str> = vec!["Cargo.toml"];
        assert!(detect(&borrowed, |_| None).is_some());
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
            ("go test -json ./...", OutputFormat::GoTestJson),
            ("cd api && go test -v -json -count=1 ./pkg/...", OutputFormat::GoTestJson),
            ("/usr/local/go/bin/go test -json", OutputFormat::GoTestJson),
            ("go test ./...", OutputFormat::ExitCode),
            ("go vet ./... && go test ./... -json", OutputFormat::GoTestJson),
            ("go build -json && go test ./...", OutputFormat::ExitCode),
            ("npx jest --json", OutputFormat::JestJson),
            ("yarn jest --ci --json --runInBand", OutputFormat::JestJson),
            ("node_modules/.bin/jest", OutputFormat::ExitCode),
            (
                "ln -sfn /deps/node_modules node_modules && node_modules/.bin/vitest run --reporter=json",
                OutputFormat::VitestJson,
            ),
            ("npx vitest run --reporter json", OutputFormat::VitestJson),
            ("npx vitest run --reporter=verbose", OutputFormat::ExitCode),
            ("npm test -- --json", OutputFormat::ExitCode),
        ];
        for (command, format) in cases {
            assert_eq!(
                from_setting(command, None, None),
                TestCommand {
                    command: command.to_owned(),
                    format,
                    junit_xml: None,
                },
                "{command}"
            );
        }
    }

    #[test]
    fn build_tools_read_their_junit_reports() {
        let maven = from_setting("mvn -q -B test", None, None);
        assert_eq!(maven.format, OutputFormat::JunitXml);
        assert_eq!(maven.junit_xml.as_deref(), Some(SUREFIRE_REPORTS_ALL));
        let gradle = from_setting("./gradlew test --offline", None, None);
        assert_eq!(gradle.format, OutputFormat::JunitXml);
        assert_eq!(gradle.junit_xml.as_deref(), Some(GRADLE_REPORTS_ALL));
        // A glob of the user's wins, and makes any command's results JUnit XML.
        let pytest = from_setting("pytest --junitxml=out/r.xml", None, Some("out/*.xml"));
        assert_eq!(pytest.format, OutputFormat::JunitXml);
        assert_eq!(pytest.junit_xml.as_deref(), Some("out/*.xml"));
        let mvn = from_setting("mvn test", None, Some("core/target/surefire-reports/*.xml"));
        assert_eq!(
            mvn.junit_xml.as_deref(),
            Some("core/target/surefire-reports/*.xml")
        );
        // junit-xml asked for by name on a command of no known build tool has no glob to read.
        let named = from_setting("./ci/test.sh", Some(OutputFormat::JunitXml), None);
        assert_eq!(named.junit_xml, None);
    }

    fn detected_in(paths: &[&str], package_json: &str) -> Option<TestCommand> {
        detect(paths, |path| {
            (path == "package.json").then(|| package_json.to_owned())
        })
    }

    #[test]
    fn go_node_maven_and_gradle_projects_get_their_runner() {
        assert_eq!(
            detected(&["go.mod", "go.sum", "calc/calc.go", "calc/calc_test.go"]),
            Some((GO_COMMAND.to_owned(), OutputFormat::GoTestJson))
        );
        let node = ["package.json", "src/a.ts", "src/a.test.ts"];
        let vitest = detected_in(&node, r#"{"scripts": {"test": "vitest run --coverage"}}"#);
        assert_eq!(
            vitest,
            Some(TestCommand::new(VITEST_COMMAND, OutputFormat::VitestJson))
        );
        let jest = detected_in(
            &node,
            r#"{"scripts": {"test": "NODE_ENV=test ./node_modules/.bin/jest"}}"#,
        );
        assert_eq!(
            jest,
            Some(TestCommand::new(JEST_COMMAND, OutputFormat::JestJson))
        );
        for other in [
            r#"{"scripts": {"test": "mocha"}}"#,
            r#"{"name": "x"}"#,
            "not json",
        ] {
            assert_eq!(detected_in(&node, other), None, "{other}");
        }
        assert_eq!(
            detect(["pom.xml", "src/main/java/A.java"], |_| None),
            Some(TestCommand::with_reports(MAVEN_COMMAND, SUREFIRE_REPORTS))
        );
        assert_eq!(
            detect(
                ["pom.xml", "core/pom.xml", "core/src/main/java/A.java"],
                |_| None
            ),
            Some(TestCommand::with_reports(
                MAVEN_COMMAND,
                SUREFIRE_REPORTS_ALL
            ))
        );
        assert_eq!(
            detect(["build.gradle.kts", "src/main/kotlin/A.kt"], |_| None),
            Some(TestCommand::with_reports(GRADLE_COMMAND, GRADLE_REPORTS))
        );
        assert_eq!(
            detect(
                [
                    "build.gradle",
                    "gradlew",
                    "settings.gradle",
                    "app/build.gradle"
                ],
                |_| None
            ),
            Some(TestCommand::with_reports(
                GRADLE_WRAPPER_COMMAND,
                GRADLE_REPORTS_ALL
            ))
        );
        // Only at the root: a nested manifest is some other project's.
        assert_eq!(detected(&["tools/go.mod", "tools/main.go"]), None);
    }

    #[test]
    fn a_project_s_helper_scripts_do_not_decide_its_runner() {
        assert_eq!(
            detected(&["go.mod", "main.go", "scripts/test_release.py"]),
            Some((GO_COMMAND.to_owned(), OutputFormat::GoTestJson))
        );
        let web = ["package.json", "index.ts", "tools/conftest.py"];
        assert_eq!(
            detected_in(&web, r#"{"scripts": {"test": "jest"}}"#).map(|c| c.format),
            Some(OutputFormat::JestJson)
        );
        // A plain pytest suite still wins.
        assert_eq!(
            detected(&["go.mod", "pytest.ini", "tests/test_api.py"]),
            pytest()
        );
    }

    #[test]
    fn an_explicit_format_wins() {
        let command = from_setting("./ci/test.sh", Some(OutputFormat::Pytest), None);
        assert_eq!(command.format, OutputFormat::Pytest);
        assert_eq!(command.command, "./ci/test.sh");
        assert_eq!(
            from_setting("pytest", Some(OutputFormat::ExitCode), None).format,
            OutputFormat::ExitCode
        );
    }
}
