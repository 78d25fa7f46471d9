"""SQLAlchemy tables of the payments domain (prefix ``payments_``), on :class:`commons.db.Base`.

Amounts are ``Integer`` euro cents, always with a ``currency`` column next to them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from commons.db import Base, UTCDateTime


class Quote(Base):
    """A fee quote bound to a case: what the applicant is charged is what was quoted."""

    __tablename__ = "payments_quote"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    authority: Mapped[str] = mapped_column(String(64), index=True)
    case_reference: Mapped[str | None] = mapped_column(String(128), index=True)
    case_hash: Mapped[str | None] = mapped_column(String(128))
    data_subject: Mapped[str | None] = mapped_column(String(255), index=True)
    catalogue_version: Mapped[str] = mapped_column(String(64))
    quoted_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    # The itemised explanation; it reveals facts (benefit receipt, refugee status), so it
    # is personal data and shredded on erasure.
    explanation: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Waiver(Base):
    """A fee waiver: a full exemption or a discretionary reduction, granted by a caseworker."""

    __tablename__ = "payments_waiver"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    quote_id: Mapped[str] = mapped_column(ForeignKey("payments_quote.id"), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # exemption | reduction
    amount_due_cents: Mapped[int] = mapped_column(Integer)
    legal_basis: Mapped[str] = mapped_column(String(255))
    reason: Mapped[str | None] = mapped_column(String(1000))
    granted_by: Mapped[str] = mapped_column(String(255))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Payment(Base):
    """One payment attempt. A quote may have several attempts; at most one should book."""

    __tablename__ = "payments_payment"
    __table_args__ = (UniqueConstraint("provider", "provider_reference"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    quote_id: Mapped[str] = mapped_column(ForeignKey("payments_quote.id"), index=True)
    authority: Mapped[str] = mapped_column(String(64), index=True)
    data_subject: Mapped[str | None] = mapped_column(String(255), index=True)
    created_by: Mapped[str] = mapped_column(String(255))
    case_reference: Mapped[str | None] = mapped_column(String(128))
    case_hash: Mapped[str | None] = mapped_column(String(128))
    provider: Mapped[str] = mapped_column(String(64))
    provider_reference: Mapped[str | None] = mapped_column(String(128))
    kassenzeichen: Mapped[str] = mapped_column(String(32), unique=True)
    purpose: Mapped[str] = mapped_column(String(27))
    amount_cents: Mapped[int] = mapped_column(Integer)
    refunded_cents: Mapped[int] = mapped_column(Integer, default=0)
    currency: Mapped[str] = mapped_column(String(3))
    state: Mapped[str] = mapped_column(String(24), index=True)
    payment_url: Mapped[str | None] = mapped_column(String(2000))
    return_url: Mapped[str | None] = mapped_column(String(2000))
    payment_method: Mapped[str | None] = mapped_column(String(64))
    failure_code: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    booked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    needs_review: Mapped[bool] = mapped_column(Boolean, default=False)
    review_reason: Mapped[str | None] = mapped_column(String(255))
    retain_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    shredded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Transition(Base):
    """Every state change of a payment, and what caused it."""

    __tablename__ = "payments_transition"
    __table_args__ = (UniqueConstraint("payment_id", "seq"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    payment_id: Mapped[str] = mapped_column(ForeignKey("payments_payment.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    from_state: Mapped[str] = mapped_column(String(24))
    to_state: Mapped[str] = mapped_column(String(24))
    cause: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class Refund(Base):
    """A refund: requested by a caseworker, or reported by the provider (then for review)."""

    __tablename__ = "payments_refund"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    payment_id: Mapped[str] = mapped_column(ForeignKey("payments_payment.id"), index=True)
    amount_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    origin: Mapped[str] = mapped_column(String(16))  # caseworker | provider
    state: Mapped[str] = mapped_column(String(16))  # succeeded | needs_review | rejected
    provider_reference: Mapped[str | None] = mapped_column(String(128))
    requested_by: Mapped[str | None] = mapped_column(String(255))
    reason: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_by: Mapped[str | None] = mapped_column(String(255))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class IdempotencyKey(Base):
    """A client's idempotency key (as its keyed hash, never as sent) and the result it
    produced, per operation and client."""

    __tablename__ = "payments_idempotency_key"
    __table_args__ = (UniqueConstraint("scope", "key_hash"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    scope: Mapped[str] = mapped_column(String(300))
    key_hash: Mapped[str] = mapped_column(String(64))
    params_hash: Mapped[str] = mapped_column(String(64))
    result_id: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Notification(Base):
    """A verified provider notification, kept by its event id to detect replays."""

    __tablename__ = "payments_notification"
    __table_args__ = (UniqueConstraint("provider", "authority", "event_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    provider: Mapped[str] = mapped_column(String(64))
    authority: Mapped[str] = mapped_column(String(64))
    event_id: Mapped[str] = mapped_column(String(128))
    payment_id: Mapped[str | None] = mapped_column(String(36))
    outcome: Mapped[str] = mapped_column(String(24))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SandboxTransaction(Base):
    """The embedded sandbox provider's own side of a payment (what a real platform keeps)."""

    __tablename__ = "payments_sandbox_transaction"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    authority: Mapped[str] = mapped_column(String(64))
    request_id: Mapped[str] = mapped_column(String(36), unique=True)
    amount_cents: Mapped[int] = mapped_column(Integer)
    refunded_cents: Mapped[int] = mapped_column(Integer, default=0)
    purpose: Mapped[str] = mapped_column(String(27))
    status: Mapped[str] = mapped_column(String(16))  # INITIAL | BOOKED | FAILED | CANCELED
    return_url: Mapped[str] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
