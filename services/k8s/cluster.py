"""Chaos and status on a cluster through the Kubernetes API: the drills' `--target k8s`.

`ClusterTarget` finds a component's pods and workload by the chart's labels
(app.kubernetes.io/instance=<release>, app.kubernetes.io/component=<component>), so it
works on whatever names the release got. The operations are the few a GameDay needs:
kill (delete the pods), scale (to zero and back), set an env var (which rolls the pods),
roll out a model version, and the state of every component.
"""

from __future__ import annotations

import os
import re
from dataclasses import asdict, dataclass
from typing import Any

from .errors import ClusterUnreachable, K8sError
from .helm import DEFAULT_RELEASE, current_namespace, kubeconfig_path

MODEL_ENV = "GAMEDAY_SERVING__MODEL"  # ServingSettings.model: a variant or a full tag
MERGE_PATCH = "application/merge-patch+json"
_CONFLICT_RETRIES = 3
# The process-level actions of the local stack that have a cluster equivalent.
CHAOS_ACTIONS = ("kill", "restart", "stop", "start")


@dataclass(frozen=True)
class ComponentState:
    """One workload of the release as the cluster sees it."""

    component: str
    kind: str          # Deployment, StatefulSet or Job
    name: str
    desired: int       # replicas wanted (a Job: 1)
    ready: int         # replicas ready (a Job: succeeded runs)
    state: str         # ready, degraded, down, scaled to zero, running, succeeded, failed
    restarts: int      # container restarts over the component's pods

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class ClusterTarget:
    """A release of the chart on a cluster, as a target for faults."""

    def __init__(self, api_client: Any, namespace: str, release: str = DEFAULT_RELEASE) -> None:
        from kubernetes import client

        self.namespace = namespace
        self.release = release
        self.core = client.CoreV1Api(api_client)
        self.apps = client.AppsV1Api(api_client)
        self.batch = client.BatchV1Api(api_client)
        self._stopped: dict[str, int] = {}  # component -> replicas before `stop` or `kill`

    @classmethod
    def connect(cls, namespace: str | None = None, release: str = DEFAULT_RELEASE,
                kubeconfig: str | None = None, context: str | None = None,
                timeout_s: float = 5.0) -> "ClusterTarget":
        """Client from the kubeconfig (or the pod's service account), checked with one call."""
        from kubernetes import client, config
        from kubernetes.config.config_exception import ConfigException

        configuration = client.Configuration()
        path = kubeconfig_path(kubeconfig)
        try:
            config.load_kube_config(config_file=path, context=context, client_configuration=configuration,
                                    persist_config=False)
        except (ConfigException, OSError) as exc:
            if not os.environ.get("KUBERNETES_SERVICE_HOST"):
                raise ClusterUnreachable(f"no Kubernetes cluster configured ({path}: {_first_line(exc)})") from None
            config.load_incluster_config(client_configuration=configuration)
        configuration.retries = 1  # an absent API server should fail fast, not after urllib3's retries
        api_client = client.ApiClient(configuration)
        try:
            client.VersionApi(api_client).get_code(_request_timeout=timeout_s)
        except Exception as exc:  # urllib3 connection errors, TLS errors, HTTP errors
            raise ClusterUnreachable(
                f"no Kubernetes cluster reachable at {configuration.host}: {_first_line(exc)}") from None
        return cls(api_client, namespace or current_namespace(kubeconfig, context), release)

    # -- the faults -------------------------------------------------------------------------

    def kill(self, component: str, grace_s: int | None = None) -> list[str]:
        """Delete the component's pods (their controller starts new ones); returns the names. grace_s=0 is a
        kill -9 (no graceful shutdown); None, the pod's own termination grace period."""
        pods = self._pod_names(component)
        if not pods:
            raise K8sError(f"no pods of component {component!r} in namespace {self.namespace} (release {self.release})",
                           hint="see the components with `gameday k8s status`")
        return self._delete_pods(pods, grace_s)

    def _pod_names(self, component: str) -> list[str]:
        return [pod.metadata.name for pod in
                self.core.list_namespaced_pod(self.namespace, label_selector=self.selector(component)).items]

    def _delete_pods(self, names: list[str], grace_s: int | None) -> list[str]:
        """Delete the pods; one already gone (its controller was faster) is not an error."""
        from kubernetes.client.exceptions import ApiException

        deleted = []
        for name in names:
            try:
                self.core.delete_namespaced_pod(name, self.namespace, grace_period_seconds=grace_s)
                deleted.append(name)
            except ApiException as exc:
                if exc.status != 404:
                    raise
        return deleted

    def scale(self, component: str, replicas: int) -> int:
        """Set the replicas of the component's Deployment or StatefulSet; returns the previous count."""
        if replicas < 0:
            raise K8sError(f"replicas must be 0 or more, got {replicas}")
        kind, workload = self._workload(component)
        previous = workload.spec.replicas if workload.spec.replicas is not None else 1
        patch = {"spec": {"replicas": replicas}}
        if kind == "Deployment":
            self.apps.patch_namespaced_deployment_scale(workload.metadata.name, self.namespace, patch,
                                                        _content_type=MERGE_PATCH)
        else:
            self.apps.patch_namespaced_stateful_set_scale(workload.metadata.name, self.namespace, patch,
                                                          _content_type=MERGE_PATCH)
        return previous

    def set_env(self, component: str, key: str, value: str | None) -> str | None:
        """Set (or with None remove) an env var of the component's container; the pods roll.

        Read-modify-replace on the object's resourceVersion, so a concurrent change (an HPA,
        another drill) is never overwritten: on a conflict the change is re-applied to the
        fresh object. Returns the previous value.
        """
        from kubernetes.client import V1EnvVar
        from kubernetes.client.exceptions import ApiException

        for _ in range(_CONFLICT_RETRIES):
            kind, workload = self._workload(component)
            container = _container_of(workload, component)
            env = list(container.env or [])
            previous = next((e.value for e in env if e.name == key), None)
            env = [e for e in env if e.name != key]
            if value is not None:
                env.append(V1EnvVar(name=key, value=value))
            container.env = env
            try:
                if kind == "Deployment":
                    self.apps.replace_namespaced_deployment(workload.metadata.name, self.namespace, workload)
                else:
                    self.apps.replace_namespaced_stateful_set(workload.metadata.name, self.namespace, workload)
                return previous
            except ApiException as exc:
                if exc.status != 409:
                    raise
        raise K8sError(f"{component}: the workload kept changing under us ({_CONFLICT_RETRIES} conflicts)",
                       hint="retry when the rollout or autoscaler has settled")

    def rollout_model(self, model_tag: str) -> str | None:
        """Serve another model version: serving's GAMEDAY_SERVING__MODEL, then a rolling update."""
        return self.set_env("serving", MODEL_ENV, model_tag)

    def chaos(self, action: str, component: str) -> str:
        """The drills' chaos verbs on a cluster: restart deletes the pods (their controller replaces them),
        stop/start scale to 0 and back, and kill is a kill -9 that stays down until start.

        A kill holds the workload at zero because on the local stack nothing restarts a killed
        process: the scenario's outage lasts its `for:`, on either target. Left to the controller, the
        outage lasted however long a new pod took (3–15 s), and a drill expecting the traffic to stop
        raced it.
        """
        if action == "kill":
            self._hold_down(component)  # first, so no replacement pod starts
            pods = self._delete_pods(self._pod_names(component), grace_s=0)  # scaling down alone is graceful
            return f"deleted {len(pods)} pod(s) of {component} (no grace period); held at 0 replicas until start"
        if action == "restart":
            pods = self.kill(component)
            return f"deleted {len(pods)} pod(s) of {component}"
        if action == "stop":
            return f"{component} scaled {self._hold_down(component)} → 0"
        if action == "start":
            replicas = self._stopped.pop(component, 1)
            previous = self.scale(component, replicas)
            return f"{component} scaled {previous} → {replicas}"
        raise K8sError(f"chaos action {action!r} has no cluster equivalent",
                       hint=f"use one of {', '.join(CHAOS_ACTIONS)} with --target k8s; pause/resume need the local stack")

    def _hold_down(self, component: str) -> int:
        """Scale the component to zero, remembering its replicas for `start`; returns them."""
        previous = self.scale(component, 0)
        self._stopped[component] = previous or 1
        return previous

    def components(self) -> dict[str, str]:
        """component -> state, for the drills' target protocol."""
        return {s.component: s.state for s in self.status()}

    # -- what is running --------------------------------------------------------------------

    def status(self) -> list[ComponentState]:
        """Every Deployment, StatefulSet and Job of the release, with readiness and restarts."""
        selector = f"app.kubernetes.io/instance={self.release}"
        restarts: dict[str, int] = {}
        for pod in self.core.list_namespaced_pod(self.namespace, label_selector=selector).items:
            component = (pod.metadata.labels or {}).get("app.kubernetes.io/component", "?")
            statuses = (pod.status.container_statuses if pod.status else None) or []
            restarts[component] = restarts.get(component, 0) + sum(s.restart_count or 0 for s in statuses)

        states: list[ComponentState] = []
        workloads = [("Deployment", d) for d in self.apps.list_namespaced_deployment(self.namespace, label_selector=selector).items]
        workloads += [("StatefulSet", s) for s in self.apps.list_namespaced_stateful_set(self.namespace, label_selector=selector).items]
        for kind, w in workloads:
            component = _component_label(w)
            desired = w.spec.replicas if w.spec.replicas is not None else 1
            ready = (w.status.ready_replicas if w.status else 0) or 0
            states.append(ComponentState(component, kind, w.metadata.name, desired, ready,
                                         _workload_state(desired, ready), restarts.get(component, 0)))
        for job in self.batch.list_namespaced_job(self.namespace, label_selector=selector).items:
            component = _component_label(job)
            status = job.status
            succeeded, failed = (status.succeeded or 0, status.failed or 0) if status else (0, 0)
            state = "succeeded" if succeeded else ("failed" if failed and not (status and status.active) else "running")
            states.append(ComponentState(component, "Job", job.metadata.name, 1, succeeded, state,
                                         restarts.get(component, 0)))
        return sorted(states, key=lambda s: (s.component, s.name))

    # -- helpers ----------------------------------------------------------------------------

    def selector(self, component: str) -> str:
        return f"app.kubernetes.io/instance={self.release},app.kubernetes.io/component={component}"

    def _workload(self, component: str) -> tuple[str, Any]:
        selector = self.selector(component)
        deployments = self.apps.list_namespaced_deployment(self.namespace, label_selector=selector).items
        if deployments:
            return "Deployment", deployments[0]
        sets = self.apps.list_namespaced_stateful_set(self.namespace, label_selector=selector).items
        if sets:
            return "StatefulSet", sets[0]
        raise K8sError(f"no Deployment or StatefulSet of component {component!r} in namespace {self.namespace} "
                       f"(release {self.release})", hint="see the components with `gameday k8s status`")


def _container_of(workload: Any, component: str) -> Any:
    containers = workload.spec.template.spec.containers
    return next((c for c in containers if c.name == component), containers[0])


def _component_label(obj: Any) -> str:
    return (obj.metadata.labels or {}).get("app.kubernetes.io/component", obj.metadata.name)


def _workload_state(desired: int, ready: int) -> str:
    if desired == 0:
        return "scaled to zero"
    if ready >= desired:
        return "ready"
    return "degraded" if ready else "down"


def _first_line(exc: BaseException) -> str:
    """The gist of a client error: the OS reason of a connection error, else its first line."""
    text = str(exc).strip() or type(exc).__name__
    if errno := re.search(r"\[Errno -?\d+\] [^'\")]+", text):
        return errno.group(0)
    return text.splitlines()[0][:200]
