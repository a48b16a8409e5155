"""`gameday audit`: account for every event on trips.* — applied by ingest, dead-lettered with a
reason, or (still) pending — and for every trip request, whether serving predicted it.

How each record is judged (a record = a topic, partition and offset below the end offsets
taken when the audit starts):
- dead-lettered: ingest's dead letter names it (consumer = ingest's group, same coordinates);
- pending: ingest has not committed past it yet (the audit first waits for it, up to `wait_s`);
- applied: committed by ingest, a valid event by the contract and no dead letter: ingest counted
  it written, late or duplicate (a trips.completed one must also be in the labels history);
- unaccounted: anything else — a record ingest moved past with neither (the defect to find).
The sums are checked against ingest's own totals (kept in its checkpoint), and a request is
`predicted` when a prediction with its trip id is on the predictions topic.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Iterator

from ..config import Settings
from ..contracts import DeadLetter, EventRejected, Topic, parse_event, reason_kind
from ..errors import GamedayError
from ..runtime.kafka import kafka_options
from ..stack.endpoints import kafka_bootstrap

RECEIVE_MAX_BYTES = 64 * 2**20  # a hostile record can be ~1 MB: the client's frame limit must take it
EXAMPLES = 20


class AuditError(GamedayError):
    kind = "AuditError"


@dataclass
class AuditReport:
    events: Counter = field(default_factory=Counter)         # topic -> records audited
    applied: Counter = field(default_factory=Counter)        # topic -> applied by ingest
    dead_lettered: Counter = field(default_factory=Counter)  # topic -> dead-lettered by ingest
    pending: Counter = field(default_factory=Counter)        # topic -> not yet committed by ingest
    unaccounted: Counter = field(default_factory=Counter)    # topic -> neither
    reasons: Counter = field(default_factory=Counter)        # dead-letter reason (its kind) -> count
    examples: list[dict] = field(default_factory=list)       # the first unaccounted records, and why
    requests: int = 0
    predicted: int = 0
    checks: list[str] = field(default_factory=list)           # disagreements with ingest's totals

    @property
    def total_unaccounted(self) -> int:
        return sum(self.unaccounted.values())

    def as_dict(self) -> dict:
        return {"events": dict(self.events), "applied": dict(self.applied), "dead_lettered": dict(self.dead_lettered),
                "pending": dict(self.pending), "unaccounted": dict(self.unaccounted), "reasons": dict(self.reasons),
                "examples": self.examples, "requests": self.requests, "predicted": self.predicted,
                "not_predicted": self.requests - self.predicted, "checks": self.checks}


def audit(settings: Settings, *, wait_s: float = 60.0, progress: Callable[[str], None] = lambda _: None) -> AuditReport:
    from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition

    from ..features.history import load_trip_labels

    bootstrap = kafka_bootstrap(settings)
    security = kafka_options(settings.kafka)
    cfg = settings.ingest
    topics = settings.topics
    trips = (topics.trips_requested, topics.trips_completed)
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                             receive_message_max_bytes=RECEIVE_MAX_BYTES, client_id="gameday-audit", **security)
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="gameday-audit", **security)
    try:
        parts = [TopicPartition(t, p) for t in trips for p in sorted(consumer.partitions_for_topic(t) or ())]
        ends = {tp: offset for tp, offset in consumer.end_offsets(parts).items()}
        progress(f"{sum(ends.values()):,} records on {', '.join(trips)}; waiting for ingest to commit them")
        committed = _wait_committed(admin, cfg.group_id, ends, wait_s)
        progress("reading the dead letters")
        letters = {}
        for record in _read_all(consumer, [topics.dlq]):
            try:
                letter = DeadLetter.model_validate_json(record.value)
            except ValueError:
                continue
            if letter.consumer == cfg.group_id:
                letters[(letter.source_topic, letter.partition, letter.offset)] = letter
        progress("reading the predictions")
        predicted_ids = set()
        for record in _read_all(consumer, [topics.predictions]):
            try:
                predicted_ids.add(parse_event(Topic.PREDICTIONS, record.value).trip_id)
            except EventRejected:
                continue
        labelled = set(load_trip_labels(settings)["trip_id"])
        progress("judging every trip event")
        report = AuditReport()
        for record in _read_all(consumer, list(trips), ends):
            _judge(report, record, letters, committed, labelled, predicted_ids, topics.trips_requested)
    finally:
        consumer.close()
        admin.close()
    _check_totals(report, settings)
    return report


def _judge(report: AuditReport, record, letters: dict, committed: dict, labelled: set, predicted_ids: set,
           requested_topic: str) -> None:
    topic = record.topic
    report.events[topic] += 1
    letter = letters.get((topic, record.partition, record.offset))
    if letter is not None:
        report.dead_lettered[topic] += 1
        report.reasons[reason_kind(letter.reason)] += 1
        return
    if record.offset >= committed.get((topic, record.partition), 0):
        report.pending[topic] += 1
        return
    contract = Topic.TRIPS_REQUESTED if topic == requested_topic else Topic.TRIPS_COMPLETED
    try:
        event = parse_event(contract, record.value or b"")
    except EventRejected as exc:
        return _unaccounted(report, record, f"not a valid event and no dead letter: {exc.reason}")
    if topic == requested_topic:
        report.applied[topic] += 1
        report.requests += 1
        report.predicted += event.trip_id in predicted_ids
    elif event.trip_id in labelled:
        report.applied[topic] += 1
    else:
        _unaccounted(report, record, f"committed by ingest, but trip {event.trip_id} is not in the labels history")


def _unaccounted(report: AuditReport, record, why: str) -> None:
    report.unaccounted[record.topic] += 1
    if len(report.examples) < EXAMPLES:
        report.examples.append({"topic": record.topic, "partition": record.partition, "offset": record.offset,
                                "why": why})


def _wait_committed(admin, group: str, ends: dict, wait_s: float) -> dict[tuple[str, int], int]:
    """The group's committed offsets, once they reach `ends` (or when wait_s has passed)."""
    deadline = time.monotonic() + wait_s
    while True:
        offsets = {(tp.topic, tp.partition): meta.offset
                   for tp, meta in admin.list_consumer_group_offsets(group).items() if meta.offset >= 0}
        if all(offsets.get((tp.topic, tp.partition), 0) >= end for tp, end in ends.items()) or time.monotonic() > deadline:
            return offsets
        time.sleep(1.0)


def _read_all(consumer, topics: list[str], ends: dict | None = None) -> Iterator:
    """Every record of the topics from the start, up to `ends` (default: the end offsets now)."""
    from kafka import TopicPartition

    parts = [TopicPartition(t, p) for t in topics for p in sorted(consumer.partitions_for_topic(t) or ())]
    ends = {tp: ends[tp] for tp in parts} if ends is not None else consumer.end_offsets(parts)
    todo = [tp for tp in parts if ends[tp] > 0]
    if not todo:
        return
    consumer.assign(todo)
    consumer.seek_to_beginning(*todo)
    left = set(todo)
    while left:
        for tp, records in consumer.poll(timeout_ms=1000, max_records=5000).items():
            for record in records:
                if record.offset < ends[tp]:
                    yield record
            if consumer.position(tp) >= ends[tp]:
                left.discard(tp)
                consumer.pause(tp)


def _check_totals(report: AuditReport, settings: Settings) -> None:
    """The audit's sums against ingest's own totals (its checkpoint, or the running process)."""
    from ..ingest.checkpoint import checkpoint_dir, load_all, summed_totals

    saved = load_all(settings)
    if not saved:
        report.checks.append(f"no ingest checkpoint in {checkpoint_dir(settings)}: the sums were not compared "
                             "with ingest's totals")
        return
    totals = summed_totals(saved)
    consumed = sum(report.applied.values()) + sum(report.dead_lettered.values()) + sum(report.unaccounted.values())
    if totals["received"] != consumed:
        report.checks.append(f"ingest's checkpoint counts {totals['received']:,} events received, the audit "
                             f"{consumed:,} committed (a checkpoint newer than the commit, or events before it)")
    if totals["dead_lettered"] != sum(report.dead_lettered.values()):
        report.checks.append(f"ingest's checkpoint counts {totals['dead_lettered']:,} dead letters, the dlq topic "
                             f"holds {sum(report.dead_lettered.values()):,} distinct ones for its records")
