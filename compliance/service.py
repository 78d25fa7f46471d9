"""Domain logic of the audit trail (no HTTP): appending entries, reading the log, proofs."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Connection, Table, column, func, insert, select, table, tuple_
from sqlalchemy.orm import Session

from commons.errors import NotFound
from commons.ids import new_id_str
from compliance import leaf as leaf_format
from compliance import merkle
from compliance.errors import ProofRangeError
from compliance.models import (
    AccessEntry,
    AccessPersonal,
    Checkpoint,
    Cosignature,
    Leaf,
    LogNode,
    Pending,
)

if TYPE_CHECKING:
    from compliance.recorder import AccessEvent


# The entry's columns are the leaf's fields, in the leaf's order (the entry id column is "id").
ENTRY_COLUMNS = tuple("id" if name == "entry_id" else name for name in leaf_format.FIELD_NAMES)
_PERSONAL_COLUMNS = ("entry_id", "salt", "data_subject", "actor_subject", "resource")
_PENDING_COLUMNS = ("entry_id", "leaf_hash")

# PostgreSQL: every entry of a transaction in ONE statement (three inserts chained as
# data-modifying CTEs, each row set unnested from one array parameter per column), so a
# transaction that records 50 entries costs one round trip, not 50.
_PG_TYPES = {
    "id": "varchar",
    "entry_id": "varchar",
    "at": "timestamptz",
    "disclosed_after": "timestamptz",
    "commitment": "bytea",
    "salt": "bytea",
    "leaf_hash": "bytea",
}


def _unnest(prefix: str, columns: Sequence[str]) -> str:
    arrays = ", ".join(f"%({prefix}{c})b::{_PG_TYPES.get(c, 'varchar')}[]" for c in columns)
    return f"SELECT * FROM unnest({arrays})"  # noqa: S608 (constant column names)


_PG_INSERT = (
    f"WITH e AS (INSERT INTO compliance_access_entry ({', '.join(ENTRY_COLUMNS)}) "
    f"{_unnest('e_', ENTRY_COLUMNS)}), "
    f"p AS (INSERT INTO compliance_access_personal ({', '.join(_PERSONAL_COLUMNS)}) "
    f"{_unnest('p_', _PERSONAL_COLUMNS)}) "
    f"INSERT INTO compliance_pending ({', '.join(_PENDING_COLUMNS)}) "
    f"{_unnest('q_', _PENDING_COLUMNS)}"
)


# SQLite: every entry of a transaction in ONE executemany, into the view
# compliance_access_append, whose INSTEAD OF INSERT trigger inserts the entry, its personal
# part and its queue row (migration c0003). The view's columns carry the tables' types, so
# values are bound exactly as inserting into the tables would bind them.
_SQLITE_APPEND_COLUMNS = (*ENTRY_COLUMNS, *_PERSONAL_COLUMNS[1:], "leaf_hash")
_SQLITE_APPEND = table(
    "compliance_access_append",
    *(
        column(name, source.c[name].type)
        for source, names in (
            (cast(Table, AccessEntry.__table__), ENTRY_COLUMNS),
            (cast(Table, AccessPersonal.__table__), _PERSONAL_COLUMNS[1:]),
            (cast(Table, Pending.__table__), ("leaf_hash",)),
        )
        for name in names
    ),
)


@dataclass(frozen=True, slots=True)
class NewEntry:
    """The three rows of one recorded access, built by the writer (see :func:`new_entry`)."""

    entry: tuple[Any, ...]  # in the order of ENTRY_COLUMNS
    personal: tuple[Any, ...]  # in the order of _PERSONAL_COLUMNS
    leaf_hash: bytes

    @property
    def id(self) -> str:
        return str(self.entry[0])


def new_entry(event: AccessEvent, *, at: datetime, request_id: str | None) -> NewEntry:
    """The rows of ``event``: the entry, its personal part, and its RFC 6962 leaf hash.

    The writer has every leaf field, so it hashes the leaf itself; the sequencer only places
    hashes in the tree. A wrong hash cannot go unnoticed: ``audit verify`` recomputes every
    leaf hash from the leaf's fields and compares the tree head with the signed one.
    """
    entry_id = new_id_str()
    salt = os.urandom(leaf_format.SALT_SIZE)
    commitment = leaf_format.commitment(
        salt, event.data_subject, event.actor.subject, event.resource
    )
    # the leaf's fields in the leaf's order, which is also the order of ENTRY_COLUMNS
    data = leaf_format.LeafData(
        entry_id,
        at,
        request_id,
        event.actor.role,
        event.actor.authority,
        event.actor.client_id,
        event.action,
        event.purpose,
        event.legal_basis,
        event.outcome,
        event.disclosed_after,
        commitment,
    )
    return NewEntry(
        entry=tuple(getattr(data, name) for name in leaf_format.FIELD_NAMES),
        personal=(entry_id, salt, event.data_subject, event.actor.subject, event.resource),
        leaf_hash=merkle.leaf_hash(data.encode()),
    )


def write_entries(connection: Connection, entries: Sequence[NewEntry]) -> None:
    """Insert ``entries`` (unsequenced) on ``connection``, i.e. in its transaction.

    PostgreSQL: one statement for all of them; SQLite: one executemany into the view whose
    trigger writes the three rows of each entry (migration c0003).
    """
    if not entries:
        return
    if connection.dialect.name == "postgresql":
        params: dict[str, list[Any]] = {}
        for prefix, columns, rows in (
            ("e_", ENTRY_COLUMNS, [e.entry for e in entries]),
            ("p_", _PERSONAL_COLUMNS, [e.personal for e in entries]),
            ("q_", _PENDING_COLUMNS, [(e.id, e.leaf_hash) for e in entries]),
        ):
            for name, values in zip(columns, zip(*rows, strict=True), strict=True):
                params[prefix + name] = list(values)
        connection.exec_driver_sql(_PG_INSERT, params)
        return
    connection.execute(
        insert(_SQLITE_APPEND),
        [
            dict(zip(_SQLITE_APPEND_COLUMNS, (*e.entry, *e.personal[1:], e.leaf_hash), strict=True))
            for e in entries
        ],
    )


def leaf_data(entry: AccessEntry) -> leaf_format.LeafData:
    return leaf_format.LeafData(
        entry_id=entry.id,
        at=entry.at,
        request_id=entry.request_id,
        actor_role=entry.actor_role,
        actor_authority=entry.actor_authority,
        actor_client_id=entry.actor_client_id,
        action=entry.action,
        purpose=entry.purpose,
        legal_basis=entry.legal_basis,
        outcome=entry.outcome,
        disclosed_after=entry.disclosed_after,
        commitment=entry.commitment,
    )


class DbNodeSource:
    """Complete-subtree hashes from ``compliance_log_node``, in one query per proof."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get_nodes(self, nodes: Sequence[merkle.Node]) -> Mapping[merkle.Node, bytes]:
        if not nodes:
            return {}
        connection = self.session.connection()
        if connection.dialect.name == "postgresql":
            # One index probe per wanted node, the keys as two binary array parameters.
            rows = connection.exec_driver_sql(
                "SELECT n.level, n.idx, n.hash FROM unnest(%(l)b::smallint[], %(i)b::bigint[]) "
                "AS k(level, idx) JOIN compliance_log_node AS n "
                "ON n.level = k.level AND n.idx = k.idx",
                {"l": [n[0] for n in nodes], "i": [n[1] for n in nodes]},
            )
            return {(lvl, idx): h for lvl, idx, h in rows}
        found: dict[merkle.Node, bytes] = {}
        for start in range(0, len(nodes), 500):
            chunk = nodes[start : start + 500]
            result = self.session.execute(
                select(LogNode.level, LogNode.idx, LogNode.hash).where(
                    tuple_(LogNode.level, LogNode.idx).in_(chunk)
                )
            )
            found.update({(lvl, idx): h for lvl, idx, h in result})
        return found


def pending_count(session: Session) -> int:
    """How many appended entries wait for the sequencer (the rows of its queue)."""
    return int(session.scalar(select(func.count()).select_from(Pending)) or 0)


def latest_checkpoint(session: Session) -> Checkpoint | None:
    return session.scalars(select(Checkpoint).order_by(Checkpoint.size.desc()).limit(1)).first()


def checkpoints(session: Session, *, limit: int, before: int | None = None) -> list[Checkpoint]:
    """Published checkpoints, newest first; ``before``: only those of a smaller size."""
    stmt = select(Checkpoint).order_by(Checkpoint.size.desc()).limit(limit)
    if before is not None:
        stmt = stmt.where(Checkpoint.size < before)
    return list(session.scalars(stmt))


def checkpoint_at(session: Session, size: int) -> Checkpoint:
    checkpoint = session.get(Checkpoint, size)
    if checkpoint is None:
        raise NotFound("no checkpoint was published at this tree size")
    return checkpoint


def cosignatures(session: Session, size: int) -> list[Cosignature]:
    return list(
        session.scalars(
            select(Cosignature)
            .where(Cosignature.checkpoint_size == size)
            .order_by(Cosignature.key_name)
        )
    )


def _published_size(session: Session) -> int:
    latest = latest_checkpoint(session)
    return latest.size if latest else 0


def inclusion_proof(session: Session, index: int, size: int) -> list[bytes]:
    if not 0 <= index < size <= _published_size(session):
        raise ProofRangeError("need 0 <= index < size <= the latest checkpoint's size")
    return merkle.inclusion_proof(index, size, DbNodeSource(session))


def consistency_proof(session: Session, size1: int, size2: int) -> list[bytes]:
    if not 0 <= size1 <= size2 <= _published_size(session):
        raise ProofRangeError("need 0 <= size1 <= size2 <= the latest checkpoint's size")
    return merkle.consistency_proof(size1, size2, DbNodeSource(session))


def entries_by_index(session: Session, start: int, end: int) -> list[tuple[int, AccessEntry]]:
    """The sequenced entries with ``start <= leaf_index < end`` and their indexes, in order."""
    return [
        (index, entry)
        for index, entry in session.execute(
            select(Leaf.leaf_index, AccessEntry)
            .join(AccessEntry, AccessEntry.id == Leaf.entry_id)
            .where(Leaf.leaf_index >= start, Leaf.leaf_index < end)
            .order_by(Leaf.leaf_index)
        )
    ]
