"""The drill profile is a typed overlay on the stack's settings, handed to the stack: settings.yaml
records it, and a running stack restarts exactly the components whose settings changed (their
record's digest), with the new settings — no environment is read or written."""

from __future__ import annotations

import os

import pytest
import yaml

from mlgameday.config import load_settings
from mlgameday.drill.profile import drill_profile, with_profile
from mlgameday.errors import ConfigError
from mlgameday.stack.supervisor import Stack

from .test_target_conformance import KnobService


def test_the_profile_is_validated_like_the_config() -> None:
    settings = load_settings()
    drilled = with_profile(settings, drill_profile(seed=7))
    assert drilled.monitor.window_s == 10 and drilled.producer.seed == 7 and drilled.producer.time_scale == 300
    assert drilled.producer.rate == settings.producer.rate  # the rate turns through a knob, no restart
    assert drilled.ingest == settings.ingest
    with pytest.raises(ConfigError, match="monitor"):
        with_profile(settings, {"monitor": {"alert_k": 5, "alert_n": 3}})


def test_a_running_stack_restarts_only_what_the_profile_changes(tmp_path) -> None:
    settings = load_settings(run_dir=tmp_path / "run")
    environ = dict(os.environ)
    stack = Stack(settings, components=[KnobService(name) for name in ("producer", "ingest", "monitor")])
    stack.up()  # a plain `gameday up`: default settings
    try:
        before = {s.name: s.pid for s in stack.status()}
        restarted = stack.reconfigure(with_profile(stack.settings, drill_profile(seed=7)))
        assert restarted == ["producer", "monitor"]
        after = {s.name: s.pid for s in stack.status()}
        assert after["ingest"] == before["ingest"]
        assert after["producer"] != before["producer"] and after["monitor"] != before["monitor"]
        assert all(s.state == "running" for s in stack.status())
        saved = yaml.safe_load(stack.run.settings_file.read_text())  # what the services read
        assert saved["monitor"]["window_s"] == 10 and saved["producer"]["seed"] == 7
        # Again with the same profile: nothing to restart.
        assert stack.reconfigure(with_profile(stack.settings, drill_profile(seed=7))) == []
        # A new stack object of the same run folder (another `gameday drill`) sees the same.
        again = Stack(load_settings(run_dir=tmp_path / "run"),
                      components=[KnobService(name) for name in ("producer", "ingest", "monitor")])
        assert again.reconfigure(with_profile(again.settings, drill_profile(seed=7))) == []
    finally:
        stack.down()
    assert dict(os.environ) == environ


def test_the_chart_values_give_a_release_the_settings_the_profile_gives_the_local_stack(
        tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mlgameday.drill.profile import chart_values

    profile = drill_profile()
    env = {}
    for assignment in chart_values(profile):
        path, _, value = assignment.partition("=")
        section, field, name = path.split(".")
        assert field == "env" and section in profile, assignment
        env[name] = value
    for name, value in env.items():
        monkeypatch.setenv(name, value)  # what the chart puts in the services' containers
    from_env = load_settings(run_dir=tmp_path)
    for name in env:
        monkeypatch.delenv(name)
    wanted = with_profile(load_settings(run_dir=tmp_path), profile)
    assert from_env.monitor == wanted.monitor and from_env.producer == wanted.producer
    assert from_env.monitor.window_s == 10.0  # not the default: the env reached the settings


def test_a_release_for_drills_judges_without_the_local_stacks_decisive_rules(tmp_path) -> None:
    from mlgameday.drill.profile import cluster_profile

    local = with_profile(load_settings(run_dir=tmp_path), drill_profile()).monitor
    release = with_profile(load_settings(run_dir=tmp_path), cluster_profile()).monitor
    assert (local.median_age_s, local.labels_due_s) == (15.0, 10.0)
    assert (release.median_age_s, release.labels_due_s) == (None, None)  # measured locally only
    assert (release.window_s, release.label_wait_s, release.save_html) == (10.0, 20.0, False)
