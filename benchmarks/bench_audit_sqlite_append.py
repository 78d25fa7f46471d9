"""Audit entries on SQLite: one statement per batch (the view's trigger) vs. three.

Measures, in one run, on a fresh migrated SQLite file in a temporary directory (removed
afterwards), the CPU time of writing prepared entries in batches of 1 and 10 (a batch is
what one transaction writes; ``OZG_BENCH_ENTRIES`` entries per measurement, in one
transaction that is rolled back):
- baseline: the entry, its personal part and its queue row as three executemany statements,
  straight into the tables (how ``service.write_entries`` wrote them before migration c0003);
- ours: ``service.write_entries``, one executemany into ``compliance_access_append``.

Both write through the same SQLAlchemy engine setup, in interleaved rounds; the best round
of each counts (``OZG_BENCH_ROUNDS``, default 7). Printed: statements per batch and the CPU
time per entry (this process: user + system), with the ratio baseline / ours (above 1: ours
is cheaper). The last line is ``RESULT key=value ...``.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import Connection, Table, event, insert

from commons.db import make_engine
from compliance import AccessEvent, Actor, service
from compliance.models import AccessEntry, AccessPersonal, Pending
from gateway.migrations import upgrade

ENTRIES = int(os.environ.get("OZG_BENCH_ENTRIES", "3000"))
ROUNDS = int(os.environ.get("OZG_BENCH_ROUNDS", "7"))
BATCHES = (1, 10)


def _entries(count: int) -> list[service.NewEntry]:
    at = datetime.now(UTC)
    return [
        service.new_entry(
            AccessEvent(
                actor=Actor(subject=f"officer-{i}", role="caseworker", authority="tf"),
                data_subject=f"subject-{i}",
                action="vault.document.read",
                resource=f"document:{i}",
                purpose="deciding the application",
                legal_basis="§ 86 AufenthG",
            ),
            at=at,
            request_id=f"req-{i}",
        )
        for i in range(count)
    ]


def three_statements(connection: Connection, entries: Sequence[service.NewEntry]) -> None:
    """The baseline: the writer before migration c0003."""
    connection.execute(
        insert(cast(Table, AccessEntry.__table__)),
        [dict(zip(service.ENTRY_COLUMNS, e.entry, strict=True)) for e in entries],
    )
    personal = ("entry_id", "salt", "data_subject", "actor_subject", "resource")
    connection.execute(
        insert(cast(Table, AccessPersonal.__table__)),
        [dict(zip(personal, e.personal, strict=True)) for e in entries],
    )
    connection.execute(
        insert(cast(Table, Pending.__table__)),
        [{"entry_id": e.id, "leaf_hash": e.leaf_hash} for e in entries],
    )


Writer = Callable[[Connection, Sequence[service.NewEntry]], None]


def measure(url: str, writer: Writer, batch: int) -> tuple[float, float]:
    """(CPU µs per entry, statements per batch) of ``ENTRIES`` entries written ``batch`` at a
    time in one transaction, rolled back afterwards (the commit costs both writers the same
    and only adds the machine's noise)."""
    engine = make_engine(url, pool_size=1)
    statements = 0

    def count(*_a: Any) -> None:
        nonlocal statements
        statements += 1

    event.listen(engine, "before_cursor_execute", count)
    pool = _entries(ENTRIES)  # prepared up front: only the writes are measured
    with engine.connect() as connection:
        transaction = connection.begin()
        cpu0 = time.process_time()
        for start in range(0, ENTRIES, batch):
            writer(connection, pool[start : start + batch])
        cpu = time.process_time() - cpu0
        transaction.rollback()
    engine.dispose()
    return cpu / ENTRIES * 1e6, statements / (ENTRIES / batch)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-audit-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'ozg.sqlite3'}"
        upgrade(url)
        best: dict[tuple[str, int], tuple[float, float]] = {}
        writers: dict[str, Writer] = {"three": three_statements, "ours": service.write_entries}
        for _ in range(ROUNDS):
            for batch in BATCHES:
                for name, writer in writers.items():
                    got = measure(url, writer, batch)
                    key = (name, batch)
                    if key not in best or got[0] < best[key][0]:
                        best[key] = got
        result: list[str] = []
        for batch in BATCHES:
            (b_cpu, b_st), (o_cpu, o_st) = best["three", batch], best["ours", batch]
            print(
                f"{batch:>2} per batch: statements {b_st:.0f} -> {o_st:.0f}; "
                f"CPU µs/entry {b_cpu:.0f} -> {o_cpu:.0f} (ratio {b_cpu / o_cpu:.2f})"
            )
            result += [
                f"statements_{batch}={o_st:.0f}",
                f"baseline_statements_{batch}={b_st:.0f}",
                f"cpu_ratio_{batch}={b_cpu / o_cpu:.2f}",
            ]
        print("RESULT " + " ".join(result))


if __name__ == "__main__":
    main()
