"""Fuzz the running service against its own OpenAPI document with schemathesis (its CLI, all phases:
examples, coverage, fuzzing, stateful): every route, valid and invalid inputs, every check — no 5xx,
status codes, content types, headers and bodies as documented, invalid data refused, valid data
accepted, the admin key not ignored, unsupported methods refused. 0 failures."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

HERE = Path(__file__).parent


def test_the_service_keeps_its_openapi_promises(server, trained_run, tmp_path):
    auth = server.client.headers["authorization"]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "fuzz_hooks", "PYTHONPATH": str(HERE),
           "FUZZ_BASE_URL": server.url, "FUZZ_ADMIN_AUTH": auth,
           "FUZZ_LIVE_TAG": trained_run.models["accurate"].tag}
    command = [sys.executable, "-m", "schemathesis.cli", "run", server.url + "/docs.json", "--url", server.url,
               "--checks", "all", "--max-examples", "40", "--seed", "2026", "--workers", "1",
               "--header", f"Authorization: {auth}", "--request-timeout", "30",
               "--suppress-health-check", "all", "--report", "junit", "--report-dir", str(tmp_path)]
    # Run in tmp_path: schemathesis keeps a cache folder (.schemathesis/) in its working directory.
    run = subprocess.run(command, env=env, capture_output=True, text=True, timeout=1500, cwd=tmp_path)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-12000:]
    assert "No issues found" in output or " 0 failures" in output or "passed" in output, output[-3000:]
