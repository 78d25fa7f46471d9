"""The vault's part of a data subject's rights: export (Art. 15/20 GDPR) and account
erasure (Art. 17 GDPR), called through the component's ``export`` and ``shred`` hooks."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from commons.clock import Clock, system_clock
from commons.components import ShredReport
from vault.blobstore import BlobStore
from vault.deletion import destroy_document
from vault.models import ApplicantKey, Document
from vault.service import record, shares_of


def shred_personal_data(
    session: Session, subject: str, store: BlobStore | None = None, clock: Clock = system_clock
) -> ShredReport:
    """Account erasure: the wrapped private key, every share and every document.

    Without a store (a bare call), the blobs become orphans that ``ozg-commons vault gc``
    removes; the data is unreadable as soon as the wrapped keys are gone.
    """
    report = ShredReport(component="vault")
    key = session.get(ApplicantKey, subject)
    if key is not None:
        session.delete(key)
        report.shredded += 1
    for doc in list(session.scalars(select(Document).where(Document.owner_subject == subject))):
        report.shredded += destroy_document(session, store, doc) - 1
        report.deleted += 1
        record(session, None, subject, "vault.document.delete", doc.id, clock)
    session.flush()
    return report


def export_personal_data(session: Session, subject: str) -> dict[str, Any]:
    """What the vault holds about a subject: ids, sizes, shares (the content is theirs)."""
    docs = session.scalars(select(Document).where(Document.owner_subject == subject)).all()
    key = session.get(ApplicantKey, subject)
    return {
        "documents": [
            {
                "id": d.id,
                "envelope_size": d.envelope_size,
                "created_at": d.created_at.isoformat(),
                "shared_with": sorted(s.authority for s in shares_of(session, d.id)),
            }
            for d in docs
        ],
        "key": {"kid": key.kid, "public_jwk": json.loads(key.public_jwk)} if key else None,
    }
