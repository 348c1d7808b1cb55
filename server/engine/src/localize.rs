//! File-level localization (DESIGN 3.1): the repository structure shown to the model, the
//! parsing of its answers, and the vote across samples.

use std::collections::{BTreeMap, HashMap};

/// The most files one answer, and the vote, keep.
pub const MAX_LOCALIZED_FILES: usize = 5;

const SOURCE_EXTENSIONS: &[&str] = &[
    "py", "pyi", "pyx", "rs", "go", "java", "kt", "kts", "scala", "c", "h", "cc", "cpp", "cxx",
    "hh", "hpp", "hxx", "cs", "m", "mm", "swift", "js", "jsx", "mjs", "cjs", "ts", "tsx", "mts",
    "cts", "vue", "svelte", "rb", "php", "lua", "ex", "exs", "erl", "hs", "ml", "mli", "clj",
    "dart", "jl", "r",
];

/// Directory names whose contents are tests in every ecosystem we know of (Maven's
/// `src/test/java`, Rust's `tests/`, Jest's `__tests__`, Go's `testdata` fixtures). `testing` is
/// left out on purpose: packages such as `numpy.testing` ship it as library code.
const TEST_DIRECTORIES: &[&str] = &["test", "tests", "__tests__", "testdata"];

/// Directories of other projects' code (npm's `node_modules`, Go's and Composer's `vendor`).
const VENDORED_DIRECTORIES: &[&str] = &["node_modules", "vendor"];

/// Directories that build tools write into (Cargo's and Maven's `target`, bundlers' `dist`,
/// Gradle's and setuptools' `build`): generated, never the place of a fix.
const GENERATED_DIRECTORIES: &[&str] = &["target", "dist", "build"];

/// Whether localization shows a path: a source file that is not a test and does not lie in a
/// vendored or generated directory.
pub fn is_listed_source(path: &str) -> bool {
    is_source_file(path) && !is_test_file(path) && !is_vendored_or_generated(path)
}

/// Whether a path lies in a vendored or generated directory. A generated directory's name right
/// under `src/` is a package of that name (`src/build/` of the `build` package), not output.
pub fn is_vendored_or_generated(path: &str) -> bool {
    let components: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
    let Some((_, directories)) = components.split_last() else {
        return false;
    };
    directories.iter().enumerate().any(|(at, dir)| {
        let under_src = at > 0 && directories[at - 1] == "src";
        VENDORED_DIRECTORIES.contains(dir) || (GENERATED_DIRECTORIES.contains(dir) && !under_src)
    })
}

/// Whether a path names a source file by its extension. SWE-Swiss keeps only `.py`; other
/// languages' sources are admitted so the tool works beyond Python repositories.
pub fn is_source_file(path: &str) -> bool {
    let name = file_name(path);
    match name.rsplit_once('.') {
        Some((stem, extension)) if !stem.is_empty() => SOURCE_EXTENSIONS
            .iter()
            .any(|known| extension.eq_ignore_ascii_case(known)),
        _ => false,
    }
}

/// Whether a path looks like a test: under a `test`/`tests`/`__tests__` directory, or named as
/// test runners name test files (`test_*.py`, `*_test.go`, `*.test.ts`, `conftest.py`, …).
pub fn is_test_file(path: &str) -> bool {
    let mut components: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
    let Some(name) = components.pop() else {
        return false;
    };
    if components.iter().any(|dir| TEST_DIRECTORIES.contains(dir)) {
        return true;
    }
    let (stem, extension) = name.rsplit_once('.').unwrap_or((name, ""));
    if stem == "conftest" || stem == "test" || stem == "tests" {
        return true;
    }
    if stem.starts_with("test_") || stem.ends_with("_test") || stem.ends_with("_tests") {
        return true;
    }
    // `foo.test.ts`, `foo.spec.js`: JavaScript runners match on the second extension.
    if stem.ends_with(".test") || stem.ends_with(".spec") {
        return true;
    }
    // RSpec's `foo_spec.rb`, JUnit's `FooTest.java`; the capital keeps `Contest.java` a source.
    match extension {
        "rb" => stem.ends_with("_spec"),
        "java" | "kt" | "scala" | "cs" => {
            (stem.len() > 4 && stem.ends_with("Test"))
                || (stem.len() > 5 && stem.ends_with("Tests"))
        }
        _ => false,
    }
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

#[derive(Default)]
struct Directory<'a> {
    directories: BTreeMap<&'a str, Directory<'a>>,
    files: Vec<&'a str>,
}

/// The listed source files among `paths` ([`is_listed_source`]: tests, vendored and generated
/// directories left out) as an indented tree, laid out as SWE-Swiss prints its
/// structure (`show_project_structure`): 4 spaces a level, directories followed by `/`, one
/// entry a line, and in each directory its files, then its subdirectories (the reference's tree
/// is built by a top-down walk, which adds a directory's files before it meets the directories
/// below). Names are sorted within each group where the reference takes the file system's order.
pub fn structure_tree<'a>(paths: impl IntoIterator<Item = &'a str>) -> String {
    let mut root = Directory::default();
    for path in paths {
        if !is_listed_source(path) {
            continue;
        }
        let mut components: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
        let Some(name) = components.pop() else {
            continue;
        };
        let mut directory = &mut root;
        for component in components {
            directory = directory.directories.entry(component).or_default();
        }
        directory.files.push(name);
    }
    let mut out = String::new();
    print_directory(&mut root, 0, &mut out);
    out
}

fn print_directory(directory: &mut Directory<'_>, depth: usize, out: &mut String) {
    directory.files.sort_unstable();
    directory.files.dedup();
    let indent = "    ".repeat(depth);
    for file in &directory.files {
        out.push_str(&indent);
        out.push_str(file);
        out.push('\n');
    }
    for (name, child) in directory.directories.iter_mut() {
        out.push_str(&indent);
        out.push_str(name);
        out.push_str("/\n");
        print_directory(child, depth + 1, out);
    }
}

/// The files one localization answer names, most important first, at most
/// [`MAX_LOCALIZED_FILES`].
///
/// Reasoning before a `</think>` is ignored. The paths are read from the last fenced block, or
/// from every line when there is none; a block left open runs to the end of the answer. A line
/// counts only when, stripped of surrounding whitespace and backticks and of a leading `./` or
/// `/`, it is a path `known` accepts.
pub fn parse_localization(answer: &str, known: &dyn Fn(&str) -> bool) -> Vec<String> {
    let answer = answer
        .rfind("</think>")
        .map_or(answer, |at| &answer[at + "</think>".len()..]);

    let mut blocks: Vec<Vec<&str>> = Vec::new();
    let mut open: Option<Vec<&str>> = None;
    for line in answer.lines() {
        if line.trim_start().starts_with("```") {
            match open.take() {
                Some(block) => blocks.push(block),
                None => open = Some(Vec::new()),
            }
        } else if let Some(block) = open.as_mut() {
            block.push(line);
        }
    }
    blocks.extend(open);
    let lines: Vec<&str> = match blocks.pop() {
        Some(block) => block,
        None => answer.lines().collect(),
    };

    let mut files: Vec<String> = Vec::new();
    for line in lines {
        let path = line.trim().trim_matches('`').trim();
        let path = path
            .strip_prefix("./")
            .or_else(|| path.strip_prefix('/'))
            .unwrap_or(path);
        if path.is_empty() || !known(path) || files.iter().any(|f| f == path) {
            continue;
        }
        files.push(path.to_owned());
        if files.len() == MAX_LOCALIZED_FILES {
            break;
        }
    }
    files
}

/// Merges the answers of k localization samples: a file's votes are the samples that name it;
/// ties go to the better (lower) rank it reached in any sample, then to the earlier first
/// mention. Keeps the first `max`.
pub fn vote_files(samples: &[Vec<String>], max: usize) -> Vec<String> {
    struct Tally<'a> {
        path: &'a str,
        votes: usize,
        best_rank: usize,
        last_sample: usize,
    }
    let mut tallies: Vec<Tally<'_>> = Vec::new();
    let mut slot_of: HashMap<&str, usize> = HashMap::new();
    for (sample, files) in samples.iter().enumerate() {
        for (rank, path) in files.iter().enumerate() {
            let slot = *slot_of.entry(path.as_str()).or_insert_with(|| {
                tallies.push(Tally {
                    path,
                    votes: 0,
                    best_rank: rank,
                    last_sample: usize::MAX,
                });
                tallies.len() - 1
            });
            let tally = &mut tallies[slot];
            tally.best_rank = tally.best_rank.min(rank);
            // A sample that repeats a path still casts one vote for it.
            if tally.last_sample != sample {
                tally.last_sample = sample;
                tally.votes += 1;
            }
        }
    }
    // Stable sort: equal (votes, rank) keep the order of first mention.
    tallies.sort_by(|a, b| b.votes.cmp(&a.votes).then(a.best_rank.cmp(&b.best_rank)));
    tallies
        .into_iter()
        .take(max)
        .map(|tally| tally.path.to_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_files_by_extension() {
        for path in [
            "pkg/mod.py",
            "src/lib.rs",
            "web/app.ts",
            "cmd/main.go",
            "src/Main.java",
            "lib/x.c",
            "include/x.h",
            "a/b.cpp",
            "app/models/user.rb",
            "setup.py",
            "Module.PY",
        ] {
            assert!(is_source_file(path), "{path}");
        }
        for path in [
            "README.md",
            "setup.cfg",
            "Makefile",
            "data/x.json",
            "docs/conf.txt",
            ".py",
            "pkg/",
        ] {
            assert!(!is_source_file(path), "{path}");
        }
    }

    #[test]
    fn test_files_by_directory_and_name() {
        for path in [
            "tests/test_core.py",
            "pkg/tests/helpers.py",
            "test/unit/x.py",
            "src/__tests__/app.js",
            "pkg/test_core.py",
            "pkg/core_test.py",
            "pkg/conftest.py",
            "conftest.py",
            "app/tests.py",
            "cmd/server_test.go",
            "web/app.test.ts",
            "web/app.spec.js",
            "spec/models/user_spec.rb",
            "src/main/java/FooTest.java",
            "src/FooTests.cs",
        ] {
            assert!(is_test_file(path), "{path}");
        }
        for path in [
            "pkg/core.py",
            "numpy/testing/utils.py",
            "pkg/attestation.py",
            "pkg/latest.py",
            "pkg/contest.py",
            "src/Contest.java",
            "src/Test.java",
            "src/testimony/x.py",
        ] {
            assert!(!is_test_file(path), "{path}");
        }
    }

    #[test]
    fn structure_tree_prints_files_then_directories_indented() {
        let paths = [
            "setup.py",
            "README.md",
            "pkg/core.py",
            "pkg/__init__.py",
            "pkg/sub/deep.py",
            "pkg/sub/data.json",
            "pkg/tests/test_core.py",
            "pkg/zz.py",
            "tests/test_x.py",
            "docs/conf.py",
            "pkg/core.py",
        ];
        let want = "\
setup.py
docs/
    conf.py
pkg/
    __init__.py
    core.py
    zz.py
    sub/
        deep.py
";
        assert_eq!(structure_tree(paths), want);
    }

    #[test]
    fn structure_tree_of_a_multi_language_tree_leaves_out_tests_and_vendored_code() {
        let paths = [
            // Go: tests beside the code, fixtures in testdata, a vendored module.
            "go.mod",
            "cmd/app/main.go",
            "internal/calc/calc.go",
            "internal/calc/calc_test.go",
            "internal/calc/testdata/cases.go",
            "vendor/github.com/pkg/errors/errors.go",
            // TypeScript: tests by suffix and in __tests__, installed and built code.
            "web/src/app.ts",
            "web/src/view.tsx",
            "web/src/app.test.ts",
            "web/src/view.spec.tsx",
            "web/src/__tests__/app.ts",
            "web/node_modules/vitest/index.js",
            "web/dist/app.js",
            // Java: Maven's layout and its output.
            "java/src/main/java/calc/Geometry.java",
            "java/src/test/java/calc/GeometryTest.java",
            "java/target/classes/calc/Gen.java",
            // Rust: integration tests, benches' output.
            "rs/src/lib.rs",
            "rs/tests/it.rs",
            "rs/target/debug/build/out.rs",
            // Python: a package named after a generated folder is still a package.
            "py/src/build/__init__.py",
            "py/build/lib/build/__init__.py",
        ];
        let want = "\
cmd/
    app/
        main.go
internal/
    calc/
        calc.go
java/
    src/
        main/
            java/
                calc/
                    Geometry.java
py/
    src/
        build/
            __init__.py
rs/
    src/
        lib.rs
web/
    src/
        app.ts
        view.tsx
";
        assert_eq!(structure_tree(paths), want);
        assert!(is_vendored_or_generated("a/node_modules/b/c.js"));
        assert!(!is_vendored_or_generated("vendor.go"));
        assert!(!is_listed_source("web/src/app.test.ts"));
        assert!(is_listed_source("web/src/app.ts"));
    }

    #[test]
    fn structure_tree_leaves_out_directories_without_sources() {
        assert_eq!(structure_tree(["docs/index.md", "tests/test_a.py"]), "");
        assert_eq!(structure_tree([]), "");
    }

    fn known(path: &str) -> bool {
        [
            "pkg/a.py", "pkg/b.py", "pkg/c.py", "pkg/d.py", "pkg/e.py", "pkg/f.py", "setup.py",
        ]
        .contains(&path)
    }

    #[test]
    fn parses_the_last_fenced_block() {
        let answer = "Look at these:\n```\npkg/z.py\n```\nOn reflection:\n```text\n  pkg/b.py  \n`pkg/a.py`\n./pkg/c.py\n/setup.py\nnot a path\npkg/b.py\n```\nDone.";
        assert_eq!(
            parse_localization(answer, &known),
            ["pkg/b.py", "pkg/a.py", "pkg/c.py", "setup.py"]
        );
    }

    #[test]
    fn parses_bare_lines_without_a_fence() {
        let answer = "pkg/a.py\nsome prose pkg/b.py\npkg/c.py\n";
        assert_eq!(parse_localization(answer, &known), ["pkg/a.py", "pkg/c.py"]);
    }

    #[test]
    fn ignores_reasoning_and_caps_at_five() {
        let answer = "<think>\n```\npkg/f.py\n```\n</think>\n```\npkg/a.py\npkg/b.py\npkg/c.py\npkg/d.py\npkg/e.py\npkg/f.py\n```";
        assert_eq!(
            parse_localization(answer, &known),
            ["pkg/a.py", "pkg/b.py", "pkg/c.py", "pkg/d.py", "pkg/e.py"]
        );
    }

    #[test]
    fn an_unclosed_block_runs_to_the_end() {
        let answer = "```\npkg/a.py\npkg/b.py";
        assert_eq!(parse_localization(answer, &known), ["pkg/a.py", "pkg/b.py"]);
        assert!(parse_localization("", &known).is_empty());
    }

    fn sample(paths: &[&str]) -> Vec<String> {
        paths.iter().map(|p| (*p).to_owned()).collect()
    }

    #[test]
    fn votes_then_best_rank_then_first_mention() {
        let samples = [
            sample(&["a.py", "b.py", "c.py"]),
            sample(&["b.py", "d.py"]),
            sample(&["e.py", "b.py", "a.py"]),
            sample(&["f.py"]),
        ];
        // b: 3 votes. a: 2 votes. Then one vote each: e and f reached rank 0 (e first), d and c
        // rank 1 and 2.
        assert_eq!(
            vote_files(&samples, 10),
            ["b.py", "a.py", "e.py", "f.py", "d.py", "c.py"]
        );
        assert_eq!(vote_files(&samples, 2), ["b.py", "a.py"]);
        assert!(vote_files(&[], 5).is_empty());
    }

    #[test]
    fn a_sample_votes_once_per_file() {
        let samples = [
            sample(&["x.py", "x.py"]),
            sample(&["y.py"]),
            sample(&["y.py"]),
        ];
        assert_eq!(vote_files(&samples, 5), ["y.py", "x.py"]);
    }
}
