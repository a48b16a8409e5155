"""The cluster's binaries, built from the Go module proxy into the cache (no download site needed).

`k8s.io/kubernetes` cannot be `go install`ed: its go.mod points its staging modules
(k8s.io/api, client-go, ...) at folders of its own repository. A wrapper module requires
it and replaces each of those with the released module of the same version; it also holds
the project's small Go programs (go/pause, go/probe, go/coredns). One `go build` of every
command shares the compilation of what they have in common. A cold build is long (on two
busy cores 11–51 min, the API server most of it); a warm Go build cache makes it a minute,
and the binaries are not rebuilt at all while the stamp of their inputs is unchanged.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Callable

from ..errors import K8sError
from .layout import BINARIES, COREDNS_VERSION, KUBERNETES_VERSION, STAGING_VERSION, Paths

Say = Callable[[str], None]
GO_SOURCES = Path(__file__).resolve().parent / "go"
MIN_GO = (1, 26)
WRAPPER_MODULE = "mlgameday.local/k8s"
VERSION_PACKAGE = "k8s.io/component-base/version"
PROGRESS_EVERY_S = 30.0
_STAGING_REPLACE = re.compile(r"^\s*(k8s\.io/[A-Za-z0-9._-]+)\s*=>\s*\./staging/", re.M)


def go_binary() -> str:
    """The go command, at least 1.26 (the version Kubernetes 1.37's go.mod asks for)."""
    go = shutil.which("go")
    if not go:
        raise K8sError("Go is not installed: the single-node cluster is built from the Go module proxy",
                       hint="install Go ≥ 1.26 (Debian: the golang package of backports, or your own), or "
                            "point KUBECONFIG at a cluster you have (kind, minikube, k3d, a cloud one)")
    version = subprocess.run([go, "env", "GOVERSION"], capture_output=True, text=True).stdout.strip()
    found = re.match(r"go(\d+)\.(\d+)", version)
    if not found or (int(found.group(1)), int(found.group(2))) < MIN_GO:
        raise K8sError(f"Go {version or '(unknown version)'} is too old to build Kubernetes {KUBERNETES_VERSION}",
                       hint=f"install Go ≥ {MIN_GO[0]}.{MIN_GO[1]}, or use a cluster you have through KUBECONFIG")
    return go


def build_env() -> dict[str, str]:
    env = dict(os.environ)
    # Static binaries; two compile jobs (the machine has two cores); the wrapper's go.mod is
    # completed by the go command itself; no VCS stamping (the wrapper has no repository).
    env.update(CGO_ENABLED="0", GOFLAGS="-p=2 -mod=mod -buildvcs=false")
    return env


def ldflags() -> str:
    major, minor, _ = KUBERNETES_VERSION.split(".")
    version = " ".join(f"-X {VERSION_PACKAGE}.{key}={value}" for key, value in (
        ("gitVersion", f"v{KUBERNETES_VERSION}"), ("gitMajor", major), ("gitMinor", minor),
        ("gitTreeState", "clean")))
    return f"-s -w {version}"


def packages() -> list[str]:
    """What `go build` compiles, in the order of BINARIES."""
    own = {"pause": "./pause", "probe": "./probe", "coredns": "./coredns"}
    return [own.get(name, f"k8s.io/kubernetes/cmd/{name}") for name in BINARIES]


def wrapper_go_mod(upstream_go_mod: str) -> str:
    """The wrapper's go.mod: Kubernetes and CoreDNS, each staging module replaced by its release."""
    staging = sorted(set(_STAGING_REPLACE.findall(upstream_go_mod)))
    if not staging:
        raise K8sError(f"k8s.io/kubernetes v{KUBERNETES_VERSION}'s go.mod names no staging module to replace",
                       hint="the build recipe in services/k8s/local/build.py needs updating for this version")
    replaces = "\n".join(f"\t{module} => {module} v{STAGING_VERSION}" for module in staging)
    return (f"module {WRAPPER_MODULE}\n\ngo 1.26.0\n\ngodebug default=go1.26\n\n"
            f"require (\n\tk8s.io/kubernetes v{KUBERNETES_VERSION}\n\tgithub.com/coredns/coredns v{COREDNS_VERSION}\n)\n\n"
            f"replace (\n{replaces}\n)\n")


def inputs_stamp() -> str:
    """What the binaries depend on besides the Go toolchain: versions, flags and our Go sources."""
    h = hashlib.sha256()
    h.update(json.dumps([KUBERNETES_VERSION, COREDNS_VERSION, packages(), ldflags()]).encode())
    for path in sorted(GO_SOURCES.rglob("*.go")):
        h.update(path.relative_to(GO_SOURCES).as_posix().encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:24]


def built(paths: Paths) -> bool:
    stamp = paths.bin / ".stamp"
    return (stamp.is_file() and stamp.read_text().strip() == inputs_stamp()
            and all(paths.binary(name).is_file() for name in BINARIES))


def ensure_binaries(paths: Paths, say: Say) -> float:
    """Build whatever is missing; returns the seconds spent (0 when nothing had to be done)."""
    if built(paths):
        return 0.0
    go = go_binary()
    started = time.monotonic()
    paths.src.mkdir(parents=True, exist_ok=True)
    paths.bin.mkdir(parents=True, exist_ok=True)
    say(f"preparing the Go module for Kubernetes v{KUBERNETES_VERSION} in {paths.src}")
    upstream = _download_go_mod(go, f"k8s.io/kubernetes@v{KUBERNETES_VERSION}")
    (paths.src / "go.mod").write_text(wrapper_go_mod(upstream))
    for source in GO_SOURCES.rglob("*.go"):
        target = paths.src / source.relative_to(GO_SOURCES)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    say(f"building {', '.join(BINARIES)} (a cold Go build takes 11–51 min on 2 cores; "
        f"a warm one ~1 min)")
    _go_build(go, paths, say)
    (paths.bin / ".stamp").write_text(inputs_stamp() + "\n")
    seconds = time.monotonic() - started
    say(f"built in {seconds / 60:.1f} min into {paths.bin}")
    return seconds


def _download_go_mod(go: str, module_at_version: str) -> str:
    done = subprocess.run([go, "mod", "download", "-json", module_at_version], capture_output=True, text=True,
                          env={**build_env(), "GOFLAGS": ""}, timeout=600)
    try:
        info = json.loads(done.stdout)
    except json.JSONDecodeError:
        info = {}
    if done.returncode != 0 or "GoMod" not in info:
        reason = info.get("Error") or done.stderr.strip() or done.stdout.strip()
        raise K8sError(f"cannot fetch {module_at_version} from the Go module proxy: {reason[:300]}",
                       hint="check `go env GOPROXY` and that the proxy answers")
    return Path(info["GoMod"]).read_text()


def _go_build(go: str, paths: Paths, say: Say) -> None:
    command = [go, "build", "-v", "-trimpath", "-ldflags", ldflags(), "-o", str(paths.bin) + "/", *packages()]
    log_path = paths.build / "build.log"
    counts = {"compiled": 0, "downloaded": 0}
    started = time.monotonic()
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, cwd=paths.src, env=build_env(), stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True)
        finished = threading.Event()

        def tick() -> None:
            while not finished.wait(PROGRESS_EVERY_S):
                say(f"  … {(time.monotonic() - started) / 60:.1f} min: {counts['downloaded']} modules downloaded, "
                    f"{counts['compiled']} packages compiled")

        ticker = threading.Thread(target=tick, daemon=True)
        ticker.start()
        assert process.stdout is not None
        for line in process.stdout:
            log.write(line)
            if line.startswith("go: downloading"):
                counts["downloaded"] += 1
            elif not line.startswith(("go:", "#", " ", "\t")):
                counts["compiled"] += 1
        code = process.wait()
        finished.set()
    if code != 0:
        tail = log_path.read_text().strip().splitlines()[-15:]
        raise K8sError(f"go build of the cluster's binaries failed (exit {code}):\n" + "\n".join(tail),
                       hint=f"the whole log is {log_path}")
