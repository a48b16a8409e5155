"""The chart lints, renders for every value set, and every object is valid Kubernetes.

Built-in kinds are validated strictly (unknown fields fail) against the schemas that
kubernetes-validate bundles for KUBE_VERSION. The Prometheus operator's CRDs
(ServiceMonitor, PrometheusRule) are not in those schemas: they are checked against the
minimal JSON schemas below, written from the operator's API (the fields the chart uses).
"""

from __future__ import annotations

import json

import jsonschema
import kubernetes_validate
import pytest
import yaml

from mlgameday.contracts import Topic

from .helpers import CHART, KUBE_VERSION, NAMESPACE, RELEASE, of_kind, pod_spec, render, run_helm

CRD_SCHEMAS = {
    ("monitoring.coreos.com/v1", "ServiceMonitor"): {
        "type": "object",
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "properties": {
            "spec": {
                "type": "object", "additionalProperties": False, "required": ["selector", "endpoints"],
                "properties": {
                    "selector": {"type": "object", "required": ["matchLabels"]},
                    "namespaceSelector": {"type": "object"},
                    "endpoints": {"type": "array", "minItems": 1, "items": {
                        "type": "object", "additionalProperties": False, "required": ["port"],
                        "properties": {"port": {"type": "string"}, "path": {"type": "string"},
                                       "interval": {"type": "string", "pattern": "^[0-9]+(ms|s|m|h)$"}}}},
                },
            },
        },
    },
    ("monitoring.coreos.com/v1", "PrometheusRule"): {
        "type": "object",
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "properties": {
            "spec": {
                "type": "object", "additionalProperties": False, "required": ["groups"],
                "properties": {"groups": {"type": "array", "items": {
                    "type": "object", "additionalProperties": False, "required": ["name", "rules"],
                    "properties": {"name": {"type": "string"}, "rules": {"type": "array", "minItems": 1, "items": {
                        "type": "object", "additionalProperties": False, "required": ["alert", "expr"],
                        "properties": {"alert": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
                                       "expr": {"type": "string", "minLength": 1}, "for": {"type": "string"},
                                       "labels": {"type": "object"}, "annotations": {"type": "object"}}}}}}}},
            },
        },
    },
}


def test_helm_lint_is_clean() -> None:
    done = run_helm("lint", str(CHART), "--strict", "--kube-version", KUBE_VERSION)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 chart(s) failed" in done.stdout
    assert "[WARNING]" not in done.stdout and "[ERROR]" not in done.stdout, done.stdout


def test_every_object_is_valid_kubernetes(rendered) -> None:
    name, objects = rendered
    assert objects, f"{name}: nothing rendered"
    crds = 0
    for obj in objects:
        where = f"{name}: {obj['kind']}/{obj['metadata']['name']}"
        crd_schema = CRD_SCHEMAS.get((obj["apiVersion"], obj["kind"]))
        if crd_schema is not None:
            jsonschema.validate(obj, crd_schema)
            crds += 1
            continue
        try:
            kubernetes_validate.validate(obj, KUBE_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{where}: {'.'.join(map(str, exc.path))}: {exc.message}")
        except kubernetes_validate.SchemaNotFoundError as exc:
            pytest.fail(f"{where}: {exc.message}")
    assert crds == (2 if name == "monitoring" else 0)


def test_the_validator_catches_an_unknown_field() -> None:
    """The strict validation above is not a formality: a typo'd field fails it."""
    deployment = next(o for o in render("default") if o["kind"] == "Deployment")
    broken = json.loads(json.dumps(deployment))
    pod_spec(broken)["containers"][0]["resource"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBE_VERSION, strict=True)


def test_default_release_has_every_part() -> None:
    objects = render("default")
    names = {(o["kind"], o["metadata"]["name"]) for o in objects}
    prefix = f"{RELEASE}-mlgameday"
    for kind, name in [("StatefulSet", "kafka"), ("Deployment", "redis"), ("Deployment", "producer"),
                       ("Deployment", "ingest"), ("Deployment", "serving"), ("Deployment", "monitor"),
                       ("HorizontalPodAutoscaler", "serving"), ("Job", "trainer-1"), ("Job", "kafka-topics-1"),
                       ("ConfigMap", "feature-repo"), ("PersistentVolumeClaim", "run")]:
        assert (kind, f"{prefix}-{name}") in names
    kafka = of_kind(objects, "StatefulSet")[0]
    assert pod_spec(kafka)["containers"][0]["image"] == "apache/kafka:4.1.1"
    assert kafka["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"] == "5Gi"


def test_topics_job_is_a_job_of_the_release_creating_the_contract_topics() -> None:
    # Not a post-install hook: Helm runs those once every pod is Ready, and the services are
    # Ready only once their topics exist (`helm install --wait` would never finish).
    job = next(o for o in of_kind(render("default"), "Job") if "kafka-topics" in o["metadata"]["name"])
    assert "helm.sh/hook" not in (job["metadata"].get("annotations") or {})
    assert job["metadata"]["name"].endswith("-kafka-topics-1")  # one per revision: a Job's template is immutable
    env = {e["name"]: e.get("value") for e in pod_spec(job)["containers"][0]["env"]}
    assert env["TOPICS"].split() == [t.value for t in Topic]
    assert env["KAFKA_PARTITIONS"] == "3" and env["KAFKA_REPLICATION"] == "1"


def test_three_brokers_form_one_quorum() -> None:
    objects = render("kafka-3")
    kafka = of_kind(objects, "StatefulSet")[0]
    assert kafka["spec"]["replicas"] == 3
    env = {e["name"]: e.get("value") for e in pod_spec(kafka)["containers"][0]["env"]}
    headless = f"{RELEASE}-mlgameday-kafka-headless"
    assert env["KAFKA_VOTERS"] == ",".join(
        f"{i}@{RELEASE}-mlgameday-kafka-{i}.{headless}.{NAMESPACE}.svc:9093" for i in range(3))
    assert env["KAFKA_REPLICATION"] == "3" and env["KAFKA_PARTITIONS"] == "6"
    ingest = next(o for o in objects if o["metadata"]["name"].endswith("-ingest") and o["kind"] == "Deployment")
    assert ingest["spec"]["replicas"] == 3


def test_services_get_the_stack_settings_as_env() -> None:
    objects = render("default")
    ingest = next(o for o in objects if o["kind"] == "Deployment" and o["metadata"]["name"].endswith("-ingest"))
    env = {e["name"]: e.get("value") for e in pod_spec(ingest)["containers"][0]["env"]}
    assert env["GAMEDAY_KAFKA__MODE"] == "external"
    assert env["GAMEDAY_KAFKA__BOOTSTRAP"] == f"{RELEASE}-mlgameday-kafka:9092"
    assert env["GAMEDAY_ONLINE_STORE"] == "redis"
    assert env["GAMEDAY_REDIS__URL"] == f"redis://{RELEASE}-mlgameday-redis:6379/0"
    assert env["GAMEDAY_RUN_DIR"] == "/var/run/gameday"
    assert env["GAMEDAY_INGEST__PORT"] == "8080" and env["GAMEDAY_INGEST__HOST"] == "0.0.0.0"
    assert pod_spec(ingest)["containers"][0]["args"] == ["ingest"]


def test_without_redis_the_online_store_is_sqlite() -> None:
    objects = render("redis-off")
    assert not [o for o in objects if "redis" in o["metadata"]["name"]]
    serving = next(o for o in objects if o["kind"] == "Deployment" and o["metadata"]["name"].endswith("-serving"))
    env = {e["name"]: e.get("value") for e in pod_spec(serving)["containers"][0]["env"]}
    assert env["GAMEDAY_ONLINE_STORE"] == "sqlite" and "GAMEDAY_REDIS__URL" not in env
    store = yaml.safe_load(next(o for o in objects if o["kind"] == "ConfigMap"
                                and o["metadata"]["name"].endswith("feature-repo"))["data"]["feature_store.yaml"])
    assert store["online_store"]["type"] == "sqlite"


def test_external_kafka_reads_the_named_secret_and_opens_only_its_ports() -> None:
    objects = render("external-kafka-auth")
    assert not of_kind(objects, "StatefulSet")
    producer = next(o for o in objects if o["kind"] == "Deployment" and o["metadata"]["name"].endswith("-producer"))
    spec = pod_spec(producer)
    env = {e["name"]: e.get("value") for e in spec["containers"][0]["env"]}
    assert env["GAMEDAY_KAFKA__BOOTSTRAP"] == "broker-1.example:9094,broker-2.example:9094"
    assert env["GAMEDAY_KAFKA__CLIENT_PROPERTIES"] == "/etc/gameday/kafka-auth/client.properties"
    assert {"name": "kafka-auth", "secret": {"secretName": "kafka-client"}} in spec["volumes"]
    assert not of_kind(objects, "Secret"), "the chart must never hold a credential"
    policy = next(o for o in objects if o["kind"] == "NetworkPolicy" and o["metadata"]["name"].endswith("-producer"))
    assert {"ports": [{"port": 9094, "protocol": "TCP"}, {"port": 9094, "protocol": "TCP"}]} in policy["spec"]["egress"]
    serving = next(o for o in objects if o["kind"] == "Deployment" and o["metadata"]["name"].endswith("-serving"))
    serving_env = {e["name"]: e.get("value") for e in pod_spec(serving)["containers"][0]["env"]}
    assert serving_env["GAMEDAY_SERVING__MODEL"] == "triptime:v2"
    assert serving["spec"]["replicas"] == 1 and not of_kind(objects, "HorizontalPodAutoscaler")


def test_monitoring_extras_carry_the_dashboard_and_rules() -> None:
    objects = render("monitoring")
    dashboards = next(o for o in objects if o["kind"] == "ConfigMap" and o["metadata"]["name"].endswith("-dashboards"))
    assert dashboards["metadata"]["labels"]["grafana_dashboard"] == "1"
    project_dashboards = sorted((CHART.parents[1] / "monitoring" / "grafana").glob("*.json"))
    assert project_dashboards, "monitoring/grafana/*.json is the dashboard the chart ships"
    assert sorted(dashboards["data"]) == [p.name for p in project_dashboards]
    for path in project_dashboards:
        assert json.loads(dashboards["data"][path.name]) == json.loads(path.read_text())
    rule = of_kind(objects, "PrometheusRule")[0]
    exprs = " ".join(r["expr"] for g in rule["spec"]["groups"] for r in g["rules"])
    for metric in ("gameday_ingest_consumer_lag", "gameday_feature_freshness_seconds",
                   "gameday_serving_request_latency_seconds", "gameday_monitor_drift_share"):
        assert metric in exprs


def test_feature_repo_configmap_has_the_repo_files() -> None:
    config_map = next(o for o in render("default") if o["kind"] == "ConfigMap" and o["metadata"]["name"].endswith("feature-repo"))
    repo_files = sorted(p.name for p in (CHART.parents[1] / "feature_repo").glob("*.py"))
    assert sorted(k for k in config_map["data"] if k.endswith(".py")) == repo_files
    store = yaml.safe_load(config_map["data"]["feature_store.yaml"])
    assert store["online_store"] == {"type": "redis", "connection_string": f"{RELEASE}-mlgameday-redis:6379"}
    assert store["registry"].startswith("/var/run/gameday/")


def test_each_long_running_pod_template_names_its_images_id_so_a_rebuilt_image_rolls_it() -> None:
    workloads = [o for o in render("image-ids") if o["kind"] in ("Deployment", "StatefulSet")]
    by_image = {}
    for workload in workloads:
        template = workload["spec"]["template"]
        image = template["spec"]["containers"][0]["image"]
        by_image.setdefault(image, set()).add(template["metadata"].get("annotations", {}).get("mlgameday.dev/image-id"))
    assert {image.split(":")[0]: found for image, found in by_image.items()} == {
        "mlgameday": {"sha256:a1"}, "apache/kafka": {"sha256:k1"}, "redis": {"sha256:r1"}}, by_image
    # Kafka keeps its scripts' checksum beside the ID; without IDs (any other cluster) no such annotation.
    kafka = next(o for o in workloads if o["kind"] == "StatefulSet")["spec"]["template"]["metadata"]["annotations"]
    assert "checksum/scripts" in kafka
    assert "mlgameday.dev/image-id" not in json.dumps(render("default"))


def test_more_ingest_replicas_than_partitions_fail_with_a_message() -> None:
    done = run_helm("template", RELEASE, str(CHART), "--kube-version", KUBE_VERSION,
                    "--set", "ingest.replicas=4", "--set", "kafka.partitions=3")
    assert done.returncode != 0
    assert "ingest.replicas (4) must not exceed kafka.partitions (3)" in done.stderr


def test_every_pod_that_talks_to_kafka_gets_the_client_secret_and_its_settings_load(tmp_path, monkeypatch) -> None:
    from mlgameday.config import load_settings
    from mlgameday.runtime.kafka import kafka_options

    objects = render("external-kafka-auth")
    pods = {o["metadata"]["name"]: pod_spec(o) for o in of_kind(objects, "Deployment", "StatefulSet", "Job")
            if not o["metadata"]["name"].endswith("-redis")}
    assert {name.removeprefix(f"{RELEASE}-mlgameday-") for name in pods} >= {"producer", "ingest", "serving", "monitor"}
    properties = tmp_path / "client.properties"
    properties.write_text('security.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-512\n'
                          'sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required '
                          'username="gameday" password="from-the-secret";\n'
                          'ssl.truststore.type=PEM\nssl.truststore.location=/etc/gameday/kafka-auth/ca.crt\n')
    for name, spec in pods.items():
        assert {"name": "kafka-auth", "secret": {"secretName": "kafka-client"}} in spec["volumes"], name
        for container in spec["containers"]:
            mounts = {m["name"]: m["mountPath"] for m in container.get("volumeMounts", [])}
            assert mounts.get("kafka-auth") == "/etc/gameday/kafka-auth", (name, container["name"])
            env = {e["name"]: e.get("value") for e in container.get("env", [])}
            path = env.get("GAMEDAY_KAFKA__CLIENT_PROPERTIES") or env.get("KAFKA_CLIENT_PROPERTIES")
            assert path == "/etc/gameday/kafka-auth/client.properties", (name, container["name"])
            if "GAMEDAY_KAFKA__CLIENT_PROPERTIES" not in env:
                continue  # the topics Job: kafka-topics.sh --command-config reads the file itself
            # The service's own settings, from the chart's environment (the Secret's file in place).
            for key, value in env.items():
                if key.startswith("GAMEDAY_") and value is not None:
                    monkeypatch.setenv(key, str(properties) if key == "GAMEDAY_KAFKA__CLIENT_PROPERTIES" else value)
            options = kafka_options(load_settings(run_dir=tmp_path / "run").kafka)
            assert options["security_protocol"] == "SASL_SSL" and options["sasl_plain_password"] == "from-the-secret", name
            assert options["ssl_cafile"] == "/etc/gameday/kafka-auth/ca.crt", name
            for key in env:
                monkeypatch.delenv(key, raising=False)


def test_the_producer_and_the_monitor_are_replaced_not_rolled() -> None:
    # One city clock, one owner of the monitor's run folder: never two pods of either at once.
    deployments = {d["metadata"]["name"].rsplit("-", 1)[-1]: d for d in of_kind(render("default"), "Deployment")}
    assert {name for name, d in deployments.items() if d["spec"].get("strategy") == {"type": "Recreate"}} == \
        {"producer", "monitor"}
