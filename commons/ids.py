"""Identifiers.

Ids are UUIDv7 (RFC 9562): random enough to be unguessable (74 random bits), and
time-ordered so that B-tree indexes on PostgreSQL stay compact under inserts. The clock
and the randomness are injectable for reproducible test vectors.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable

from commons.clock import Clock, system_clock


def new_id(
    clock: Clock = system_clock, randbits: Callable[[int], int] = secrets.randbits
) -> uuid.UUID:
    """A fresh UUIDv7: 48-bit Unix milliseconds, version 7, 74 random bits, variant 10."""
    unix_ms = int(clock.now().timestamp() * 1000) & ((1 << 48) - 1)
    rand_a = randbits(12)
    rand_b = randbits(62)
    value = (unix_ms << 80) | (0x7 << 76) | (rand_a << 64) | (0b10 << 62) | rand_b
    return uuid.UUID(int=value)


def new_id_str(clock: Clock = system_clock) -> str:
    return str(new_id(clock))


def parse_id(value: str) -> uuid.UUID:
    """Parse an id from untrusted input; raises ``ValueError`` on anything malformed."""
    return uuid.UUID(value)
