"""Signed notifications: HMAC-SHA512 over ``"{timestamp}.{raw body}"``.

The scheme FIT-Connect uses for its callbacks (and Stripe for webhooks): the signature covers
the exact bytes received and the timestamp, the timestamp must lie within a tolerance window,
and the comparison is constant-time. Every failure raises the one opaque
:class:`~payments.errors.InvalidNotification`.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime

from payments.errors import InvalidNotification

TIMESTAMP_HEADER = "x-payment-timestamp"
SIGNATURE_HEADER = "x-payment-signature"
TOLERANCE_SECONDS = 300


def signature(secret: bytes, timestamp: int, body: bytes) -> str:
    return hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha512).hexdigest()


def signed_headers(secret: bytes, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(secret, timestamp, body),
    }


def verify(
    secret: bytes,
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: datetime,
    tolerance_seconds: int = TOLERANCE_SECONDS,
) -> None:
    """Raise :class:`InvalidNotification` unless ``body`` carries a fresh, valid signature."""
    lowered = {k.lower(): v for k, v in headers.items()}
    raw_ts = lowered.get(TIMESTAMP_HEADER, "")
    given = lowered.get(SIGNATURE_HEADER, "")
    if not raw_ts.isdigit() or len(raw_ts) > 12 or not given:
        raise InvalidNotification()
    timestamp = int(raw_ts)
    expected = signature(secret, timestamp, body)
    # Compare before looking at the time so the work done does not depend on the signature.
    valid = hmac.compare_digest(expected.encode(), given.strip().lower().encode())
    fresh = abs(int(now.timestamp()) - timestamp) <= tolerance_seconds
    if not (valid and fresh):
        raise InvalidNotification()
