"""Fast event decoding for ingest: a msgspec mirror of each pydantic contract, pydantic as the judge.

Validating every event with pydantic was the largest cost of ingest after Kafka itself. A
msgspec Struct generated from the contract's own fields and constraints (so the two cannot
drift apart) decodes a valid event several times faster. msgspec is stricter than pydantic's
lax JSON mode (it refuses 2.0 for an int, for instance), so it never decides alone that an
event is bad: whatever it refuses goes to pydantic, which accepts it after all or rejects it
with the contract's reason (the DLQ reason stays exactly what `describe_event_error` says).
The one input msgspec accepts but reads differently — a time with more than 6 fractional
digits, which msgspec rounds and pydantic truncates — is sent to pydantic too.
"""

from __future__ import annotations

import datetime as dt
import re
import typing
from typing import Annotated, Any

import annotated_types
import msgspec
from pydantic import BaseModel, ValidationError

from ..contracts import EventRejected, describe_event_error

# ":ss.fffffff": seconds with 7+ fractional digits (a float like 12.1234567 also matches: pydantic then decides).
_LONG_FRACTION = re.compile(rb":\d\d\.\d{7}")
_PLAIN_TYPES = (str, int, float, dt.datetime)


# pydantic's constraint -> msgspec.Meta's keyword (also the constraint's attribute)
_BOUNDS = {annotated_types.Ge: "ge", annotated_types.Gt: "gt", annotated_types.Le: "le", annotated_types.Lt: "lt",
           annotated_types.MinLen: "min_length", annotated_types.MaxLen: "max_length"}


def mirror_struct(model: type[BaseModel]) -> type[msgspec.Struct]:
    """A msgspec Struct with the model's fields, types, bounds and defaults (unknown fields forbidden).
    Raises TypeError for a field it cannot mirror, so a contract change is noticed at import."""
    fields = []
    for name, info in model.model_fields.items():
        annotation = info.annotation
        if annotation not in _PLAIN_TYPES and typing.get_origin(annotation) is not typing.Literal:
            raise TypeError(f"{model.__name__}.{name}: cannot mirror type {annotation!r} in msgspec")
        bounds: dict[str, Any] = {}
        for rule in info.metadata:
            key = _BOUNDS.get(type(rule))
            if key is None:
                raise TypeError(f"{model.__name__}.{name}: cannot mirror constraint {rule!r} in msgspec")
            bounds[key] = getattr(rule, key)
        kind = Annotated[annotation, msgspec.Meta(**bounds)] if bounds else annotation
        if info.is_required():
            fields.append((name, kind))
        elif info.default_factory is not None:
            fields.append((name, kind, msgspec.field(default_factory=info.default_factory)))
        else:
            fields.append((name, kind, info.default))
    return msgspec.defstruct(f"{model.__name__}Wire", fields, kw_only=True, forbid_unknown_fields=True, frozen=True)


class EventDecoder:
    """Bytes → an event with the contract's fields (a msgspec Struct, or the pydantic model when
    msgspec declined), or EventRejected with the contract's reason."""

    def __init__(self, model: type[BaseModel]) -> None:
        self.model = model
        self._fast = msgspec.json.Decoder(mirror_struct(model))

    def decode(self, raw: bytes) -> Any:
        if not _LONG_FRACTION.search(raw):
            try:
                return self._fast.decode(raw)
            except msgspec.DecodeError:  # (ValidationError is a DecodeError) pydantic decides below
                pass
        try:
            return self.model.model_validate_json(raw)
        except ValidationError as exc:
            raise EventRejected(describe_event_error(exc)) from None
