"""A local-path storage provisioner: each claim of the `local-path` class gets a folder on the node.

The PV controller marks a pending claim of a class whose provisioner is external with
`volume.kubernetes.io/storage-provisioner`; this loop answers those naming us with a
hostPath PersistentVolume bound to the claim (its folder under the cluster's volumes/,
world-writable: the chart's pods run as a non-root uid, and fsGroup does not apply to
hostPath). A Released volume of ours is deleted with its folder (reclaim policy Delete).
Run by `gameday k8s cluster up` as a process of the cluster:
`python -m mlgameday.k8s.local.provisioner KUBECONFIG VOLUMES_DIR`.
"""

from __future__ import annotations

import logging
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from .layout import NODE_NAME, PROVISIONER_NAME, STORAGE_CLASS

PROVISIONER_ANNOTATIONS = ("volume.kubernetes.io/storage-provisioner", "volume.beta.kubernetes.io/storage-provisioner")
PROVISIONED_BY = "pv.kubernetes.io/provisioned-by"
POLL_S = 1.0
log = logging.getLogger("local-path")


def wants_volume(claim: Any) -> bool:
    """A pending claim that the PV controller handed to this provisioner."""
    annotations = claim.metadata.annotations or {}
    return (claim.status.phase == "Pending" and not claim.spec.volume_name
            and any(annotations.get(key) == PROVISIONER_NAME for key in PROVISIONER_ANNOTATIONS))


def volume_for(claim: Any, volumes: Path) -> dict[str, Any]:
    """The PersistentVolume manifest of a claim (named like the claim's uid, as provisioners do)."""
    meta = claim.metadata
    name = f"pvc-{meta.uid}"
    return {
        "apiVersion": "v1", "kind": "PersistentVolume",
        "metadata": {"name": name, "annotations": {PROVISIONED_BY: PROVISIONER_NAME},
                     "labels": {"mlgameday.dev/claim-namespace": meta.namespace}},
        "spec": {
            "capacity": {"storage": claim.spec.resources.requests["storage"]},
            "accessModes": claim.spec.access_modes,
            "persistentVolumeReclaimPolicy": "Delete",
            "storageClassName": claim.spec.storage_class_name or STORAGE_CLASS,
            "volumeMode": claim.spec.volume_mode or "Filesystem",
            "claimRef": {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "namespace": meta.namespace,
                         "name": meta.name, "uid": meta.uid},
            "hostPath": {"path": str(volumes / f"{meta.namespace}_{meta.name}_{meta.uid}"),
                         "type": "DirectoryOrCreate"},
            "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
                {"key": "kubernetes.io/hostname", "operator": "In", "values": [NODE_NAME]}]}]}},
        },
    }


def reconcile(core: Any, volumes: Path) -> list[str]:
    """One pass: provision what is asked, delete what is released; returns what was done."""
    from kubernetes.client.exceptions import ApiException

    done: list[str] = []
    for claim in core.list_persistent_volume_claim_for_all_namespaces().items:
        if not wants_volume(claim):
            continue
        manifest = volume_for(claim, volumes)
        folder = Path(manifest["spec"]["hostPath"]["path"])
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(0o777)
        try:
            core.create_persistent_volume(manifest)
        except ApiException as exc:
            if exc.status != 409:  # 409: made in an earlier pass, the binder has not caught up
                raise
            continue
        done.append(f"provisioned {manifest['metadata']['name']} for {claim.metadata.namespace}/{claim.metadata.name}")
    for volume in core.list_persistent_volume().items:
        if (volume.metadata.annotations or {}).get(PROVISIONED_BY) != PROVISIONER_NAME:
            continue
        if volume.status.phase == "Released" and volume.spec.persistent_volume_reclaim_policy == "Delete":
            path = Path(volume.spec.host_path.path)
            if path.is_relative_to(volumes):
                shutil.rmtree(path, ignore_errors=True)
            core.delete_persistent_volume(volume.metadata.name)
            done.append(f"deleted {volume.metadata.name} and {path}")
    return done


def main(argv: list[str]) -> int:
    from kubernetes import client, config

    if len(argv) != 2:
        print("usage: python -m mlgameday.k8s.local.provisioner KUBECONFIG VOLUMES_DIR", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    volumes = Path(argv[1]).resolve()
    volumes.mkdir(parents=True, exist_ok=True)
    core = client.CoreV1Api(config.new_client_from_config(config_file=argv[0]))
    log.info("provisioning class %s (%s) into %s", STORAGE_CLASS, PROVISIONER_NAME, volumes)
    while True:
        try:
            for line in reconcile(core, volumes):
                log.info(line)
        except Exception as exc:  # the API server restarting: try again on the next pass
            log.warning("pass failed: %s", str(exc).splitlines()[0][:200])
        time.sleep(POLL_S)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
