"""The layers hold (README, Layout): import-linter's contracts (pyproject.toml, [tool.importlinter]) on the
installed package — each layer imports only from those below it, the services not from each other,
and every module of mlgameday is placed in a layer (a new one must be placed to pass)."""

from __future__ import annotations

from pathlib import Path

from importlinter.cli import lint_imports

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def test_no_import_runs_back_up_the_layers(capsys) -> None:
    exit_code = lint_imports(config_filename=str(PYPROJECT), no_cache=True)
    report = capsys.readouterr().out
    assert exit_code == 0, report
    assert "0 broken" in report, report
