"""An incident's cost from measured signals: each term by hand, and the figure moving with the signal."""

from __future__ import annotations

import pytest

from mlgameday.impact import IncidentSignals, Measured, estimate_incident, load_impact_model
from mlgameday.impact.value import cost_per_million, mitigation_roi, value_per_day

MODEL = load_impact_model()
TRIPS_PER_HOUR = 750_000 / 24
REVENUE = 28.0 * 0.28


def signals(*, mae=(120.0, 120.0), late=(0.02, 0.02), fallback=(0.0, 0.0), over_slo=(0.0, 0.0), slow=(0.0, 0.0),
            unanswered=(0.0, 0.0), duration_s: float = 60.0) -> IncidentSignals:
    def m(name: str, pair: tuple[float | None, float | None]) -> Measured:
        return Measured(name, "", pair[0], pair[1], 10)

    return IncidentSignals(duration_s=duration_s, served_mae_s=m("served_mae_s", mae), late_share=m("late_share", late),
                           fallback_share=m("fallback_share", fallback),
                           latency_over_slo_ms=m("latency_over_slo_ms", over_slo), slow_share=m("slow_share", slow),
                           unanswered_share=m("unanswered_share", unanswered), window=(20.0, 20.0 + duration_s))


def test_nothing_measured_above_the_warm_up_costs_nothing() -> None:
    estimate = estimate_incident(MODEL, signals())
    assert estimate.cost_per_hour == 0 and estimate.cost == 0 and estimate.riders_affected == 0


def test_slow_requests_are_priced_as_lost_revenue() -> None:
    # Every request 200 ms over the SLO: 2 × 1% of requests lost.
    estimate = estimate_incident(MODEL, signals(over_slo=(200.0, 0.0), slow=(1.0, 0.0), duration_s=90))
    assert estimate.cost_per_trip == pytest.approx(0.02 * REVENUE)
    assert estimate.cost_per_hour == pytest.approx(TRIPS_PER_HOUR * 0.02 * REVENUE)
    assert estimate.cost == pytest.approx(estimate.cost_per_hour * 90 / 3600)
    assert estimate.affected_share == pytest.approx(1.0)
    assert estimate.riders_affected == pytest.approx(TRIPS_PER_HOUR * 90 / 3600)
    formulas = {t.name: t.formula for t in estimate.terms}
    assert formulas["requests lost to latency"] == "200.0 ms mean excess over the 150 ms SLO / 100 × 0.01"


def test_extra_eta_error_is_priced_as_cancellations_and_idle_drivers() -> None:
    estimate = estimate_incident(MODEL, signals(mae=(180.0, 120.0), late=(0.12, 0.02)))
    per_trip = 1.0 * (0.01 * REVENUE + 0.3 * 0.66)  # one extra minute
    assert estimate.cost_per_trip == pytest.approx(per_trip)
    assert estimate.affected_share == pytest.approx(0.10)
    assert "served MAE 180.0 − warm-up 120.0" in {t.name: t.formula for t in estimate.terms}["extra ETA error"]


def test_fallback_share_prices_the_error_before_labels_arrive_and_is_not_counted_twice() -> None:
    no_labels = estimate_incident(MODEL, signals(mae=(None, 120.0), fallback=(0.5, 0.0)))
    extra = MODEL.fallback.extra_error_s.value
    assert no_labels.cost_per_trip == pytest.approx(0.5 * extra / 60 * MODEL.per_trip_cost_of_error_minute())
    assert any("no labelled ETA" in n for n in no_labels.notes)
    # Labels show a larger error than the fallback implies: the measured error counts, alone.
    measured = estimate_incident(MODEL, signals(mae=(240.0, 120.0), fallback=(0.5, 0.0)))  # 120 s > 0.5 × extra
    assert measured.cost_per_trip == pytest.approx(2.0 * MODEL.per_trip_cost_of_error_minute())


def test_unanswered_requests_lose_the_riders_who_leave() -> None:
    estimate = estimate_incident(MODEL, signals(unanswered=(0.5, 0.0)))
    assert estimate.cost_per_trip == pytest.approx(0.5 * 0.3 * REVENUE)
    assert estimate.affected_share == pytest.approx(0.5)


def test_the_figure_moves_with_the_measured_signal() -> None:
    costs = [estimate_incident(MODEL, signals(over_slo=(ms, 0.0), slow=(1.0, 0.0))).cost_per_hour
             for ms in (0, 50, 100, 200, 400)]
    assert costs == sorted(costs) and costs[0] == 0 and costs[-1] == pytest.approx(8 * costs[1])


def test_serving_cost_model_value_and_mitigation_roi() -> None:
    # 1 ms of CPU a request at $0.04 a vCPU-hour, provisioned at 50% utilisation: $0.0222 per million... × 1000.
    assert cost_per_million(MODEL, 0.001) == pytest.approx(0.001 * 1e6 / 3600 * 0.04 / 0.5)
    value = value_per_day(MODEL, mae_s=120.0, baseline_mae_s=420.0, cpu_s_per_request=0.001)
    assert value.error_saving_per_day == pytest.approx(750_000 * 5 * MODEL.per_trip_cost_of_error_minute())
    assert value.value_per_day == pytest.approx(value.error_saving_per_day - value.serving_cost_per_day)
    slower = value_per_day(MODEL, mae_s=120.0, baseline_mae_s=420.0, cpu_s_per_request=0.001, latency_over_slo_ms=50)
    assert slower.latency_loss_per_day == pytest.approx(750_000 * 0.005 * REVENUE)
    ret = mitigation_roi(MODEL, cost_per_hour=1000.0, time_to_mitigate_s=1800)
    assert ret.avoided == pytest.approx(1000.0 * 1.5)
    assert ret.cost == pytest.approx(120 * (2 * 0.5 + 6))
    assert ret.roi == pytest.approx((ret.avoided - ret.cost) / ret.cost)
