"""FIT-Connect callbacks: the delivery service tells a receiver that something is new.

Headers: ``callback-timestamp`` (Unix seconds, ASCII digits) and ``callback-authentication``
(lower-case hex HMAC-SHA512 with the callback secret over ``"{callback-timestamp}.{raw
body}"``). A receiver refuses a callback whose MAC is wrong, whose timestamp is older than
five minutes or more than :data:`MAX_FUTURE_SECONDS` ahead, or malformed; the MAC is compared
in constant time before the timestamp is looked at (:mod:`commons.timestamped_hmac`, the same
code that checks payments' notifications). A callback is only a hint: the receiver fetches
what it announces, it never trusts the body's content.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from commons import timestamped_hmac
from gateway.fitconnect.errors import InvalidCallback

TIMESTAMP_HEADER = "callback-timestamp"
AUTHENTICATION_HEADER = "callback-authentication"
MAX_AGE_SECONDS = 300
MAX_FUTURE_SECONDS = 60
NEW_SUBMISSIONS = "https://schema.fitko.de/fit-connect/callbacks/new-submissions"
MIN_SECRET_BYTES = 32


def _secret(secret: bytes | str) -> bytes:
    raw = secret.encode() if isinstance(secret, str) else secret
    if len(raw) < MIN_SECRET_BYTES:
        raise ValueError(f"a callback secret has at least {MIN_SECRET_BYTES} bytes")
    return raw


def sign_callback(body: bytes, secret: bytes | str, timestamp: int) -> dict[str, str]:
    """The two headers that authenticate ``body`` sent at ``timestamp`` (Unix seconds)."""
    if timestamp < 0:
        raise ValueError("timestamp is Unix seconds")
    return {
        TIMESTAMP_HEADER: str(timestamp),
        AUTHENTICATION_HEADER: timestamped_hmac.signature(_secret(secret), timestamp, body),
    }


def verify_callback(
    headers: Mapping[str, str], body: bytes, secret: bytes | str, now: datetime
) -> int:
    """Return the callback's timestamp if it is authentic and fresh; else :class:`InvalidCallback`.

    Header names are matched case-insensitively; ``body`` is the raw bytes received.
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    return timestamped_hmac.verify(
        _secret(secret),
        lowered.get(TIMESTAMP_HEADER, ""),
        lowered.get(AUTHENTICATION_HEADER, ""),
        body,
        now=now,
        max_age_seconds=MAX_AGE_SECONDS,
        max_future_seconds=MAX_FUTURE_SECONDS,
        error=InvalidCallback,
    )
