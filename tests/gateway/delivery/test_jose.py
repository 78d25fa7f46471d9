"""gateway.delivery.jose: what the delivery service checks of a JWE it cannot decrypt."""

from __future__ import annotations

import io

import pytest

from commons.encoding import b64url_encode
from gateway.delivery.errors import InvalidAttachment
from gateway.delivery.jose import inspect_stream, inspect_text


def test_a_deeply_nested_header_is_an_invalid_attachment() -> None:
    """Found by fuzzing (tests/fuzz): the header's JSON of 2,000 nested arrays raised
    RecursionError, a 500 on an upload."""
    header = b64url_encode(b"[" * 2000 + b"]" * 2000)
    compact = f"{header}.{'A' * 683}.{'A' * 16}.AAAA.{'A' * 22}"
    with pytest.raises(InvalidAttachment):
        inspect_text(compact, kid="k", modulus_bytes=512)
    with pytest.raises(InvalidAttachment):
        inspect_stream(io.BytesIO(compact.encode()), kid="k", modulus_bytes=512)


def test_the_sender_refuses_an_event_header_nested_too_deeply() -> None:
    """Found by fuzzing: the sender reads each event token's ``kid`` before verifying it; a
    header of 2,000 nested arrays raised RecursionError."""
    from gateway.delivery.sender import _header
    from gateway.fitconnect.errors import InvalidEventToken

    with pytest.raises(InvalidEventToken):
        _header(b64url_encode(b"[" * 2000 + b"]" * 2000) + ".e30.AA")
