//! The syntax check and the normalized key for each brace language, through the same steps a
//! sample takes: its SEARCH/REPLACE edits applied ([`crate::apply::apply_edits`]), then keyed
//! ([`crate::normalize::normalized_key`]).

use std::sync::Arc;

use crate::apply::{apply_edits, EditError, FileSource};
use crate::edits::SearchReplace;
use crate::normalize::normalized_key;

/// One file of one language and the edits a model might make to it.
struct Case {
    path: &'static str,
    original: &'static str,
    /// The SEARCH text of the fix and of its spellings.
    search: &'static str,
    fix: &'static str,
    /// The same fix spelled otherwise: spacing, line breaks, comments, optional punctuation.
    spellings: &'static [&'static str],
    /// A different program.
    other_fix: &'static str,
    /// An edit of a comment (or doc comment) alone: (search, replace).
    comment_only: (&'static str, &'static str),
    /// A REPLACE text for `search` that no longer parses.
    broken: &'static str,
    /// The same new function added in two places, each as (search, replace), and the key both
    /// must get: its lines alone.
    added: [(&'static str, &'static str); 2],
    added_key: &'static str,
}

const GO: Case = Case {
    path: "calc/calc.go",
    original: "package calc\n\n// Area of a rectangle.\nfunc Area(w, h int) int {\n\treturn w + h\n}\n\nfunc (s *Shape) Other() int {\n\treturn 0\n}\n",
    search: "\treturn w + h\n",
    fix: "\treturn w * h\n",
    spellings: &[
        "\treturn w*h\n",
        "\treturn w * h // fixed\n",
        "\t// multiply, do not add\n\treturn w * h;\n",
        "\treturn w *\n\t\th\n",
    ],
    other_fix: "\treturn h * w\n",
    comment_only: ("// Area of a rectangle.\n", "// Area of a rectangle: w times h.\n"),
    broken: "\treturn w * (h\n",
    added: [
        (
            "func (s *Shape) Other() int {\n",
            "func Perimeter(w, h int) int {\n\treturn 2 * (w + h)\n}\n\nfunc (s *Shape) Other() int {\n",
        ),
        (
            "\treturn 0\n}\n",
            "\treturn 0\n}\n\n// Perimeter of a rectangle.\nfunc Perimeter(w, h int) int { return 2*(w+h) }\n",
        ),
    ],
    added_key: "calc/calc.go\n+func Perimeter ( w , h int ) int {\n+    return 2 * ( w + h )\n+}\n",
};

const JAVASCRIPT: Case = Case {
    path: "lib/geo.js",
    original: "// Geometry helpers.\nfunction area(w, h) {\n  return w + h;\n}\n\nconst other = () => {\n  return [1, 2];\n};\n\nmodule.exports = { area, other };\n",
    search: "  return w + h;\n",
    fix: "  return w * h;\n",
    spellings: &[
        "  return w*h\n",
        "  return w * h; // fixed\n",
        "  /* multiply */\n  return w *\n    h;\n",
    ],
    other_fix: "  return w * h * 1;\n",
    comment_only: ("// Geometry helpers.\n", "/* Geometry helpers, all pure. */\n"),
    broken: "  return w * h);\n",
    added: [
        (
            "const other = () => {\n",
            "function perimeter(w, h) {\n  return 2 * (w + h);\n}\n\nconst other = () => {\n",
        ),
        (
            "module.exports = { area, other };\n",
            "module.exports = { area, other };\n\nfunction perimeter(w, h) { return 2 * (w + h) }\n",
        ),
    ],
    added_key: "lib/geo.js\n+function perimeter ( w , h ) {\n+    return 2 * ( w + h )\n+}\n",
};

const TYPESCRIPT: Case = Case {
    path: "src/shape.ts",
    original: "export interface Size { w: number; h: number }\n\n/** Area of a rectangle. */\nexport function area(s: Size): number {\n  return s.w + s.h;\n}\n\nexport class Shape {\n  constructor(private size: Size) {}\n\n  scaled(k: number): number {\n    return area(this.size) * k;\n  }\n}\n",
    search: "  return s.w + s.h;\n",
    fix: "  return s.w * s.h;\n",
    spellings: &[
        "  return s.w*s.h\n",
        "  // multiply\n  return s.w *\n    s.h;\n",
    ],
    other_fix: "  return s.h * s.w;\n",
    comment_only: (
        "/** Area of a rectangle. */\n",
        "/**\n * Area of a rectangle, w times h.\n */\n",
    ),
    broken: "  return s.w * s.h;\n}\n}\n",
    added: [
        (
            "  scaled(k: number): number {\n",
            "  perimeter(): number {\n    return 2 * (this.size.w + this.size.h);\n  }\n\n  scaled(k: number): number {\n",
        ),
        (
            "    return area(this.size) * k;\n  }\n",
            "    return area(this.size) * k;\n  }\n\n  perimeter(): number { return 2 * (this.size.w + this.size.h) }\n",
        ),
    ],
    added_key: "src/shape.ts\n+    perimeter ( ) : number {\n+        return 2 * ( this . size . w + this . size . h )\n+    }\n",
};

const TSX: Case = Case {
    path: "src/Label.tsx",
    original: "export function Label(props: { text: string }) {\n  return <span className=\"label\">{props.text}</span>;\n}\n",
    search: "  return <span className=\"label\">{props.text}</span>;\n",
    fix: "  return <span className=\"label\">{props.text.toUpperCase()}</span>;\n",
    spellings: &[
        "  return <span className=\"label\">\n    {props.text.toUpperCase()}\n  </span>\n",
        "  // shout\n  return <span  className=\"label\" >{ props.text.toUpperCase() }</span>;\n",
    ],
    other_fix: "  return <span className=\"label\">{props.text.toLowerCase()}</span>;\n",
    comment_only: (
        "export function Label(props: { text: string }) {\n",
        "// The label of a field.\nexport function Label(props: { text: string }) {\n",
    ),
    broken: "  return <span className=\"label\">{props.text</span>;\n",
    added: [
        (
            "export function Label(props: { text: string }) {\n",
            "export function Title() {\n  return <h1>Title</h1>;\n}\n\nexport function Label(props: { text: string }) {\n",
        ),
        (
            "}\n",
            "}\n\nexport function Title() { return <h1>Title</h1> }\n",
        ),
    ],
    added_key: "src/Label.tsx\n+export function Title ( ) {\n+    return < h1 > Title </ h1 >\n+}\n",
};

const RUST: Case = Case {
    path: "src/geo.rs",
    original: "/// Area of a rectangle.\npub fn area(w: u32, h: u32) -> u32 {\n    w + h\n}\n\npub struct Shape {\n    pub w: u32,\n    pub h: u32,\n}\n\nimpl Shape {\n    pub fn area(&self) -> u32 {\n        area(self.w, self.h)\n    }\n}\n",
    search: "    w + h\n",
    fix: "    w * h\n",
    spellings: &[
        "    w*h\n",
        "    // multiply, do not add\n    w * h // fixed\n",
        "    w\n        * h\n",
    ],
    other_fix: "    h * w\n",
    comment_only: ("/// Area of a rectangle.\n", "/// The area of a rectangle.\n"),
    broken: "    w * h)\n",
    added: [
        (
            "    pub fn area(&self) -> u32 {\n",
            "    pub fn perimeter(&self) -> u32 {\n        2 * (self.w + self.h)\n    }\n\n    pub fn area(&self) -> u32 {\n",
        ),
        (
            "        area(self.w, self.h)\n    }\n",
            "        area(self.w, self.h)\n    }\n\n    /// Perimeter.\n    pub fn perimeter(&self) -> u32 { 2 * (self.w + self.h) }\n",
        ),
    ],
    added_key: "src/geo.rs\n+    pub fn perimeter ( & self ) -> u32 {\n+        2 * ( self . w + self . h )\n+    }\n",
};

const JAVA: Case = Case {
    path: "src/main/java/calc/Geometry.java",
    original: "package calc;\n\npublic class Geometry {\n    /** Area of a rectangle. */\n    public static int area(int w, int h) {\n        return w + h;\n    }\n\n    public static int other() {\n        return 0;\n    }\n}\n",
    search: "        return w + h;\n",
    fix: "        return w * h;\n",
    spellings: &[
        "        return w*h;\n",
        "        return w * h; // fixed\n",
        "        /* multiply */ return w\n            * h;\n",
    ],
    other_fix: "        return h * w;\n",
    comment_only: (
        "    /** Area of a rectangle. */\n",
        "    /**\n     * Area of a rectangle: w times h.\n     */\n",
    ),
    broken: "        return w * h\n",
    added: [
        (
            "    public static int other() {\n",
            "    public static int perimeter(int w, int h) {\n        return 2 * (w + h);\n    }\n\n    public static int other() {\n",
        ),
        (
            "        return 0;\n    }\n",
            "        return 0;\n    }\n\n    public static int perimeter(int w, int h) { return 2 * (w + h); }\n",
        ),
    ],
    added_key: "src/main/java/calc/Geometry.java\n+    public static int perimeter ( int w , int h ) {\n+        return 2 * ( w + h ) ;\n+    }\n",
};

const CASES: [&Case; 6] = [&GO, &JAVASCRIPT, &TYPESCRIPT, &TSX, &RUST, &JAVA];

struct OneFile(&'static Case);

impl FileSource for OneFile {
    fn resolve_path(&self, raw: &str) -> Result<String, String> {
        Ok(raw.to_owned())
    }

    fn read(&self, path: &str) -> Option<Arc<str>> {
        (path == self.0.path).then(|| Arc::from(self.0.original))
    }
}

fn key(case: &'static Case, search: &str, replace: &str) -> Result<String, EditError> {
    let edit = SearchReplace {
        path: case.path.into(),
        search: search.into(),
        replace: replace.into(),
    };
    let files = apply_edits(&OneFile(case), &[edit])?;
    normalized_key(&files)
}

fn fix_key(case: &'static Case, replace: &str) -> String {
    key(case, case.search, replace).unwrap_or_else(|e| panic!("{}: {replace:?}: {e}", case.path))
}

#[test]
fn every_case_starts_from_a_file_that_parses() {
    for case in CASES {
        let language = crate::languages::language_for(case.path).expect(case.path);
        assert!(
            crate::syntax::parses(language, case.original),
            "{}",
            case.path
        );
    }
}

#[test]
fn spellings_of_one_fix_share_its_key() {
    for case in CASES {
        let fix = fix_key(case, case.fix);
        for spelling in case.spellings {
            assert_eq!(fix_key(case, spelling), fix, "{}: {spelling:?}", case.path);
        }
    }
}

#[test]
fn a_different_program_has_a_different_key() {
    for case in CASES {
        assert_ne!(
            fix_key(case, case.other_fix),
            fix_key(case, case.fix),
            "{}",
            case.path
        );
    }
}

#[test]
fn a_comment_only_change_has_the_empty_key() {
    for case in CASES {
        let (search, replace) = case.comment_only;
        assert_eq!(
            key(case, search, replace),
            Err(EditError::CommentsOrFormattingOnly),
            "{}",
            case.path
        );
    }
}

#[test]
fn an_edit_that_breaks_the_syntax_is_invalid() {
    for case in CASES {
        let language = crate::languages::language_for(case.path).expect(case.path);
        assert_eq!(
            key(case, case.search, case.broken),
            Err(EditError::Syntax {
                path: case.path.into(),
                language: language.name,
            }),
        );
    }
}

#[test]
fn an_added_function_is_keyed_by_its_lines_wherever_it_goes() {
    for case in CASES {
        for (search, replace) in case.added {
            assert_eq!(
                key(case, search, replace).as_deref(),
                Ok(case.added_key),
                "{}: {replace:?}",
                case.path
            );
        }
    }
}

#[test]
fn a_changed_function_beside_an_added_one_keeps_its_context() {
    // Adding a function while changing another is not "only adding": the changed lines keep
    // their context, so the change cannot merge with the same lines changed elsewhere.
    let [(search, replace), _] = GO.added;
    let edits = [
        SearchReplace {
            path: GO.path.into(),
            search: GO.search.into(),
            replace: GO.fix.into(),
        },
        SearchReplace {
            path: GO.path.into(),
            search: search.into(),
            replace: replace.into(),
        },
    ];
    let files = apply_edits(&OneFile(&GO), &edits).unwrap();
    let key = normalized_key(&files).unwrap();
    assert!(key.contains("\n func Area ( w , h int ) int {\n"), "{key}");
}

#[test]
fn a_file_that_did_not_parse_before_is_not_refused_and_keys_as_text() {
    // Flow annotations are not JavaScript to the grammar: the patch is not at fault.
    const FLOW: Case = Case {
        path: "lib/flow.js",
        original: "function f(x: ?number) {\n  return x + 1;\n}\n",
        search: "  return x + 1;\n",
        ..JAVASCRIPT
    };
    assert_eq!(
        key(&FLOW, FLOW.search, "  return x  +  2;\n").as_deref(),
        Ok("lib/flow.js\n function f(x: ?number) {\n-return x + 1;\n+return x + 2;\n }\n")
    );
}
