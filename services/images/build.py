"""`gameday images build`: every image in order, each skipped while its inputs are unchanged.

An image's fingerprint (a label on it) hashes its Dockerfile, its context's inputs, its build
arguments and its parent's id: a second build with nothing changed takes seconds, a code edit
rebuilds only the app's last layers (the engine's layer cache keeps the rest).
"""

from __future__ import annotations

import hashlib
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from ..config import Settings
from ..containers.engine import Say, can_start_engine, docker_client, install_packages, require_engine
from ..containers.images import Image, catalogue
from ..errors import ImageError
from .base import DPKG_EXCLUDES, IMAGE_CHANGES, INCLUDE, SUITE, build_base_tar, debian_mirror
from .contexts import Context, contexts

FINGERPRINT = "dev.mlgameday.inputs"
MMDEBSTRAP = "mmdebstrap"


@dataclass
class Built:
    image: Image
    ref: str
    image_id: str
    size_bytes: int
    seconds: float
    cached: bool

    def as_dict(self) -> dict:
        return {"image": self.image.key, "ref": self.ref, "id": self.image_id[:19], "size_mb": round(self.size_bytes / 1e6),
                "seconds": round(self.seconds, 1), "cached": self.cached}


def selection(images: dict[str, Image], only: list[str] | None) -> list[Image]:
    """The images to build, parents first: the ones asked for and every image they start FROM."""
    if not only:
        return list(images.values())
    unknown = [key for key in only if key not in images]
    if unknown:
        raise ImageError(f"unknown image {', '.join(unknown)}", hint=f"use one of: {', '.join(images)}")
    wanted: set[str] = set()
    for key in only:
        while key is not None:
            wanted.add(key)
            key = images[key].parent
    return [image for image in images.values() if image.key in wanted]


def fingerprint(*parts: bytes | str) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode() if isinstance(part, str) else part)
        h.update(b"\0")
    return h.hexdigest()[:32]


class Builder:
    def __init__(self, settings: Settings, say: Say) -> None:
        self.settings = settings
        self.say = say
        self.images = catalogue(settings)
        self.contexts = contexts(settings.kafka.version)
        # key -> the ref actually used (the base may be an official image) and its id
        self.refs: dict[str, str] = {}
        self.ids: dict[str, str] = {}

    def build(self, only: list[str] | None = None, force: bool = False, nocache: bool = False) -> list[Built]:
        """force: rebuild though the inputs are unchanged; nocache: and without the engine's layer cache."""
        chosen = selection(self.images, only)  # a typo is reported before anything else
        require_engine("building the images")
        self.nocache = nocache
        force = force or nocache
        self.client = docker_client(timeout_s=600)
        try:
            return [self._build(image, force) for image in chosen]
        finally:
            self.client.close()

    def _build(self, image: Image, force: bool) -> Built:
        start = time.monotonic()
        if image.key == "base":
            ref, cached = self._base(force)
        else:
            ref, cached = image.ref, self._from_dockerfile(image, self.contexts[image.key], force)
        found = self.client.images.get(ref)
        self.refs[image.key], self.ids[image.key] = ref, found.id
        built = Built(image, ref, found.id, found.attrs.get("Size", 0), time.monotonic() - start, cached)
        self.say(f"{image.key}: {ref} {'up to date' if cached else 'built'} "
                 f"({built.size_bytes / 1e6:.0f} MB, {built.seconds:.1f} s)")
        return built

    def _current(self, ref: str):
        import docker.errors

        try:
            return self.client.images.get(ref)
        except docker.errors.ImageNotFound:
            return None

    # ---- the base ------------------------------------------------------------------------------

    def _base(self, force: bool) -> tuple[str, bool]:
        source = self.settings.images.base
        if source != MMDEBSTRAP:
            return source, self._pulled(source)
        image = self.images["base"]
        mirror = debian_mirror()
        fp = fingerprint(SUITE, mirror, ",".join(INCLUDE), ",".join(DPKG_EXCLUDES), *IMAGE_CHANGES)
        current = self._current(image.ref)
        if current is not None and current.labels.get(FINGERPRINT) == fp and not force:
            return image.ref, True
        if can_start_engine() is None and shutil.which("mmdebstrap") is None:
            install_packages(("mmdebstrap",), self.say)
        tar = self.settings.images.build_cache / "base" / f"{SUITE}.tar"
        build_base_tar(mirror, tar, lambda line: self.say(f"base: {line}"))
        self.say(f"base: docker import {tar.name} as {image.ref}")
        try:
            self.client.api.import_image_from_file(str(tar), repository=image.repository, tag=image.tag,
                                                   changes=[*IMAGE_CHANGES, f"LABEL {FINGERPRINT}={fp}"])
        finally:
            tar.unlink(missing_ok=True)
        self._drop(current, image.ref)
        return image.ref, False

    def _pulled(self, ref: str) -> bool:
        """An official base (images.base): used as is when present, pulled otherwise."""
        import docker.errors

        if self._current(ref) is not None:
            return True
        self.say(f"base: pulling {ref}")
        try:
            self.client.images.pull(ref)
        except docker.errors.APIError as exc:
            raise ImageError(f"cannot pull images.base {ref}: {exc.explanation or exc}",
                             hint=f"with no registry reachable, build the base from the apt mirror: "
                                  f"images.base: {MMDEBSTRAP} (the default)") from None
        return False

    # ---- Dockerfile images ---------------------------------------------------------------------

    def _from_dockerfile(self, image: Image, context: Context, force: bool) -> bool:
        """Build unless the image's fingerprint matches; True when it was up to date."""
        buildargs = {"BASE": self.refs[image.parent]} if image.parent else {}
        fp = fingerprint(context.dockerfile.read_bytes(), context.inputs(), repr(sorted(buildargs.items())),
                         self.ids.get(image.parent or "", ""))
        current = self._current(image.ref)
        if current is not None and current.labels.get(FINGERPRINT) == fp and not force:
            return True
        dest = self.settings.images.build_cache / image.key
        dest.mkdir(parents=True, exist_ok=True)
        context.stage(dest, lambda line: self.say(f"{image.key}: {line}"))
        (dest / "Dockerfile").write_bytes(context.dockerfile.read_bytes())
        self._docker_build(image, dest, buildargs, fp)
        self._drop(current, image.ref)
        return False

    def _docker_build(self, image: Image, context_dir: Path, buildargs: dict[str, str], fp: str) -> None:
        self.say(f"{image.key}: docker build {image.ref}")
        tail: list[str] = []
        error = None
        for chunk in self.client.api.build(path=str(context_dir), dockerfile="Dockerfile", tag=image.ref,
                                           buildargs=buildargs, labels={FINGERPRINT: fp}, rm=True,
                                           forcerm=True, pull=False, nocache=self.nocache, decode=True):
            if "error" in chunk:
                error = chunk["error"].strip()
            for line in chunk.get("stream", "").splitlines():
                if line.strip():
                    tail = (tail + [line.rstrip()])[-25:]
                    if line.startswith("Step "):
                        self.say(f"{image.key}: {line[:110]}")
        if error:
            raise ImageError(f"building {image.ref} failed: {error}\n    " + "\n    ".join(tail),
                             hint=f"the staged context is in {context_dir}")

    def _drop(self, previous, ref: str) -> None:
        """Remove the image a rebuild replaced, when nothing else uses it (keeps the disk bounded)."""
        import docker.errors

        if previous is None or previous.id == self.client.images.get(ref).id:
            return
        try:
            self.client.images.remove(previous.id)
        except docker.errors.APIError:
            pass  # still tagged elsewhere or the parent of another image

