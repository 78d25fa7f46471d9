"""Property tests of the notification signature: round trip, and any change is rejected."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from payments import signing
from payments.errors import InvalidNotification

NOW = 1_800_000_000
AT = datetime.fromtimestamp(NOW, UTC)


@given(secret=st.binary(min_size=1, max_size=64), body=st.binary(max_size=512))
def test_round_trip(secret: bytes, body: bytes) -> None:
    signing.verify(secret, signing.signed_headers(secret, NOW, body), body, now=AT)


@given(
    secret=st.binary(min_size=1, max_size=64),
    body=st.binary(min_size=1, max_size=256),
    data=st.data(),
)
def test_any_flipped_body_bit_is_rejected(secret: bytes, body: bytes, data: st.DataObject) -> None:
    headers = signing.signed_headers(secret, NOW, body)
    index = data.draw(st.integers(0, len(body) * 8 - 1))
    tampered = bytearray(body)
    tampered[index // 8] ^= 1 << (index % 8)
    with pytest.raises(InvalidNotification):
        signing.verify(secret, headers, bytes(tampered), now=AT)


@given(body=st.binary(max_size=64), cut=st.integers(1, 127))
def test_truncated_signature_is_rejected(body: bytes, cut: int) -> None:
    headers = signing.signed_headers(b"k", NOW, body)
    headers[signing.SIGNATURE_HEADER] = headers[signing.SIGNATURE_HEADER][:-cut]
    with pytest.raises(InvalidNotification):
        signing.verify(b"k", headers, body, now=AT)


@pytest.mark.parametrize(
    "stamp", ["", "abc", "-5", "1e9", "9" * 20, " 1800000000", "\u00b2", "\u0661\u0668" * 5]
)
def test_malformed_timestamps_are_rejected(stamp: str) -> None:
    headers = signing.signed_headers(b"k", NOW, b"{}")
    headers[signing.TIMESTAMP_HEADER] = stamp
    with pytest.raises(InvalidNotification):
        signing.verify(b"k", headers, b"{}", now=AT)


def test_tolerance_window_edges() -> None:
    headers = signing.signed_headers(b"k", NOW, b"{}")
    for delta in (-300, 0, 300):
        signing.verify(b"k", headers, b"{}", now=datetime.fromtimestamp(NOW + delta, UTC))
    for delta in (-301, 301):
        with pytest.raises(InvalidNotification):
            signing.verify(b"k", headers, b"{}", now=datetime.fromtimestamp(NOW + delta, UTC))
