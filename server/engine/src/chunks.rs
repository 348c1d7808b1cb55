//! The documents retrieval ranks, as SWE-Swiss builds them (`fl/Index.py`, `index_type =
//! simple`): one document per source file, a metadata header naming the file, its classes and
//! its functions, then the code; cut into chunks of 512 tokens that each carry the header, as
//! llama_index's splitter does (the header's length comes off each chunk's budget).

use std::collections::{HashSet, VecDeque};

use crate::definitions::definitions;
use crate::languages::{language_for, Language, Layout};
use crate::python_syntax;
use crate::syntax;
use crate::tokens::estimate_tokens;

/// The reference's `--chunk_size` (its overlap is 0).
pub const CHUNK_TOKENS: usize = 512;

/// One piece of one file, as it is embedded or indexed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    pub path: String,
    pub text: String,
}

/// The chunks of one file. Token counts use the same estimate as the repair prompt's budget
/// (the reference counts with tiktoken), so chunk borders fall near, not exactly on, its own.
pub fn file_chunks(path: &str, content: &str, chunk_tokens: usize) -> Vec<Chunk> {
    if content.trim().is_empty() {
        return Vec::new();
    }
    let header = metadata_header(path, content);
    // llama_index leaves the metadata out altogether when it would take over half a chunk.
    let header = (estimate_tokens(&header) <= chunk_tokens / 2).then_some(header);
    let budget = chunk_tokens - header.as_deref().map_or(0, estimate_tokens);
    split_lines(content, budget)
        .into_iter()
        .map(|piece| Chunk {
            path: path.to_owned(),
            text: match &header {
                Some(header) => format!("Metadata:\n{header}\n-----\nCode:\n{piece}"),
                None => piece,
            },
        })
        .collect()
}

/// `### File Name: …`, then `### Classes: …` and `### Functions: …` when the file has any, the
/// reference's `metadata_template` joined by newlines.
fn metadata_header(path: &str, content: &str) -> String {
    let mut header = format!("### File Name: {path}");
    let (classes, functions) = match language_for(path) {
        // The reference outlines `.py` files only, stubs not included.
        Some(_) if path.ends_with(".py") => outline(content),
        Some(language) if language.layout == Layout::Braces => brace_outline(language, content),
        _ => (Vec::new(), Vec::new()),
    };
    if !classes.is_empty() {
        header.push_str(&format!("\n### Classes: {}", classes.join(", ")));
    }
    if !functions.is_empty() {
        header.push_str(&format!("\n### Functions: {}", functions.join(", ")));
    }
    header
}

/// Class and function names as the reference's `parse_python_file` lists them: every class, and
/// every plain (not async) function whose name is not that of a method of a class met before it,
/// in breadth-first order. A file that does not parse lists none.
pub fn outline(src: &str) -> (Vec<String>, Vec<String>) {
    let Some(tree) = python_syntax::parse(src) else {
        return (Vec::new(), Vec::new());
    };
    if tree.root_node().has_error() {
        return (Vec::new(), Vec::new());
    }
    let name = |node: tree_sitter::Node<'_>| {
        node.child_by_field_name("name")
            .and_then(|n| n.utf8_text(src.as_bytes()).ok())
            .map(str::to_owned)
    };
    let is_async = |node: tree_sitter::Node<'_>| {
        let mut cursor = node.walk();
        let found = node.children(&mut cursor).any(|c| c.kind() == "async");
        found
    };
    let (mut classes, mut functions) = (Vec::new(), Vec::new());
    let mut methods: HashSet<String> = HashSet::new();
    let mut queue = VecDeque::from([tree.root_node()]);
    while let Some(node) = queue.pop_front() {
        match node.kind() {
            "class_definition" => {
                if let Some(body) = node.child_by_field_name("body") {
                    let mut cursor = body.walk();
                    for child in body.children(&mut cursor) {
                        let def = match child.kind() {
                            "decorated_definition" => child.child_by_field_name("definition"),
                            _ => Some(child),
                        };
                        if let Some(def) = def.filter(|d| d.kind() == "function_definition") {
                            if !is_async(def) {
                                methods.extend(name(def));
                            }
                        }
                    }
                }
                classes.extend(name(node));
            }
            "function_definition" if !is_async(node) => {
                if let Some(function) = name(node).filter(|n| !methods.contains(n)) {
                    functions.push(function);
                }
            }
            _ => {}
        }
        let mut cursor = node.walk();
        queue.extend(node.named_children(&mut cursor));
    }
    (classes, functions)
}

/// The outline of a brace-language file, in the spirit of the Python one: its classes (types,
/// traits, interfaces: whatever holds methods) and its functions that are not methods, in file
/// order, each name once. A file that does not parse lists none.
pub fn brace_outline(language: &'static Language, src: &str) -> (Vec<String>, Vec<String>) {
    let Some(tree) = syntax::parse(language, src) else {
        return (Vec::new(), Vec::new());
    };
    if tree.root_node().has_error() {
        return (Vec::new(), Vec::new());
    }
    let (mut classes, mut functions) = (Vec::new(), Vec::new());
    for definition in definitions(language, tree.root_node(), src) {
        let list = match (definition.is_function, definition.is_method) {
            (false, _) => &mut classes,
            (true, false) => &mut functions,
            (true, true) => continue,
        };
        if !list.contains(&definition.name) {
            list.push(definition.name);
        }
    }
    (classes, functions)
}

/// Whole lines, as many as fit in `budget` tokens a piece; a line longer than that alone is cut
/// at character boundaries.
fn split_lines(content: &str, budget: usize) -> Vec<String> {
    let budget = budget.max(1);
    let max_bytes = budget * 4;
    let mut pieces = Vec::new();
    let mut current = String::new();
    for line in content.split_inclusive('\n') {
        if !current.is_empty() && estimate_tokens(&current) + estimate_tokens(line) > budget {
            pieces.push(std::mem::take(&mut current));
        }
        if estimate_tokens(line) <= budget {
            current.push_str(line);
            continue;
        }
        let mut rest = line;
        while !rest.is_empty() {
            let mut end = rest.len().min(max_bytes);
            while !rest.is_char_boundary(end) {
                end -= 1;
            }
            pieces.push(rest[..end].to_owned());
            rest = &rest[end..];
        }
    }
    if !current.trim().is_empty() {
        pieces.push(current);
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str = "\"\"\"Ops.\"\"\"\n\n\nclass Calculator:\n    def divide(self, a, b):\n        return a / b\n\n    @staticmethod\n    def add(a, b):\n        return a + b\n\n\ndef divide(a, b):\n    def helper():\n        return 1\n    return a // b\n\n\nasync def fetch():\n    pass\n\n\ndef mean(values):\n    return 0\n";

    #[test]
    fn outline_lists_classes_and_non_method_functions_breadth_first() {
        let (classes, functions) = outline(SRC);
        assert_eq!(classes, ["Calculator"]);
        // `divide` is a method name of Calculator, met first, so the top-level `divide` is left
        // out as the reference leaves it out; async functions never count.
        assert_eq!(functions, ["mean", "helper"]);
        assert_eq!(outline("def broken(:\n"), (vec![], vec![]));
    }

    #[test]
    fn brace_languages_outline_their_types_and_free_functions() {
        let go = "package geo\n\ntype Shape struct{ W int }\n\nfunc (s *Shape) Area() int { return s.W }\n\nfunc New() *Shape { return &Shape{} }\n";
        let ts = "export class Shape {\n  area(): number { return 1; }\n}\nexport interface Sized { size(): number }\nexport function make() { return new Shape(); }\nexport const half = (x: number) => x / 2;\n";
        let rust = "pub struct Shape;\nimpl Shape {\n    pub fn area(&self) -> u8 { 1 }\n}\npub fn make() -> Shape { Shape }\n";
        let java = "class Shape {\n    int area() { return 1; }\n    static class Inner {}\n}\n";
        let header = |path: &str, src: &str| metadata_header(path, src);
        assert_eq!(
            header("geo/shape.go", go),
            "### File Name: geo/shape.go\n### Classes: Shape\n### Functions: New"
        );
        assert_eq!(
            header("src/shape.ts", ts),
            "### File Name: src/shape.ts\n### Classes: Shape, Sized\n### Functions: make, half"
        );
        assert_eq!(
            header("src/shape.rs", rust),
            "### File Name: src/shape.rs\n### Classes: Shape\n### Functions: make"
        );
        assert_eq!(
            header("src/Shape.java", java),
            "### File Name: src/Shape.java\n### Classes: Shape, Inner"
        );
        assert_eq!(
            header("src/broken.ts", "function (\n"),
            "### File Name: src/broken.ts"
        );
    }

    #[test]
    fn every_chunk_carries_the_header_and_fits() {
        let content: String = (0..20)
            .map(|i| format!("def function_{i}(x):\n{}", "    x = x + 1\n".repeat(30)))
            .collect();
        let chunks = file_chunks("pkg/mod.py", &content, CHUNK_TOKENS);
        assert!(chunks.len() > 1, "{}", chunks.len());
        for chunk in &chunks {
            assert!(
                chunk
                    .text
                    .starts_with("Metadata:\n### File Name: pkg/mod.py\n"),
                "{}",
                &chunk.text[..80]
            );
            assert!(chunk.text.contains("\n-----\nCode:\n"));
            assert_eq!(chunk.path, "pkg/mod.py");
        }
        let code: String = chunks
            .iter()
            .map(|c| c.text.split_once("\n-----\nCode:\n").unwrap().1)
            .collect();
        assert_eq!(code, content, "the chunks hold the whole file, in order");
    }

    #[test]
    fn a_header_over_half_a_chunk_is_left_out() {
        let content: String = (0..200)
            .map(|i| format!("def f{i}():\n    pass\n"))
            .collect();
        let chunks = file_chunks("m.py", &content, 64);
        assert!(chunks.iter().all(|c| !c.text.starts_with("Metadata:")));
        let text: String = chunks.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(text, content);
        let small = file_chunks("m.py", "def f():\n    pass\n", CHUNK_TOKENS);
        assert_eq!(
            small[0].text,
            "Metadata:\n### File Name: m.py\n### Functions: f\n-----\nCode:\ndef f():\n    pass\n"
        );
        assert!(file_chunks("empty.py", "\n", CHUNK_TOKENS).is_empty());
    }

    #[test]
    fn a_line_longer_than_a_chunk_is_cut() {
        let line = "é".repeat(300) + "\n";
        let pieces = split_lines(&line, 50);
        assert!(pieces.len() > 1);
        assert_eq!(pieces.concat(), line);
    }
}
