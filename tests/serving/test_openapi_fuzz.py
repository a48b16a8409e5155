"""Fuzz the running service against its own OpenAPI document with schemathesis: every route, valid and
invalid inputs, all of schemathesis' checks (no 5xx, status codes, content types and bodies as
documented, invalid data refused, valid data accepted, the admin key not ignored) — 0 failures."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

pytestmark = pytest.mark.integration

# Enough for every route to see valid and invalid bodies; the coverage phase adds the edge cases.
EXAMPLES = 40


@pytest.fixture(scope="module")
def api_schema(server):
    return schemathesis.openapi.from_url(server.url + "/docs.json")


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture
def restore(server, trained_run):
    """A fuzzed call may turn a knob or promote a model: put the service back after every case."""
    yield
    server.client.delete("/admin/faults")
    server.client.post("/admin/promote", json={"clear": "canary"})
    server.client.post("/admin/promote", json={"clear": "shadow"})
    server.client.post("/admin/promote", json={"tag": trained_run.models["accurate"].tag})


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much])
def test_the_service_keeps_its_openapi_promises(case, server, restore):
    case.call_and_validate(base_url=server.url, headers={"Authorization": server.client.headers["authorization"]},
                           timeout=30)
    if case.method.upper() != "GET" and case.path.startswith("/admin"):
        server.client.delete("/admin/faults")  # a knob left on would slow every later case
