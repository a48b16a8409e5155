"""The chart README's values table is generated from values.yaml and kept up to date."""

from __future__ import annotations

import importlib.util
from types import ModuleType

import yaml

from .helpers import CHART


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate_readme", CHART.parent / "generate_readme.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_is_up_to_date() -> None:
    generate = _generator()
    current = (CHART / "README.md").read_text()
    fresh = generate.render_readme(current, (CHART / "values.yaml").read_text())
    assert fresh == current, "helm/mlgameday/README.md is stale: run python helm/generate_readme.py"


def test_every_value_is_documented() -> None:
    generate = _generator()
    text = (CHART / "values.yaml").read_text()
    documented = {path for path, _ in generate.documented_keys(text)}

    def leaves(node: object, prefix: str = "") -> set[str]:
        if isinstance(node, dict) and node:
            return set().union(*(leaves(v, f"{prefix}{k}.") for k, v in node.items()))
        return {prefix.rstrip(".")}

    undocumented = {leaf for leaf in leaves(yaml.safe_load(text))
                    if not any(leaf == d or leaf.startswith(d + ".") for d in documented)}
    assert not undocumented, f"values without a `# --` comment: {sorted(undocumented)}"


def test_generator_reads_nesting_and_defaults() -> None:
    generate = _generator()
    text = "a:\n  # -- the b\n  b: 1\n  c:\n    # -- deep\n    d: [x]\n# -- top\ne: {}\n"
    table = generate.values_table(text)
    assert "| `a.b` | int | `1` | the b |" in table
    assert '| `a.c.d` | list | `["x"]` | deep |' in table
    assert "| `e` | object | `{}` | top |" in table
