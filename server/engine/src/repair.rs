//! The file section of the repair (and reproduction) prompt, as SWE-Swiss builds it
//! (`construct_topn_file_context`): the localized files whole, each as `### path` and its
//! content, separated by a blank line, within a token budget. The prompt template puts the whole
//! section in one `--- BEGIN FILE ---` block.

use crate::tokens::TokenCount;

/// One file as the section shows it. The reference reads a file as its lines joined by `\n`,
/// which drops the final newline; the rest of the content is shown as it is, so that a SEARCH
/// text copied from the prompt matches the file.
pub fn file_entry(path: &str, content: &str) -> String {
    let content = content.strip_suffix('\n').unwrap_or(content);
    let content = content.strip_suffix('\r').unwrap_or(content);
    format!("### {path}\n{content}")
}

/// The localized files, most important first, as many as fit in `budget_tokens` counted by
/// `count` entry by entry (as the reference counts them): a file that would overflow is skipped
/// and the next tried; when none fits, the first goes in whole, since a prompt without code
/// cannot produce an edit. The text has no trailing whitespace (the reference's `.rstrip()`).
pub fn files_section(
    files: &[(String, std::sync::Arc<str>)],
    budget_tokens: usize,
    count: &dyn TokenCount,
) -> FilesSection {
    let mut entries = Vec::new();
    let mut included = Vec::new();
    let mut skipped = Vec::new();
    let mut used = 0;
    for (path, content) in files {
        let entry = file_entry(path, content);
        let cost = count.count(&entry);
        if used + cost <= budget_tokens {
            used += cost;
            entries.push(entry);
            included.push(path.clone());
        } else {
            skipped.push(path.clone());
        }
    }
    if included.is_empty() {
        if let Some((path, content)) = files.first() {
            entries.push(file_entry(path, content));
            included.push(path.clone());
            skipped.retain(|p| p != path);
        }
    }
    FilesSection {
        text: entries.join("\n\n").trim_end().to_owned(),
        included,
        skipped,
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilesSection {
    pub text: String,
    pub included: Vec<String>,
    pub skipped: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokens::Estimate;
    use std::sync::Arc;

    fn file(path: &str, bytes: usize) -> (String, Arc<str>) {
        (path.to_owned(), Arc::from("x".repeat(bytes) + "\n"))
    }

    #[test]
    fn an_overflowing_file_is_skipped_and_the_next_tried() {
        let files = [file("a.py", 100), file("big.py", 4000), file("c.py", 100)];
        let section = files_section(&files, 200, &Estimate);
        assert_eq!(section.included, ["a.py", "c.py"]);
        assert_eq!(section.skipped, ["big.py"]);
        let x = "x".repeat(100);
        assert_eq!(section.text, format!("### a.py\n{x}\n\n### c.py\n{x}"));
    }

    #[test]
    fn when_nothing_fits_the_first_goes_in_whole() {
        let files = [file("big.py", 4000), file("bigger.py", 8000)];
        let section = files_section(&files, 10, &Estimate);
        assert_eq!(section.included, ["big.py"]);
        assert_eq!(section.skipped, ["bigger.py"]);
        assert_eq!(section.text, format!("### big.py\n{}", "x".repeat(4000)));
    }

    /// Counts lines, so the test states the budget in units it can see.
    struct Lines;
    impl TokenCount for Lines {
        fn count(&self, text: &str) -> usize {
            text.lines().count()
        }
    }

    #[test]
    fn the_budget_is_measured_with_the_given_count() {
        let files = [
            ("a.py".to_owned(), Arc::from("1\n2\n")),
            ("b.py".to_owned(), Arc::from("1\n2\n3\n")),
            ("c.py".to_owned(), Arc::from("1\n")),
        ];
        // Entries cost 3, 4 and 2 lines: 3 + 2 fit in 6, 3 + 4 does not.
        let section = files_section(&files, 6, &Lines);
        assert_eq!(section.included, ["a.py", "c.py"]);
        assert_eq!(section.text, "### a.py\n1\n2\n\n### c.py\n1");
    }

    #[test]
    fn only_the_final_newline_is_dropped() {
        assert_eq!(file_entry("a.py", "x\n\n"), "### a.py\nx\n");
        assert_eq!(file_entry("a.py", "x"), "### a.py\nx");
        assert_eq!(file_entry("a.py", "x\r\n"), "### a.py\nx");
        assert_eq!(file_entry("a.py", ""), "### a.py\n");
    }
}
