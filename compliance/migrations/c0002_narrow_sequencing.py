"""narrow sequencing: leaf indexes in compliance_leaf, a queue in compliance_pending

The sequencer no longer rewrites the wide ``compliance_access_entry`` row to assign a leaf
index. Writers queue (entry id, leaf hash) in ``compliance_pending``; the sequencer deletes
queue rows and inserts (leaf index, entry id) into ``compliance_leaf``.

Existing data: every assigned leaf index moves to ``compliance_leaf``; every still-pending
entry is queued, oldest first (the order the old sequencer used), with its leaf hash
computed here from its row. The downgrade moves the indexes back; queued entries become
unsequenced entries again.

Revision ID: c0002
Revises: c0001
Create Date: 2026-11-30 02:00:00
"""

import hashlib
import struct
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from alembic.operations import BatchOperations

revision: str = "c0002"
down_revision: str | None = "c0001"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

# A frozen copy of the ozg-audit-leaf/v1 encoding (docs/audit-log.md §2): migrations do not
# import application code.
_LEAF_MAGIC = b"ozg-audit-leaf/v1\n"
_LEAF_COLUMNS = (
    "id",
    "at",
    "request_id",
    "actor_role",
    "actor_authority",
    "actor_client_id",
    "action",
    "purpose",
    "legal_basis",
    "outcome",
    "disclosed_after",
    "commitment",
)


def _time(value: datetime | str | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):  # SQLite without type processing
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:  # SQLite stores UTC without a zone
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _field(value: str | bytes | None) -> bytes:
    if value is None:
        return b"\x00"
    raw = value.encode() if isinstance(value, str) else bytes(value)
    return b"\x01" + struct.pack(">I", len(raw)) + raw


def _leaf_hash(row: sa.Row) -> bytes:  # type: ignore[type-arg]
    values = list(row)
    values[1] = _time(values[1])
    values[10] = _time(values[10])
    leaf = _LEAF_MAGIC + b"".join(_field(v) for v in values)
    return hashlib.sha256(b"\x00" + leaf).digest()


def _rebuild_entry_table(change: Callable[[BatchOperations], None]) -> None:
    """Apply ``change`` to compliance_access_entry.

    SQLite rebuilds the table (copy, DROP, rename); with foreign keys enforced the DROP fails
    while rows of compliance_access_personal refer to it, so they are set aside meanwhile
    (same transaction). PostgreSQL alters the table in place.
    """
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute("CREATE TEMP TABLE c0002_personal AS SELECT * FROM compliance_access_personal")
        op.execute("DELETE FROM compliance_access_personal")
    with op.batch_alter_table("compliance_access_entry", schema=None) as batch_op:
        change(batch_op)
    if sqlite:
        op.execute("INSERT INTO compliance_access_personal SELECT * FROM c0002_personal")
        op.execute("DROP TABLE c0002_personal")


def _drop_leaf_index(batch_op: BatchOperations) -> None:
    batch_op.drop_index(
        "ix_compliance_access_entry_pending",
        postgresql_where=sa.text("leaf_index IS NULL"),
        sqlite_where=sa.text("leaf_index IS NULL"),
    )
    batch_op.drop_constraint(batch_op.f("uq_compliance_access_entry_leaf_index"), type_="unique")
    batch_op.drop_column("leaf_index")


def _add_leaf_index(batch_op: BatchOperations) -> None:
    batch_op.add_column(sa.Column("leaf_index", sa.BigInteger(), nullable=True))
    batch_op.create_unique_constraint(
        batch_op.f("uq_compliance_access_entry_leaf_index"), ["leaf_index"]
    )
    batch_op.create_index(
        "ix_compliance_access_entry_pending",
        ["at", "id"],
        unique=False,
        postgresql_where=sa.text("leaf_index IS NULL"),
        sqlite_where=sa.text("leaf_index IS NULL"),
    )


def upgrade() -> None:
    conn = op.get_bind()
    # Read what moves before the entry table changes.
    sequenced = [
        {"leaf_index": index, "entry_id": entry_id}
        for entry_id, index in conn.execute(
            sa.text(
                "SELECT id, leaf_index FROM compliance_access_entry "
                "WHERE leaf_index IS NOT NULL ORDER BY leaf_index"
            )
        )
    ]
    queued = [
        {"entry_id": row[0], "leaf_hash": _leaf_hash(row)}
        for row in conn.execute(
            sa.text(
                f"SELECT {', '.join(_LEAF_COLUMNS)} FROM compliance_access_entry "  # noqa: S608
                "WHERE leaf_index IS NULL ORDER BY at, id"
            )
        )
    ]
    _rebuild_entry_table(_drop_leaf_index)

    leaf = op.create_table(
        "compliance_leaf",
        sa.Column("leaf_index", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("entry_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["compliance_access_entry.id"],
            name=op.f("fk_compliance_leaf_entry_id_compliance_access_entry"),
        ),
        sa.PrimaryKeyConstraint("leaf_index", name=op.f("pk_compliance_leaf")),
        sa.UniqueConstraint("entry_id", name=op.f("uq_compliance_leaf_entry_id")),
    )
    pending = op.create_table(
        "compliance_pending",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("entry_id", sa.String(length=36), nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["compliance_access_entry.id"],
            name=op.f("fk_compliance_pending_entry_id_compliance_access_entry"),
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_compliance_pending")),
    )
    for table, rows in ((leaf, sequenced), (pending, queued)):
        for start in range(0, len(rows), 5000):  # in order: the queue's seq follows it
            conn.execute(table.insert(), rows[start : start + 5000])


def downgrade() -> None:
    conn = op.get_bind()
    # Queued entries become unsequenced entries again, as revision c0001 stores them.
    indexes = [
        {"i": index, "e": entry_id}
        for index, entry_id in conn.execute(
            sa.text("SELECT leaf_index, entry_id FROM compliance_leaf ORDER BY leaf_index")
        )
    ]
    op.drop_table("compliance_pending")
    op.drop_table("compliance_leaf")
    _rebuild_entry_table(_add_leaf_index)
    for start in range(0, len(indexes), 5000):
        conn.execute(
            sa.text("UPDATE compliance_access_entry SET leaf_index = :i WHERE id = :e"),
            indexes[start : start + 5000],
        )
