"""The audit's verdict per record (pure logic; the soak test runs it on a real stack)."""

from __future__ import annotations

import json
from collections import namedtuple

from mlgameday.contracts import dead_letter_of
from mlgameday.contracts import reason_kind
from mlgameday.drill.audit import AuditReport, _judge

Record = namedtuple("Record", "topic partition offset value")
REQ, DONE = "trips.requested", "trips.completed"
EVENT = {"event_id": "e1", "event_time": "2026-01-01T10:00:00Z", "schema_version": 1, "trip_id": "t1", "pickup_zone": 1,
         "dropoff_zone": 2, "trip_distance": 1.5, "passenger_count": 1}
LABEL = {**EVENT, "event_id": "e2", "pickup_time": "2026-01-01T09:50:00Z", "duration_s": 600.0}


def test_each_record_is_applied_dead_lettered_pending_or_unaccounted() -> None:
    bad = Record(REQ, 0, 1, b"{oops")
    letter = dead_letter_of(bad.value, source_topic=REQ, partition=0, offset=1, consumer="ingest",
                            reason="invalid JSON: Invalid JSON: key must be a string at line 1 column 2")
    letters = {(REQ, 0, 1): letter}
    committed = {(REQ, 0): 4, (DONE, 0): 2}
    report = AuditReport()
    records = [Record(REQ, 0, 0, json.dumps(EVENT).encode()), bad,
               Record(REQ, 0, 2, b"not json, no letter"),                              # lost
               Record(REQ, 0, 5, json.dumps(EVENT).encode()),                          # beyond the commit
               Record(DONE, 0, 0, json.dumps(LABEL).encode()),                         # label stored
               Record(DONE, 0, 1, json.dumps({**LABEL, "trip_id": "t9"}).encode())]    # label missing
    for record in records:
        _judge(report, record, letters, committed, {"t1"}, {"t1"}, REQ)
    assert report.as_dict() | {"examples": len(report.examples)} == {
        "events": {REQ: 4, DONE: 2}, "applied": {REQ: 1, DONE: 1}, "dead_lettered": {REQ: 1}, "pending": {REQ: 1},
        "unaccounted": {REQ: 1, DONE: 1}, "reasons": {"invalid JSON: Invalid JSON: key must be a string": 1},
        "examples": 2, "requests": 1, "predicted": 1, "not_predicted": 0, "checks": []}
    assert "trip t9 is not in the labels history" in report.examples[1]["why"]
    assert reason_kind("event_time 2027-01-01T00:00:00Z is 3,600 s ahead of ingest's clock (...)") == \
        "event_time ahead of ingest's clock"
