"""Restoring the database from a backup without bringing erased people back (ADR 0007).

``ozg-commons restore`` (:func:`replay`) runs on the restored database before it serves: it
erases again every subject that the erasure journal (``account/journal.py``) says was erased
after the backup was taken, then purges what it deleted from the database's files.
:func:`refusal` says why a database must not serve yet; the app's start-up runs it in
production, however the app is started (``ozg-commons serve``, ``uvicorn --factory
gateway.app:create_app``, gunicorn), and ``ozg-commons serve`` runs it in development. The
steps for operators are in docs/backup-restore.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import text

if TYPE_CHECKING:
    from commons.db import Database
    from commons.settings import Settings


@dataclass(frozen=True, slots=True)
class RestoreReport:
    journal_entries: int
    replayed: int
    subjects_erased: int


def _subject_columns() -> list[str]:
    from gateway.declarations import installed_components

    return [c for component in installed_components() for c in component.subject_columns]


def unreplayed(settings: Settings, database: Database | None = None) -> int:
    """How many erasures in the journal the database has not seen while it still holds
    their subject's data (0: it may serve). One query when nothing is pending. ``database``
    is the app's (else one is opened on the settings' URL for this check)."""
    from account import ErasureJournal, erasure_journal_dir, held_subjects, unseen_erasures
    from commons.clock import system_clock
    from commons.db import Database

    entries = ErasureJournal(erasure_journal_dir(settings)).entries()
    if not entries:
        return 0
    db = database or Database.from_url(settings.effective_database_url, pool_size=1)
    try:
        with db.transaction() as session:
            todo = unseen_erasures(session, entries, system_clock.now())
            held = held_subjects(
                session, todo, _subject_columns(), settings.secret_key.get_secret_value()
            )
    finally:
        if database is None:
            db.dispose()
    return len(held)


def refusal(settings: Settings, database: Database | None = None) -> str | None:
    """Why the database must not serve yet, in one line, or ``None``: the erasure journal
    cannot be read, or it names erasures the database has not seen while the database
    still holds their subjects (a backup older than them was restored)."""
    from account import JournalUnavailable
    from commons.i18n import _

    try:
        held = unreplayed(settings, database)
    except JournalUnavailable as exc:
        return exc.detail
    if not held:
        return None
    return _(
        "the database holds {held} erasure(s) of the erasure journal it has not seen "
        "(restored from an older backup?): run `ozg-commons restore` before serving",
        held=held,
    )


def replay(settings: Settings, *, vacuum: bool = True) -> RestoreReport:
    """Replay the erasure journal on the configured database, in one transaction, with
    every component's shredder (object stores included: blobs restored with a backup of
    the store are deleted too). Then, on PostgreSQL, ``VACUUM FULL`` rewrites the tables so
    that no dead tuple of an erased row stays in the data files (``vacuum=False`` skips it);
    on SQLite ``secure_delete`` and the WAL checkpoint do that as after every erasure.
    Last, the journal drops the entries past their receipt's deletion date."""
    from account import ErasureJournal, erasure_journal_dir, replay_journal
    from commons.clock import system_clock
    from gateway.app import create_app

    journal = ErasureJournal(erasure_journal_dir(settings))
    entries = journal.entries()
    app = create_app(settings)
    database = app.state.database
    try:
        with database.transaction() as session:
            replayed, erased = replay_journal(
                session,
                entries,
                columns=_subject_columns(),
                registry=app.state.personal_data,
                secret=settings.secret_key.get_secret_value(),
            )
        if erased and vacuum and database.dialect == "postgresql":
            autocommit = database.engine.execution_options(isolation_level="AUTOCOMMIT")
            with autocommit.connect() as conn:
                conn.execute(text("VACUUM FULL"))
    finally:
        database.dispose()
    journal.prune(system_clock.now())
    return RestoreReport(len(entries), replayed, erased)
