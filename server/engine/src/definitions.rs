//! The named definitions of a brace-language file (JavaScript, TypeScript, Go, Rust, Java): its
//! classes and types, and its functions, each method named after its class or receiver
//! (`Class.method`), as SWE-Swiss names Python methods. The normalized key reads the functions to
//! tell a change that only adds functions; retrieval's outline lists both.

use tree_sitter::Node;

use crate::languages::Language;

/// One definition, in the order of a depth-first walk.
pub struct Definition<'t> {
    /// `Class.method` for a method, the bare name otherwise.
    pub name: String,
    pub node: Node<'t>,
    /// A function (else a class, type or other container of methods).
    pub is_function: bool,
    /// A function that belongs to a type: inside a container, or with a Go receiver.
    pub is_method: bool,
}

/// Every named function and container under `root`. A function without a name of its own
/// counts only as the value of a named variable (`const f = () => …`); an anonymous callback is
/// part of the code around it. Functions inside functions are named by their bare name, as the
/// reference's `get_functions` names nested Python functions.
pub fn definitions<'t>(language: &Language, root: Node<'t>, src: &str) -> Vec<Definition<'t>> {
    let mut found = Vec::new();
    // The walk keeps the ancestors: asking a node for its parent searches down from the root.
    let mut ancestors: Vec<Node<'t>> = Vec::new();
    let mut cursor = root.walk();
    'walk: loop {
        let node = cursor.node();
        if language.containers.contains(&node.kind()) {
            if let Some(name) = container_name(node, src) {
                found.push(Definition {
                    name,
                    node,
                    is_function: false,
                    is_method: false,
                });
            }
        } else if language.functions.contains(&node.kind()) {
            if let Some(name) = function_name(node, ancestors.last().copied(), src) {
                let owner = owner(language, node, &ancestors, src);
                found.push(Definition {
                    name: match &owner {
                        Some(owner) => format!("{owner}.{name}"),
                        None => name,
                    },
                    node,
                    is_function: true,
                    is_method: owner.is_some(),
                });
            }
        }
        if cursor.goto_first_child() {
            ancestors.push(node);
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                continue 'walk;
            }
            if !cursor.goto_parent() {
                break 'walk;
            }
            ancestors.pop();
        }
    }
    found
}

fn text<'s>(node: Node<'_>, src: &'s str) -> &'s str {
    &src[node.byte_range()]
}

/// A container's `name`, or for Rust's `impl` the type it implements, without type arguments.
fn container_name(node: Node<'_>, src: &str) -> Option<String> {
    let named = node
        .child_by_field_name("name")
        .or_else(|| node.child_by_field_name("type"))?;
    let name = text(named, src);
    let name = name.split('<').next().unwrap_or(name).trim();
    (!name.is_empty()).then(|| name.to_owned())
}

fn function_name(node: Node<'_>, parent: Option<Node<'_>>, src: &str) -> Option<String> {
    if let Some(name) = node.child_by_field_name("name") {
        return Some(text(name, src).to_owned());
    }
    let parent = parent?;
    let is_value = parent
        .child_by_field_name("value")
        .is_some_and(|value| value.id() == node.id());
    if !is_value {
        return None;
    }
    let name = parent
        .child_by_field_name("name")
        .or_else(|| parent.child_by_field_name("left"))?;
    Some(text(name, src).to_owned())
}

/// The type a method belongs to: a Go receiver's type, or the innermost container around the
/// function when no function lies between them.
fn owner(
    language: &Language,
    function: Node<'_>,
    ancestors: &[Node<'_>],
    src: &str,
) -> Option<String> {
    if let Some(receiver) = function.child_by_field_name("receiver") {
        return first_type_name(receiver, src);
    }
    for node in ancestors.iter().rev() {
        if language.functions.contains(&node.kind()) {
            return None;
        }
        if language.containers.contains(&node.kind()) {
            return container_name(*node, src);
        }
    }
    None
}

fn first_type_name(node: Node<'_>, src: &str) -> Option<String> {
    if node.kind() == "type_identifier" {
        return Some(text(node, src).to_owned());
    }
    let mut cursor = node.walk();
    let children: Vec<Node<'_>> = node.named_children(&mut cursor).collect();
    children
        .into_iter()
        .find_map(|child| first_type_name(child, src))
}
