"""Migration c0002 moves existing leaf indexes out of the wide entry table and queues the
entries that were still pending, with leaf hashes the sequencer can use as they are."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import MetaData, Table, create_engine, func, select
from sqlalchemy.engine import make_url

from commons.db import Database
from compliance import leaf as leaf_format
from compliance import merkle, note, service
from compliance.keys import LogIdentity
from compliance.models import AccessEntry, AccessPersonal, Leaf, Pending
from compliance.note import Signer
from compliance.sequencer import sequence_all
from gateway.migrations import alembic_config
from tests.compliance.test_concurrency import check_database
from tests.conftest import _create_postgres_database

SEQUENCED, PENDING = 5, 4


def _old_log(url: str, identity: LogIdentity) -> list[str]:
    """A log as revision c0001 stored it: 5 sequenced entries (with nodes, head and a
    checkpoint) and 4 pending ones. Returns the entry ids in the order c0001 sequences."""
    command.upgrade(alembic_config(url), "c0001")
    engine = create_engine(url)
    t0 = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    try:
        with engine.begin() as conn:
            meta = MetaData()
            entry = Table("compliance_access_entry", meta, autoload_with=conn)
            personal = Table("compliance_access_personal", meta, autoload_with=conn)
            node = Table("compliance_log_node", meta, autoload_with=conn)
            head = Table("compliance_log_head", meta, autoload_with=conn)
            checkpoint = Table("compliance_checkpoint", meta, autoload_with=conn)
            rows: list[dict[str, Any]] = []
            for i in range(SEQUENCED + PENDING):
                salt = os.urandom(32)
                rows.append(
                    {
                        "id": f"00000000-0000-7000-8000-{i:012d}",
                        "at": t0 + timedelta(seconds=i, microseconds=123457 * i % 10**6),
                        "request_id": None if i % 2 else f"req-{i}",
                        "actor_role": "caseworker",
                        "actor_authority": "tf",
                        "actor_client_id": None,
                        "action": "vault.document.read",
                        "purpose": f"purpose {i}",
                        "legal_basis": "§ 86 AufenthG",
                        "outcome": "success",
                        "disclosed_after": t0 + timedelta(days=30) if i == 7 else None,
                        "commitment": leaf_format.commitment(salt, f"s{i}", "officer", "doc"),
                        "leaf_index": i if i < SEQUENCED else None,
                    }
                )
                conn.execute(entry.insert(), rows[-1])
                conn.execute(
                    personal.insert(),
                    {
                        "entry_id": rows[-1]["id"],
                        "salt": salt,
                        "data_subject": f"s{i}",
                        "actor_subject": "officer",
                        "resource": "doc",
                    },
                )
            leaves = [
                leaf_format.LeafData(
                    entry_id=r["id"],
                    **{k: r[k] for k in leaf_format.FIELD_NAMES[1:]},
                ).encode()
                for r in rows[:SEQUENCED]
            ]
            tree = merkle.MemoryTree(leaves)
            nodes = merkle.extend(0, [merkle.leaf_hash(raw) for raw in leaves], {})
            conn.execute(
                node.insert(),
                [{"level": lv, "idx": ix, "hash": h} for (lv, ix), h in nodes.items()],
            )
            root = tree.root()
            conn.execute(head.update().values(size=SEQUENCED, root=root))
            text = note.Checkpoint(identity.origin, SEQUENCED, root).text()
            conn.execute(
                checkpoint.insert(),
                {
                    "size": SEQUENCED,
                    "root": root,
                    "note": identity.signer.sign(text),
                    "created_at": t0,
                },
            )
    finally:
        engine.dispose()
    return [str(r["id"]) for r in rows]


def _migrate_and_check(url: str) -> None:
    signer = Signer.generate("migrate.example/audit")
    identity = LogIdentity(origin=signer.name, signer=signer)
    ids = _old_log(url, identity)
    command.upgrade(alembic_config(url), "heads")
    database = Database.from_url(url)
    try:
        with database.transaction() as session:
            leaves = session.execute(
                select(Leaf.leaf_index, Leaf.entry_id).order_by(Leaf.leaf_index)
            )
            assert [tuple(r) for r in leaves] == list(enumerate(ids[:SEQUENCED]))
            queued = session.execute(
                select(Pending.entry_id, Pending.leaf_hash).order_by(Pending.seq)
            )
            entries = {e.id: e for e in session.scalars(select(AccessEntry))}
            assert [
                (i, merkle.leaf_hash(service.leaf_data(entries[i]).encode()))
                for i in ids[SEQUENCED:]
            ] == [tuple(r) for r in queued]
            assert [entries[i].leaf_index for i in ids] == [*range(SEQUENCED), *[None] * PENDING]
            personal = session.scalars(select(AccessPersonal).order_by(AccessPersonal.entry_id))
            assert [(p.entry_id, p.data_subject) for p in personal] == [
                (i, f"s{n}") for n, i in enumerate(ids)
            ]
        assert sequence_all(database, identity) == PENDING
        assert check_database(database, identity) == SEQUENCED + PENDING
    finally:
        database.dispose()
    # And back: the indexes return to the entry rows.
    command.downgrade(alembic_config(url), "c0001")
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            entry = Table("compliance_access_entry", MetaData(), autoload_with=conn)
            got = dict(conn.execute(select(entry.c.id, entry.c.leaf_index)).all())
            assert got == {i: n for n, i in enumerate(ids)}
            assert conn.execute(select(func.count()).select_from(entry)).scalar() == len(ids)
    finally:
        engine.dispose()


def test_c0002_moves_leaf_indexes_and_queues_pending_entries_on_sqlite(tmp_path: Path) -> None:
    _migrate_and_check(f"sqlite:///{tmp_path / 'old.sqlite3'}")


@pytest.fixture
def empty_postgres(postgres_url: str) -> Iterator[str]:
    base = make_url(postgres_url).set(database="postgres").render_as_string(hide_password=False)
    url, admin = _create_postgres_database(base)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')
        admin.dispose()


@pytest.mark.postgres
def test_c0002_moves_leaf_indexes_and_queues_pending_entries_on_postgres(
    empty_postgres: str,
) -> None:
    _migrate_and_check(empty_postgres)
