"""What a model is worth a day and what a mitigation returns, from measured figures and the impact model.

- Cost per million predictions = CPU seconds per request × 10⁶ / 3600 × price of a vCPU-hour /
  utilisation (serving is provisioned above its mean load).
- Value per day of a model = trips per day × (the ETA error it saves against quoting every trip
  the mean duration, in minutes, × what an error-minute costs per trip − the requests its latency
  above the SLO loses × net revenue) − its serving cost per day. The mean-duration quote is the
  no-model baseline the trainer measures on the same held-out trips.
- A mitigation's ROI = (cost avoided − what it cost) / what it cost: the incident's cost per hour
  × the hours between the measured time to mitigate and an unmitigated incident's length, against
  the engineers' time on the incident plus the follow-up work.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from .model import ImpactModel


def cost_per_million(model: ImpactModel, cpu_s_per_request: float) -> float:
    serving = model.serving
    return cpu_s_per_request * 1e6 / 3600 * serving.core_hour_usd.value / serving.utilisation.value


@dataclass(frozen=True)
class ModelValue:
    value_per_day: float
    error_saving_per_day: float
    latency_loss_per_day: float
    serving_cost_per_day: float
    formula: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def value_per_day(model: ImpactModel, *, mae_s: float, baseline_mae_s: float, cpu_s_per_request: float,
                  latency_over_slo_ms: float = 0.0) -> ModelValue:
    """A model's value per day against the mean-duration quote (see the module doc)."""
    trips = model.business.trips_per_day.value
    saved_minutes = (baseline_mae_s - mae_s) / 60
    error_saving = trips * saved_minutes * model.per_trip_cost_of_error_minute()
    lost = latency_over_slo_ms / 100 * model.latency.lost_per_100ms_over_slo.value
    latency_loss = trips * lost * model.business.revenue_per_trip
    serving_cost = trips * cost_per_million(model, cpu_s_per_request) / 1e6
    value = error_saving - latency_loss - serving_cost
    formula = (f"{trips:,.0f} trips/day × ({baseline_mae_s:.1f} − {mae_s:.1f}) s / 60 × "
               f"{model.per_trip_cost_of_error_minute():.3f} per error-minute − {latency_loss:,.0f} latency loss − "
               f"{serving_cost:,.2f} serving")
    return ModelValue(value, error_saving, latency_loss, serving_cost, formula)


@dataclass(frozen=True)
class MitigationReturn:
    avoided: float
    cost: float
    roi: float
    formula: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def mitigation_roi(model: ImpactModel, *, cost_per_hour: float, time_to_mitigate_s: float) -> MitigationReturn:
    """The return of acting at `time_to_mitigate_s` instead of leaving the incident to run its course."""
    m = model.mitigation
    hours = time_to_mitigate_s / 3600
    avoided = cost_per_hour * max(0.0, m.unmitigated_hours.value - hours)
    spent = m.engineer_cost_per_hour.value * (m.engineers.value * hours + m.follow_up_hours.value)
    roi = (avoided - spent) / spent if spent > 0 else 0.0
    formula = (f"avoided {cost_per_hour:,.2f}/h × ({m.unmitigated_hours.value:g} h − {hours:.3f} h) = {avoided:,.0f}; "
               f"cost {m.engineer_cost_per_hour.value:g}/h × ({m.engineers.value:g} × {hours:.3f} h + "
               f"{m.follow_up_hours.value:g} h follow-up) = {spent:,.0f}; ROI (avoided − cost) / cost")
    return MitigationReturn(avoided, spent, roi, formula)
