"""Crypto-shredding: a document is gone once every wrapped key to it is. The applicant's
deletion (with a signed receipt) and the retention executor for unused documents."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from account import Principal
from commons.clock import Clock, system_clock
from commons.receipts import ReceiptSigner
from vault.blobstore import BlobStore
from vault.models import Document, Share
from vault.service import get_document, record

DELETION_RECEIPT_KIND = "vault-deletion"


def delete_document(
    session: Session,
    principal: Principal,
    document_id: str,
    store: BlobStore,
    signer: ReceiptSigner,
    clock: Clock = system_clock,
) -> dict[str, Any]:
    """Crypto-shred one document: every wrapped key, then the blob; a signed receipt,
    ``{"receipt": <compact JWS>, "kind": "vault-deletion", "claims": <what it attests>}``."""
    doc = get_document(session, principal, document_id, owned=True)
    keys = destroy_document(session, store, doc)
    record(session, principal, doc.owner_subject, "vault.document.delete", doc.id, clock)
    now = clock.now()
    claims = {
        "document_id": doc.id,
        "subject_hash": hashlib.sha256(doc.owner_subject.encode()).hexdigest(),
        "wrapped_keys_destroyed": keys,
        "blob_deleted": True,
        "deleted_at": now.isoformat(),
    }
    token = signer.sign(DELETION_RECEIPT_KIND, claims, issued_at=now)
    return {"receipt": token, "kind": DELETION_RECEIPT_KIND, "claims": claims}


def destroy_document(session: Session, store: BlobStore | None, doc: Document) -> int:
    """Delete a document's shares and row, and its blob if a store is given (else the blob
    is an orphan for ``ozg-commons vault gc``); the number of wrapped keys destroyed,
    the owner's stanza in the blob counted."""
    result = session.execute(delete(Share).where(Share.document_id == doc.id))
    destroyed = int(getattr(result, "rowcount", 0) or 0) + 1  # + the owner's stanza in the blob
    session.delete(doc)
    session.flush()
    if store is not None:
        store.delete(doc.blob_key)
    return destroyed


def shred_unused_documents(session: Session, cutoff: datetime) -> list[str]:
    """Retention executor for ``vault.document``: crypto-shred every document not downloaded,
    fetched or shared since the cutoff (nor uploaded, if never used). The wrapped keys and
    rows go now; the blobs become orphans that ``ozg-commons vault gc`` removes."""
    last_use = func.coalesce(Document.last_used_at, Document.created_at)
    docs = list(session.scalars(select(Document).where(last_use < cutoff)))
    for doc in docs:
        destroy_document(session, None, doc)
        record(session, None, doc.owner_subject, "vault.document.delete", doc.id, system_clock)
    return [doc.id for doc in docs]
