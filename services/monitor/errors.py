"""The monitor's own errors (GamedayError: printed as `Kind: message` with a hint)."""

from ..errors import GamedayError


class MonitorError(GamedayError):
    kind = "MonitorError"


class ReferenceError_(MonitorError):
    """The model's reference sample cannot be used (missing, unreadable, or lacking a column)."""

    kind = "ReferenceError"
