"""The catalog: every scenario loads, its brief has every section, the README is generated from the YAML."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from mlgameday.cli import app
from mlgameday.drill.brief import SECTIONS, missing_sections
from mlgameday.drill.catalog import Catalog, default_scenarios_dir, render_markdown

REQUIRED = {"data-drift", "concept-drift", "training-serving-skew", "stale-features", "silent-fallback",
            "traffic-spike", "broker-outage", "schema-change", "slow-model", "bad-canary"}


def test_every_required_scenario_is_in_the_catalog_and_valid() -> None:
    catalog = Catalog()
    names = {s.name for s in catalog.all()}
    assert REQUIRED <= names


def test_every_brief_has_prompt_questions_rubric_root_cause_and_fix() -> None:
    for scenario in Catalog().all():
        assert missing_sections(scenario.brief_path) == [], f"{scenario.brief_path} lacks sections of {SECTIONS}"


def test_accelerated_mode_fits_in_90_seconds() -> None:
    for scenario in Catalog().all():
        assert scenario.fast.warmup + scenario.fast.duration <= 90, scenario.name


def test_catalog_readme_is_up_to_date() -> None:
    committed = (default_scenarios_dir() / "README.md").read_text()
    assert committed == render_markdown(Catalog()), (
        "scenarios/README.md is out of date: run `gameday scenarios --markdown > scenarios/README.md`")


def test_scenarios_command_lists_json_and_markdown() -> None:
    runner = CliRunner()
    listed = runner.invoke(app, ["scenarios", "--json"])
    assert listed.exit_code == 0, listed.output
    import json

    items = json.loads(listed.output)
    assert {i["name"] for i in items} >= REQUIRED
    assert all(i["teaches"] and i["duration_s"] > 0 for i in items)
    markdown = runner.invoke(app, ["scenarios", "--markdown"])
    assert markdown.output == render_markdown(Catalog())


def test_a_catalog_with_an_unknown_answer_id_fails_naming_it(tmp_path: Path) -> None:
    import shutil

    import pytest

    from mlgameday.drill.scenario import ScenarioError

    root = tmp_path / "catalog"
    shutil.copytree(default_scenarios_dir() / "slow-model", root / "slow-model")
    shutil.copy(default_scenarios_dir() / "choices.yaml", root / "choices.yaml")
    path = root / "slow-model" / "scenario.yaml"
    path.write_text(path.read_text().replace("root_cause: slow-model", "root_cause: gremlins"))
    with pytest.raises(ScenarioError, match="explain.root_cause = 'gremlins' is not a choice; allowed: input-drift"):
        Catalog(root).all()
