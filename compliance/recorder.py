"""The access recorder every domain calls whenever personal data is read, written,
shared, exported or deleted.

The contract other domains rely on is :func:`record_access` with an :class:`AccessEvent`:
it writes the entry in the caller's session, i.e. in the same database transaction as the
access itself. If recording fails, the exception propagates and the whole unit of work
(the access included) is rolled back: no access without its entry.

Entries are written in batches: :func:`record_access` builds the entry's rows (and its leaf
hash) at once and keeps them in the session until the session next talks to the database
through the ORM (any ``session.execute``/``scalars``/``get``, a flush, a savepoint, the
commit). Then every entry buffered so far goes in one statement, in the same transaction.
So a transaction that records 50 entries pays one round trip, the caller's own queries see
its entries, and a failed write raises from that statement or from ``commit()``, which then
rolls everything back. (Statements run on ``session.connection()`` directly bypass the ORM
and do not write the buffer; the commit still does.)

On SQLite, a unit of work that wrote nothing else (a read) commits its entries in a short
grouped transaction of its own just before its commit (:func:`_write_grouped`): the read
never takes the write lock, and it is not answered before its entries are durable.

A refusal (an entry whose outcome is not ``success``: ``denied``, ``error``) is kept even if
the unit of work then rolls back, as it does when the refusal becomes a 403 or 404: if the
transaction does not commit, such entries are written in a transaction of their own right
after it ends (on the same bind; on SQLite the write lock is free again by then). Record a
refusal with :func:`record_denied`.

The buffer is written by session event listeners, bound to our sessions only, never to
SQLAlchemy's ``Session`` class (which would make them fire in every session in the process):
:func:`install_recorder` binds them to a :class:`commons.db.Database`'s session factory (the
compliance component does so for ``app.state.database``), and a session from anywhere else
(a job's own ``Database``, a test's) gets them on itself when it records its first entry.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import Engine
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session, SessionTransaction

from commons.clock import Clock, ensure_utc, system_clock
from commons.context import current_request_id
from commons.db import group_writer, has_written

if TYPE_CHECKING:
    from commons.db import Database
    from compliance.service import NewEntry

Outcome = Literal["success", "denied", "error"]

log = logging.getLogger("ozg.compliance")


@dataclass(frozen=True, slots=True)
class Actor:
    """Who accessed: a person (``subject`` from the identity provider) or a client."""

    subject: str
    role: str
    authority: str | None = None
    client_id: str | None = None


@dataclass(frozen=True, slots=True)
class AccessEvent:
    """One access to personal data.

    ``action`` is a dotted name from the action registry (``vault.document.read``);
    ``purpose`` and ``legal_basis`` say why the access is lawful (``"§ 86 AufenthG"``,
    ``"Art. 6(1)(e) GDPR"``). ``disclosed_after`` marks a restricted entry that the data
    subject does not see before that time (the DPO always does).
    """

    actor: Actor
    data_subject: str | None
    action: str
    resource: str
    purpose: str
    legal_basis: str
    outcome: Outcome = "success"
    disclosed_after: datetime | None = None


def record_access(session: Session, event: AccessEvent, *, clock: Clock = system_clock) -> str:
    """Record ``event`` in ``session``'s transaction; raise if it cannot be recorded.

    Returns the entry's id. The entry is written with the transaction's other entries, at the
    latest when the transaction commits (see the module documentation).
    """
    return record_accesses(session, (event,), clock=clock)[0]


def record_accesses(
    session: Session, events: Iterable[AccessEvent], *, clock: Clock = system_clock
) -> list[str]:
    """Record several accesses at once (a list view showing many records, a bulk export)."""
    # Local: the face (``import compliance``, which every domain's declarations use) stays
    # free of the ORM models and the SQL writer until something is recorded.
    from compliance import service

    at = ensure_utc(clock.now())
    request_id = current_request_id()
    entries = [service.new_entry(e, at=at, request_id=request_id) for e in events]
    buffered: list[NewEntry] | None = session.info.get(_BUFFER)
    if buffered is None:
        _ensure_listeners(session)
        session.info[_BUFFER] = buffered = []
    buffered.extend(entries)
    refusals = [e for e, event in zip(entries, events, strict=True) if event.outcome != "success"]
    if refusals:
        session.info.setdefault(_REFUSALS, []).extend(refusals)
    return [e.id for e in entries]


def record_denied(session: Session, event: AccessEvent, *, clock: Clock = system_clock) -> str:
    """Record a refused access (outcome ``denied``): kept even though the refusal rolls the
    unit of work back. Call it where the refusal is decided (a domain's scoping function),
    with the target's data subject if the resource exists (it is stored only in the
    shreddable personal part, like every entry's)."""
    if event.outcome == "success":
        from dataclasses import replace

        event = replace(event, outcome="denied")
    return record_access(session, event, clock=clock)


_BUFFER = "compliance.buffered_entries"
_REFUSALS = "compliance.refusals"
# Session classes (one per Database's session factory) that install_recorder bound, and
# sessions from elsewhere that bound themselves (weak: they go when the class or session does).
_BOUND: weakref.WeakSet[type[Session]] = weakref.WeakSet()
_SELF_BOUND: weakref.WeakSet[Session] = weakref.WeakSet()


def install_recorder(database: Database) -> None:
    """Bind the recorder's session event listeners to ``database``'s sessions (idempotent).

    Only that database's sessions get them; a plain ``Session`` made elsewhere has none.
    """
    for identifier, listener in _LISTENERS:
        database.listen(identifier, listener)
    _BOUND.add(database.session_class)


def _ensure_listeners(session: Session) -> None:
    """A session whose factory :func:`install_recorder` did not bind gets the listeners on
    itself, so a recorded entry is never left unwritten."""
    if type(session) in _BOUND or session in _SELF_BOUND:
        return
    for identifier, listener in _LISTENERS:
        sa_event.listen(session, identifier, listener)
    _SELF_BOUND.add(session)


def _write(session: Session, transaction: SessionTransaction | None) -> None:
    entries: list[NewEntry] | None = session.info.get(_BUFFER)
    if not entries:
        return
    from compliance import service

    connection = transaction.connection(None) if transaction else session.connection()
    service.write_entries(connection, entries)
    # Only once written: if the write failed, the commit tries again and fails too.
    del entries[:]


def _before_execute(state: Any) -> None:
    _write(state.session, None)


def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    _write(session, None)


def _before_commit(session: Session) -> None:
    if not _write_grouped(session):
        _write(session, None)


def _write_grouped(session: Session) -> bool:
    """On SQLite, the entries of a unit of work that has written nothing else (a read) go in
    a short transaction of their own, committed together with the entries of the reads that
    commit at the same time (:class:`commons.db.GroupWriter`): the read never takes the write
    lock, and one commit makes many reads' entries durable. It returns, and so the read is
    answered, only once its entries are committed; if they cannot be, it raises and the unit
    of work rolls back. Returns whether it wrote them."""
    entries: list[NewEntry] | None = session.info.get(_BUFFER)
    if not entries or session.new or session.dirty or session.deleted:
        return False
    bind = session.get_bind()
    if not isinstance(bind, Engine) or bind.dialect.name != "sqlite":
        return False  # PostgreSQL groups concurrent commits itself; tests' connections
    writer = group_writer(bind)
    if writer is None or has_written(session.connection()):
        return False
    from compliance import service

    batch = list(entries)
    writer.write(lambda connection: service.write_entries(connection, batch))
    del entries[:]
    return True


def _before_savepoint(session: Session, transaction: SessionTransaction) -> None:
    # Entries recorded before a SAVEPOINT belong to the enclosing transaction: write them
    # there (the savepoint is not begun yet), so rolling back the savepoint keeps them.
    if transaction.nested and transaction.parent is not None:
        _write(session, transaction.parent)


def _after_commit(session: Session) -> None:
    # Committed: the refusals went in with everything else.
    session.info.pop(_REFUSALS, None)


def _after_transaction(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the unit of work is over: committed or rolled back
        session.info.pop(_BUFFER, None)
        refusals: list[NewEntry] | None = session.info.pop(_REFUSALS, None)
        if refusals:
            _write_refusals(session, refusals)


def _write_refusals(session: Session, entries: list[NewEntry]) -> None:
    """Write refusals that a rolled-back unit of work would have lost, in a transaction of
    their own."""
    from sqlalchemy import Connection

    from compliance import service

    bind = session.get_bind()
    try:
        if isinstance(bind, Connection):  # a caller's connection (tests): a savepoint on it
            with bind.begin_nested():
                service.write_entries(bind, entries)
        else:
            with bind.begin() as connection:
                service.write_entries(connection, entries)
    except Exception:
        # The refusal stands either way; that its entry was lost is logged (without data).
        log.exception("a denied access could not be recorded")


_LISTENERS: tuple[tuple[str, Callable[..., None]], ...] = (
    ("do_orm_execute", _before_execute),
    ("before_flush", _before_flush),
    ("before_commit", _before_commit),
    ("after_transaction_create", _before_savepoint),
    ("after_commit", _after_commit),
    ("after_transaction_end", _after_transaction),
)
