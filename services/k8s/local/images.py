"""Images reach the node without a registry: imported into the node's containerd.

The node's own two images (the pod sandbox's pause and CoreDNS) are one static binary each:
this module writes them as image archives in Docker's `save` format (one layer, no base)
for `ctr images import`. The chart's images come from the local Docker engine
(`gameday images build`): `docker save | ctr images import`.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import tarfile
from pathlib import Path

from ..errors import K8sError
from .layout import CONTAINERD_NAMESPACE


def binary_image_archive(binary: Path, ref: str, entrypoint: list[str], out: Path) -> Path:
    """An image archive holding one file, /<binary name>, run as `entrypoint`."""
    layer = io.BytesIO()
    with tarfile.open(fileobj=layer, mode="w") as tar:
        info = tar.gettarinfo(str(binary), arcname=binary.name)
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        info.mtime = 0
        with open(binary, "rb") as f:
            tar.addfile(info, f)
    layer_bytes = layer.getvalue()
    diff_id = "sha256:" + hashlib.sha256(layer_bytes).hexdigest()
    config = {"architecture": "amd64", "os": "linux",
              "config": {"Entrypoint": entrypoint, "User": "0:0"},
              "rootfs": {"type": "layers", "diff_ids": [diff_id]}}
    config_bytes = json.dumps(config, sort_keys=True).encode()
    config_name = hashlib.sha256(config_bytes).hexdigest() + ".json"
    manifest = [{"Config": config_name, "RepoTags": [ref], "Layers": ["layer.tar"]}]
    out.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(out, "w") as archive:
        for name, data in ((config_name, config_bytes), ("layer.tar", layer_bytes),
                           ("manifest.json", json.dumps(manifest).encode())):
            entry = tarfile.TarInfo(name)
            entry.size = len(data)
            archive.addfile(entry, io.BytesIO(data))
    return out


class NodeImages:
    """The images of the node's containerd (the `k8s.io` namespace the kubelet uses)."""

    def __init__(self, socket: Path) -> None:
        self.socket = socket
        self.ctr = shutil.which("ctr")
        if not self.ctr:
            raise K8sError("ctr (containerd's client) is not installed", hint="apt-get install -y containerd")

    def _ctr(self, *args: str, stdin: bytes | None = None, timeout: float = 600) -> str:
        done = subprocess.run([self.ctr, "--address", str(self.socket), "-n", CONTAINERD_NAMESPACE, *args],
                              input=stdin, capture_output=True, timeout=timeout)
        if done.returncode != 0:
            raise K8sError(f"ctr {' '.join(args[:2])} failed: {done.stderr.decode(errors='replace').strip()[:300]}",
                           hint="is the node's containerd running? `gameday k8s cluster status`")
        return done.stdout.decode(errors="replace")

    def names(self) -> set[str]:
        return {line.split()[0] for line in self._ctr("images", "list", "-q").splitlines() if line.strip()}

    def has(self, ref: str) -> bool:
        return normalize(ref) in self.names()

    def import_archive(self, archive: Path) -> None:
        self._ctr("images", "import", str(archive))

    def import_from_docker(self, ref: str) -> None:
        """`docker save REF | ctr images import -`: an image of the local engine onto the node."""
        docker = shutil.which("docker")
        if not docker:
            raise K8sError(f"cannot load {ref} onto the node: docker is not installed",
                           hint="build the images first: `make images` (it starts a Docker engine)")
        saved = subprocess.run([docker, "save", ref], capture_output=True, timeout=900)
        if saved.returncode != 0:
            raise K8sError(f"docker save {ref} failed: {saved.stderr.decode(errors='replace').strip()[:300]}",
                           hint="build the images first: `make images` (`gameday images build`)")
        self._ctr("images", "import", "-", stdin=saved.stdout, timeout=900)


def normalize(ref: str) -> str:
    """containerd's full name of a reference: `redis:7` is docker.io/library/redis:7."""
    name = ref if ":" in ref.rsplit("/", 1)[-1] or "@" in ref else ref + ":latest"
    first = name.split("/", 1)[0]
    if "/" not in name:
        return "docker.io/library/" + name
    if "." not in first and ":" not in first and first != "localhost":
        return "docker.io/" + name
    return name
