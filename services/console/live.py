"""What the console runs: one drill at a time (the core's Drill, in a thread), the answer of a blind
drill (handed to that drill, as `gameday answer` does), and faults injected by hand — each over the same functions
the CLI calls. The pages and the event stream read this state; only this module changes it.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from ..config import Settings
from ..drill.active import ActiveDrill
from ..drill.answer import Answer, Score, validate_answer
from ..drill.catalog import Catalog
from ..drill.faults import REGISTRY, FaultContext
from ..drill.lock import DrillBusy, running_drill
from ..drill.runner import Drill, DrillResult
from ..drill.scenario import Scenario
from ..drill.handoff import submit_answer
from ..drill.targets import LocalTarget, State
from ..drill.timeline import Timeline
from ..errors import GamedayError

DEPLOYING, RUNNING, DONE, FAILED = "deploying", "running", "done", "failed"
STEP_WORDS = ("ready", "created", "fetching", "formatting", "starting", "restarted", "pausing", "promoting")


class ConsoleError(GamedayError):
    kind = "ConsoleError"


@dataclass
class Problem:
    """A GamedayError as a page shows it: what was wrong, what to do next."""

    kind: str
    message: str
    hint: str | None = None

    @classmethod
    def of(cls, exc: BaseException) -> "Problem":
        if isinstance(exc, GamedayError):
            return cls(exc.kind, str(exc.args[0]) if exc.args else str(exc), exc.hint)
        return cls(type(exc).__name__, str(exc) or repr(exc), "see the console's terminal for the traceback")


class Progress:
    """A Reporter (component, message) that keeps the latest line and the finished steps."""

    def __init__(self) -> None:
        self.line = ""
        self.steps: deque[str] = deque(maxlen=30)

    def __call__(self, component: str, message: str) -> None:
        self.line = f"{component}: {message}"
        if message.startswith(STEP_WORDS):
            self.steps.append(self.line)


@dataclass
class DrillJob:
    id: int
    drill: Drill
    picked_at_random: bool
    progress: Progress
    started_at: float = field(default_factory=time.time)
    result: DrillResult | None = None
    problem: Problem | None = None
    ended_at: float | None = None

    @property
    def scenario(self) -> Scenario:
        return self.drill.scenario

    @property
    def blind(self) -> bool:
        return self.drill.blind

    @property
    def fast(self) -> bool:
        return self.drill.fast

    @property
    def timeline(self) -> Timeline | None:
        return self.drill.timeline

    @property
    def state(self) -> str:
        if self.problem is not None:
            return FAILED
        if self.ended_at is not None:
            return DONE
        return RUNNING if self.drill.timeline is not None else DEPLOYING

    @property
    def active(self) -> bool:
        return self.state in (DEPLOYING, RUNNING)


@dataclass
class AnswerJob:
    answer: Answer
    started_at: float = field(default_factory=time.time)
    progress: Progress = field(default_factory=Progress)
    score: Score | None = None
    folder: str | None = None
    problem: Problem | None = None

    @property
    def active(self) -> bool:
        return self.score is None and self.problem is None


@dataclass
class HandFault:
    """A fault the interviewer injected from the panel (on until recovered, or its burst ends)."""

    index: str
    kind: str
    params: dict[str, Any]
    at: float = field(default_factory=time.time)
    message: str = ""


class Console:
    def __init__(self, settings: Settings, catalog: Catalog | None = None, check_timeout_s: float = 60.0) -> None:
        self.settings, self.catalog, self.check_timeout_s = settings, catalog or Catalog(), check_timeout_s
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._hand_ids = itertools.count(1)
        self.job: DrillJob | None = None
        self.answer_job: AnswerJob | None = None
        self.hand_faults: list[HandFault] = []
        self._components: tuple[float, dict[str, str]] = (0.0, {})

    # ---- drills ----------------------------------------------------------------------------

    def start_drill(self, name: str | None, fast: bool, blind: bool, seed: int = 42) -> DrillJob:
        """Start a drill in the background (name None: one at random). DrillBusy when a drill (or an
        answer's check) runs here or in another process on this run folder; ConsoleError when a
        blind drill still waits for its answer."""
        with self._lock:
            if self.job is not None and self.job.active:
                what = "a blind drill" if self.job.blind else f"drill {self.job.scenario.name}"
                raise DrillBusy(f"{what} is already running (started {time.time() - self.job.started_at:.0f}s ago):"
                                " one drill at a time", hint="watch it in Live, or stop it there first")
            if self.answer_job is not None and self.answer_job.active:
                raise DrillBusy("an answer is being checked (the signals are watched for the mitigation)",
                                hint="wait for its score in the candidate panel")
            if (holder := running_drill(self.settings)) is not None:
                raise DrillBusy(f"{holder.get('what', 'a drill')} is already running on this stack "
                                f"(pid {holder.get('pid', '?')}, outside this console): one drill at a time",
                                hint="wait until it ends, or stop it in its terminal (Ctrl-C)")
            scenario = self.catalog.pick_random() if name is None else self.catalog.get(name)
            progress = Progress()
            drill = Drill(self.settings, scenario, fast=fast, blind=blind, report=progress, seed=seed)
            job = DrillJob(next(self._ids), drill, name is None, progress)
            self.job, self.answer_job = job, None
            # A drill starts from a clean slate (it resets every knob and starts what is stopped).
            self.hand_faults.clear()
        threading.Thread(target=self._run_drill, args=(job,), name=f"console-drill-{job.id}", daemon=True).start()
        return job

    def _run_drill(self, job: DrillJob) -> None:
        try:
            job.result = job.drill.run()
        except BaseException as exc:  # the page shows it; the thread must not die silently
            job.problem = Problem.of(exc)
            if not isinstance(exc, GamedayError):
                import traceback

                traceback.print_exc()
        finally:
            job.ended_at = time.time()

    def stop_drill(self) -> bool:
        job = self.job
        if job is None or not job.active:
            return False
        job.drill.stop()
        return True

    def blind_hidden(self) -> bool:
        """Whether the candidate's view hides the scenario now: a blind drill runs or waits for its answer."""
        job = self.job
        if job is not None and job.blind and job.active:
            return True
        return self.blind_drill_running()

    def blind_drill_running(self) -> bool:
        """A blind drill runs on this run folder (this console's, or `gameday drill --blind` in a terminal)
        and takes an answer."""
        drill = ActiveDrill.current(self.settings)
        return drill is not None and drill.blind

    # ---- faults by hand --------------------------------------------------------------------

    def _context(self) -> FaultContext:
        """The running drill's own context (its notes: the drill's rate, the model live before), else a fresh one."""
        job = self.job
        if job is not None and job.active and job.drill.fault_context is not None:
            return job.drill.fault_context
        return FaultContext(target=LocalTarget(self.settings), settings=self.settings)

    def inject(self, kind: str, params: dict[str, Any]) -> HandFault:
        injector = REGISTRY[kind]
        parsed = injector.parse(params)
        message = injector.inject(self._context(), parsed)
        fault = HandFault(f"hand-{next(self._hand_ids)}", kind, params, message=message)
        with self._lock:
            self.hand_faults.append(fault)
        self._mark("fault", kind, index=fault.index, params=params, message=message, by_hand=True)
        if (seconds := injector.recover_after_s(parsed)) is not None:  # a burst ends by itself
            timer = threading.Timer(seconds, self._recover_quietly, args=(fault,))
            timer.daemon = True
            timer.start()
        return fault

    def recover(self, kind: str, params: dict[str, Any]) -> str:
        """Recover a fault kind with these params (any fault: one from the panel, or a scenario's)."""
        injector = REGISTRY[kind]
        message = injector.recover(self._context(), injector.parse(params))
        with self._lock:
            done = [f for f in self.hand_faults if f.kind == kind and (not params or f.params == params)]
            self.hand_faults = [f for f in self.hand_faults if f not in done]
        self._mark("recover", kind, index=done[0].index if done else None, message=message, by_hand=True)
        return message

    def _recover_quietly(self, fault: HandFault) -> None:
        try:
            self.recover(fault.kind, fault.params)
        except GamedayError:
            pass

    def recover_hand_faults(self) -> list[str]:
        """Every fault still on from the panel, recovered (the console's exit leaves nothing broken)."""
        done = []
        for fault in list(self.hand_faults):
            try:
                done.append(self.recover(fault.kind, fault.params))
            except GamedayError as exc:
                done.append(f"recovering {fault.kind} failed: {exc}")
        return done

    def _mark(self, kind: str, name: str, **detail: Any) -> None:
        job = self.job
        if job is not None and job.state == RUNNING and job.timeline is not None:
            job.timeline.mark(kind, name, **detail)

    # ---- the answer ------------------------------------------------------------------------

    def submit_answer(self, answer: Answer) -> AnswerJob:
        """Check the answer's ids now (a clear error), then score it in the background."""
        with self._lock:
            if self.answer_job is not None and self.answer_job.active:
                raise ConsoleError("an answer is already being checked", hint="wait for its score")
            ActiveDrill.load(self.settings)  # NoActiveDrill when no drill waits for an answer
            validate_answer(answer, self.catalog.choices)
            job = self.answer_job = AnswerJob(answer)
        threading.Thread(target=self._run_answer, args=(job,), name="console-answer", daemon=True).start()
        return job

    def _run_answer(self, job: AnswerJob) -> None:
        try:
            # The drill (the console's thread, or another process) checks the mitigation, scores and ends.
            result = submit_answer(self.settings, job.answer, self.check_timeout_s, job.progress)
            job.folder, job.score = str(result["folder"]), Score.from_dict(result)
        except BaseException as exc:
            job.problem = Problem.of(exc)

    # ---- the stack -------------------------------------------------------------------------

    def components(self, max_age_s: float = 1.0) -> dict[str, str]:
        """Each component's state (the Target's words), read at most once a second for every viewer."""
        read_at, states = self._components
        if time.monotonic() - read_at > max_age_s:
            try:
                states = {name: str(state) for name, state in LocalTarget(self.settings).components().items()}
            except GamedayError:
                states = {}
            self._components = (time.monotonic(), states)
        return states

    def stack_up(self) -> bool:
        return any(state == State.UP for state in self.components().values())

    # ---- the end ---------------------------------------------------------------------------

    def shutdown(self, wait_s: float = 60.0) -> None:
        """Stop a running drill (it recovers its faults as always) and recover the panel's faults."""
        job = self.job
        if job is not None and job.active:
            job.drill.stop()
            deadline = time.monotonic() + wait_s
            while job.active and time.monotonic() < deadline:
                time.sleep(0.2)
        self.recover_hand_faults()
