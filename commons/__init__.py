"""Shared plumbing of ozg-commons: settings, database, ids, clock, errors, logging.

Every domain (``compliance``, ``account``, ``vault``, ``payments``) and the ``gateway``
build on this package; it imports none of them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from commons.faces import lazy_face

if TYPE_CHECKING:
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
__getattr__ = lazy_face(
    __name__,
    {
        "Base": "commons.db",
        "Clock": "commons.clock",
        "ConfigurationError": "commons.errors",
        "Conflict": "commons.errors",
        "Database": "commons.db",
        "DbSession": "commons.web",
        "FixedClock": "commons.clock",
        "Forbidden": "commons.errors",
        "InvalidInput": "commons.errors",
        "NotFound": "commons.errors",
        "OzgError": "commons.errors",
        "PayloadTooLarge": "commons.errors",
        "ServiceUnavailable": "commons.errors",
        "Settings": "commons.settings",
        "SystemClock": "commons.clock",
        "UTCDateTime": "commons.db",
        "Unauthorized": "commons.errors",
        "current_request_id": "commons.context",
        "ensure_utc": "commons.clock",
        "get_settings": "commons.settings",
        "new_id": "commons.ids",
        "new_id_str": "commons.ids",
        "parse_id": "commons.ids",
        "system_clock": "commons.clock",
    },
)
