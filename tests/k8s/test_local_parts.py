"""Unit tests of the single-node cluster's pure parts: the Go wrapper module, the image
archives, the provisioner's decisions, image names. (The cluster itself: tests/cluster.)"""

from __future__ import annotations

import json
import tarfile
from pathlib import Path
from types import SimpleNamespace

import pytest

from mlgameday.k8s.errors import K8sError
from mlgameday.k8s.local import build
from mlgameday.k8s.local.cluster import node_trouble
from mlgameday.k8s.local.images import binary_image_archive, normalize
from mlgameday.k8s.local.layout import NODE_NAME, PROVISIONER_NAME, STAGING_VERSION, Paths
from mlgameday.k8s.local.node import kubelet_config
from mlgameday.k8s.local.provisioner import volume_for, wants_volume

UPSTREAM = """module k8s.io/kubernetes

go 1.26.0

require (
\tk8s.io/api v0.0.0
\tgithub.com/x/y v1.2.3
)

replace (
\tk8s.io/api => ./staging/src/k8s.io/api
\tk8s.io/client-go => ./staging/src/k8s.io/client-go
\tgithub.com/x/y => github.com/x/y v1.2.4
)
"""


def test_wrapper_replaces_each_staging_module_by_its_release() -> None:
    text = build.wrapper_go_mod(UPSTREAM)
    assert f"\tk8s.io/api => k8s.io/api v{STAGING_VERSION}\n" in text
    assert f"\tk8s.io/client-go => k8s.io/client-go v{STAGING_VERSION}\n" in text
    assert "github.com/x/y =>" not in text       # only the staging folders are replaced
    assert "./staging" not in text
    assert "require (\n\tk8s.io/kubernetes v" in text


def test_wrapper_refuses_an_upstream_without_staging_modules() -> None:
    with pytest.raises(K8sError, match="no staging module"):
        build.wrapper_go_mod("module k8s.io/kubernetes\n")


def test_stamp_changes_with_the_go_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pause").mkdir()
    (tmp_path / "pause" / "main.go").write_text("package main\n")
    monkeypatch.setattr(build, "GO_SOURCES", tmp_path)
    before = build.inputs_stamp()
    (tmp_path / "pause" / "main.go").write_text("package main\n// changed\n")
    assert build.inputs_stamp() != before


def test_packages_name_one_main_package_per_binary() -> None:
    assert build.packages()[:3] == ["./pause", "./probe", "./coredns"]
    assert "k8s.io/kubernetes/cmd/kube-apiserver" in build.packages()
    assert "gitVersion=v1.37.2" in build.ldflags()


def test_binary_image_archive_is_a_docker_save_archive(tmp_path: Path) -> None:
    binary = tmp_path / "pause"
    binary.write_bytes(b"\x7fELF fake")
    archive = binary_image_archive(binary, "mlgameday.local/pause:1", ["/pause"], tmp_path / "out.tar")
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
        assert manifest[0]["RepoTags"] == ["mlgameday.local/pause:1"]
        config = json.load(tar.extractfile(manifest[0]["Config"]))
        assert config["config"]["Entrypoint"] == ["/pause"]
        with tarfile.open(fileobj=tar.extractfile("layer.tar")) as layer:
            assert layer.getnames() == ["pause"]
            assert layer.extractfile("pause").read() == b"\x7fELF fake"


@pytest.mark.parametrize("ref, full", [
    ("redis:7", "docker.io/library/redis:7"),
    ("mlgameday", "docker.io/library/mlgameday:latest"),
    ("apache/kafka:4.1.1", "docker.io/apache/kafka:4.1.1"),
    ("mlgameday.local/pause:1", "mlgameday.local/pause:1"),
    ("localhost:5000/x:1", "localhost:5000/x:1"),
])
def test_normalize_names_images_as_containerd_does(ref: str, full: str) -> None:
    assert normalize(ref) == full


def _claim(phase: str = "Pending", provisioner: str = PROVISIONER_NAME, volume_name: str | None = None):
    return SimpleNamespace(
        metadata=SimpleNamespace(name="data-kafka-0", namespace="gd", uid="u-1",
                                 annotations={"volume.kubernetes.io/storage-provisioner": provisioner}),
        status=SimpleNamespace(phase=phase),
        spec=SimpleNamespace(volume_name=volume_name, access_modes=["ReadWriteOnce"], storage_class_name="local-path",
                             volume_mode=None, resources=SimpleNamespace(requests={"storage": "5Gi"})))


def test_provisioner_answers_only_pending_claims_handed_to_it() -> None:
    assert wants_volume(_claim())
    assert not wants_volume(_claim(phase="Bound"))
    assert not wants_volume(_claim(provisioner="ebs.csi.aws.com"))
    assert not wants_volume(_claim(volume_name="pvc-already"))


def test_volume_is_bound_to_its_claim_under_the_volumes_folder(tmp_path: Path) -> None:
    pv = volume_for(_claim(), tmp_path)
    assert pv["metadata"]["name"] == "pvc-u-1"
    assert pv["spec"]["claimRef"] == {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "namespace": "gd",
                                      "name": "data-kafka-0", "uid": "u-1"}
    assert pv["spec"]["capacity"] == {"storage": "5Gi"}
    assert Path(pv["spec"]["hostPath"]["path"]).parent == tmp_path
    assert pv["spec"]["persistentVolumeReclaimPolicy"] == "Delete"


def test_a_node_under_disk_pressure_is_named_in_the_error() -> None:
    def api(conditions: list) -> SimpleNamespace:
        return SimpleNamespace(read_node=lambda name: SimpleNamespace(status=SimpleNamespace(conditions=conditions)))

    condition = lambda kind, on, message="": SimpleNamespace(type=kind, status=on, message=message)  # noqa: E731
    pressed = api([condition("Ready", "True"), condition("MemoryPressure", "False"),
                   condition("DiskPressure", "True", "kubelet has disk pressure")])
    assert node_trouble(pressed) == f": node {NODE_NAME} has DiskPressure (kubelet has disk pressure)"
    assert node_trouble(api([condition("Ready", "True"), condition("DiskPressure", "False")])) == ""


def test_the_kubelet_evicts_only_near_a_full_disk(tmp_path: Path) -> None:
    """Absolute floors: a share of a big shared disk can be crossed by one image build (and the eviction's
    image GC deletes images no registry can bring back)."""
    eviction = json.loads(kubelet_config(Paths(tmp_path)))["evictionHard"]
    assert eviction["nodefs.available"] == eviction["imagefs.available"] == "1Gi"
