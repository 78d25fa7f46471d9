"""Vault logic shared by every use case: the scoping rule, the read side, access records.

The server never holds a key that opens a document. It checks an envelope's structure
(:mod:`vault.uploads`), stores the ciphertext, keeps detached stanzas for shares
(:mod:`vault.sharing`) and the applicant's *wrapped* private key
(:mod:`vault.applicant_keys`). Every query that returns a document goes through
:func:`visible` so the scoping rule lives in one place. Services never commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from account import Principal, Role
from commons.clock import Clock, system_clock
from compliance import AccessEvent, record_access, record_denied
from vault.errors import DocumentNotFound
from vault.models import Document, Share

PURPOSE = "storing and sharing the applicant's documents for their applications"
LEGAL_BASIS = "Art. 6(1)(e) GDPR with § 3 OZG"
DENIED_PURPOSE = "documenting a refused access to personal data"
DENIED_BASIS = "Art. 5(2), Art. 32 GDPR"

_SYSTEM = Principal(subject="ozg-commons", roles=frozenset({Role.ADMIN}))


def record(
    session: Session,
    principal: Principal | None,
    subject: str,
    action: str,
    resource: str,
    clock: Clock,
) -> None:
    """Record an access to ``subject``'s data; ``principal`` None: the system itself
    (retention, account erasure)."""
    actor = principal.as_actor() if principal else _SYSTEM.as_actor()
    record_access(
        session,
        AccessEvent(
            actor=actor,
            data_subject=subject,
            action=action,
            resource=resource,
            purpose=PURPOSE,
            legal_basis=LEGAL_BASIS,
        ),
        clock=clock,
    )


def visible(principal: Principal, *, owned: bool = False) -> Select[Any]:
    """The one place that decides which documents a principal may see; ``owned``: only
    those it owns (what sharing, unsharing and deletion may touch)."""
    query = select(Document)
    if owned or principal.has(Role.APPLICANT):
        return query.where(Document.owner_subject == principal.subject)
    if principal.has(Role.CASEWORKER) and principal.authority:
        shared = select(Share.document_id).where(Share.authority == principal.authority)
        return query.where(Document.id.in_(shared))
    return query.where(Document.id.is_(None))


def document_uuid(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise DocumentNotFound() from None


def list_documents(session: Session, principal: Principal) -> list[Document]:
    return list(session.scalars(visible(principal).order_by(Document.created_at)))


def get_document(
    session: Session, principal: Principal, document_id: str, *, owned: bool = False
) -> Document:
    doc: Document | None = session.scalars(
        visible(principal, owned=owned).where(Document.id == document_id)
    ).first()
    if doc is None:
        _record_refusal(session, principal, document_id)
        raise DocumentNotFound()
    return doc


def _record_refusal(session: Session, principal: Principal, document_id: str) -> None:
    """A document that exists but is not the principal's to see: an audit entry with
    outcome ``denied`` (kept though the refusal rolls the unit of work back)."""
    owner = session.scalar(select(Document.owner_subject).where(Document.id == document_id))
    if owner is None:
        return  # no such document: nobody's data was at stake
    record_denied(
        session,
        AccessEvent(
            actor=principal.as_actor(),
            data_subject=owner,
            action="vault.document.access_denied",
            resource=document_id,
            purpose=DENIED_PURPOSE,
            legal_basis=DENIED_BASIS,
            outcome="denied",
        ),
    )


def shares_of(session: Session, document_id: str) -> list[Share]:
    return list(session.scalars(select(Share).where(Share.document_id == document_id)))


_IDS_PER_QUERY = 500  # bound parameters per IN list, well below SQLite's limit


def shared_with(session: Session, document_ids: Sequence[str]) -> dict[str, list[str]]:
    """The authorities each of ``document_ids`` is shared with, sorted: one query for a
    whole listing (up to 500 documents), not one per document."""
    found: dict[str, list[str]] = {doc_id: [] for doc_id in document_ids}
    ids = list(found)
    for start in range(0, len(ids), _IDS_PER_QUERY):
        rows = session.execute(
            select(Share.document_id, Share.authority)
            .where(Share.document_id.in_(ids[start : start + _IDS_PER_QUERY]))
            .order_by(Share.authority)
        )
        for doc_id, authority in rows:
            found[doc_id].append(authority)
    return found


def open_for_download(
    session: Session, principal: Principal, document_id: str, clock: Clock = system_clock
) -> Document:
    doc = get_document(session, principal, document_id)
    doc.last_used_at = clock.now()
    record(session, principal, doc.owner_subject, "vault.document.read", doc.id, clock)
    return doc
