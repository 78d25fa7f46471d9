"""SQLAlchemy tables of the account domain (prefix ``account_``), on :class:`commons.db.Base`.

An account holds only what the services need: the issuer + subject that tie it to the
identity provider, the trust level last seen, profile attributes (each with source and trust
level), consents, mailbox messages and the login history. Erasure deletes all of them and
keeps one minimal :class:`Erasure` record (a keyed digest of the subject, no personal data).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from commons.db import Base, UTCDateTime


class Account(Base):
    __tablename__ = "account_account"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    issuer: Mapped[str] = mapped_column(String(512))
    subject: Mapped[str] = mapped_column(String(255), index=True)
    trust_level: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    email_notifications: Mapped[bool] = mapped_column(Boolean, default=False)
    dormancy_notice_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ProfileAttribute(Base):
    """One profile attribute with its source (``idp`` or ``applicant``) and trust level."""

    __tablename__ = "account_profile_attribute"
    __table_args__ = (UniqueConstraint("account_id", "name"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    account_id: Mapped[str] = mapped_column(
        ForeignKey("account_account.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(64))
    value: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(16))
    trust_level: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Login(Base):
    """One authentication that used the account: when, at what trust level, through whom."""

    __tablename__ = "account_login"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    account_id: Mapped[str] = mapped_column(
        ForeignKey("account_account.id", ondelete="CASCADE"), index=True
    )
    authenticated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    first_used_at: Mapped[datetime] = mapped_column(UTCDateTime())
    trust_level: Mapped[int] = mapped_column(Integer)


class Consent(Base):
    """A consent receipt: what was agreed to, on which text version, and when withdrawn."""

    __tablename__ = "account_consent"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    account_id: Mapped[str] = mapped_column(
        ForeignKey("account_account.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[str] = mapped_column(String(255))
    legal_basis: Mapped[str] = mapped_column(String(255))
    recipient_authority: Mapped[str | None] = mapped_column(String(64))
    text_version: Mapped[str] = mapped_column(String(64))
    given_at: Mapped[datetime] = mapped_column(UTCDateTime())
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Message(Base):
    """A mailbox (Postfach) message from an authority or a flow to the applicant."""

    __tablename__ = "account_message"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    account_id: Mapped[str] = mapped_column(
        ForeignKey("account_account.id", ondelete="CASCADE"), index=True
    )
    sender_authority: Mapped[str | None] = mapped_column(String(64))
    sender_client_id: Mapped[str | None] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(1024))
    body: Mapped[str] = mapped_column(Text)
    # ``text``: plain text the server may read; ``ozg-envelope``: a vault envelope sealed on
    # the sender's device to the applicant's vault key, as base64url text (docs/account.md).
    body_format: Mapped[str] = mapped_column(String(16), default="text", server_default="text")
    category: Mapped[str] = mapped_column(String(32))
    document_refs: Mapped[list[Any]] = mapped_column(JSON, default=list)
    case_ref: Mapped[str | None] = mapped_column(String(255))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Erasure(Base):
    """Kept after erasure as proof (Art. 5(2) GDPR): the receipt, no personal data.

    ``subject_digest`` is HMAC-SHA256(secret key, issuer + subject): it lets the operator
    answer "was this account erased?" for a presented subject without storing it.
    """

    __tablename__ = "account_erasure"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    subject_digest: Mapped[str] = mapped_column(String(64), index=True)
    erased_at: Mapped[datetime] = mapped_column(UTCDateTime())
    delete_after: Mapped[datetime] = mapped_column(UTCDateTime())
    receipt: Mapped[dict[str, Any]] = mapped_column(JSON)
