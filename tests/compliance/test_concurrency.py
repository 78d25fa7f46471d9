"""Concurrent writers and sequencers; a process killed mid-append or mid-sequence."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from commons.db import Database
from compliance import merkle, note, record_access, service
from compliance.keys import LogIdentity
from compliance.models import AccessEntry, Checkpoint, LogNode
from compliance.note import Signer
from compliance.sequencer import sequence_all, sequence_pass
from gateway.migrations import upgrade
from tests.compliance.conftest import event
from tests.conftest import _create_postgres_database

REPO = Path(__file__).resolve().parents[2]


def check_database(database: Database, identity: LogIdentity) -> int:
    """Everything stored is one consistent tree: no gaps, forks or duplicate indexes."""
    with database.transaction() as session:
        entries = list(
            session.scalars(
                select(AccessEntry)
                .where(AccessEntry.leaf_index.is_not(None))
                .order_by(AccessEntry.leaf_index)
            )
        )
        assert [e.leaf_index for e in entries] == list(range(len(entries)))
        tree = merkle.MemoryTree(service.leaf_data(e).encode() for e in entries)
        stored = {(n.level, n.idx): n.hash for n in session.scalars(select(LogNode))}
        assert stored == {n: tree.get_nodes([n])[n] for n in stored}
        assert len(stored) == sum(len(entries) >> level for level in range(64))
        checkpoints = list(session.scalars(select(Checkpoint).order_by(Checkpoint.size)))
        # A pass sequences and publishes in one transaction: no sequenced entry without a
        # checkpoint covering it (a kill before the first pass leaves neither).
        assert checkpoints or not entries
        assert (checkpoints[-1].size if checkpoints else 0) == len(entries)
        for cp in checkpoints:
            parsed = note.verify_checkpoint(cp.note, identity.verifier, identity.origin)
            assert parsed.size == cp.size
            assert parsed.root == cp.root == tree.root(cp.size)
    return len(entries)


@pytest.fixture
def fresh_postgres(postgres_url: str) -> Iterator[str]:
    base = make_url(postgres_url).set(database="postgres").render_as_string(hide_password=False)
    url, admin = _create_postgres_database(base)
    try:
        upgrade(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')
        admin.dispose()


@pytest.mark.postgres
@pytest.mark.slow
def test_eight_writers_and_two_sequencers_make_no_gaps_forks_or_duplicates(
    fresh_postgres: str,
) -> None:
    database = Database.from_url(fresh_postgres, pool_size=12)
    signer = Signer.generate("test.example/audit")
    identity = LogIdentity(origin=signer.name, signer=signer)
    writers_done = threading.Event()
    errors: list[BaseException] = []

    def writer(w: int) -> None:
        try:
            for i in range(60):
                with database.transaction() as session:
                    for j in range(4):
                        record_access(session, event(f"w{w}-{i}-{j}"))
        except BaseException as exc:
            errors.append(exc)

    def sequencer() -> None:
        try:
            while not writers_done.is_set():
                with database.transaction() as session:
                    sequence_pass(session, identity, batch=50)
        except BaseException as exc:
            errors.append(exc)

    writers = [threading.Thread(target=writer, args=(w,)) for w in range(8)]
    sequencers = [threading.Thread(target=sequencer) for _ in range(2)]
    for t in writers + sequencers:
        t.start()
    for t in writers:
        t.join()
    writers_done.set()
    for t in sequencers:
        t.join()
    assert not errors, errors
    sequence_all(database, identity)
    try:
        assert check_database(database, identity) == 8 * 60 * 4
    finally:
        database.dispose()


def _crash_and_recover(url: str, tmp_path: Path) -> None:
    signer = Signer.generate("crash.example/audit")
    identity = LogIdentity(origin=signer.name, signer=signer)
    for round_ in range(3):
        proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("crash_worker.py")), url],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "CRASH_SIGNING_KEY": signer.to_string(), "PYTHONPATH": str(REPO)},
            text=True,
        )
        try:
            assert proc.stdout is not None
            for _ in range(40 + 17 * round_):  # kill at a different moment each round
                if not proc.stdout.readline():
                    raise AssertionError("the worker stopped before it was killed")
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
        database = Database.from_url(url)
        try:
            check_database(database, identity)  # as left by the kill
            sequence_all(database, identity)  # restart: the rest is sequenced
            assert check_database(database, identity) >= 120
        finally:
            database.dispose()


@pytest.mark.slow
def test_killing_the_process_mid_append_or_sequence_leaves_a_verifiable_log(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'crash.sqlite3'}"
    upgrade(url)
    _crash_and_recover(url, tmp_path)


@pytest.mark.postgres
@pytest.mark.slow
def test_killing_the_process_leaves_a_verifiable_log_on_postgres(
    fresh_postgres: str, tmp_path: Path
) -> None:
    _crash_and_recover(fresh_postgres, tmp_path)
