"""SQLAlchemy tables of the compliance domain (prefix ``compliance_``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from commons.db import Base, UTCDateTime


class AccessEntry(Base):
    """One recorded access to personal data."""

    __tablename__ = "compliance_access_entry"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    request_id: Mapped[str | None] = mapped_column(String(64))
    actor_subject: Mapped[str] = mapped_column(String(255))
    actor_role: Mapped[str] = mapped_column(String(32))
    actor_authority: Mapped[str | None] = mapped_column(String(64))
    actor_client_id: Mapped[str | None] = mapped_column(String(255))
    data_subject: Mapped[str | None] = mapped_column(String(255), index=True)
    action: Mapped[str] = mapped_column(String(128))
    resource: Mapped[str] = mapped_column(String(255))
    purpose: Mapped[str] = mapped_column(String(255))
    legal_basis: Mapped[str] = mapped_column(String(255))
    outcome: Mapped[str] = mapped_column(String(16))
    disclosed_after: Mapped[datetime | None] = mapped_column(UTCDateTime())
