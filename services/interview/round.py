"""One timed mock round, phase by phase, on the live stack (AIOpsLab's orchestrator, as an interview):

design (the prompt, then the interviewer's follow-ups) → a tour of the live stack (its real status and live
model) → a blind incident (`gameday drill --blind`: the candidate investigates and acts on the stack) →
explanation and mitigation (`gameday answer`: scored per level, the mitigation checked on the signals, the
incident costed) → product impact (`gameday model compare` measured now: which model to serve, and what it
is worth). Each phase prints the interviewer's script with its slot in the round; the time each phase took
is recorded against its budget. The score sheet goes into the incident's debrief and score_sheet.json.
"""

from __future__ import annotations

import json
import random
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from ..config import Settings
from ..drill.answer import Answer, AnswerError, validate_answer
from ..drill.catalog import Catalog
from ..drill.debrief import add_to_debrief
from ..drill.handoff import submit_answer
from ..drill.oncall import Page
from ..drill.profile import drill_profile
from ..drill.runner import Drill, ensure_stack, start_missing, train_if_needed
from ..drill.targets import LocalTarget
from ..impact.model import ImpactModel, default_impact_model
from ..portfolio.compare import compare_models
from ..portfolio.drills import SCORE_SHEET_FILE
from ..stack.component import Reporter, silent
from ..stack.supervisor import Stack
from .candidate import Candidate
from .scoring import PhaseTime, ScoreSheet, model_choice, score_sheet, sheet_markdown
from .script import InterviewError, Script, Slot, clock, load_script, plan

EXPLAIN_ATTEMPTS = 3  # a mistyped choice is asked again; a scripted answer gets the same answer each time
# Up to this long for the incident's drill to page (deploy, warm-up and the fault, accelerated or not).
PAGE_TIMEOUT_S = 15 * 60.0

Echo = Callable[[str], None]


@dataclass
class InterviewResult:
    sheet: ScoreSheet
    folder: Path
    answer: dict[str, Any]
    comparison: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"sheet": self.sheet.as_dict(), "folder": str(self.folder), "answer": self.answer,
                "comparison": self.comparison}


class Interview:
    """`fast`: the accelerated drill and a short measurement load (rehearsals, tests); `minutes` sets the
    round's length (the script's 45 by default); `scenario`: the incident (random among the catalog's)."""

    def __init__(self, settings: Settings, candidate: Candidate, *, minutes: float | None = None, fast: bool = False,
                 scenario: str | None = None, seed: int | None = None, script: Script | None = None,
                 catalog: Catalog | None = None, impact: ImpactModel | None = None, echo: Echo = print,
                 report: Reporter = silent, check_timeout_s: float = 60.0) -> None:
        # No seed: a different incident and traffic each round (a fixed one replays a round).
        seed = seed if seed is not None else random.SystemRandom().randrange(1_000_000)
        self.settings, self.candidate, self.fast, self.seed = settings, candidate, fast, seed
        self.script = script or load_script()
        self.catalog = catalog or Catalog()
        self.scenario = self.catalog.get(scenario) if scenario else self.catalog.pick_random(seed)
        self.impact = impact or default_impact_model()
        self.slots = {s.phase: s for s in plan(self.script, minutes)}
        self.echo, self.report, self.check_timeout_s = echo, report, check_timeout_s
        self.answers: dict[str, str] = {}
        self.times: list[PhaseTime] = []

    # ---- the round -----------------------------------------------------------------------------------

    def run(self) -> InterviewResult:
        self.stack = self._deploy()  # before the clock starts: a first training takes minutes
        started_at = datetime.now(timezone.utc).isoformat()
        self._t0 = time.monotonic()
        self.echo(f"Mock round: {sum(s.budget_s for s in self.slots.values()) / 60:.0f} minutes, "
                  f"{len(self.slots)} phases")
        for slot in self.slots.values():
            self.echo(f"  {clock(slot.start_s)}–{clock(slot.end_s)}  {slot.title}")
        self._phase("design", self._design)
        live_variant, components = self._phase("tour", self._tour)
        self._phase("incident", self._incident)
        score, folder = self._phase("explain", self._explain)
        comparison = self._phase("impact", self._impact)
        values = {v["variant"]: v["value_per_day"] for v in comparison["variants"]}
        sheet = score_sheet(started_at=started_at, scenario=self.scenario.name, design=self.script.phase("design"),
                            answers=self.answers, live_variant=live_variant, components=components,
                            incident_levels={lv["level"]: lv["score"] for lv in score["levels"]},
                            choice=model_choice(values, comparison["currency"]), phases=self.times)
        (folder / SCORE_SHEET_FILE).write_text(json.dumps(sheet.as_dict(), indent=2))
        add_to_debrief(folder, sheet_markdown(sheet))
        return InterviewResult(sheet, folder, score, comparison)

    def _phase(self, phase_id: str, body: Callable[[Slot], Any]) -> Any:
        slot = self.slots[phase_id]
        into = time.monotonic() - self._t0
        self.echo("")
        self.echo(f"[{clock(into)} / slot {clock(slot.start_s)}–{clock(slot.end_s)}] {slot.title} "
                  f"({slot.budget_s / 60:.1f} min)")
        self.echo(f"[interviewer] {self.script.phase(phase_id).prompt}")
        began = time.monotonic()
        value = body(slot)
        elapsed = time.monotonic() - began
        self.times.append(PhaseTime(phase_id, slot.budget_s, elapsed))
        over = elapsed - slot.budget_s
        self.echo(f"  ({slot.title}: {clock(elapsed)} of {clock(slot.budget_s)}"
                  + (f", {clock(over)} over" if over > 0 else "") + ")")
        return value

    def _ask(self, question_id: str, question: str) -> str:
        self.answers[question_id] = self.candidate.say(question_id, question)
        return self.answers[question_id]

    # ---- the phases ----------------------------------------------------------------------------------

    def _design(self, slot: Slot) -> None:
        phase = self.script.phase("design")
        self._ask("design", phase.prompt)
        for follow_up in phase.follow_ups:
            self.echo(f"[interviewer] {follow_up.question}")
            self._ask(follow_up.id, follow_up.question)

    def _deploy(self) -> Stack:
        """The stack the incident will run on (with the incident's drill settings), trained and running."""
        stack, _, _ = ensure_stack(self.settings, self.report, drill_profile(self.scenario, self.seed))
        self.settings = stack.settings
        target = LocalTarget(self.settings, stack)
        train_if_needed(target, self.settings, self.report)
        start_missing(target, self.settings, self.report)
        return stack

    def _tour(self, slot: Slot) -> tuple[str | None, list[str]]:
        """The live stack as it is now: its parts and the live model."""
        target = LocalTarget(self.settings, self.stack)
        statuses = self.stack.status()
        for s in statuses:
            self.echo(f"  {s.name:<10} {s.state:<8} " + " ".join(f"{k}={v}" for k, v in s.endpoints.items()))
        live = (target.serving_models().get("live") or {})
        self.echo(f"  live model: {live.get('tag', 'none')}")
        self._ask("tour", self.script.phase("tour").prompt)
        return live.get("variant"), [s.name for s in statuses if s.state == "running"]

    def _incident(self, slot: Slot) -> None:
        """The blind drill runs attached, as `gameday drill --blind` does in its own terminal: here on a
        thread, its faults on until the answer is handed to it (`_explain`) or its time limit."""
        paged = threading.Event()

        def on_page(page: Page) -> None:
            self.echo("[interviewer] Production is degraded. You are paged:")
            for line in page.symptoms.strip().splitlines():
                self.echo("  " + line)
            paged.set()

        def run() -> None:
            try:
                self._drill_result = Drill(self.settings, self.scenario, fast=self.fast, blind=True, report=self.report,
                                           seed=self.seed, on_page=on_page).run()
            except BaseException as exc:  # handed to the round's thread below
                self._drill_error = exc
            finally:
                paged.set()

        self._drill_result, self._drill_error = None, None
        self._drill = threading.Thread(target=run, name="incident", daemon=True)
        self._drill.start()
        if not paged.wait(PAGE_TIMEOUT_S) or self._drill_error is not None:
            raise InterviewError(f"the incident's drill did not page: {self._drill_error or 'timed out'}",
                                 hint="see `gameday status` and `gameday logs`; rerun with --fast on a loaded machine")
        self.candidate.investigate(self.settings)

    def _explain(self, slot: Slot) -> tuple[dict[str, Any], Path]:
        c = self.catalog.choices
        for attempt in range(1, EXPLAIN_ATTEMPTS + 1):
            given = self.candidate.explain({"components": c.components, "root_causes": c.root_causes,
                                            "fixes": c.fixes})
            answer = Answer(component=given.get("component") or "", root_cause=given.get("root_cause") or "",
                            fix=given.get("fix") or "", signal=given.get("signal"), reasoning=given.get("reasoning"))
            try:
                validate_answer(answer, c)
                break
            except AnswerError as exc:
                self.echo(f"[interviewer] {exc}")
                if attempt == EXPLAIN_ATTEMPTS:
                    raise InterviewError(f"no valid answer to the incident: {exc.args[0]}",
                                         hint="the blind drill is still on: answer it with `gameday answer --choices`,"
                                              " then `gameday answer --component ... --root-cause ... --fix ...`") from None
        self.answers["reasoning"] = answer.reasoning or ""
        result = submit_answer(self.settings, answer, self.check_timeout_s, self.report)
        self._drill.join()  # the drill writes its debrief, then ends
        if self._drill_error is not None:
            raise InterviewError(f"the incident's drill failed: {self._drill_error}", hint="see `gameday logs`")
        score = {k: result[k] for k in ("scenario", "total", "levels", "mitigation_checks", "mitigated")}
        self.echo(f"[interviewer] The incident was {score['scenario']}. Your answer: {score['total']:.0%} ("
                  + ", ".join(f"{lv['level']} {lv['score']:.0%}" for lv in score["levels"]) + ")")
        return score, Path(result["folder"])

    def _impact(self, slot: Slot) -> dict[str, Any]:
        self.echo("  measuring each variant on this stack (`gameday model compare`)…")
        comparison = compare_models(self.settings, rate=10.0, seconds=5.0 if self.fast else 15.0,
                                    impact=self.impact, report=lambda message: self.report("compare", message))
        self.echo(f"  {'variant':<9} {'MAE s':>7} {'p50 ms':>7} {'p99 ms':>7} {'CPU ms':>7} {'/1M':>8}")
        for v in comparison.variants:
            self.echo(f"  {v.variant:<9} {v.offline_mae_s:>7.1f} {_fmt(v.p50_ms)} {_fmt(v.p99_ms)} "
                      f"{_fmt(v.cpu_ms_per_prediction, '{:>7.2f}')} {_fmt(v.cost_per_million, '{:>8.2f}')}")
        self.echo(f"  the impact model: {self.impact.business.trips_per_day.value:,.0f} trips a day, one minute of "
                  f"ETA error costs {self.impact.per_trip_cost_of_error_minute():.3f} {self.impact.currency} a trip "
                  f"(`gameday impact`)")
        self._ask("impact", self.script.phase("impact").prompt)
        return comparison.as_dict()


def _fmt(value: float | None, pattern: str = "{:>7.1f}") -> str:
    return pattern.format(value) if value is not None else f"{'–':>7}"
