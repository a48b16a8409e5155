"""What a build does before any engine is involved: which images, in which order, and when an
image counts as unchanged; the Python runtime's wheelhouse for the image's own interpreter."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
import yaml

from mlgameday.config import load_settings
from mlgameday.containers.images import catalogue
from mlgameday.errors import ImageError
from mlgameday.images.build import fingerprint, selection
from mlgameday.images.contexts import constraints, missing_requirements

CHART = Path(__file__).resolve().parents[2] / "helm" / "mlgameday" / "Chart.yaml"


@pytest.fixture
def images(tmp_path: Path):
    return catalogue(load_settings(run_dir=tmp_path / "run"))


def test_every_image_comes_after_the_one_it_starts_from(images) -> None:
    order = list(images)
    assert order[0] == "base"
    for image in images.values():
        if image.parent:
            assert order.index(image.parent) < order.index(image.key)


def test_the_app_image_is_tagged_with_the_charts_app_version(images) -> None:
    assert images["app"].ref == f"mlgameday:{yaml.safe_load(CHART.read_text())['appVersion']}"


def test_the_kafka_image_follows_kafka_version(tmp_path: Path) -> None:
    settings = load_settings(run_dir=tmp_path / "run", kafka={"version": "4.0.0"})
    assert catalogue(settings)["kafka"].ref == "mlgameday-kafka:4.0.0"


def test_selection_adds_every_ancestor_in_order(images) -> None:
    assert [i.key for i in selection(images, ["app"])] == ["base", "python", "app"]
    assert [i.key for i in selection(images, ["redis", "kafka"])] == ["base", "kafka", "redis"]
    assert [i.key for i in selection(images, None)] == list(images)


def test_an_unknown_image_is_named_with_the_known_ones(images) -> None:
    with pytest.raises(ImageError) as error:
        selection(images, ["postgres"])
    assert "unknown image postgres" in str(error.value) and "kafka" in str(error.value.hint)


def test_a_fingerprint_changes_with_any_input() -> None:
    base = fingerprint(b"FROM x", b"inputs", "BASE=a", "sha256:1")
    assert base == fingerprint(b"FROM x", b"inputs", "BASE=a", "sha256:1")
    for changed in [(b"FROM y", b"inputs", "BASE=a", "sha256:1"), (b"FROM x", b"other", "BASE=a", "sha256:1"),
                    (b"FROM x", b"inputs", "BASE=b", "sha256:1"), (b"FROM x", b"inputs", "BASE=a", "sha256:2")]:
        assert fingerprint(*changed) != base
    # Parts are separated: moving bytes from one input to the next is a change too.
    assert fingerprint(b"ab", b"c") != fingerprint(b"a", b"bc")


def test_constraints_pin_the_tested_virtualenv() -> None:
    from importlib.metadata import version

    pins = dict(line.split("==") for line in constraints().splitlines())
    assert pins["kafka-python"] == version("kafka-python")
    assert pins["feast"] == version("feast")
    assert "mlgameday" not in pins and "pip" not in pins


def fake_wheel(folder: Path, name: str, version: str, requires: list[str]) -> None:
    dist = f"{name.replace('-', '_')}-{version}"
    with zipfile.ZipFile(folder / f"{dist}-py3-none-any.whl", "w") as archive:
        meta = [f"Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
        meta += [f"Requires-Dist: {line}" for line in requires]
        archive.writestr(f"{dist}.dist-info/METADATA", "\n".join(meta) + "\n")


def test_missing_requirements_are_judged_for_the_images_python(tmp_path: Path) -> None:
    fake_wheel(tmp_path, "redis", "7.4.1", ['async-timeout>=4.0.3; python_full_version < "3.11.3"'])
    fake_wheel(tmp_path, "feast", "0.67.0", ["redis>=4; extra == 'redis'", "dask; extra == 'dask'", "pyarrow"])
    fake_wheel(tmp_path, "pyarrow", "26.0.1", [])
    roots = ["feast[redis]==0.67.0"]
    # The image's Debian python (3.11.2) needs async-timeout; a newer 3.11 does not. The marker
    # is dropped from what is asked of the host's pip (which would judge it for itself).
    assert missing_requirements(tmp_path, roots, "3.11.2") == ["async-timeout>=4.0.3"]
    assert missing_requirements(tmp_path, roots, "3.11.7") == []
    # Extras count: without [redis], redis is not needed at all; an extra nobody asked for is ignored.
    assert missing_requirements(tmp_path, ["feast==0.67.0"], "3.11.2") == []
    assert missing_requirements(tmp_path, ["feast[dask]"], "3.11.7") == ["dask"]


def test_the_cli_names_an_unknown_image_before_needing_an_engine() -> None:
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "mlgameday", "images", "build", "--only", "postgres"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "ImageError: unknown image postgres" in done.stderr
    assert "base, python, app, kafka, redis" in done.stderr
