"""What ingest has made of the events it met, read from the running process (for `gameday status`).

Never silent: late events (older than their zone's window) and events refused by the event-time
policy are counted by ingest; this is how they reach the user besides /metrics.
"""

from __future__ import annotations

import httpx

from ..config import Settings
from ..stack.endpoints import service_url


def ingest_totals(settings: Settings) -> dict[str, int] | None:
    """Events by outcome since ingest's state began (kept across restarts by its checkpoint),
    or None when no ingest answers."""
    url = service_url(settings, "ingest")
    if not url:
        return None
    try:
        return httpx.get(f"{url}/status", timeout=2.0).json().get("totals")
    except (httpx.HTTPError, ValueError):
        return None


def describe_totals(totals: dict[str, int]) -> str:
    """One line: received, then what became of them (late and refused ones named, with what they mean)."""
    parts = [f"written {totals.get('written', 0):,}"]
    if totals.get("late"):
        parts.append(f"late {totals['late']:,} (older than their zone's window: counted, no feature changed)")
    if totals.get("duplicate"):
        parts.append(f"duplicate {totals['duplicate']:,}")
    if totals.get("dead_lettered"):
        ahead = f", {totals['ahead']:,} of them ahead of the clock" if totals.get("ahead") else ""
        parts.append(f"dead-lettered {totals['dead_lettered']:,}{ahead} (reasons on the dlq topic)")
    return f"ingest: received {totals.get('received', 0):,} events — " + " · ".join(parts)
