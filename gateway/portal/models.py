"""The portal's one table (prefix ``portal_``): server-side browser sessions.

The cookie carries 32 random bytes; the row is keyed by their SHA-256, so a database reader
cannot present a session. The identity provider's tokens are sealed (AES-256-GCM under a key
derived from ``OZG_SECRET_KEY``, bound to the row id); see ``docs/adr/0005-portal-sessions.md``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from commons.db import Base, UTCDateTime


class PortalSession(Base):
    __tablename__ = "portal_session"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256(cookie) hex
    subject: Mapped[str] = mapped_column(String(255), index=True)
    sealed_tokens: Mapped[bytes] = mapped_column(LargeBinary)
    csrf_token: Mapped[str] = mapped_column(String(64))
    trust_level: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    access_expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    refresh_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
