"""Garbage collection of the blob store (``ozg-commons vault gc``, an operator command)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from commons.clock import Clock, system_clock
from vault.blobstore import BlobStore
from vault.models import Document


def collect_garbage(
    session: Session, store: BlobStore, grace: timedelta, clock: Clock = system_clock
) -> list[str]:
    """Remove blobs with no document row (uploads that died before their row was
    committed, documents shredded without a store), older than ``grace``."""
    cutoff = clock.now() - grace
    removed: list[str] = []
    for blob in list(store.list()):
        if blob.modified > cutoff:
            continue  # possibly an upload in flight
        key = blob.key
        if not key.startswith(".") and session.scalar(
            select(Document.id).where(Document.blob_key == key)
        ):
            continue
        store.delete_listed(key)
        removed.append(key)
    return removed
