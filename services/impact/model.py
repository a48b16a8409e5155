"""The impact model of TripTime: one YAML (impact/triptime.yaml) of stated, sourced assumptions.

Each number is an `Assumption`: a value, its unit and where it comes from, so whatever prints a
figure can print what it rests on. The formulas that use them are in estimate.py and value.py.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import GamedayError

IMPACT_FILE = "triptime.yaml"


class ImpactModelError(GamedayError):
    kind = "ImpactModelError"


def default_impact_path() -> Path:
    """impact/triptime.yaml of the source tree (services/impact/model.py -> repo root)."""
    return Path(__file__).resolve().parents[2] / "impact" / IMPACT_FILE


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Assumption(_Strict):
    value: float = Field(ge=0)
    unit: str = Field(min_length=1)
    source: str = Field(min_length=10, description="where the number comes from, or why it is assumed")


class Business(_Strict):
    trips_per_day: Assumption
    gross_booking_per_trip: Assumption
    take_rate: Assumption

    @property
    def revenue_per_trip(self) -> float:
        """Net revenue of one trip: gross booking × take rate."""
        return self.gross_booking_per_trip.value * self.take_rate.value

    @property
    def trips_per_hour(self) -> float:
        return self.trips_per_day.value / 24


class EtaError(_Strict):
    cancellation_per_error_minute: Assumption
    driver_idle_per_error_minute: Assumption
    driver_cost_per_minute: Assumption
    late_threshold: Assumption  # minutes

    @property
    def late_threshold_s(self) -> float:
        return self.late_threshold.value * 60


class Latency(_Strict):
    slo_ms: Assumption
    lost_per_100ms_over_slo: Assumption


class Unanswered(_Strict):
    lost_share: Assumption


class Fallback(_Strict):
    extra_error_s: Assumption


class Serving(_Strict):
    core_hour_usd: Assumption
    utilisation: Assumption


class Mitigation(_Strict):
    unmitigated_hours: Assumption
    engineer_cost_per_hour: Assumption
    engineers: Assumption
    follow_up_hours: Assumption


class ImpactModel(_Strict):
    currency: str = "USD"
    business: Business
    eta_error: EtaError
    latency: Latency
    unanswered: Unanswered
    fallback: Fallback
    serving: Serving
    mitigation: Mitigation

    def assumptions(self) -> list[tuple[str, Assumption]]:
        """("section.name", assumption) for every number of the model, in file order."""
        found = []
        for section in type(self).model_fields:
            group = getattr(self, section)
            if isinstance(group, BaseModel):
                found += [(f"{section}.{name}", getattr(group, name)) for name in type(group).model_fields]
        return found

    def per_trip_cost_of_error_minute(self) -> float:
        """What one extra minute of ETA error costs per trip: the cancellations' lost revenue plus
        the drivers' idle time."""
        eta = self.eta_error
        return (eta.cancellation_per_error_minute.value * self.business.revenue_per_trip
                + eta.driver_idle_per_error_minute.value * eta.driver_cost_per_minute.value)


def load_impact_model(path: Path | None = None) -> ImpactModel:
    """Read and validate the impact YAML; errors name the file and the key."""
    path = Path(path) if path is not None else default_impact_path()
    if not path.is_file():
        raise ImpactModelError(f"no impact model at {path}",
                               hint=f"the repository's impact/{IMPACT_FILE} is the default; pass a copy you edited")
    try:
        raw = yaml.safe_load(path.read_text())
        return ImpactModel.model_validate(raw)
    except yaml.YAMLError as exc:
        raise ImpactModelError(f"{path}: not valid YAML: {exc}") from None
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors())
        raise ImpactModelError(f"{path}: {problems}",
                               hint="each number is {value, unit, source}; see impact/triptime.yaml") from None


@lru_cache(maxsize=1)
def default_impact_model() -> ImpactModel:
    """The repository's impact model, read once per process."""
    return load_impact_model()
