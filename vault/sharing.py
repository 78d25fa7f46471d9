"""Sharing: the applicant's device wraps a document key to an authority's current key; the
server keeps that detached stanza and hands it to the authority's caseworkers."""

from __future__ import annotations

import base64
from collections.abc import Callable

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from account import Principal
from commons.clock import Clock, system_clock
from commons.ids import new_id_str
from vault.authority_keys import is_usable
from vault.errors import InvalidEnvelope, InvalidKey, NotShared
from vault.models import AuthorityKey, Share
from vault.recipients import Stanza
from vault.service import get_document, record


def share(
    session: Session,
    principal: Principal,
    document_id: str,
    authority: str,
    stanza_b64: str,
    clock: Clock = system_clock,
    *,
    check: Callable[[AuthorityKey], None] | None = None,
) -> Share:
    """Store the applicant's wrap of a document key to ``authority``'s current key.

    ``check`` may refuse the key (revocation) by raising."""
    doc = get_document(session, principal, document_id, owned=True)
    try:
        stanza = Stanza.decode(base64.b64decode(stanza_b64, validate=True))
    except (ValueError, InvalidEnvelope) as exc:
        raise InvalidKey("the wrapped key is malformed") from exc
    key = session.get(AuthorityKey, stanza.kid)
    if key is None or key.authority != authority or not is_usable(key, clock.now()):
        raise InvalidKey("wrap to the authority's current key")
    if check is not None:
        check(key)
    existing = session.scalars(
        select(Share).where(Share.document_id == doc.id, Share.authority == authority)
    ).first()
    if existing is None:
        existing = Share(id=new_id_str(), document_id=doc.id, authority=authority)
        session.add(existing)
    existing.kid, existing.stanza, existing.created_at = stanza.kid, stanza.encode(), clock.now()
    doc.last_used_at = clock.now()
    session.flush()
    record(session, principal, doc.owner_subject, "vault.document.share", doc.id, clock)
    return existing


def unshare(
    session: Session,
    principal: Principal,
    document_id: str,
    authority: str,
    clock: Clock = system_clock,
) -> None:
    doc = get_document(session, principal, document_id, owned=True)
    result = session.execute(
        delete(Share).where(Share.document_id == doc.id, Share.authority == authority)
    )
    if not getattr(result, "rowcount", 0):
        raise NotShared("this document is not shared with that authority")
    record(session, principal, doc.owner_subject, "vault.document.unshare", doc.id, clock)


def wrapped_key_for(
    session: Session, principal: Principal, document_id: str, clock: Clock = system_clock
) -> Share:
    """The caseworker's authority's detached stanza for a document shared with it."""
    doc = get_document(session, principal, document_id)
    share = session.scalars(
        select(Share).where(Share.document_id == doc.id, Share.authority == principal.authority)
    ).first()
    if share is None:
        raise NotShared()
    doc.last_used_at = clock.now()
    record(session, principal, doc.owner_subject, "vault.wrapped_key.read", doc.id, clock)
    return share
