"""`gameday dlq tail` and `gameday dlq stats`: what is on the dead-letter topic, by reason, source,
consumer and time — and whether it agrees with what each consumer says it dead-lettered.

Ingest keeps its count in its checkpoint (it survives restarts): the topic must hold exactly that many
distinct letters from ingest's group. The monitor counts in its metrics since it started: the topic's
letters from the monitor since that moment must match it. A letter a consumer sent again after a
restart (same record read again) has the same id, so letters are counted by id.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

import httpx

from ..config import Settings
from ..contracts import LETTERS_COUNTED, DeadLetter, reason_kind
from ..stack.endpoints import service_url
from .read import Progress, open_consumer, parse_letter, partitions, read_range

MONITOR_CONSUMER = "monitor"  # monitor/service.py CONSUMER_NAME: the consumer its letters name
BUCKET_S = 60


@dataclass
class Agreement:
    """One consumer's letters on the topic against its own count."""

    consumer: str
    on_topic: int
    counted: int | None
    source: str  # where `counted` comes from

    @property
    def agrees(self) -> bool | None:
        return None if self.counted is None else self.on_topic == self.counted


@dataclass
class DlqStats:
    total: int = 0
    distinct: int = 0
    by_consumer: Counter = field(default_factory=Counter)
    by_reason: Counter = field(default_factory=Counter)
    by_consumer_reason: Counter = field(default_factory=Counter)  # (consumer, reason kind) -> letters
    by_source: Counter = field(default_factory=Counter)
    by_minute: Counter = field(default_factory=Counter)  # bucket start (epoch s) -> letters
    not_letters: int = 0
    since: float | None = None
    agreement: list[Agreement] = field(default_factory=list)

    def reasons_by_consumer(self) -> dict[str, dict[str, int]]:
        """{consumer: {reason kind: letters}}: what each consumer's metric and log summaries count."""
        found: dict[str, dict[str, int]] = {}
        for (consumer, reason), count in sorted(self.by_consumer_reason.items()):
            found.setdefault(consumer, {})[reason] = count
        return found

    def as_dict(self) -> dict[str, Any]:
        return {"total": self.total, "distinct": self.distinct, "not_letters": self.not_letters,
                "since": self.since, "by_consumer": dict(self.by_consumer), "by_reason": dict(self.by_reason),
                "by_source": dict(self.by_source), "counted": LETTERS_COUNTED,
                "by_consumer_reason": self.reasons_by_consumer(),
                "by_minute": {_iso(t): n for t, n in sorted(self.by_minute.items())},
                "agreement": [{**a.__dict__, "agrees": a.agrees} for a in self.agreement]}


def read_letters(settings: Settings, *, timeout_s: float = 120.0,
                 progress: Callable[[Progress], None] | None = None) -> list[tuple[Any, DeadLetter | None]]:
    """Every record of the dlq topic up to its end now: (record, letter or None when it is not one)."""
    consumer = open_consumer(settings)
    try:
        parts = partitions(consumer, settings.topics.dlq)
        starts = consumer.beginning_offsets(parts)
        ends = consumer.end_offsets(parts)
        return [(r, parse_letter(r.value)) for r in read_range(consumer, starts, ends, timeout_s=timeout_s,
                                                               progress=progress)]
    finally:
        consumer.close()


def tail(settings: Settings, last: int = 20) -> list[DeadLetter]:
    """The newest `last` letters, oldest first (read from the end of each partition only)."""
    consumer = open_consumer(settings)
    try:
        parts = partitions(consumer, settings.topics.dlq)
        ends = consumer.end_offsets(parts)
        beginnings = consumer.beginning_offsets(parts)
        starts = {tp: max(beginnings[tp], ends[tp] - last) for tp in parts}
        letters = [letter for r in read_range(consumer, starts, ends, timeout_s=30)
                   if (letter := parse_letter(r.value)) is not None]
    finally:
        consumer.close()
    return sorted(letters, key=lambda letter: letter.event_time)[-last:]


def stats(settings: Settings, since_s: float | None = None, timeout_s: float = 120.0,
          progress: Callable[[Progress], None] | None = None) -> DlqStats:
    """The topic's letters (those of the last `since_s` seconds, or all), tallied; and each consumer's
    letters checked against its own count."""
    records = read_letters(settings, timeout_s=timeout_s, progress=progress)
    result = DlqStats(since=None if since_s is None else time.time() - since_s)
    seen: set[str] = set()
    for _, letter in records:
        if letter is None:
            result.not_letters += 1
            continue
        at = letter.event_time.timestamp()
        if result.since is not None and at < result.since:
            continue
        result.total += 1
        if letter.event_id in seen:
            continue
        seen.add(letter.event_id)
        result.distinct += 1
        result.by_consumer[letter.consumer] += 1
        kind = reason_kind(letter.reason)
        result.by_reason[kind] += 1
        result.by_consumer_reason[letter.consumer, kind] += 1
        result.by_source[letter.source_topic] += 1
        result.by_minute[int(at // BUCKET_S * BUCKET_S)] += 1
    result.agreement = agreement(settings, [letter for _, letter in records if letter is not None])
    return result


def agreement(settings: Settings, letters: list[DeadLetter]) -> list[Agreement]:
    """Ingest's letters against its checkpointed total; the monitor's since it started against its metric."""
    checks = []
    ingest_ids = {letter.event_id for letter in letters if letter.consumer == settings.ingest.group_id}
    checks.append(Agreement(settings.ingest.group_id, len(ingest_ids), _ingest_total(settings),
                            "ingest's totals (its checkpoint: kept across restarts)"))
    started, counted = monitor_count(settings)
    if started is not None:
        monitor_ids = {letter.event_id for letter in letters
                       if letter.consumer == MONITOR_CONSUMER and letter.event_time.timestamp() >= started}
        checks.append(Agreement(MONITOR_CONSUMER, len(monitor_ids), counted,
                                f"the monitor's metrics (since it started, {_iso(started)})"))
    return checks


def _ingest_total(settings: Settings) -> int | None:
    from ..ingest.status import ingest_totals

    totals = ingest_totals(settings)
    return None if not totals else int(totals.get("dead_lettered", 0))


def monitor_count(settings: Settings) -> tuple[float | None, int | None]:
    """(when the monitor process started, the letters it sent since), from its /status (None, None when
    no monitor answers)."""
    url = service_url(settings, "monitor", running=True)
    if url is None:
        return None, None
    try:
        status = httpx.get(f"{url}/status", timeout=3.0).json()
    except (httpx.HTTPError, ValueError):
        return None, None
    return status.get("started_at"), status.get("dead_lettered")


def _iso(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
