"""Signed notifications: HMAC-SHA512 over ``"{timestamp}.{raw body}"``.

The scheme FIT-Connect uses for its callbacks (and Stripe for webhooks), implemented once in
:mod:`commons.timestamped_hmac`: the signature covers the exact bytes received and the
timestamp, the timestamp must lie within a tolerance window, and the comparison is
constant-time. Every failure raises the one opaque
:class:`~payments.errors.InvalidNotification`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from commons import timestamped_hmac
from payments.errors import InvalidNotification

TIMESTAMP_HEADER = "x-payment-timestamp"
SIGNATURE_HEADER = "x-payment-signature"
TOLERANCE_SECONDS = 300


def signature(secret: bytes, timestamp: int, body: bytes) -> str:
    return timestamped_hmac.signature(secret, timestamp, body)


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
    timestamped_hmac.verify(
        secret,
        lowered.get(TIMESTAMP_HEADER, ""),
        lowered.get(SIGNATURE_HEADER, ""),
        body,
        now=now,
        max_age_seconds=tolerance_seconds,
        max_future_seconds=tolerance_seconds,
        error=InvalidNotification,
    )
