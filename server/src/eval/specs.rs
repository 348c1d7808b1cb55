//! How SWE-bench's harness runs the tests of the repositories of SWE-bench Verified, per
//! repository and version, inside the benchmark's instance images (conda environment `testbed`,
//! the repository at `/testbed`). Transcribed from `MAP_REPO_VERSION_TO_SPECS_PY` in
//! `swebench/harness/constants/python.py` and from `make_eval_script_list_py` in
//! `swebench/harness/test_spec/python.py` (github.com/SWE-bench/SWE-bench, v4.1.0, the last
//! release that builds its eval scripts from these tables), and named as `MAP_REPO_TO_PARSER_PY`
//! in `swebench/harness/log_parsers/python.py` reads each repository's output.

use crate::verify::test_results::OutputFormat;

/// Where the instance images hold the repository; the harness runs its tests from there.
pub const WORKDIR: &str = "/testbed";

/// The images' interpreter, runnable without activating its environment (reproduction scripts).
pub const PYTHON: &str = "/opt/miniconda3/envs/testbed/bin/python";

/// The harness activates the environment with bash's `source`; test commands run with `sh -c`,
/// which on the images' Ubuntu is dash, so the POSIX `.` does it here. `bin/activate` names its
/// conda root itself, which dash's `.` needs.
const ACTIVATE: &str = ". /opt/miniconda3/bin/activate && conda activate testbed";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoSpec {
    /// Run with `sh -c` from [`WORKDIR`]; the test directives go at its end.
    pub test_command: String,
    pub test_format: OutputFormat,
    pub env: Vec<(String, String)>,
    pub python: Option<String>,
}

/// The harness's spec for `repo` (`owner/name`) at `version` (the instance's `version` field),
/// or `None` for a repository or version it has no spec for.
pub fn builtin_spec(repo: &str, version: &str) -> Option<RepoSpec> {
    let spec = SPECS
        .iter()
        .find(|spec| spec.repo == repo && spec.versions.contains(&version))?;
    let (exports, steps): (Vec<&str>, Vec<&str>) = spec
        .eval_commands
        .iter()
        .partition(|command| command.starts_with("export "));
    let env = exports
        .iter()
        .filter_map(|export| export.strip_prefix("export ")?.split_once('='))
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect();
    // The harness re-runs the install step before the tests (a patch to compiled code or to the
    // package's metadata needs it) and reads only the test command's output, between its
    // `>>>>> Start Test Output` markers; the preparation's output is kept out of the log here,
    // and, as there, its failure does not stop the tests.
    let preparation = steps
        .iter()
        .copied()
        .chain(std::iter::once(spec.install))
        .collect::<Vec<_>>()
        .join("; ");
    Some(RepoSpec {
        test_command: format!(
            "{ACTIVATE} && {{ {preparation}; }} >/dev/null 2>&1; {}",
            spec.test_cmd
        ),
        test_format: output_format(repo)?,
        env,
        python: Some(PYTHON.to_owned()),
    })
}

/// `MAP_REPO_TO_PARSER_PY`: which of SWE-bench's readings names each repository's tests.
fn output_format(repo: &str) -> Option<OutputFormat> {
    Some(match repo {
        "django/django" => OutputFormat::Django,
        "sympy/sympy" => OutputFormat::Sympy,
        "pallets/flask" | "pytest-dev/pytest" | "pydata/xarray" => OutputFormat::SwebenchPytest,
        "psf/requests" | "pylint-dev/pylint" => OutputFormat::SwebenchPytestOptions,
        "astropy/astropy" | "scikit-learn/scikit-learn" | "sphinx-doc/sphinx" => {
            OutputFormat::SwebenchPytestV2
        }
        "matplotlib/matplotlib" => OutputFormat::SwebenchMatplotlib,
        "mwaskom/seaborn" => OutputFormat::SwebenchSeaborn,
        _ => return None,
    })
}

struct Spec {
    repo: &'static str,
    versions: &'static [&'static str],
    test_cmd: &'static str,
    /// Run before the tests: `export`s become the run's environment, the rest run as given.
    eval_commands: &'static [&'static str],
    install: &'static str,
}

const SPECS: &[Spec] = &[
    Spec {
        repo: "astropy/astropy",
        versions: &[
            "3.0", "3.1", "3.2", "4.1", "4.2", "4.3", "5.0", "5.1", "5.2", "v5.3",
        ],
        test_cmd: "pytest -rA",
        eval_commands: &[],
        install: "python -m pip install -e .[test] --verbose",
    },
    Spec {
        repo: "astropy/astropy",
        versions: &["0.1", "0.2", "0.3", "0.4", "1.1", "1.2", "1.3"],
        test_cmd: "pytest -rA -vv -o console_output_style=classic --tb=no",
        eval_commands: &[],
        install: "python -m pip install -e .[test] --verbose",
    },
    Spec {
        repo: "django/django",
        versions: &["1.7", "1.8", "1.10", "1.11", "2.0", "2.1", "2.2"],
        test_cmd: "./tests/runtests.py --verbosity 2 --settings=test_sqlite --parallel 1",
        eval_commands: &[
            "export LANG=en_US.UTF-8",
            "export LC_ALL=en_US.UTF-8",
            "export PYTHONIOENCODING=utf8",
            "export LANGUAGE=en_US:en",
        ],
        install: "python setup.py install",
    },
    Spec {
        repo: "django/django",
        versions: &["1.9"],
        test_cmd: "./tests/runtests.py --verbosity 2",
        eval_commands: &[
            "export LANG=en_US.UTF-8",
            "export LC_ALL=en_US.UTF-8",
            "export PYTHONIOENCODING=utf8",
            "export LANGUAGE=en_US:en",
        ],
        install: "python setup.py install",
    },
    Spec {
        repo: "django/django",
        versions: &["1.4", "1.5", "1.6"],
        test_cmd: "./tests/runtests.py --verbosity 2 --settings=test_sqlite --parallel 1",
        eval_commands: &[],
        install: "python setup.py install",
    },
    Spec {
        repo: "django/django",
        versions: &["3.0", "3.1", "3.2"],
        test_cmd: "./tests/runtests.py --verbosity 2 --settings=test_sqlite --parallel 1",
        eval_commands: &[
            "sed -i '/en_US.UTF-8/s/^# //g' /etc/locale.gen && locale-gen",
            "export LANG=en_US.UTF-8",
            "export LANGUAGE=en_US:en",
            "export LC_ALL=en_US.UTF-8",
        ],
        install: "python -m pip install -e .",
    },
    Spec {
        repo: "django/django",
        versions: &["4.0", "4.1", "4.2", "5.0", "5.1", "5.2"],
        test_cmd: "./tests/runtests.py --verbosity 2 --settings=test_sqlite --parallel 1",
        eval_commands: &[],
        install: "python -m pip install -e .",
    },
    Spec {
        repo: "pallets/flask",
        versions: &["2.0", "2.1", "2.2", "2.3", "3.0", "3.1"],
        test_cmd: "pytest -rA",
        eval_commands: &[],
        install: "python -m pip install -e .",
    },
    Spec {
        repo: "matplotlib/matplotlib",
        versions: &["3.0", "3.1", "3.2", "3.3", "3.4", "3.5", "3.6", "3.7"],
        test_cmd: "pytest -rA",
        eval_commands: &[],
        install: "python -m pip install -e .",
    },
    Spec {
        repo: "matplotlib/matplotlib",
        versions: &["3.8", "3.9"],
        test_cmd: "pytest -rA",
        eval_commands: &[],
        install: "python -m pip install --no-build-isolation -e \".[dev]\"",
    },
    Spec {
        repo: "matplotlib/matplotlib",
        versions: &[
            "1.0", "1.1", "1.2", "1.3", "1.4", "1.5", "2.0", "2.1", "2.2",
        ],
        test_cmd: "pytest -rA",
        eval_commands: &[],
        install: "python setup.py build; python setup.py install",
    },
    Spec {
        repo: "pylint-dev/pylint",
        versions: &[
            "2.8", "2.9", "2.10", "2.11", "2.13", "2.14", "2.15", "2.16", "2.17", "3.0", "3.1",
            "3.2", "3.3", "4.0",
        ],
        test_cmd: "pytest -rA",
        eval_commands: &[],
        install: "python -m pip install -e .",
    },
    Spec {
        repo: "pytest-dev/pytest",
        versions: &[
            "4.4", "4.5", "4.6", "5.0", "5.1", "5.2", "5.3", "5.4", "6.0", "6.2", "6.3", "7.0",
            "7.1", "7.2", "7.4", "8.0", "8.1", "8.2", "8.3", "8.4",
        ],
        test_cmd: "pytest -rA",
        eval_commands: &[],
        install: "python -m pip install -e .",
    },
    Spec {
        repo: "psf/requests",
        versions: &[
            "0.7", "0.8", "0.9", "0.11", "0.13", "0.14", "1.1", "1.2", "2.0", "2.2", "2.3", "2.4",
            "2.5", "2.7", "2.8", "2.9", "2.10", "2.11", "2.12", "2.17", "2.18", "2.19", "2.22",
            "2.25", "2.26", "2.27", "2.31", "3.0",
        ],
        test_cmd: "pytest -rA",
        eval_commands: &[],
        install: "python -m pip install .",
    },
    Spec {
        repo: "scikit-learn/scikit-learn",
        versions: &["0.20", "0.21", "0.22", "1.3", "1.4", "1.5", "1.6"],
        test_cmd: "pytest -rA",
        eval_commands: &[],
        install: "python -m pip install -v --no-use-pep517 --no-build-isolation -e .",
    },
    Spec {
        repo: "mwaskom/seaborn",
        versions: &["0.11"],
        test_cmd: "pytest --no-header -rA",
        eval_commands: &[],
        install: "python -m pip install -e .",
    },
    Spec {
        repo: "mwaskom/seaborn",
        versions: &["0.12", "0.13", "0.14"],
        test_cmd: "pytest --no-header -rA",
        eval_commands: &[],
        install: "python -m pip install -e .[dev]",
    },
    Spec {
        repo: "sphinx-doc/sphinx",
        versions: &[
            "1.5", "1.6", "1.7", "1.8", "2.0", "2.1", "2.2", "2.3", "2.4", "3.0", "3.1", "3.2",
            "3.3", "3.4", "3.5", "4.0", "4.1", "4.2", "4.3", "4.4", "4.5", "5.0", "5.1", "5.2",
            "5.3", "6.0", "6.2", "7.0", "7.1", "7.2", "7.3", "7.4", "8.0", "8.1",
        ],
        test_cmd: "tox --current-env -epy39 -v --",
        eval_commands: &[],
        install: "python -m pip install -e .[test]",
    },
    Spec {
        repo: "sympy/sympy",
        versions: &[
            "0.7", "1.0", "1.1", "1.2", "1.4", "1.5", "1.6", "1.7", "1.8", "1.9", "1.10", "1.11",
            "1.12", "1.13", "1.14",
        ],
        test_cmd:
            "PYTHONWARNINGS='ignore::UserWarning,ignore::SyntaxWarning' bin/test -C --verbose",
        eval_commands: &[],
        install: "python -m pip install -e .",
    },
    Spec {
        repo: "pydata/xarray",
        versions: &[
            "0.12", "0.18", "0.19", "0.20", "2022.03", "2022.06", "2022.09", "2023.07", "2024.05",
        ],
        test_cmd: "pytest -rA",
        eval_commands: &[],
        install: "python -m pip install -e .",
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(repo: &str, version: &str) -> RepoSpec {
        builtin_spec(repo, version).unwrap_or_else(|| panic!("no spec for {repo} {version}"))
    }

    #[test]
    fn one_version_of_each_verified_repository() {
        let cases = [
            (
                "astropy/astropy",
                "5.1",
                "pytest -rA",
                OutputFormat::SwebenchPytestV2,
            ),
            (
                "astropy/astropy",
                "1.3",
                "pytest -rA -vv -o console_output_style=classic --tb=no",
                OutputFormat::SwebenchPytestV2,
            ),
            (
                "django/django",
                "4.0",
                "./tests/runtests.py --verbosity 2 --settings=test_sqlite --parallel 1",
                OutputFormat::Django,
            ),
            (
                "django/django",
                "1.9",
                "./tests/runtests.py --verbosity 2",
                OutputFormat::Django,
            ),
            (
                "pallets/flask",
                "2.3",
                "pytest -rA",
                OutputFormat::SwebenchPytest,
            ),
            (
                "matplotlib/matplotlib",
                "3.6",
                "pytest -rA",
                OutputFormat::SwebenchMatplotlib,
            ),
            (
                "pylint-dev/pylint",
                "2.15",
                "pytest -rA",
                OutputFormat::SwebenchPytestOptions,
            ),
            (
                "pytest-dev/pytest",
                "7.2",
                "pytest -rA",
                OutputFormat::SwebenchPytest,
            ),
            (
                "psf/requests",
                "2.26",
                "pytest -rA",
                OutputFormat::SwebenchPytestOptions,
            ),
            (
                "scikit-learn/scikit-learn",
                "1.3",
                "pytest -rA",
                OutputFormat::SwebenchPytestV2,
            ),
            (
                "mwaskom/seaborn",
                "0.12",
                "pytest --no-header -rA",
                OutputFormat::SwebenchSeaborn,
            ),
            (
                "sphinx-doc/sphinx",
                "7.2",
                "tox --current-env -epy39 -v --",
                OutputFormat::SwebenchPytestV2,
            ),
            (
                "sympy/sympy",
                "1.12",
                "PYTHONWARNINGS='ignore::UserWarning,ignore::SyntaxWarning' bin/test -C --verbose",
                OutputFormat::Sympy,
            ),
            (
                "pydata/xarray",
                "2022.06",
                "pytest -rA",
                OutputFormat::SwebenchPytest,
            ),
        ];
        for (repo, version, test_cmd, format) in cases {
            let spec = spec(repo, version);
            assert!(
                spec.test_command
                    .starts_with(". /opt/miniconda3/bin/activate && conda activate testbed && { "),
                "{}",
                spec.test_command
            );
            // The directives are appended, so the harness's command must come last.
            assert!(
                spec.test_command.ends_with(&format!("; {test_cmd}")),
                "{repo} {version}: {}",
                spec.test_command
            );
            assert_eq!(spec.test_format, format, "{repo}");
            assert_eq!(spec.python.as_deref(), Some(PYTHON));
        }
    }

    #[test]
    fn install_and_preparation_run_quietly_before_the_tests() {
        let django = spec("django/django", "3.0");
        assert_eq!(
            django.test_command,
            ". /opt/miniconda3/bin/activate && conda activate testbed && { sed -i \
             '/en_US.UTF-8/s/^# //g' /etc/locale.gen && locale-gen; python -m pip install -e .; } \
             >/dev/null 2>&1; ./tests/runtests.py --verbosity 2 --settings=test_sqlite --parallel 1"
        );
        assert_eq!(
            django.env,
            [
                ("LANG", "en_US.UTF-8"),
                ("LANGUAGE", "en_US:en"),
                ("LC_ALL", "en_US.UTF-8")
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
        );
        assert!(spec("sympy/sympy", "1.12").env.is_empty());
        assert!(spec("scikit-learn/scikit-learn", "0.22")
            .test_command
            .contains("{ python -m pip install -v --no-use-pep517 --no-build-isolation -e .; }"));
    }

    #[test]
    fn unknown_repositories_and_versions_have_no_spec() {
        assert_eq!(builtin_spec("marshmallow-code/marshmallow", "3.0"), None);
        assert_eq!(builtin_spec("django/django", "9.9"), None);
        assert_eq!(builtin_spec("django", "4.0"), None);
    }

    /// Every version of every repository in the table resolves, with the harness's reading.
    #[test]
    fn the_whole_table_resolves() {
        for entry in SPECS {
            for version in entry.versions {
                let spec = spec(entry.repo, version);
                assert!(spec.test_command.ends_with(entry.test_cmd));
            }
        }
        let repos: std::collections::BTreeSet<_> = SPECS.iter().map(|s| s.repo).collect();
        assert_eq!(repos.len(), 12);
    }
}
