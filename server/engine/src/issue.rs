//! The issue a job fixes, and reading it from a local file or standard input.

use std::io::Read;
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Issue {
    pub title: String,
    pub body: String,
    pub url: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    #[error("failed to read the issue file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("failed to read the issue: {0} is empty")]
    Empty(String),
}

impl Issue {
    /// The first non-blank line is the title (a Markdown heading's `#`s dropped), the rest the body.
    pub fn from_text(text: &str, origin: &str) -> Result<Issue, IssueError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut lines = text.lines().skip_while(|l| l.trim().is_empty());
        let title = match lines.next() {
            Some(line) => line.trim().trim_start_matches('#').trim().to_owned(),
            None => return Err(IssueError::Empty(origin.to_owned())),
        };
        let body = lines.collect::<Vec<_>>().join("\n").trim().to_owned();
        if title.is_empty() && body.is_empty() {
            return Err(IssueError::Empty(origin.to_owned()));
        }
        Ok(Issue {
            title,
            body,
            url: None,
        })
    }

    /// An issue shown to the model exactly as given (SWE-bench's `problem_statement`): no title
    /// split and no trimming, since the model was trained and is scored on the dataset's text.
    pub fn verbatim(text: impl Into<String>) -> Issue {
        Issue {
            title: text.into(),
            body: String::new(),
            url: None,
        }
    }

    /// `-` reads standard input; anything else is a path to a text or Markdown file.
    pub fn from_reference(reference: &str) -> Result<Issue, IssueError> {
        if reference == "-" {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|source| IssueError::Read {
                    path: "standard input".into(),
                    source,
                })?;
            return Issue::from_text(&text, "standard input");
        }
        let text =
            std::fs::read_to_string(Path::new(reference)).map_err(|source| IssueError::Read {
                path: reference.to_owned(),
                source,
            })?;
        Issue::from_text(&text, reference)
    }

    /// The issue as the prompts show it.
    pub fn prompt_text(&self) -> String {
        if self.body.is_empty() {
            self.title.clone()
        } else {
            format!("{}\n\n{}", self.title, self.body)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_line_is_the_title() {
        let issue =
            Issue::from_text("\n# Division by zero\n\nWhen b is 0 it crashes.\n", "x").unwrap();
        assert_eq!(issue.title, "Division by zero");
        assert_eq!(issue.body, "When b is 0 it crashes.");
        assert_eq!(
            issue.prompt_text(),
            "Division by zero\n\nWhen b is 0 it crashes."
        );
    }

    #[test]
    fn a_verbatim_issue_is_prompted_unchanged() {
        let text = "\n  Title line\n\nBody with `code`\n\n";
        assert_eq!(Issue::verbatim(text).prompt_text(), text);
    }

    #[test]
    fn blank_text_is_refused() {
        let err = Issue::from_text(" \n\n  \n", "issue.md").unwrap_err();
        assert_eq!(
            err.to_string(),
            "failed to read the issue: issue.md is empty"
        );
    }
}
