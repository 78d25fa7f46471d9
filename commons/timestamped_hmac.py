"""HMAC-SHA512 over ``"{timestamp}.{raw body}"``: the scheme behind signed notifications.

FIT-Connect signs its callbacks this way (and Stripe its webhooks); payments signs its provider
notifications the same way. The signature covers the exact bytes received and the timestamp;
the timestamp must lie within a window around now. Verification computes and compares the MAC
(in constant time) *before* it looks at the timestamp, so the work done does not depend on
whether the signature was right, and every failure raises the caller's one opaque error.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

MAX_TIMESTAMP_DIGITS = 12
_ASCII_DIGITS = frozenset("0123456789")


def signature(secret: bytes, timestamp: int, body: bytes) -> str:
    """The lower-case hex HMAC-SHA512 of ``"{timestamp}.{body}"``."""
    return hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha512).hexdigest()


def parse_timestamp(raw: str) -> int | None:
    """Unix seconds from ASCII digits only (``str.isdigit`` also accepts ``"²"`` or ``"٣"``)."""
    if not raw or len(raw) > MAX_TIMESTAMP_DIGITS or not set(raw) <= _ASCII_DIGITS:
        return None
    return int(raw)


def verify(
    secret: bytes,
    raw_timestamp: str,
    given: str,
    body: bytes,
    *,
    now: datetime,
    max_age_seconds: int,
    max_future_seconds: int,
    error: type[Exception],
) -> int:
    """Return the timestamp if ``given`` is the signature of a fresh message; else raise ``error``.

    ``given`` is compared as lower-case hex after stripping surrounding whitespace.
    """
    timestamp = parse_timestamp(raw_timestamp)
    if timestamp is None or not given:
        raise error()
    expected = signature(secret, timestamp, body)
    try:
        candidate = given.strip().lower().encode("ascii")
    except UnicodeEncodeError:
        candidate = b""
    # Compare before looking at the time so the work done does not depend on the signature.
    valid = hmac.compare_digest(expected.encode(), candidate)
    age = int(now.timestamp()) - timestamp
    fresh = -max_future_seconds <= age <= max_age_seconds
    if not (valid and fresh):
        raise error()
    return timestamp
