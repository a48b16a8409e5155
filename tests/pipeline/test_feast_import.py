"""Feast imported through mlgameday.features: its classes are not re-instrumented by typeguard (seconds of
every store opening), and typeguard is left as it was for everything else in the process."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import typeguard
checked = typeguard.typechecked
import mlgameday.features
import feast.feature_view, feast.entity, feast.feature_service
names = set(feast.feature_view.FeatureView.__init__.__code__.co_names)
names |= set(feast.feature_service.FeatureService.__init__.__code__.co_names)
print("instrumented" if any("check_argument_types" in n for n in names) else "plain")
print("restored" if typeguard.typechecked is checked else "patched")
"""


def _probe(code: str) -> list[str]:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_feast_through_the_features_package_is_not_instrumented_and_typeguard_is_restored() -> None:
    assert _probe(PROBE) == ["plain", "restored"]


def test_feast_imported_directly_is_instrumented() -> None:
    # The check above can fail: Feast on its own does instrument its classes.
    direct = PROBE.replace("import mlgameday.features\n", "")
    assert _probe(direct) == ["instrumented", "restored"]
