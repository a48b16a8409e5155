"""`gameday k8s install`: the chart's release, every pod Ready, with the images it needs.

On this machine's own cluster (`gameday k8s cluster up`) no registry exists: the images
built by `gameday images build` are loaded into the node's containerd (again only when the
engine's copy changed) and the release is told to use them as they are (pullPolicy Never).
On any other cluster the images are the user's business (a registry, `kind load
docker-image`), as the chart's README says. The services' admin key is a Secret the
install makes once per namespace (the chart itself holds no credential).
"""

from __future__ import annotations

import json
import secrets
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ..config import Settings
from ..containers.images import Image, catalogue
from .errors import K8sError
from .helm import CHART_DIR, ChartRelease, kubeconfig_path
from .local.images import NodeImages
from .local.layout import Paths

Say = Callable[[str], None]
ADMIN_TOKEN_KEY = "token"
SINGLE_NODE_VALUES = CHART_DIR / "values-single-node.yaml"
# The chart's image values and the image of the catalogue (containers/images.py) each one takes.
CHART_IMAGES = {"image": "app", "kafka.image": "kafka", "redis.image": "redis"}


@dataclass
class InstallReport:
    release: str
    namespace: str
    images_loaded: list[str]
    load_s: float
    install_s: float          # helm upgrade --install --wait: to every pod Ready and the Jobs done


def admin_secret_name(release: str) -> str:
    return f"{release}-admin"


def is_local_cluster(kubeconfig: str | None = None) -> bool:
    """True when the kubeconfig in effect is this machine's own cluster's."""
    return Path(kubeconfig_path(kubeconfig)).resolve() == Paths.default().kubeconfig.resolve()


def ensure_admin_secret(core: Any, namespace: str, release: str) -> str:
    """The Secret with the services' admin key (made once: an upgrade keeps the key)."""
    from kubernetes.client.exceptions import ApiException

    name = admin_secret_name(release)
    try:
        core.read_namespace(namespace)
    except ApiException as exc:
        if exc.status != 404:
            raise
        core.create_namespace({"metadata": {"name": namespace}})
    try:
        core.read_namespaced_secret(name, namespace)
    except ApiException as exc:
        if exc.status != 404:
            raise
        core.create_namespaced_secret(namespace, {
            "metadata": {"name": name, "labels": {"app.kubernetes.io/part-of": "mlgameday",
                                                  "app.kubernetes.io/instance": release}},
            "type": "Opaque", "stringData": {ADMIN_TOKEN_KEY: secrets.token_urlsafe(32)}})
    return name


def read_admin_token(core: Any, namespace: str, release: str) -> str:
    import base64

    from kubernetes.client.exceptions import ApiException

    try:
        secret = core.read_namespaced_secret(admin_secret_name(release), namespace)
    except ApiException as exc:
        raise K8sError(f"no admin key Secret {admin_secret_name(release)} in namespace {namespace} ({exc.status})",
                       hint="install the release with `gameday k8s install` (it makes the Secret)") from None
    return base64.b64decode(secret.data[ADMIN_TOKEN_KEY]).decode()


def local_images(settings: Settings) -> dict[str, Image]:
    """chart value -> the local image it takes."""
    images = catalogue(settings)
    return {key: images[name] for key, name in CHART_IMAGES.items()}


def _loaded_record() -> Path:
    """ref -> the image ID the node holds under it (what load_local_images loaded last)."""
    return Paths.default().cluster / "images" / "loaded.json"


def load_local_images(settings: Settings, say: Say) -> list[str]:
    """Each chart image of the local engine into the node, when the node's copy is not that one."""
    images = NodeImages(Paths.default().containerd_socket)
    record = _loaded_record()
    loaded = json.loads(record.read_text()) if record.is_file() else {}
    done = []
    for image in local_images(settings).values():
        ref = image.ref
        try:
            image_id = _docker_image_id(ref)
        except K8sError:
            if images.has(ref):  # no engine answering (or the image gone from it): the node's copy stays
                say(f"{ref}: not in a running Docker engine; the node's copy ({loaded.get(ref, '?')[:19]}) is used")
                continue
            raise
        if loaded.get(ref) == image_id and images.has(ref):
            continue
        say(f"loading {ref} into the node ({image_id[:19]})")
        images.import_from_docker(ref)
        loaded[ref] = image_id
        done.append(ref)
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps(loaded, indent=2))
    return done


def local_image_values(settings: Settings) -> list[str]:
    """The chart's image values for the node's copies; with each one's ID, so that an image rebuilt under
    the same tag changes the pod templates and the upgrade rolls the pods."""
    record = _loaded_record()
    loaded = json.loads(record.read_text()) if record.is_file() else {}
    values = []
    for key, image in local_images(settings).items():
        values += [f"{key}.repository={image.repository}", f"{key}.tag={image.tag}", f"{key}.pullPolicy=Never"]
        if image_id := loaded.get(image.ref):
            values.append(f"{key}.id={image_id}")
    return values


def _docker_image_id(ref: str) -> str:
    done = subprocess.run(["docker", "image", "inspect", "--format", "{{.Id}}", ref], capture_output=True, text=True)
    if done.returncode != 0:
        raise K8sError(f"image {ref} is not in the local Docker engine: {done.stderr.strip()[:200]}",
                       hint="build the images first: `make images` (`gameday images build`)")
    return done.stdout.strip()


def install(chart: ChartRelease, core: Any, settings: Settings, say: Say, timeout: str = "15m") -> InstallReport:
    started = time.monotonic()
    loaded: list[str] = []
    extra = [f"admin.existingSecret={ensure_admin_secret(core, str(chart.namespace), chart.release)}"]
    values_files = list(chart.values_files)
    if is_local_cluster(chart.kubeconfig):
        loaded = load_local_images(settings, say)
        extra += local_image_values(settings)
        values_files.insert(0, SINGLE_NODE_VALUES)
    load_s = time.monotonic() - started
    release = ChartRelease(release=chart.release, namespace=chart.namespace, kubeconfig=chart.kubeconfig,
                           context=chart.context, chart=chart.chart, values_files=values_files,
                           set_values=[*extra, *chart.set_values], kube_version=chart.kube_version, helm=chart.helm)
    say(f"helm upgrade --install {chart.release} (waiting for every pod to be Ready and the Jobs to finish)")
    began = time.monotonic()
    release.install(wait=True, timeout=timeout)
    return InstallReport(chart.release, str(chart.namespace), loaded, load_s, time.monotonic() - began)
