//! Model-written reproduction tests (DESIGN 3.4): pull the script out of an answer, read what it
//! printed, and choose one script by normalized majority among those that reproduce the issue.

use crate::engine::python_syntax::normalized_lines;

pub const REPRODUCED: &str = "Issue reproduced";
pub const RESOLVED: &str = "Issue resolved";
pub const OTHER: &str = "Other issues";

/// Where the script goes in the sandbox: at the root, so `import package` finds the copy under
/// test, with a name no project uses.
pub const SCRIPT_PATH: &str = "swiss_reproduce_issue.py";

/// What one run of a reproduction script said.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScriptVerdict {
    Reproduced,
    Resolved,
    Other,
}

/// The last fenced block of the answer (after any `</think>`), or the whole answer when it has no
/// fence but looks like Python.
pub fn extract_script(answer: &str) -> Option<String> {
    let answer = answer
        .rsplit_once("</think>")
        .map_or(answer, |(_, after)| after);
    let mut blocks = Vec::new();
    let mut current: Option<Vec<&str>> = None;
    for line in answer.lines() {
        if line.trim_start().starts_with("```") {
            match current.take() {
                Some(block) => blocks.push(block.join("\n")),
                None => current = Some(Vec::new()),
            }
        } else if let Some(block) = current.as_mut() {
            block.push(line);
        }
    }
    let script = match blocks.pop() {
        Some(block) => block,
        None if answer.contains("print(") => answer.to_owned(),
        None => return None,
    };
    let script = script.trim_matches('\n').to_owned() + "\n";
    script.contains(REPRODUCED).then_some(script)
}

/// Exactly one of the three messages counts; a script that prints two of them says nothing clear.
pub fn read_verdict(stdout: &str) -> ScriptVerdict {
    let reproduced = stdout.contains(REPRODUCED);
    let resolved = stdout.contains(RESOLVED);
    let other = stdout.contains(OTHER);
    match (reproduced, resolved, other) {
        (true, false, false) => ScriptVerdict::Reproduced,
        (false, true, false) => ScriptVerdict::Resolved,
        _ => ScriptVerdict::Other,
    }
}

/// Two scripts that differ only in comments, formatting or the name of their test function are
/// one vote. As SWE-Swiss's `normalize_test` (`test/generate_reproduction_tests.py`) does, the
/// name called on the last line becomes `test_func` wherever it appears.
pub fn normalized_script(script: &str) -> String {
    let text = match normalized_lines(script) {
        Some(lines) => lines.join("\n"),
        None => script.split_whitespace().collect::<Vec<_>>().join(" "),
    };
    let called = text
        .lines()
        .last()
        .and_then(|line| line.split_once('('))
        .map(|(name, _)| name.trim())
        .filter(|name| !name.is_empty());
    match called {
        Some(name) => text.replace(name, "test_func"),
        None => text,
    }
}

/// Among the scripts that reproduced the issue on the baseline (given by sample index, in sample
/// order), the one whose normalized text has the most votes; the earliest wins a tie.
pub fn choose<'a>(reproducing: &[(usize, &'a str)]) -> Option<(usize, &'a str)> {
    let keys: Vec<String> = reproducing
        .iter()
        .map(|(_, s)| normalized_script(s))
        .collect();
    let mut best: Option<(usize, usize)> = None;
    for (i, key) in keys.iter().enumerate() {
        let votes = keys.iter().filter(|k| *k == key).count();
        if best.is_none_or(|(_, v)| votes > v) {
            best = Some((i, votes));
        }
    }
    best.map(|(i, _)| reproducing[i])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_block_is_the_script() {
        let answer = "<think>```python\nnot this\n```</think>Here:\n```python\nimport x\nprint(\"Issue reproduced\")\n```\nDone.";
        assert_eq!(
            extract_script(answer).unwrap(),
            "import x\nprint(\"Issue reproduced\")\n"
        );
        assert_eq!(extract_script("no code at all"), None);
        assert_eq!(
            extract_script("```python\nprint('hello')\n```"),
            None,
            "a script that cannot say 'reproduced' is useless"
        );
    }

    #[test]
    fn one_message_exactly() {
        assert_eq!(
            read_verdict("setup\nIssue reproduced\n"),
            ScriptVerdict::Reproduced
        );
        assert_eq!(read_verdict("Issue resolved"), ScriptVerdict::Resolved);
        assert_eq!(
            read_verdict("Issue reproduced\nIssue resolved"),
            ScriptVerdict::Other
        );
        assert_eq!(read_verdict("Traceback ..."), ScriptVerdict::Other);
    }

    #[test]
    fn majority_by_normalized_text_earliest_wins_ties() {
        let a = "x = f(1)  # call\nprint('Issue reproduced')\n";
        let a2 = "x=f(1)\nprint('Issue reproduced')\n";
        let b = "y = g(2)\nprint('Issue reproduced')\n";
        assert_eq!(choose(&[(0, b), (2, a), (5, a2)]), Some((2, a)));
        assert_eq!(choose(&[(1, b), (3, a)]), Some((1, b)));
        assert_eq!(choose(&[]), None);
    }

    #[test]
    fn the_test_functions_name_does_not_split_the_vote() {
        let a = "def test_divide():\n    print('Issue reproduced')\n\ntest_divide()\n";
        let b = "def check_it():\n    print('Issue reproduced')\n\ncheck_it()\n";
        assert_eq!(normalized_script(a), normalized_script(b));
        assert!(normalized_script(a).contains("def test_func"));
        let c = "def check_it():\n    print('Issue resolved')\n\ncheck_it()\n";
        assert_ne!(normalized_script(a), normalized_script(c));
    }
}
