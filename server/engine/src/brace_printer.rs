//! Code of a brace language (JavaScript, TypeScript, Go, Rust, Java) re-printed from its syntax
//! tree so that formatting cannot change it: tokens joined by single spaces, a new line after
//! each `{`, before each `}` and after each statement, whatever line breaks the file had;
//! comments left out; a `;` the language lets one omit, and a comma before a closing bracket,
//! left out too. Two spellings of one program print the same; a changed token changes the print.

use tree_sitter::{Node, TreeCursor};

use crate::languages::Language;

/// Kind endings of the nodes after which a line ends (statements, declarations, Rust items,
/// match arms, interface members, Go specs): the grammars share these naming habits.
const STATEMENT_ENDINGS: &[&str] = &[
    "_statement",
    "_declaration",
    "_definition",
    "_item",
    "_arm",
    "_signature",
    "_spec",
];

fn is_statement(node: Node<'_>) -> bool {
    node.is_named()
        && STATEMENT_ENDINGS
            .iter()
            .any(|end| node.kind().ends_with(end))
}

/// A named node right inside braces or at the top of the file: a member of a block, class
/// body, object or struct literal, or a switch, whatever the grammar calls it.
fn is_braced_member(node: Node<'_>, parent: Option<Node<'_>>, parent_is_root: bool) -> bool {
    node.is_named()
        && (parent_is_root || parent.is_none_or(|p| p.child(0).is_some_and(|c| c.kind() == "{")))
}

/// The lines of the subtree at `node`, which must hold no syntax error.
pub fn brace_lines(language: &Language, node: Node<'_>, src: &str) -> Vec<String> {
    let mut printer = Printer {
        language,
        src,
        lines: Vec::new(),
        current: String::new(),
        open: Vec::new(),
        line_ends: false,
    };
    // The ancestors of the cursor's node, kept by the walk: asking a node for its parent
    // searches down from the root each time, which over a whole file is quadratic.
    let mut ancestors: Vec<Node<'_>> = Vec::new();
    let whole_file = node.parent().is_none();
    let mut cursor = node.walk();
    'walk: loop {
        let current = cursor.node();
        if printer.enter(&cursor, ancestors.last().copied()) && cursor.goto_first_child() {
            ancestors.push(current);
            continue;
        }
        loop {
            let current = cursor.node();
            let parent_is_root = whole_file && ancestors.len() == 1;
            printer.leave(current, ancestors.last().copied(), parent_is_root);
            if current.id() == node.id() {
                break 'walk;
            }
            if cursor.goto_next_sibling() {
                continue 'walk;
            }
            if !cursor.goto_parent() {
                break 'walk;
            }
            ancestors.pop();
        }
    }
    printer.flush();
    printer.lines
}

struct Printer<'a> {
    language: &'a Language,
    src: &'a str,
    lines: Vec<String>,
    current: String,
    /// The brackets open at this point, innermost last.
    open: Vec<char>,
    /// A line ends before the next token.
    line_ends: bool,
}

impl Printer<'_> {
    /// Handles one node on the way down; returns whether to walk into its children.
    fn enter(&mut self, cursor: &TreeCursor<'_>, parent: Option<Node<'_>>) -> bool {
        let node = cursor.node();
        let kind = node.kind();
        if self.language.comments.contains(&kind) {
            return false;
        }
        if self.language.atoms.contains(&kind) {
            self.token(&self.src[node.byte_range()]);
            return false;
        }
        if node.child_count() > 0 {
            return true;
        }
        if !self.omitted(cursor, parent) {
            let text = &self.src[node.byte_range()];
            // Only JSX text holds whitespace in a token. JSX drops the whitespace of lines
            // broken inside text and keeps it within a line, so only the former is formatting.
            if text.contains('\n') {
                let folded = text.split_whitespace().collect::<Vec<_>>().join(" ");
                self.token(&folded);
            } else {
                self.token(text);
            }
        }
        false
    }

    fn leave(&mut self, node: Node<'_>, parent: Option<Node<'_>>, parent_is_root: bool) {
        let ends_line = is_statement(node) || is_braced_member(node, parent, parent_is_root);
        if ends_line && self.in_braces() {
            self.line_ends = true;
        }
    }

    /// Whether the innermost open bracket is a brace (or none is open): statements inside
    /// parentheses (a `for` header, a parameter list) stay on their line.
    fn in_braces(&self) -> bool {
        self.open.last().is_none_or(|c| *c == '{')
    }

    /// Tokens whose presence is a matter of style: a `;` that ends a statement where the
    /// language inserts it anyway, and a trailing comma (except in a tuple, where `(a,)` is not
    /// `(a)`).
    fn omitted(&self, cursor: &TreeCursor<'_>, parent: Option<Node<'_>>) -> bool {
        let node = cursor.node();
        if !matches!(node.kind(), ";" | ",") {
            return false;
        }
        let next = next_code_sibling(cursor, self.language);
        match node.kind() {
            ";" => {
                self.language.optional_semicolons
                    && self.in_braces()
                    && next.is_none_or(|next| is_statement(next) || next.kind() == "}")
            }
            "," => {
                let closes = next.is_some_and(|n| matches!(n.kind(), ")" | "]" | "}"));
                let in_tuple = parent.is_some_and(|p| p.kind().contains("tuple"));
                closes && !in_tuple
            }
            _ => false,
        }
    }

    fn token(&mut self, text: &str) {
        if text.is_empty() {
            return;
        }
        if text == "}" {
            self.line_ends = true;
        }
        // A separator stays on the line it ends.
        if self.line_ends && !matches!(text, "," | ";") {
            self.flush();
            self.line_ends = false;
        }
        if self.current.is_empty() {
            let depth = self.open.iter().filter(|c| **c == '{').count();
            let depth = if text == "}" {
                depth.saturating_sub(1)
            } else {
                depth
            };
            self.current.push_str(&"    ".repeat(depth));
        } else {
            self.current.push(' ');
        }
        self.current.push_str(text);
        match text {
            "(" => self.open.push('('),
            "[" => self.open.push('['),
            "{" => {
                self.open.push('{');
                self.line_ends = true;
            }
            ")" | "]" | "}" => {
                self.open.pop();
            }
            _ => {}
        }
    }

    fn flush(&mut self) {
        if !self.current.is_empty() {
            self.lines.push(std::mem::take(&mut self.current));
        }
    }
}

/// The next sibling of the cursor's node that is not a comment.
fn next_code_sibling<'t>(cursor: &TreeCursor<'t>, language: &Language) -> Option<Node<'t>> {
    let mut cursor = cursor.clone();
    while cursor.goto_next_sibling() {
        if !language.comments.contains(&cursor.node().kind()) {
            return Some(cursor.node());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use crate::languages::{language_for, Language};
    use crate::syntax::normalized;

    fn lines(path: &str, src: &str) -> Vec<String> {
        let language: &'static Language = language_for(path).expect(path);
        normalized(language, src).expect("test source parses").lines
    }

    #[test]
    fn a_line_per_statement_whatever_the_line_breaks() {
        let expected = [
            "function f ( a , b ) {",
            "    if ( a ) {",
            "        return g ( a , b )",
            "    }",
            "    return 0",
            "}",
        ];
        assert_eq!(
            lines(
                "a.js",
                "function f(a, b) { if (a) { return g(a, b); } return 0; }\n"
            ),
            expected
        );
        assert_eq!(
            lines(
                "a.js",
                "function f(a, b) {\n  if (a) {\n    return g(\n      a,\n      b,\n    )\n  }\n\n  return 0\n}\n"
            ),
            expected
        );
    }

    #[test]
    fn members_of_braces_get_a_line_each_with_their_separator() {
        assert_eq!(
            lines("a.ts", "const o = { a: 1, b: [2, 3] };\n"),
            ["const o = {", "    a : 1 ,", "    b : [ 2 , 3 ]", "}"]
        );
    }

    #[test]
    fn a_statement_inside_parentheses_stays_on_its_line() {
        assert_eq!(
            lines(
                "A.java",
                "class A { void f() { for (int i = 0; i < n; i++) { g(i); } } }\n"
            ),
            [
                "class A {",
                "    void f ( ) {",
                "        for ( int i = 0 ; i < n ; i ++ ) {",
                "            g ( i ) ;",
                "        }",
                "    }",
                "}"
            ]
        );
    }

    #[test]
    fn style_punctuation_is_dropped_where_it_means_nothing() {
        // Go and JavaScript insert the `;` themselves; Java and Rust need theirs.
        assert_eq!(
            lines("a.go", "package a\nvar x = f(1,\n)\n"),
            lines("a.go", "package a; var x = f(1)\n")
        );
        assert_ne!(
            lines("a.rs", "fn f() { g(); }\n"),
            lines("a.rs", "fn f() { g() }\n")
        );
        // In Rust `(a,)` is a tuple and `(a)` is not.
        assert_ne!(
            lines("a.rs", "const T: (u8,) = (1,);\n"),
            lines("a.rs", "const T: (u8) = (1);\n")
        );
        assert_eq!(
            lines("a.rs", "fn f() { g(1, 2,) }\n"),
            lines("a.rs", "fn f() { g(1, 2) }\n")
        );
    }

    #[test]
    fn literals_keep_their_exact_spelling() {
        assert_ne!(
            lines("a.go", "package a\nvar s = \"a  b\"\n"),
            lines("a.go", "package a\nvar s = \"a b\"\n")
        );
        assert_ne!(
            lines("a.js", "const s = `a ${x}  b`;\n"),
            lines("a.js", "const s = `a ${x} b`;\n")
        );
        // JSX keeps the spaces within a line of text, not the ones a line break leaves.
        assert_ne!(
            lines("a.jsx", "const e = <b>a  b</b>;\n"),
            lines("a.jsx", "const e = <b>a b</b>;\n")
        );
        assert_eq!(
            lines("a.jsx", "const e = <b>\n  a\n</b>;\n"),
            lines("a.jsx", "const e = <b>a</b>;\n")
        );
    }

    #[test]
    fn comments_and_doc_comments_are_left_out() {
        assert_eq!(
            lines(
                "a.rs",
                "/// Doc.\n//! Inner.\nfn f() -> u8 { /* one */ 1 } // end\n"
            ),
            ["fn f ( ) -> u8 {", "    1", "}"]
        );
        assert_eq!(
            lines("A.java", "/** Doc. */\nclass A { // c\n}\n"),
            ["class A {", "}"]
        );
    }
}
