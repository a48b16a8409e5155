"""POST /actions/NAME on a service's admin server (the monitor's reset): over real HTTP, only with the
run folder's admin key, unknown actions are a 404, an action that times out is a 503 naming why."""

from __future__ import annotations

from typing import Iterator

import httpx
import pytest
from prometheus_client import CollectorRegistry

from mlgameday.runtime.admin_http import AdminServer

TOKEN = "k3y-for-tests"


@pytest.fixture
def server() -> Iterator[tuple[str, list[str]]]:
    ran: list[str] = []

    def reset() -> dict:
        ran.append("reset")
        return {"predictions_dropped": 7}

    def stuck() -> dict:
        raise TimeoutError("the monitor's loop did not reset within 30 s")

    admin = AdminServer(0, ready=lambda: True, token=TOKEN, registry=CollectorRegistry(),
                        actions={"reset": reset, "stuck": stuck}).start()
    try:
        yield f"http://127.0.0.1:{admin.port}", ran
    finally:
        admin.stop()


def test_an_action_runs_only_with_the_admin_key(server: tuple[str, list[str]]) -> None:
    url, ran = server
    refused = httpx.post(url + "/actions/reset", json={})
    assert refused.status_code == 401 and "admin key" in refused.json()["error"] and ran == []
    wrong = httpx.post(url + "/actions/reset", json={}, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and ran == []
    done = httpx.post(url + "/actions/reset", json={}, headers={"Authorization": f"Bearer {TOKEN}"})
    assert done.status_code == 200 and done.json() == {"predictions_dropped": 7} and ran == ["reset"]


def test_unknown_and_timed_out_actions_say_why(server: tuple[str, list[str]]) -> None:
    url, _ = server
    headers = {"Authorization": f"Bearer {TOKEN}"}
    unknown = httpx.post(url + "/actions/explode", json={}, headers=headers)
    assert unknown.status_code == 404 and "/actions/explode" in unknown.json()["error"]
    stuck = httpx.post(url + "/actions/stuck", json={}, headers=headers)
    assert stuck.status_code == 503 and "did not reset" in stuck.json()["error"]
