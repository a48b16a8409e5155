"""Serving reads the zone features its models' Feast feature service lists (a real Feast repo and model store)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from feast import FeatureService

from mlgameday.contracts import FEATURE_SERVICE, ZONE_FEATURES
from mlgameday.errors import GamedayError
from mlgameday.features.definitions import FEATURE_VIEW, FeatureStoreError
from mlgameday.features.online import read_zone_features, service_feature_refs
from mlgameday.models.routing import ModelSet, Routing
from mlgameday.models.store import load_model, use_model_store
from mlgameday.serving.features import feature_refs_for

pytestmark = pytest.mark.integration  # a trained run: a real broker, Feast repo and model store

NARROW = "triptime_narrow_test"


@pytest.fixture(scope="module")
def narrow_service(store) -> str:
    """A second feature service in the run's registry that lists only requests_15m."""
    store.apply([FeatureService(name=NARROW, features=[store.get_feature_view(FEATURE_VIEW)[["requests_15m"]]])])
    return NARROW


@pytest.fixture(scope="module")
def live_model(trained_run):
    use_model_store(trained_run.settings)
    return load_model(trained_run.models["fast"].tag)


def test_a_saved_model_names_the_service_it_was_trained_on_and_serving_reads_that_list(store, live_model) -> None:
    assert live_model.feature_service == FEATURE_SERVICE
    refs = feature_refs_for(store, ModelSet(Routing(live=live_model.tag), live=live_model))
    assert refs == [f"{FEATURE_VIEW}:{name}" for name in ZONE_FEATURES]
    assert refs == service_feature_refs(store, FEATURE_SERVICE)


def test_reads_return_the_features_of_the_references_given(store, narrow_service) -> None:
    narrow = read_zone_features(store, [132], service_feature_refs(store, narrow_service))[132]
    full = read_zone_features(store, [132])[132]
    assert set(narrow.values) == {"requests_15m"}
    assert set(full.values) == set(ZONE_FEATURES)


def test_a_model_whose_service_lacks_a_feature_it_uses_is_refused_naming_the_feature(
        store, live_model, narrow_service) -> None:
    assert "mean_speed_30m" in live_model.features
    model = replace(live_model, feature_service=narrow_service)
    with pytest.raises(GamedayError, match=r"uses completed_30m, mean_speed_30m, which its feature service "
                                           rf"'{narrow_service}' does not provide"):
        feature_refs_for(store, ModelSet(Routing(live=model.tag), live=model))


def test_an_unregistered_service_is_an_error_that_says_what_to_do(store, live_model) -> None:
    model = replace(live_model, feature_service="triptime_v9")
    with pytest.raises(FeatureStoreError, match=r"(?s)'triptime_v9' is not registered.*retrain"):
        feature_refs_for(store, ModelSet(Routing(live=model.tag), live=model))
