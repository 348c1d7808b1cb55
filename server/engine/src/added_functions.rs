//! Whether a change to a file only adds functions, decided as SWE-Swiss's `is_just_new_function`
//! (`evaluation/agentless/util/postprocess_data.py`) decides it for Python. The reference keys
//! such a change by its added and removed lines alone, without the context around them, so that
//! the same new function placed in two spots is one candidate; Swiss does the same in every
//! language it parses ([`crate::syntax::NormalizedCode::functions`]).

use std::collections::HashMap;

/// True when `new` keeps every function of `old` unchanged and has at least one more. Both map
/// a function's qualified name to its normalized text. Module-level statements may change too:
/// the reference allows that ("modifying global stuff is okay").
pub fn only_adds_functions(old: &HashMap<String, String>, new: &HashMap<String, String>) -> bool {
    let all_kept_unchanged = old
        .iter()
        .all(|(name, text)| new.get(name).is_some_and(|other| other == text));
    all_kept_unchanged && new.keys().any(|name| !old.contains_key(name))
}

enum Scope<'a> {
    Class(&'a str),
    Function,
    Other,
}

/// The functions of Python's normalized lines ([`crate::python_syntax::normalized_lines`]:
/// comments and docstrings gone, each line indented four spaces per block, as the reference's
/// `ast.unparse` text after `remove_comments_and_docstrings` is).
///
/// Function name → its text (decorators, header, body), named as the reference's
/// `get_functions` names them: a function outside any class by its bare name (nested ones
/// included), a function directly in a class body as `Class.name`, and a function elsewhere
/// inside a class (in a method, under an `if` of the class body) not at all. A later definition
/// of a name replaces an earlier one, as in the reference's dict.
pub fn python_functions(lines: &[String]) -> HashMap<String, String> {
    let mut found = HashMap::new();
    let mut scopes: Vec<(usize, Scope<'_>)> = Vec::new();
    for (at, line) in lines.iter().enumerate() {
        let (depth, code) = split_indent(line);
        while scopes.last().is_some_and(|(open, _)| *open >= depth) {
            scopes.pop();
        }
        let scope = if let Some(name) = def_name(code) {
            let in_class = scopes.iter().any(|(_, s)| matches!(s, Scope::Class(_)));
            let key = match scopes.last() {
                _ if !in_class => Some(name.to_owned()),
                Some((open, Scope::Class(class))) if open + 1 == depth => {
                    Some(format!("{class}.{name}"))
                }
                _ => None,
            };
            if let Some(key) = key {
                found.insert(key, definition(lines, at, depth));
            }
            Scope::Function
        } else if let Some(name) = class_name(code) {
            Scope::Class(name)
        } else {
            Scope::Other
        };
        scopes.push((depth, scope));
    }
    found
}

/// The definition starting at `lines[at]`: the decorators right above it, its header and the
/// deeper lines that follow.
fn definition(lines: &[String], at: usize, depth: usize) -> String {
    let mut first = at;
    while first > 0 {
        let (above, code) = split_indent(&lines[first - 1]);
        if above != depth || !code.starts_with('@') {
            break;
        }
        first -= 1;
    }
    let mut end = at + 1;
    while end < lines.len() && split_indent(&lines[end]).0 > depth {
        end += 1;
    }
    lines[first..end].join("\n")
}

/// Block depth (four spaces a level in normalized lines) and the code after the indent.
fn split_indent(line: &str) -> (usize, &str) {
    let code = line.trim_start_matches(' ');
    ((line.len() - code.len()) / 4, code)
}

fn def_name(code: &str) -> Option<&str> {
    let code = code.strip_prefix("async ").unwrap_or(code);
    code.strip_prefix("def ")?.split(' ').next()
}

fn class_name(code: &str) -> Option<&str> {
    code.strip_prefix("class ")?.split(' ').next()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::python_syntax::normalized_lines;

    fn lines(src: &str) -> Vec<String> {
        normalized_lines(src).expect("test source parses")
    }

    fn adds(before: &[String], after: &[String]) -> bool {
        only_adds_functions(&python_functions(before), &python_functions(after))
    }

    fn names(src: &str) -> Vec<String> {
        let mut names: Vec<String> = python_functions(&lines(src)).into_keys().collect();
        names.sort();
        names
    }

    /// The names the reference's `get_functions` gives for this source (checked against it
    /// with Python 3.11's `ast`): nested functions by bare name, methods as `Class.name` for any
    /// class (one inside a function too), nothing for functions inside methods.
    #[test]
    fn functions_are_named_as_the_reference_names_them() {
        let src = "\
import functools


def outer(x):
    def inner(y):
        return y

    class Local:
        def method(self):
            def hidden():
                pass
            return 1

    return inner(x)


class A:
    @property
    def prop(self):
        return 1

    async def fetch(self):
        return 2

    if True:
        def conditional(self):
            return 3

    class B:
        def deep(self):
            return 4


async def top():
    return 5
";
        assert_eq!(
            names(src),
            [
                "A.fetch",
                "A.prop",
                "B.deep",
                "Local.method",
                "inner",
                "outer",
                "top"
            ]
        );
    }

    #[test]
    fn a_definition_holds_its_decorators_and_body() {
        let table = python_functions(&lines(
            "class A:\n    @staticmethod\n    def f(x):\n        if x:\n            return 1\n        return 2\n\n    def g(self):\n        pass\n",
        ));
        assert_eq!(
            table["A.f"],
            "    @ staticmethod\n    def f ( x ) :\n        if x :\n            return 1\n        return 2"
        );
        assert_eq!(table["A.g"], "    def g ( self ) :\n        pass");
    }

    #[test]
    fn adding_a_function_or_method_only_adds() {
        let before = lines(
            "X = 1\n\n\ndef f():\n    return X\n\n\nclass A:\n    def m(self):\n        return 1\n",
        );
        let added_function = lines("X = 1\n\n\ndef f():\n    return X\n\n\ndef g():\n    return 2\n\n\nclass A:\n    def m(self):\n        return 1\n");
        let added_method = lines("X = 1\n\n\ndef f():\n    return X\n\n\nclass A:\n    def m(self):\n        return 1\n\n    def n(self):\n        return 2\n");
        let also_global = lines("X = 2\n\n\ndef f():\n    return X\n\n\ndef g():\n    return 2\n\n\nclass A:\n    def m(self):\n        return 1\n");
        assert!(adds(&before, &added_function));
        assert!(adds(&before, &added_method));
        assert!(
            adds(&before, &also_global),
            "module-level changes are allowed alongside"
        );
    }

    #[test]
    fn changing_or_removing_a_function_is_more_than_adding() {
        let before = lines("def f():\n    return 1\n\n\ndef g():\n    return 2\n");
        let changed_and_added = lines(
            "def f():\n    return 10\n\n\ndef g():\n    return 2\n\n\ndef h():\n    return 3\n",
        );
        let removed_and_added = lines("def f():\n    return 1\n\n\ndef h():\n    return 3\n");
        let changed_only = lines("def f():\n    return 1\n\n\ndef g():\n    return 20\n");
        let global_only = lines("Y = 0\n\n\ndef f():\n    return 1\n\n\ndef g():\n    return 2\n");
        assert!(!adds(&before, &changed_and_added));
        assert!(!adds(&before, &removed_and_added));
        assert!(!adds(&before, &changed_only));
        assert!(!adds(&before, &global_only));
    }
}
