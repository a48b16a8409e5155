"""Human units in scenario files: durations ("40s", "2m", "1m30s", "250ms") and rates ("20/s")."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_UNIT_S = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(value: Any) -> float:
    """Seconds from a number (already seconds) or a string like "90s", "1m30s", "250ms"."""
    if isinstance(value, bool):
        raise ValueError(f"expected a duration like 40s or 2m, got {value!r}")
    if isinstance(value, (int, float)):
        if value < 0:
            raise ValueError(f"a duration cannot be negative (got {value})")
        return float(value)
    if isinstance(value, str):
        text = value.strip().replace(" ", "")
        parts = _DURATION_PART.findall(text)
        if parts and "".join(n + u for n, u in parts) == text:
            return sum(float(n) * _UNIT_S[u] for n, u in parts)
    raise ValueError(f"expected a duration like 40s, 2m, 1m30s or 250ms, got {value!r}")


def parse_rate(value: Any) -> float:
    """Events per second from a number or a string like "20/s" or "1200/m"."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return float(value)
    if isinstance(value, str):
        match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*/\s*(s|m)\s*", value)
        if match and float(match.group(1)) > 0:
            return float(match.group(1)) / (1.0 if match.group(2) == "s" else 60.0)
    raise ValueError(f"expected a positive rate like 20/s or 600/m, got {value!r}")


def format_duration(seconds: float) -> str:
    """90 -> "1m30s", 40 -> "40s", 0.25 -> "250ms"."""
    if 0 < seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    minutes, secs = divmod(round(seconds), 60)
    if not minutes:
        return f"{secs}s"
    return f"{minutes}m{secs}s" if secs else f"{minutes}m"


Duration = Annotated[float, BeforeValidator(parse_duration)]
Rate = Annotated[float, BeforeValidator(parse_rate)]
