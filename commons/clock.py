"""Time as a dependency.

Everything that stamps, expires or schedules asks a :class:`Clock` instead of calling
``datetime.now()``, so tests can pin time (as Fernet's ``encrypt_at_time`` does). All
times are timezone-aware UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that only moves when told to; for tests and replays."""

    def __init__(self, at: datetime) -> None:
        self._at = ensure_utc(at)

    def now(self) -> datetime:
        return self._at

    def advance(self, delta: timedelta) -> None:
        self._at += delta

    def set(self, at: datetime) -> None:
        self._at = ensure_utc(at)


def ensure_utc(value: datetime) -> datetime:
    """Refuse naive datetimes: a time without a zone is a bug waiting for a DST change."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("naive datetime: attach a timezone (UTC) before using it")
    return value.astimezone(UTC)


system_clock: Clock = SystemClock()
