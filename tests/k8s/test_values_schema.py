"""values.schema.json: a bad value fails `helm template` (as it fails install), naming its path."""

from __future__ import annotations

import json

import pytest

from .helpers import CHART, KUBE_VERSION, RELEASE, run_helm


@pytest.mark.parametrize("assignment, path", [
    ("kafka.partitions=0", "/kafka/partitions"),
    ("serving.port=80", "/serving/port"),
    ("trainer.variant=best", "/trainer/variant"),
    ("kafka.clusterId=short", "/kafka/clusterId"),
    ("kafka.external.bootstrap=no-port-here", "/kafka/external/bootstrap"),
    ("ingest.resources.limits=null", "/ingest/resources"),
    ("containerSecurityContext.allowPrivilegeEscalation=true", "/containerSecurityContext/allowPrivilegeEscalation"),
    ("serving.autoscaling.targetCPUUtilizationPercentage=150", "/serving/autoscaling/targetCPUUtilizationPercentage"),
    ("kafak.replicas=3", "kafak"),  # a typo'd key is refused, not ignored
])
def test_bad_value_fails_with_its_path(assignment: str, path: str) -> None:
    done = run_helm("template", RELEASE, str(CHART), "--kube-version", KUBE_VERSION, "--set", assignment)
    assert done.returncode != 0, f"{assignment} was accepted"
    assert "values don't meet the specifications of the schema" in done.stderr
    assert path in done.stderr, done.stderr


def test_schema_covers_every_top_level_value() -> None:
    import yaml

    schema = json.loads((CHART / "values.schema.json").read_text())
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    assert schema["additionalProperties"] is False
    assert set(values) == set(schema["properties"])
