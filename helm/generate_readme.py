#!/usr/bin/env python3
"""Render the values table of helm/mlgameday/README.md from values.yaml's `# --` comments.

A comment line `# -- text` documents the key on the next line; its default is read from the
parsed values. The table replaces what sits between the README's two markers, so the prose
around it stays hand-written.

    python helm/generate_readme.py            # rewrite the README
    python helm/generate_readme.py --check    # exit 1 if the README is out of date
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import yaml

CHART = Path(__file__).resolve().parent / "mlgameday"
START, END = "<!-- values:start -->", "<!-- values:end -->"
KEY_LINE = re.compile(r"^(?P<indent> *)(?P<key>[A-Za-z_][A-Za-z0-9_]*):")
DOC_LINE = re.compile(r"^ *# -- (?P<text>.+)$")
MISSING = object()


def documented_keys(values_text: str) -> list[tuple[str, str]]:
    """(dotted.path, description) for every key preceded by a `# --` line, in file order."""
    found: list[tuple[str, str]] = []
    stack: list[tuple[int, str]] = []  # (indent, key) of the keys enclosing the current line
    pending: str | None = None
    for line in values_text.splitlines():
        if doc := DOC_LINE.match(line):
            pending = doc.group("text").strip()
            continue
        match = KEY_LINE.match(line)
        if not match:
            if line.strip() and not line.lstrip().startswith(("#", "-")):
                pending = None
            continue
        indent = len(match.group("indent"))
        while stack and stack[-1][0] >= indent:
            stack.pop()
        stack.append((indent, match.group("key")))
        if pending is not None:
            found.append((".".join(key for _, key in stack), pending))
            pending = None
    return found


def lookup(values: dict[str, Any], path: str) -> Any:
    node: Any = values
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return MISSING
        node = node[part]
    return node


def type_name(value: Any) -> str:
    return {bool: "bool", int: "int", float: "float", str: "string", list: "list", dict: "object"}.get(
        type(value), "null")


def values_table(values_text: str) -> str:
    values = yaml.safe_load(values_text)
    rows = ["| Key | Type | Default | Description |", "|-----|------|---------|-------------|"]
    for path, text in documented_keys(values_text):
        default = lookup(values, path)
        if default is MISSING:
            raise SystemExit(f"values.yaml documents {path!r} but the key is not in the parsed values")
        shown = json.dumps(default, separators=(", ", ": ")).replace("|", r"\|")
        described = text.replace("|", r"\|")
        rows.append(f"| `{path}` | {type_name(default)} | `{shown}` | {described} |")
    return "\n".join(rows)


def render_readme(readme_text: str, values_text: str) -> str:
    """The README with the table between the markers replaced by a fresh one."""
    if START not in readme_text or END not in readme_text:
        raise SystemExit(f"README needs the markers {START} and {END}")
    head, rest = readme_text.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{values_table(values_text)}\n{END}{tail}"


def main(argv: list[str]) -> int:
    readme = CHART / "README.md"
    current = readme.read_text()
    fresh = render_readme(current, (CHART / "values.yaml").read_text())
    if "--check" in argv:
        if fresh != current:
            print(f"{readme} is out of date: run python helm/generate_readme.py", file=sys.stderr)
            return 1
        return 0
    readme.write_text(fresh)
    print(f"wrote {readme}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
