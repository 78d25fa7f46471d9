"""Shared plumbing of ozg-commons: settings, database, ids, clock, errors, logging.

Every domain (``compliance``, ``account``, ``vault``, ``payments``) and the ``gateway``
build on this package; it imports none of them.
"""

from commons.clock import Clock, FixedClock, SystemClock, ensure_utc, system_clock
from commons.context import current_request_id
from commons.db import Base, Database, UTCDateTime
from commons.errors import (
    ConfigurationError,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    OzgError,
    PayloadTooLarge,
    ServiceUnavailable,
    Unauthorized,
)
from commons.ids import new_id, new_id_str, parse_id
from commons.settings import Settings, get_settings
from commons.web import DbSession

__all__ = [
    "Base",
    "Clock",
    "ConfigurationError",
    "Conflict",
    "Database",
    "DbSession",
    "FixedClock",
    "Forbidden",
    "InvalidInput",
    "NotFound",
    "OzgError",
    "PayloadTooLarge",
    "ServiceUnavailable",
    "Settings",
    "SystemClock",
    "UTCDateTime",
    "Unauthorized",
    "current_request_id",
    "ensure_utc",
    "get_settings",
    "new_id",
    "new_id_str",
    "parse_id",
    "system_clock",
]
