//! The file section of the repair (and reproduction) prompt: each localized file whole, within a
//! token budget.

/// Without the model's tokenizer at hand, four bytes a token is the usual estimate for code; it
/// errs on the generous side for Python, so the budget is a soft ceiling.
pub fn estimate_tokens(text: &str) -> usize {
    text.len().div_ceil(4)
}

/// One file as the prompt shows it.
pub fn file_block(path: &str, content: &str) -> String {
    let newline = if content.ends_with('\n') || content.is_empty() {
        ""
    } else {
        "\n"
    };
    format!("### {path}\n--- BEGIN FILE ---\n```\n{content}{newline}```\n--- END FILE ---\n")
}

/// The localized files, most important first, as many as fit in `budget_tokens`: a file that
/// would overflow is skipped and the next tried; when none fits, the first goes in whole,
/// since a prompt without code cannot produce an edit.
pub fn files_section(
    files: &[(String, std::sync::Arc<str>)],
    budget_tokens: usize,
) -> FilesSection {
    let mut text = String::new();
    let mut included = Vec::new();
    let mut skipped = Vec::new();
    let mut used = 0;
    for (path, content) in files {
        let block = file_block(path, content);
        let cost = estimate_tokens(&block);
        if used + cost <= budget_tokens {
            used += cost;
            text.push_str(&block);
            text.push('\n');
            included.push(path.clone());
        } else {
            skipped.push(path.clone());
        }
    }
    if included.is_empty() {
        if let Some((path, content)) = files.first() {
            text = file_block(path, content);
            included.push(path.clone());
            skipped.retain(|p| p != path);
        }
    }
    FilesSection {
        text,
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
    use std::sync::Arc;

    fn file(path: &str, bytes: usize) -> (String, Arc<str>) {
        (path.to_owned(), Arc::from("x".repeat(bytes) + "\n"))
    }

    #[test]
    fn an_overflowing_file_is_skipped_and_the_next_tried() {
        let files = [file("a.py", 100), file("big.py", 4000), file("c.py", 100)];
        let section = files_section(&files, 200);
        assert_eq!(section.included, ["a.py", "c.py"]);
        assert_eq!(section.skipped, ["big.py"]);
        assert!(section.text.contains("### a.py\n--- BEGIN FILE ---\n"));
    }

    #[test]
    fn when_nothing_fits_the_first_goes_in_whole() {
        let files = [file("big.py", 4000), file("bigger.py", 8000)];
        let section = files_section(&files, 10);
        assert_eq!(section.included, ["big.py"]);
        assert_eq!(section.skipped, ["bigger.py"]);
        assert!(section.text.contains(&"x".repeat(4000)));
    }
}
