"""Vault logic: zero-knowledge storage, access control, sharing, crypto-shredding.

The server never holds a key that opens a document. It checks an envelope's structure
(:func:`check_envelope`), stores the ciphertext, keeps detached stanzas for shares and the
applicant's *wrapped* private key. Every query that returns a document goes through
:func:`_visible` so the scoping rule lives in one place. Services never commit.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import IO, Any

from sqlalchemy import Select, delete, func, or_, select
from sqlalchemy.orm import Session

from account import Principal, Role
from commons.clock import Clock, system_clock
from commons.components import ShredReport
from commons.ids import new_id_str
from commons.receipts import ReceiptSigner
from compliance import AccessEvent, record_access
from vault import envelope
from vault.blobstore import BlobStore
from vault.errors import (
    AuthorityKeyRevoked,
    DocumentNotFound,
    InvalidEnvelope,
    InvalidKey,
    KeyConflict,
    KeyNotFound,
    NotShared,
    QuotaExceeded,
)
from vault.models import ApplicantKey, AuthorityKey, Document, Share
from vault.pki import ValidatedKey
from vault.recipients import Stanza, public_key_from_jwk

log = logging.getLogger("ozg.vault")

PURPOSE = "storing and sharing the applicant's documents for their applications"
LEGAL_BASIS = "Art. 6(1)(e) GDPR with § 3 OZG"
DELETION_RECEIPT_KIND = "vault-deletion"


def _record(
    session: Session,
    principal: Principal | None,
    subject: str,
    action: str,
    resource: str,
    clock: Clock,
) -> None:
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


_SYSTEM = Principal(subject="ozg-commons", roles=frozenset({Role.ADMIN}))


# --------------------------------------------------------------------------- upload
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
    header = 34 + envelope.MAX_RECIPIENTS * (4 + 255 + 1024) + envelope.MAC_LEN
    return max_size + chunks * envelope.TAG_LEN + header + envelope.TRAILER_LEN


def used_bytes(session: Session, subject: str) -> int:
    total = session.scalar(
        select(func.coalesce(func.sum(Document.envelope_size), 0)).where(
            Document.owner_subject == subject
        )
    )
    return int(total or 0)


def check_quota(session: Session, subject: str, incoming: int, quota: int) -> None:
    if used_bytes(session, subject) + incoming > quota:
        raise QuotaExceeded("this upload would exceed your storage quota")


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
    _record(session, principal, principal.subject, "vault.document.create", doc.id, clock)
    return doc


# --------------------------------------------------------------------------- reading
def _visible(principal: Principal, *, owned: bool = False) -> Select[Any]:
    """The one place that decides which documents a principal may see; ``owned``: only
    those it owns (what sharing, unsharing and deletion may touch)."""
    query = select(Document)
    if owned or principal.has(Role.APPLICANT):
        return query.where(Document.owner_subject == principal.subject)
    if principal.has(Role.CASEWORKER) and principal.authority:
        shared = select(Share.document_id).where(Share.authority == principal.authority)
        return query.where(Document.id.in_(shared))
    return query.where(Document.id.is_(None))


def list_documents(session: Session, principal: Principal) -> list[Document]:
    return list(session.scalars(_visible(principal).order_by(Document.created_at)))


def get_document(
    session: Session, principal: Principal, document_id: str, *, owned: bool = False
) -> Document:
    doc: Document | None = session.scalars(
        _visible(principal, owned=owned).where(Document.id == document_id)
    ).first()
    if doc is None:
        raise DocumentNotFound()
    return doc


def shares_of(session: Session, document_id: str) -> list[Share]:
    return list(session.scalars(select(Share).where(Share.document_id == document_id)))


def open_for_download(
    session: Session, principal: Principal, document_id: str, clock: Clock = system_clock
) -> Document:
    doc = get_document(session, principal, document_id)
    doc.last_used_at = clock.now()
    _record(session, principal, doc.owner_subject, "vault.document.read", doc.id, clock)
    return doc


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
    _record(session, principal, doc.owner_subject, "vault.wrapped_key.read", doc.id, clock)
    return share


# --------------------------------------------------------------------------- sharing
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
    if key is None or key.authority != authority or not _usable(key, clock.now()):
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
    _record(session, principal, doc.owner_subject, "vault.document.share", doc.id, clock)
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
    _record(session, principal, doc.owner_subject, "vault.document.unshare", doc.id, clock)


# --------------------------------------------------------------------------- deletion
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
    keys = _destroy(session, store, doc)
    _record(session, principal, doc.owner_subject, "vault.document.delete", doc.id, clock)
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


def _destroy(session: Session, store: BlobStore | None, doc: Document) -> int:
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
        _destroy(session, None, doc)
        _record(session, None, doc.owner_subject, "vault.document.delete", doc.id, system_clock)
    return [doc.id for doc in docs]


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
        report.shredded += _destroy(session, store, doc) - 1
        report.deleted += 1
        _record(session, None, subject, "vault.document.delete", doc.id, clock)
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


# --------------------------------------------------------------------------- keys
def register_applicant_key(
    session: Session,
    principal: Principal,
    public_jwk: dict[str, Any],
    wrapped_by_passphrase: str,
    wrapped_by_recovery: str,
    clock: Clock = system_clock,
) -> ApplicantKey:
    from vault.recipients import key_id

    if session.get(ApplicantKey, principal.subject) is not None:
        raise KeyConflict("a vault key is already registered; change the passphrase instead")
    try:
        public = public_key_from_jwk(public_jwk)
    except ValueError as exc:
        raise InvalidKey("the public key is malformed") from exc
    if public_jwk.get("kty") != "EC" or any(k in public_jwk for k in ("d",)):
        raise InvalidKey("applicant keys are public P-256 keys")
    _check_wrapped(wrapped_by_passphrase, "argon2id")
    _check_wrapped(wrapped_by_recovery, "hkdf-sha256")
    now = clock.now()
    row = ApplicantKey(
        subject=principal.subject,
        kid=key_id(public),
        public_jwk=json.dumps(public_jwk, sort_keys=True),
        wrapped_by_passphrase=wrapped_by_passphrase,
        wrapped_by_recovery=wrapped_by_recovery,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    _record(session, principal, principal.subject, "vault.key.create", row.kid, clock)
    return row


def _check_wrapped(wrapped: str, kdf: str) -> None:
    try:
        doc = json.loads(wrapped)
        ok = isinstance(doc, dict) and doc.get("v") == 1 and doc.get("kdf") == kdf
    except ValueError:
        ok = False
    if not ok or len(wrapped) > 4096:
        raise InvalidKey(f"the wrapped private key ({kdf}) is malformed")


def get_applicant_key(
    session: Session, principal: Principal, clock: Clock = system_clock
) -> ApplicantKey:
    row = session.get(ApplicantKey, principal.subject)
    if row is None:
        raise KeyNotFound("no vault key yet: run `ozg-commons vault keygen`")
    _record(session, principal, principal.subject, "vault.wrapped_key.read", row.kid, clock)
    return row


def rewrap_applicant_key(
    session: Session,
    principal: Principal,
    kid: str,
    wrapped_by_passphrase: str | None,
    wrapped_by_recovery: str | None,
    clock: Clock = system_clock,
) -> ApplicantKey:
    row = session.get(ApplicantKey, principal.subject)
    if row is None or row.kid != kid:
        raise KeyNotFound("re-wrapping must keep the same key (kid)")
    if wrapped_by_passphrase is not None:
        _check_wrapped(wrapped_by_passphrase, "argon2id")
        row.wrapped_by_passphrase = wrapped_by_passphrase
    if wrapped_by_recovery is not None:
        _check_wrapped(wrapped_by_recovery, "hkdf-sha256")
        row.wrapped_by_recovery = wrapped_by_recovery
    row.updated_at = clock.now()
    session.flush()
    _record(session, principal, principal.subject, "vault.key.rewrap", row.kid, clock)
    return row


def applicant_public_jwk(session: Session, subject: str) -> dict[str, Any]:
    row = session.get(ApplicantKey, subject)
    if row is None:
        raise KeyNotFound()
    result: dict[str, Any] = json.loads(row.public_jwk)
    return result


def _usable(key: AuthorityKey, now: datetime) -> bool:
    return key.not_after > now and (key.retires_at is None or key.retires_at > now)


def register_authority_key(
    session: Session,
    authority: str,
    validated: ValidatedKey,
    overlap: timedelta,
    clock: Clock = system_clock,
) -> AuthorityKey:
    """Register a validated key as the authority's active key; older ones retire after
    ``overlap`` (shares already made to them stay readable)."""
    if session.get(AuthorityKey, validated.kid) is not None:
        raise KeyConflict("this key is already registered")
    now = clock.now()
    for old in session.scalars(
        select(AuthorityKey).where(
            AuthorityKey.authority == authority,
            or_(AuthorityKey.retires_at.is_(None), AuthorityKey.retires_at > now + overlap),
        )
    ):
        old.retires_at = now + overlap
    row = AuthorityKey(
        kid=validated.kid,
        authority=authority,
        jwk=json.dumps(validated.jwk, sort_keys=True),
        not_after=validated.not_after,
        registered_at=now,
        retires_at=None,
    )
    session.add(row)
    session.flush()
    return row


def active_authority_key(
    session: Session,
    authority: str,
    clock: Clock = system_clock,
    *,
    check: Callable[[AuthorityKey], None] | None = None,
) -> AuthorityKey:
    """The key clients wrap to: the usable key not yet retiring, else the newest usable.

    ``check`` may refuse a key by raising :class:`AuthorityKeyRevoked`; the next usable key
    is then tried, and if every usable key is revoked that error propagates. Any other error
    (revocation status unknown) propagates at once: fail closed.
    """
    now = clock.now()
    rows = session.scalars(select(AuthorityKey).where(AuthorityKey.authority == authority))
    revoked: AuthorityKeyRevoked | None = None
    for row in sorted(rows, key=lambda r: (r.retires_at is None, r.registered_at), reverse=True):
        if not _usable(row, now):
            continue
        if check is not None:
            try:
                check(row)
            except AuthorityKeyRevoked as exc:
                log.warning("authority key revoked, skipped", extra={"kid": row.kid})
                revoked = revoked or exc
                continue
        return row
    if revoked is not None:
        raise revoked
    raise KeyNotFound("this authority has no valid key registered")


def document_uuid(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise DocumentNotFound() from None


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
