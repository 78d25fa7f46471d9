"""Domain logic of the audit trail (no HTTP): appending entries, reading the log, proofs."""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Table, bindparam, insert, select, tuple_
from sqlalchemy.orm import Session

from commons.errors import NotFound
from commons.ids import new_id_str
from compliance import leaf as leaf_format
from compliance import merkle
from compliance.errors import ComplianceError
from compliance.models import AccessEntry, AccessPersonal, Checkpoint, Cosignature, LogNode

if TYPE_CHECKING:
    from compliance.recorder import AccessEvent


_INSERT_ENTRY = insert(cast(Table, AccessEntry.__table__))
_INSERT_PERSONAL = insert(cast(Table, AccessPersonal.__table__))


@functools.cache
def _insert_both() -> Any:
    entry = cast(Table, AccessEntry.__table__)
    personal = cast(Table, AccessPersonal.__table__)
    entry_cols = [c.name for c in entry.columns if c.name != "leaf_index"]
    cte = (
        insert(entry)
        .values({c: bindparam(c, type_=entry.c[c].type) for c in entry_cols})
        .cte("new_entry")
    )
    return (
        insert(personal)
        .values({c.name: bindparam(c.name, type_=c.type) for c in personal.columns})
        .add_cte(cte)
    )


class ProofRangeError(ComplianceError):
    status = 422
    code = "audit-proof-range"
    title = "No such proof"


def append_entry(
    session: Session, event: AccessEvent, *, at: datetime, request_id: str | None
) -> str:
    """Write ``event`` in ``session``'s transaction, unsequenced. Returns the entry id.

    No lock beyond the two inserted rows: leaf indexes are assigned later by the sequencer.
    """
    entry_id = new_id_str()
    salt = os.urandom(leaf_format.SALT_SIZE)
    row = {
        "id": entry_id,
        "at": at,
        "request_id": request_id,
        "actor_role": event.actor.role,
        "actor_authority": event.actor.authority,
        "actor_client_id": event.actor.client_id,
        "action": event.action,
        "purpose": event.purpose,
        "legal_basis": event.legal_basis,
        "outcome": event.outcome,
        "disclosed_after": event.disclosed_after,
        "commitment": leaf_format.commitment(
            salt, event.data_subject, event.actor.subject, event.resource
        ),
    }
    personal = {
        "entry_id": entry_id,
        "salt": salt,
        "data_subject": event.data_subject,
        "actor_subject": event.actor.subject,
        "resource": event.resource,
    }
    connection = session.connection()  # Core inserts: no ORM bookkeeping on the hot path
    if connection.dialect.name == "postgresql":
        # One round trip: both rows in one statement (a data-modifying CTE).
        connection.execute(_insert_both(), {**row, **personal})
    else:
        connection.execute(_INSERT_ENTRY, row)
        connection.execute(_INSERT_PERSONAL, personal)
    return entry_id


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
        found: dict[merkle.Node, bytes] = {}
        for start in range(0, len(nodes), 500):
            chunk = nodes[start : start + 500]
            rows = self.session.execute(
                select(LogNode.level, LogNode.idx, LogNode.hash).where(
                    tuple_(LogNode.level, LogNode.idx).in_(chunk)
                )
            )
            found.update({(lvl, idx): h for lvl, idx, h in rows})
        return found


def latest_checkpoint(session: Session) -> Checkpoint | None:
    return session.scalars(select(Checkpoint).order_by(Checkpoint.size.desc()).limit(1)).first()


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


def entries_by_index(session: Session, start: int, end: int) -> list[AccessEntry]:
    """The sequenced entries with ``start <= leaf_index < end``, in order."""
    return list(
        session.scalars(
            select(AccessEntry)
            .where(AccessEntry.leaf_index >= start, AccessEntry.leaf_index < end)
            .order_by(AccessEntry.leaf_index)
        )
    )
