"""What goes into each image's build context, and the inputs that decide whether it changed.

A context has cheap `inputs` (hashed into the image's fingerprint label: equal inputs, the
image is up to date and nothing is staged) and an expensive `stage` (Maven jars, wheels).
Everything is staged under images.build_cache, outside the work tree.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from importlib.metadata import distributions
from pathlib import Path
from typing import Callable, Iterator

from ..containers.engine import Say
from ..errors import ImageError
from .base import IMAGE_PYTHON
from ..stack.kafka.broker import log4j_config
from ..stack.kafka.jars import copy_dependencies

REPO = Path(__file__).resolve().parents[2]
DOCKER = REPO / "docker"
# Files of the project's own code in the app image (the rest of the repo is not in it).
SOURCE_SUFFIXES = {".py", ".xml", ".properties", ".yaml", ".yml", ".json", ".html", ".md", ".sh", ".toml", ".cfg"}


def repo() -> Path:
    """The checkout the images are built from (an installed package alone cannot build them)."""
    if not (REPO / "pyproject.toml").is_file() or not DOCKER.is_dir():
        raise ImageError(f"no docker/ folder and pyproject.toml beside the package ({REPO})",
                         hint="build the images from a clone of the repository (`make images` there)")
    return REPO


def files_under(root: Path, excluded: tuple[str, ...] = ()) -> Iterator[Path]:
    """Files of a folder in a stable order, without caches, build output or the excluded subfolders."""
    for path in sorted(root.rglob("*")):
        parts = path.relative_to(root).parts
        if (path.is_file() and "__pycache__" not in parts and not path.name.endswith(".pyc")
                and not any(part.endswith(".egg-info") for part in parts) and parts[0] not in excluded):
            yield path


def digest_files(paths: list[Path], base: Path) -> bytes:
    h = hashlib.sha256()
    for path in paths:
        h.update(str(path.relative_to(base)).encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return h.digest()


@dataclass
class Context:
    """One image's Dockerfile, its fingerprinted inputs and how to stage the rest."""

    dockerfile: Path
    inputs: Callable[[], bytes]
    stage: Callable[[Path, Say], None]


# ---- the Python runtime: the project's dependencies as the tested virtualenv has them ----------

def requirements() -> str:
    """The project's direct dependencies, as pinned in pyproject.toml."""
    project = tomllib.loads((repo() / "pyproject.toml").read_text())["project"]
    return "\n".join(project["dependencies"]) + "\n"


def constraints() -> str:
    """Every installed distribution's version (the virtualenv the suite ran with), so the
    transitive dependencies in the image are the tested ones, not whatever is newest."""
    skip = {"mlgameday", "pip", "setuptools", "wheel"}
    pins = {}
    for dist in distributions():
        name = re.sub(r"[-_.]+", "-", dist.metadata["Name"]).lower()
        if name not in skip:
            pins[name] = dist.version
    return "".join(f"{name}=={pins[name]}\n" for name in sorted(pins))


def stage_python(dest: Path, say: Say) -> None:
    (dest / "requirements.txt").write_text(requirements())
    (dest / "constraints.txt").write_text(constraints())
    wheels = dest / "wheels"
    shutil.rmtree(wheels, ignore_errors=True)
    say("collecting the dependencies' wheels with pip (its cache makes this quick after the first time)")
    wanted = [str(dest / "requirements.txt")]
    # pip resolves for this interpreter; the image's may need more (markers on the exact version):
    # add what its markers ask for until nothing is missing.
    for _ in range(5):
        _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--wheel-dir", str(wheels),
              *[arg for path in wanted for arg in ("-r", path)], "-c", str(dest / "constraints.txt")], "pip wheel")
        missing = missing_requirements(wheels, requirements().splitlines(), IMAGE_PYTHON)
        if not missing:
            return
        say(f"adding what Python {IMAGE_PYTHON} needs besides: {', '.join(missing)}")
        extra = dest / f"requirements-{len(wanted)}.txt"
        extra.write_text("\n".join(missing) + "\n")
        wanted.append(str(extra))
    raise ImageError(f"the wheelhouse for Python {IMAGE_PYTHON} is still missing {', '.join(missing)}")


def missing_requirements(wheels: Path, roots: list[str], python: str) -> list[str]:
    """Requirements (with markers evaluated for `python`) that no wheel in the folder provides."""
    from packaging.markers import default_environment
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name, parse_wheel_filename

    environment = {**default_environment(), "python_full_version": python, "implementation_version": python,
                   "python_version": ".".join(python.split(".")[:2])}
    have = {canonicalize_name(parse_wheel_filename(w.name)[0]): w for w in wheels.glob("*.whl")}
    queue = [Requirement(line) for line in roots if line.strip()]
    done: set[tuple[str, frozenset[str]]] = set()
    missing: list[str] = []
    while queue:
        req = queue.pop()
        name = canonicalize_name(req.name)
        key = (name, frozenset(req.extras))
        if key in done:
            continue
        done.add(key)
        if name not in have:
            # Without its marker: it was evaluated for the image, the host's pip must not re-judge it.
            extras = f"[{','.join(sorted(req.extras))}]" if req.extras else ""
            missing.append(f"{req.name}{extras}{req.specifier}")
            continue
        for line in _requires_dist(have[name]):
            dep = Requirement(line)
            extras = req.extras or {""}
            if dep.marker is None or any(dep.marker.evaluate({**environment, "extra": e}) for e in extras):
                queue.append(dep)
    return sorted(set(missing))


def _requires_dist(wheel: Path) -> list[str]:
    import zipfile
    from email.parser import Parser

    with zipfile.ZipFile(wheel) as archive:
        meta = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA") and n.count("/") == 1)
        return Parser().parsestr(archive.read(meta).decode()).get_all("Requires-Dist") or []


# ---- the app: the project's wheel, feature_repo/ and the entry point -------------------------------

def app_sources() -> list[Path]:
    root = repo()
    code = [p for p in files_under(root / "services") if p.suffix in SOURCE_SUFFIXES]
    features = list(files_under(root / "feature_repo", excluded=("data",)))
    return [root / "pyproject.toml", root / "setup.py", root / "README.md", DOCKER / "entrypoint.sh",
            *code, *features]


def stage_app(dest: Path, say: Say) -> None:
    root = repo()
    wheel = dest / "wheel"
    shutil.rmtree(wheel, ignore_errors=True)
    say("building the project's wheel")
    _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(wheel), str(root)],
         "pip wheel (the project)")
    shutil.rmtree(dest / "feature_repo", ignore_errors=True)
    for path in files_under(root / "feature_repo", excluded=("data",)):
        target = dest / "feature_repo" / path.relative_to(root / "feature_repo")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    shutil.copy2(DOCKER / "entrypoint.sh", dest / "entrypoint.sh")


# ---- Kafka: the broker's Maven jars, the image's scripts and the broker's logging config -----------

def kafka_inputs(version: str) -> bytes:
    poms = [repo() / "services" / "stack" / "kafka" / "pom.xml", DOCKER / "kafka" / "pom.xml"]
    return version.encode() + digest_files([*poms, *files_under(DOCKER / "kafka" / "bin"), log4j_config()], repo())


def stage_kafka(version: str) -> Callable[[Path, Say], None]:
    def stage(dest: Path, say: Say) -> None:
        for folder in ("libs", "bin", "config"):
            shutil.rmtree(dest / folder, ignore_errors=True)
        say(f"resolving Apache Kafka {version}'s jars with Maven")
        copy_dependencies(DOCKER / "kafka" / "pom.xml", version, dest / "libs", lambda _c, message: say(message))
        shutil.copytree(DOCKER / "kafka" / "bin", dest / "bin")
        (dest / "config").mkdir()
        shutil.copy2(log4j_config(), dest / "config" / "log4j2.properties")
    return stage


def no_inputs() -> bytes:
    return b""


def no_stage(dest: Path, say: Say) -> None:
    pass


def contexts(kafka_version: str) -> dict[str, Context]:
    """The build context of every image built with a Dockerfile (the base is imported)."""
    return {
        "python": Context(DOCKER / "python" / "Dockerfile",
                          lambda: (requirements() + constraints()).encode(), stage_python),
        "app": Context(DOCKER / "Dockerfile", lambda: digest_files(app_sources(), repo()), stage_app),
        "kafka": Context(DOCKER / "kafka" / "Dockerfile", lambda: kafka_inputs(kafka_version),
                         stage_kafka(kafka_version)),
        "redis": Context(DOCKER / "redis" / "Dockerfile", no_inputs, no_stage),
    }


def _run(argv: list[str], what: str) -> None:
    done = subprocess.run(argv, capture_output=True, text=True)
    if done.returncode != 0:
        raise ImageError(f"{what} failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}",
                         hint="check that PyPI is reachable (pip's own settings apply)")
