"""The cluster's certificates and keys, made once with openssl: one CA signs them all.

Every component authenticates with a client certificate whose subject is the identity the
API server's RBAC knows (system:kube-scheduler, system:node:<node>, ...); the API server and
the kubelet serve with certificates for the node address. Service-account tokens are signed
with their own key pair. Keys are EC P-256 (fast to make, accepted everywhere in Kubernetes).
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ..errors import K8sError
from .layout import API_SERVICE_IP, CLUSTER_DOMAIN, NODE_IP, NODE_NAME

DAYS = 3650


@dataclass(frozen=True)
class Identity:
    """One certificate: its file stem, subject, and (for servers) the names it serves."""

    stem: str
    common_name: str
    organization: str | None = None
    server_names: tuple[str, ...] = ()   # "DNS:x" or "IP:x"; a server certificate when not empty


IDENTITIES = (
    Identity("apiserver", "kube-apiserver", server_names=(
        f"IP:{NODE_IP}", "IP:127.0.0.1", f"IP:{API_SERVICE_IP}", "DNS:localhost", "DNS:kubernetes",
        "DNS:kubernetes.default", "DNS:kubernetes.default.svc", f"DNS:kubernetes.default.svc.{CLUSTER_DOMAIN}")),
    Identity("apiserver-kubelet-client", "kube-apiserver-kubelet-client", "system:masters"),
    Identity("admin", "gameday-admin", "system:masters"),
    Identity("controller-manager", "system:kube-controller-manager"),
    Identity("scheduler", "system:kube-scheduler"),
    Identity("kube-proxy", "system:kube-proxy"),
    Identity("kubelet-client", f"system:node:{NODE_NAME}", "system:nodes"),
    Identity("kubelet", NODE_NAME, server_names=(f"IP:{NODE_IP}", f"DNS:{NODE_NAME}", "DNS:localhost")),
)


def ensure_pki(pki: Path) -> None:
    """Make the CA, every identity and the service-account keys that do not exist yet."""
    openssl = shutil.which("openssl")
    if not openssl:
        raise K8sError("openssl is not installed (the cluster's certificates are made with it)",
                       hint="apt-get install -y openssl")
    pki.mkdir(parents=True, exist_ok=True)
    pki.chmod(0o700)
    if not (pki / "ca.crt").is_file():
        _key(openssl, pki / "ca.key")
        _run(openssl, "req", "-x509", "-new", "-key", pki / "ca.key", "-subj", "/CN=mlgameday-ca",
             "-days", str(DAYS), "-out", pki / "ca.crt",
             "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    for identity in IDENTITIES:
        if not (pki / f"{identity.stem}.crt").is_file():
            _issue(openssl, pki, identity)
    if not (pki / "sa.key").is_file():
        _key(openssl, pki / "sa.key")
        _run(openssl, "ec", "-in", pki / "sa.key", "-pubout", "-out", pki / "sa.pub")


def _issue(openssl: str, pki: Path, identity: Identity) -> None:
    key, csr, crt = (pki / f"{identity.stem}.{ext}" for ext in ("key", "csr", "crt"))
    ext = pki / f"{identity.stem}.ext"
    subject = f"/CN={identity.common_name}" + (f"/O={identity.organization}" if identity.organization else "")
    usage = "serverAuth" if identity.server_names else "clientAuth"
    lines = ["basicConstraints=CA:FALSE", "keyUsage=critical,digitalSignature,keyEncipherment",
             f"extendedKeyUsage={usage}"]
    if identity.server_names:
        lines.append("subjectAltName=" + ",".join(identity.server_names))
    ext.write_text("\n".join(lines) + "\n")
    _key(openssl, key)
    _run(openssl, "req", "-new", "-key", key, "-subj", subject, "-out", csr)
    _run(openssl, "x509", "-req", "-in", csr, "-CA", pki / "ca.crt", "-CAkey", pki / "ca.key", "-CAcreateserial",
         "-days", str(DAYS), "-extfile", ext, "-out", crt)
    csr.unlink()
    ext.unlink()


def _key(openssl: str, path: Path) -> None:
    _run(openssl, "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", path)
    path.chmod(0o600)


def _run(*args: object) -> None:
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True)
    if done.returncode != 0:
        raise K8sError(f"openssl {args[1]} failed: {done.stderr.strip()[:300]}",
                       hint="delete the cluster's pki folder (`gameday k8s cluster down --wipe`) and retry")
