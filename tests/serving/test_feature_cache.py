"""The zone-feature cache of serving against the real Feast online store: kept fresh ahead of expiry
(requests do not wait for reads), and a background read slower than the timeout is never used."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timezone

import pytest

from mlgameday.features.online import push_online, rows_frame
from mlgameday.serving.features import ZoneFeatureReader
from mlgameday.contracts.knobs import ServingFaults

pytestmark = pytest.mark.integration  # needs a real broker / server

ZONE = 7


def push_speed(store, speed: float) -> None:
    now = datetime.now(timezone.utc)
    push_online(store, rows_frame([(ZONE, 4, 3, speed, now, now)]))


def test_cached_zones_are_refreshed_ahead_so_requests_see_new_values_without_reading(store):
    push_speed(store, 11.5)

    async def scenario() -> tuple[ZoneFeatureReader, list[float]]:
        reader = ZoneFeatureReader(store, cache_ms=400, faults=ServingFaults)
        seen = []
        try:
            first = await reader.lookup([ZONE])
            seen.append(first[ZONE].values["mean_speed_30m"])
            pushed = False
            deadline = time.monotonic() + 2.5
            while time.monotonic() < deadline:
                if not pushed and time.monotonic() > deadline - 1.5:
                    push_speed(store, 22.5)
                    pushed = True
                seen.append((await reader.lookup([ZONE]))[ZONE].values["mean_speed_30m"])
                await asyncio.sleep(0.02)
        finally:
            reader.close()
        return reader, seen

    reader, seen = asyncio.run(scenario())
    assert seen[0] == pytest.approx(11.5) and seen[-1] == pytest.approx(22.5)
    # 2.5 s with a 400 ms cache: without the refresh ~6 requests would have read; with it, the first one
    # (a stalled event loop on a busy machine may let one entry expire).
    assert reader.request_reads <= 2, reader.request_reads
    assert reader.reads - reader.request_reads >= 4


def test_a_refresh_slower_than_the_timeout_is_not_used(store):
    push_speed(store, 13.0)
    faults = [ServingFaults()]

    async def scenario():
        reader = ZoneFeatureReader(store, cache_ms=200, faults=lambda: faults[0])
        try:
            assert (await reader.lookup([ZONE]))[ZONE].problem is None
            faults[0] = ServingFaults(feature_latency_ms=400, feature_timeout_ms=50)
            await asyncio.sleep(0.5)  # refreshes ran and were too slow: the entry expired
            started = time.monotonic()
            late = (await reader.lookup([ZONE]))[ZONE]
            return late, time.monotonic() - started
        finally:
            reader.close()

    late, waited_s = asyncio.run(scenario())
    assert late.problem == "timeout" and late.missing == ["requests_15m", "completed_30m", "mean_speed_30m"]
    assert waited_s < 0.3


def test_zones_nobody_asks_for_are_left_to_expire(store):
    async def scenario() -> tuple[int, int, int]:
        reader = ZoneFeatureReader(store, cache_ms=100, faults=ServingFaults)
        try:
            await reader.lookup([ZONE])
            await asyncio.sleep(0.5)
            warm = reader.reads  # refreshed while in use (asked for within KEEP_WARM_PERIODS × 100 ms)
            await asyncio.sleep(2.5)
            settled = reader.reads
            await asyncio.sleep(0.6)
            return warm, settled, reader.reads
        finally:
            reader.close()

    warm, settled, later = asyncio.run(scenario())
    assert warm >= 3          # kept warm at first
    assert later == settled   # then no more reads for a zone nobody asks for
