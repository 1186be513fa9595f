"""Structured (JSON-line) logs. Only whitelisted extra fields are written: ids, codes, counts, timings,
never images, templates, names or document numbers."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

SAFE_FIELDS = ("capture_session", "registration", "decision", "reasons", "operator", "actor", "live", "verdict",
               "count", "templates", "seconds", "code", "path", "subscriber", "method", "status", "ms")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        stamp = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        entry: dict[str, object] = {"time": stamp,
                                    "level": record.levelname, "logger": record.name, "message": record.getMessage()}
        for name in SAFE_FIELDS:
            if name in record.__dict__:
                entry[name] = record.__dict__[name]
        if record.exc_info and record.exc_info[0] is not None:
            entry["error"] = record.exc_info[0].__name__  # the type only: messages may quote input
        return json.dumps(entry, default=str)


def configure(level: str = "INFO") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger("facekyc")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
