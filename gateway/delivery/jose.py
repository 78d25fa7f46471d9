"""What the delivery service checks of a JWE it stores but cannot decrypt.

An upload (attachment, metadata, data) must be a JWE compact serialization that the
destination can decrypt: five canonical base64url parts; the protected header as FIT-Connect
sends it (``alg`` RSA-OAEP-256, ``enc`` A256GCM, ``zip`` absent or ``DEF``, no ``crit``,
:func:`gateway.fitconnect.jwe.parse_protected_header`) with ``kid`` = the destination's
``encryptionKid``; a wrapped key as long as the destination key's modulus, a 12-byte IV and
a 16-byte tag. Attachments are checked streaming, from a seekable file.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any, BinaryIO

from commons.encoding import b64url_decode
from gateway.delivery.errors import InvalidAttachment
from gateway.fitconnect.errors import InvalidJwe
from gateway.fitconnect.jwe import (
    IV_LEN,
    MAX_HEADER_CHARS,
    MAX_KEY_CHARS,
    TAG_LEN,
    parse_protected_header,
)

_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_SCAN = 1024 * 1024  # a multiple of 4


@dataclass(frozen=True, slots=True)
class Inspected:
    header: dict[str, Any]
    tag: str  # base64url, the fifth part
    ciphertext_bytes: int  # length of the decoded fourth part


def inspect_text(compact: str, *, kid: str, modulus_bytes: int) -> Inspected:
    if not isinstance(compact, str) or not compact.isascii():
        raise InvalidAttachment("not a JWE compact serialization")
    return inspect_stream(io.BytesIO(compact.encode("ascii")), kid=kid, modulus_bytes=modulus_bytes)


def inspect_stream(source: BinaryIO, *, kid: str, modulus_bytes: int) -> Inspected:
    """Check the compact JWE in the seekable ``source`` (see the module text)."""
    head = source.read(MAX_HEADER_CHARS + MAX_KEY_CHARS + 32 + 3)
    parts = head.split(b".", 3)
    if len(parts) != 4:
        raise InvalidAttachment("not a JWE compact serialization (five parts)")
    try:
        header_b64, ek_b64, iv_b64 = (p.decode("ascii") for p in parts[:3])
    except UnicodeDecodeError:
        raise InvalidAttachment("not a JWE compact serialization") from None
    try:
        header = parse_protected_header(header_b64)
    except InvalidJwe:
        raise InvalidAttachment(
            "the JWE header must have alg RSA-OAEP-256, enc A256GCM, zip absent or DEF, no crit"
        ) from None
    if header.get("kid") != kid:
        raise InvalidAttachment("the JWE kid is not the destination's encryptionKid")
    try:
        wrapped, iv = b64url_decode(ek_b64), b64url_decode(iv_b64)
    except ValueError:
        raise InvalidAttachment("the JWE parts must be canonical base64url") from None
    if len(wrapped) != modulus_bytes or len(iv) != IV_LEN:
        raise InvalidAttachment("the wrapped key or the IV has the wrong length")
    body_start = len(header_b64) + len(ek_b64) + len(iv_b64) + 3
    end = source.seek(0, io.SEEK_END)
    tail_len = min(end - body_start, 32)
    source.seek(end - tail_len)
    tail = source.read(tail_len)
    dot = tail.rfind(b".")
    if dot < 0:
        raise InvalidAttachment("not a JWE compact serialization (five parts)")
    try:
        tag_b64 = tail[dot + 1 :].decode("ascii")
        tag = b64url_decode(tag_b64)
    except (UnicodeDecodeError, ValueError):
        raise InvalidAttachment("the JWE parts must be canonical base64url") from None
    if len(tag) != TAG_LEN:
        raise InvalidAttachment("the JWE tag must have 16 bytes")
    body_end = end - tail_len + dot
    length = body_end - body_start
    if length < 0 or length % 4 == 1:
        raise InvalidAttachment("the JWE ciphertext must be canonical base64url")
    source.seek(body_start)
    remaining = length
    last = b""
    while remaining:
        chunk = source.read(min(_SCAN, remaining))
        if not chunk:
            raise InvalidAttachment("the JWE ends early")
        remaining -= len(chunk)
        if chunk.translate(None, _ALPHABET):
            raise InvalidAttachment("the JWE ciphertext must be canonical base64url")
        last = chunk
    if length % 4:  # the final quantum: its trailing bits must be zero
        try:
            b64url_decode(last[-(length % 4) :].decode("ascii"))
        except ValueError:
            raise InvalidAttachment("the JWE ciphertext must be canonical base64url") from None
    return Inspected(header=header, tag=tag_b64, ciphertext_bytes=length * 3 // 4)
