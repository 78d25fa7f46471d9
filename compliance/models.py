"""SQLAlchemy tables of the compliance domain (prefix ``compliance_``).

The tamper-evident part and the personal part of an entry live in separate tables:
``compliance_access_entry`` holds only what the Merkle leaf encodes (no personal data, a
salted commitment instead), ``compliance_access_personal`` the plaintext personal fields and
the salt. Erasure deletes the personal row; the leaf and every proof stay valid.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, LargeBinary, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from commons.db import Base, UTCDateTime


class AccessEntry(Base):
    """One recorded access to personal data: the non-personal fields the leaf encodes."""

    __tablename__ = "compliance_access_entry"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    request_id: Mapped[str | None] = mapped_column(String(64))
    actor_role: Mapped[str] = mapped_column(String(32))
    actor_authority: Mapped[str | None] = mapped_column(String(64), index=True)
    actor_client_id: Mapped[str | None] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(128), index=True)
    purpose: Mapped[str] = mapped_column(String(255))
    legal_basis: Mapped[str] = mapped_column(String(255))
    outcome: Mapped[str] = mapped_column(String(16))
    disclosed_after: Mapped[datetime | None] = mapped_column(UTCDateTime())
    commitment: Mapped[bytes] = mapped_column(LargeBinary(32))
    # Assigned by the sequencer, never by the writer: appends take no global lock.
    leaf_index: Mapped[int | None] = mapped_column(BigInteger, unique=True)

    __table_args__ = (
        Index(
            "ix_compliance_access_entry_pending",
            "at",
            "id",
            postgresql_where=leaf_index.is_(None),
            sqlite_where=leaf_index.is_(None),
        ),
    )


class AccessPersonal(Base):
    """The personal fields of an entry and the salt of its commitment; shredded on erasure."""

    __tablename__ = "compliance_access_personal"

    entry_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("compliance_access_entry.id", ondelete="CASCADE"), primary_key=True
    )
    salt: Mapped[bytes] = mapped_column(LargeBinary(32))
    data_subject: Mapped[str | None] = mapped_column(String(255), index=True)
    actor_subject: Mapped[str] = mapped_column(String(255), index=True)
    resource: Mapped[str] = mapped_column(String(255))


class LogHead(Base):
    """The single row the sequencer locks: the current tree size and root."""

    __tablename__ = "compliance_log_head"

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    root: Mapped[bytes] = mapped_column(LargeBinary(32))


class LogNode(Base):
    """A complete subtree hash: leaves ``[index * 2**level, (index + 1) * 2**level)``."""

    __tablename__ = "compliance_log_node"

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class Checkpoint(Base):
    """A signed checkpoint (C2SP signed note) published by the sequencer."""

    __tablename__ = "compliance_checkpoint"

    size: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    root: Mapped[bytes] = mapped_column(LargeBinary(32))
    note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Cosignature(Base):
    """A witness's (or DPO's) signature line over a checkpoint."""

    __tablename__ = "compliance_cosignature"

    checkpoint_size: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("compliance_checkpoint.size"), primary_key=True
    )
    key_name: Mapped[str] = mapped_column(String(255), primary_key=True)
    verifier_key: Mapped[str] = mapped_column(Text)
    line: Mapped[str] = mapped_column(Text)
    submitted_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
