"""`gameday up` starts components in dependency waves: each wave only after the one before is ready."""

from __future__ import annotations

from pathlib import Path

from mlgameday.config import load_settings
from mlgameday.app import services
from mlgameday.stack.registry import build_components
from mlgameday.stack.supervisor import dependency_waves


def names(waves) -> list[list[str]]:
    return [[c.name for c in wave] for wave in waves]


def test_the_full_stack_starts_in_three_waves(tmp_path: Path) -> None:
    settings = load_settings(run_dir=tmp_path / "run")
    assert names(dependency_waves(build_components(settings, services))) == [
        ["kafka"], ["ingest", "producer", "serving", "monitor"], ["riders"]]


def test_redis_joins_the_first_wave_and_every_dependency_comes_earlier(tmp_path: Path) -> None:
    settings = load_settings(run_dir=tmp_path / "run", online_store="redis")
    waves = dependency_waves(build_components(settings, services))
    assert sorted(names(waves)[0]) == ["kafka", "redis"]
    present = {c.name for wave in waves for c in wave}
    seen: set[str] = set()
    for wave in waves:
        for component in wave:
            assert set(component.depends_on) & present <= seen, component.name
        seen |= {c.name for c in wave}
