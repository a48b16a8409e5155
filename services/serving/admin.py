"""Admin routes mounted at /admin: fault knobs and model versions, changed without a restart.

Only requests with the run folder's admin key get here (serving/edge.py checks it).
"""

from __future__ import annotations

import json

import anyio.to_thread
import bentoml
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ..errors import GamedayError
from ..models.store import ModelStoreError
from .schemas import PromoteRequest


def _predictor():  # the running TripTime instance's Predictor
    return bentoml.get_current_service().predictor


async def _body(request: Request) -> dict:
    try:
        data = json.loads(await request.body() or b"{}")
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
        raise ValueError(f"body is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError("body must be a JSON object")
    return data


async def faults(request: Request) -> JSONResponse:
    knobs = _predictor().faults
    if request.method == "DELETE":
        return JSONResponse(knobs.reset().model_dump(mode="json"))
    if request.method == "POST":
        try:
            knobs.merge(await _body(request))
        except ValidationError as exc:
            return JSONResponse({"error": "invalid knob", "detail": exc.errors(include_url=False, include_context=False)},
                                status_code=400)
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
    return JSONResponse(knobs.value.model_dump(mode="json"))


async def models(request: Request) -> JSONResponse:
    return JSONResponse(_predictor().models.describe())


async def promote(request: Request) -> JSONResponse:
    try:
        change = PromoteRequest.model_validate(await _body(request))
    except ValidationError as exc:
        return JSONResponse({"error": "invalid promotion", "detail": exc.errors(include_url=False, include_context=False)},
                            status_code=400)
    except ValueError as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    try:
        # Loading a model reads files: off the event loop, so requests keep flowing meanwhile.
        result = await anyio.to_thread.run_sync(lambda: _predictor().promote(
            change.tag, canary=change.canary, shadow=change.shadow, clear=change.clear))
    except ModelStoreError as exc:  # no such model
        return JSONResponse({"error": str(exc)}, status_code=404)
    except GamedayError as exc:  # a change that makes no sense, e.g. a promotion without a tag
        return JSONResponse({"error": str(exc)}, status_code=400)
    return JSONResponse(result)


admin_app = Starlette(routes=[
    Route("/faults", faults, methods=["GET", "POST", "DELETE"]),
    Route("/models", models, methods=["GET"]),
    Route("/promote", promote, methods=["POST"]),
])
