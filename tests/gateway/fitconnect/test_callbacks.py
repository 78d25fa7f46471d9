"""Callbacks: HMAC-SHA512 over "{timestamp}.{body}", fresh, constant-time, ASCII digits."""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

import pytest

from gateway.fitconnect import callbacks
from gateway.fitconnect.errors import InvalidCallback
from tests.gateway.fitconnect.conftest import NOW

SECRET = "s" * 40
BODY = b'{"type":"https://schema.fitko.de/fit-connect/callbacks/new-submissions","submissions":[]}'
TS = int(NOW.timestamp())
AUTH = "callback-authentication"


def test_round_trip_and_known_answer() -> None:
    headers = callbacks.sign_callback(BODY, SECRET, TS)
    expected = hmac.new(SECRET.encode(), f"{TS}.".encode() + BODY, hashlib.sha512).hexdigest()
    assert headers == {"callback-timestamp": str(TS), "callback-authentication": expected}
    assert callbacks.verify_callback(headers, BODY, SECRET, NOW) == TS
    upper = {k.upper(): v.upper() for k, v in headers.items()}
    assert callbacks.verify_callback(upper, BODY, SECRET, NOW + timedelta(seconds=299)) == TS


@pytest.mark.parametrize(
    ("name", "change"),
    [
        ("stale", lambda h: (h, BODY, NOW + timedelta(seconds=301))),
        ("future", lambda h: (h, BODY, NOW - timedelta(seconds=61))),
        ("body changed", lambda h: (h, BODY + b" ", NOW)),
        ("mac flipped", lambda h: ({**h, "callback-authentication": "0" * 128}, BODY, NOW)),
        ("mac cut", lambda h: ({**h, AUTH: h[AUTH][:-2]}, BODY, NOW)),
        ("mac missing", lambda h: ({"callback-timestamp": h["callback-timestamp"]}, BODY, NOW)),
        ("timestamp missing", lambda h: ({AUTH: h[AUTH]}, BODY, NOW)),
        ("timestamp changed", lambda h: ({**h, "callback-timestamp": str(TS + 1)}, BODY, NOW)),
        ("mac non-ascii", lambda h: ({**h, "callback-authentication": "é" * 128}, BODY, NOW)),
    ],
)
def test_refused(name: str, change: object) -> None:
    headers = callbacks.sign_callback(BODY, SECRET, TS)
    hdrs, body, now = change(headers)  # type: ignore[operator]
    with pytest.raises(InvalidCallback) as caught:
        callbacks.verify_callback(hdrs, body, SECRET, now)
    assert str(caught.value) == InvalidCallback.title, name


@pytest.mark.parametrize(
    "stamp",
    [
        "",
        " 1",
        "1 ",
        "+1",
        "-1",
        "1.5",
        "1e9",
        "\u0661\u0667\u0660\u0660\u0660\u0660\u0660\u0660\u0660\u0660",
        "\u00b2",
        "0x10",
        "9" * 13,
    ],
)
def test_timestamp_must_be_ascii_digits(stamp: str) -> None:
    mac = hmac.new(SECRET.encode(), stamp.encode() + b"." + BODY, hashlib.sha512).hexdigest()
    headers = {"callback-timestamp": stamp, "callback-authentication": mac}
    with pytest.raises(InvalidCallback):
        callbacks.verify_callback(headers, BODY, SECRET, NOW)


def test_wrong_secret_and_short_secret() -> None:
    headers = callbacks.sign_callback(BODY, SECRET, TS)
    with pytest.raises(InvalidCallback):
        callbacks.verify_callback(headers, BODY, "t" * 40, NOW)
    with pytest.raises(ValueError, match="at least"):
        callbacks.sign_callback(BODY, "short", TS)
