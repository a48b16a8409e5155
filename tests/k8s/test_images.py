"""The images: what can be checked without a Docker engine (none here).

The entry point's services are the chart's and the design's, each module it runs is
importable as `python -m` would run it, bentofile.yaml is a valid BentoML build config for
the serving service, and every tag follows the chart's appVersion.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import tomllib

import pytest
import yaml

from .helpers import CHART, of_kind, pod_spec, render

REPO = CHART.parents[1]
DOCKER = REPO / "docker"
PYTHON_SERVICES = ("producer", "ingest", "riders", "monitor")


def _entrypoint_branches() -> dict[str, str]:
    """service name -> the command line its case branch runs."""
    text = (DOCKER / "entrypoint.sh").read_text()
    branches = {}
    for names, body in re.findall(r"^\s+([a-z|]+)\)\n(.*?);;", text, flags=re.M | re.S):
        command = next(line.strip() for line in body.splitlines() if line.strip().startswith("exec"))
        for name in names.split("|"):
            branches[name] = command
    return branches


def test_entrypoint_runs_each_service_as_designed() -> None:
    branches = _entrypoint_branches()
    assert set(branches) == {*PYTHON_SERVICES, "serving", "trainer"}
    for service in PYTHON_SERVICES:
        assert branches[service] == 'exec python -m "mlgameday.$service" "$@"'
    # The training job: a history first if none exists, then the variants the chart names (--variant).
    assert branches["trainer"] == 'exec gameday train "$@"'
    assert branches["serving"].startswith("exec bentoml serve mlgameday.serving.service:TripTime")


def test_chart_runs_only_services_the_image_has() -> None:
    branches = _entrypoint_branches()
    objects = render("default")
    images = set()
    for workload in of_kind(objects, "Deployment", "Job"):
        container = pod_spec(workload)["containers"][0]
        if container["image"].startswith("mlgameday:"):
            images.add(container["image"])
            assert container["args"][0] in branches, container["args"]
    assert images == {f"mlgameday:{_app_version()}"}


@pytest.mark.parametrize("service", PYTHON_SERVICES)
def test_entry_point_module_is_runnable(service: str) -> None:
    """`python -m mlgameday.<service>` needs a module, or a package with __main__."""
    spec = importlib.util.find_spec(f"mlgameday.{service}")
    assert spec is not None, f"mlgameday.{service} does not exist"
    if spec.submodule_search_locations is not None:
        assert importlib.util.find_spec(f"mlgameday.{service}.__main__") is not None, \
            f"mlgameday.{service} is a package without __main__"


def test_serving_service_is_declared() -> None:
    source = (REPO / "services" / "serving" / "service.py").read_text()
    assert re.search(r"^class TripTime\b", source, flags=re.M), "mlgameday.serving.service has no TripTime"


def _app_version() -> str:
    return yaml.safe_load((CHART / "Chart.yaml").read_text())["appVersion"]


def test_versions_agree() -> None:
    package = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    assert _app_version() == package, "Chart.yaml appVersion must equal pyproject.toml's version"
    bentofile = yaml.safe_load((DOCKER / "bentofile.yaml").read_text())
    assert bentofile["python"]["wheels"] == [f"./dist/mlgameday-{package}-py3-none-any.whl"]


def test_build_script_tags_with_app_version() -> None:
    done = subprocess.run(["bash", str(DOCKER / "build.sh"), "--print-tags"], capture_output=True, text=True,
                          timeout=30, env={"PATH": "/usr/bin:/bin", "REGISTRY": "ghcr.io/team"})
    assert done.returncode == 0, done.stderr
    version = _app_version()
    assert done.stdout.split() == [f"ghcr.io/team/mlgameday:{version}", f"ghcr.io/team/mlgameday-serving:{version}"]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # pathspec's, inside BentoML
def test_bentofile_is_a_valid_build_config() -> None:
    from bentoml._internal.bento.build_config import BentoBuildConfig

    with open(DOCKER / "bentofile.yaml") as f:
        config = BentoBuildConfig.from_yaml(f)
    assert config.service == "mlgameday.serving.service:TripTime"
    assert config.docker.python_version == "3.11"


def test_dockerfile_runs_as_the_charts_numeric_user() -> None:
    text = (DOCKER / "Dockerfile").read_text()
    # FROM the Python runtime image that `gameday images build` makes (no registry needed).
    assert re.search(r"^ARG BASE=mlgameday-python:3\.11$", text, flags=re.M)
    assert re.search(r"^FROM \$\{BASE\}$", text, flags=re.M)
    assert re.search(r"^USER 10001:10001$", text, flags=re.M)
    assert re.search(r'^ENTRYPOINT \["gameday-entrypoint"\]$', text, flags=re.M)
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    assert values["podSecurityContext"]["runAsUser"] == 10001
