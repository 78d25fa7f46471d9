"""Strict base64url (RFC 4648 §5, no padding) for parsing what a sender or receiver sent.

Encoding reuses :func:`vault.recipients.b64u`. Decoding here is strict where the standard
library is lenient (``urlsafe_b64decode`` skips characters outside the alphabet and accepts
non-zero trailing bits): one input has exactly one accepted spelling, so a bit flipped in the
text never decodes to the same bytes.
"""

from __future__ import annotations

import base64
import binascii
import re

from vault.recipients import b64u

_ALPHABET = re.compile(r"[A-Za-z0-9_-]*")

__all__ = ["b64u", "b64u_strict", "is_b64u"]


def is_b64u(text: str) -> bool:
    return _ALPHABET.fullmatch(text) is not None and len(text) % 4 != 1


def b64u_strict(text: str) -> bytes:
    """Decode canonical unpadded base64url; raise ``ValueError`` on anything else."""
    if not is_b64u(text):
        raise ValueError("not canonical base64url")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not canonical base64url") from exc
    if b64u(raw) != text:
        raise ValueError("not canonical base64url")
    return raw
