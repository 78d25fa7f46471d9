"""Resumable (chunked) uploads: an envelope sent in pieces, each at its offset, so a broken
connection costs one piece and a browser (which cannot stream a request body over HTTP/1.1)
needs memory for one piece only. The wire format is in docs/vault.md ("Chunked uploads").

An upload is a row (:class:`vault.models.Upload`: owner, size, durable offset) and a spool
file under ``<data_dir>/vault/uploads/``. A piece is written at the row's offset and fsynced
before the offset moves, so the offset only ever names bytes that are on disk; a piece cut
off mid-way leaves the offset where it was. While one request writes a piece or finishes,
the row is *busy* (``busy_until``), and a second request for it gets 409. Finishing runs the
same checks as the single-request upload and makes the blob a document
(:func:`vault.uploads.add_document`); the body is never decrypted.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from account import Principal
from commons.clock import Clock, system_clock
from commons.i18n import N_
from commons.ids import new_id_str
from vault import envelope, uploads
from vault.blobstore import BlobStore, store_file
from vault.errors import DocumentTooLarge, InvalidEnvelope, UploadConflict, UploadNotFound
from vault.models import Upload

#: The most bytes of an envelope's header (34 + 64 stanzas of at most 1283 bytes + the MAC).
MAX_HEADER = 34 + envelope.MAX_RECIPIENTS * (4 + 255 + 1024) + envelope.MAC_LEN
#: How long one request may hold an upload busy (a dead request frees it after this).
BUSY_SECONDS = 600


@dataclass(frozen=True, slots=True)
class Limits:
    max_document_bytes: int  # plaintext (OZG_VAULT_MAX_DOCUMENT_BYTES)
    quota_bytes: int
    piece_bytes: int  # the largest piece one PUT may carry
    ttl: timedelta  # an upload untouched this long expires
    max_open: int  # open uploads per applicant


def spool_dir(data_dir: Path) -> Path:
    directory = data_dir / "vault" / "uploads"
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    return directory


def spool_path(directory: Path, upload_id: str) -> Path:
    return directory / f"{upload_id}.part"


# --------------------------------------------------------------------------- create / read
def create(
    session: Session, principal: Principal, size: int, limits: Limits, clock: Clock = system_clock
) -> Upload:
    """Open an upload of ``size`` envelope bytes (refused early: too large, over quota, too
    many open uploads)."""
    if size > uploads.max_envelope_size(limits.max_document_bytes):
        raise DocumentTooLarge(limits.max_document_bytes)
    now = clock.now()
    open_uploads = session.scalars(
        select(Upload).where(Upload.owner_subject == principal.subject, Upload.expires_at > now)
    ).all()
    if len(open_uploads) >= limits.max_open:
        raise UploadConflict(
            f"at most {limits.max_open} uploads may be open at once; finish or cancel one"
        )
    pending = sum(u.size for u in open_uploads)
    uploads.check_quota(session, principal.subject, size + pending, limits.quota_bytes)
    row = Upload(
        id=new_id_str(),
        owner_subject=principal.subject,
        size=size,
        offset=0,
        header_checked=False,
        created_at=now,
        expires_at=now + limits.ttl,
    )
    session.add(row)
    session.flush()
    return row


def get(
    session: Session,
    principal: Principal,
    upload_id: str,
    clock: Clock = system_clock,
    *,
    for_update: bool = False,
) -> Upload:
    """The caller's live upload; another applicant's, an expired or an unknown one is 404.
    ``for_update`` locks the row until the commit (an erasure deleting it waits, or wins)."""
    row = session.get(Upload, upload_id, with_for_update=for_update)
    if row is None or row.owner_subject != principal.subject or row.expires_at <= clock.now():
        raise UploadNotFound(N_("no such upload (it may have expired)"))
    return row


def claim(
    session: Session,
    principal: Principal,
    upload_id: str,
    offset: int | None,
    clock: Clock = system_clock,
) -> Upload:
    """Mark the upload busy for this request (409 if another holds it, or if ``offset`` is
    not where the upload stands); the caller writes, then :func:`advance` or :func:`release`."""
    row = get(session, principal, upload_id, clock)
    if offset is not None and offset != row.offset:
        raise UploadConflict(
            f"the upload stands at offset {row.offset}, not {offset}", offset=row.offset
        )
    now = clock.now()
    taken = session.execute(
        update(Upload)
        .where(
            Upload.id == upload_id,
            Upload.offset == row.offset,
            (Upload.busy_until.is_(None)) | (Upload.busy_until < now),
        )
        .values(busy_until=now + timedelta(seconds=BUSY_SECONDS))
        .execution_options(synchronize_session=False)
    )
    if getattr(taken, "rowcount", 0) != 1:
        raise UploadConflict(N_("another request is writing to this upload"), offset=row.offset)
    session.refresh(row)
    return row


def advance(
    session: Session,
    upload_id: str,
    offset: int,
    header_checked: bool,
    ttl: timedelta,
    clock: Clock,
) -> Upload:
    row = session.get(Upload, upload_id)
    if row is None:
        raise UploadNotFound()
    row.offset = offset
    row.header_checked = header_checked
    row.busy_until = None
    row.expires_at = clock.now() + ttl
    session.flush()
    return row


def release(session: Session, upload_id: str) -> None:
    row = session.get(Upload, upload_id)
    if row is not None:
        row.busy_until = None
        session.flush()


def forget(session: Session, upload_id: str) -> None:
    """Delete the upload's row (its spool file goes after the commit: :func:`remove_spool`)."""
    row = session.get(Upload, upload_id)
    if row is not None:
        session.delete(row)
        session.flush()


def remove_spool(directory: Path, upload_id: str) -> None:
    spool_path(directory, upload_id).unlink(missing_ok=True)


def discard(session: Session, directory: Path, upload_id: str) -> None:
    """Forget an upload: its row and its spool file."""
    forget(session, upload_id)
    remove_spool(directory, upload_id)


# --------------------------------------------------------------------------- the spool file
@contextmanager
def open_spool(directory: Path, upload_id: str, offset: int) -> Iterator[IO[bytes]]:
    """The spool file positioned at ``offset``, cut there (bytes of an interrupted piece
    after the durable offset are dropped)."""
    path = spool_path(directory, upload_id)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    with os.fdopen(fd, "r+b", buffering=0) as handle:
        if os.fstat(fd).st_size < offset:  # the spool is gone (another host, a lost disk)
            raise UploadNotFound(N_("this upload's received bytes are lost; start it again"))
        handle.truncate(offset)
        handle.seek(offset)
        yield handle


def read_spool(directory: Path, upload_id: str) -> IO[bytes]:
    """The spool file for reading; :class:`UploadNotFound` if it is gone (the upload was
    cancelled or its owner erased while this request ran)."""
    try:
        return spool_path(directory, upload_id).open("rb")
    except FileNotFoundError:
        raise UploadNotFound(N_("no such upload (it may have expired)")) from None


def store_spool(store: BlobStore, key: str, directory: Path, upload_id: str, size: int) -> None:
    """Store a finished upload's spool file under ``key`` (every piece was fsynced, and
    nothing writes to it again); :class:`UploadNotFound` if it is gone (cancelled or its owner
    erased while this request ran)."""
    try:
        store_file(store, key, spool_path(directory, upload_id), size)
    except FileNotFoundError:
        raise UploadNotFound(N_("no such upload (it may have expired)")) from None


def sync(handle: IO[bytes]) -> None:
    handle.flush()
    os.fsync(handle.fileno())


def check_header(directory: Path, upload_id: str, offset: int) -> envelope.Header | None:
    """The header once its bytes have all arrived (None before); :class:`InvalidEnvelope`
    as soon as the bytes so far cannot start an envelope."""
    with read_spool(directory, upload_id) as handle:
        prefix = handle.read(min(offset, MAX_HEADER))
    header = uploads.header_of_prefix(prefix)
    if header is None and offset >= MAX_HEADER:
        raise InvalidEnvelope()
    return header


def checked_envelope(
    directory: Path, row: Upload, max_document_bytes: int
) -> uploads.CheckedEnvelope:
    """The structural check of the complete envelope (as for a single-request upload)."""
    if row.offset != row.size:
        raise UploadConflict(
            f"the upload has {row.offset} of {row.size} bytes; send the rest first",
            offset=row.offset,
        )
    with read_spool(directory, row.id) as handle:
        return uploads.check_envelope(handle, row.size, max_document_bytes)


def collect_expired(session: Session, directory: Path, now: datetime) -> list[str]:
    """Garbage collection (``ozg-commons vault gc``): drop expired uploads, and spool files
    without an upload row (a crash between the two), older than a day."""
    removed = list(session.scalars(select(Upload.id).where(Upload.expires_at <= now)))
    for upload_id in removed:
        discard(session, directory, upload_id)
    for path in directory.glob("*.part"):
        stale = path.stat().st_mtime < now.timestamp() - 86400
        if stale and session.get(Upload, path.stem) is None:
            path.unlink(missing_ok=True)
            removed.append(path.stem)
    return removed
