//! Source code through tree-sitter, for every language of [`crate::languages`]: does a file
//! parse, and its code re-printed without formatting or comments, with its functions (the
//! normalized key of DESIGN 3.3 is built from these).

use std::cell::RefCell;
use std::collections::HashMap;

use tree_sitter::{Parser, Tree};

use crate::added_functions::python_functions;
use crate::brace_printer::brace_lines;
use crate::definitions::definitions;
use crate::languages::{Language, Layout};
use crate::python_syntax;

thread_local! {
    // A Parser is not Sync and costs an allocation plus language setup; one per thread and
    // language is enough because parsing never re-enters itself.
    static PARSERS: RefCell<HashMap<&'static str, Parser>> = RefCell::new(HashMap::new());
}

/// The syntax tree of `src`, errors included; `None` only when tree-sitter gives up.
pub fn parse(language: &'static Language, src: &str) -> Option<Tree> {
    PARSERS.with(|cell| {
        let mut parsers = cell.borrow_mut();
        let parser = match parsers.entry(language.name) {
            std::collections::hash_map::Entry::Occupied(entry) => entry.into_mut(),
            std::collections::hash_map::Entry::Vacant(entry) => {
                let mut parser = Parser::new();
                parser.set_language(&(language.grammar)()).ok()?;
                entry.insert(parser)
            }
        };
        let tree = parser.parse(src, None);
        if tree.is_none() {
            // A failed parse can leave state behind that would leak into the next call.
            parser.reset();
        }
        tree
    })
}

/// Whether `src` parses without ERROR or MISSING nodes (and, for Python, with indentation
/// Python itself accepts).
pub fn parses(language: &'static Language, src: &str) -> bool {
    match language.layout {
        Layout::Indentation => python_syntax::parses(src),
        Layout::Braces => parse(language, src).is_some_and(|tree| !tree.root_node().has_error()),
    }
}

/// A file's code as its normalized key sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NormalizedCode {
    /// Tokens joined by single spaces, one statement a line, comments (and Python's
    /// docstrings) left out, indented four spaces per enclosing block.
    pub lines: Vec<String>,
    /// Each function by its qualified name (`Class.method`), with its normalized text: the
    /// table that tells whether a change only adds functions.
    pub functions: HashMap<String, String>,
}

/// `None` when `src` does not parse.
pub fn normalized(language: &'static Language, src: &str) -> Option<NormalizedCode> {
    match language.layout {
        Layout::Indentation => {
            let lines = python_syntax::normalized_lines(src)?;
            let functions = python_functions(&lines);
            Some(NormalizedCode { lines, functions })
        }
        Layout::Braces => {
            let tree = parse(language, src)?;
            let root = tree.root_node();
            if root.has_error() {
                return None;
            }
            let functions = definitions(language, root, src)
                .into_iter()
                .filter(|definition| definition.is_function)
                .map(|definition| {
                    let text = brace_lines(language, definition.node, src).join("\n");
                    (definition.name, text)
                })
                .collect();
            Some(NormalizedCode {
                lines: brace_lines(language, root, src),
                functions,
            })
        }
    }
}
