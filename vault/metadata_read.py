"""The metadata-only read: what a device needs to decrypt a document's name, never its content.

A document's file name, media type and size travel in its envelope's metadata record,
bound to the header (docs/envelope.md §6). A listing on the device needs the header (to
unwrap the document key and check the header MAC), the record and the envelope's length
(the record's associated data carries the number of chunks), and a caseworker also the
authority's detached stanza. This module reads those from the blob store, for one document
or a page of the principal's documents, scoped by :func:`vault.service.visible` like every
read. Each document read is one ``vault.document.metadata_read`` entry of its owner's access
log. It is not a use of the document: retention (``last_used_at``) counts only downloads,
key fetches and shares, so a daily listing does not keep a forgotten document alive.
Wire format: docs/envelope.md §13 (``ozg-vault metadata v1``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from account import Principal, Role
from commons.clock import Clock, system_clock
from commons.errors import InvalidInput
from commons.paging import decode_cursor, encode_cursor
from vault import envelope
from vault.blobstore import BlobStore
from vault.errors import BlobNotFound, DocumentNotFound, InvalidEnvelope
from vault.models import Document, Share
from vault.service import get_document, record, visible
from vault.uploads import header_of_prefix

FORMAT = "ozg-vault metadata v1"
ACTION = "vault.document.metadata_read"
MAX_PAGE = 100
_FIRST_READ = 8192  # a header with a few stanzas; more is read only for a longer one


@dataclass(frozen=True, slots=True)
class SealedMetadata:
    """One document's header and metadata record, as stored (still encrypted)."""

    document_id: str
    envelope_size: int
    header: bytes
    record: bytes
    stanza: bytes | None  # the caseworker's authority's detached stanza; None for the owner


def read_one(
    session: Session,
    principal: Principal,
    store: BlobStore,
    document_id: str,
    clock: Clock = system_clock,
) -> SealedMetadata:
    """The sealed metadata of one document the principal may see (else 404)."""
    doc = get_document(session, principal, document_id)
    stanzas = _stanzas(session, principal, [doc.id])
    try:
        sealed = _read(store, doc, stanzas.get(doc.id))
    except BlobNotFound:
        raise DocumentNotFound() from None
    record(session, principal, doc.owner_subject, ACTION, doc.id, clock)
    return sealed


def read_page(
    session: Session,
    principal: Principal,
    store: BlobStore,
    clock: Clock = system_clock,
    *,
    limit: int = 50,
    cursor: str | None = None,
) -> tuple[list[SealedMetadata], str | None]:
    """A page of the principal's documents (oldest first, as ``GET /documents`` lists them)
    and the cursor of the next page, or None after the last. A document deleted between the
    query and the read of its blob is left out."""
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}")
    query = visible(principal)
    if cursor:
        at, doc_id = decode_cursor(cursor)
        query = query.where(
            or_(Document.created_at > at, and_(Document.created_at == at, Document.id > doc_id))
        )
    docs = list(session.scalars(query.order_by(Document.created_at, Document.id).limit(limit + 1)))
    more, docs = len(docs) > limit, docs[:limit]
    stanzas = _stanzas(session, principal, [d.id for d in docs])
    page: list[SealedMetadata] = []
    for doc in docs:
        try:
            page.append(_read(store, doc, stanzas.get(doc.id)))
        except BlobNotFound:
            continue
        record(session, principal, doc.owner_subject, ACTION, doc.id, clock)
    next_cursor = encode_cursor(docs[-1].created_at, docs[-1].id) if more and docs else None
    return page, next_cursor


def _stanzas(session: Session, principal: Principal, ids: Sequence[str]) -> dict[str, bytes]:
    """The detached stanzas of the caseworker's authority for ``ids``, in one query (an
    applicant's own stanza is in the header)."""
    if principal.has(Role.APPLICANT) or not principal.authority or not ids:
        return {}
    rows = session.execute(
        select(Share.document_id, Share.stanza).where(
            Share.document_id.in_(ids), Share.authority == principal.authority
        )
    )
    return {doc_id: stanza for doc_id, stanza in rows}


def _read(store: BlobStore, doc: Document, stanza: bytes | None) -> SealedMetadata:
    size = doc.envelope_size
    first = _bytes(store.get(doc.blob_key, 0, min(_FIRST_READ, size)))
    header = header_of_prefix(first)
    if header is None and size > len(first):
        first = _bytes(store.get(doc.blob_key, 0, min(envelope.MAX_HEADER_LEN, size)))
        header = header_of_prefix(first)
    if header is None:  # the upload checked it: a damaged blob
        raise InvalidEnvelope()
    header_len = len(header.encode())
    record_bytes = _bytes(
        store.get(doc.blob_key, size - envelope.TRAILER_LEN, envelope.TRAILER_LEN)
    )
    if len(record_bytes) != envelope.TRAILER_LEN:
        raise InvalidEnvelope()
    return SealedMetadata(doc.id, size, first[:header_len], record_bytes, stanza)


def _bytes(blocks: Iterator[bytes]) -> bytes:
    return b"".join(blocks)
