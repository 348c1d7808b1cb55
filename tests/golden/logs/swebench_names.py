#!/usr/bin/env python3
"""Writes the test names and statuses SWE-bench's own log parsers give for the captured logs here,
as `<log>.<parser>.json`, which the Rust parsers are tested against.

Usage: swebench_names.py SWE_BENCH_CHECKOUT

SWE_BENCH_CHECKOUT is a work tree of github.com/SWE-bench/SWE-bench; only
swebench/harness/log_parsers/python.py and swebench/harness/constants/__init__.py are read, with
the package's other imports stubbed so that no SWE-bench dependency needs installing.
"""

import json
import pathlib
import sys
import types

# log file -> the SWE-bench parsers to run on it
LOGS = {
    "django.log": ["parse_log_django"],
    "sympy.log": ["parse_log_sympy"],
    "unittest.log": ["parse_log_django"],
    "pytest_ra.log": [
        "parse_log_pytest",
        "parse_log_pytest_options",
        "parse_log_pytest_v2",
        "parse_log_matplotlib",
        "parse_log_seaborn",
    ],
    "pytest_classic.log": ["parse_log_pytest_v2"],
}


def load_parsers(checkout: pathlib.Path) -> dict:
    harness = checkout / "swebench" / "harness"
    constants = types.ModuleType("swebench.harness.constants")
    exec((harness / "constants" / "__init__.py").read_text(), constants.__dict__)
    stub_types = types.ModuleType("swebench.types")
    stub_types.TestSpec = object
    for name in ["swebench", "swebench.harness"]:
        sys.modules[name] = types.ModuleType(name)
    sys.modules["swebench.harness.constants"] = constants
    sys.modules["swebench.types"] = stub_types
    parsers = {}
    exec((harness / "log_parsers" / "python.py").read_text(), parsers)
    return parsers


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    parsers = load_parsers(pathlib.Path(sys.argv[1]))
    here = pathlib.Path(__file__).parent
    for log, names in LOGS.items():
        text = (here / log).read_text()
        for name in names:
            result = parsers[name](text, None)
            out = here / f"{log}.{name}.json"
            out.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
            print(f"{out.name}: {len(result)} tests")


if __name__ == "__main__":
    main()
