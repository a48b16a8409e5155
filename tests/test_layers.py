"""The layers hold (README, Layout): import-linter's contracts (pyproject.toml, [tool.importlinter]) on the
installed package — each layer imports only from those below it, the services not from each other,
and every module of mlgameday is placed in a layer (a new one must be placed to pass)."""

from __future__ import annotations

import ast
from pathlib import Path

from importlinter.cli import lint_imports

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def test_no_import_runs_back_up_the_layers(capsys) -> None:
    exit_code = lint_imports(config_filename=str(PYPROJECT), no_cache=True)
    report = capsys.readouterr().out
    assert exit_code == 0, report
    assert "0 broken" in report, report


PACKAGE = Path(__file__).resolve().parents[1] / "services"


def _module_file(parts: list[str]) -> Path | None:
    path = PACKAGE.joinpath(*parts)
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _top_level_names(source: Path) -> set[str]:
    names = set()
    for node in ast.parse(source.read_text()).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return names


def test_every_import_of_the_package_resolves() -> None:
    """Imports inside functions too (import-linter passes over a module that does not exist): a
    module moved in a refactor leaves no import behind that fails only when that code path runs."""
    broken = []
    for source in PACKAGE.rglob("*.py"):
        rel = source.relative_to(PACKAGE).with_suffix("")
        package = list(rel.parts[:-1]) if rel.name != "__init__" else list(rel.parts[:-1])
        for node in ast.walk(ast.parse(source.read_text())):
            if not (isinstance(node, ast.ImportFrom) and node.level):
                continue
            base = package[: len(package) - node.level + 1] + (node.module.split(".") if node.module else [])
            module = _module_file(base)
            if module is None:
                broken.append(f"{source.relative_to(PACKAGE)}:{node.lineno}: no module {'.'.join(base) or '(package)'}")
                continue
            defined = _top_level_names(module)
            for alias in node.names:
                if alias.name not in defined and _module_file(base + [alias.name]) is None:
                    broken.append(f"{source.relative_to(PACKAGE)}:{node.lineno}: {'.'.join(base)} has no {alias.name}")
    assert not broken, "\n".join(broken)
