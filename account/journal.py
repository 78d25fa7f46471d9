"""The erasure journal: every erasure, kept apart from the database, so that it survives
a restore of that database from a backup (ADR 0007, docs/backup-restore.md).

A backup taken before an erasure still holds the erased person. The journal lives in a
directory of its own (``OZG_ACCOUNT_ERASURE_JOURNAL_DIR``; production must set it, and it is
backed up apart from the database), one JSON line per erasure in ``erasures.jsonl``
(format ``ozg-erasure-journal/1``, docs/backup-restore.md). An entry holds no personal data
in the clear: the receipt id, the identity issuer, the keyed digest of the subject
(:func:`account.erasure.subject_digest`, the same as in the receipt), the erasure time, the
receipt's deletion date and the signed receipt itself (which holds only that digest).

:func:`unseen_erasures` finds the entries a database has not seen (its ``account_erasure`` row is
missing: the database is older than the erasure); :func:`held_subjects` finds which of
their subjects the database still holds; :func:`account.erasure.replay_journal` erases them
again. ``ozg-commons serve`` refuses to start while any is held; ``ozg-commons restore``
replays them.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import column, select, table
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ColumnClause

from account.errors import JournalUnavailable
from account.models import Erasure

log = logging.getLogger("ozg.account")

JOURNAL_FORMAT = "ozg-erasure-journal/1"
JOURNAL_FILE = "erasures.jsonl"


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One erasure, as the journal keeps it (no personal data in the clear)."""

    receipt_id: str
    identity_issuer: str
    subject_digest: str
    erased_at: datetime
    delete_after: datetime
    receipt: dict[str, Any]

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": JOURNAL_FORMAT,
                "receipt_id": self.receipt_id,
                "identity_issuer": self.identity_issuer,
                "subject_digest": self.subject_digest,
                "erased_at": self.erased_at.isoformat(),
                "delete_after": self.delete_after.isoformat(),
                "receipt": self.receipt,
            },
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=True,
        )

    @classmethod
    def from_json(cls, line: str) -> JournalEntry:
        data = json.loads(line)
        if not isinstance(data, dict) or data.get("format") != JOURNAL_FORMAT:
            raise ValueError("not an ozg-erasure-journal/1 entry")
        erased_at = datetime.fromisoformat(data["erased_at"])
        delete_after = datetime.fromisoformat(data["delete_after"])
        if erased_at.tzinfo is None or delete_after.tzinfo is None:
            raise ValueError("naive time")
        fields = (data["receipt_id"], data["identity_issuer"], data["subject_digest"])
        if not all(isinstance(f, str) and f for f in fields):
            raise ValueError("missing field")
        if not isinstance(data["receipt"], dict):
            raise ValueError("receipt is not an object")
        return cls(*fields, erased_at, delete_after, data["receipt"])


class ErasureJournal:
    """The journal's directory: appended to by every erasure, read by ``serve`` and
    ``restore``. Every access holds an exclusive ``flock`` on ``erasures.lock`` (several
    workers, and :meth:`prune` replacing the file); appends reach the disk (``fsync``) before
    the erasure's transaction commits."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / JOURNAL_FILE

    @contextmanager
    def _locked(self) -> Iterator[None]:
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(self.directory / "erasures.lock", os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            log.error("the erasure journal cannot be opened: %s", exc.strerror)
            raise JournalUnavailable(
                f"the erasure journal cannot be opened ({exc.strerror})"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def _text(self) -> str:
        try:
            return self.path.read_text(encoding="ascii") if self.path.exists() else ""
        except (OSError, UnicodeDecodeError):
            raise JournalUnavailable("the erasure journal cannot be read") from None

    def append(self, entry: JournalEntry) -> None:
        """Write ``entry`` and make it durable; raise :class:`JournalUnavailable` if not."""
        with self._locked():
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
                with os.fdopen(fd, "r+b") as handle:
                    size = handle.seek(0, os.SEEK_END)
                    if size:
                        handle.seek(size - 1)
                        if handle.read(1) != b"\n":
                            # The tail of an append that crashed midway (its erasure rolled
                            # back): cut it off, so that this entry starts a line of its own.
                            handle.seek(0)
                            handle.truncate(handle.read().rfind(b"\n") + 1)
                    handle.write(entry.to_json().encode("ascii") + b"\n")
                    handle.flush()
                    os.fsync(handle.fileno())
            except OSError as exc:
                log.error("the erasure journal cannot be written: %s", exc.strerror)
                raise JournalUnavailable(
                    f"the erasure journal cannot be written ({exc.strerror})"
                ) from None

    def entries(self) -> list[JournalEntry]:
        """Every entry, oldest first; an empty list when the journal does not exist yet.

        A malformed line stops the reader (:class:`JournalUnavailable`, naming the line):
        a damaged journal must not silently drop an erasure. Only an unterminated last line
        is skipped: an append that crashed midway, whose erasure therefore rolled back.
        """
        if not self.path.exists():
            return []
        with self._locked():
            return _parse(self._text())

    def prune(self, now: datetime) -> int:
        """Drop the entries past their receipt's deletion date (the retention run deletes
        the receipt then; no backup is kept that long). Rewrites the file atomically; a
        damaged journal is refused as by :meth:`entries`. Returns how many were dropped."""
        if not self.path.exists():
            return 0
        with self._locked():
            entries = _parse(self._text())
            kept = [e for e in entries if e.delete_after > now]
            if len(kept) == len(entries):
                return 0
            spare = self.path.with_suffix(".tmp")
            try:
                with spare.open("w", encoding="ascii") as out:
                    out.writelines(e.to_json() + "\n" for e in kept)
                    out.flush()
                    os.fsync(out.fileno())
                spare.chmod(0o600)
                spare.replace(self.path)
            except OSError as exc:
                raise JournalUnavailable(
                    f"the erasure journal cannot be rewritten ({exc.strerror})"
                ) from None
        return len(entries) - len(kept)


def _parse(text: str) -> list[JournalEntry]:
    lines = text.split("\n")
    if lines[-1]:
        log.warning("the erasure journal ends in an incomplete entry; it is ignored")
    out: list[JournalEntry] = []
    for number, line in enumerate(lines[:-1], start=1):
        try:
            out.append(JournalEntry.from_json(line))
        except (ValueError, KeyError, TypeError):
            raise JournalUnavailable(
                f"the erasure journal is damaged at line {number} of {JOURNAL_FILE}"
            ) from None
    return out


def unseen_erasures(
    session: Session, entries: Iterable[JournalEntry], now: datetime
) -> list[JournalEntry]:
    """The entries this database has not seen: no ``account_erasure`` row with their receipt
    id, and not yet past their receipt's deletion date (the retention run removes that row
    then, and no backup is kept that long)."""
    due = [e for e in entries if e.delete_after > now]
    known: set[str] = set()
    ids = [e.receipt_id for e in due]
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        known.update(session.scalars(select(Erasure.id).where(Erasure.id.in_(chunk))))
    return [e for e in due if e.receipt_id not in known]


def subjects_in_database(session: Session, columns: Iterable[str]) -> set[str]:
    """Every subject named in the components' ``subject_columns`` (``"table.column"``)."""
    subjects: set[str] = set()
    for qualified in columns:
        table_name, _, column_name = qualified.partition(".")
        col: ColumnClause[str] = column(column_name)
        query = select(col).select_from(table(table_name, col)).where(col.is_not(None))
        subjects.update(str(s) for s in session.scalars(query.distinct()))
    return subjects


def held_subjects(
    session: Session, entries: Iterable[JournalEntry], columns: Iterable[str], secret: str
) -> dict[str, list[str]]:
    """For each of ``entries`` whose subject the database still holds: its receipt id ->
    the subjects whose keyed digest it names (one, in practice)."""
    from account.erasure import subject_digest

    wanted = list(entries)
    if not wanted:
        return {}
    subjects = subjects_in_database(session, columns)
    out: dict[str, list[str]] = {}
    for issuer in {e.identity_issuer for e in wanted}:
        by_digest = {subject_digest(secret, issuer, s): s for s in subjects}
        for entry in wanted:
            if entry.identity_issuer == issuer and entry.subject_digest in by_digest:
                out.setdefault(entry.receipt_id, []).append(by_digest[entry.subject_digest])
    return out
