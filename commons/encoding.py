"""The two encodings every signed format here shares: unpadded base64url and canonical JSON.

``b64url_decode`` is strict (RFC 7515 § 2 / RFC 4648 § 5 without padding, canonical
trailing bits), for formats we define and verify; ``b64url_decode_lenient`` keeps the
permissive behaviour (padding optional, stray characters ignored) of the decoders that read
third-party input before a signature check rejects it anyway. ``canonical_json`` is
RFC 8785 (JSON Canonicalization Scheme). ``parse_json`` is ``json.loads`` for input from
outside, with one error for everything that is not JSON.

``b64url_encode_bulk`` and ``b64url_decode_quanta`` are the same base64url for bulk data
(the ciphertext of a JWE, megabytes at a time), bytes in and out. They use ``pybase64``'s
SIMD codec when it is installed (a dependency; several times faster than CPython's
``binascii``, which costs more than AES-GCM and SHA-512 together) and ``binascii``
otherwise, with the same strict rules either way.
"""

from __future__ import annotations

import base64
import binascii
import importlib
import json
import re
from typing import Any

import rfc8785

_fast: Any
try:  # the SIMD codec; binascii when it is missing (same results)
    _fast = importlib.import_module("pybase64")
except ImportError:  # pragma: no cover - pybase64 is a dependency
    _fast = None

_B64URL = re.compile(r"[A-Za-z0-9_-]*")
_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_TO_STANDARD = bytes.maketrans(b"-_", b"+/")


def b64url_encode(data: bytes) -> str:
    """Base64url without padding (RFC 4648 § 5, RFC 7515 § 2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """The bytes of unpadded base64url ``text``; ``ValueError`` for anything else: padding,
    characters outside the alphabet, an impossible length, non-zero trailing bits."""
    if not isinstance(text, str) or not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise ValueError("not unpadded base64url")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except binascii.Error:  # pragma: no cover - excluded by the checks above
        raise ValueError("not unpadded base64url") from None
    if b64url_encode(raw) != text:  # non-canonical: trailing bits set
        raise ValueError("not canonical base64url")
    return raw


def b64url_encode_bulk(data: bytes | memoryview) -> bytes:
    """Unpadded base64url of ``data`` as ASCII bytes (for bulk data; see the module text)."""
    if _fast is not None:
        encoded: bytes = _fast.urlsafe_b64encode(data)
    else:
        encoded = base64.urlsafe_b64encode(data)
    return encoded.rstrip(b"=")


def b64url_decode_quanta(text: bytes) -> bytes:
    """The bytes of ``text``, a whole number of base64url quanta (a multiple of 4
    characters of the alphabet, no padding): canonical by construction. ``ValueError`` for
    anything else. A final partial quantum goes through :func:`b64url_decode`."""
    if len(text) % 4:
        raise ValueError("not whole base64url quanta")
    if _fast is not None:
        # pybase64's validation refuses every byte outside both alphabets and misplaced
        # padding, and releases the GIL; what it would also take (``+``, ``/``, padding at
        # the end) is refused here, by three scans that cost far less than a translate.
        if b"+" in text or b"/" in text or b"=" in text:
            raise ValueError("not whole base64url quanta")
        try:
            decoded: bytes = _fast.b64decode(text, altchars=b"-_", validate=True)
        except binascii.Error:
            raise ValueError("not whole base64url quanta") from None
        return decoded
    if text.translate(None, _ALPHABET):
        raise ValueError("not whole base64url quanta")
    return binascii.a2b_base64(text.translate(_TO_STANDARD), strict_mode=True)


def b64url_decode_lenient(text: str) -> bytes:
    """Base64url with or without padding; characters outside the alphabet are skipped
    (``binascii.Error``, a ``ValueError``, when the rest is not base64)."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def canonical_json(value: Any) -> bytes:
    """RFC 8785 canonical JSON (UTF-8): sorted keys (by UTF-16 code units), no whitespace,
    ECMAScript number form. ``ValueError`` for values JSON cannot hold (NaN, non-str keys)."""
    try:
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, TypeError) as exc:
        raise ValueError(f"not canonicalizable JSON: {exc}") from None
    except RecursionError:  # a value nested deeper than the writer's recursion allows
        raise ValueError("not canonicalizable JSON: nested too deeply") from None


def parse_json(text: str | bytes, **options: Any) -> Any:
    """``json.loads`` for untrusted text: ``ValueError`` for everything that is not JSON,
    including nesting deeper than the parser can recurse (``[[[[…`` raises
    ``RecursionError`` in ``json.loads``, which no caller of a parser expects)."""
    try:
        return json.loads(text, **options)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
