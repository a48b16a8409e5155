"""The ingest loop: poll a batch → validate → windows → one online row per affected zone →
(buffered) offline history and labels → checkpoint → commit offsets.

Delivery: offsets are committed only after the rows are written and the checkpoint
(state + offsets) is saved; a restart resumes from the checkpoint, replaying events after
it onto the state they first met, so online features end exactly as without the crash.
A checkpoint is taken every `ingest.checkpoint_interval_s`, one per partition number
(shard.py, checkpoint.py: the state follows its partition, so replicas in one group end with
the features one process computes); offline/labels part files written after the last
checkpoint of a killed process are deleted when its partition is next assigned.
Event-time alignment: a partition that has read more than ALIGN_S of event time ahead of a
partition still behind is paused until the others catch up, so a backfill (both topics full of
history) is read in event-time order across topics, not one topic hours ahead of the other
(which would make labels arrive "late" and undercount completed_30m in the history).
Bad events go to the dlq topic with the reason and the original bytes (bounded: see
contracts.dead_letter_of); redelivered events (an event_id already seen) are counted and
change nothing. A dead letter the broker did not take stops ingest before the checkpoint:
the offsets of its event are not committed, so a restart reads it (and sends its letter) again.
Event-time policy (ingest.max_ahead_s): an event stamped too far past ingest's clock is
dead-lettered, never applied; one older than its zone's window is counted `late`.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass
from operator import itemgetter
from datetime import datetime, timezone
from typing import Callable, Literal

import numpy as np
from feast import FeatureStore
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.coordinator.assignors.range import RangePartitionAssignor
from kafka.consumer.subscription_state import ConsumerRebalanceListener
from kafka.structs import OffsetAndMetadata
from pydantic import BaseModel, ConfigDict

from ..config import Settings
from ..contracts import ID_MAX_LENGTH, EventRejected, TripCompleted, TripRequested, dead_letter_of
from ..errors import GamedayError
from ..features.offline import drop_parts_after
from ..features.online import push_online
from ..features.store import labels_dir, offline_dir, open_store
from ..producer.sink import resolve_bootstrap
from ..runtime.admin_http import Knobs
from ..runtime.kafka import kafka_options
from ..runtime.logs import log_event
from . import checkpoint as ckpt
from .decode import EventDecoder
from .frames import zone_rows_frame
from .metrics import IngestMetrics
from .shard import Shard, merged_windows
from .windows import ZoneWindows, speed_micro_mph

log = logging.getLogger("ingest")
KMH_PER_MPH = 1.609344
ALIGN_S = 60.0
FETCH_MAX_BYTES = 16 * 1024 * 1024  # per fetch response: ~50k events, ten polls' worth


class DeadLetterError(GamedayError):
    kind = "DeadLetterError"


class IngestFaults(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # The units bug: online mean_speed_30m written in km/h (offline history stays in mph).
    speed_unit: Literal["mph", "kmh"] = "mph"


@dataclass
class BatchResult:
    received: int
    written: int
    dead_lettered: int  # ahead ones included
    duplicates: int
    late: int
    ahead: int          # dead-lettered: event time too far past ingest's clock
    rows: int
    latency_s: float
    freshness_s: np.ndarray  # per written event: online write time - event time


def _epoch(moment: datetime) -> float:
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).timestamp()


class IngestPipeline:
    def __init__(self, settings: Settings, *, store: FeatureStore | None = None,
                 knobs: Knobs | None = None, metrics: IngestMetrics | None = None,
                 on_batch: Callable[[BatchResult], None] | None = None) -> None:
        self.settings = settings
        self.cfg = settings.ingest
        self.store = store
        self.knobs = knobs or Knobs(IngestFaults)
        self.metrics = metrics or IngestMetrics()
        self.on_batch = on_batch
        # This process's name in the partitions' owner files (checkpoint.claim).
        self.token = uuid.uuid4().hex
        self.shards: dict[int, Shard] = {}   # partition number -> its state, for the partitions assigned
        self.consumer: KafkaConsumer | None = None
        self.dlq: KafkaProducer | None = None
        self.assigned: set[TopicPartition] = set()
        self._decoders = {self.cfg.requested_topic: EventDecoder(TripRequested), self.cfg.completed_topic: EventDecoder(TripCompleted)}
        self.started = False
        self._last_checkpoint = time.monotonic()
        self._read_until: dict[TopicPartition, float] = {}  # latest event time applied, per partition
        self._next_time: dict[TopicPartition, float] = {}   # time of the first record held back
        self._held: dict[TopicPartition, list] = {}         # parsed records held back (not applied yet)
        # Dead letters sent since the last checkpoint: (record, future), checked before it.
        self._letters: list[tuple] = []
        # Set when a batch or a checkpoint failed half-way: the state is then not checkpointed again.
        self._broken = False

    # ---- lifecycle -------------------------------------------------------------------------

    def start(self) -> "IngestPipeline":
        """Open the store, restore the checkpoint, join the consumer group."""
        if self.store is None:
            self.store = open_store(self.settings)
        self._forget_stale_checkpoint()
        bootstrap = resolve_bootstrap(self.settings)
        self.consumer = KafkaConsumer(bootstrap_servers=bootstrap, **self.consumer_options())
        self.consumer.subscribe([self.cfg.requested_topic, self.cfg.completed_topic], listener=_Rebalance(self))
        self.dlq = KafkaProducer(bootstrap_servers=bootstrap, client_id="gameday-ingest-dlq", acks="all", linger_ms=5,
                                 **kafka_options(self.settings.kafka))
        self.started = True
        return self

    def consumer_options(self) -> dict:
        """The Kafka consumer's settings (besides the broker address)."""
        return dict(
            **kafka_options(self.settings.kafka),
            group_id=self.cfg.group_id, client_id=f"gameday-ingest-{self.cfg.group_id}",
            # Partition p of both topics to the same member: a shard's state needs both (checkpoint.py).
            partition_assignment_strategy=(RangePartitionAssignor,),
            enable_auto_commit=False, auto_offset_reset="earliest",
            max_poll_records=self.cfg.max_poll_records, fetch_max_bytes=FETCH_MAX_BYTES,
            max_partition_fetch_bytes=4 * 1024 * 1024,
            # A fetch response must fit the client's frame limit (default 1 MB: a backlog's first
            # fetch was refused as "Invalid frame length" and the connection reset).
            receive_message_max_bytes=FETCH_MAX_BYTES + 1024 * 1024, fetch_min_bytes=max(1, self.cfg.fetch_min_kb * 1024),
            fetch_max_wait_ms=self.cfg.fetch_wait_ms, session_timeout_ms=10_000, heartbeat_interval_ms=3_000,
            # Record batches are CRC-checked natively (the pinned crc32c package; kafka-python's pure
            # Python fallback would cost ~30% of ingest CPU).
            check_crcs=True,
        )

    def _forget_stale_checkpoint(self) -> None:
        """A checkpoint of format 1 (every partition in one file) and its unsharded parts are
        replaced by reading the topics from the start (the features are a function of the events)."""
        stale = ckpt.stale_checkpoint(self.settings)
        if stale.is_file():
            removed = drop_parts_after(offline_dir(self.settings), 0) + drop_parts_after(labels_dir(self.settings), 0)
            stale.unlink()
            log_event(log, "checkpoint of an earlier format: reading the topics from the start", path=str(stale),
                      parts_removed=len(removed))

    @property
    def ready(self) -> bool:
        return self.started and bool(self.assigned)

    # The state of the shards assigned, read as one (status, tests, the history job).
    @property
    def offsets(self) -> dict[tuple[str, int], int]:
        return {key: offset for shard in self.shards.values() for key, offset in shard.offsets.items()}

    @property
    def totals(self) -> dict[str, int]:
        return _sum_totals(self.shards)

    @property
    def windows(self) -> ZoneWindows:
        return merged_windows(self.shards)

    def _shard(self, partition: int) -> Shard:
        shard = self.shards.get(partition)
        if shard is None:
            ckpt.claim(self.settings, partition, self.token)
            capacity = max(1, self.cfg.dedup_capacity // max(1, self.settings.kafka.partitions))
            shard = self.shards[partition] = Shard.restore(self.settings, partition, capacity)
        return shard

    def run(self, stopping: threading.Event, max_seconds: float | None = None) -> None:
        """Poll until stopped; a final checkpoint on the way out."""
        deadline = time.monotonic() + max_seconds if max_seconds else None
        try:
            while not stopping.is_set() and (deadline is None or time.monotonic() < deadline):
                self.poll_once()
        finally:
            self.close()

    def close(self) -> None:
        if self.consumer is None:
            return
        try:
            if not self._broken:  # a half-applied batch (or a lost dead letter) is never committed
                self.checkpoint(force=True)
        finally:
            self.consumer.close(autocommit=False)
            self.consumer = None
            if self.dlq is not None:
                self.dlq.close(timeout=5)

    # ---- one batch -------------------------------------------------------------------------

    def poll_once(self) -> BatchResult | None:
        assert self.consumer is not None, "start() first"
        try:
            polled = self.consumer.poll(timeout_ms=self.cfg.poll_timeout_ms, max_records=self.cfg.max_poll_records)
            result = self._process(polled) if polled or self._held else None
            self._update_lag()
            self._align()
            if time.monotonic() - self._last_checkpoint >= self.cfg.checkpoint_interval_s:
                self.checkpoint()
        except BaseException:
            self._broken = True
            raise
        return result

    def _parse(self, polled: dict) -> dict:
        """Per partition, in offset order: (position, record, event or None, reason or None, event time).
        The position is the latest valid event time read so far in the partition. A rejected event
        has time 0, except one refused by the event-time policy: it keeps its time (counted `ahead`)."""
        parsed = {}
        now = time.time()
        horizon = now + self.cfg.max_ahead_s
        completed_topic = self.cfg.completed_topic
        for tp, records in polled.items():
            decode = self._decoders[tp.topic].decode
            labels = tp.topic == completed_topic
            position = self._read_until.get(tp, float("-inf"))
            items = []
            append = items.append
            for record in records:
                if record.value is None:
                    append((position, record, None, "empty value (tombstone)", 0.0))
                    continue
                try:
                    event = decode(record.value)
                except EventRejected as exc:
                    append((position, record, None, exc.reason, 0.0))
                    continue
                t = _epoch(event.event_time)
                if t > horizon or (labels and _later(event.pickup_time, event.event_time)):
                    append((position, record, None, self._time_policy_reason(event, t, now), t))
                    continue
                if t > position:
                    position = t
                append((position, record, event, None, t))
            parsed[tp] = items
        return parsed

    def _time_policy_reason(self, event, t: float, now: float) -> str:
        if t > now + self.cfg.max_ahead_s:
            return (f"event_time {_iso(t)} is {t - now:,.0f} s ahead of ingest's clock ({_iso(now)}); "
                    f"events more than ingest.max_ahead_s = {self.cfg.max_ahead_s:g} s ahead are refused "
                    "(check the sender's clock)")
        return f"pickup_time {_iso(_epoch(event.pickup_time))} is after event_time {_iso(t)} (the dropoff)"

    def _limit(self, parsed: dict) -> float:
        """Event time up to which this batch may be applied: ALIGN_S past the slowest partition
        that still has records to read (in this batch's view)."""
        slowest = []
        for tp in self.assigned:
            items = parsed.get(tp)
            if items:
                high = self.consumer.highwater(tp)
                if high is not None and high > items[-1][1].offset + 1:
                    slowest.append(items[-1][0])
            elif self._behind(tp):
                slowest.append(self._time_of(tp))
        return min(slowest) + ALIGN_S if slowest else float("inf")

    def _process(self, polled: dict) -> BatchResult:
        started = time.perf_counter()
        m = self.metrics
        parsed = self._parse(polled)
        for tp, items in self._held.items():
            parsed[tp] = items + parsed.get(tp, [])
        self._held = {}
        limit = self._limit(parsed)
        queue = []
        received: Counter = Counter()   # (topic, partition) -> records taken from the batch
        # Partitions in (topic, partition) order, each in offset order; the stable sort by position
        # then applies in event-time order, ties in that order (deterministic, whatever the poll order).
        for tp in sorted(parsed, key=lambda tp: (tp.topic, tp.partition)):
            items = parsed[tp]
            # Positions never decrease within a partition: the records up to the limit are a prefix.
            take = len(items) if items[-1][0] <= limit else bisect_right(items, limit, key=itemgetter(0))
            if take < len(items):
                # Too far ahead of a slower partition: hold these back (the partition is paused, see _align).
                self._held[tp] = items[take:]
                self._next_time[tp] = items[take][0]
            else:
                self._next_time.pop(tp, None)
            if take:
                position, record = items[take - 1][:2]
                shard = self._shard(tp.partition)
                shard.offsets[(tp.topic, tp.partition)] = record.offset + 1
                shard.dirty = True
                self._read_until[tp] = position
                received[tp] = take
                queue.extend(items[:take] if take < len(items) else items)
        queue.sort(key=itemgetter(0))
        affected: set[tuple[int, int]] = set()   # (partition, zone)
        event_times: list[float] = []
        # Per (topic, partition); rare outcomes (a valid event on the hot path costs no dict update:
        # written = received - dead-lettered - duplicate - late).
        dead, ahead, dups, late = Counter(), Counter(), Counter(), Counter()
        requested_topic = self.cfg.requested_topic
        shards = self.shards
        for _, record, event, reason, t in queue:
            where = (record.topic, record.partition)
            if event is None:
                self._dead_letter(record, reason)
                dead[where] += 1
                if t:
                    ahead[where] += 1
                continue
            shard = shards[record.partition]
            if not shard.seen.add(event.event_id):
                dups[where] += 1
                continue
            window = shard.windows.zone(event.pickup_zone)
            if record.topic == requested_topic:
                counted = window.add_request(t)
            else:
                counted = window.add_completion(t, speed_micro_mph(event.trip_distance, event.duration_s))
                shard.labels.append(_label_row(event, t))
            if counted:
                affected.add((record.partition, event.pickup_zone))
                event_times.append(t)
            else:
                late[where] += 1
        written = Counter({where: count - dead[where] - dups[where] - late[where] for where, count in received.items()})
        outcomes = {"received": received, "written": written, "dead_lettered": dead, "ahead": ahead,
                    "duplicate": dups, "late": late}
        for outcome, by_place in outcomes.items():
            for (topic, partition), count in by_place.items():
                if count:
                    m.events.labels(topic, outcome).inc(count)
                    shards[partition].totals[outcome] += count

        now = time.time()
        rows = []
        for partition, z in sorted(affected, key=itemgetter(1)):
            window = shards[partition].windows.zones[z]
            row = (z, *window.features(), window.clock, now)
            rows.append(row)
            shards[partition].offline_rows.append(row)
        if rows:
            self._write_online(rows)
        written_at = time.time()
        freshness = written_at - np.asarray(event_times) if event_times else np.empty(0)
        m.freshness.observe_many(freshness)
        latency = time.perf_counter() - started
        m.batch_latency.observe(latency)
        m.rows.inc(len(rows))
        result = BatchResult(len(queue), len(event_times), dead.total(), dups.total(), late.total(), ahead.total(),
                             len(rows), latency, freshness)
        if self.on_batch:
            self.on_batch(result)
        return result

    def _write_online(self, rows: list[tuple]) -> None:
        frame = zone_rows_frame(rows)
        if self.knobs.value.speed_unit == "kmh":
            frame["mean_speed_30m"] = frame["mean_speed_30m"] * KMH_PER_MPH
        for attempt in range(5):
            try:
                push_online(self.store, frame)
                break
            except Exception as exc:  # the online store is briefly away: retry, then crash (the checkpoint replays)
                if attempt == 4:
                    raise
                log.warning("online write failed (%s), retrying", exc)
                time.sleep(0.2 * 2 ** attempt)
        self.metrics.last_write.set(time.time())

    def _dead_letter(self, record, reason: str) -> None:
        letter = dead_letter_of(record.value, source_topic=record.topic, partition=record.partition,
                                offset=record.offset, consumer=self.cfg.group_id, reason=reason)
        # The original key is kept when it is a plausible one (the pickup zone): a hostile key is not copied.
        key = record.key if record.key is None or len(record.key) <= ID_MAX_LENGTH else None
        self._letters.append((record, self.dlq.send(self.cfg.dlq_topic, key=key, value=letter.to_bytes())))

    def _flush_dead_letters(self) -> None:
        """Wait until the broker has every dead letter sent since the last checkpoint, or stop: an
        offset is committed only once its event's letter is written. (The client already retried
        what can be retried, for up to its delivery timeout.)"""
        self.dlq.flush(timeout=30)  # raises KafkaTimeoutError when the broker does not answer
        failed = [(record, future.exception) for record, future in self._letters if future.failed()]
        if failed:
            record, error = failed[0]
            log.error("dead letters not written: stopping before the checkpoint", extra={"fields": dict(
                failed=len(failed), topic=record.topic, partition=record.partition, offset=record.offset,
                error=f"{type(error).__name__}: {error}")})
            raise DeadLetterError(
                f"{len(failed)} dead letter(s) could not be written to {self.cfg.dlq_topic}, first the one of "
                f"{record.topic}[{record.partition}] offset {record.offset} ({len(record.value or b'')} bytes): "
                f"{type(error).__name__}: {error}; nothing after the last checkpoint is committed",
                hint=f"fix what the error names (is {self.cfg.dlq_topic} writable?), then restart ingest: "
                     "it reads these events again and re-sends their letters")
        self._letters.clear()

    # ---- checkpoint ------------------------------------------------------------------------

    def checkpoint(self, force: bool = False) -> bool:
        """Flush each changed shard's buffered history and save its state + offsets atomically,
        then commit the offsets. A shard whose partition another process now owns is dropped unsaved."""
        self._last_checkpoint = time.monotonic()
        changed = [shard for shard in self.shards.values() if shard.dirty]
        if not changed:
            return False
        self._flush_dead_letters()  # dead letters are durable before their offsets are committed
        for shard in changed:
            if not ckpt.owns(self.settings, shard.partition, self.token):
                log_event(log, "partition owned by another ingest now: its state here is dropped unsaved",
                          partition=shard.partition)
                del self.shards[shard.partition]
                continue
            shard.save(self.settings)
        offsets = self.offsets
        commit = {TopicPartition(t, p): OffsetAndMetadata(o, "", -1) for (t, p), o in offsets.items()
                  if TopicPartition(t, p) in self.assigned}
        if commit:
            try:
                self.consumer.commit(commit)
            except Exception as exc:  # the checkpoint is the source of truth; a failed commit only delays lag metrics
                log.warning("offset commit failed: %s", exc)
        self.metrics.checkpoints.inc()
        return True

    def _align(self) -> None:
        """Pause partitions more than ALIGN_S of event time ahead of the slowest one still behind."""
        behind = [tp for tp in self.assigned if self._behind(tp)]
        if not behind:
            if self.consumer.paused():
                self.consumer.resume(*self.consumer.paused())
            return
        frontier = min(self._time_of(tp) for tp in behind)
        ahead = {tp for tp in self.assigned if self._time_of(tp) > frontier + ALIGN_S}
        paused = self.consumer.paused()
        if ahead - paused:
            self.consumer.pause(*(ahead - paused))
        if paused - ahead:
            self.consumer.resume(*(paused - ahead))

    def _time_of(self, tp: TopicPartition) -> float:
        """Where a partition stands in event time: its next held-back record, else the last one applied
        (a quiet gap in a partition must not make it look ahead of itself)."""
        return max(self._read_until.get(tp, float("-inf")), self._next_time.get(tp, float("-inf")))

    def _behind(self, tp: TopicPartition) -> bool:
        """Records left to read, or not known yet (no fetch answered for the partition)."""
        lag = self._lag_of(tp)
        return lag is None or lag > 0

    def _offset_of(self, tp: TopicPartition) -> int:
        shard = self.shards.get(tp.partition)
        return shard.offsets.get((tp.topic, tp.partition), 0) if shard else 0

    def _lag_of(self, tp: TopicPartition) -> int | None:
        high = self.consumer.highwater(tp)
        if high is None:
            return None
        return max(0, high - self._offset_of(tp))

    def _update_lag(self) -> None:
        lag = 0
        for tp in self.assigned:
            high = self.consumer.highwater(tp)
            if high is not None:
                lag += max(0, high - self._offset_of(tp))
        self.metrics.lag.set(lag)

    def status(self) -> dict:
        shards = self.shards.values()
        return {"seq": {shard.partition: shard.seq for shard in shards},
                "zones": sum(len(shard.windows.zones) for shard in shards),
                "assigned": sorted(f"{t.topic}[{t.partition}]" for t in self.assigned),
                "offsets": {f"{t}[{p}]": o for (t, p), o in self.offsets.items()},
                "seen_ids": sum(len(shard.seen) for shard in shards), "totals": self.totals}


def _sum_totals(shards: dict[int, Shard]) -> dict[str, int]:
    totals = {outcome: 0 for outcome in ckpt.OUTCOMES}
    for shard in shards.values():
        for outcome, count in shard.totals.items():
            totals[outcome] = totals.get(outcome, 0) + count
    return totals


def _later(a: datetime, b: datetime) -> bool:
    try:
        return a > b
    except TypeError:  # one naive (UTC), one aware
        return _epoch(a) > _epoch(b)


def _iso(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _label_row(event: TripCompleted, completed_s: float) -> tuple:
    """A label row of frames.labels_frame (times as epoch seconds; a naive time is UTC)."""
    return (event.trip_id, event.pickup_zone, _epoch(event.pickup_time), event.dropoff_zone, event.trip_distance,
            event.passenger_count, event.duration_s, completed_s)


class _Rebalance(ConsumerRebalanceListener):
    """Resume each assigned partition where the checkpointed state is, not where the group committed."""

    def __init__(self, pipeline: IngestPipeline) -> None:
        self.pipeline = pipeline

    def on_partitions_revoked(self, revoked) -> None:
        p = self.pipeline
        if revoked and not p._broken:
            p.checkpoint(force=True)  # the next owner of each partition resumes from this
        p.assigned -= set(revoked)
        for tp in revoked:
            p._read_until.pop(tp, None)
            p._next_time.pop(tp, None)
            p._held.pop(tp, None)  # not applied, offsets not advanced: the next owner reads them
        kept = {tp.partition for tp in p.assigned}
        for partition in {tp.partition for tp in revoked} - kept:
            p.shards.pop(partition, None)

    def on_partitions_assigned(self, assigned) -> None:
        p = self.pipeline
        by_topic: dict[str, set[int]] = {}
        for tp in assigned:
            by_topic.setdefault(tp.topic, set()).add(tp.partition)
        if len({frozenset(numbers) for numbers in by_topic.values()}) > 1:
            log.warning("ingest got different partitions of its two topics (%s): are they created with the same "
                        "number of partitions? a zone's state needs both", by_topic)
        for tp in assigned:
            offset = p._shard(tp.partition).offsets.get((tp.topic, tp.partition))
            if offset is None:
                p.consumer.seek_to_beginning(tp)
            else:
                p.consumer.seek(tp, offset)
        p.assigned |= set(assigned)
