"""The vault's part of a data subject's rights: export (Art. 15/20 GDPR) and account
erasure (Art. 17 GDPR), called through the component's ``export`` and ``shred`` hooks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from commons.clock import Clock, system_clock
from commons.components import ShredReport
from vault import chunked
from vault.blobstore import BlobStore
from vault.deletion import destroy_document
from vault.models import ApplicantKey, Document, Upload
from vault.service import record, shares_of


def shred_personal_data(
    session: Session,
    subject: str,
    store: BlobStore | None = None,
    clock: Clock = system_clock,
    spool: Path | None = None,
) -> ShredReport:
    """Account erasure: the wrapped private key, every share and every document, and every
    chunked upload in progress with the bytes received so far (its spool file under
    ``spool``, the same on every object store: pieces are spooled on the server's disk).

    Without a store (a bare call), the blobs become orphans that ``ozg-commons vault gc``
    removes; the data is unreadable as soon as the wrapped keys are gone. Without ``spool``,
    the spool files become orphans that ``vault gc`` removes a day later.
    """
    report = ShredReport(component="vault")
    # Uploads first: a finish holding its row's lock commits its document before this
    # erasure reads the documents; one that comes after finds its upload gone (404).
    for upload_id in list(
        session.scalars(select(Upload.id).where(Upload.owner_subject == subject))
    ):
        if spool is None:
            chunked.forget(session, upload_id)
        else:
            chunked.discard(session, spool, upload_id)
        report.deleted += 1
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
    """What the vault holds about a subject: ids, sizes, shares (the content is theirs),
    and the chunked uploads in progress."""
    docs = session.scalars(select(Document).where(Document.owner_subject == subject)).all()
    key = session.get(ApplicantKey, subject)
    open_uploads = session.scalars(select(Upload).where(Upload.owner_subject == subject)).all()
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
        "uploads": [
            {
                "id": u.id,
                "size": u.size,
                "received": u.offset,
                "created_at": u.created_at.isoformat(),
                "expires_at": u.expires_at.isoformat(),
            }
            for u in open_uploads
        ],
    }
