//! Issue references in a line of code or a comment: `#123`, `owner/repo#123`, and issue URLs
//! (`…/issues/123`, GitLab's `…/-/issues/123`), for the "Fix issue #123" code action.

/// The references in `line`, in order, without duplicates.
pub fn find(line: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    let mut push = |reference: String| {
        if !found.contains(&reference) {
            found.push(reference);
        }
    };
    for token in line.split(|c: char| {
        c.is_whitespace()
            || matches!(
                c,
                '(' | ')' | '[' | ']' | '<' | '>' | '"' | '\'' | '`' | ','
            )
    }) {
        let token = token.trim_end_matches(['.', ':', ';', '!', '?']);
        if let Some(url) = issue_url(token) {
            push(url.to_owned());
            continue;
        }
        if let Some(reference) = hash_reference(token) {
            push(reference.to_owned());
        }
    }
    found
}

fn issue_url(token: &str) -> Option<&str> {
    let rest = token
        .strip_prefix("https://")
        .or_else(|| token.strip_prefix("http://"))?;
    let (_, number) = rest.rsplit_once("/issues/")?;
    let number = number.split(['#', '?']).next()?;
    is_number(number).then_some(token)
}

/// `#123` or `owner/repo#123`, where owner and repo are GitHub-style names.
fn hash_reference(token: &str) -> Option<&str> {
    let (before, number) = token.rsplit_once('#')?;
    if !is_number(number) {
        return None;
    }
    if before.is_empty() {
        return Some(token);
    }
    let (owner, repo) = before.split_once('/')?;
    let name = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    (name(owner) && name(repo)).then_some(token)
}

fn is_number(s: &str) -> bool {
    !s.is_empty() && s.len() <= 10 && s.chars().all(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::find;

    #[test]
    fn finds_the_three_kinds() {
        assert_eq!(find("    # FIXME: see #123."), ["#123"]);
        assert_eq!(
            find("// fixes swiss-org/swiss#45, also #45"),
            ["swiss-org/swiss#45", "#45"]
        );
        assert_eq!(
            find("# https://github.com/o/r/issues/7 and (https://gitlab.com/g/p/-/issues/9)"),
            [
                "https://github.com/o/r/issues/7",
                "https://gitlab.com/g/p/-/issues/9"
            ]
        );
    }

    #[test]
    fn ignores_look_alikes() {
        assert!(find("color = '#fff'; x = a#1b; ## heading; https://x.org/pulls/3").is_empty());
        assert!(find("#").is_empty());
    }
}
