"""Pure logic of the hostile-input rules: dead letters are bounded, a poisoned zone clock is taken back."""

from __future__ import annotations

import hashlib
import json

from mlgameday.contracts import DEAD_LETTER_ORIGINAL_MAX, DeadLetter, dead_letter_of
from mlgameday.ingest.windows import BUCKET_S, ZoneWindow


def test_a_dead_letter_keeps_a_bounded_original_with_the_size_and_hash_of_the_whole() -> None:
    raw = b'{"a":"' + "\u0001é".encode() * 400_000 + b'"}'  # escapes grow in JSON: the worst case for size
    letter = dead_letter_of(raw, source_topic="trips.requested", partition=2, offset=7, consumer="ingest",
                            reason="r" * 50_000)
    assert letter.truncated and letter.original_size == len(raw)
    assert letter.original_sha256 == hashlib.sha256(raw).hexdigest()
    assert len(letter.original.encode()) <= DEAD_LETTER_ORIGINAL_MAX + 3  # a cut character becomes U+FFFD
    assert len(letter.to_bytes()) < 1_000_000 and len(letter.reason) < 2100
    assert letter.event_id == "ingest:trips.requested:2:7"  # the same letter when the record is read again
    assert DeadLetter.model_validate_json(letter.to_bytes()) == letter

    small = dead_letter_of(b'{"x":1}', source_topic="t", partition=0, offset=1, consumer="monitor", reason="bad")
    assert (small.truncated, small.original, small.original_size) == (False, '{"x":1}', 7)
    assert json.loads(small.to_bytes())["original_sha256"] == hashlib.sha256(b'{"x":1}').hexdigest()


def test_forget_after_takes_a_poisoned_clock_back_to_the_latest_bucket_left() -> None:
    now = 1_700_000_000.0
    window = ZoneWindow()
    for t in (now - 120, now - 60, now - 1):
        window.add_request(t)
    window.add_completion(now - 30, 10_000_000)
    before = window.features()
    assert not window.forget_after(now + 60)  # nothing ahead: untouched
    window.add_request(now + 3600)            # an event from the future
    window.add_completion(now + 7200, 5)
    assert window.forget_after(now + 60)
    assert window.clock == (int(now - 1) // BUCKET_S) * BUCKET_S
    assert window.features() == before
    assert window.add_request(now + 5)        # live events count again
    assert ZoneWindow().forget_after(now) is False
