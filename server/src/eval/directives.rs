//! The tests an instance runs, as SWE-bench's harness picks them (`get_test_directives` in
//! `swebench/harness/test_spec/python.py`, github.com/SWE-bench/SWE-bench v4.1.0): every file the
//! `test_patch` touches, read off its `diff --git` headers, less data files; for Django, as the
//! dotted module names its `tests/runtests.py` takes. sympy's `bin/test` and pytest take the
//! paths as they are.

use std::sync::LazyLock;

use regex::Regex;

/// `NON_TEST_EXTS` in `swebench/harness/constants`: the harness drops files ending in these. Its
/// `csv` has no dot, so it drops `data_csv` too, and so does this.
const NON_TEST_ENDINGS: [&str; 11] = [
    ".json", ".png", "csv", ".txt", ".md", ".jpg", ".jpeg", ".pkl", ".yml", ".yaml", ".toml",
];

pub fn test_directives(repo: &str, test_patch: &str) -> Vec<String> {
    // The harness matches anywhere in the patch, a header or not, and takes the path after the
    // header's last ` b/`.
    static HEADER: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"diff --git a/.* b/(.*)").unwrap());
    let files = HEADER
        .captures_iter(test_patch)
        .map(|found| found[1].to_owned())
        .filter(|file| !NON_TEST_ENDINGS.iter().any(|end| file.ends_with(end)));
    if repo == "django/django" {
        files.map(|file| django_module(&file)).collect()
    } else {
        files.collect()
    }
}

/// `tests/admin_views/test_forms.py` → `admin_views.test_forms`.
fn django_module(file: &str) -> String {
    let file = file.strip_suffix(".py").unwrap_or(file);
    let file = file.strip_prefix("tests/").unwrap_or(file);
    file.replace('/', ".")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patch(files: &[&str]) -> String {
        files
            .iter()
            .map(|file| {
                format!(
                    "diff --git a/{file} b/{file}\n--- a/{file}\n+++ b/{file}\n@@ -1 +1,2 @@\n x\n+y\n"
                )
            })
            .collect()
    }

    #[test]
    fn django_takes_dotted_modules() {
        let test_patch = patch(&[
            "tests/admin_views/test_forms.py",
            "tests/migrations/test_migrations_squashed/0001_initial.py",
            "tests/admin_views/fixtures/data.json",
            "tests/i18n/sampleproject/locale/fr/LC_MESSAGES/django.po",
        ]);
        assert_eq!(
            test_directives("django/django", &test_patch),
            [
                "admin_views.test_forms",
                "migrations.test_migrations_squashed.0001_initial",
                "i18n.sampleproject.locale.fr.LC_MESSAGES.django.po",
            ]
        );
    }

    #[test]
    fn sympy_takes_paths() {
        let test_patch = patch(&[
            "sympy/printing/tests/test_latex.py",
            "sympy/core/tests/test_basic.py",
            "doc/src/modules/printing.md",
        ]);
        assert_eq!(
            test_directives("sympy/sympy", &test_patch),
            [
                "sympy/printing/tests/test_latex.py",
                "sympy/core/tests/test_basic.py"
            ]
        );
    }

    #[test]
    fn pytest_repositories_take_paths_less_data_files() {
        let test_patch = patch(&[
            "tests/test_basic.py",
            "tests/static/config.toml",
            "tests/data/table.csv",
            "tests/data/rawcsv",
            "tests/conftest.py",
        ]);
        assert_eq!(
            test_directives("pallets/flask", &test_patch),
            ["tests/test_basic.py", "tests/conftest.py"]
        );
    }

    #[test]
    fn a_new_file_and_a_rename_give_the_new_path() {
        let test_patch = "diff --git a/tests/test_new.py b/tests/test_new.py\nnew file mode \
                          100644\n--- /dev/null\n+++ b/tests/test_new.py\n@@ -0,0 +1 @@\n+x\n\
                          diff --git a/tests/old.py b/tests/test_moved.py\nsimilarity index \
                          100%\nrename from tests/old.py\nrename to tests/test_moved.py\n";
        assert_eq!(
            test_directives("pydata/xarray", test_patch),
            ["tests/test_new.py", "tests/test_moved.py"]
        );
    }
}
