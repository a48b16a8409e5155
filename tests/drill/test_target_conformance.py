"""One suite, every target: the local stack (the real supervisor running service processes) and a
cluster (the real Kubernetes client against the fake API server of tests/k8s, seeded with the chart).

Each target must report its components in the same words (targets.State), turn a service's fault
knobs through its admin endpoint with the run folder's key, and stop and start a component. The
services here are the real admin server with each service's real knob model (knob_service.py): the
knob path is the one the drills use. The real cluster comes with its own issue.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import httpx
import pytest

from mlgameday.config import load_settings
from mlgameday.contracts.knobs import KNOBS
from mlgameday.drill.faults import REGISTRY, FaultContext
from mlgameday.drill.targets import State, Target, get_knobs, reset_knobs, set_knobs
from mlgameday.drill.targets.cluster import ClusterDrillTarget
from mlgameday.drill.targets.local import LocalTarget
from mlgameday.k8s import ClusterTarget
from mlgameday.runtime.admin_http import AdminServer, Knobs
from mlgameday.runtime.admin_key import admin_token
from mlgameday.stack.component import Component, LaunchSpec, StackContext
from mlgameday.stack.ports import LOOPBACK
from mlgameday.stack.state import ComponentRecord
from mlgameday.stack.supervisor import Stack

from ..k8s.fake_apiserver import FakeApiServer
from ..k8s.helpers import NAMESPACE, RELEASE, render

KNOB_SERVICE = Path(__file__).with_name("knob_service.py")
SERVICES = ("producer", "ingest")


class KnobService(Component):
    """A supervised process serving one service's knobs (tests/drill/knob_service.py)."""

    port_names = ("http",)
    stop_timeout_s = 5.0

    def __init__(self, name: str) -> None:
        self.name = name

    def launch(self, ctx: StackContext, ports: dict[str, int]) -> LaunchSpec:
        return LaunchSpec([sys.executable, str(KNOB_SERVICE), self.name, str(ports["http"]), str(ctx.run.root)])

    def endpoints(self, ctx: StackContext, ports: dict[str, int]) -> dict[str, str]:
        return {"http": f"http://{LOOPBACK}:{ports['http']}"}

    def is_ready(self, ctx: StackContext, record: ComponentRecord) -> bool:
        try:
            return httpx.get(record.endpoints["http"] + "/ready", timeout=1.0).status_code == 200
        except httpx.HTTPError:
            return False

    def data_paths(self, ctx: StackContext) -> list[Path]:
        return []


@dataclass
class Deployment:
    target: Target
    stoppable: str  # a component the suite may stop and start


@pytest.fixture(params=["local", "k8s"])
def deployment(request, tmp_path: Path) -> Iterator[Deployment]:
    settings = load_settings(run_dir=tmp_path / "run")
    if request.param == "local":
        stack = Stack(settings, components=[KnobService(name) for name in SERVICES])
        stack.up()
        try:
            yield Deployment(LocalTarget(settings, stack), stoppable="ingest")
        finally:
            stack.down()
        return
    token = admin_token(settings)  # the release's key (GAMEDAY_ADMIN_TOKEN on a cluster)
    servers = {name: AdminServer(0, lambda: True, knobs=Knobs(KNOBS[name]), token=token).start() for name in SERVICES}
    try:
        with FakeApiServer() as api:
            api.cluster.seed_from_manifests(render("default"), NAMESPACE)
            kubeconfig = tmp_path / "kubeconfig"
            kubeconfig.write_text(api.kubeconfig(NAMESPACE))
            cluster = ClusterTarget.connect(release=RELEASE, kubeconfig=str(kubeconfig))
            # The services' admin ports, as `kubectl port-forward` would hand them over.
            urls = {name: f"http://127.0.0.1:{server.port}" for name, server in servers.items()}
            yield Deployment(ClusterDrillTarget(cluster, settings, urls), stoppable="monitor")
    finally:
        for server in servers.values():
            server.stop()


def test_components_are_reported_in_the_common_words(deployment: Deployment) -> None:
    states = deployment.target.components()
    assert states and all(isinstance(state, State) for state in states.values()), states
    for name in SERVICES:
        assert states[name] == State.UP, states


def test_knobs_turn_through_the_admin_endpoint_with_the_key(deployment: Deployment) -> None:
    target = deployment.target
    assert get_knobs(target, "producer") == KNOBS["producer"]().model_dump(mode="json")
    assert set_knobs(target, "producer", {"rate_multiplier": 3.0})["rate_multiplier"] == 3.0
    assert get_knobs(target, "producer")["rate_multiplier"] == 3.0
    assert reset_knobs(target, "producer")["rate_multiplier"] == 1.0
    url = target.admin_url("producer") + "/faults"
    assert httpx.post(url, json={"rate_multiplier": 9.0}, timeout=5).status_code == 401  # no key, no change
    assert get_knobs(target, "producer")["rate_multiplier"] == 1.0


def test_a_knob_fault_injects_and_recovers_through_the_target(deployment: Deployment) -> None:
    ctx = FaultContext(target=deployment.target, settings=deployment.target.settings)
    units = REGISTRY["units_bug"]
    units.inject(ctx, units.parse({}))
    assert get_knobs(deployment.target, "ingest")["speed_unit"] == "kmh"
    units.recover(ctx, units.parse({}))
    assert get_knobs(deployment.target, "ingest")["speed_unit"] == "mph"


def test_a_stopped_component_is_stopped_and_comes_back(deployment: Deployment) -> None:
    target, name = deployment.target, deployment.stoppable
    ctx = FaultContext(target=target, settings=target.settings)
    stop = REGISTRY["stop"]
    params = stop.parse({"component": name})
    stop.inject(ctx, params)
    assert target.components()[name] == State.STOPPED
    stop.recover(ctx, params)
    assert target.components()[name] == State.UP


def test_a_service_the_stack_skipped_is_absent_not_up(tmp_path: Path) -> None:
    """`up` skips serving and the producer until a model exists: a record without a process, which
    the drill must start after training, never stop (the supervisor calls a process-less part external)."""
    settings = load_settings(run_dir=tmp_path / "run")
    stack = Stack(settings, components=[])
    stack.run.save({"producer": ComponentRecord("producer", endpoints={"skipped": "skipped: no trained model yet"}),
                    "kafka": ComponentRecord("kafka", endpoints={"bootstrap": "broker.example:9092"})})
    states = LocalTarget(settings, stack).components()
    assert states == {"producer": State.ABSENT, "kafka": State.UP}  # an external broker is up
