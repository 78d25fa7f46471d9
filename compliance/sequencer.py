"""The sequencer: assigns leaf indexes in batches and publishes signed checkpoints.

Writers append unsequenced entries without any shared lock, each with a row in the narrow
queue ``compliance_pending`` (entry id, leaf hash). One sequencer pass, in its own
transaction, takes the log's single lock (``SELECT ... FOR UPDATE`` on the one head row in
PostgreSQL; SQLite's write lock, taken by ``BEGIN IMMEDIATE``), reads the head, takes the
oldest committed queue rows (deleting them), numbers their entries ``size, size + 1, ...``
in ``compliance_leaf``, stores the complete subtrees they complete and a signed checkpoint of
the new tree, and commits. A crash anywhere rolls the whole pass back (the taken queue rows
included); the leaf index primary key, the unique entry id of a leaf and the node primary key
make a gap, a fork or a duplicate index impossible even if two sequencers ran against the
same database.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from commons.clock import Clock, system_clock
from commons.db import Database
from compliance import merkle, note
from compliance.keys import LogIdentity
from compliance.models import Checkpoint, Leaf, LogHead, LogNode, Pending
from compliance.service import DbNodeSource

log = logging.getLogger("ozg.compliance.sequencer")

HEAD_ID = 1
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


# PostgreSQL, one statement: take the oldest committed queue rows (the head lock excludes any
# other sequencer; rows not yet committed are invisible and wait for a later pass), number
# them in queue order from the tree size, store their compliance_leaf rows and their level-0
# nodes (the leaf hashes), and return the hashes in index order.
_TAKE_PG = """
WITH taken AS (
    DELETE FROM compliance_pending WHERE seq IN
        (SELECT seq FROM compliance_pending ORDER BY seq LIMIT %(n)s)
    RETURNING seq, entry_id, leaf_hash
), numbered AS (
    SELECT %(size)s::bigint + row_number() OVER (ORDER BY seq) - 1 AS leaf_index,
           entry_id, leaf_hash
    FROM taken
), leaves AS (
    INSERT INTO compliance_leaf (leaf_index, entry_id) SELECT leaf_index, entry_id FROM numbered
), level0 AS (
    INSERT INTO compliance_log_node (level, idx, hash)
    SELECT 0, leaf_index, leaf_hash FROM numbered
)
SELECT leaf_hash FROM numbered ORDER BY leaf_index
"""


def _take_pending_sqlite(session: Session, size: int, batch: int) -> list[bytes]:
    rows = session.execute(
        select(Pending.seq, Pending.entry_id, Pending.leaf_hash).order_by(Pending.seq).limit(batch)
    ).all()
    if not rows:
        return []
    # The head's FOR UPDATE took the write lock (BEGIN IMMEDIATE, commons/db.py): every
    # queued row is committed, and none can appear meanwhile.
    session.execute(delete(Pending).where(Pending.seq <= rows[-1][0]))
    connection = session.connection()
    connection.execute(
        insert(Leaf),
        [
            {"leaf_index": size + i, "entry_id": entry_id}
            for i, (_s, entry_id, _h) in enumerate(rows)
        ],
    )
    connection.execute(
        insert(LogNode),
        [{"level": 0, "idx": size + i, "hash": h} for i, (_s, _e, h) in enumerate(rows)],
    )
    return [h for _s, _e, h in rows]


def sequence_pass(
    session: Session,
    identity: LogIdentity,
    *,
    batch: int = DEFAULT_BATCH,
    clock: Clock = system_clock,
) -> PassResult:
    """Sequence up to ``batch`` committed entries and publish a checkpoint (one transaction).

    Only narrow rows are touched: the queue rows are deleted, one ``compliance_leaf`` row per
    entry and the completed subtree hashes are inserted. The leaf hashes are the writers'
    (see :func:`compliance.service.new_entry`); the wide entry rows are not read.
    """
    head = _lock_head(session)
    size = head.size
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        hashes = list(connection.exec_driver_sql(_TAKE_PG, {"n": batch, "size": size}).scalars())
    else:
        hashes = _take_pending_sqlite(session, size, batch)
    if not hashes:
        if session.get(Checkpoint, size) is None:
            _publish(session, identity, size, head.root, clock)
        return PassResult(0, size)
    edge = DbNodeSource(session).get_nodes(merkle.edge_nodes(size))
    nodes = merkle.extend(size, hashes, edge)
    new_size = size + len(hashes)
    root = merkle.fold([nodes.get(p) or edge[p] for p in merkle.peaks(new_size)])
    inner = [(key, h) for key, h in nodes.items() if key[0] > 0]  # level 0 is stored already
    if inner and connection.dialect.name == "postgresql":
        # One round trip, whatever the batch size.
        connection.exec_driver_sql(
            "INSERT INTO compliance_log_node (level, idx, hash) SELECT * FROM "
            "unnest(%(l)b::smallint[], %(i)b::bigint[], %(h)b::bytea[])",
            {
                "l": [k[0] for k, _h in inner],
                "i": [k[1] for k, _h in inner],
                "h": [h for _k, h in inner],
            },
        )
    elif inner:
        connection.execute(
            insert(LogNode), [{"level": lvl, "idx": idx, "hash": h} for (lvl, idx), h in inner]
        )
    session.execute(
        update(LogHead).where(LogHead.id == HEAD_ID).values(size=new_size, root=root),
        execution_options={"synchronize_session": False},
    )
    _publish(session, identity, new_size, root, clock)
    return PassResult(len(hashes), new_size)


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
    """Runs sequencer passes every ``interval`` seconds in the app process until stopped.

    At most one pass per interval, of up to ``batch`` entries (by default 20,000: far more
    than the API writes in an interval): under load it never takes the log's lock (SQLite's
    write lock, PostgreSQL's head row) back to back, and a backlog drains at ``batch``
    entries per interval.
    """

    def __init__(
        self,
        database: Database,
        identity: LogIdentity,
        interval: float,
        *,
        batch: int = DEFAULT_BATCH,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        self._database = database
        self._identity = identity
        self._interval = interval
        self._batch = batch
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
            started = time.monotonic()
            try:
                with self._database.transaction() as session:
                    sequence_pass(session, self._identity, batch=self._batch)
            except Exception as exc:  # keep sequencing; the next pass retries
                log.exception("audit sequencer pass failed")
                if self._on_error:
                    self._on_error(exc)
            # Passes start every interval: a long pass (a backlog) is not followed by a full
            # interval of waiting, which would add to the commit -> checkpoint latency.
            self._stop.wait(max(0.0, self._interval - (time.monotonic() - started)))
