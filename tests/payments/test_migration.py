"""Migration p0002 hashes the idempotency keys stored before keys were hashed."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from sqlalchemy import MetaData, Table, create_engine, select

from commons.settings import Settings
from gateway.migrations import alembic_config
from payments.idempotency import key_digest
from payments.runtime import PaymentsRuntime


def test_p0002_replaces_stored_keys_by_their_keyed_hash(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    command.upgrade(alembic_config(url), "p0001")
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            table = Table("payments_idempotency_key", MetaData(), autoload_with=conn)
            conn.execute(
                table.insert(),
                [
                    {
                        "id": f"00000000-0000-0000-0000-00000000000{i}",
                        "scope": "payment.create:flow",
                        "key": f"Max-Mustermann-{i}",
                        "params_hash": "0" * 64,
                        "result_id": "r",
                        "created_at": datetime(2026, 12, 1, tzinfo=UTC),
                    }
                    for i in range(3)
                ],
            )
        command.upgrade(alembic_config(url), "p0002")
        with engine.begin() as conn:
            table = Table("payments_idempotency_key", MetaData(), autoload_with=conn)
            assert "key" not in table.c
            stored = set(conn.scalars(select(table.c.key_hash)))
    finally:
        engine.dispose()
    runtime = PaymentsRuntime(settings=Settings())  # the environment's key, as migrate reads
    assert stored == {key_digest(runtime, f"Max-Mustermann-{i}") for i in range(3)}
    assert b"Max-Mustermann" not in (tmp_path / "old.sqlite3").read_bytes()
