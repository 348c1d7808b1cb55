//! The issue as the model reads it: title, description and comments in order, with what only
//! a browser can use (HTML comments, images) removed, and long threads cut from the middle to a
//! size budget. The first comments carry the report's details and the last ones the latest
//! findings; the middle is where threads repeat themselves.

use crate::engine::issue::Issue;

pub use crate::config::DEFAULT_MAX_ISSUE_CHARS;

/// An issue thread as a tracker returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thread {
    pub title: String,
    pub body: String,
    /// The issue's web page.
    pub url: Option<String>,
    pub comments: Vec<Comment>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    /// The user name, without `@`; `None` for a deleted account.
    pub author: Option<String>,
    pub body: String,
}

/// Builds the issue the engine sees. The body holds the description and then the comments, each
/// under a "Comment by @user:" line; at most `max_chars` characters go in, title included.
pub fn assemble(thread: &Thread, max_chars: usize) -> Issue {
    let title = thread.title.trim().to_owned();
    let budget = max_chars.saturating_sub(chars(&title) + SEPARATOR);
    let comments: Vec<String> = thread
        .comments
        .iter()
        .filter_map(|c| {
            let text = strip_markup(&c.body);
            if text.is_empty() {
                return None;
            }
            Some(match &c.author {
                Some(author) => format!("Comment by @{author}:\n{text}"),
                None => format!("Comment by a deleted user:\n{text}"),
            })
        })
        .collect();
    let comments_size: usize = comments.iter().map(|c| chars(c) + SEPARATOR).sum();

    let mut description = strip_markup(&thread.body);
    // The description may take what the comments leave, and at least two thirds of the budget
    // when the thread is long: it is the report itself.
    let description_budget = budget.saturating_sub(comments_size).max(budget * 2 / 3);
    if chars(&description) > description_budget {
        description = cut_middle(&description, description_budget);
    }
    let mut parts = Vec::new();
    if !description.is_empty() {
        parts.push(description);
    }
    let left = budget.saturating_sub(parts.iter().map(|p| chars(p) + SEPARATOR).sum());
    parts.extend(fit_comments(comments, left));
    Issue {
        title,
        body: parts.join("\n\n"),
        url: thread.url.clone(),
    }
}

const SEPARATOR: usize = 2;

fn chars(text: &str) -> usize {
    text.chars().count()
}

/// The first comments and the last ones, as many as fit in `budget`, with one line where the
/// rest were left out.
fn fit_comments(comments: Vec<String>, budget: usize) -> Vec<String> {
    let sizes: Vec<usize> = comments.iter().map(|c| chars(c) + SEPARATOR).collect();
    if sizes.iter().sum::<usize>() <= budget {
        return comments;
    }
    let total = comments.len();
    let note_size = chars(&omitted_note(total, total)) + SEPARATOR;
    let budget = budget.saturating_sub(note_size);
    let mut used = 0;
    let mut head = 0;
    while head < total && used + sizes[head] <= budget / 2 {
        used += sizes[head];
        head += 1;
    }
    let mut tail = total;
    while tail > head && used + sizes[tail - 1] <= budget {
        used += sizes[tail - 1];
        tail -= 1;
    }
    // Room the tail could not use (one long comment in the way) goes back to the head.
    while head < tail && used + sizes[head] <= budget {
        used += sizes[head];
        head += 1;
    }
    let omitted = tail - head;
    let mut kept = Vec::with_capacity(head + 1 + total - tail);
    let mut comments = comments;
    let tail_part = comments.split_off(tail);
    comments.truncate(head);
    kept.extend(comments);
    if omitted > 0 {
        kept.push(omitted_note(omitted, total));
    }
    kept.extend(tail_part);
    kept
}

fn omitted_note(omitted: usize, total: usize) -> String {
    let noun = if omitted == 1 { "comment" } else { "comments" };
    format!("[… {omitted} of {total} {noun} left out here to fit the size budget …]")
}

/// The start and the end of `text`, cut at line breaks where one is near, with a line saying
/// how much was left out; at most `budget` characters.
fn cut_middle(text: &str, budget: usize) -> String {
    let total = chars(text);
    let note = |left_out: usize| format!("\n[… {left_out} characters left out here …]\n");
    let room = budget.saturating_sub(chars(&note(total)));
    if room == 0 {
        return text.chars().take(budget).collect();
    }
    let head: String = text.chars().take(room / 2).collect();
    let head = match head.rfind('\n') {
        Some(at) if at >= head.len() / 2 => head[..at].to_owned(),
        _ => head,
    };
    let tail_len = room - chars(&head);
    let tail: String = text.chars().skip(total - tail_len).collect();
    let tail = match tail.find('\n') {
        Some(at) if at <= tail.len() / 2 => tail[at + 1..].to_owned(),
        _ => tail,
    };
    let left_out = total - chars(&head) - chars(&tail);
    format!("{head}{}{tail}", note(left_out))
}

/// Removes HTML comments (issue templates are full of them), images (`![alt](url)`, `<img …>`)
/// and the blank lines they leave; fenced and inline code are left exactly as written, since an
/// issue about HTML may show a comment or a tag on purpose.
pub fn strip_markup(text: &str) -> String {
    let text = text.replace("\r\n", "\n");
    let mut out: Vec<String> = Vec::new();
    let mut fence: Option<String> = None;
    let mut in_comment = false;
    for line in text.split('\n') {
        if let Some(marker) = &fence {
            let closes = line.trim_start().starts_with(marker.as_str())
                && line
                    .trim_start()
                    .trim_start_matches(marker.as_str())
                    .trim()
                    .is_empty();
            out.push(line.to_owned());
            if closes {
                fence = None;
            }
            continue;
        }
        let mut line = line;
        if in_comment {
            match line.find("-->") {
                Some(end) => {
                    in_comment = false;
                    line = &line[end + 3..];
                    if line.trim().is_empty() {
                        continue;
                    }
                }
                None => continue,
            }
        }
        if let Some(marker) = fence_marker(line) {
            fence = Some(marker);
            out.push(line.to_owned());
            continue;
        }
        let (cleaned, opens_comment) = clean_line(line);
        in_comment = opens_comment;
        if cleaned.trim().is_empty() && !line.trim().is_empty() {
            continue;
        }
        out.push(cleaned.trim_end().to_owned());
    }
    collapse_blank_lines(&out)
}

/// "```" or "~~~" (three or more) opening a fenced block: the run that must close it.
fn fence_marker(line: &str) -> Option<String> {
    let trimmed = line.trim_start();
    if line.len() - trimmed.len() > 3 {
        return None;
    }
    for c in ['`', '~'] {
        let run = trimmed.chars().take_while(|&x| x == c).count();
        if run >= 3 {
            return Some(c.to_string().repeat(run));
        }
    }
    None
}

/// One line outside fenced code, with comments and images removed; `true` when an HTML comment
/// opens and does not close on it.
fn clean_line(line: &str) -> (String, bool) {
    // Inline code only counts when its backticks pair up; a stray one is just a character.
    let code_spans = line.matches('`').count() % 2 == 0;
    let mut out = String::with_capacity(line.len());
    let mut in_code = false;
    let mut rest = line;
    while let Some(c) = rest.chars().next() {
        if c == '`' && code_spans {
            in_code = !in_code;
        } else if !in_code {
            if rest.starts_with("<!--") {
                match rest[4..].find("-->") {
                    Some(end) => {
                        rest = &rest[4 + end + 3..];
                        continue;
                    }
                    None => return (out, true),
                }
            }
            if let Some(len) = linked_image(rest)
                .or_else(|| image(rest))
                .or_else(|| img_tag(rest))
            {
                rest = &rest[len..];
                continue;
            }
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    (out, false)
}

/// The length of `![alt](url "title")` or `![alt][ref]` at the start of `text`.
fn image(text: &str) -> Option<usize> {
    let after_alt = text.strip_prefix("![")?;
    let close = bracket_end(after_alt)?;
    let after = &after_alt[close + 1..];
    let consumed = 2 + close + 1;
    if let Some(target) = after.strip_prefix('(') {
        let mut depth = 1;
        for (i, c) in target.char_indices() {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        return Some(consumed + 1 + i + 1);
                    }
                }
                _ => {}
            }
        }
        None
    } else if let Some(label) = after.strip_prefix('[') {
        label.find(']').map(|end| consumed + 1 + end + 1)
    } else {
        None
    }
}

/// `[![alt](img)](link)`: a badge or a thumbnail linking to the full picture.
fn linked_image(text: &str) -> Option<usize> {
    let inner = text.strip_prefix('[')?;
    let image_len = image(inner)?;
    let after = inner[image_len..].strip_prefix("](")?;
    let end = after.find(')')?;
    Some(1 + image_len + 2 + end + 1)
}

/// The index of the `]` closing a `[` already consumed, nested brackets allowed.
fn bracket_end(text: &str) -> Option<usize> {
    let mut depth = 1;
    for (i, c) in text.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// `<img …>` or `</img>`, any case, up to its `>` (or the end of the line).
fn img_tag(text: &str) -> Option<usize> {
    let lower: String = text
        .chars()
        .take(6)
        .collect::<String>()
        .to_ascii_lowercase();
    let is_tag = lower.starts_with("</img>")
        || (lower.starts_with("<img")
            && lower[4..]
                .chars()
                .next()
                .is_none_or(|c| c.is_whitespace() || c == '>' || c == '/'));
    if !is_tag {
        return None;
    }
    Some(text.find('>').map_or(text.len(), |end| end + 1))
}

/// At most one blank line in a row outside fenced code, none at either end.
fn collapse_blank_lines(lines: &[String]) -> String {
    let mut out: Vec<&str> = Vec::with_capacity(lines.len());
    let mut fence: Option<String> = None;
    for line in lines {
        match &fence {
            Some(marker) => {
                if line.trim_start().starts_with(marker.as_str()) {
                    fence = None;
                }
            }
            None => {
                fence = fence_marker(line);
                if line.trim().is_empty() && out.last().is_none_or(|l| l.trim().is_empty()) {
                    continue;
                }
            }
        }
        out.push(line);
    }
    while out.last().is_some_and(|l| l.trim().is_empty()) {
        out.pop();
    }
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn thread(body: &str, comments: &[(&str, &str)]) -> Thread {
        Thread {
            title: "Crash on empty input".into(),
            body: body.into(),
            url: Some("https://github.com/acme/calc/issues/7".into()),
            comments: comments
                .iter()
                .map(|(author, body)| Comment {
                    author: Some(author.to_string()),
                    body: body.to_string(),
                })
                .collect(),
        }
    }

    #[test]
    fn comments_follow_the_description_in_order() {
        let issue = assemble(
            &thread(
                "It crashes.",
                &[("ana", "Same here."), ("bo", "Fixed by #8?")],
            ),
            DEFAULT_MAX_ISSUE_CHARS,
        );
        assert_eq!(issue.title, "Crash on empty input");
        assert_eq!(
            issue.body,
            "It crashes.\n\nComment by @ana:\nSame here.\n\nComment by @bo:\nFixed by #8?"
        );
        assert_eq!(
            issue.url.as_deref(),
            Some("https://github.com/acme/calc/issues/7")
        );
    }

    #[test]
    fn html_comments_and_images_go_code_stays() {
        let body = "<!-- Describe the bug below. -->\r\n### Bug\r\n\r\nIt crashes <!-- inline --> here.\r\n![screenshot](https://x.org/a.png \"shot\") ![ref][1]\r\n<img width=\"300\" src=\"https://x.org/b.png\">\r\n[![badge](https://x.org/b.svg)](https://ci)\r\nSee <IMG SRC=x.png/> too.\r\n<!--\r\nmulti\r\nline ```\r\n-->\r\n\r\n\r\n\r\n```html\r\n<!-- kept: the bug is about this -->\r\n<img src=\"kept.png\">\r\n```\r\nInline `<!-- kept -->` and `![kept](x)`.\r\n";
        assert_eq!(
            strip_markup(body),
            "### Bug\n\nIt crashes  here.\nSee  too.\n\n```html\n<!-- kept: the bug is about this -->\n<img src=\"kept.png\">\n```\nInline `<!-- kept -->` and `![kept](x)`."
        );
    }

    #[test]
    fn unclosed_comments_and_lookalikes() {
        assert_eq!(strip_markup("a\n<!-- never closed\nb"), "a");
        assert_eq!(
            strip_markup("x < y and ![not an image"),
            "x < y and ![not an image"
        );
        assert_eq!(strip_markup("<imgur.com link>"), "<imgur.com link>");
        assert_eq!(strip_markup("a ` b <!-- c --> d"), "a ` b  d");
    }

    #[test]
    fn long_threads_lose_their_middle() {
        let comments: Vec<(String, String)> = (1..=40)
            .map(|i| {
                (
                    format!("user{i}"),
                    format!("comment number {i} {}", "x".repeat(80)),
                )
            })
            .collect();
        let refs: Vec<(&str, &str)> = comments
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        let issue = assemble(&thread("The report.", &refs), 1_500);
        let text = issue.prompt_text();
        assert!(text.chars().count() <= 1_500, "{}", text.chars().count());
        assert!(text.starts_with("Crash on empty input\n\nThe report.\n\nComment by @user1:\n"));
        assert!(
            text.contains("Comment by @user40:"),
            "the latest comment stays"
        );
        let note = text.lines().find(|l| l.starts_with("[…")).expect("a note");
        let kept = text.matches("Comment by @").count();
        assert_eq!(
            note,
            format!(
                "[… {} of 40 comments left out here to fit the size budget …]",
                40 - kept
            )
        );
        let before = text.find(note).unwrap();
        assert!(text[..before].contains("@user2:") && !text[..before].contains("@user39:"));
        assert!(text[before..].contains("@user39:") && !text[before..].contains("@user2:"));
    }

    #[test]
    fn a_huge_description_is_cut_in_the_middle() {
        let body: String = (0..2_000).map(|i| format!("log line {i}\n")).collect();
        let issue = assemble(&thread(&body, &[("ana", "short")]), 3_000);
        let text = issue.prompt_text();
        assert!(text.chars().count() <= 3_000, "{}", text.chars().count());
        assert!(text.contains("log line 0\n"));
        assert!(text.contains("log line 1999"));
        assert!(text.contains("characters left out here …]"));
        assert!(
            text.ends_with("Comment by @ana:\nshort"),
            "{}",
            &text[text.len() - 80..]
        );
    }

    #[test]
    fn tiny_budgets_do_not_panic() {
        for budget in [0, 1, 10, 40, 80] {
            let issue = assemble(&thread("body text here", &[("a", "b"), ("c", "d")]), budget);
            assert_eq!(issue.title, "Crash on empty input");
        }
    }
}
