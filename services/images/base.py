"""The images' base with no registry: Debian bookworm from this machine's own apt mirror.

`mmdebstrap` writes a minimal root filesystem as a tar stream, `docker import` makes it an
image. Bookworm whatever the host runs: its python3 is 3.11, the project's Python.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from ..errors import MissingToolError, StackError

SUITE = "bookworm"
# Bookworm's python3 (security updates keep the version): pip on the host resolves for its own
# interpreter, and some markers look at the exact version (redis wants async-timeout < 3.11.3).
IMAGE_PYTHON = "3.11.2"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
# A slim root: certificates and /etc/services; no documentation, manuals or translations.
INCLUDE = ("ca-certificates", "netbase")
DPKG_EXCLUDES = ("/usr/share/man/*", "/usr/share/doc/*", "/usr/share/info/*", "/usr/share/locale/*",
                 "/usr/share/lintian/*")
# Dockerfile instructions an imported root filesystem lacks.
IMAGE_CHANGES = ("ENV LANG=C.UTF-8", 'CMD ["bash"]')


def debian_mirror(apt_dir: Path = Path("/etc/apt")) -> str:
    """The first Debian archive (not the security one) among apt's sources, else deb.debian.org."""
    for uri in _source_uris(apt_dir):
        if re.search(r"/debian/?$", uri):
            return uri.rstrip("/")
    return DEFAULT_MIRROR


def _source_uris(apt_dir: Path) -> list[str]:
    """URIs of apt's sources in order: deb822 `URIs:` fields and one-line `deb URI suite` entries."""
    uris: list[str] = []
    files = sorted((apt_dir / "sources.list.d").glob("*.sources")) + [apt_dir / "sources.list",
                                                                       *sorted((apt_dir / "sources.list.d").glob("*.list"))]
    for path in files:
        if not path.is_file():
            continue
        for line in path.read_text(errors="replace").splitlines():
            line = line.strip()
            if line.startswith("URIs:"):
                uris.extend(line.removeprefix("URIs:").split())
            elif line.startswith("deb "):
                parts = re.sub(r"\[[^]]*\]", " ", line).split()
                if len(parts) >= 2:
                    uris.append(parts[1])
    return uris


def mmdebstrap_argv(mirror: str, output: str = "-") -> list[str]:
    return ["mmdebstrap", "--variant=minbase", f"--include={','.join(INCLUDE)}",
            *[f"--dpkgopt=path-exclude={pattern}" for pattern in DPKG_EXCLUDES],
            "--dpkgopt=path-include=/usr/share/doc/*/copyright",
            SUITE, output, mirror]


def build_base_tar(mirror: str, tar: Path, report) -> None:
    """Write the root filesystem tar (a couple of minutes: every package comes from the mirror)."""
    if shutil.which("mmdebstrap") is None:
        raise MissingToolError("`mmdebstrap` was not found; the base image is built with it from the apt mirror",
                               hint="apt-get install -y mmdebstrap, or set images.base to an image you can pull "
                                    "(GAMEDAY_IMAGES__BASE=debian:bookworm-slim)")
    tar.parent.mkdir(parents=True, exist_ok=True)
    report(f"mmdebstrap {SUITE} from {mirror} (about 2 minutes)")
    proc = subprocess.Popen(mmdebstrap_argv(mirror, str(tar)), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    tail: list[str] = []
    assert proc.stdout is not None
    for line in proc.stdout:
        tail = (tail + [line.rstrip()])[-20:]
        if line.startswith("I: "):
            report(line[3:].strip()[:100])
    if proc.wait() != 0:
        tar.unlink(missing_ok=True)
        raise StackError("mmdebstrap failed:\n    " + "\n    ".join(tail),
                         hint=f"check that {mirror} is reachable (apt-get update works)")
