"""SQLAlchemy tables of the cases component (prefix ``cases_``), on :class:`commons.db.Base`.

A case links the applicant, a flow, the chosen authority, the sealed draft, the fee quote
and payment, and one delivery submission (by id only: the delivery component owns it).
Nothing here is a form value: the draft is a vault envelope the server cannot open, the fee
facts are the few the flow declares (shown to the applicant before they were sent), and the
timeline holds states and reason codes from a closed vocabulary.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from commons.db import Base, UTCDateTime


class Case(Base):
    __tablename__ = "cases_case"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    subject: Mapped[str] = mapped_column(String(255), index=True)  # the applicant
    flow_id: Mapped[str] = mapped_column(String(64))
    flow_version: Mapped[str] = mapped_column(String(32))
    # the flow client the applicant allowed to act within this case (None: none)
    flow_client: Mapped[str | None] = mapped_column(String(255), index=True)
    authority: Mapped[str | None] = mapped_column(String(64), index=True)
    state: Mapped[str] = mapped_column(String(24), index=True)
    outcome: Mapped[str | None] = mapped_column(String(16))  # approved | rejected
    # links, once submitted (the delivery component owns the submission)
    fit_connect_case_id: Mapped[str | None] = mapped_column(String(36), index=True)
    submission_id: Mapped[str | None] = mapped_column(String(36))
    # fees: the current quote, the payment that paid it, a refund after a cheaper decision
    quote_id: Mapped[str | None] = mapped_column(String(36))
    payment_id: Mapped[str | None] = mapped_column(String(36))
    refund_id: Mapped[str | None] = mapped_column(String(36))
    waiver_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    waiver_decision: Mapped[str | None] = mapped_column(String(16))  # granted | refused
    # the facts the flow's fee mapping declares, as the client sent them ...
    fee_facts: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # ... and the calculator's input built from them (fee rule + facts incl. the flow's fixed)
    fee_input: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # while a draft: when it expires unless touched (the flow's draft retention)
    draft_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)


class TimelineEntry(Base):
    """One state change: from, to, when, what kind of actor, and a reason code."""

    __tablename__ = "cases_timeline"
    __table_args__ = (UniqueConstraint("case_id", "seq"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(
        ForeignKey("cases_case.id", ondelete="CASCADE"), index=True
    )
    seq: Mapped[int] = mapped_column(Integer)
    from_state: Mapped[str | None] = mapped_column(String(24))
    to_state: Mapped[str] = mapped_column(String(24))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_kind: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(32))


class Draft(Base):
    """The sealed draft: a vault envelope sealed on the device to the applicant's key
    (ADR 0004). Opaque bytes; the server checked only the envelope's structure."""

    __tablename__ = "cases_draft"

    case_id: Mapped[str] = mapped_column(
        ForeignKey("cases_case.id", ondelete="CASCADE"), primary_key=True
    )
    envelope: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(Integer)
    document_id: Mapped[str] = mapped_column(String(36))  # the envelope's own id
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class DocumentRequest(Base):
    """The authority asked for more documents (its sealed message is in the mailbox)."""

    __tablename__ = "cases_document_request"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(
        ForeignKey("cases_case.id", ondelete="CASCADE"), index=True
    )
    message_id: Mapped[str] = mapped_column(String(36))
    document_types: Mapped[list[str]] = mapped_column(JSON)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CaseDocument(Base):
    """A vault document the applicant linked to the case (shared with its authority)."""

    __tablename__ = "cases_document"
    __table_args__ = (UniqueConstraint("case_id", "document_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(
        ForeignKey("cases_case.id", ondelete="CASCADE"), index=True
    )
    document_id: Mapped[str] = mapped_column(String(36))
    document_type: Mapped[str] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(36))
    provided_at: Mapped[datetime] = mapped_column(UTCDateTime())
