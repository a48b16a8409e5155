"""Fault injectors against a real admin HTTP server holding the producer's and ingest's real knob models."""

from __future__ import annotations

from typing import Iterator

import pytest

from mlgameday.config import load_settings
from mlgameday.drill.faults import REGISTRY, FaultContext, UnknownFault, injector
from mlgameday.contracts.knobs import IngestFaults, ProducerFaults
from mlgameday.runtime.admin_http import AdminServer, Knobs


TOKEN = "test-admin-key-0123456789"


class ServersTarget:
    """A target whose services are admin servers in this process (the knob path is the real one)."""

    def __init__(self, servers: dict[str, AdminServer]) -> None:
        self.servers = servers

    def admin_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {TOKEN}"}

    def admin_url(self, component: str) -> str:
        return f"http://127.0.0.1:{self.servers[component].port}"

    def endpoint(self, component: str, name: str) -> str | None:
        return self.admin_url(component)

    def components(self) -> dict[str, str]:
        return {name: "running" for name in self.servers}

    def chaos(self, action: str, component: str) -> str:
        raise AssertionError("no process faults here")


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, AdminServer]]:
    running = {"producer": AdminServer(0, lambda: True, knobs=Knobs(ProducerFaults), token=TOKEN).start(),
               "ingest": AdminServer(0, lambda: True, knobs=Knobs(IngestFaults), token=TOKEN).start()}
    yield running
    for server in running.values():
        server.stop()


@pytest.fixture
def ctx(servers, tmp_path) -> FaultContext:
    for server in servers.values():
        server.knobs.reset()
    return FaultContext(target=ServersTarget(servers), settings=load_settings(run_dir=tmp_path))


def knobs(ctx: FaultContext, component: str) -> dict:
    from mlgameday.drill.targets import get_knobs

    return get_knobs(ctx.target, component)


def test_two_shifts_compose_and_recover_one_at_a_time(ctx: FaultContext) -> None:
    shift = injector("shift_feature")
    distance = shift.parse({"column": "trip_distance", "multiply": 2.5, "share": 0.6})
    passengers = shift.parse({"column": "passenger_count", "add": 1})
    shift.inject(ctx, distance)
    shift.inject(ctx, passengers)
    assert [s["column"] for s in knobs(ctx, "producer")["shifts"]] == ["trip_distance", "passenger_count"]
    shift.recover(ctx, distance)
    assert [s["column"] for s in knobs(ctx, "producer")["shifts"]] == ["passenger_count"]


@pytest.mark.parametrize("kind, params, component, knob, on, off", [
    ("congestion", {"speed_multiplier": 0.5}, "producer", "congestion",
     {"boroughs": None, "zones": None, "speed_multiplier": 0.5}, None),
    ("rename_field", {"old": "trip_distance", "new": "distance_miles"}, "producer", "rename_field",
     {"old": "trip_distance", "new": "distance_miles"}, None),
    ("drop_field", {"field": "passenger_count"}, "producer", "drop_field", "passenger_count", None),
    ("malformed", {"share": 0.2}, "producer", "malformed_share", 0.2, 0.0),
    ("nulls", {"share": 0.1}, "producer", "null_share", 0.1, 0.0),
    ("rate", {"multiply": 10}, "producer", "rate_multiplier", 10.0, 1.0),
    ("units_bug", {}, "ingest", "speed_unit", "kmh", "mph"),
])
def test_knob_faults_turn_the_knob_on_and_back_off(ctx, kind, params, component, knob, on, off) -> None:
    fault = injector(kind)
    parsed = fault.parse(params)
    fault.inject(ctx, parsed)
    assert knobs(ctx, component)[knob] == on
    fault.recover(ctx, parsed)
    assert knobs(ctx, component)[knob] == off


def test_burst_says_when_it_ends_and_unknown_kinds_are_named() -> None:
    burst = injector("burst")
    assert burst.recover_after_s(burst.parse({"multiply": 5, "seconds": 8})) == 8
    with pytest.raises(UnknownFault, match="no fault kind 'meteor'") as info:
        injector("meteor")
    assert "shift_feature" in str(info.value)


def test_every_family_of_the_task_is_registered() -> None:
    families = {inj.family for inj in REGISTRY.values()}
    assert families == {"process", "traffic", "data", "features", "model"}


def test_rate_is_relative_to_the_drills_own_traffic(ctx: FaultContext) -> None:
    ctx.memory["rate_multiplier"] = 0.75  # a 15/s drill on a producer set to 20/s
    rate = injector("rate")
    rate.inject(ctx, rate.parse({"multiply": 10}))
    assert knobs(ctx, "producer")["rate_multiplier"] == 7.5
    rate.recover(ctx, rate.parse({"multiply": 10}))
    assert knobs(ctx, "producer")["rate_multiplier"] == 0.75
