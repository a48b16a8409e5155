"""Zone features for serving: Feast online reads with a short cache kept fresh ahead of expiry, fault knobs and a timeout.

Each zone's online row is reused for `serving.feature_cache_ms` (the features change
at most every ingest batch, and the Feast SDK costs ~60 µs of Python per zone read).
While the cache is on, a background task re-reads the zones in use before their entries
expire, a few dozen zones per online read, so requests find their zones in memory
instead of paying for a read. A request reads inline only for a zone it is the first
to ask for, or whose entry expired (the store is slow or down, or the cache is off).

A read runs on a small thread pool when a fault knob is set, so a slow store
(`feature_latency_ms`) can be cut off (`feature_timeout_ms`): the request then uses the
model's fallback and is flagged, and the late read still fills the cache when it lands.
A background refresh slower than the timeout is dropped instead: its entries expire and
the requests see the slow store themselves.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Iterable

from ..contracts import ZONE_FEATURES
from ..features.online import ZoneFeatures, read_zone_features
from ..contracts.knobs import ServingFaults

log = logging.getLogger("serving")

# Zones per background read (~1 ms of Python), and a pause between reads: a refresh of every zone
# is spread out, so a request arriving meanwhile waits for one small read at most.
REFRESH_CHUNK = 16
REFRESH_PAUSE_S = 0.002
# An entry is re-read once it has lived this share of the cache period (checked every 1/8 of it):
# late enough to read each zone about once per period, early enough to beat the expiry.
REFRESH_AT = 0.7
# Zones nobody asked for in this many cache periods are left to expire instead of being re-read.
KEEP_WARM_PERIODS = 20


@dataclass(frozen=True)
class ZoneLookup:
    """What serving knows about one zone's features for one request."""

    values: dict[str, float | None]
    event_time: datetime | None
    # "timeout": the read was slower than feature_timeout_ms; "unavailable": it failed.
    problem: str | None = None
    # Derived once per read, used by every request that reuses it: the values in ZONE_FEATURES
    # order (NaN where missing) and the names of the missing ones.
    vector: tuple[float, ...] = field(init=False, repr=False)
    missing: list[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        values = [self.values.get(name) for name in ZONE_FEATURES]
        object.__setattr__(self, "vector", tuple(math.nan if v is None else v for v in values))
        object.__setattr__(self, "missing", [name for name, v in zip(ZONE_FEATURES, values) if v is None])

    def age_s(self, now: datetime) -> float | None:
        return None if self.event_time is None else max((now - self.event_time).total_seconds(), 0.0)


def _without_features(problem: str) -> ZoneLookup:
    return ZoneLookup(values={name: None for name in ZONE_FEATURES}, event_time=None, problem=problem)


TIMED_OUT, UNAVAILABLE = _without_features("timeout"), _without_features("unavailable")


class ZoneFeatureReader:
    """Reads zone features from the Feast online store for the service's requests."""

    def __init__(self, store: object, cache_ms: float, faults: Callable[[], ServingFaults],
                 read: Callable[[object, Iterable[int]], dict[int, ZoneFeatures]] = read_zone_features) -> None:
        self._store = store
        self._cache_s = cache_ms / 1000
        self._faults = faults
        self._read = read
        # zone -> (monotonic time the read started, lookup)
        self._cache: dict[int, tuple[float, ZoneLookup]] = {}
        self._asked: dict[int, float] = {}  # zone -> last time a request asked for it
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="feature-read")
        self._refresher: asyncio.Task | None = None
        self.reads = 0          # online reads, all paths
        self.request_reads = 0  # ... of them made while a request waited (cache miss or expired entry)
        self.read_errors = 0

    def _fetch(self, zones: list[int]) -> dict[int, ZoneLookup]:
        """One online read; the fault latency is added here."""
        delay_ms = self._faults().feature_latency_ms
        if delay_ms:
            time.sleep(delay_ms / 1000)
        read = self._read(self._store, zones)
        self.reads += 1
        return {zone: ZoneLookup(values=dict(found.values), event_time=found.event_time) if (found := read.get(zone))
                else ZoneLookup(values={n: None for n in ZONE_FEATURES}, event_time=None) for zone in zones}

    def _remember(self, lookups: dict[int, ZoneLookup], read_at: float) -> dict[int, ZoneLookup]:
        for zone, lookup in lookups.items():
            self._cache[zone] = (read_at, lookup)
        return lookups

    async def lookup(self, zones: Iterable[int]) -> dict[int, ZoneLookup]:
        """Features per zone: from the cache when fresh enough, otherwise one online read for all misses."""
        now = time.monotonic()
        result: dict[int, ZoneLookup] = {}
        misses = []
        for zone in zones:
            self._asked[zone] = now
            cached = self._cache.get(zone)
            if cached is not None and now - cached[0] < self._cache_s:
                result[zone] = cached[1]
            else:
                misses.append(zone)
        if misses:
            result.update(await self._read_with_timeout(misses))
        if self._refresher is None and self._cache_s > 0:
            self._refresher = asyncio.get_running_loop().create_task(self._keep_fresh(), name="feature-refresh")
        return result

    async def _read_with_timeout(self, zones: list[int]) -> dict[int, ZoneLookup]:
        self.request_reads += 1
        faults = self._faults()
        read_at = time.monotonic()
        if faults.feature_timeout_ms is None and not faults.feature_latency_ms:
            # No timeout to enforce: read inline (the hop to a pool thread and back costs about a read).
            try:
                return self._remember(self._fetch(zones), read_at)
            except Exception:
                self.read_errors += 1
                return {zone: UNAVAILABLE for zone in zones}
        future = asyncio.wrap_future(self._pool.submit(lambda: self._remember(self._fetch(zones), read_at)))
        timeout_ms = faults.feature_timeout_ms
        try:
            if timeout_ms is None:
                return await future
            # shield: a late read is not cancelled; it still refreshes the cache.
            return await asyncio.wait_for(asyncio.shield(future), timeout_ms / 1000)
        except asyncio.TimeoutError:
            return {zone: TIMED_OUT for zone in zones}
        except Exception:
            # The store is down or broken: serve with the fallback (flagged), never a 5xx.
            self.read_errors += 1
            return {zone: UNAVAILABLE for zone in zones}

    async def _keep_fresh(self) -> None:
        """Re-read the zones in use before their entries expire, so requests rarely wait for a read."""
        while True:
            await asyncio.sleep(self._cache_s / 8)
            now = time.monotonic()
            in_use_since = now - KEEP_WARM_PERIODS * self._cache_s
            due = [zone for zone, (read_at, _) in list(self._cache.items())  # a pool thread may add zones
                   if now - read_at >= REFRESH_AT * self._cache_s and self._asked.get(zone, 0) >= in_use_since]
            for start in range(0, len(due), REFRESH_CHUNK):
                try:
                    await self._refresh(due[start:start + REFRESH_CHUNK])
                except Exception as exc:  # the store is down: entries expire, requests fall back (flagged)
                    self.read_errors += 1
                    log.debug("feature refresh failed: %s", exc)
                    break
                await asyncio.sleep(REFRESH_PAUSE_S)

    async def _refresh(self, zones: list[int]) -> None:
        faults = self._faults()
        read_at = time.monotonic()
        if faults.feature_timeout_ms is None and not faults.feature_latency_ms:
            self._remember(self._fetch(zones), read_at)
            return
        future = asyncio.wrap_future(self._pool.submit(self._fetch, zones))
        try:
            timeout_s = None if faults.feature_timeout_ms is None else faults.feature_timeout_ms / 1000
            self._remember(await asyncio.wait_for(future, timeout_s), read_at)
        except asyncio.TimeoutError:
            pass  # slower than the timeout: not used; the entries expire and requests see the slow store

    def close(self) -> None:
        if self._refresher is not None:
            self._refresher.cancel()
        self._pool.shutdown(wait=False, cancel_futures=True)
