//! Python through tree-sitter: does a file parse, and its code re-printed without formatting,
//! comments or docstrings (the normalized key of DESIGN 3.3 is built from the latter).

use tree_sitter::{Node, Tree};

use crate::languages::PYTHON;

pub(crate) fn parse(src: &str) -> Option<Tree> {
    crate::syntax::parse(&PYTHON, src)
}

/// Whether `src` is Python that tree-sitter parses without ERROR or MISSING nodes, and whose
/// indentation Python itself would accept.
///
/// The grammar recovers from bad indentation without an ERROR node (an `if` whose body is not
/// indented gets an empty block; a dedent to a column no enclosing block uses is taken as
/// the end of the block), yet broken indentation is the commonest way a SEARCH/REPLACE edit
/// breaks a file, and `ast.parse`, which Agentless and SWE-Swiss use, rejects it.
pub fn parses(src: &str) -> bool {
    parse(src).is_some_and(|tree| {
        let root = tree.root_node();
        !root.has_error() && indentation_ok(root, src)
    })
}

const CLAUSES: [&str; 5] = [
    "elif_clause",
    "else_clause",
    "except_clause",
    "except_group_clause",
    "finally_clause",
];

fn indentation_ok(root: Node<'_>, src: &str) -> bool {
    if !statements_aligned(root, 0) {
        return false;
    }
    let mut cursor = root.walk();
    'walk: loop {
        if !children_indented(cursor.node(), src) {
            return false;
        }
        if cursor.goto_first_child() {
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                continue 'walk;
            }
            if !cursor.goto_parent() {
                break 'walk;
            }
        }
    }
    true
}

/// Checks the blocks and clauses directly under a compound statement `node`.
fn children_indented(node: Node<'_>, src: &str) -> bool {
    let mut cursor = node.walk();
    let mut header_indent = None;
    let mut prev_end_row = node.start_position().row;
    for child in node.children(&mut cursor) {
        let own_line = child.start_position().row != prev_end_row;
        let kind = child.kind();
        if kind == "block" {
            let indent = *header_indent.get_or_insert_with(|| line_indent(node, src));
            if !block_ok(child, prev_end_row, indent) {
                return false;
            }
        } else if own_line && CLAUSES.contains(&kind) {
            let indent = *header_indent.get_or_insert_with(|| line_indent(node, src));
            if child.start_position().column != indent {
                return false;
            }
        }
        prev_end_row = child.end_position().row;
    }
    true
}

/// A block is either simple statements on the header's line, or statements on their own lines,
/// all at one column deeper than the header's line.
fn block_ok(block: Node<'_>, colon_row: usize, header_indent: usize) -> bool {
    let mut cursor = block.walk();
    let Some(first) = block
        .named_children(&mut cursor)
        .find(|child| child.kind() != "comment")
    else {
        return false;
    };
    if first.start_position().row == colon_row {
        let mut prev_end_row = colon_row;
        let mut cursor = block.walk();
        let one_line = block
            .named_children(&mut cursor)
            .filter(|child| child.kind() != "comment")
            .all(|stmt| {
                let same_line = stmt.start_position().row == prev_end_row;
                prev_end_row = stmt.end_position().row;
                same_line
            });
        return one_line;
    }
    let column = first.start_position().column;
    column > header_indent && statements_aligned(block, column)
}

/// Every statement of `body` that begins a line starts at `column`.
fn statements_aligned(body: Node<'_>, column: usize) -> bool {
    let mut cursor = body.walk();
    let mut prev_end_row = None;
    let aligned = body
        .named_children(&mut cursor)
        .filter(|child| child.kind() != "comment")
        .all(|stmt| {
            let begins_line = prev_end_row != Some(stmt.start_position().row);
            prev_end_row = Some(stmt.end_position().row);
            !begins_line || stmt.start_position().column == column
        });
    aligned
}

/// The width in bytes of the leading whitespace of the line where `node` starts.
fn line_indent(node: Node<'_>, src: &str) -> usize {
    let start = node.start_byte();
    let line_start = src[..start].rfind('\n').map_or(0, |i| i + 1);
    src[line_start..start]
        .bytes()
        .take_while(|b| *b == b' ' || *b == b'\t')
        .count()
}

/// The code of `src` re-printed one logical line per entry: tokens joined by single spaces,
/// each line prefixed by four spaces per enclosing block, comments and docstrings left out.
/// `None` when `src` does not parse.
///
/// Logical rather than physical lines: tokens inside brackets or after a backslash
/// continuation stay on the line where the statement began, so wrapping a call over several
/// lines does not change the result. Indentation is kept as block depth because it is code in
/// Python: moving a statement out of an `if` body must change the result.
pub fn normalized_lines(src: &str) -> Option<Vec<String>> {
    let tree = parse(src)?;
    let root = tree.root_node();
    if root.has_error() {
        return None;
    }
    let mut printer = Printer::new(src);
    let mut docstrings: Vec<usize> = Vec::new();
    docstrings.extend(docstring_of(root, src).map(|node| node.id()));

    let mut cursor = root.walk();
    let mut block_depth = 0usize;
    'walk: loop {
        let node = cursor.node();
        if printer.visit(node, block_depth, &mut docstrings) && cursor.goto_first_child() {
            if node.kind() == "block" {
                block_depth += 1;
            }
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                continue 'walk;
            }
            if !cursor.goto_parent() {
                break 'walk;
            }
            if cursor.node().kind() == "block" {
                block_depth -= 1;
            }
        }
    }
    Some(printer.finish())
}

/// The docstring statement of a module, class or function body: a first statement that is
/// nothing but a plain string literal (f-strings and bytes are not docstrings in Python).
fn docstring_of<'t>(body: Node<'t>, src: &str) -> Option<Node<'t>> {
    let mut cursor = body.walk();
    let first = body
        .named_children(&mut cursor)
        .find(|child| child.kind() != "comment")?;
    if first.kind() != "expression_statement" || first.named_child_count() != 1 {
        return None;
    }
    let expr = first.named_child(0)?;
    let is_plain_string = match expr.kind() {
        "string" => plain_string(expr, src),
        "concatenated_string" => {
            let mut cursor = expr.walk();
            let all_plain = expr
                .named_children(&mut cursor)
                .all(|part| part.kind() == "string" && plain_string(part, src));
            all_plain
        }
        _ => false,
    };
    is_plain_string.then_some(first)
}

fn plain_string(string: Node<'_>, src: &str) -> bool {
    let text = &src[string.byte_range()];
    let prefix = text.split(['\'', '"']).next().unwrap_or("");
    !prefix.contains(['f', 'F', 'b', 'B'])
}

struct Printer<'s> {
    src: &'s str,
    lines: Vec<String>,
    current: String,
    has_tokens: bool,
    last_row: usize,
    brackets: usize,
    continued: bool,
}

impl<'s> Printer<'s> {
    fn new(src: &'s str) -> Self {
        Printer {
            src,
            lines: Vec::new(),
            current: String::new(),
            has_tokens: false,
            last_row: 0,
            brackets: 0,
            continued: false,
        }
    }

    /// Handles one node on the way down; returns whether to walk into its children.
    fn visit(&mut self, node: Node<'_>, block_depth: usize, docstrings: &mut Vec<usize>) -> bool {
        let kind = node.kind();
        if PYTHON.comments.contains(&kind) || docstrings.contains(&node.id()) {
            return false;
        }
        if PYTHON.functions.contains(&kind) || PYTHON.containers.contains(&kind) {
            if let Some(body) = node.child_by_field_name("body") {
                docstrings.extend(docstring_of(body, self.src).map(|doc| doc.id()));
            }
        }
        // A string's inner pieces carry its exact spelling, which is code; keep it whole.
        if PYTHON.atoms.contains(&kind) {
            self.token(node, block_depth, false);
            return false;
        }
        if node.child_count() == 0 {
            if kind == "line_continuation" {
                self.continued = true;
            } else {
                self.token(node, block_depth, true);
            }
            return false;
        }
        true
    }

    fn token(&mut self, node: Node<'_>, block_depth: usize, track_brackets: bool) {
        let text = &self.src[node.byte_range()];
        if text.is_empty() {
            return;
        }
        let row = node.start_position().row;
        if self.has_tokens && row != self.last_row && self.brackets == 0 && !self.continued {
            self.flush();
        }
        if self.has_tokens {
            self.current.push(' ');
        } else {
            for _ in 0..block_depth {
                self.current.push_str("    ");
            }
            self.has_tokens = true;
        }
        self.current.push_str(text);
        self.continued = false;
        self.last_row = node.end_position().row;
        if track_brackets {
            match text {
                "(" | "[" | "{" => self.brackets += 1,
                ")" | "]" | "}" => self.brackets = self.brackets.saturating_sub(1),
                _ => {}
            }
        }
    }

    fn flush(&mut self) {
        if self.has_tokens {
            self.lines.push(std::mem::take(&mut self.current));
            self.has_tokens = false;
        }
    }

    fn finish(mut self) -> Vec<String> {
        self.flush();
        self.lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_python_parses() {
        assert!(parses("def f(x):\n    return x * 2\n"));
        assert!(parses(""));
        assert!(parses("class A:\n    pass\n"));
    }

    #[test]
    fn broken_python_does_not_parse() {
        assert!(!parses("def f(x):\n    return (x * 2\n"));
        assert!(!parses("def f(x)\n    return x\n"));
        assert!(!parses("x = [1, 2\n"));
        assert!(!parses("print(x))\n"));
    }

    #[test]
    fn missing_nodes_count_as_broken() {
        // tree-sitter recovers from these by inserting a zero-width MISSING token.
        for src in ["x = (1 + 2\ny = 3\n", "def f(:\n    pass\n", "f(a b)\n"] {
            assert!(!parses(src), "{src:?} should not parse");
        }
    }

    #[test]
    fn bad_indentation_does_not_parse() {
        for src in [
            "if x:\nreturn 1\n",
            "def f():\n    return 1\n  x = 2\n",
            "class A:\n    def f(self):\n        pass\n     x = 1\n",
            "  x = 1\n",
            "if x:\n    a = 1\n  else:\n    b = 2\n",
            "try:\n    a()\n except E:\n    pass\n",
            "if x: a = 1\n    b = 2\n",
            "def f():\n    # only a comment\n",
        ] {
            assert!(!parses(src), "{src:?} should not parse");
        }
    }

    #[test]
    fn good_indentation_parses() {
        for src in [
            "if x: a = 1; b = 2\nelse: c = 3\n",
            "if (a and\n        b):\n    pass\nelif c:\n    pass\nelse:\n    pass\n",
            "class A:\n    @dec\n    def f(self):\n        '''doc'''\n\n\n    x = 1\n",
            "try:\n    a()\nexcept E:\n    pass\nfinally:\n    b()\n",
            "x = [\n  y\n    for y in z\n]\n",
            "def f():\n\tif a:\n\t\treturn 1\n\treturn 2\n",
            "match x:\n    case 1:\n        pass\n    case _:\n        pass\n",
            "s = '''\nnot\n  indented'''\nx = 1\n",
            "a = 1; b = 2\n",
            "def f():\n    x = 1\n# a comment at column 0\n    return x\n",
            "if a:\n    pass\n\n\n\nelse:\n    pass\n",
            "with open(f) as g, \\\n        open(h) as i:\n    pass\n",
        ] {
            assert!(parses(src), "{src:?} should parse");
        }
    }

    #[test]
    fn parser_is_reusable_after_failure() {
        assert!(!parses("def (:\n"));
        assert!(parses("a = 1\n"));
    }

    #[test]
    fn spacing_is_normalized() {
        assert_eq!(
            normalized_lines("x=a*b\n"),
            normalized_lines("x = a  *  b\n")
        );
        assert_eq!(normalized_lines("x=a*b\n").unwrap(), vec!["x = a * b"]);
    }

    #[test]
    fn comments_are_dropped() {
        let a = normalized_lines("x = 1  # one\n# lone comment\ny = 2\n").unwrap();
        assert_eq!(a, vec!["x = 1", "y = 2"]);
    }

    #[test]
    fn docstrings_are_dropped_but_other_strings_are_kept() {
        let src = "\"\"\"Module doc.\"\"\"\n\
                   def f():\n    '''Function\n    doc.'''\n    return 'kept'\n\
                   class A:\n    # comment first\n    \"doc\"\n    x = \"kept too\"\n";
        let lines = normalized_lines(src).unwrap();
        assert_eq!(
            lines,
            vec![
                "def f ( ) :",
                "    return 'kept'",
                "class A :",
                "    x = \"kept too\""
            ]
        );
    }

    #[test]
    fn a_string_after_the_first_statement_is_not_a_docstring() {
        let lines = normalized_lines("x = 1\n\"not a docstring\"\n").unwrap();
        assert_eq!(lines, vec!["x = 1", "\"not a docstring\""]);
    }

    #[test]
    fn fstring_first_statement_is_kept() {
        let lines = normalized_lines("def f():\n    f\"{x}\"\n").unwrap();
        assert_eq!(lines, vec!["def f ( ) :", "    f\"{x}\""]);
    }

    #[test]
    fn wrapped_statements_form_one_line() {
        let one = normalized_lines("call(a, b, c)\n").unwrap();
        let wrapped = normalized_lines("call(\n    a,\n    b,\n    c)\n").unwrap();
        let backslash = normalized_lines("call(a, \\\n b, c)\n").unwrap();
        assert_eq!(one, wrapped);
        assert_eq!(one, backslash);
        let continued = normalized_lines("x = 1 + \\\n    2\n").unwrap();
        assert_eq!(continued, vec!["x = 1 + 2"]);
    }

    #[test]
    fn indentation_is_code() {
        let inside = normalized_lines("if a:\n    x()\n    y()\n").unwrap();
        let outside = normalized_lines("if a:\n    x()\ny()\n").unwrap();
        assert_ne!(inside, outside);
        assert_eq!(inside, vec!["if a :", "    x ( )", "    y ( )"]);
    }

    #[test]
    fn string_contents_are_exact() {
        assert_ne!(
            normalized_lines("x = 'a b'\n"),
            normalized_lines("x = 'a  b'\n")
        );
    }

    #[test]
    fn broken_source_gives_none() {
        assert_eq!(normalized_lines("def f(:\n"), None);
    }
}
