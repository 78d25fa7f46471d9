"""Uploads: the structural check of an envelope, the quota, and making a stored blob a
document. The body is never decrypted; the HTTP side (``vault.api``) streams and spools."""

from __future__ import annotations

from dataclasses import dataclass
from typing import IO

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from account import Principal
from commons.clock import Clock, system_clock
from commons.ids import new_id_str
from vault import envelope
from vault.errors import DocumentTooLarge, InvalidEnvelope, QuotaExceeded, RangeNotSatisfiable
from vault.models import Document
from vault.service import record


@dataclass(frozen=True, slots=True)
class CheckedEnvelope:
    document_id: str
    size: int
    blob_key: str = ""


def check_envelope(spool: IO[bytes], size: int, max_size: int) -> CheckedEnvelope:
    """Structural check of an uploaded envelope; the body is never decrypted."""
    spool.seek(0)
    header = envelope.read_header(spool)
    rest = size - len(header.encode())
    if not envelope.body_is_well_formed(header, rest, max_size):
        if envelope.body_is_well_formed(header, rest, envelope.MAX_PLAINTEXT):
            raise DocumentTooLarge(max_size)  # well formed, only too long: say the limit
        raise InvalidEnvelope()
    spool.seek(0)
    return CheckedEnvelope(str(header.document_id), size, new_id_str())


class _NeedMore(Exception):
    """The bytes received so far end inside the header."""


class _Prefix:
    """A reader over the first bytes of an upload that says when they run out."""

    def __init__(self, data: bytes) -> None:
        self._data, self._pos = data, 0

    def read(self, n: int = -1, /) -> bytes:
        if n < 0 or self._pos + n > len(self._data):
            raise _NeedMore
        self._pos += n
        return self._data[self._pos - n : self._pos]


def header_of_prefix(prefix: bytes) -> envelope.Header | None:
    """The header at the start of ``prefix``: None if more bytes are needed to tell,
    :class:`InvalidEnvelope` as soon as the bytes so far cannot start an envelope."""
    try:
        return envelope.read_header(_Prefix(prefix))
    except _NeedMore:
        return None


def max_envelope_size(max_size: int) -> int:
    """An upper bound of the envelope size for a plaintext limit (to cut uploads early)."""
    chunks = envelope.max_chunks(max_size, envelope.MIN_CHUNK_SIZE)
    return max_size + chunks * envelope.TAG_LEN + envelope.MAX_HEADER_LEN + envelope.TRAILER_LEN


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The one byte range of a ``Range`` header (RFC 9110 §14.1.2) as ``(first, last)``
    (inclusive), or None for no header, several ranges or a malformed one (then the whole
    envelope is sent, as the RFC allows); :class:`RangeNotSatisfiable` for a range that
    starts past the end."""
    if not header or not header.startswith("bytes=") or "," in header:
        return None
    first, sep, last = header[6:].strip().partition("-")
    if not sep or not (first or last) or not all(p.isdigit() for p in (first, last) if p):
        return None
    if not first:  # the last N bytes
        n = int(last)
        if not n or not size:
            raise _unsatisfiable(size)
        return (max(0, size - n), size - 1)
    start = int(first)
    if start >= size:
        raise _unsatisfiable(size)
    end = min(int(last), size - 1) if last else size - 1
    return (start, end) if end >= start else None


def _unsatisfiable(size: int) -> RangeNotSatisfiable:
    return RangeNotSatisfiable(
        f"the envelope has {size} bytes", headers={"Content-Range": f"bytes */{size}"}
    )


def used_bytes(session: Session, subject: str) -> int:
    total = session.scalar(
        select(func.coalesce(func.sum(Document.envelope_size), 0)).where(
            Document.owner_subject == subject
        )
    )
    return int(total or 0)


def check_quota(session: Session, subject: str, incoming: int, quota: int) -> None:
    used = used_bytes(session, subject)
    if used + incoming > quota:
        raise QuotaExceeded(quota, used, incoming)


def check_id_free(session: Session, document_id: str) -> None:
    """Refuse an envelope whose document id is taken (ids are unique; the one error type)."""
    if session.get(Document, document_id) is not None:
        raise InvalidEnvelope()


def add_document(
    session: Session,
    principal: Principal,
    checked: CheckedEnvelope,
    *,
    quota: int,
    clock: Clock = system_clock,
) -> Document:
    """Make a fully stored blob visible as the applicant's document."""
    check_quota(session, principal.subject, checked.size, quota)
    check_id_free(session, checked.document_id)
    doc = Document(
        id=checked.document_id,
        owner_subject=principal.subject,
        blob_key=checked.blob_key,
        envelope_size=checked.size,
        created_at=clock.now(),
    )
    session.add(doc)
    session.flush()
    record(session, principal, principal.subject, "vault.document.create", doc.id, clock)
    return doc
