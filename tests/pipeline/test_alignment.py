"""Event-time alignment across partitions (ingest/alignment.py), without a broker: records of a batch
are applied in event-time order over all partitions, a partition far ahead of one still behind is held
back and paused, and what is held comes first in the next batch."""

from __future__ import annotations

from collections import namedtuple

from kafka.structs import TopicPartition

from mlgameday.ingest.alignment import ALIGN_S, EventTimeAlignment

Record = namedtuple("Record", "topic partition offset")
REQ, DONE = TopicPartition("req", 0), TopicPartition("done", 0)


def items(tp: TopicPartition, times: list[float], first_offset: int = 0) -> list[tuple]:
    """Parsed records with these event times (the position is the running max, as ingest's parser makes it)."""
    out, position = [], float("-inf")
    for i, t in enumerate(times):
        position = max(position, t)
        out.append((position, Record(tp.topic, tp.partition, first_offset + i), object(), None, t))
    return out


def ends(**high: int):
    return lambda tp: high.get(tp.topic)


def test_a_batch_is_applied_in_event_time_order_across_partitions() -> None:
    align = EventTimeAlignment()
    parsed = {REQ: items(REQ, [10, 20, 30]), DONE: items(DONE, [5, 25])}
    taken = align.take(parsed, [REQ, DONE], ends(req=3, done=2), offsets={})
    assert [item[4] for item in taken.queue] == [5, 10, 20, 25, 30]
    assert taken.next_offsets == {REQ: 3, DONE: 2}
    assert taken.received == {"req": 3, "done": 2}
    assert align.held == {} and align.position(REQ) == 30


def test_a_partition_far_ahead_of_one_still_behind_is_held_back_then_released() -> None:
    align = EventTimeAlignment()
    # done has read up to t=100 and has more on the broker; req runs hours ahead.
    parsed = {REQ: items(REQ, [50, 120, 100 + ALIGN_S + 1, 5000]), DONE: items(DONE, [90, 100])}
    taken = align.take(parsed, [REQ, DONE], ends(req=4, done=50), offsets={})
    assert [item[4] for item in taken.queue] == [50, 90, 100, 120]
    assert taken.next_offsets == {REQ: 2, DONE: 2}  # req's offsets stop before what is held
    assert [item[4] for item in align.held[REQ]] == [100 + ALIGN_S + 1, 5000]
    assert align.time_of(REQ) == 100 + ALIGN_S + 1
    # req is paused (more than ALIGN_S ahead of done, which is behind); done reads on.
    assert align.ahead([REQ, DONE], ends(req=4, done=50), offsets={("req", 0): 2, ("done", 0): 2}) == {REQ}

    # done catches up to the end of its log: the held records come first in the next batch.
    taken = align.take({DONE: items(DONE, [200, 6000], first_offset=2)}, [REQ, DONE], ends(req=4, done=4),
                       offsets={("req", 0): 2, ("done", 0): 2})
    assert [item[4] for item in taken.queue] == [100 + ALIGN_S + 1, 200, 5000, 6000]
    assert taken.next_offsets == {REQ: 4, DONE: 4}
    assert align.held == {}
    assert align.ahead([REQ, DONE], ends(req=4, done=4), offsets={("req", 0): 4, ("done", 0): 4}) == set()


def test_a_partition_whose_end_is_not_known_yet_counts_as_behind() -> None:
    align = EventTimeAlignment()
    align.read_until[DONE] = 0.0
    taken = align.take({REQ: items(REQ, [10, 10 + ALIGN_S + 5])}, [REQ, DONE], ends(req=2), offsets={})
    assert [item[4] for item in taken.queue] == [10]  # done's end is unknown: it may hold older events
    assert EventTimeAlignment.lag(DONE, ends(req=2), {}) is None


def test_ties_apply_in_partition_order_whatever_the_poll_order() -> None:
    first = EventTimeAlignment().take({DONE: items(DONE, [7]), REQ: items(REQ, [7])}, [REQ, DONE], ends(req=1, done=1), {})
    second = EventTimeAlignment().take({REQ: items(REQ, [7]), DONE: items(DONE, [7])}, [REQ, DONE], ends(req=1, done=1), {})
    assert [i[1].topic for i in first.queue] == [i[1].topic for i in second.queue] == ["done", "req"]


def test_a_revoked_partition_forgets_what_it_held() -> None:
    align = EventTimeAlignment()
    align.take({REQ: items(REQ, [0, 1000])}, [REQ, DONE], ends(req=2, done=5), offsets={})
    assert REQ in align.held
    align.forget(REQ)
    assert REQ not in align.held and align.position(REQ) == float("-inf")


def test_a_partition_read_to_its_end_whose_end_no_fetch_reports_is_asked_of_the_broker(tmp_path) -> None:
    """After a rebalance kafka-python knows no partition's end until a fetch reports it, and an incremental
    fetch session leaves out a partition with nothing new: unknown, it counted as behind at -inf event time and
    held every other partition back for good. Ingest asks the broker where such a partition ends."""
    from mlgameday.config import load_settings
    from mlgameday.ingest.pipeline import IngestPipeline

    caught_up, busy = TopicPartition("done", 1), TopicPartition("done", 2)

    class Consumer:  # what kafka-python reports right after the rebalance
        asked: list = []

        def highwater(self, tp: TopicPartition) -> int | None:
            return 3715 if tp == busy else None

        def end_offsets(self, partitions: list) -> dict:
            self.asked.append(sorted(partitions))
            return {tp: 4627 for tp in partitions}

    pipeline = IngestPipeline(load_settings(run_dir=tmp_path))
    pipeline.consumer, pipeline.assigned = Consumer(), {caught_up, busy}
    offsets = {("done", 1): 4627, ("done", 2): 3614}
    pipeline.alignment.take({busy: items(busy, [1000.0] * 3, 3614)}, pipeline.assigned, pipeline._highwater, offsets)
    assert pipeline.alignment.ahead(pipeline.assigned, pipeline._highwater, offsets) == {busy}  # the deadlock
    pipeline._ask_unknown_ends()
    assert Consumer.asked == [[caught_up]] and pipeline._highwater(caught_up) == 4627
    assert pipeline.alignment.ahead(pipeline.assigned, pipeline._highwater, offsets) == set()  # reads on
    pipeline._ask_unknown_ends()
    assert Consumer.asked == [[caught_up]]  # known now: not asked again
