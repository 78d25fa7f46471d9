"""SQLAlchemy tables of the delivery service (prefix ``delivery_``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from commons.db import Base, UTCDateTime


class Submission(Base):
    """One FIT-Connect submission: announced, uploaded, submitted, then accepted, rejected
    or deleted. It holds ciphertext only (JWE to the destination's key) and, from our own
    clients, the plaintext ozg-commons manifest (no form values, no file names)."""

    __tablename__ = "delivery_submission"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # submissionId
    case_id: Mapped[str] = mapped_column(String(36), index=True)
    destination_id: Mapped[str] = mapped_column(String(36), index=True)
    authority: Mapped[str] = mapped_column(String(64), index=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    # who sent it: the principal's subject, its role (applicant | flow) and client id
    sender: Mapped[str] = mapped_column(String(255), index=True)
    sender_role: Mapped[str] = mapped_column(String(16))
    sender_client: Mapped[str | None] = mapped_column(String(255))
    announced_attachments: Mapped[list[str]] = mapped_column(JSON)
    service_identifier: Mapped[str] = mapped_column(String(255))
    service_name: Mapped[str] = mapped_column(String(500))
    region: Mapped[str | None] = mapped_column(String(64))
    bidirectional: Mapped[bool] = mapped_column(Boolean, default=False)
    manifest: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    encrypted_metadata: Mapped[str | None] = mapped_column(Text)
    encrypted_data: Mapped[str | None] = mapped_column(Text)
    attachment_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    # the signed submission receipt (commons.receipts, kind "submission"), once submitted
    receipt: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # the new-submission callback: pending until the destination answered 2xx
    callback_pending: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    callback_attempts: Mapped[int] = mapped_column(Integer, default=0)
    callback_next_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Attachment(Base):
    """One uploaded attachment: a JWE compact serialization in the object store."""

    __tablename__ = "delivery_attachment"

    submission_id: Mapped[str] = mapped_column(
        ForeignKey("delivery_submission.id"), primary_key=True
    )
    attachment_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    blob_key: Mapped[str] = mapped_column(String(36), unique=True)
    size: Mapped[int] = mapped_column(BigInteger)
    tag: Mapped[str] = mapped_column(String(32))
    # SHA-512 (hex) of the JWE compact serialization as uploaded (the submission receipt)
    sha512: Mapped[str | None] = mapped_column(String(128))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Event(Base):
    """One Security Event Token of a case's event log, as issued."""

    __tablename__ = "delivery_event"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # jti
    seq: Mapped[int] = mapped_column(BigInteger, index=True)  # order within the log
    case_id: Mapped[str] = mapped_column(String(36), index=True)
    submission_id: Mapped[str] = mapped_column(String(36), index=True)
    event: Mapped[str] = mapped_column(String(32))  # create-submission, ...
    issuer: Mapped[str] = mapped_column(String(500))
    token: Mapped[str] = mapped_column(Text)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
