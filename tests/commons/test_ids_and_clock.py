from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from commons.clock import FixedClock, ensure_utc
from commons.ids import new_id, parse_id


def test_new_id_is_uuid7_and_time_ordered() -> None:
    clock = FixedClock(datetime(2026, 1, 1, tzinfo=UTC))
    first = new_id(clock)
    clock.advance(timedelta(milliseconds=1))
    second = new_id(clock)
    assert first.version == 7
    assert first.variant == "specified in RFC 4122"
    assert first < second
    assert (first.int >> 80) == int(datetime(2026, 1, 1, tzinfo=UTC).timestamp() * 1000)


def test_new_id_uses_injected_randomness() -> None:
    clock = FixedClock(datetime(2026, 1, 1, tzinfo=UTC))
    assert new_id(clock, randbits=lambda n: 0) == new_id(clock, randbits=lambda n: 0)
    assert new_id(clock) != new_id(clock)


def test_parse_id_rejects_garbage() -> None:
    with pytest.raises(ValueError, match="hexadecimal"):
        parse_id("not-an-id")


def test_clock_refuses_naive_times_and_normalises_to_utc() -> None:
    with pytest.raises(ValueError, match="naive"):
        FixedClock(datetime(2026, 1, 1))
    berlin = timezone(timedelta(hours=1))
    assert ensure_utc(datetime(2026, 1, 1, 1, tzinfo=berlin)) == datetime(2026, 1, 1, tzinfo=UTC)
