"""`gameday drill NAME`: deploy → warm up → break → watch → check → debrief.

Phases, as AIOpsLab's orchestrator prints them: the stack is brought up if needed and a
model trained if none exists; the services' knobs are reset and the monitor starts afresh;
warm-up traffic runs; the faults fire on schedule (and recover after their `for`); the
watcher samples every signal; each expectation is checked against its time bound; once every
one fired, the scenario's fix is tried live (the faults recovered) and its mitigation checks
must hold; the run folder gets the timeline, the result and the debrief. In blind mode the
faults stay on for the candidate to find and fix.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from ..app import open_stack
from ..config import Settings
from ..errors import GamedayError, StackError
from ..runtime.kafka import kafka_options
from ..runtime.shutdown import recovered_on_exit
from ..stack.component import Reporter, silent
from ..stack.endpoints import kafka_bootstrap
from ..stack.state import RunFolder
from ..stack.supervisor import Stack
from ..history import ensure_trained
from ..impact import IncidentEstimate
from ..models import control as models
from .active import ActiveDrill, new_drill_id
from .catalog import Catalog
from .expect import Outcome, check_all, holds
from .incident import incident_estimate
from .faults import REGISTRY, FaultContext
from .lock import exclusive_drill
from .precision import JudgedAlert, false_alarms, judge_alerts, tally
from .profile import drill_profile, with_profile
from .scenario import FaultStep, Scenario
from .targets import LocalTarget, State, Target, get_knobs, reset_knobs, run_action, set_knobs
from .mitigation import MitigationContext, check_skipped, longest_hold, start_offsets
from .oncall import OnCall, Page
from .timeline import Timeline
from .watch import Watcher, pipeline_groups

KNOB_COMPONENTS = ("producer", "ingest", "serving", "monitor")
TICK_S = 0.5
# After every expectation fired, keep watching this long (context for the plots), then stop early.
SETTLE_S = 6.0
# A freshly started (or restarted) stack gets this long before the warm-up starts.
FRESH_STACK_SETTLE_S = 5.0
# At most this long for the last drill's alerts to clear before the warm-up starts (a monitor that
# cannot be reset).
QUIET_TIMEOUT_S = 90.0
# A release on a cluster is neither started nor repaired by the drill: an install (a broker restarted) or
# the last drill can leave it catching up, and its pods starve on a small node. The warm-up starts once
# ETAs flow and the pipeline's lag stays below the scenarios' "caught up" (200 events) this long.
FLOWING_HOLD_S = 10.0
FLOWING_MAX_LAG = 200
FLOWING_TIMEOUT_S = 240.0
# At most this long for the mitigation checks to hold once the faults are recovered.
MITIGATION_TIMEOUT_S = 60.0
# The fix skipped: its series are read for their hold plus this long (a few samples more than a pass needs).
SKIPPED_MARGIN_S = 2.0
# A blind drill ends this long after the page when nobody answered (scored as not mitigated).
BLIND_TIME_LIMIT_S = 20 * 60.0


class DrillError(GamedayError):
    kind = "DrillError"


@dataclass
class Timing:
    """The scenario's clock, plain or accelerated (--fast)."""

    warmup: float
    duration: float
    factor: float

    @classmethod
    def of(cls, scenario: Scenario, fast: bool) -> "Timing":
        if fast:
            return cls(scenario.fast.warmup, scenario.fast.duration, scenario.fast.time_factor)
        return cls(scenario.traffic.warmup, scenario.traffic.duration, 1.0)


@dataclass(frozen=True)
class MitigationCheck:
    """A mitigation condition of the scenario, checked live after the faults were recovered."""

    check: str
    held: bool
    detail: str


@dataclass
class DrillResult:
    scenario: Scenario
    folder: Path
    outcomes: list[Outcome]
    refs: dict[str, float]
    wall_s: float
    fast: bool = False
    blind: bool = False
    control: bool = False
    stack_started: bool = False
    trained: bool = False
    # Components that died during the drill without a fault aimed at them (a finding in itself).
    crashed: list[str] = field(default_factory=list)
    # Every alert of the run, judged (see precision.py).
    alerts: list[JudgedAlert] = field(default_factory=list)
    # The fault parameters a blind drill drew from the scenario's ranges.
    drawn: list[dict[str, Any]] = field(default_factory=list)
    # The scenario's mitigation checks, tried live once the faults were recovered (non-blind drills).
    mitigation: list[MitigationCheck] = field(default_factory=list)
    # The same checks with the fix skipped (the faults still on): they must NOT all hold, or a blind
    # candidate could pass the mitigation without doing anything (non-blind drills).
    unmitigated: list[MitigationCheck] = field(default_factory=list)
    # What the incident cost, from the signals measured (None: no fault fired, e.g. a control run).
    impact: IncidentEstimate | None = None
    # Ended early on request (Drill.stop): its expectations had less time than their bounds.
    stopped: bool = False
    debrief: dict[str, Path] = field(default_factory=dict)
    # Blind: the candidate's score (None when the drill was not blind) and how they responded.
    score: Any = None
    response: Any = None
    answer: Any = None
    target: str = "local"  # where it ran: the local stack, or a release on Kubernetes (k8s)

    @property
    def passed(self) -> bool:
        """Drill: every expected signal fired, no alert came before the fault or unexpected, and the
        mitigation checks held once the faults were recovered — and did not all hold while the fix was
        skipped. Control run: no expected signal fired and no alert at all."""
        fired = [o.fired for o in self.outcomes]
        if self.control:
            return not any(fired) and not self.alerts
        return (all(fired) and not false_alarms(self.alerts) and all(m.held for m in self.mitigation)
                and not self.passes_unmitigated)

    @property
    def passes_unmitigated(self) -> bool:
        """The mitigation check passed with the fix skipped: it cannot tell a fix from no fix."""
        return bool(self.unmitigated) and all(m.held for m in self.unmitigated)

    def missing(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.fired == self.control]

    def as_dict(self) -> dict[str, Any]:
        return {"scenario": self.scenario.name, "folder": str(self.folder), "passed": self.passed,
                "fast": self.fast, "target": self.target, "blind": self.blind, "control": self.control, "wall_s": round(self.wall_s, 1),
                "stack_started": self.stack_started, "trained": self.trained, "crashed": self.crashed,
                "stopped": self.stopped,
                "refs": self.refs, "drawn": self.drawn,
                "alert_counts": tally(self.alerts), "alerts": [a.as_dict() for a in self.alerts],
                "outcomes": [o.as_dict() for o in self.outcomes],
                "mitigation": [{"check": m.check, "held": m.held, "detail": m.detail} for m in self.mitigation],
                "unmitigated": [{"check": m.check, "held": m.held, "detail": m.detail} for m in self.unmitigated],
                "impact": self.impact.as_dict() if self.impact is not None else None,
                "score": self.score.as_dict() if self.score is not None else None,
                "answer": asdict(self.answer) if self.answer is not None else None,
                "response": self.response.as_dict() if self.response is not None else None,
                "debrief": {k: str(v) for k, v in self.debrief.items()}}

    def answer_dict(self) -> dict[str, Any]:
        """What `gameday answer` prints: the score, the revealed scenario, the response times, the debrief."""
        return {**(self.score.as_dict() if self.score is not None else {}), "folder": str(self.folder),
                "answer": asdict(self.answer) if self.answer is not None else None,
                "response": self.response.as_dict() if self.response is not None else None,
                "drawn": self.drawn, "debrief": {k: str(v) for k, v in self.debrief.items()}}


def drills_dir(settings: Settings) -> Path:
    return settings.run_path / "drills"


def new_run_folder(settings: Settings, label: str) -> Path:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
    folder = drills_dir(settings) / f"{stamp}-{label}"
    suffix = 1
    while folder.exists():
        suffix += 1
        folder = drills_dir(settings) / f"{stamp}-{label}-{suffix}"
    folder.mkdir(parents=True)
    return folder


# ---- deploy ----------------------------------------------------------------------------------

def ensure_stack(settings: Settings, report: Reporter = silent,
                 profile: dict | None = None) -> tuple[Stack, bool, list[str]]:
    """The running stack of the settings' run folder with the drill's profile laid over the settings it
    runs with: started now if nothing runs, else the components whose settings changed restarted.
    (stack, started?, restarted)"""
    stack = open_stack(settings, report=report)
    wanted = with_profile(stack.settings, profile or {})
    states = {s.name: s.state for s in stack.status()}
    if any(state in ("running", "paused") for state in states.values()):
        restarted = stack.reconfigure(wanted)
        if restarted:
            report("drill", f"restarted {', '.join(restarted)} with the drill's settings "
                            "(time scale, short monitor windows)")
        return stack, False, restarted
    stack.up(wanted)
    return stack, True, []


def train_if_needed(target: Target, settings: Settings, report: Reporter = silent) -> bool:
    """Train once per run folder. Live traffic is stopped meanwhile: the trainer waits until the
    ingested labels stop growing, which they never would with the producer running."""
    if models.has_model(settings):
        return False
    if target.components().get("producer") == State.UP:
        report("drill", "pausing live traffic while the first model trains")
        target.chaos("stop", "producer")
    return ensure_trained(settings, report)  # start_missing() brings the producer back


def monitor_status(target: Target) -> dict | None:
    """The monitor's /status (active alerts, checks failing recently, the last judged window), or None."""
    import httpx

    try:
        return httpx.get(target.admin_url("monitor") + "/status", timeout=3.0).json()
    except (httpx.HTTPError, ValueError, GamedayError):
        return None


def wait_for_quiet_monitor(target: Target, since: float, report: Reporter = silent,
                           timeout_s: float = QUIET_TIMEOUT_S) -> list[str]:
    """Wait until the monitor is quiet: no alert on, no check failing in its recent windows, and its
    last judged window begun after `since` (when this drill reset the faults), or nothing judged yet.

    Every alert of the warm-up counts as baseline noise: the windows of the last drill — their
    labels come seconds after its recovery — must be judged and forgotten first. Returns what was
    still on at the timeout (the drill goes on, and those alerts will count)."""
    deadline = time.monotonic() + timeout_s
    while True:
        status = monitor_status(target)
        if status is None:
            return []
        last = status.get("last_window") or {}
        started = last.get("first_event")
        fresh = not last or (started is not None and datetime.fromisoformat(started).timestamp() >= since)
        noisy = sorted(set(status.get("active_alerts") or []) | set(status.get("recent_failures") or []))
        if (fresh and not noisy) or time.monotonic() > deadline:
            return noisy if not fresh or noisy else []
        report("drill", "waiting for the monitor to judge clean windows"
                        + (f" (still failing: {', '.join(noisy)})" if noisy else ""))
        time.sleep(2.0)


def fresh_monitor(target: Target, report: Reporter = silent) -> None:
    """Start the monitor afresh for this drill: the windows it has not judged yet hold the traffic before
    the drill (a previous drill's fault, its recovery), so they are dropped (counted) with its alerts'
    history. A monitor that cannot be reset: wait until it is quiet instead."""
    try:
        done = run_action(target, "monitor", "reset")
    except StackError as exc:
        report("drill", f"the monitor cannot start afresh ({exc}): waiting until it is quiet")
        wait_for_quiet_monitor(target, time.time(), report)
        return
    report("drill", f"monitor started afresh ({done.get('predictions_dropped', 0)} predictions of earlier "
                    "windows dropped)")


def settle(report: Reporter = silent, seconds: float = FRESH_STACK_SETTLE_S) -> None:
    """Let a fresh stack answer its first requests (cold caches, first broker metadata) before
    the warm-up measures its baseline. Its features are fresh already: the drill profile's
    producer starts with the last seconds of trips (producer.warm_start_s)."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        report("drill", f"fresh stack: first requests ({left:.0f}s)")
        time.sleep(min(1.0, left))


def await_flowing(target: Target, settings: Settings, bootstrap: str, report: Reporter = silent) -> float:
    """Wait until predictions flow and the pipeline's consumer lag stays low (FLOWING_*); the seconds waited.
    Measured as the drill measures (a Watcher of its own): a backlog drained in the warm-up judged windows
    whose labels had come before the monitor's reset (labels.missing in the warm-up)."""
    watcher = Watcher(bootstrap, target, Timeline(), security=kafka_options(settings.kafka), topics=settings.topics,
                      lag_groups=pipeline_groups(settings)).start()
    started = time.monotonic()
    steady_since: float | None = None
    try:
        while True:
            values = watcher.sample_once()
            throughput, lag = values.get("throughput") or 0.0, values.get("consumer_lag")
            now = time.monotonic()
            flowing = throughput > 0 and lag is not None and lag < FLOWING_MAX_LAG
            steady_since = (steady_since or now) if flowing else None
            if steady_since is not None and now - steady_since >= FLOWING_HOLD_S:
                return now - started
            if now - started > FLOWING_TIMEOUT_S:
                raise DrillError(f"the {target.kind} target's ETAs did not flow steadily within {FLOWING_TIMEOUT_S:.0f} s "
                                 f"(predictions {throughput:.1f}/s, consumer lag {lag if lag is not None else 'unknown'})",
                                 hint="look at its services' readiness and logs (`gameday k8s status`, kubectl logs)")
            report("drill", f"waiting for the release to flow: predictions {throughput:.1f}/s, consumer lag "
                            f"{'unknown' if lag is None else f'{lag:.0f}'}")
            time.sleep(watcher.sample_every)
    finally:
        watcher.stop()


def start_missing(target: Target, settings: Settings, report: Reporter = silent) -> list[str]:
    """Start the stack's services that are not running (serving is skipped by `up` until a model
    exists; a previous drill or candidate may have left one stopped); resume paused ones."""
    started = []
    for name, state in target.components().items():
        if name not in target.required or (name == "kafka" and settings.kafka.mode != "local"):
            continue
        if state == State.PAUSED:
            target.chaos("resume", name)
        elif state in (State.DEAD, State.STOPPED, State.ABSENT):
            report("drill", f"starting {name} ({state})")
            target.chaos("start", name)
            started.append(name)
    return started


def check_components(target: Target) -> None:
    states = target.components()
    missing = [c for c in target.required if c not in states]
    if missing:
        raise DrillError(f"the {target.kind} target has no {', '.join(missing)}: a drill needs {', '.join(target.required)}",
                         hint="the local stack's parts are listed in mlgameday/app.py; see `gameday status`")
    down = [c for c in target.required if states[c] != State.UP]
    if down:
        raise DrillError(f"{', '.join(f'{c} is {states[c]}' for c in down)}: the drill needs the whole stack running",
                         hint="start them with `gameday chaos start NAME`, or `gameday down` then `gameday drill` again")


def reset_faults(target: Target, report: Reporter = silent) -> None:
    """Every knob of every service back to its 'off' default (a clean slate between drills). On a
    cluster, a service whose admin port was not forwarded is said and passed over: a knob fault on it
    fails when injected, naming the port-forward."""
    for component in KNOB_COMPONENTS:
        if target.endpoint(component, "http") is None:
            report("drill", f"{component}'s knobs are not reachable on this {target.kind} target: not reset")
            continue
        reset_knobs(target, component)


def baseline_rate_multiplier(target: Target, settings: Settings, scenario: Scenario) -> float:
    """The producer multiplier that gives the scenario's rate on the running producer."""
    try:
        import httpx

        status = httpx.get(target.admin_url("producer") + "/status", timeout=2.0).json()
        base = float(status.get("rate") or status.get("base_rate") or settings.producer.rate)
    except Exception:
        base = settings.producer.rate
    return scenario.traffic.rate / base


# ---- the run ---------------------------------------------------------------------------------

@dataclass
class ScheduledAction:
    at: float
    action: str  # inject | recover
    index: int
    step: FaultStep
    done: bool = False


class Drill:
    """One run of one scenario. `run()` does every phase; the parts are methods for tests and the CLI."""

    def __init__(self, settings: Settings, scenario: Scenario, *, fast: bool = False, blind: bool = False,
                 control: bool = False, report: Reporter = silent, seed: int = 42,
                 target: Target | None = None, time_limit_s: float = BLIND_TIME_LIMIT_S,
                 on_page: Callable[[Page], None] | None = None) -> None:
        self.settings, self.scenario = settings, scenario
        # None: the local stack of the run folder (started, trained and repaired as needed).
        # A cluster target: deployed by `gameday k8s install`; the drill only breaks and watches.
        self.target = target
        self.fast, self.blind, self.control, self.report, self.seed = fast, blind, control, report, seed
        # Blind: the page is shown (on_page) when the first fault fires; the faults stay on until the
        # candidate answers or time_limit_s after the page.
        self.time_limit_s, self.on_page = time_limit_s, on_page or (lambda page: None)
        self.oncall: OnCall | None = None
        self.timing = Timing.of(scenario, fast)
        self.profile = drill_profile(scenario, seed)
        # A blind drill draws the faults' varied parameters (seeded): the same scenario is not the same run.
        if blind:
            import numpy as np

            rng = np.random.default_rng([seed, 29])
            self.steps = [step.drawn(rng) for step in scenario.faults]
        else:
            self.steps = list(scenario.faults)
        self.drawn = [{"kind": step.kind, "at": step.at, "params": step.params} for step in self.steps if step.vary]
        # What a live view reads while the drill runs (the console): the timeline once the warm-up
        # starts, the reference moments (the first fault, the recovery) as they happen.
        self.timeline: Timeline | None = None
        self.refs: dict[str, float] = {}
        self.fault_context: FaultContext | None = None  # a fault injected by hand meanwhile shares its notes
        self._stopping = threading.Event()

    def stop(self) -> None:
        """End the watch early (a user's Stop, a console shutting down): the drill then ends as it
        always does — faults recovered (blind: left on for the answer), the debrief written."""
        self._stopping.set()

    @property
    def stopped(self) -> bool:
        return self._stopping.is_set()

    def run(self) -> DrillResult:
        """Every phase, holding the run folder's drill lock: one drill at a time on a stack."""
        what = "a blind drill" if self.blind else f"drill {self.scenario.name}"
        with exclusive_drill(self.settings, what):
            return self._run()

    def _run(self) -> DrillResult:
        started = time.monotonic()
        target, bootstrap, stack_started, trained = self._deploy()
        reset_faults(target, self.report)
        fresh_monitor(target, self.report)
        # In blind mode the injectors' progress lines would name the fault: keep them quiet.
        ctx = self.fault_context = FaultContext(target=target, settings=self.settings,
                                                report=silent if self.blind else self.report)
        ctx.memory["rate_multiplier"] = baseline_rate_multiplier(target, self.settings, self.scenario)
        set_knobs(target, "producer", {"rate_multiplier": ctx.memory["rate_multiplier"]})
        # A blind run folder is named after a neutral id: the candidate can list the drills folder.
        drill_id = new_drill_id()
        label = drill_id if self.blind else self.scenario.name + ("-control" if self.control else "")
        folder = new_run_folder(self.settings, label)
        timeline = self.timeline = Timeline()
        watcher = Watcher(bootstrap, target, timeline, security=kafka_options(self.settings.kafka),
                          topics=self.settings.topics, time_factor=self.timing.factor,
                          lag_groups=pipeline_groups(self.settings)).start()
        refs = self.refs
        active: list[ScheduledAction] = []
        mitigation: list[MitigationCheck] = []
        unmitigated: list[MitigationCheck] = []
        # For the fix skipped (below): what a blind drill's check compares with, taken before any fault.
        mitigation_ctx = self._mitigation_context(target, timeline) if self._skip_is_checked() else None
        drill = ActiveDrill.claim(self.settings, drill_id, folder, self.blind, None)
        logs = RunFolder(self.settings.run_path)
        logs.mark_logs(f"drill {drill_id} started", drill=drill_id)
        try:
            if self.blind:
                catalog = Catalog(self.scenario.folder.parent if self.scenario.folder else None)
                self.oncall = OnCall.open(self.settings, self.scenario, catalog.choices, target, timeline, watcher, drill)
            # Ctrl-C, an error, SIGTERM/SIGHUP or an exit: an interrupted drill leaves nothing broken.
            with recovered_on_exit(lambda: self._recover_all(ctx, timeline, active)):
                self._break_and_watch(ctx, timeline, refs, active)
                outcomes = check_all(self.scenario.expect, timeline, refs, self.timing.factor)
                if all(o.fired for o in outcomes):
                    if mitigation_ctx is not None:
                        unmitigated = self._skip_the_fix(mitigation_ctx, timeline, refs, outcomes, active)
                    if self._fix_is_checked():
                        mitigation = self._try_the_fix(ctx, timeline, active, refs)
                if self.oncall is not None:
                    self.oncall.finish(self._answer, ctx, refs, self.timing.factor, self.report)
        finally:
            self._recover_all(ctx, timeline, active)
            watcher.stop()
            drill.release(self.settings)
            logs.mark_logs(f"drill {drill_id} ended", drill=drill_id)
        crashed = self._crashed(target, timeline)
        outcomes = check_all(self.scenario.expect, timeline, refs, self.timing.factor)
        timeline.save(folder / "timeline.jsonl")
        result = DrillResult(self.scenario, folder, outcomes, refs, time.monotonic() - started, self.fast,
                             self.blind, self.control, stack_started, trained, crashed,
                             judge_alerts(self.scenario, timeline, refs.get("fault"), self.control), self.drawn,
                             mitigation, unmitigated, stopped=self.stopped, target=target.kind)
        if not self.control:
            # Blind: costed when the answer came (until the mitigation held); unanswered: until now.
            answered = self.oncall.impact if self.oncall is not None else None
            result.impact = answered or incident_estimate(timeline, refs.get("fault"))
        from .debrief import write_debrief

        if self.oncall is not None:
            result.score, result.response, result.answer = self.oncall.score, self.oncall.response, self.oncall.answer
        result.debrief = write_debrief(result, timeline, self.settings, watcher_counts(watcher))
        (folder / "result.json").write_text(json.dumps(result.as_dict(), indent=2))
        if self.oncall is not None:
            self.oncall.hand_back(result.answer_dict())
        return result

    def _deploy(self) -> tuple[Target, str, bool, bool]:
        """(target, broker address, stack started now?, model trained now?), ready for the drill."""
        if self.target is not None:  # a cluster: deployed by `gameday k8s install`
            check_components(self.target)
            if not self.settings.kafka.bootstrap:
                raise DrillError("a drill on a cluster needs the broker's address to watch the topics",
                                 hint="port-forward Kafka and set GAMEDAY_KAFKA__BOOTSTRAP=127.0.0.1:PORT")
            await_flowing(self.target, self.settings, self.settings.kafka.bootstrap, self.report)
            return self.target, self.settings.kafka.bootstrap, False, False
        self.report("drill", f"deploying the stack for {'a hidden scenario' if self.blind else self.scenario.name}")
        stack, stack_started, restarted = ensure_stack(self.settings, self.report, self.profile)
        self.settings = stack.settings  # what the stack runs with now: the drill's profile laid over
        target = LocalTarget(self.settings, stack)
        trained = train_if_needed(target, self.settings, self.report)
        restarted += start_missing(target, self.settings, self.report)
        check_components(target)
        self._ensure_live_model(target)  # before the settle: the warm-up's first window is the scenario's model's
        if stack_started or trained or restarted:
            settle(self.report)
        return target, kafka_bootstrap(stack.settings), stack_started, trained

    def _ensure_live_model(self, target: Target) -> None:
        try:
            live = target.serving_models()
        except StackError:
            return  # serving without model selection: it serves its configured model
        wanted = target.resolve_model(self.scenario.stack.model)
        if (live.get("live") or {}).get("tag") != wanted:
            target.promote(wanted, role="live", report=self.report)
        if live.get("canary"):
            target.clear_canary(report=self.report)

    def schedule(self) -> list[ScheduledAction]:
        t0, factor = self.timing.warmup, self.timing.factor
        actions = []
        for i, step in enumerate(self.steps):
            start = t0 + step.at * factor
            actions.append(ScheduledAction(start, "inject", i, step))
            after = step.for_ if step.for_ is not None else REGISTRY[step.kind].recover_after_s(step.parsed())
            if after is not None and not self.blind:  # blind: the fault waits for the candidate's fix
                actions.append(ScheduledAction(start + after * factor, "recover", i, step))
        return sorted(actions, key=lambda a: a.at)

    def _break_and_watch(self, ctx: FaultContext, timeline: Timeline, refs: dict[str, float],
                         active: list[ScheduledAction]) -> None:
        """Fire and recover the faults on schedule until the end (or until every signal fired).
        Blind: from the page on, until the candidate answers or the time limit."""
        actions = self.schedule()
        end = self.timing.warmup + self.timing.duration
        timeline.mark("phase", "warm-up")
        self.report("drill", f"warm-up traffic for {self.timing.warmup:.0f}s")
        phase_break = False
        last_fired_at: float | None = None
        self._answer = None
        while self.blind or (now := timeline.now()) < end:
            now = timeline.now()
            if self.stopped:  # Drill.stop(): the console's stop button (a blind drill ends unanswered)
                timeline.mark("phase", "stopped by the user")
                break
            if not phase_break and now >= self.timing.warmup:
                timeline.mark("phase", "faults" if not self.control else "control (no fault)")
                phase_break = True
            for action in actions:
                if action.done or now < action.at:
                    continue
                action.done = True
                self._perform(action, ctx, timeline, refs, active)
            pending = [a for a in actions if not a.done]
            if self.oncall is not None:
                # Paged when the first fault fires (a scenario without one: when the warm-up ends).
                if self.oncall.response.paged_at is None and (refs or (phase_break and not actions)):
                    self.oncall.drill.deadline = time.time() + self.time_limit_s
                    self.oncall.page(self.on_page)
                self._answer = self.oncall.tick()
                if self._answer is not None or self.oncall.response.paged_at is not None and self.oncall.expired():
                    break
            elif not pending and refs and not self.control and self.scenario.expect:
                outcomes = check_all(self.scenario.expect, timeline, refs, self.timing.factor)
                if all(o.fired for o in outcomes):
                    last_fired_at = last_fired_at or now
                    if now - last_fired_at >= SETTLE_S * self.timing.factor:
                        timeline.mark("phase", "every expected signal fired: ending early")
                        break
            self.report("drill", self._progress_line(now, end, pending))
            self._stopping.wait(TICK_S)
        timeline.mark("phase", "end")

    def _series_checks(self) -> list:
        """The mitigation's conditions on series. The outcome checks (`check:` — the dead letters replayed,
        a retrained model live) need the candidate's own actions: only a blind drill's answer runs them."""
        return [c for c in self.scenario.explain.mitigation if c.signal is not None]

    def _fix_is_checked(self) -> bool:
        return bool(self._series_checks()) and not self.blind and not self.control

    def _skip_is_checked(self) -> bool:
        """A scenario without a fault (healthy) has nothing to skip: doing nothing is its fix."""
        return bool(self.scenario.explain.mitigation and self.steps) and not self.blind and not self.control

    def _scaled(self, conditions: list) -> list:
        """Holds scaled like the drill's bounds (an accelerated drill holds half as long)."""
        return [c.model_copy(update={"hold": c.hold * self.timing.factor}) for c in conditions]

    def _mitigation_context(self, target: Target, timeline: Timeline) -> MitigationContext:
        try:
            live = target.live_model()
        except StackError:  # serving's admin not reachable (a cluster without its port-forward): not compared
            live = None
        return MitigationContext(self.settings, target, timeline, None, start_offsets(self.settings), live)

    def _skip_the_fix(self, mctx: MitigationContext, timeline: Timeline, refs: dict[str, float],
                      outcomes: list[Outcome], active: list[ScheduledAction]) -> list[MitigationCheck]:
        """The fix skipped: every mitigation condition (series and outcomes) checked as a blind answer that
        changed nothing is checked, on the samples since the last expected signal fired (the symptoms set in),
        with the faults still on. They must not all hold. Needs faults that wait for a fix: a fault that
        recovers on its own schedule is checked this way in blind drills only."""
        if len(active) < len(self.steps):
            timeline.mark("note", "fix skipped: not checked here (a fault recovered on its own schedule)")
            return []
        conditions = self._scaled(self.scenario.explain.mitigation)
        # From the moment every symptom is in view (the last expected signal fired): a condition on a symptom that
        # builds up (feature age behind late events) is not yet failing at the first one. The window must be
        # one that could have passed, so it lasts at least the conditions' hold.
        since = max(refs[o.expectation.after] + (o.after_s or 0.0) for o in outcomes) if outcomes else refs["fault"]
        wait = since + longest_hold(conditions) + SKIPPED_MARGIN_S - timeline.now()
        if wait > 0:  # a pass must be possible, or the check proves nothing
            self.report("drill", f"fix skipped: watching the faults {wait:.0f}s more")
            self._stopping.wait(wait)
        mctx.fault_at = refs.get("fault")
        checks = [MitigationCheck(c.describe(), ok, line)
                  for c, (ok, line) in zip(conditions, check_skipped(mctx, conditions, since))]
        timeline.mark("phase", "fix skipped: the mitigation check " +
                      ("PASSED without a fix" if all(m.held for m in checks) else "fails, as it must"),
                      checks=[m.detail for m in checks])
        return checks

    def _try_the_fix(self, ctx: FaultContext, timeline: Timeline, active: list[ScheduledAction],
                     refs: dict[str, float]) -> list[MitigationCheck]:
        """The scenario's fix, tried live: the faults recovered (what the right fix does), then each
        series condition of the mitigation must hold — the same conditions a blind drill's answer is
        scored on. Holds are scaled like the drill's bounds. Faults that recovered on their own schedule
        (a broker restarted, a spike over) were fixed then: their signals are read from that moment."""
        conditions = self._scaled(self._series_checks())
        if active:
            self._recover_all(ctx, timeline, active)
            since = timeline.now()
            timeline.mark("phase", "fix tried: the faults recovered, checking the signals come back")
        else:  # every fault recovered on its own schedule: that was the fix, and the signals since count
            since = refs.get("recover", timeline.now())
            timeline.mark("phase", f"fix tried: the faults recovered on their schedule at {since:.0f}s, "
                                   "checking the signals came back")
        deadline = time.monotonic() + MITIGATION_TIMEOUT_S
        while True:
            results = [holds(c, timeline, since) for c in conditions]
            if all(ok for ok, _ in results) or time.monotonic() > deadline:
                break
            self.report("drill", f"fix tried: waiting for {', '.join(c.signal for c, (ok, _) in zip(conditions, results) if not ok)}")
            time.sleep(TICK_S)
        checks = [MitigationCheck(c.describe(), ok, message) for c, (ok, message) in zip(conditions, results)]
        timeline.mark("phase", "mitigation verified" if all(m.held for m in checks) else "mitigation not verified",
                      checks=[m.detail for m in checks])
        return checks

    def _progress_line(self, now: float, end: float, pending: list[ScheduledAction]) -> str:
        if now < self.timing.warmup:
            return f"warm-up {now:.0f}/{self.timing.warmup:.0f}s"
        if self.oncall is not None and self.oncall.drill.deadline:
            left = self.oncall.drill.deadline - time.time()
            return (f"drill {self.oncall.drill.id}: {max(0.0, left) // 60:.0f}:{max(0.0, left) % 60:02.0f} left"
                    " — investigate in another terminal, then `gameday answer`")
        if self.blind:
            return f"production is live {now:.0f}s"
        nxt = "" if not pending else f"; next: {pending[0].action} {pending[0].step.kind} at {pending[0].at:.0f}s"
        return f"watching {now:.0f}/{end:.0f}s{nxt}"

    def _perform(self, action: ScheduledAction, ctx: FaultContext, timeline: Timeline,
                 refs: dict[str, float], active: list[ScheduledAction]) -> None:
        # Bounds count from when the action took effect: a restart or a promotion takes seconds.
        step, injector = action.step, REGISTRY[action.step.kind]
        if action.action == "inject":
            if self.control:
                refs.setdefault("fault", timeline.now())
                timeline.mark("note", f"control: {step.kind} not injected", index=action.index)
                return
            message = injector.inject(ctx, step.parsed())
            refs.setdefault("fault", timeline.now())
            active.append(action)
            timeline.mark("fault", step.kind, index=action.index, params=step.params,
                          message="(hidden)" if self.blind else message)
        else:
            if not self.control:
                message = injector.recover(ctx, step.parsed())
                active[:] = [a for a in active if a.index != action.index]
                timeline.mark("recover", step.kind, index=action.index, message=message)
            refs["recover"] = timeline.now()
        self.report("drill", f"{action.action} {'a fault' if self.blind else step.kind}")

    def _crashed(self, target: Target, timeline: Timeline) -> list[str]:
        """The drill's components found dead at the end that no fault of the scenario stopped."""
        aimed = {step.params.get("component") for step in self.scenario.faults}
        dead = [name for name, state in target.components().items()
                if name in target.required and state == State.DEAD and name not in aimed]
        for name in dead:
            timeline.mark("note", f"{name} died during the drill", hint=f"see `gameday logs {name}`")
        return dead

    def _recover_all(self, ctx: FaultContext, timeline: Timeline, active: list[ScheduledAction]) -> None:
        for action in list(active):
            try:
                message = REGISTRY[action.step.kind].recover(ctx, action.step.parsed())
                timeline.mark("recover", action.step.kind, index=action.index, message=message, at_end=True)
            except GamedayError as exc:
                timeline.mark("note", f"recovering {action.step.kind} failed", error=str(exc))
        active.clear()


def control_scenario(scenarios: list[Scenario]) -> Scenario:
    """One control run for a catalog: no fault injected, every fault-side expectation of every
    scenario (recovery-side ones would pass trivially), on the catalog's most common live model
    (the base scenario's traffic and timing): a model's baseline is part of what is controlled."""
    from collections import Counter

    scenarios = [s for s in scenarios if s.faults]  # the healthy scenario is its own control
    usual = Counter(s.stack.model for s in scenarios).most_common(1)[0][0]
    base = next(s for s in scenarios if s.stack.model == usual)
    expectations = [e for s in scenarios for e in s.expect if e.after == "fault"]
    control = base.model_copy(update={"name": "control", "title": "Control run: same traffic, no fault",
                                      "expect": expectations,
                                      "faults": [f.model_copy(update={"for_": None}) for f in base.faults[:1]]})
    control.folder = base.folder
    return control


def watcher_counts(watcher: Watcher) -> dict[str, Any]:
    return {"events": dict(watcher.counts), "dlq_total": watcher.dlq_total, "dlq_reasons": dict(watcher.dlq_reasons)}
