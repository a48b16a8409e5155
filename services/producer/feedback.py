"""The ETA each rider was shown, for the eta_influence knob: a hidden feedback loop.

Riders and drivers act on the ETA the app shows (a rider told 40 minutes takes the train, a driver
paces to the promise), so trips end up lasting closer to it, and the labels the model is judged and
retrained on follow its own predictions. The producer learns what was shown the way any consumer
would: from the predictions topic (live and canary answers; a shadow model's are shown to nobody).
The reader starts on the first ask — only once the knob is turned — and reads from the end.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict

import msgspec

from .simulator import MAX_DURATION_S, MIN_DURATION_S

log = logging.getLogger("producer.feedback")
SHOWN_ROLES = ("live", "canary")
REMEMBERED = 50_000  # trips whose ETA is kept (a label comes seconds after its request)


def influenced(duration_s: float, eta_s: float, share: float) -> float:
    """A trip's duration once its rider and driver acted on the ETA: `share` of the way to it."""
    return min(MAX_DURATION_S, max(MIN_DURATION_S, duration_s + share * (eta_s - duration_s)))


class _Shown(msgspec.Struct):
    trip_id: str
    prediction_s: float
    role: str = "live"


class ShownEtas:
    """trip_id -> the ETA its rider was shown, read from the predictions topic in a background thread."""

    def __init__(self, bootstrap: str, topic: str, security: dict | None = None) -> None:
        self.bootstrap, self.topic, self.security = bootstrap, topic, security or {}
        self._etas: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._decode = msgspec.json.Decoder(_Shown).decode

    def eta_of(self, trip_id: str) -> float | None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._read, name="shown-etas", daemon=True)
            self._thread.start()
        with self._lock:
            return self._etas.get(trip_id)

    def remember(self, raw: bytes) -> None:
        """Keep the ETA of one prediction event (anything else on the topic is passed over)."""
        try:
            shown = self._decode(raw)
        except (msgspec.DecodeError, msgspec.ValidationError):
            return
        if shown.role not in SHOWN_ROLES:
            return
        with self._lock:
            self._etas[shown.trip_id] = shown.prediction_s
            if len(self._etas) > REMEMBERED:
                self._etas.popitem(last=False)

    def _read(self) -> None:
        from kafka import KafkaConsumer

        try:
            consumer = KafkaConsumer(self.topic, bootstrap_servers=self.bootstrap, group_id=None,
                                     auto_offset_reset="latest", enable_auto_commit=False,
                                     client_id="gameday-producer-etas", **self.security)
        except Exception as exc:  # the knob then changes nothing; said once
            log.warning("cannot read %s, eta_influence has no effect: %s", self.topic, exc)
            return
        try:
            while not self._stop.is_set():
                for records in consumer.poll(timeout_ms=200).values():
                    for record in records:
                        self.remember(record.value)
        finally:
            consumer.close()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
