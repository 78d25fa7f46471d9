"""SQLAlchemy tables of the compliance domain (prefix ``compliance_``).

The tamper-evident part and the personal part of an entry live in separate tables:
``compliance_access_entry`` holds only what the Merkle leaf encodes (no personal data, a
salted commitment instead), ``compliance_access_personal`` the plaintext personal fields and
the salt. Erasure deletes the personal row; the leaf and every proof stay valid.

Sequencing touches only narrow tables: writers queue (entry id, leaf hash) in
``compliance_pending``; the sequencer moves them to ``compliance_leaf`` (leaf index -> entry
id) and ``compliance_log_node``. An entry row is written once and never updated.

On SQLite, writers insert an entry's three rows through the view ``compliance_access_append``
(migration c0003: its ``INSTEAD OF INSERT`` trigger writes them), so that a batch of entries
is one statement, as the chained inserts are on PostgreSQL (``service.write_entries``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    select,
)
from sqlalchemy.orm import Mapped, column_property, mapped_column

from commons.db import Base, UTCDateTime


class Leaf(Base):
    """A sequenced leaf: which entry the sequencer placed at ``leaf_index`` (narrow rows).

    The leaf's hash is the level-0 row of ``compliance_log_node``; the leaf's bytes are
    encoded from the entry's columns. Assigning an index never rewrites the wide entry row.
    """

    __tablename__ = "compliance_leaf"

    leaf_index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    entry_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("compliance_access_entry.id"), unique=True
    )


class Pending(Base):
    """The sequencer's queue: an appended entry and the leaf hash its writer computed.

    ``seq`` orders the queue; the sequencer deletes the rows it sequences (in ``seq`` order)
    in the transaction that stores their leaves.
    """

    __tablename__ = "compliance_pending"

    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    entry_id: Mapped[str] = mapped_column(String(36), ForeignKey("compliance_access_entry.id"))
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))


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
    # Assigned by the sequencer, never by the writer (appends take no global lock), and
    # stored in the narrow compliance_leaf table; None while the entry is pending.
    leaf_index: Mapped[int | None] = column_property(
        select(Leaf.leaf_index).where(Leaf.entry_id == id).correlate_except(Leaf).scalar_subquery()
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
