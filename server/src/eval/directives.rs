//! The tests an instance's `test_patch` names, as SWE-bench's harness computes its test
//! directives (`get_test_directives` in `swebench/harness/test_spec`): the `b/` path of every
//! `diff --git` header, files with a non-test extension dropped.
//!
//! The eval branch carries the generic rule only; the evalparsers branch replaces this file on
//! merge with the runner-specific spellings (Django's dotted modules, sympy's).

const NON_TEST_EXTENSIONS: &[&str] = &[
    ".json", ".png", "csv", ".txt", ".md", ".jpg", ".jpeg", ".pkl", ".yml", ".yaml", ".toml",
];

pub fn test_directives(_repo: &str, test_patch: &str) -> Vec<String> {
    let mut directives: Vec<String> = Vec::new();
    for line in test_patch.lines() {
        let Some(rest) = line.strip_prefix("diff --git a/") else {
            continue;
        };
        let Some((_, path)) = rest.split_once(" b/") else {
            continue;
        };
        if NON_TEST_EXTENSIONS.iter().any(|ext| path.ends_with(ext)) {
            continue;
        }
        if !directives.iter().any(|d| d == path) {
            directives.push(path.to_owned());
        }
    }
    directives
}
