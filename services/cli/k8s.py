"""`gameday k8s`: the Helm chart (render, install, status, uninstall) and chaos on a cluster."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer
from rich.table import Table

from ..k8s.cluster import ClusterTarget
from ..k8s.install import install as install_release
from ..k8s.local.cluster import LocalCluster
from ..k8s.provision import cluster_up, reachable_user_cluster
from ..k8s.helm import DEFAULT_KUBE_VERSION, DEFAULT_RELEASE, ChartRelease
from .common import console, err_console, print_json, state

k8s_app = typer.Typer(help="The stack on Kubernetes: Helm chart and chaos on a cluster.", no_args_is_help=True)
chaos_app = typer.Typer(help="Faults on a cluster through the Kubernetes API.", no_args_is_help=True)
cluster_app = typer.Typer(help="A cluster to install into: yours (KUBECONFIG), or a single-node one on this machine.",
                          no_args_is_help=True)
k8s_app.add_typer(chaos_app, name="chaos")
k8s_app.add_typer(cluster_app, name="cluster")

# Options every command shares (kubeconfig and namespace default to the usual places).
RELEASE = typer.Option(DEFAULT_RELEASE, "--release", "-r", help="Helm release name.")
NAMESPACE = typer.Option(None, "--namespace", "-n", help="Namespace (default: the kubeconfig context's, else default).")
KUBECONFIG = typer.Option(None, "--kubeconfig", help="Kubeconfig file (default: $KUBECONFIG, else ~/.kube/config).")
CONTEXT = typer.Option(None, "--context", help="Kubeconfig context (default: the current one).")
VALUES = typer.Option([], "--values", "-f", help="Values file (repeatable).")
SET = typer.Option([], "--set", help="A value, key=value (repeatable).")
JSON = typer.Option(False, "--json", help="Machine-readable output.")

STATE_STYLE = {"ready": "green", "succeeded": "green", "running": "cyan", "degraded": "yellow",
               "scaled to zero": "yellow", "down": "red", "failed": "red"}


def register(app: typer.Typer) -> None:
    app.add_typer(k8s_app, name="k8s")


@k8s_app.command()
def render(
    values: List[Path] = VALUES, set_values: List[str] = SET, release: str = RELEASE,
    namespace: Optional[str] = NAMESPACE,
    kube_version: str = typer.Option(DEFAULT_KUBE_VERSION, "--kube-version", help="Kubernetes version to render for."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write the manifests here instead of stdout."),
) -> None:
    """Print the manifests (`helm template`); needs no cluster."""
    chart = ChartRelease(release=release, namespace=namespace, values_files=values, set_values=set_values,
                         kube_version=kube_version)
    manifests = chart.render()
    if output:
        output.write_text(manifests)
        console.print(f"wrote {output} ({manifests.count('kind:')} objects)")
    else:
        print(manifests, end="")


@k8s_app.command()
def install(
    values: List[Path] = VALUES, set_values: List[str] = SET, release: str = RELEASE,
    namespace: Optional[str] = NAMESPACE, kubeconfig: Optional[str] = KUBECONFIG, context: Optional[str] = CONTEXT,
    timeout: str = typer.Option("15m", "--timeout", help="How long to wait for every pod to be Ready (helm's --timeout)."),
    for_drills: bool = typer.Option(True, "--for-drills/--plain", help="Run the services with the drills' settings "
                                    "(time scale, short monitor windows, every model variant), as `gameday drill` does locally."),
) -> None:
    """Install or upgrade the release and wait until every pod is Ready and the Jobs are done
    (on this machine's own cluster, the local images are loaded into the node first)."""
    from ..drill.profile import release_values

    drills = release_values() if for_drills else []
    chart = ChartRelease(release=release, namespace=namespace, kubeconfig=kubeconfig, context=context,
                         values_files=values, set_values=[*drills, *set_values])
    target = ClusterTarget.connect(chart.namespace, release, kubeconfig, context)
    report = install_release(chart, target.core, state.settings(), lambda line: err_console.print(f"  [dim]·[/] {line}"),
                             timeout=timeout)
    loaded = f"images loaded in {report.load_s:.1f} s ({', '.join(report.images_loaded)}); " if report.images_loaded else ""
    console.print(f"release [bold]{report.release}[/] in {report.namespace}: {loaded}every pod Ready "
                  f"{report.install_s:.1f} s after helm install")


@k8s_app.command()
def status(
    release: str = RELEASE, namespace: Optional[str] = NAMESPACE, kubeconfig: Optional[str] = KUBECONFIG,
    context: Optional[str] = CONTEXT, as_json: bool = JSON,
) -> None:
    """The release (Helm) and each component's readiness and restarts (Kubernetes API)."""
    target = ClusterTarget.connect(namespace, release, kubeconfig, context)
    helm_status = ChartRelease(release=release, namespace=target.namespace, kubeconfig=kubeconfig,
                               context=context).status()
    states = target.status()
    if as_json:
        print_json({"release": helm_status, "components": [s.as_dict() for s in states]})
        return
    console.print(f"release [bold]{helm_status['release']}[/] rev {helm_status['revision']} "
                  f"in {helm_status['namespace']}: {helm_status['status']}")
    table = Table()
    for column in ("component", "kind", "name", "ready", "state", "restarts"):
        table.add_column(column)
    for s in states:
        style = STATE_STYLE.get(s.state, "")
        table.add_row(s.component, s.kind, s.name, f"{s.ready}/{s.desired}", f"[{style}]{s.state}[/]", str(s.restarts))
    console.print(table)


@k8s_app.command()
def uninstall(
    release: str = RELEASE, namespace: Optional[str] = NAMESPACE, kubeconfig: Optional[str] = KUBECONFIG,
    context: Optional[str] = CONTEXT,
) -> None:
    """Remove the release (the run folder's claim is kept: it holds the trained models)."""
    print(ChartRelease(release=release, namespace=namespace, kubeconfig=kubeconfig, context=context).uninstall(), end="")


@k8s_app.command()
def rollout(
    model_tag: str = typer.Argument(..., help="Model to serve: a variant (fast, accurate, worse) or a BentoML tag, e.g. triptime:abc123."),
    release: str = RELEASE, namespace: Optional[str] = NAMESPACE, kubeconfig: Optional[str] = KUBECONFIG,
    context: Optional[str] = CONTEXT,
) -> None:
    """Roll serving to another model version (its GAMEDAY_SERVING__MODEL)."""
    previous = ClusterTarget.connect(namespace, release, kubeconfig, context).rollout_model(model_tag)
    console.print(f"[bold magenta]rollout[/] serving: {previous or '(default)'} → {model_tag}")


@chaos_app.command("kill")
def chaos_kill(
    component: str = typer.Argument(..., help="kafka, redis, producer, ingest, serving, monitor"),
    release: str = RELEASE, namespace: Optional[str] = NAMESPACE, kubeconfig: Optional[str] = KUBECONFIG,
    context: Optional[str] = CONTEXT,
) -> None:
    """Delete the component's pods (their controller replaces them)."""
    pods = ClusterTarget.connect(namespace, release, kubeconfig, context).kill(component)
    console.print(f"[bold magenta]chaos[/] deleted {len(pods)} pod(s) of {component}: {', '.join(pods)}")


@chaos_app.command("scale")
def chaos_scale(
    component: str = typer.Argument(...), replicas: int = typer.Argument(..., min=0),
    release: str = RELEASE, namespace: Optional[str] = NAMESPACE, kubeconfig: Optional[str] = KUBECONFIG,
    context: Optional[str] = CONTEXT,
) -> None:
    """Scale the component's Deployment/StatefulSet (0 takes it down; scale back to restore)."""
    previous = ClusterTarget.connect(namespace, release, kubeconfig, context).scale(component, replicas)
    console.print(f"[bold magenta]chaos[/] {component}: {previous} → {replicas} replicas")


@chaos_app.command("env")
def chaos_env(
    component: str = typer.Argument(...), key: str = typer.Argument(..., help="e.g. GAMEDAY_INGEST__SPEED_UNIT"),
    value: Optional[str] = typer.Argument(None, help="New value; omit with --unset."),
    unset: bool = typer.Option(False, "--unset", help="Remove the variable."),
    release: str = RELEASE, namespace: Optional[str] = NAMESPACE, kubeconfig: Optional[str] = KUBECONFIG,
    context: Optional[str] = CONTEXT,
) -> None:
    """Set or remove an env var of the component (its pods roll)."""
    if (value is None) != unset:
        raise typer.BadParameter("give a VALUE, or --unset to remove the variable")
    previous = ClusterTarget.connect(namespace, release, kubeconfig, context).set_env(component, key, value)
    console.print(f"[bold magenta]chaos[/] {component}: {key} {previous!r} → {value!r}")


@cluster_app.command("up")
def cluster_up_command(
    local: bool = typer.Option(False, "--local", help="Run this machine's own cluster even when KUBECONFIG reaches one."),
) -> None:
    """Use the cluster of your kubeconfig if it answers; else build (once, cached) and start a single-node one."""
    outcome = cluster_up(lambda line: err_console.print(f"  [dim]·[/] {line}"), prefer_local=local)
    console.print(outcome)


@cluster_app.command("build")
def cluster_build() -> None:
    """Only build (or find cached) this machine's cluster binaries, without starting anything."""
    seconds = LocalCluster().build_binaries(lambda line: err_console.print(f"  [dim]·[/] {line}"))
    console.print(f"built in {seconds / 60:.1f} min" if seconds else "the cluster's binaries are built already")


@cluster_app.command("status")
def cluster_status(as_json: bool = JSON) -> None:
    """This machine's single-node cluster: build, processes, memory, node; and whether KUBECONFIG reaches another."""
    info = LocalCluster().status()
    info["user_cluster"] = reachable_user_cluster()
    if as_json:
        print_json(info)
        return
    if info["user_cluster"]:
        console.print(f"your kubeconfig reaches {info['user_cluster']}")
    console.print(f"single-node cluster v{info['version']} ({'built' if info['built'] else 'not built'}; {info['home']}): "
                  f"{'[green]running[/]' if info['running'] else '[yellow]not running[/]'}, {info['memory_mb']:.0f} MB")
    table = Table()
    for column in ("process", "pid", "state", "memory MB"):
        table.add_column(column)
    for p in info["processes"]:
        table.add_row(p["name"], str(p["pid"] or "-"), "[green]running[/]" if p["running"] else "[red]stopped[/]",
                      f"{p['rss_mb']:.0f}")
    console.print(table)
    if info["node"]:
        console.print(f"node {info['node']['name']}: {'Ready' if info['node'].get('ready') else 'not Ready'}")
        console.print(f"kubeconfig: {info['kubeconfig']}")


@cluster_app.command("down")
def cluster_down(wipe: bool = typer.Option(False, "--wipe", help="Also delete the cluster's data (the build is kept).")) -> None:
    """Stop this machine's single-node cluster (its pods first)."""
    stopped = LocalCluster().down(lambda line: err_console.print(f"  [dim]·[/] {line}"), wipe=wipe)
    console.print(f"stopped {len(stopped)} process(es)" if stopped else "the single-node cluster was not running")
