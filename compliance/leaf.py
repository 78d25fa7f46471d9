"""The versioned, canonical byte encoding of a log leaf and of its personal-data commitment.

Leaf (version 1)::

    "ozg-audit-leaf/v1\\n"
    field(entry id) field(at) field(request id) field(actor role) field(actor authority)
    field(actor client id) field(action) field(purpose) field(legal basis) field(outcome)
    field(disclosed after) field(commitment)

``field(x)`` is ``0x00`` for an absent value, else ``0x01 || uint32_be(len(b)) || b`` where
``b`` is the UTF-8 text (times as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` in UTC) or the raw
32-byte commitment. The commitment binds the personal fields without revealing them::

    SHA-256("ozg-audit-commitment/v1\\n" || salt (32 random bytes)
            || field(data subject) || field(actor subject) || field(resource))

The salt is per entry and stored only beside the leaf; once it is shredded the commitment
reveals nothing, not even to someone who guesses the subject id.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass, fields
from datetime import UTC, datetime

LEAF_MAGIC = b"ozg-audit-leaf/v1\n"
COMMITMENT_MAGIC = b"ozg-audit-commitment/v1\n"
SALT_SIZE = 32


_LENGTH = struct.Struct(">I").pack


def _field(value: str | bytes | None) -> bytes:
    if value is None:
        return b"\x00"
    raw = value.encode() if isinstance(value, str) else value
    return b"\x01" + _LENGTH(len(raw)) + raw


def format_time(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("naive datetime")
    v = value if value.tzinfo is UTC else value.astimezone(UTC)
    if v.year < 1000:  # the formatting below pads years to four digits; keep strftime's
        return v.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return (
        f"{v.year}-{v.month:02d}-{v.day:02d}T{v.hour:02d}:{v.minute:02d}:{v.second:02d}"
        f".{v.microsecond:06d}Z"
    )


def commitment(salt: bytes, data_subject: str | None, actor_subject: str, resource: str) -> bytes:
    if len(salt) != SALT_SIZE:
        raise ValueError("salt must be 32 bytes")
    return hashlib.sha256(
        COMMITMENT_MAGIC + salt + _field(data_subject) + _field(actor_subject) + _field(resource)
    ).digest()


@dataclass(frozen=True, slots=True)
class LeafData:
    """The non-personal fields of an entry, exactly as the leaf encodes them."""

    entry_id: str
    at: datetime
    request_id: str | None
    actor_role: str
    actor_authority: str | None
    actor_client_id: str | None
    action: str
    purpose: str
    legal_basis: str
    outcome: str
    disclosed_after: datetime | None
    commitment: bytes

    def encode(self) -> bytes:
        f = _field
        return b"".join(
            (
                LEAF_MAGIC,
                f(self.entry_id),
                f(format_time(self.at)),
                f(self.request_id),
                f(self.actor_role),
                f(self.actor_authority),
                f(self.actor_client_id),
                f(self.action),
                f(self.purpose),
                f(self.legal_basis),
                f(self.outcome),
                f(format_time(self.disclosed_after) if self.disclosed_after else None),
                f(self.commitment),
            )
        )


# The leaf's fields in encoding order (the entry columns and the export follow it).
FIELD_NAMES = tuple(f.name for f in fields(LeafData))


def decode(leaf: bytes) -> dict[str, str | None]:
    """The fields of a version-1 leaf (text; the commitment as hex). Raise ValueError."""
    if not leaf.startswith(LEAF_MAGIC):
        raise ValueError("not a version-1 leaf")
    pos, out = len(LEAF_MAGIC), dict[str, str | None]()
    for name in FIELD_NAMES:
        if pos >= len(leaf):
            raise ValueError("truncated leaf")
        tag = leaf[pos]
        pos += 1
        if tag == 0:
            out[name] = None
            continue
        if tag != 1 or pos + 4 > len(leaf):
            raise ValueError("malformed leaf")
        (length,) = struct.unpack(">I", leaf[pos : pos + 4])
        raw = leaf[pos + 4 : pos + 4 + length]
        if len(raw) != length:
            raise ValueError("truncated leaf")
        pos += 4 + length
        out[name] = raw.hex() if name == "commitment" else raw.decode()
    if pos != len(leaf):
        raise ValueError("trailing bytes in leaf")
    return out
