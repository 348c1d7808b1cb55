//! SWE-bench's task instances, read from JSON Lines or a JSON array. Only the fields a run needs
//! are read; the dataset's others (`hints_text`, `created_at`, …) are ignored.

use std::collections::HashSet;
use std::path::Path;

use serde::{Deserialize, Deserializer, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Instance {
    pub instance_id: String,
    /// `owner/name`.
    pub repo: String,
    pub base_commit: String,
    pub problem_statement: String,
    #[serde(default)]
    pub test_patch: String,
    #[serde(rename = "FAIL_TO_PASS", default, deserialize_with = "test_list")]
    pub fail_to_pass: Vec<String>,
    #[serde(rename = "PASS_TO_PASS", default, deserialize_with = "test_list")]
    pub pass_to_pass: Vec<String>,
    #[serde(default, deserialize_with = "version")]
    pub version: String,
    #[serde(default)]
    pub environment_setup_commit: Option<String>,
}

impl Instance {
    /// The name the repository folder may have under `--repos`, and the instance id's prefix.
    pub fn repo_folder(&self) -> String {
        self.repo.replace('/', "__")
    }
}

#[derive(Debug, thiserror::Error)]
#[error("failed to read the instances in {path}{}: {message}", line.map(|l| format!(" (line {l})")).unwrap_or_default())]
pub struct InstancesError {
    pub path: String,
    pub line: Option<usize>,
    pub message: String,
}

/// The dataset stores the test lists as JSON-encoded strings (`"[\"test_a\", …]"`); hand-written
/// files usually hold plain lists. Both are read.
fn test_list<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Tests {
        List(Vec<String>),
        Encoded(String),
    }
    match Tests::deserialize(deserializer)? {
        Tests::List(tests) => Ok(tests),
        Tests::Encoded(text) if text.trim().is_empty() => Ok(Vec::new()),
        Tests::Encoded(text) => serde_json::from_str(&text).map_err(|e| {
            serde::de::Error::custom(format!("a test list string is not a JSON list: {e}"))
        }),
    }
}

/// Versions are strings in the dataset (`"3.0"`); a number written by hand is taken too.
fn version<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    match serde_json::Value::deserialize(deserializer)? {
        serde_json::Value::String(s) => Ok(s),
        serde_json::Value::Number(n) => Ok(n.to_string()),
        serde_json::Value::Null => Ok(String::new()),
        other => Err(serde::de::Error::custom(format!(
            "version must be a string, not {other}"
        ))),
    }
}

pub fn read_instances(path: &Path) -> Result<Vec<Instance>, InstancesError> {
    let fail = |line: Option<usize>, message: String| InstancesError {
        path: path.display().to_string(),
        line,
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| fail(None, e.to_string()))?;
    let instances = parse_instances(&text).map_err(|(line, message)| fail(line, message))?;
    if instances.is_empty() {
        return Err(fail(None, "the file holds no instance".to_owned()));
    }
    let mut seen = HashSet::new();
    for instance in &instances {
        if !seen.insert(instance.instance_id.as_str()) {
            return Err(fail(
                None,
                format!("instance {} appears twice", instance.instance_id),
            ));
        }
    }
    Ok(instances)
}

/// A JSON array when the text starts with `[`, JSON Lines otherwise (blank lines skipped).
fn parse_instances(text: &str) -> Result<Vec<Instance>, (Option<usize>, String)> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim_start().starts_with('[') {
        return serde_json::from_str(text).map_err(|e| (Some(e.line()), e.to_string()));
    }
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| serde_json::from_str(line).map_err(|e| (Some(i + 1), e.to_string())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINE: &str = r#"{"instance_id": "o__r-1", "repo": "o/r", "base_commit": "abc", "problem_statement": "  Text\n", "test_patch": "diff", "FAIL_TO_PASS": "[\"t::a\", \"t::b [x y]\"]", "PASS_TO_PASS": ["t::c"], "version": "1.2", "environment_setup_commit": "def", "hints_text": "ignored"}"#;

    #[test]
    fn json_lines_with_encoded_and_plain_test_lists() {
        let instances = parse_instances(&format!("{LINE}\n\n")).unwrap();
        let i = &instances[0];
        assert_eq!(i.instance_id, "o__r-1");
        assert_eq!(i.problem_statement, "  Text\n");
        assert_eq!(i.fail_to_pass, ["t::a", "t::b [x y]"]);
        assert_eq!(i.pass_to_pass, ["t::c"]);
        assert_eq!(i.version, "1.2");
        assert_eq!(i.repo_folder(), "o__r");
    }

    #[test]
    fn a_json_array_and_a_numeric_version() {
        let text = format!("[{}]", LINE.replace("\"1.2\"", "3.0"));
        let instances = parse_instances(&text).unwrap();
        assert_eq!(instances[0].version, "3.0");
    }

    #[test]
    fn a_malformed_line_is_named_by_its_number() {
        let text = format!("{LINE}\n\n{{\"instance_id\": \"x\"}}\n");
        let (line, message) = parse_instances(&text).unwrap_err();
        assert_eq!(line, Some(3));
        assert!(message.contains("missing field"), "{message}");
    }

    #[test]
    fn a_test_list_string_that_is_not_json_is_refused() {
        let text = LINE.replace(r#""[\"t::a\", \"t::b [x y]\"]""#, r#""t::a""#);
        let (line, message) = parse_instances(&text).unwrap_err();
        assert_eq!(line, Some(1));
        assert!(message.contains("not a JSON list"), "{message}");
    }
}
