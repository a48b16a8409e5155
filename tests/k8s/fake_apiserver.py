"""A tiny Kubernetes API server for the tests: no cluster exists on this machine.

It answers the few REST calls ClusterTarget makes, with the API's behaviour that code relies
on: list by label selector; delete a pod; a /scale subresource that takes a merge patch (a
JSON patch must be a list: an object is a 400, as on a real server); a replace (PUT) that is
refused with 409 Conflict when the object's resourceVersion is stale. It is seeded with the
chart's own rendered workloads, so the selectors under test are the chart's labels.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

RESOURCES = {("apps", "deployments"): "Deployment", ("apps", "statefulsets"): "StatefulSet",
             ("batch", "jobs"): "Job", ("", "pods"): "Pod"}
PATH = re.compile(r"^/(?:api/v1|apis/(?P<group>[a-z.]+)/v1)/namespaces/(?P<ns>[^/]+)/(?P<plural>[a-z]+)"
                  r"(?:/(?P<name>[^/]+))?(?:/(?P<sub>scale))?$")


class FakeCluster:
    """Objects by (plural, namespace, name), plus a log of the requests received."""

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.requests: list[tuple[str, str, str]] = []  # (method, path, content type)
        self._versions = itertools.count(100)
        self.lock = threading.Lock()

    def add(self, plural: str, namespace: str, obj: dict[str, Any]) -> dict[str, Any]:
        obj = copy.deepcopy(obj)
        meta = obj.setdefault("metadata", {})
        meta["namespace"] = namespace
        meta["resourceVersion"] = str(next(self._versions))
        meta.setdefault("uid", f"uid-{meta['name']}")
        self.objects[(plural, namespace, meta["name"])] = obj
        return obj

    def seed_from_manifests(self, manifests: list[dict[str, Any]], namespace: str) -> None:
        """Workloads of the rendered chart, each with its pods running and ready."""
        for obj in manifests:
            kind = obj["kind"]
            if kind not in ("Deployment", "StatefulSet", "Job"):
                continue
            replicas = obj["spec"].get("replicas", 1) if kind != "Job" else 1
            plural = {"Deployment": "deployments", "StatefulSet": "statefulsets", "Job": "jobs"}[kind]
            status = ({"succeeded": 1} if kind == "Job" else {"replicas": replicas, "readyReplicas": replicas})
            self.add(plural, namespace, {**obj, "status": status})
            for i in range(replicas):
                template = obj["spec"]["template"]
                name = f"{obj['metadata']['name']}-{i}" if kind == "StatefulSet" else f"{obj['metadata']['name']}-7d4b9-{i}"
                self.add("pods", namespace, {
                    "apiVersion": "v1", "kind": "Pod",
                    "metadata": {"name": name, "labels": template["metadata"]["labels"]},
                    "spec": template["spec"],
                    "status": {"phase": "Running", "containerStatuses": [
                        {"name": c["name"], "image": c["image"], "imageID": "", "ready": True,
                         "restartCount": 2 if "ingest" in name else 0} for c in template["spec"]["containers"]]},
                })

    def find(self, plural: str, namespace: str, name: str) -> dict[str, Any] | None:
        return self.objects.get((plural, namespace, name))

    def listing(self, plural: str, namespace: str, selector: str) -> list[dict[str, Any]]:
        wanted = dict(part.split("=", 1) for part in selector.split(",") if part)
        return [o for (p, ns, _), o in sorted(self.objects.items())
                if p == plural and ns == namespace
                and all((o["metadata"].get("labels") or {}).get(k) == v for k, v in wanted.items())]


class _Handler(BaseHTTPRequestHandler):
    cluster: FakeCluster

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def _send(self, code: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _status(self, code: int, reason: str, message: str) -> None:
        self._send(code, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": message,
                          "reason": reason, "code": code})

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length) or b"null")

    def _route(self, method: str) -> None:
        url = urlparse(self.path)
        self.cluster.requests.append((method, url.path, self.headers.get("Content-Type", "")))
        if url.path.rstrip("/") == "/version" and method == "GET":
            return self._send(200, {"major": "1", "minor": "34", "gitVersion": "v1.34.0", "gitCommit": "fake",
                                    "gitTreeState": "clean", "buildDate": "2026-01-01T00:00:00Z",
                                    "goVersion": "go1.24", "compiler": "gc", "platform": "linux/amd64"})
        match = PATH.match(url.path)
        if not match or (match["group"] or "", match["plural"]) not in RESOURCES:
            return self._status(404, "NotFound", f"the server could not find the requested resource {url.path}")
        plural, ns, name, sub = match["plural"], match["ns"], match["name"], match["sub"]
        kind = RESOURCES[(match["group"] or "", plural)]
        with self.cluster.lock:
            if name is None and method == "GET":
                selector = parse_qs(url.query).get("labelSelector", [""])[0]
                items = self.cluster.listing(plural, ns, selector)
                api_version = "v1" if not match["group"] else f"{match['group']}/v1"
                return self._send(200, {"kind": f"{kind}List", "apiVersion": api_version,
                                        "metadata": {"resourceVersion": "1"}, "items": items})
            obj = self.cluster.find(plural, ns, name or "")
            if obj is None:
                return self._status(404, "NotFound", f'{plural} "{name}" not found')
            if method == "GET" and not sub:
                return self._send(200, obj)
            if method == "DELETE" and not sub:
                del self.cluster.objects[(plural, ns, name)]
                return self._send(200, obj)
            if method == "PATCH" and sub == "scale":
                return self._patch_scale(obj)
            if method == "PUT" and not sub:
                return self._replace(plural, ns, obj)
        return self._status(405, "MethodNotAllowed", f"{method} {url.path} is not supported here")

    def _patch_scale(self, obj: dict[str, Any]) -> None:
        content_type = self.headers.get("Content-Type", "")
        patch = self._body()
        if content_type == "application/json-patch+json" and not isinstance(patch, list):
            return self._status(400, "BadRequest", "json: cannot unmarshal object into Go value of type jsonpatch.Patch")
        if content_type not in ("application/merge-patch+json", "application/strategic-merge-patch+json"):
            return self._status(415, "UnsupportedMediaType", f"the body of the request was in an unknown format: {content_type}")
        obj["spec"]["replicas"] = patch["spec"]["replicas"]
        obj["metadata"]["resourceVersion"] = str(next(self.cluster._versions))
        self._send(200, {"kind": "Scale", "apiVersion": "autoscaling/v1",
                         "metadata": {"name": obj["metadata"]["name"], "namespace": obj["metadata"]["namespace"],
                                      "resourceVersion": obj["metadata"]["resourceVersion"]},
                         "spec": {"replicas": obj["spec"]["replicas"]},
                         "status": {"replicas": obj["status"].get("replicas", 0)}})

    def _replace(self, plural: str, ns: str, current: dict[str, Any]) -> None:
        new = self._body()
        sent_version = (new.get("metadata") or {}).get("resourceVersion")
        if sent_version != current["metadata"]["resourceVersion"]:
            return self._status(409, "Conflict", "Operation cannot be fulfilled: the object has been modified; "
                                                 "please apply your changes to the latest version and try again")
        stored = self.cluster.add(plural, ns, new)
        self._send(200, stored)

    def do_GET(self) -> None:
        self._route("GET")

    def do_DELETE(self) -> None:
        self._route("DELETE")

    def do_PATCH(self) -> None:
        self._route("PATCH")

    def do_PUT(self) -> None:
        self._route("PUT")


class FakeApiServer:
    """`with FakeApiServer() as api:` serves on a free loopback port; `api.url`, `api.cluster`."""

    def __init__(self) -> None:
        self.cluster = FakeCluster()
        handler = type("Handler", (_Handler,), {"cluster": self.cluster})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> "FakeApiServer":
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def kubeconfig(self, namespace: str) -> str:
        """A kubeconfig whose current context points at this server, with a namespace."""
        return json.dumps({
            "apiVersion": "v1", "kind": "Config", "current-context": "fake",
            "clusters": [{"name": "fake", "cluster": {"server": self.url}}],
            "users": [{"name": "tester", "user": {"token": "not-a-secret"}}],
            "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "tester", "namespace": namespace}}],
        })
