"""The on-call part of a blind drill: the page, the candidate's actions, the answer, the verdict.

Design: the blind drill stays attached. The `gameday drill --blind` process owns the watcher, the
faults and the clock; the candidate investigates in a second terminal, and `gameday answer` hands the
answer to it (handoff.py). Only this process knows the scenario, so nothing the candidate can read
names it before the answer: the run folder is named after a neutral id, the timeline is written when
the drill ends, and what the process shares while it runs (active.json, signals.json) holds series
and times only. One process also means one watcher: the mitigation is checked on the same samples
the drill recorded, and the faults are recovered by whoever injected them, however the process ends.

The faults stay on until the candidate answers or the time limit ends the drill (scored as not
mitigated). Every `gameday` command the candidate runs meanwhile lands on the timeline (journal.py);
the first one after the page is when investigating began.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..config import Settings
from ..impact import IncidentEstimate
from ..impact.model import default_impact_model
from ..stack.component import Reporter, silent
from .active import ActiveDrill
from .answer import Answer, AnswerError, Score, score_answer, unanswered, validate_answer
from .catalog import Choices
from .expect import check_all
from .faults import REGISTRY, FaultContext
from .handoff import AnswerDesk
from .incident import incident_estimate
from .journal import CHANGE, LOOK, JournalReader
from .mitigation import MitigationContext, back_to_normal_at, start_offsets, verify
from .scenario import Scenario
from .snapshot import write_snapshot
from .targets import Target
from .timeline import Timeline
from .watch import Watcher

SNAPSHOT_EVERY_S = 2.0


@dataclass
class Page:
    """What the candidate is told when the drill pages them (no scenario name, no fault)."""

    drill_id: str
    symptoms: str
    folder: Path
    deadline: float  # wall time


@dataclass
class Response:
    """How the candidate responded, in seconds from the page."""

    paged_at: float | None = None        # timeline seconds
    detected_s: float | None = None      # first investigating command (or the answer)
    first_change_s: float | None = None  # first command that changed the system
    mitigated_s: float | None = None     # when the mitigation's series came back for good
    answered_s: float | None = None
    timed_out: bool = False
    actions: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {k: (round(v, 1) if isinstance(v, float) else v) for k, v in asdict(self).items()}


@dataclass
class OnCall:
    """The blind drill's side of the exchange with the candidate, ticked by the runner's loop."""

    settings: Settings
    scenario: Scenario
    choices: Choices
    target: Target
    timeline: Timeline
    watcher: Watcher
    drill: ActiveDrill
    live_at_start: str | None
    offsets: dict[tuple[str, int], int] = field(default_factory=dict)
    response: Response = field(default_factory=Response)
    score: Score | None = None
    answer: Answer | None = None
    impact: IncidentEstimate | None = None  # the incident's cost when the answer came

    def __post_init__(self) -> None:
        self.desk = AnswerDesk(self.drill.run_folder)
        self.journal = JournalReader(self.drill.run_folder)
        self._snapshot_at = 0.0

    @classmethod
    def open(cls, settings: Settings, scenario: Scenario, choices: Choices, target: Target, timeline: Timeline,
             watcher: Watcher, drill: ActiveDrill) -> "OnCall":
        return cls(settings, scenario, choices, target, timeline, watcher, drill,
                   live_at_start=target.live_model(), offsets=start_offsets(settings))

    def page(self, on_page: Callable[[Page], None]) -> None:
        self.response.paged_at = self.timeline.now()
        self.timeline.mark("phase", "paged")
        on_page(Page(self.drill.id, self.scenario.symptoms, self.drill.run_folder, self.drill.deadline or 0.0))

    def tick(self) -> Answer | None:
        """Journal the candidate's new commands, refresh signals.json; the answer when one came."""
        for action in self.journal.new():
            self.response.actions += 1
            at = action.at - self.timeline.t0
            self.timeline.mark("action", action.command, at=at, effect=action.kind, exit_code=action.exit_code,
                               seconds=action.seconds, result=action.result, error=action.error)
            since_page = at - (self.response.paged_at or 0.0)
            if action.kind == LOOK and self.response.detected_s is None and since_page >= 0:
                self.response.detected_s = since_page
            if action.kind == CHANGE and self.response.first_change_s is None and since_page >= 0:
                self.response.first_change_s = since_page
        if time.monotonic() >= self._snapshot_at:
            self._snapshot_at = time.monotonic() + SNAPSHOT_EVERY_S
            write_snapshot(self.drill.run_folder, self.drill.id, self.timeline, dict(self.watcher.dlq_reasons),
                           self.watcher.sample_every)
        pending = self.desk.pending()
        if pending is None:
            return None
        answer, self._check_timeout = pending
        try:
            validate_answer(answer, self.choices)
        except AnswerError as exc:  # the command validated it too: a hand-written request
            self.desk.refuse(str(exc))
            return None
        return answer

    def expired(self) -> bool:
        return bool(self.drill.deadline) and time.time() >= (self.drill.deadline or 0)

    def finish(self, answer: Answer | None, ctx: FaultContext, refs: dict[str, float], factor: float,
               report: Reporter = silent) -> Score:
        """Score the answer (or its absence at the time limit) while the faults are still as the
        candidate left them: the mitigation is checked before the drill recovers anything."""
        say = self.desk.say if answer is not None else (lambda line: report("drill", line))
        conditions = self.scenario.explain.mitigation
        now = self.timeline.now()
        if answer is None:
            self.response.timed_out = True
            self.timeline.mark("phase", "time limit: no answer")
            score = unanswered(self.scenario, "no answer before the time limit (scored as not mitigated)")
        else:
            self.answer = answer
            self.response.answered_s = now - (self.response.paged_at or 0.0)
            if self.response.detected_s is None:
                self.response.detected_s = self.response.answered_s
            self.timeline.mark("action", "answer", component=answer.component, root_cause=answer.root_cause,
                               fix=answer.fix, signal=answer.signal, reasoning=answer.reasoning)
            reconcile(ctx, self.timeline)
            mitigation = None
            if conditions:
                say(f"answer received; checking the mitigation (up to {self._check_timeout:.0f}s)")
                self.timeline.mark("phase", "mitigation check")
                mctx = MitigationContext(self.settings, self.target, self.timeline, refs.get("fault"),
                                         self.offsets, self.live_at_start)
                mitigation = verify(mctx, conditions, self.timeline.now(), self._check_timeout, say)
                self.timeline.mark("phase", "mitigation verified" if mitigation[0] else "mitigation not verified",
                                   checks=mitigation[1])
            fired = {m.name for m in self.timeline.marks_of("alert")}
            fired |= {o.expectation.signal for o in check_all(self.scenario.expect, self.timeline, refs, factor)
                      if o.fired}
            # Costed from what was measured until the mitigation held (or now): nothing injected, nothing lost.
            self.impact = (incident_estimate(self.timeline, refs.get("fault"))
                           or IncidentEstimate.nothing(default_impact_model().currency))
            score = score_answer(self.scenario, answer, fired, mitigation, self.impact)
        back = back_to_normal_at(conditions, self.timeline, self.timeline.now())
        if back is not None and self.response.paged_at is not None and score.mitigated:
            self.response.mitigated_s = max(0.0, back - self.response.paged_at)
        self.score = score
        return score

    def hand_back(self, result: dict[str, Any]) -> None:
        """The score to the waiting `gameday answer` (when it was an answer that ended the drill)."""
        if self.answer is not None:
            self.desk.done(result)


def reconcile(ctx: FaultContext, timeline: Timeline) -> None:
    """Align the simulated faults with what the candidate did (e.g. a rollback takes the slow model's
    latency with it) before the check."""
    for mark in timeline.marks_of("fault"):
        injector = REGISTRY[mark.name]
        params = injector.parse(mark.detail.get("params") or {})
        if (changed := injector.reconcile(ctx, params)) is not None:
            timeline.mark("note", f"{mark.name}: follows the candidate's action", message=changed)
