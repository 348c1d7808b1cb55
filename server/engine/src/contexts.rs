//! Repair contexts (DESIGN 3.1): as SWE-Swiss runs it, each localization answer is its own
//! context, its top files merged with retrieval's top files (`fl/combine.py`), and the repair
//! samples are split evenly over the contexts (10 each of 40 over 4).

use serde::{Deserialize, Serialize};

/// One answer's files merged with retrieval's as `combine.py` merges them: a `Counter` over the
/// first `model_top` of the answer and the first `retrieval_top` retrieved, in
/// `most_common()` order (files in both first, then the answer's, then retrieval's, each in
/// its own order).
pub fn combine(
    answer: &[String],
    retrieved: &[String],
    model_top: usize,
    retrieval_top: usize,
) -> Vec<String> {
    let mut counted: Vec<(&String, usize)> = Vec::new();
    let picks = answer
        .iter()
        .take(model_top)
        .chain(retrieved.iter().take(retrieval_top));
    for file in picks {
        match counted.iter_mut().find(|(f, _)| *f == file) {
            Some((_, count)) => *count += 1,
            None => counted.push((file, 1)),
        }
    }
    // Stable, as `Counter.most_common` is: equal counts keep their first-insertion order.
    counted.sort_by_key(|c| std::cmp::Reverse(c.1));
    counted.into_iter().map(|(f, _)| f.clone()).collect()
}

/// One repair prompt's files and how many samples it is asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepairContext {
    pub files: Vec<String>,
    pub samples: usize,
    /// The localization answers (indices) that gave these files.
    pub answers: Vec<usize>,
}

/// Splits `total` samples evenly over one context per answer (the remainder to the first
/// ones), then merges identical contexts, adding their shares, so the server prefills each
/// distinct prompt once. A context whose share is 0 (fewer samples than answers) is dropped.
pub fn repair_contexts(per_answer: &[Vec<String>], total: usize) -> Vec<RepairContext> {
    let k = per_answer.len();
    let mut contexts: Vec<RepairContext> = Vec::new();
    for (answer, files) in per_answer.iter().enumerate() {
        let share = total / k + usize::from(answer < total % k);
        if share == 0 {
            continue;
        }
        match contexts.iter_mut().find(|c| c.files == *files) {
            Some(context) => {
                context.samples += share;
                context.answers.push(answer);
            }
            None => contexts.push(RepairContext {
                files: files.clone(),
                samples: share,
                answers: vec![answer],
            }),
        }
    }
    contexts
}

/// The folders (ending in `/`) and files an irrelevant-folders answer names, read as SWE-Swiss's
/// `localize_irrelevant` reads them: every line of the answer that ends in `/` or `.py`. Lines
/// are trimmed, reasoning before a `</think>` is ignored, and any source file (by
/// `is_source`) counts where the reference counts only `.py`.
pub fn parse_irrelevant_folders(answer: &str, is_source: &dyn Fn(&str) -> bool) -> Vec<String> {
    let answer = answer
        .rfind("</think>")
        .map_or(answer, |at| &answer[at + "</think>".len()..]);
    answer
        .trim()
        .lines()
        .map(str::trim)
        .filter(|line| line.ends_with('/') || line.ends_with(".py") || is_source(line))
        .map(str::to_owned)
        .collect()
}

/// Whether a path lies under one of the irrelevant prefixes, compared as the reference does,
/// with `startswith`.
pub fn is_irrelevant(path: &str, irrelevant: &[String]) -> bool {
    irrelevant
        .iter()
        .any(|prefix| path.starts_with(prefix.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(paths: &[&str]) -> Vec<String> {
        paths.iter().map(|p| (*p).to_owned()).collect()
    }

    #[test]
    fn combine_puts_shared_files_first_then_the_answer_then_retrieval() {
        let answer = files(&["a.py", "b.py", "c.py", "d.py"]);
        let retrieved = files(&["x.py", "b.py", "y.py", "a.py"]);
        assert_eq!(
            combine(&answer, &retrieved, 3, 3),
            ["b.py", "a.py", "c.py", "x.py", "y.py"]
        );
        assert_eq!(
            combine(&[], &retrieved, 3, 3),
            ["x.py", "b.py", "y.py"],
            "an answer naming nothing leaves retrieval's files"
        );
        assert_eq!(combine(&answer, &retrieved, 1, 0), ["a.py"]);
    }

    #[test]
    fn samples_split_evenly_and_identical_contexts_merge() {
        let a = files(&["a.py"]);
        let b = files(&["b.py"]);
        let contexts = repair_contexts(&[a.clone(), b.clone(), a.clone(), b.clone()], 40);
        assert_eq!(
            contexts,
            [
                RepairContext {
                    files: a.clone(),
                    samples: 20,
                    answers: vec![0, 2]
                },
                RepairContext {
                    files: b.clone(),
                    samples: 20,
                    answers: vec![1, 3]
                },
            ]
        );
        let shares: Vec<usize> = repair_contexts(
            &[a.clone(), b.clone(), files(&["c.py"]), files(&["d.py"])],
            10,
        )
        .iter()
        .map(|c| c.samples)
        .collect();
        assert_eq!(
            shares,
            [3, 3, 2, 2],
            "the remainder goes to the first contexts"
        );
        let few = repair_contexts(&[a.clone(), b.clone(), files(&["c.py"])], 2);
        assert_eq!(few.iter().map(|c| c.samples).sum::<usize>(), 2);
        assert_eq!(few.len(), 2);
    }

    #[test]
    fn irrelevant_folders_are_read_line_by_line() {
        let answer = "<think>maybe src/ too?\n</think>\n```\ndocs/\nscripts/tools/\n  examples/  \nsetup.py\nnot a folder\n```\n";
        let is_source = |p: &str| p.ends_with(".rs");
        let folders = parse_irrelevant_folders(answer, &is_source);
        assert_eq!(
            folders,
            ["docs/", "scripts/tools/", "examples/", "setup.py"]
        );
        assert!(is_irrelevant("docs/conf.py", &folders));
        assert!(is_irrelevant("scripts/tools/x.py", &folders));
        assert!(!is_irrelevant("scripts/run.py", &folders));
        assert!(!is_irrelevant("src/lib.py", &folders));
    }
}
