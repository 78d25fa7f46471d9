"""The sequencer: assigns leaf indexes in batches and publishes signed checkpoints.

Writers append unsequenced entries without any shared lock. One sequencer pass, in its own
transaction, takes the log's single lock (``SELECT ... FOR UPDATE`` on the one head row in
PostgreSQL; SQLite's write lock, taken by ``BEGIN IMMEDIATE``), reads the head, numbers the
oldest committed unsequenced entries ``size, size + 1, ...``, stores the complete subtrees
they complete and a signed checkpoint of the new tree, and commits. A crash anywhere rolls the
whole pass back; the unique leaf index and the node primary key make a gap, a fork or a
duplicate index impossible even if two sequencers ran against the same database.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import insert, select, text, update
from sqlalchemy.orm import Session

from commons.clock import Clock, system_clock
from commons.db import Database
from compliance import merkle, note
from compliance.keys import LogIdentity
from compliance.leaf import FIELD_NAMES, LeafData
from compliance.models import AccessEntry, Checkpoint, LogHead, LogNode
from compliance.service import DbNodeSource

log = logging.getLogger("ozg.compliance.sequencer")

HEAD_ID = 1
# The entry columns in the order of LeafData's fields (the entry's id column is "id").
_LEAF_COLUMNS = tuple("id" if name == "entry_id" else name for name in FIELD_NAMES)
DEFAULT_BATCH = 20_000


@dataclass(frozen=True, slots=True)
class PassResult:
    sequenced: int
    size: int


def _lock_head(session: Session) -> LogHead:
    head = session.scalars(select(LogHead).where(LogHead.id == HEAD_ID).with_for_update()).first()
    if head is None:  # normally created by the migration
        head = LogHead(id=HEAD_ID, size=0, root=merkle.EMPTY_ROOT)
        session.add(head)
        session.flush()
    return head


def sequence_pass(
    session: Session,
    identity: LogIdentity,
    *,
    batch: int = DEFAULT_BATCH,
    clock: Clock = system_clock,
) -> PassResult:
    """Sequence up to ``batch`` committed entries and publish a checkpoint (one transaction)."""
    head = _lock_head(session)
    size = head.size
    cols = [AccessEntry.__table__.c[name] for name in _LEAF_COLUMNS]
    pending = session.execute(
        select(*cols)
        .where(AccessEntry.leaf_index.is_(None))
        .order_by(AccessEntry.at, AccessEntry.id)
        .limit(batch)
    ).all()
    if not pending:
        if session.get(Checkpoint, size) is None:
            _publish(session, identity, size, head.root, clock)
        return PassResult(0, size)
    hashes = [merkle.leaf_hash(LeafData(*row).encode()) for row in pending]
    edge = DbNodeSource(session).get_nodes(merkle.edge_nodes(size))
    nodes = merkle.extend(size, hashes, edge)
    new_size = size + len(pending)
    root = merkle.fold([nodes.get(p) or edge[p] for p in merkle.peaks(new_size)])
    ids = [row[0] for row in pending]
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        # Set-based statements: one round trip each, whatever the batch size.
        connection.execute(
            text(
                "UPDATE compliance_access_entry AS e SET leaf_index = v.idx FROM "
                "(SELECT unnest(CAST(:ids AS varchar[])) AS id, "
                "unnest(CAST(:idx AS bigint[])) AS idx) AS v WHERE e.id = v.id"
            ),
            {"ids": ids, "idx": list(range(size, new_size))},
        )
        connection.execute(
            text(
                "INSERT INTO compliance_log_node (level, idx, hash) SELECT * FROM "
                "unnest(CAST(:l AS smallint[]), CAST(:i AS bigint[]), CAST(:h AS bytea[]))"
            ),
            {
                "l": [k[0] for k in nodes],
                "i": [k[1] for k in nodes],
                "h": list(nodes.values()),
            },
        )
    else:
        session.execute(
            update(AccessEntry),
            [{"id": entry_id, "leaf_index": size + i} for i, entry_id in enumerate(ids)],
            execution_options={"synchronize_session": False},
        )
        session.execute(
            insert(LogNode),
            [{"level": lvl, "idx": idx, "hash": h} for (lvl, idx), h in nodes.items()],
        )
    session.execute(
        update(LogHead).where(LogHead.id == HEAD_ID).values(size=new_size, root=root),
        execution_options={"synchronize_session": False},
    )
    _publish(session, identity, new_size, root, clock)
    return PassResult(len(pending), new_size)


def _publish(session: Session, identity: LogIdentity, size: int, root: bytes, clock: Clock) -> None:
    text = note.Checkpoint(identity.origin, size, root).text()
    session.add(
        Checkpoint(size=size, root=root, note=identity.signer.sign(text), created_at=clock.now())
    )
    session.flush()


def sequence_all(database: Database, identity: LogIdentity, *, batch: int = DEFAULT_BATCH) -> int:
    """Run passes until nothing is pending; return how many entries were sequenced."""
    total = 0
    while True:
        with database.transaction() as session:
            result = sequence_pass(session, identity, batch=batch)
        total += result.sequenced
        if result.sequenced < batch:
            return total


class SequencerThread:
    """Runs sequencer passes every ``interval`` seconds in the app process until stopped."""

    def __init__(
        self,
        database: Database,
        identity: LogIdentity,
        interval: float,
        *,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        self._database = database
        self._identity = identity
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="audit-sequencer", daemon=True)
        self._on_error = on_error

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                sequence_all(self._database, self._identity)
            except Exception as exc:  # keep sequencing; the next pass retries
                log.exception("audit sequencer pass failed")
                if self._on_error:
                    self._on_error(exc)
            self._stop.wait(self._interval)
