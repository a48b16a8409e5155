"""The interviewer's fault forms are generated from the fault declarations (and so from the knobs')."""

from __future__ import annotations

import pytest

from mlgameday.console.forms import FormError, fault_forms, parse_form
from mlgameday.contracts.knobs import ProducerFaults, Shift
from mlgameday.drill.faults import REGISTRY


def form(kind: str):
    return next(f for f in fault_forms() if f.kind == kind)


def test_every_fault_kind_has_a_form_with_every_parameter() -> None:
    forms = {f.kind: f for f in fault_forms()}
    assert list(forms) == list(REGISTRY)
    for kind, injector in REGISTRY.items():
        assert [i.name for i in forms[kind].inputs] == list(injector.Params.model_fields), kind


def test_number_inputs_carry_the_knobs_bounds_and_defaults() -> None:
    shift = {i.name: i for i in form("shift_feature").inputs}
    assert shift["column"].widget == "select"
    assert shift["column"].options == ("trip_distance", "passenger_count")
    assert shift["share"].min == 0 and shift["share"].max == 1 and shift["share"].default == "1"
    assert shift["multiply"].max == 100 and not shift["multiply"].required
    assert shift["share"].description == Shift.model_fields["share"].description
    rate = {i.name: i for i in form("rate").inputs}
    assert rate["multiply"].required and rate["multiply"].max == ProducerFaults.model_fields["rate_multiplier"].metadata[1].le
    latency = {i.name: i for i in form("feature_latency").inputs}
    assert latency["timeout_ms"].widget == "number" and not latency["timeout_ms"].required  # float | None
    zones = {i.name: i for i in form("congestion").inputs}["zones"]
    assert zones.widget == "list" and zones.item is int


def test_a_burst_is_marked_as_ending_by_itself() -> None:
    assert form("burst").self_ending and not form("rate").self_ending


def test_submitted_strings_become_the_faults_parameters() -> None:
    assert parse_form("shift_feature", {"column": "trip_distance", "multiply": "2.5", "share": "0.4", "add": ""}) == \
        {"column": "trip_distance", "multiply": 2.5, "share": 0.4}
    assert parse_form("congestion", {"speed_multiplier": "0.5", "zones": "132, 138", "boroughs": ""}) == \
        {"speed_multiplier": 0.5, "zones": [132, 138]}
    assert parse_form("kill", {"component": "ingest"}) == {"component": "ingest"}
    assert parse_form("units_bug", {}) == {}


@pytest.mark.parametrize("kind, form_data, named", [
    ("shift_feature", {"column": "trip_distance", "multiply": "500"}, "multiply = 500.0"),
    ("shift_feature", {"column": "fare", "multiply": "2"}, "column = 'fare'"),
    ("rate", {}, "multiply: missing"),
    ("nulls", {"share": "lots"}, "share = 'lots'"),
    ("congestion", {"speed_multiplier": "0.5", "zones": "132, midtown"}, "zones.1"),
])
def test_a_bad_value_is_refused_naming_the_field(kind: str, form_data: dict, named: str) -> None:
    with pytest.raises(FormError) as refused:
        parse_form(kind, form_data)
    assert named in str(refused.value), str(refused.value)


def test_unknown_kinds_and_parameters_are_refused() -> None:
    with pytest.raises(FormError, match="no fault kind 'meteor'"):
        parse_form("meteor", {})
    with pytest.raises(FormError, match="unknown parameter colour"):
        parse_form("nulls", {"share": "0.1", "colour": "red"})
