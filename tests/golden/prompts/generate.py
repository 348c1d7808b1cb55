#!/usr/bin/env python3
"""Writes the expected prompts of the golden tests from the SWE-Swiss reference's own templates.

Usage: python3 tests/golden/prompts/generate.py REF_DIR

REF_DIR is a checkout of github.com/zhenyuhe00/SWE-Swiss. The templates and the helper functions
that shape the prompts are read from its sources under evaluation/agentless/ and run here on the
fixed input in input.json; nothing of the reference is copied into this repository. The sources
are read as text rather than imported: their modules import the whole evaluation stack (datasets,
openai, tiktoken, ...), and repair/repair.py does not even parse as committed (a missing comma in
a call far from the template), so each template and function is cut out of its file and evaluated
on its own.
"""

import ast
import json
import pathlib
import re
import sys

HERE = pathlib.Path(__file__).resolve().parent


def source(ref: pathlib.Path, relative: str) -> str:
    return (ref / "evaluation" / "agentless" / relative).read_text()


def string_constant(text: str, name: str, indent: str = "") -> str:
    """The value of `name = \"\"\"...\"\"\"` (at `indent`) in `text`."""
    match = re.search(
        rf'^{indent}{name} = ("""(?:.|\n)*?""")\n', text, flags=re.MULTILINE
    )
    if match is None:
        raise SystemExit(f"failed to find the template {name}: is REF_DIR a SWE-Swiss checkout?")
    return ast.literal_eval(match.group(1))


def function(text: str, name: str, namespace: dict):
    """Defines the top-level function `name` of `text` in `namespace` and returns it."""
    lines = text.split("\n")
    start = next(
        (i for i, line in enumerate(lines) if line.startswith(f"def {name}(")), None
    )
    if start is None:
        raise SystemExit(f"failed to find the function {name}: is REF_DIR a SWE-Swiss checkout?")
    end = start + 1
    while end < len(lines) and (lines[end] == "" or lines[end][0] in " \t)"):
        end += 1
    exec("\n".join(lines[start:end]), namespace)
    return namespace[name]


def structure_of(files: dict) -> dict:
    """The structure dict the reference's create_structure builds for these files: os.walk goes
    top-down, so a directory holds its files, then its subdirectories. Unlike create_structure,
    the root is not wrapped in a key named after the repository (Swiss's paths are relative to
    the repository root, see README), and names are sorted where the reference takes the file
    system's order."""
    tree: dict = {}
    for path in files:
        *directories, name = path.split("/")
        node = tree
        for directory in directories:
            node = node.setdefault(directory + "/", {})
        node[name] = path

    def build(node: dict) -> dict:
        out: dict = {}
        for name in sorted(k for k in node if not k.endswith("/")):
            if name.endswith(".py"):
                # parse_python_file's shape; only "text" (the lines) reaches a prompt.
                lines = files[node[name]].splitlines()
                out[name] = {"classes": [], "functions": [], "text": lines}
            else:
                out[name] = {}
        for name in sorted(k for k in node if k.endswith("/")):
            out[name[:-1]] = build(node[name])
        return out

    return build(tree)


def main() -> None:
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    ref = pathlib.Path(sys.argv[1])
    data = json.loads((HERE / "input.json").read_text())
    issue = data["issue"]
    files = data["files"]

    preprocess = source(ref, "util/preprocess_data.py")
    ns: dict = {}
    for name in ["filter_none_python", "filter_out_test_files", "show_project_structure",
                 "get_full_file_paths_and_classes_and_functions"]:
        function(preprocess, name, ns)
    structure = structure_of(files)
    ns["filter_none_python"](structure)
    ns["filter_out_test_files"](structure)

    fl = source(ref, "fl/FL.py")
    localize = string_constant(fl, "obtain_relevant_files_prompt", indent="    ")
    message = localize.format(
        problem_statement=issue,
        structure=ns["show_project_structure"](structure).strip(),
    ).strip()
    (HERE / "localize.txt").write_text(message)

    # The repair and reproduction prompts show the localized files as the reference reads them:
    # the lines of the structure's "text", joined by "\n".
    listed, _, _ = ns["get_full_file_paths_and_classes_and_functions"](
        structure_of(data["files"])
    )
    file_contents = {path: "\n".join(lines) for path, lines in listed}
    repair = source(ref, "repair/repair.py")
    # The inputs are far below the 60,000-token budget, so the count only has to be a number;
    # the reference counts with tiktoken, which the budget tests on the Rust side stand in for.
    construct = function(
        repair,
        "construct_topn_file_context",
        {"num_tokens_from_messages": lambda message, model=None: len(message) // 4},
    )
    content = construct(data["localized"], file_contents, max_input_tokens=60000)
    template = string_constant(repair, "repair_prompt_combine_topn_cot_diff")
    instruction = string_constant(repair, "repair_relevant_file_instruction")
    message = template.format(
        repair_relevant_file_instruction=instruction,
        problem_statement=issue,
        content=content.rstrip(),
    ).strip()
    (HERE / "repair.txt").write_text(message)

    reproduce = source(ref, "test/generate_reproduction_tests.py")
    template = string_constant(reproduce, "generate_tests_prompt_template")
    instruction = string_constant(reproduce, "repair_relevant_file_instruction")
    message = template.format(
        problem_statement=issue,
        repair_relevant_file_instruction=instruction,
        content=content.rstrip(),
    ).strip()
    (HERE / "reproduce.txt").write_text(message)

    select = source(ref, "test/select_regression_tests.py")
    template = string_constant(select, "select_tests_prompt_template")
    message = template.format(
        problem_statement=issue, passing_tests="\n".join(data["passing_tests"])
    ).strip()
    (HERE / "select_regression.txt").write_text(message)


if __name__ == "__main__":
    main()
