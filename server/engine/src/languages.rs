//! The languages Swiss parses with tree-sitter, one table row each: the grammar, the file
//! extensions that select it, and the node kinds the syntax check, the normalized key
//! (DESIGN 3.3) and the retrieval outline need. Everything that reads a syntax tree goes through
//! this table, so a language is added here and nowhere else.

/// How a language's code is re-printed for its normalized key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Indentation is code (Python): one logical line per statement, indented by block depth,
    /// docstrings dropped, and a file whose indentation Python would refuse does not parse.
    Indentation,
    /// Braces and statement nodes carry the structure: a line per statement whatever the file's
    /// own line breaks, indented by brace depth.
    Braces,
}

/// One row of the table.
pub struct Language {
    /// The language as a user names it, in messages.
    pub name: &'static str,
    /// Lower-case file extensions, without the dot.
    pub extensions: &'static [&'static str],
    pub grammar: fn() -> tree_sitter::Language,
    pub layout: Layout,
    /// Node kinds left out of the key (doc comments are comments in these grammars).
    pub comments: &'static [&'static str],
    /// Node kinds printed whole, as one token: literals whose inner spelling is code.
    pub atoms: &'static [&'static str],
    /// Node kinds that define a function or method. A kind without a `name` field counts when it
    /// is the value of a named variable (`const f = () => …`), under that name.
    pub functions: &'static [&'static str],
    /// Node kinds whose functions are methods: they qualify a method's name (`Class.method`) and
    /// are the classes of the retrieval outline. Named by their `name` field, else their `type`
    /// (Rust's `impl`).
    pub containers: &'static [&'static str],
    /// Whether a `;` that ends a statement may be left out without changing the program, so
    /// that `f();` and `f()` are one spelling.
    pub optional_semicolons: bool,
}

const JS_ATOMS: &[&str] = &["string", "template_string", "regex"];
const JS_FUNCTIONS: &[&str] = &[
    "function_declaration",
    "generator_function_declaration",
    "method_definition",
    "arrow_function",
    "function_expression",
];

pub static PYTHON: Language = Language {
    name: "Python",
    extensions: &["py", "pyi"],
    grammar: || tree_sitter_python::LANGUAGE.into(),
    layout: Layout::Indentation,
    comments: &["comment"],
    atoms: &["string"],
    functions: &["function_definition"],
    containers: &["class_definition"],
    optional_semicolons: false,
};

pub static JAVASCRIPT: Language = Language {
    name: "JavaScript",
    extensions: &["js", "jsx", "mjs", "cjs"],
    grammar: || tree_sitter_javascript::LANGUAGE.into(),
    layout: Layout::Braces,
    comments: &["comment", "html_comment"],
    atoms: JS_ATOMS,
    functions: JS_FUNCTIONS,
    containers: &["class_declaration", "class"],
    optional_semicolons: true,
};

const TS_CONTAINERS: &[&str] = &[
    "class_declaration",
    "abstract_class_declaration",
    "class",
    "interface_declaration",
];

pub static TYPESCRIPT: Language = Language {
    name: "TypeScript",
    extensions: &["ts", "mts", "cts"],
    grammar: || tree_sitter_typescript::LANGUAGE_TYPESCRIPT.into(),
    layout: Layout::Braces,
    comments: &["comment"],
    atoms: JS_ATOMS,
    functions: JS_FUNCTIONS,
    containers: TS_CONTAINERS,
    optional_semicolons: true,
};

pub static TSX: Language = Language {
    name: "TSX",
    extensions: &["tsx"],
    grammar: || tree_sitter_typescript::LANGUAGE_TSX.into(),
    ..TYPESCRIPT
};

pub static GO: Language = Language {
    name: "Go",
    extensions: &["go"],
    grammar: || tree_sitter_go::LANGUAGE.into(),
    layout: Layout::Braces,
    comments: &["comment"],
    atoms: &[
        "interpreted_string_literal",
        "raw_string_literal",
        "rune_literal",
    ],
    functions: &["function_declaration", "method_declaration", "func_literal"],
    containers: &["type_spec"],
    optional_semicolons: true,
};

pub static RUST: Language = Language {
    name: "Rust",
    extensions: &["rs"],
    grammar: || tree_sitter_rust::LANGUAGE.into(),
    layout: Layout::Braces,
    comments: &["line_comment", "block_comment"],
    atoms: &["string_literal", "raw_string_literal", "char_literal"],
    functions: &["function_item", "function_signature_item"],
    containers: &["struct_item", "enum_item", "trait_item", "impl_item"],
    optional_semicolons: false,
};

pub static JAVA: Language = Language {
    name: "Java",
    extensions: &["java"],
    grammar: || tree_sitter_java::LANGUAGE.into(),
    layout: Layout::Braces,
    comments: &["line_comment", "block_comment"],
    atoms: &["string_literal", "character_literal"],
    functions: &["method_declaration", "constructor_declaration"],
    containers: &[
        "class_declaration",
        "interface_declaration",
        "enum_declaration",
        "record_declaration",
    ],
    optional_semicolons: false,
};

pub static LANGUAGES: [&Language; 7] = [&PYTHON, &JAVASCRIPT, &TYPESCRIPT, &TSX, &GO, &RUST, &JAVA];

/// The language a file is written in, by its extension; `None` for text Swiss has no grammar for
/// (its key then folds whitespace, and it is never refused for not parsing).
pub fn language_for(path: &str) -> Option<&'static Language> {
    let name = path.rsplit('/').next().unwrap_or(path);
    let (stem, extension) = name.rsplit_once('.')?;
    if stem.is_empty() {
        return None;
    }
    LANGUAGES.iter().copied().find(|language| {
        language
            .extensions
            .iter()
            .any(|known| extension.eq_ignore_ascii_case(known))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_are_chosen_by_extension() {
        for (path, name) in [
            ("pkg/mod.py", "Python"),
            ("stubs/x.pyi", "Python"),
            ("web/app.js", "JavaScript"),
            ("web/App.jsx", "JavaScript"),
            ("web/x.MJS", "JavaScript"),
            ("src/app.ts", "TypeScript"),
            ("src/view.tsx", "TSX"),
            ("cmd/main.go", "Go"),
            ("src/lib.rs", "Rust"),
            ("src/main/java/A.java", "Java"),
        ] {
            assert_eq!(language_for(path).map(|l| l.name), Some(name), "{path}");
        }
        for path in ["README.md", "Makefile", "dir.go/README", ".rs", "x.pyc"] {
            assert!(language_for(path).is_none(), "{path}");
        }
    }

    /// A kind misspelled in the table would silently never match: every kind named must be one
    /// the grammar knows.
    #[test]
    fn every_node_kind_in_the_table_exists_in_its_grammar() {
        for language in LANGUAGES {
            let grammar = (language.grammar)();
            let kinds = [
                language.comments,
                language.atoms,
                language.functions,
                language.containers,
            ];
            for kind in kinds.into_iter().flatten() {
                let known = [true, false]
                    .into_iter()
                    .any(|named| grammar.id_for_node_kind(kind, named) != 0);
                assert!(known, "{}: {kind}", language.name);
            }
        }
    }
}
