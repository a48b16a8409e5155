"""The OpenAPI 3.1 document of the TripTime service (served at /docs.json by serving/edge.py).

Written from the same pydantic models the endpoints validate with and answer in, so the two
cannot drift; OpenAPI 3.1 because pydantic writes JSON Schema 2020-12 (`null` types,
`examples` lists), which 3.0 does not allow. Every route is here, with every status it
answers — the test suite fuzzes the running service against this document (schemathesis).
"""

from __future__ import annotations

from typing import Any

from pydantic.json_schema import models_json_schema

from ..contracts import ZONE_RANGE
from ..contracts.knobs import ServingFaults
from .schemas import EXAMPLE_TRIP, BatchRequest, BatchResponse, ErrorBody, EtaResponse, PromoteRequest, RowError, TripRequest

REF = "#/components/schemas/{model}"
MODELS = (TripRequest, EtaResponse, BatchRequest, BatchResponse, RowError, ErrorBody, ServingFaults, PromoteRequest)


def _ref(model: type) -> dict:
    return {"$ref": REF.format(model=model.__name__)}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _text(description: str) -> dict:
    return {"description": description, "content": {"text/plain": {"schema": {"type": "string"}}}}


ERROR = _ref(ErrorBody)
# What the edge refuses on every route (serving/edge.py).
EDGE_ERRORS = {"403": _json(ERROR, "cross-origin request, or a Host that is not a loopback name")}
BODY_ERRORS = {"413": _json(ERROR, "body larger than serving.max_body_mb"),
               "415": _json(ERROR, "Content-Type is not application/json")}
ADMIN_ERRORS = {"401": _json(ERROR, "no or wrong admin key (the run folder's admin.token)")}


def _post(summary: str, request: dict, ok: dict, errors: dict, admin: bool = False) -> dict:
    operation = {"summary": summary,
                 "requestBody": {"required": True, "content": {"application/json": {"schema": request}}},
                 "responses": {"200": ok, **errors, **BODY_ERRORS, **EDGE_ERRORS, **(ADMIN_ERRORS if admin else {})}}
    if admin:
        operation["security"] = [{"adminKey": []}]
    return operation


def _get(summary: str, ok: dict, admin: bool = False, **more: dict) -> dict:
    operation = {"summary": summary, "responses": {"200": ok, **more, **EDGE_ERRORS,
                                                   **(ADMIN_ERRORS if admin else {})}}
    if admin:
        operation["security"] = [{"adminKey": []}]
    return operation


def openapi_document() -> dict[str, Any]:
    _, schemas = models_json_schema([(model, "validation") for model in MODELS], ref_template=REF)
    models_out = {"type": "object", "description": "the live, canary and shadow models and the canary share"}
    invalid = _json(ERROR, "the body is not valid JSON or breaks a rule; `detail` names each field")
    return {
        "openapi": "3.1.0",
        "info": {"title": "TripTime", "version": "1",
                 "description": "ETA of taxi trips from online zone features (Feast) and the promoted model. "
                                f"Zones are TLC zone ids {ZONE_RANGE}."},
        "paths": {
            "/predict": {"post": _post(
                "The ETA of one trip", {**_ref(TripRequest), "examples": [EXAMPLE_TRIP]},
                _json(_ref(EtaResponse), "the ETA and how it was made"), {"400": invalid})},
            "/predict_batch": {"post": _post(
                "ETAs of many trips: each row is judged on its own",
                {**_ref(BatchRequest), "examples": [{"trips": [EXAMPLE_TRIP]}]},
                _json(_ref(BatchResponse), "one answer per row, in order: an ETA or the row's error"),
                {"400": _json(ERROR, "not a batch: no `trips` list of 1..10000 rows, or an unexpected field")})},
            "/readyz": {"get": _get("Ready once the models and the feature store are loaded", _text("ready"),
                                    **{"503": _text("not ready yet")})},
            "/livez": {"get": _get("The process answers", _text("alive"))},
            "/healthz": {"get": _get("The process answers", _text("alive"))},
            "/metrics": {"get": _get("Prometheus metrics", _text("the exposition format"))},
            "/admin/faults": {
                "get": _get("The runtime fault knobs", _json(_ref(ServingFaults), "the knobs"), admin=True),
                "post": _post("Merge knob changes (the knobs not named keep their value)", _ref(ServingFaults),
                              _json(_ref(ServingFaults), "the knobs after the change"),
                              {"400": _json(ERROR, "an unknown knob or a value out of range")}, admin=True),
                "delete": _get("Turn every knob off", _json(_ref(ServingFaults), "the knobs, all off"), admin=True),
            },
            "/admin/models": {"get": _get("Which models answer", _json(models_out, "live, canary, shadow"), admin=True)},
            "/admin/promote": {"post": _post(
                "Change which model answers (live, a canary share, a shadow)", _ref(PromoteRequest),
                _json(models_out, "the models after the change"),
                {"400": _json(ERROR, "an invalid change (e.g. a promotion without a tag)"),
                 "404": _json(ERROR, "no such model in the store")}, admin=True)},
        },
        "components": {
            "schemas": schemas["$defs"],
            "securitySchemes": {"adminKey": {"type": "http", "scheme": "bearer",
                                             "description": "the run folder's admin.token (GAMEDAY_ADMIN_TOKEN)"}},
        },
    }
