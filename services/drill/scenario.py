"""A scenario: scenarios/<name>/scenario.yaml (validated here) + scenarios/<name>/brief.md.

The YAML names the stack options, the traffic, the faults and when they fire, the signals
that must be observed (each with a time bound), and the answer key the candidate's
`gameday answer` is scored against. scenarios/FORMAT.md documents every key.
A bad file fails with the file, the key, the value and what is allowed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..contracts import MODEL_FEATURES
from ..errors import GamedayError
from .faults import REGISTRY
from .signals import ALERT_SIGNALS, FEATURE_MEAN_PREFIX, SERIES_SIGNALS, is_alert
from .units import Duration, Rate, format_duration

SCENARIO_FILE = "scenario.yaml"
BRIEF_FILE = "brief.md"


class ScenarioError(GamedayError):
    kind = "ScenarioError"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class StackOptions(_Strict):
    online_store: Literal["sqlite", "redis"] = "sqlite"
    # The model variant that is live when the drill starts.
    model: Literal["fast", "accurate"] = "fast"


class Traffic(_Strict):
    rate: Rate = Field(20.0, description="trip requests per second")
    warmup: Duration = Field(60.0, description="traffic before the first fault")
    duration: Duration = Field(120.0, description="from the first fault to the end of the drill")
    # Labels arrive duration_s / time_scale after the request, so quality signals are fast.
    time_scale: float = Field(300.0, gt=0, le=100_000)


class FastMode(_Strict):
    """`--fast` overrides (tests, benchmarks): the drill must take at most ~90 s."""

    warmup: Duration = 15.0
    duration: Duration = 45.0
    # Every `at`, `for` and `within` is multiplied by this.
    time_factor: float = Field(0.5, gt=0, le=1)


class FaultStep(_Strict):
    at: Duration = Field(description="seconds after the warm-up ends")
    kind: str
    params: dict[str, Any] = Field(default_factory=dict)
    # Recover the fault after this long; unset: it stays until the drill ends (or the candidate fixes it).
    for_: Duration | None = Field(None, alias="for")
    # Blind drills draw these from [low, high] (seeded, recorded): numeric params by name, and `at`.
    vary: dict[str, tuple[float, float]] = Field(default_factory=dict)

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, kind: str) -> str:
        if kind not in REGISTRY:
            raise ValueError(f"unknown fault kind {kind!r}; allowed: {', '.join(sorted(REGISTRY))}")
        return kind

    @model_validator(mode="after")
    def _params_fit_kind(self) -> "FaultStep":
        try:
            REGISTRY[self.kind].parse(self.params)
        except ValidationError as exc:
            problems = "; ".join("params." + describe_error(err, self.kind) for err in exc.errors())
            raise ValueError(f"params of {self.kind}: {problems}") from None
        return self

    @model_validator(mode="after")
    def _ranges_fit_params(self) -> "FaultStep":
        for name, (low, high) in self.vary.items():
            if low > high:
                raise ValueError(f"vary.{name}: [{low:g}, {high:g}] is empty (low > high)")
            if name == "at":
                continue
            if not isinstance(self.params.get(name), (int, float)) or isinstance(self.params.get(name), bool):
                raise ValueError(f"vary.{name}: only numeric params (or `at`) can vary; params.{name} is "
                                 f"{self.params.get(name)!r}")
            for bound in (low, high):
                try:
                    REGISTRY[self.kind].parse({**self.params, name: bound})
                except ValidationError as exc:
                    problems = "; ".join(describe_error(err, self.kind) for err in exc.errors())
                    raise ValueError(f"vary.{name} = {bound:g} is not a valid {self.kind} param: {problems}") from None
        return self

    def parsed(self) -> BaseModel:
        return REGISTRY[self.kind].parse(self.params)

    def drawn(self, rng: Any) -> "FaultStep":
        """This step with each `vary` range drawn from `rng` (a numpy Generator)."""
        if not self.vary:
            return self
        values = {name: float(rng.uniform(low, high)) for name, (low, high) in sorted(self.vary.items())}
        params = {**self.params, **{k: round(v, 3) for k, v in values.items() if k != "at"}}
        return self.model_copy(update={"params": params, "at": values.get("at", self.at)})


class Expectation(_Strict):
    """A signal that must be seen within a bound after a reference moment."""

    signal: str
    within: Duration
    # The moment `within` counts from: the first fault firing, or the faults being recovered.
    after: Literal["fault", "recover"] = "fault"
    # Alerts only: the alert must name one of these columns / reach this score.
    columns: list[str] | None = None
    min_score: float | None = None
    # Series only: exactly one threshold.
    above: float | None = None
    below: float | None = None
    # Series only: the level must then hold this long (a run of samples starting within the
    # bound), so a moment that merely happens to pass cannot satisfy "nothing was lost".
    hold: Duration | None = None
    # Series only: "warmup" makes above/below multiples of the series' mean during the warm-up
    # (levels such as speeds follow the wall-clock hour, so an absolute one fits only some hours).
    baseline: Literal["warmup"] | None = None
    note: str = ""

    @field_validator("signal")
    @classmethod
    def _known_signal(cls, signal: str) -> str:
        if signal in ALERT_SIGNALS or signal in SERIES_SIGNALS:
            return signal
        if signal.startswith(FEATURE_MEAN_PREFIX) and signal[len(FEATURE_MEAN_PREFIX):] in MODEL_FEATURES:
            return signal
        allowed = sorted(ALERT_SIGNALS) + sorted(SERIES_SIGNALS) + [f"{FEATURE_MEAN_PREFIX}<feature>"]
        raise ValueError(f"unknown signal {signal!r}; allowed: {', '.join(allowed)}")

    @model_validator(mode="after")
    def _thresholds_fit_signal(self) -> "Expectation":
        if is_alert(self.signal):
            if self.above is not None or self.below is not None:
                raise ValueError(f"{self.signal} is an alert: use columns/min_score, not above/below")
        else:
            if (self.above is None) == (self.below is None):
                raise ValueError(f"{self.signal} is a series: give exactly one of above/below")
            if self.columns or self.min_score is not None:
                raise ValueError(f"{self.signal} is a series: columns/min_score apply to alerts only")
        if (self.hold is not None or self.baseline) and is_alert(self.signal):
            raise ValueError(f"{self.signal} is an alert: hold and baseline apply to series only")
        return self

    def describe(self) -> str:
        what = self.signal
        if self.columns:
            what += f" on {', '.join(self.columns)}"
        if self.min_score is not None:
            what += f" (score ≥ {self.min_score:g})"
        what += threshold_text(self.above, self.below, self.baseline)
        if self.hold is not None:
            what += f" for {format_duration(self.hold)}"
        return f"{what} within {format_duration(self.within)} of the {self.after}"


class AlertRef(_Strict):
    """An alert kind, optionally on given columns (any column when unset)."""

    signal: str
    columns: list[str] | None = None

    @field_validator("signal")
    @classmethod
    def _an_alert(cls, signal: str) -> str:
        if not is_alert(signal):
            raise ValueError(f"{signal!r} is not an alert; allowed: {', '.join(sorted(ALERT_SIGNALS))}")
        return signal

    def matches(self, kind: str, column: str | None) -> bool:
        return kind == self.signal and (not self.columns or column in self.columns)


# Outcome checks a mitigation can require besides series levels: what the candidate's fix must have
# achieved (drill/mitigation.py verifies each against the live stack).
OUTCOME_CHECKS: dict[str, str] = {
    "dead_letters_replayed": "every event ingest dead-lettered since the fault is back on its topic as a valid event",
    "labels_applied": "the label of every trip ingest dead-lettered since the fault is in the labels history",
    "components_up": "every component the drill needs is running",
    "retrained_model_live": "the live model was trained after the fault began",
    "mae_near_reference": "online MAE within `tolerance` of the live model's hold-out MAE, held `hold`",
    "nothing_changed": "the candidate changed nothing (no chaos, replay, promotion or training) and no alert fired",
    "thresholds_calibrated": "the monitor alerts on its calibrated thresholds (none scaled) and the live model is the one of the start",
}


class Condition(_Strict):
    """What must hold after the candidate acted (mitigation checks): a series level, e.g. latency_p99_ms
    below 150 for 10 s, or an outcome check (OUTCOME_CHECKS), e.g. every dead letter replayed."""

    signal: str | None = None
    check: str | None = None
    above: float | None = None
    below: float | None = None
    hold: Duration = 10.0
    baseline: Literal["warmup"] | None = None  # as on Expectation: thresholds are multiples of the warm-up mean
    # mae_near_reference: how far above the live model's hold-out MAE the online MAE may be (0.3: +30%).
    tolerance: float | None = Field(None, gt=0, le=5)

    @model_validator(mode="after")
    def _a_series_or_an_outcome(self) -> "Condition":
        if (self.signal is None) == (self.check is None):
            raise ValueError("a mitigation condition names a series (signal:) or an outcome (check:), not both")
        if self.check is not None:
            if self.check not in OUTCOME_CHECKS:
                raise ValueError(f"unknown check {self.check!r}; allowed: {', '.join(OUTCOME_CHECKS)}")
            if self.above is not None or self.below is not None or self.baseline:
                raise ValueError(f"check {self.check}: above/below/baseline apply to series only")
            if (self.tolerance is not None) != (self.check == "mae_near_reference"):
                raise ValueError("tolerance goes with check: mae_near_reference, and it needs one")
            return self
        if self.tolerance is not None:
            raise ValueError("tolerance goes with check: mae_near_reference")
        Expectation(signal=self.signal, within=1, above=self.above, below=self.below, baseline=self.baseline)
        return self

    def describe(self) -> str:
        if self.check is not None:
            extra = f" (within +{self.tolerance:.0%}, held {format_duration(self.hold)})" if self.tolerance else ""
            return f"{self.check}{extra}"
        return f"{self.signal}{threshold_text(self.above, self.below, self.baseline)} for {format_duration(self.hold)}"


def threshold_text(above: float | None, below: float | None, baseline: str | None) -> str:
    unit = "× warm-up" if baseline else ""
    return (f" > {above:g}{unit}" if above is not None else "") + (f" < {below:g}{unit}" if below is not None else "")


class PartialCredit(_Strict):
    component: list[str] = Field(default_factory=list)
    root_cause: list[str] = Field(default_factory=list)
    fix: list[str] = Field(default_factory=list)


class Explain(_Strict):
    """The answer key: ids from scenarios/choices.yaml (checked when the catalog loads)."""

    component: str
    root_cause: str
    fix: list[str] = Field(min_length=1)
    partial: PartialCredit = PartialCredit()
    # What counts as detecting it: these signals (default: the expected ones).
    detection: list[str] = Field(default_factory=list)
    # After the candidate acts, these must hold; empty: mitigation is judged on the chosen fix only.
    mitigation: list[Condition] = Field(default_factory=list)
    # The trade-off the reasoning must weigh with a number on each (impact/statement.py), e.g. a faster
    # against a more accurate model: [accuracy, latency, cost]. Empty: the impact statement alone.
    tradeoff: list[Literal["accuracy", "latency", "cost"]] = Field(default_factory=list)


class Scenario(_Strict):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str = Field(min_length=3)
    teaches: str = Field(min_length=10, description="the ML-system-design lesson, one or two sentences")
    # What the page says in a blind drill, shown when it starts: symptoms only — never the title, the
    # fault or the cause (tests/drill/test_blind_card.py checks it names none of them).
    symptoms: str = Field(min_length=10, description="the page a blind candidate gets: symptoms, not causes")
    stack: StackOptions = StackOptions()
    traffic: Traffic = Traffic()
    fast: FastMode = FastMode()
    # No faults (and then nothing expected): the healthy scenario, where the right answer is "no incident".
    faults: list[FaultStep] = Field(default_factory=list)
    expect: list[Expectation] = Field(default_factory=list)
    # Alerts that may follow from the fault without being required (e.g. prediction drift after input
    # drift). Any other alert in the drill is reported as unexpected, and the drill fails.
    may_alert: list[AlertRef] = Field(default_factory=list)
    explain: Explain
    brief: str = BRIEF_FILE
    # Set by the loader: the folder the scenario came from.
    folder: Path | None = Field(None, exclude=True)

    @model_validator(mode="after")
    def _faults_and_expectations_go_together(self) -> "Scenario":
        if self.faults and not self.expect:
            raise ValueError("the scenario injects faults but expects no signal: add `expect:` entries")
        if self.expect and not self.faults:
            raise ValueError("the scenario expects signals but injects no fault")
        return self

    @model_validator(mode="after")
    def _recover_expectations_need_recovery(self) -> "Scenario":
        if any(e.after == "recover" for e in self.expect) and not any(f.for_ for f in self.faults):
            raise ValueError("an expectation counts from 'recover' but no fault has a `for` duration")
        return self

    @property
    def duration_s(self) -> float:
        return self.traffic.warmup + self.traffic.duration

    @property
    def brief_path(self) -> Path:
        assert self.folder is not None
        return self.folder / self.brief

    @property
    def healthy(self) -> bool:
        """No fault at all: nothing should fire, and "no incident" is the right answer."""
        return not self.faults

    def detection_signals(self) -> list[str]:
        return self.explain.detection or [e.signal for e in self.expect]


def load_scenario(folder: Path) -> Scenario:
    """Read and validate scenarios/<name>/scenario.yaml; errors name the file and the key."""
    path = folder / SCENARIO_FILE
    if not path.is_file():
        raise ScenarioError(f"{path} does not exist", hint=f"a scenario is a folder with {SCENARIO_FILE} and {BRIEF_FILE}")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ScenarioError(f"{path}: expected a mapping of keys (name, title, faults, expect, ...)")
    try:
        scenario = Scenario.model_validate(raw)
    except ValidationError as exc:
        lines = [describe_error(err, None) for err in exc.errors()]
        raise ScenarioError(f"{path} is not a valid scenario:\n  " + "\n  ".join(lines),
                            hint="see scenarios/FORMAT.md for every key and its allowed values") from None
    if scenario.name != folder.name:
        raise ScenarioError(f"{path}: name = {scenario.name!r} but the folder is {folder.name!r}",
                            hint="the name must match the folder")
    scenario.folder = folder
    if not scenario.brief_path.is_file():
        raise ScenarioError(f"{path}: brief = {scenario.brief!r} but {scenario.brief_path} does not exist")
    return scenario


def describe_error(err: dict, within_kind: str | None) -> str:
    """`faults.0.params.column = 'x': Input should be 'trip_distance' or 'passenger_count'`."""
    loc = [str(p) for p in err["loc"]]
    key = ".".join(loc) or "(top level)"
    value = err.get("input")
    message = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        allowed = _allowed_keys(err["loc"], within_kind)
        return f"{key}: unknown key" + (f"; allowed: {', '.join(allowed)}" if allowed else "")
    if err["type"] == "missing":
        return f"{key}: missing (required)"
    shown = "" if isinstance(value, (dict, list)) else f" = {value!r}"
    return f"{key}{shown}: {message}"


def _allowed_keys(loc: tuple, within_kind: str | None) -> list[str]:
    """The keys the model at `loc` (minus the bad key) accepts, by their YAML names."""
    model: Any = REGISTRY[within_kind].Params if within_kind else Scenario
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part) if hasattr(model, "model_fields") else None
        if field is None:
            return []
        model = _model_of(field.annotation)
        if model is None:
            return []
    return [f.alias or name for name, f in model.model_fields.items() if name != "folder"]


def _model_of(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_of(arg)
        if found is not None:
            return found
    return None
