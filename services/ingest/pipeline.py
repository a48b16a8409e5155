"""The ingest loop: poll a batch → validate → windows → one online row per affected zone →
(buffered) offline history and labels → checkpoint → commit offsets.

Delivery: offsets are committed only after the rows are written and the checkpoint
(state + offsets) is saved; a restart resumes from the checkpoint, replaying events after
it onto the state they first met, so online features end exactly as without the crash.
A checkpoint is taken every `ingest.checkpoint_interval_s`, one per partition number
(shard.py, checkpoint.py: the state follows its partition, so replicas in one group end with
the features one process computes); offline/labels part files written after the last
checkpoint of a killed process are deleted when its partition is next assigned.
Event-time alignment across partitions (alignment.py) and applying events to the zone windows
(apply.py) are pure and unit-tested; this module is the consumer, the writes and the checkpoint.
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
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Callable, Literal

import numpy as np
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.coordinator.assignors.range import RangePartitionAssignor
from kafka.consumer.subscription_state import ConsumerRebalanceListener
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata

from ..config import Settings
from ..contracts import ID_MAX_LENGTH, EventRejected, TripCompleted, TripRequested, dead_letter_of, reason_kind
from ..contracts.knobs import IngestFaults
from ..errors import GamedayError
from ..features.offline import drop_parts_after
from ..features.definitions import ENTITY_KEY
from ..features.online import push_online
from ..features.store import labels_dir, offline_dir, open_store
from ..runtime.admin_http import Knobs
from ..runtime.kafka import kafka_options
from ..runtime.logs import RepeatedEvents, log_event
from ..stack.endpoints import kafka_bootstrap
from . import checkpoint as ckpt
from .alignment import EventTimeAlignment
from .apply import apply_events, epoch
from .decode import EventDecoder
from .frames import zone_rows_frame
from .metrics import IngestMetrics
from .shard import Shard, merged_windows
from .windows import ZoneWindows

if TYPE_CHECKING:
    from feast import FeatureStore

log = logging.getLogger("ingest")
KMH_PER_MPH = 1.609344
FETCH_MAX_BYTES = 16 * 1024 * 1024  # per fetch response: ~50k events, ten polls' worth
# A topic that does not exist yet when ingest subscribes (a release whose topics Job runs after the
# services start) is asked for again only at the next metadata refresh: kafka-python's default of
# 5 min left a fresh release's ingest without partitions (not ready) for minutes.
METADATA_MAX_AGE_MS = 10_000
ASK_ENDS_EVERY_S = 2.0  # how often the log ends no fetch reported are asked of the broker (_ask_unknown_ends)


class DeadLetterError(GamedayError):
    kind = "DeadLetterError"


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


class IngestPipeline:
    def __init__(self, settings: Settings, *, store: FeatureStore | None = None,
                 knobs: Knobs | None = None, metrics: IngestMetrics | None = None,
                 on_batch: Callable[[BatchResult], None] | None = None) -> None:
        self.settings = settings
        self.cfg = settings.ingest
        self.topics = settings.topics
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
        self._decoders = {self.topics.trips_requested: EventDecoder(TripRequested), self.topics.trips_completed: EventDecoder(TripCompleted)}
        self.started = False
        self._last_checkpoint = time.monotonic()
        self.alignment = EventTimeAlignment()
        # Dead letters sent since the last checkpoint: (record, future), checked before it.
        self._letters: list[tuple] = []
        # Set when a batch or a checkpoint failed half-way: the state is then not checkpointed again.
        self._broken = False
        self._nan_rng = np.random.default_rng(17)  # the nan_share knob's draws
        # Zones written online wrong by a row-changing knob (km/h, NaN), rewritten once the knobs are back to normal.
        self._spoiled_zones: set[int] = set()
        # The log of an incident: dead letters counted per reason per interval, and a progress line.
        self.dead_letters = RepeatedEvents(log, "dead-lettered events", self.cfg.log_interval_s)
        self._interval: Counter = Counter()
        self._interval_start = time.monotonic()
        self._lag = 0
        self._last_record = time.monotonic()  # when a poll last returned records (the stall guard)
        # Log ends asked of the broker for partitions no fetch has reported since their assignment (see _highwater).
        self._asked_ends: dict[TopicPartition, int] = {}
        self._ends_asked_at = float("-inf")

    # ---- lifecycle -------------------------------------------------------------------------

    def start(self) -> "IngestPipeline":
        """Open the store, restore the checkpoint, join the consumer group."""
        if self.store is None:
            self.store = open_store(self.settings)
        self._forget_stale_checkpoint()
        bootstrap = kafka_bootstrap(self.settings)
        self.consumer = KafkaConsumer(bootstrap_servers=bootstrap, **self.consumer_options())
        self.consumer.subscribe([self.topics.trips_requested, self.topics.trips_completed], listener=_Rebalance(self))
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
            metadata_max_age_ms=METADATA_MAX_AGE_MS,
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
        totals = {outcome: 0 for outcome in ckpt.OUTCOMES}
        for shard in self.shards.values():
            for outcome, count in shard.totals.items():
                totals[outcome] = totals.get(outcome, 0) + count
        return totals

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
        self._log_progress(force=True)
        try:
            if not self._broken:  # a half-applied batch (or a lost dead letter) is never committed
                self.checkpoint()
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
            if polled:
                self._last_record = time.monotonic()
            self._ask_unknown_ends()
            result = self._process(polled) if polled or self.alignment.held else None
            self._update_lag()
            self._refetch_if_stalled()
            self._align()
            if time.monotonic() - self._last_checkpoint >= self.cfg.checkpoint_interval_s:
                self.checkpoint()
            self._log_progress()
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
        completed_topic = self.topics.trips_completed
        for tp, records in polled.items():
            decode = self._decoders[tp.topic].decode
            labels = tp.topic == completed_topic
            position = self.alignment.position(tp)
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
                t = epoch(event.event_time)
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
        return f"pickup_time {_iso(epoch(event.pickup_time))} is after event_time {_iso(t)} (the dropoff)"

    def _process(self, polled: dict) -> BatchResult:
        started = time.perf_counter()
        m = self.metrics
        taken = self.alignment.take(self._parse(polled), self.assigned, self._highwater, self.offsets)
        for tp, offset in taken.next_offsets.items():
            shard = self._shard(tp.partition)
            shard.offsets[(tp.topic, tp.partition)] = offset
            shard.dirty = True
        # Each partition's events onto its own shard, in the event-time order of the batch (a zone's
        # events are all in one partition: the order across partitions changes no feature).
        by_partition: dict[int, list] = {}
        for item in taken.queue:
            by_partition.setdefault(item[1].partition, []).append(item)
        now = time.time()
        rows, event_times, requested = [], [], self.topics.trips_requested
        dead = duplicate = late = ahead = 0
        for partition, items in sorted(by_partition.items()):
            shard = self.shards[partition]
            done = apply_events(items, shard.windows, shard.seen, requested)
            for record, reason in done.to_dead_letter:
                self._dead_letter(record, reason)
            shard.labels.extend(done.labels)
            event_times += done.event_times
            written = Counter({requested: done.written_requests,
                               self.topics.trips_completed: len(done.event_times) - done.written_requests})
            received = Counter(record.topic for _, record, *_ in items)
            outcomes = {"received": received, "written": written, "dead_lettered": done.dead_lettered,
                        "ahead": done.ahead, "duplicate": done.duplicate, "late": done.late}
            for outcome, by_topic in outcomes.items():
                for topic, count in by_topic.items():
                    if count:
                        m.events.labels(topic, outcome).inc(count)
                        shard.totals[outcome] += count
                        self._interval[topic, outcome] += count
            dead, duplicate = dead + done.dead_lettered.total(), duplicate + done.duplicate.total()
            late, ahead = late + done.late.total(), ahead + done.ahead.total()
            zones = shard.windows.zones
            shard_rows = [(z, *zones[z].features(), zones[z].clock, now) for z in sorted(done.affected)]
            shard.offline_rows.extend(shard_rows)
            rows += shard_rows
        rows += self._rewrites_after_rollback(now, rows)
        if rows:
            self._write_online(rows)
        written_at = time.time()
        freshness = written_at - np.asarray(event_times) if event_times else np.empty(0)
        m.freshness.observe_many(freshness)
        latency = time.perf_counter() - started
        m.batch_latency.observe(latency)
        m.rows.inc(len(rows))
        result = BatchResult(len(taken.queue), len(event_times), dead, duplicate, late, ahead, len(rows), latency,
                             freshness)
        if self.on_batch:
            self.on_batch(result)
        return result

    def _rewrites_after_rollback(self, now: float, written_rows: list[tuple]) -> list[tuple]:
        """Once the row-changing knobs are back to normal (the bad release rolled back), the zones they spoiled,
        rewritten from their windows in this batch: left to each zone's next event, a quiet zone would serve its
        km/h or NaN speed for minutes. Zones written by this batch already carry their right values."""
        if not self._spoiled_zones or self.knobs.value.spoils_online_rows:
            return []
        written = {row[0] for row in written_rows}
        rewrites = []
        for shard in self.shards.values():
            for zone_id in sorted(self._spoiled_zones & shard.windows.zones.keys() - written):
                zone = shard.windows.zones[zone_id]
                rewrites.append((zone_id, *zone.features(), zone.clock, now))
        self._spoiled_zones.clear()  # a zone no shard here holds any more is rewritten by its new owner's next event
        return rewrites

    def _write_online(self, rows: list[tuple]) -> None:
        frame = zone_rows_frame(rows)
        knobs = self.knobs.value
        if knobs.speed_unit == "kmh":
            frame["mean_speed_30m"] = frame["mean_speed_30m"] * KMH_PER_MPH
            self._spoiled_zones.update(frame[ENTITY_KEY].tolist())
        if knobs.nan_share:  # the division bug: some rows' speed written as NaN (the offline rows stay right)
            hit = self._nan_rng.random(len(frame)) < knobs.nan_share
            frame.loc[hit, "mean_speed_30m"] = np.nan
            self._spoiled_zones.update(frame.loc[hit, ENTITY_KEY].tolist())
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
        kind = reason_kind(reason)
        self.metrics.dead_letters.labels(record.topic, kind).inc()
        self.dead_letters.add(f"{record.topic}: {kind}", topic=record.topic, partition=record.partition,
                              offset=record.offset, reason=reason[:300])
        letter = dead_letter_of(record.value, source_topic=record.topic, partition=record.partition,
                                offset=record.offset, consumer=self.cfg.group_id, reason=reason)
        # The original key is kept when it is a plausible one (the pickup zone): a hostile key is not copied.
        key = record.key if record.key is None or len(record.key) <= ID_MAX_LENGTH else None
        self._letters.append((record, self.dlq.send(self.topics.dlq, key=key, value=letter.to_bytes())))

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
                f"{len(failed)} dead letter(s) could not be written to {self.topics.dlq}, first the one of "
                f"{record.topic}[{record.partition}] offset {record.offset} ({len(record.value or b'')} bytes): "
                f"{type(error).__name__}: {error}; nothing after the last checkpoint is committed",
                hint=f"fix what the error names (is {self.topics.dlq} writable?), then restart ingest: "
                     "it reads these events again and re-sends their letters")
        self._letters.clear()

    # ---- checkpoint ------------------------------------------------------------------------

    def checkpoint(self) -> bool:
        """Flush each changed shard's buffered history and save its state + offsets atomically, then
        commit the offsets (when anything changed since the last one). A shard whose partition
        another process now owns is dropped unsaved."""
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
        commit = {TopicPartition(t, p): OffsetAndMetadata(o, "", -1) for (t, p), o in self.offsets.items()
                  if TopicPartition(t, p) in self.assigned}
        if commit:
            try:
                self.consumer.commit(commit)
            except Exception as exc:  # the checkpoint is the source of truth; a failed commit only delays lag metrics
                log.warning("offset commit failed: %s", exc)
        self.metrics.checkpoints.inc()
        return True

    def _highwater(self, tp: TopicPartition) -> int | None:
        """Where a partition's log ends: as its last fetch reported, else as the broker answered when asked."""
        high = self.consumer.highwater(tp)
        return high if high is not None else self._asked_ends.get(tp)

    def _ask_unknown_ends(self) -> None:
        """The log end of each assigned partition that no fetch has reported, asked of the broker (at most every
        ASK_ENDS_EVERY_S). kafka-python forgets the ends at each rebalance, and an incremental fetch session
        (KIP-227) leaves a partition with nothing new out of its answers: a partition read to its end stayed
        "not known yet", so the alignment held every other partition back behind it, for good (CI: a
        scale-out survivor with 133 records held and paused, 4 minutes)."""
        unknown = [tp for tp in self.assigned if self.consumer.highwater(tp) is None and tp not in self._asked_ends]
        now = time.monotonic()
        if not unknown or now - self._ends_asked_at < ASK_ENDS_EVERY_S:
            return
        self._ends_asked_at = now
        try:
            self._asked_ends.update(self.consumer.end_offsets(unknown))
        except KafkaError as exc:  # the broker away: asked again later
            log.warning("could not ask the broker where %d partitions end: %s", len(unknown), exc)

    def _refetch_if_stalled(self) -> None:
        """A backlog, and no record fetched for ingest.stall_s: a warning that shows each partition's view (the
        state's offset, the log end, the consumer's position, paused, held back), and each partition behind
        sought again at the offset its state has reached (its held-back records dropped: they are read again).
        Its warning found the end no fetch reported (_ask_unknown_ends); a consumer whose position ran past its
        state is set right by the seek (tests/pipeline/test_scale_out.py)."""
        now = time.monotonic()
        if not self._lag or now - self._last_record < self.cfg.stall_s:
            return
        self._last_record = now  # at most once per stall_s
        offsets, paused, views, behind = self.offsets, self.consumer.paused(), [], 0
        for tp in sorted(self.assigned):
            ours, end = offsets.get((tp.topic, tp.partition)), self._highwater(tp)
            views.append({"partition": f"{tp.topic}[{tp.partition}]", "offset": ours, "log_end": end,
                          "position": self.consumer.position(tp, timeout_ms=1000), "paused": tp in paused,
                          "held": len(self.alignment.held.get(tp, ()))})
            if end is None or end <= (ours or 0):
                continue
            behind += 1
            self.alignment.forget(tp)
            if ours is None:
                self.consumer.seek_to_beginning(tp)
            else:
                self.consumer.seek(tp, ours)
        self.metrics.refetches.inc(behind)
        log.warning("no record fetched for %.0f s with a backlog of %d: %d partitions sought again", self.cfg.stall_s,
                    self._lag, behind, extra={"fields": {"partitions": views}})

    def _align(self) -> None:
        """Pause the partitions too far ahead in event time (alignment.py), resume the others."""
        ahead = self.alignment.ahead(self.assigned, self._highwater, self.offsets)
        paused = self.consumer.paused()
        if ahead - paused:
            self.consumer.pause(*(ahead - paused))
        if paused - ahead:
            self.consumer.resume(*(paused - ahead))

    def _update_lag(self) -> None:
        lags = (self.alignment.lag(tp, self._highwater, self.offsets) for tp in self.assigned)
        self._lag = sum(lag for lag in lags if lag is not None)
        self.metrics.lag.set(self._lag)

    def _log_progress(self, force: bool = False) -> None:
        """Every log_interval_s: events per topic and outcome, the rate, the backlog (and the dead letters'
        summary by reason); an interval with no event and no backlog logs nothing."""
        self.dead_letters.flush(force)
        elapsed = time.monotonic() - self._interval_start
        if not force and elapsed < self.cfg.log_interval_s:
            return
        received = sum(n for (_, outcome), n in self._interval.items() if outcome == "received")
        if received or self._lag or force:
            by_topic: dict[str, dict[str, int]] = {}
            for (topic, outcome), count in sorted(self._interval.items()):
                by_topic.setdefault(topic, {})[outcome] = count
            log_event(log, "progress", interval_s=round(elapsed, 1), events_per_s=round(received / max(elapsed, 1e-9), 1),
                      lag=self._lag, by_topic=by_topic, dead_lettered_total=self.totals["dead_lettered"])
        self._interval.clear()
        self._interval_start = time.monotonic()

    def status(self) -> dict:
        shards = self.shards.values()
        return {"seq": {shard.partition: shard.seq for shard in shards},
                "zones": sum(len(shard.windows.zones) for shard in shards),
                "assigned": sorted(f"{t.topic}[{t.partition}]" for t in self.assigned),
                "offsets": {f"{t}[{p}]": o for (t, p), o in self.offsets.items()},
                "seen_ids": sum(len(shard.seen) for shard in shards), "totals": self.totals}


def _later(a: datetime, b: datetime) -> bool:
    try:
        return a > b
    except TypeError:  # one naive (UTC), one aware
        return epoch(a) > epoch(b)


def _iso(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


class _Rebalance(ConsumerRebalanceListener):
    """Resume each assigned partition where the checkpointed state is, not where the group committed."""

    def __init__(self, pipeline: IngestPipeline) -> None:
        self.pipeline = pipeline

    def on_partitions_revoked(self, revoked) -> None:
        p = self.pipeline
        if revoked and not p._broken:
            p.checkpoint()  # the next owner of each partition resumes from this
        p.assigned -= set(revoked)
        for tp in revoked:
            p.alignment.forget(tp)
            p._asked_ends.pop(tp, None)
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
            p._asked_ends.pop(tp, None)  # asked again: the log may have grown since
            offset = p._shard(tp.partition).offsets.get((tp.topic, tp.partition))
            if offset is None:
                p.consumer.seek_to_beginning(tp)
            else:
                p.consumer.seek(tp, offset)
        p.assigned |= set(assigned)
