"""Structured JSON-line logs on stdout (the supervisor writes them to logs/<component>.log)."""

from __future__ import annotations

import json
import logging
import sys
import time
import warnings
from collections import Counter
from typing import Callable


class JsonLineFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "service": getattr(record, "service", record.name),
            "msg": record.getMessage(),
        }
        line.update(getattr(record, "fields", {}))
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def setup_logging(service: str, level: str = "INFO") -> logging.Logger:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonLineFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Client libraries are chatty at INFO; their warnings still come through.
    for noisy in ("kafka", "feast", "urllib3", "bentoml"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    for action, message in IGNORED_WARNINGS:
        warnings.filterwarnings(action, message=message)
    logging.captureWarnings(True)
    logging.getLogger("py.warnings").addFilter(_RepeatedWarnings())
    return logging.getLogger(service)


def log_event(logger: logging.Logger, msg: str, **fields: object) -> None:
    """Log a message with extra structured fields: log_event(log, "batch written", rows=500)."""
    logger.info(msg, extra={"fields": fields})


class RepeatedEvents:
    """Events that can repeat thousands of times a minute (dead letters) as a few lines: the first of
    each kind logged at once, then one line per interval counting every event by kind. The counts of
    the summary lines add up to the events: nothing is hidden, the log stays readable."""

    def __init__(self, logger: logging.Logger, what: str, interval_s: float = 10.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.logger, self.what, self.interval_s, self.clock = logger, what, interval_s, clock
        self.counts: Counter[str] = Counter()
        self.kinds_seen: set[str] = set()
        self.total = 0
        self._since = clock()

    def add(self, kind: str, **fields: object) -> None:
        if kind not in self.kinds_seen:
            self.kinds_seen.add(kind)
            self.logger.warning(f"{self.what}: a new kind (counted in the next summary)",
                                extra={"fields": {"kind": kind, **fields}})
        self.counts[kind] += 1
        self.total += 1
        self.flush()

    def flush(self, force: bool = False) -> None:
        """One summary line when the interval is over (or `force`, e.g. when stopping) and anything happened."""
        now = self.clock()
        if not self.counts or (not force and now - self._since < self.interval_s):
            if not self.counts:
                self._since = now
            return
        self.logger.warning(f"{self.what}: {sum(self.counts.values())} in the last {now - self._since:.0f}s",
                            extra={"fields": {"count": sum(self.counts.values()), "by_kind": dict(self.counts),
                                              "interval_s": round(now - self._since, 1), "total": self.total}})
        self.counts.clear()
        self._since = now


class _RepeatedWarnings(logging.Filter):
    """Python warnings routed to the log (captureWarnings): each message once, the repeats counted
    and said once a minute — a library that resets the warning registry (Evidently's per-window
    catch_warnings) otherwise prints the same warning on every window."""

    def __init__(self, interval_s: float = 60.0) -> None:
        super().__init__()
        self.seen: set[str] = set()
        self.repeats: Counter[str] = Counter()
        self.interval_s, self._since = interval_s, time.monotonic()

    def filter(self, record: logging.LogRecord) -> bool:
        # "path/to/module.py:42: SomeWarning: the message" (+ the source line): keep "SomeWarning: the message".
        first = (record.getMessage().strip().splitlines() or [""])[0]
        parts = first.split(": ", 2)
        key = ": ".join(parts[1:]) if len(parts) == 3 else first
        if key not in self.seen:
            self.seen.add(key)
            record.msg, record.args = f"{key} (repeats are counted, not printed)", ()
            return True
        self.repeats[key] += 1
        if time.monotonic() - self._since < self.interval_s:
            return False
        record.msg, record.args = "repeated warnings", ()
        record.fields = {"by_warning": dict(self.repeats), "interval_s": round(time.monotonic() - self._since)}
        self.repeats.clear()
        self._since = time.monotonic()
        return True


# Warnings that say nothing to whoever reads the log: a window with fewer than two labelled rows has no
# R² (the monitor reports it as too few labels), and ibis' deprecation notice under Feast's DuckDB store.
IGNORED_WARNINGS = (("ignore", r"R\^2 score is not well-defined"), ("ignore", r".*fetch_arrow_table"))
