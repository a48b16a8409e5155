"""Fixtures of the chart tests (see helpers.py for what runs and what cannot here)."""

from __future__ import annotations

from typing import Any

import pytest

from .helpers import VALUE_SETS, render


@pytest.fixture(params=sorted(VALUE_SETS))
def rendered(request: pytest.FixtureRequest) -> tuple[str, list[dict[str, Any]]]:
    """(value set name, rendered objects) for each value set."""
    return request.param, render(request.param)
