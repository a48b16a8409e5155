"""The impact model's YAML: every number stated with its unit and source; bad files refused by name."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from mlgameday.impact.model import ImpactModelError, default_impact_path, load_impact_model


def test_every_assumption_has_a_unit_and_a_source() -> None:
    model = load_impact_model()
    names = [name for name, _ in model.assumptions()]
    assert {"business.trips_per_day", "business.gross_booking_per_trip", "business.take_rate",
            "eta_error.cancellation_per_error_minute", "eta_error.driver_idle_per_error_minute",
            "latency.slo_ms", "latency.lost_per_100ms_over_slo", "unanswered.lost_share",
            "fallback.extra_error_s", "serving.core_hour_usd", "mitigation.unmitigated_hours"} <= set(names)
    for name, assumption in model.assumptions():
        assert assumption.unit and len(assumption.source) >= 10, name
    assert model.business.revenue_per_trip == pytest.approx(28.0 * 0.28)
    # One error-minute per trip: 1 pp cancellations × $7.84 + 0.3 idle driver-minutes × $0.66.
    assert model.per_trip_cost_of_error_minute() == pytest.approx(0.01 * 7.84 + 0.3 * 0.66)


def test_a_missing_source_or_an_unknown_key_is_refused_with_its_path(tmp_path: Path) -> None:
    raw = yaml.safe_load(default_impact_path().read_text())
    del raw["latency"]["slo_ms"]["source"]
    raw["business"]["trips_per_week"] = {"value": 1, "unit": "trips", "source": "a typo of a key"}
    path = tmp_path / "impact.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(ImpactModelError) as caught:
        load_impact_model(path)
    message = str(caught.value)
    assert "latency.slo_ms.source: Field required" in message
    assert "business.trips_per_week: Extra inputs are not permitted" in message
    assert str(path) in message


def test_a_negative_value_and_a_missing_file_are_refused(tmp_path: Path) -> None:
    raw = yaml.safe_load(default_impact_path().read_text())
    raw["business"]["take_rate"]["value"] = -0.2
    path = tmp_path / "impact.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(ImpactModelError, match="business.take_rate.value: Input should be greater than or equal to 0"):
        load_impact_model(path)
    with pytest.raises(ImpactModelError, match="no impact model at"):
        load_impact_model(tmp_path / "absent.yaml")
