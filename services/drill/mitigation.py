"""Did the candidate's fix work? A scenario's mitigation conditions, verified on the live stack.

A series condition holds when the drill's samples stay on the right side of a threshold for `hold`
seconds after the answer (latency back under the SLO, the backlog drained). An outcome check looks
at what the fix must have achieved, not at the absence of new symptoms: every dead letter of the
drill back on its topic as a valid event and every lost trip's label in the labels history; the
components up; a model retrained after the fault live and as good online as on its hold-out; or,
for a healthy stack, nothing changed at all.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from ..config import Settings
from ..contracts import EventRejected, Topic, parse_event
from ..errors import GamedayError
from .expect import NoBaseline, holds, thresholds
from .journal import CHANGE
from .scenario import Condition
from .targets import State, Target
from .timeline import Timeline

# Outcome checks that read Kafka or files run at most this often while the check waits.
SLOW_CHECK_EVERY_S = 5.0


@dataclass
class MitigationContext:
    """What the checks need: the stack, the drill's timeline, where the topics were when it started."""

    settings: Settings
    target: Target
    timeline: Timeline
    fault_at: float | None                     # timeline seconds of the first fault (None: none fired)
    start_offsets: dict[tuple[str, int], int]  # (topic, partition) -> end offset when the drill started
    live_at_start: str | None                  # the live model when the drill started
    cache: dict[str, Any] = field(default_factory=dict)

    @property
    def fault_wall(self) -> float | None:
        return None if self.fault_at is None else self.timeline.t0 + self.fault_at


def start_offsets(settings: Settings) -> dict[tuple[str, int], int]:
    """The end offsets of the trip topics and the dlq now: where a drill's own events begin."""
    from ..dlq.read import open_consumer, partitions

    consumer = open_consumer(settings)
    try:
        parts = [tp for topic in (settings.topics.trips_requested, settings.topics.trips_completed, settings.topics.dlq)
                 for tp in partitions(consumer, topic)]
        return {(tp.topic, tp.partition): offset for tp, offset in consumer.end_offsets(parts).items()}
    finally:
        consumer.close()


def verify(ctx: MitigationContext, conditions: list[Condition], since: float, timeout_s: float,
           say: Callable[[str], None] = lambda _: None) -> tuple[bool, list[str]]:
    """Wait until every condition holds (series: from `since` on) or the timeout; (verified, one line each)."""
    deadline = time.monotonic() + timeout_s
    slow_at = 0.0
    results: dict[int, tuple[bool, str]] = {}
    while True:
        for i, condition in enumerate(conditions):  # outcomes first: reading topics can take seconds
            if condition.signal is None and (time.monotonic() >= slow_at or i not in results):
                results[i] = _outcome(ctx, condition, since)
        for i, condition in enumerate(conditions):  # then the series, on the samples of now
            if condition.signal is not None:
                results[i] = holds(condition, ctx.timeline, since)
        if time.monotonic() >= slow_at:
            slow_at = time.monotonic() + SLOW_CHECK_EVERY_S
        ok = all(passed for passed, _ in results.values())
        if ok or time.monotonic() > deadline:
            return ok, [results[i][1] for i in range(len(conditions))]
        waiting = [msg for passed, msg in results.values() if not passed]
        say(f"mitigation check ({deadline - time.monotonic():.0f}s left): {waiting[0]}")
        time.sleep(1.0)


def check_skipped(ctx: MitigationContext, conditions: list[Condition], since: float) -> list[tuple[bool, str]]:
    """The mitigation's conditions checked as for a candidate who answered at `since` and changed nothing:
    the series on the samples from `since` on (the faults on all along), the outcomes on the stack now.
    A scenario whose conditions all hold here could be won without mitigating. (held, line) each."""
    return [holds(c, ctx.timeline, since) if c.signal is not None else _outcome(ctx, c, since) for c in conditions]


def longest_hold(conditions: list[Condition]) -> float:
    """The longest `hold` of the conditions read on series (0 without one): how long a skipped fix must
    be watched before its check means anything."""
    return max((c.hold for c in conditions if c.signal is not None or c.check in SERIES_OUTCOMES), default=0.0)


def back_to_normal_at(conditions: list[Condition], timeline: Timeline, until: float) -> float | None:
    """When the series conditions started holding for good (the start of the run of samples that passes
    and lasts until `until`); None without series conditions or when one does not hold at the end."""
    starts = []
    for condition in conditions:
        if condition.signal is None:
            continue
        try:
            above, below = thresholds(condition, timeline, None)
        except NoBaseline:
            return None
        start = None
        for t, value in timeline.series(condition.signal):
            if t > until:
                break
            passes = (above is None or value > above) and (below is None or value < below)
            start = (start if start is not None else t) if passes else None
        if start is None:
            return None
        starts.append(start)
    return max(starts) if starts else None


# ---- outcome checks --------------------------------------------------------------------------

def _outcome(ctx: MitigationContext, condition: Condition, since: float) -> tuple[bool, str]:
    try:
        return OUTCOMES[condition.check](ctx, condition, since)
    except GamedayError as exc:
        return False, f"{condition.check}: could not be checked: {exc}"
    except Exception as exc:  # a broker away during the check: the check fails, saying why
        return False, f"{condition.check}: could not be checked: {type(exc).__name__}: {exc}"


def _components_up(ctx: MitigationContext, condition: Condition, since: float) -> tuple[bool, str]:
    states = ctx.target.components()
    down = [f"{name} is {states.get(name, State.ABSENT)}" for name in ctx.target.required
            if states.get(name) != State.UP]
    return (not down, "every component is up" if not down else "not up: " + ", ".join(down))


def _lost_events(ctx: MitigationContext) -> dict[str, Any]:
    """The drill's dead letters from ingest (since the fault) and which of them are back on their topic."""
    from ..dlq.read import open_consumer, parse_letter, partitions, read_range

    settings = ctx.settings
    trips = {settings.topics.trips_requested: Topic.TRIPS_REQUESTED, settings.topics.trips_completed: Topic.TRIPS_COMPLETED}
    since = ctx.fault_wall or ctx.timeline.t0
    consumer = open_consumer(settings)
    try:
        def read(topic: str):
            parts = partitions(consumer, topic)
            ends = consumer.end_offsets(parts)
            starts = {tp: ctx.start_offsets.get((tp.topic, tp.partition), 0) for tp in parts}
            return read_range(consumer, starts, ends, timeout_s=60)

        lost: dict[str, tuple[str, str | None]] = {}  # event id -> (source topic, trip id)
        for record in read(settings.topics.dlq):
            letter = parse_letter(record.value)
            if (letter is None or letter.consumer != settings.ingest.group_id or letter.source_topic not in trips
                    or letter.event_time.timestamp() < since):
                continue
            try:
                original = json.loads(letter.original)
            except ValueError:
                continue
            if isinstance(original, dict) and isinstance(original.get("event_id"), str):
                lost[original["event_id"]] = (letter.source_topic, original.get("trip_id"))
        back: set[str] = set()
        for topic, contract in trips.items():
            for record in read(topic):
                try:
                    event = parse_event(contract, record.value or b"")
                except EventRejected:
                    continue
                if event.event_id in lost:
                    back.add(event.event_id)
    finally:
        consumer.close()
    return {"lost": lost, "back": back}


def _dead_letters_replayed(ctx: MitigationContext, condition: Condition, since: float) -> tuple[bool, str]:
    found = ctx.cache["lost_events"] = _lost_events(ctx)
    lost, back = found["lost"], found["back"]
    missing = len(lost) - len(lost.keys() & back)
    if not lost:
        return True, "no event was dead-lettered by ingest since the fault"
    return (not missing, f"{len(lost) - missing:,} of the {len(lost):,} events dead-lettered since the fault are "
                         f"back on their topic" + (f" ({missing:,} not replayed)" if missing else ""))


def _labels_applied(ctx: MitigationContext, condition: Condition, since: float) -> tuple[bool, str]:
    from ..features.history import labelled_trip_ids

    found = ctx.cache.get("lost_events") or _lost_events(ctx)
    completed = {trip for topic, trip in found["lost"].values()
                 if topic == ctx.settings.topics.trips_completed and trip}
    if not completed:
        return True, "no trip label was dead-lettered since the fault"
    have = labelled_trip_ids(ctx.settings, written_after=ctx.timeline.t0) & completed
    missing = len(completed) - len(have)
    return (not missing, f"{len(have):,} of the {len(completed):,} lost trips' labels are in the labels history"
                         + (f" ({missing:,} missing)" if missing else ""))


def _live_model(ctx: MitigationContext) -> dict[str, Any]:
    live = ctx.target.serving_models().get("live")
    if not isinstance(live, dict):
        raise GamedayError("serving has no live model")
    return live


def _retrained_model_live(ctx: MitigationContext, condition: Condition, since: float) -> tuple[bool, str]:
    from ..models.store import list_models, use_model_store

    live = _live_model(ctx)
    use_model_store(ctx.settings)
    info = next((m for m in list_models() if m.tag == live["tag"]), None)
    if info is None:
        return False, f"the live model {live['tag']} is not in the model store"
    created = info.created.timestamp()
    after = ctx.fault_wall or ctx.timeline.t0
    if created >= after:
        return True, f"the live model {live['tag']} was trained {created - after:.0f}s after the fault began"
    return False, f"the live model {live['tag']} was trained before the fault ({time.strftime('%H:%M:%S', time.localtime(created))})"


def _mae_near_reference(ctx: MitigationContext, condition: Condition, since: float) -> tuple[bool, str]:
    live = _live_model(ctx)
    reference = float((live.get("metrics") or {}).get("mae_s") or 0)
    if reference <= 0:
        return False, f"the live model {live['tag']} has no hold-out MAE"
    limit = reference * (1 + (condition.tolerance or 0))
    held, message = holds(Condition(signal="mae_s", below=limit, hold=condition.hold), ctx.timeline, since)
    return held, f"{message} (the live model's hold-out MAE {reference:.0f}s + {condition.tolerance:.0%})"


def _nothing_changed(ctx: MitigationContext, condition: Condition, since: float) -> tuple[bool, str]:
    changes = [m for m in ctx.timeline.marks_of("action") if m.detail.get("effect") == CHANGE]
    alerts = ctx.timeline.marks_of("alert")
    live = ctx.target.live_model()
    problems = ([f"{len(changes)} change(s): " + "; ".join(m.name for m in changes[:3])] if changes else []) + \
               ([f"{len(alerts)} alert(s) fired"] if alerts else []) + \
               ([f"the live model is {live}, not {ctx.live_at_start}"] if live != ctx.live_at_start else [])
    return (not problems, "nothing was changed and no alert fired" if not problems else "; ".join(problems))


def _thresholds_calibrated(ctx: MitigationContext, condition: Condition, since: float) -> tuple[bool, str]:
    from .targets import get_knobs

    scale = float(get_knobs(ctx.target, "monitor").get("threshold_scale", 1.0))
    live = ctx.target.live_model()
    problems = ([f"the monitor's thresholds are {scale:g} times their calibrated values"] if scale != 1.0 else []) + \
               ([f"the live model is {live}, not {ctx.live_at_start} (a monitor's false alarm is no reason to "
                 "change the model)"] if live != ctx.live_at_start else [])
    return (not problems, "the monitor's thresholds are the calibrated ones and the model was left alone"
            if not problems else "; ".join(problems))


# Outcome checks that read a series for `hold` seconds (the others look at the stack once).
SERIES_OUTCOMES = ("mae_near_reference",)

OUTCOMES: dict[str, Callable[[MitigationContext, Condition, float], tuple[bool, str]]] = {
    "dead_letters_replayed": _dead_letters_replayed,
    "labels_applied": _labels_applied,
    "components_up": _components_up,
    "retrained_model_live": _retrained_model_live,
    "mae_near_reference": _mae_near_reference,
    "nothing_changed": _nothing_changed,
    "thresholds_calibrated": _thresholds_calibrated,
}
