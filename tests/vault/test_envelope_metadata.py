"""``envelope.open_metadata``: the metadata record from the header and the trailer alone
(what ``vault ls`` and the portal's listing read), and every way it can be wrong."""

from __future__ import annotations

import io
import os

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from vault import envelope
from vault.errors import InvalidEnvelope

KEY = ec.generate_private_key(ec.SECP256R1())


def _parts(env: bytes) -> tuple[envelope.Header, envelope.DocumentKey]:
    header = envelope.read_header(io.BytesIO(env))
    return header, envelope.unlock(header, KEY)


@pytest.mark.parametrize("size", [0, 1, 4096, 4097, 3 * 4096, 20_000])
def test_the_record_opens_without_the_body(size: int) -> None:
    data = os.urandom(size)
    env = envelope.seal_bytes(data, [KEY.public_key()], filename="a.pdf",
                              media_type="application/pdf", chunk_size=4096)  # fmt: skip
    header, key = _parts(env)
    meta = envelope.open_metadata(header, key, env[-envelope.TRAILER_LEN :], len(env))
    assert (meta.filename, meta.media_type, meta.size) == ("a.pdf", "application/pdf", size)


def test_a_wrong_size_or_a_changed_trailer_is_refused() -> None:
    env = envelope.seal_bytes(os.urandom(10_000), [KEY.public_key()], filename="a.pdf",
                              media_type="application/pdf", chunk_size=4096)  # fmt: skip
    other = envelope.seal_bytes(b"x", [KEY.public_key()], filename="b.pdf",
                                media_type="application/pdf", chunk_size=4096)  # fmt: skip
    header, key = _parts(env)
    trailer = env[-envelope.TRAILER_LEN :]
    flipped = bytearray(trailer)
    flipped[100] ^= 1
    cases = [
        (trailer, len(env) - 4096 - 16),  # one chunk fewer: another chunk count
        (trailer, len(env) + 4096 + 16),
        (bytes(flipped), len(env)),
        (other[-envelope.TRAILER_LEN :], len(env)),  # another envelope's record
        (trailer[:-1], len(env)),
    ]
    for bad_trailer, size in cases:
        with pytest.raises(InvalidEnvelope):
            envelope.open_metadata(header, key, bad_trailer, size)
