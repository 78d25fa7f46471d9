"""Structured JSON logs that carry no personal data and no secrets.

Privacy rules baked in here rather than left to every call site:
- one JSON object per line, with the request id from :mod:`commons.context`;
- exceptions are logged as their type and stack frames only, never their message: driver
  errors quote SQL parameters, which may be personal data;
- only the keys a caller passes through ``extra=`` are added, so nothing is picked up by
  accident (no request bodies, no headers, no tokens).
"""

from __future__ import annotations

import json
import logging
import sys
import traceback
from datetime import UTC, datetime
from typing import Any

from commons.context import current_request_id

# Attributes every LogRecord has; anything else came from ``extra=``.
_STANDARD_ATTRS = frozenset(
    vars(logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None)).keys()
) | {"message", "asctime", "color_message", "taskName"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        request_id = current_request_id()
        if request_id:
            entry["request_id"] = request_id
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                entry[key] = value
        if record.exc_info and record.exc_info[0] is not None:
            exc_type, _exc, tb = record.exc_info
            entry["exc_type"] = exc_type.__name__
            entry["stack"] = [
                f"{frame.filename}:{frame.lineno} in {frame.name}"
                for frame in traceback.extract_tb(tb)
            ]
        return json.dumps(entry, default=str, ensure_ascii=False)


# Loggers of libraries that log full URLs (which may carry ids or query parameters) at INFO.
_URL_LOGGERS = ("httpx", "httpx2", "httpcore", "urllib3", "keycloak")


def quiet_url_loggers() -> None:
    """Keep third-party clients from logging request URLs: only their warnings get through."""
    for name in _URL_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def configure_logging(level: str = "INFO", stream: Any = None) -> None:
    """Route every logger (ours, uvicorn's, SQLAlchemy's) through one JSON handler."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        lg = logging.getLogger(name)
        lg.handlers[:] = []
        lg.propagate = True
    # uvicorn's access log prints raw paths and query strings; the gateway logs requests
    # by route template instead.
    logging.getLogger("uvicorn.access").disabled = True
    quiet_url_loggers()
