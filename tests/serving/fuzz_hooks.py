"""schemathesis hooks for the fuzz test (loaded through SCHEMATHESIS_HOOKS): after a fuzzed call
changed the service's state — a fault knob turned on, a model promoted — put it back, so one
case cannot make every later one slow (a 60 s feature latency is a valid knob) or change its model."""

from __future__ import annotations

import os

import httpx
import schemathesis

BASE_URL = os.environ["FUZZ_BASE_URL"]
KEY = {"Authorization": os.environ["FUZZ_ADMIN_AUTH"]}
LIVE_TAG = os.environ["FUZZ_LIVE_TAG"]


@schemathesis.hook
def after_call(context, case, response) -> None:
    if case.method.upper() == "GET" or not case.path.startswith("/admin"):
        return
    httpx.delete(BASE_URL + "/admin/faults", headers=KEY, timeout=30)
    if case.path == "/admin/promote":
        for change in ({"clear": "canary"}, {"clear": "shadow"}, {"tag": LIVE_TAG}):
            httpx.post(BASE_URL + "/admin/promote", json=change, headers=KEY, timeout=60)
