"""How the producer's fault knobs (contracts/knobs.py ProducerFaults, POST /faults) bend events.

Trip-level knobs change the trips themselves (the simulator applies them):
  rate_multiplier, shifts (distribution shift for a share of trips), congestion (slower
  zones: labels change, request features do not).
Event-level knobs change what goes on the wire (applied here, to the JSON of each event):
  rename_field / drop_field (a schema change), malformed_share (invalid JSON, missing
  field, wrong type, unknown schema_version), null_share (a feature sent as null).
"""

from __future__ import annotations

import json

import numpy as np

from ..contracts import REQUEST_FEATURES
from ..contracts.knobs import ProducerFaults

MALFORMED_KINDS = ("invalid_json", "missing_field", "wrong_type", "unknown_schema_version")
NULLABLE_FIELDS = REQUEST_FEATURES


class WireFaults:
    """Applies the event-level knobs to serialized events, with its own RNG stream
    (so turning a knob never changes the trips themselves)."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng([seed, 7])

    def encode(self, event: dict, faults: ProducerFaults) -> tuple[bytes, str | None]:
        """The bytes to send and the fault applied (None for a clean event)."""
        kind = None
        if faults.rename_field and faults.rename_field.old in event:
            event[faults.rename_field.new] = event.pop(faults.rename_field.old)
            kind = "renamed_field"
        if faults.drop_field and faults.drop_field in event:
            del event[faults.drop_field]
            kind = "dropped_field"
        if faults.null_share and self.rng.random() < faults.null_share:
            event[NULLABLE_FIELDS[self.rng.integers(len(NULLABLE_FIELDS))]] = None
            kind = "null_field"
        if faults.malformed_share and self.rng.random() < faults.malformed_share:
            return self._malformed(event, MALFORMED_KINDS[self.rng.integers(len(MALFORMED_KINDS))])
        return json.dumps(event, separators=(",", ":")).encode(), kind

    def _malformed(self, event: dict, kind: str) -> tuple[bytes, str]:
        if kind == "invalid_json":
            text = json.dumps(event, separators=(",", ":"))
            return text[: len(text) // 2].encode(), kind
        if kind == "missing_field":
            event.pop("trip_distance", None)
        elif kind == "wrong_type":
            event["passenger_count"] = "two"
        else:
            event["schema_version"] = 99
        return json.dumps(event, separators=(",", ":")).encode(), kind
