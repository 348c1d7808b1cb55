//! A repository structure too large for the localization prompt (a monorepo's tens of thousands
//! of files would overflow the model's context and be refused): the files the issue's words point
//! at go in first, then the shallowest, as many as fit the budget, and a last line says how many
//! were left out. A structure that fits is left exactly as SWE-Swiss prints it.

use std::collections::HashSet;

use super::localize::structure_tree;
use super::tokens::estimate_tokens;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FittedStructure {
    pub text: String,
    /// Source files in `text`.
    pub shown: usize,
    /// Source files in the repository.
    pub total: usize,
}

impl FittedStructure {
    pub fn is_whole(&self) -> bool {
        self.shown == self.total
    }
}

/// `paths` are the non-test source files; `budget_tokens` bounds the text, the note included.
pub fn fit_structure(paths: &[&str], issue: &str, budget_tokens: usize) -> FittedStructure {
    let total = paths.len();
    let whole = structure_tree(paths.iter().copied());
    if estimate_tokens(&whole) <= budget_tokens {
        return FittedStructure {
            text: whole,
            shown: total,
            total,
        };
    }
    let words = words(issue);
    let mut ranked: Vec<(usize, usize, &str)> = paths
        .iter()
        .map(|path| (relevance(path, &words), path.matches('/').count(), *path))
        .collect();
    ranked.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(b.2)));
    let order: Vec<&str> = ranked.into_iter().map(|(_, _, path)| path).collect();

    let render = |shown: usize| {
        let mut text = structure_tree(order[..shown].iter().copied());
        text.push_str(&format!(
            "… ({shown} of {total} source files shown; the others were left out to fit the prompt)\n"
        ));
        text
    };
    // The tree of a prefix grows with the prefix, so the longest prefix that fits is found by
    // bisection: a handful of renders even for 100,000 files.
    let (mut fits, mut over) = (0, total);
    while over - fits > 1 {
        let middle = fits + (over - fits) / 2;
        if estimate_tokens(&render(middle)) <= budget_tokens {
            fits = middle;
        } else {
            over = middle;
        }
    }
    FittedStructure {
        text: render(fits),
        shown: fits,
        total,
    }
}

/// The issue's identifiers and words, lower-cased: `calc.ops.divide()` gives calc, ops, divide.
fn words(issue: &str) -> HashSet<String> {
    issue
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|word| word.len() >= 2)
        .map(str::to_lowercase)
        .collect()
}

/// How many of a path's directories and its file stem the issue names.
fn relevance(path: &str, words: &HashSet<String>) -> usize {
    let mut parts: Vec<&str> = path.split('/').collect();
    if let Some(name) = parts.pop() {
        parts.push(name.split_once('.').map_or(name, |(stem, _)| stem));
    }
    parts
        .iter()
        .filter(|part| words.contains(&part.to_lowercase()))
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn many_files() -> Vec<String> {
        let mut paths: Vec<String> = (0..400)
            .map(|i| format!("pkg{}/sub{}/module_{i}.py", i % 20, i % 7))
            .collect();
        paths.push("deep/a/b/c/calc/ops.py".to_owned());
        paths.push("setup.py".to_owned());
        paths
    }

    #[test]
    fn a_structure_that_fits_is_the_plain_tree() {
        let paths = ["calc/ops.py", "calc/__init__.py"];
        let fitted = fit_structure(&paths, "divide() floors", 1_000);
        assert_eq!(fitted.text, structure_tree(paths));
        assert!(fitted.is_whole());
    }

    #[test]
    fn the_files_the_issue_names_go_in_first_then_the_shallowest() {
        let paths = many_files();
        let refs: Vec<&str> = paths.iter().map(String::as_str).collect();
        let budget = 300;
        let fitted = fit_structure(&refs, "`calc.ops.divide(7, 2)` returns 3", budget);
        assert!(estimate_tokens(&fitted.text) <= budget, "{}", fitted.text);
        assert!(fitted.shown > 1 && fitted.shown < fitted.total);
        assert_eq!(fitted.total, 402);
        assert!(fitted.text.contains("ops.py"), "{}", fitted.text);
        // The named file and then the top-level one are in; the tree lists a directory's files
        // before its subdirectories.
        assert!(
            fitted.text.starts_with("setup.py\ndeep/\n"),
            "{}",
            fitted.text
        );
        assert!(fitted.text.ends_with(&format!(
            "… ({} of 402 source files shown; the others were left out to fit the prompt)\n",
            fitted.shown
        )));
        // The longest prefix that fits: one more file would not.
        let bigger = fit_structure(&refs, "`calc.ops.divide(7, 2)` returns 3", budget + 20);
        assert!(bigger.shown > fitted.shown);
    }

    #[test]
    fn a_budget_too_small_for_any_file_keeps_the_note() {
        let paths = many_files();
        let refs: Vec<&str> = paths.iter().map(String::as_str).collect();
        let fitted = fit_structure(&refs, "nothing relevant", 5);
        assert_eq!(fitted.shown, 0);
        assert!(fitted.text.starts_with("… (0 of 402"));
    }
}
