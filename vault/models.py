"""SQLAlchemy tables of the vault domain (prefix ``vault_``), on :class:`commons.db.Base`.

Nothing here is plaintext: documents are opaque ciphertext in the blob store, keys are
public keys or private keys wrapped on the applicant's device, shares are wrapped DEKs.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from commons.db import Base, UTCDateTime


class Document(Base):
    """One stored envelope. The row exists only once its blob is completely stored."""

    __tablename__ = "vault_document"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # the envelope's document id
    owner_subject: Mapped[str] = mapped_column(String(255), index=True)
    # chosen by the server, never by the client: an upload cannot overwrite another's blob
    blob_key: Mapped[str] = mapped_column(String(36), unique=True)
    envelope_size: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Last download, key fetch or share (None: never used since upload); the retention
    # policy ``vault.document`` shreds documents unused for its period.
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Share(Base):
    """A detached recipient stanza: the document's DEK wrapped to an authority's key."""

    __tablename__ = "vault_share"
    __table_args__ = (UniqueConstraint("document_id", "authority"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    document_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("vault_document.id", ondelete="CASCADE"), index=True
    )
    authority: Mapped[str] = mapped_column(String(64), index=True)
    kid: Mapped[str] = mapped_column(String(255))
    stanza: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ApplicantKey(Base):
    """The applicant's public key and their private key, wrapped on their device twice
    (under the passphrase-derived key and under the recovery code)."""

    __tablename__ = "vault_applicant_key"

    subject: Mapped[str] = mapped_column(String(255), primary_key=True)
    kid: Mapped[str] = mapped_column(String(255))
    public_jwk: Mapped[str] = mapped_column(Text)
    wrapped_by_passphrase: Mapped[str] = mapped_column(Text)
    wrapped_by_recovery: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AuthorityKey(Base):
    """An authority's encryption key (JWK with x5c), validated when registered."""

    __tablename__ = "vault_authority_key"

    kid: Mapped[str] = mapped_column(String(255), primary_key=True)
    authority: Mapped[str] = mapped_column(String(64), index=True)
    jwk: Mapped[str] = mapped_column(Text)
    not_after: Mapped[datetime] = mapped_column(UTCDateTime())
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    retires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Upload(Base):
    """A resumable upload in progress (``vault.chunked``): ``offset`` bytes of ``size`` have
    arrived and are durable in its spool file; it becomes a :class:`Document` when finished."""

    __tablename__ = "vault_upload"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    owner_subject: Mapped[str] = mapped_column(String(255), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    offset: Mapped[int] = mapped_column(BigInteger)
    header_checked: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    # set while one request writes a piece or finishes; another request meanwhile gets 409
    busy_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
