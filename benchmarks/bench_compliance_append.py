"""Audit-log appends on PostgreSQL: a naive hash chain vs. unlocked appends + a sequencer.

Creates a fresh database (dropped afterwards) on the server of OZG_BENCH_DATABASE_URL
(default: OZG_TEST_DATABASE_URL, else postgresql+psycopg://postgres@127.0.0.1:5432/postgres).

Measures, in one run:
- baseline: a hash chain that locks a head row per append (4 and 8 writer processes);
- ours: 8 writer processes calling record_access (1 and 10 entries per transaction) while a
  sequencer process publishes signed checkpoints; entries/s, and commit -> signed checkpoint
  latency (median, p95);
- proof serving: inclusion proofs at OZG_BENCH_PROOF_LEAVES leaves (default 1,000,000;
  set 10000000 for the full size), median ms per proof from the database.

Env: OZG_BENCH_SECONDS (per phase, default 4).
"""

from __future__ import annotations

import hashlib
import multiprocessing as mp
import os
import random
import secrets
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from commons.db import Database
from compliance import AccessEvent, Actor, merkle, service
from compliance.keys import LogIdentity
from compliance.models import AccessEntry, Checkpoint
from compliance.note import Signer
from compliance.sequencer import sequence_pass
from gateway.migrations import upgrade

BASE = os.environ.get("OZG_BENCH_DATABASE_URL") or os.environ.get(
    "OZG_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
SECONDS = float(os.environ.get("OZG_BENCH_SECONDS", "4"))
PROOF_LEAVES = int(os.environ.get("OZG_BENCH_PROOF_LEAVES", "1000000"))


def _event(n: int) -> AccessEvent:
    return AccessEvent(
        actor=Actor(subject=f"officer-{n % 50}", role="caseworker", authority="tf"),
        data_subject=f"subject-{n}",
        action="vault.document.read",
        resource=f"document:{n}",
        purpose="deciding the application",
        legal_basis="§ 86 AufenthG",
    )


# --------------------------------------------------------------------------- baseline
def _chain_writer(url: str, stop_at: float, counter: mp.Value) -> None:  # type: ignore[type-arg]
    engine = create_engine(url, pool_size=1)
    n = 0
    with engine.connect() as conn:
        while time.time() < stop_at:
            with conn.begin():
                seq, prev = conn.execute(
                    text("SELECT seq, hash FROM bench_chain_head WHERE id = 1 FOR UPDATE")
                ).one()
                payload = secrets.token_bytes(200)
                h = hashlib.sha256(prev + payload).digest()
                conn.execute(
                    text(
                        "INSERT INTO bench_chain (seq, prev, hash, payload) VALUES (:s, :p, :h, :d)"
                    ),
                    {"s": seq + 1, "p": prev, "h": h, "d": payload},
                )
                conn.execute(
                    text("UPDATE bench_chain_head SET seq = :s, hash = :h WHERE id = 1"),
                    {"s": seq + 1, "h": h},
                )
            n += 1
    engine.dispose()
    with counter.get_lock():
        counter.value += n


def baseline(url: str, writers: int) -> float:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS bench_chain, bench_chain_head"))
        conn.execute(
            text(
                "CREATE TABLE bench_chain "
                "(seq bigint PRIMARY KEY, prev bytea, hash bytea, payload bytea)"
            )
        )
        conn.execute(
            text("CREATE TABLE bench_chain_head (id int PRIMARY KEY, seq bigint, hash bytea)")
        )
        conn.execute(text("INSERT INTO bench_chain_head VALUES (1, 0, ''::bytea)"))
    engine.dispose()
    return _run(_chain_writer, url, writers)


def _run(target, url: str, writers: int, *extra) -> float:  # type: ignore[no-untyped-def]
    counter = mp.Value("q", 0)
    start = time.time() + 0.5
    stop_at = start + SECONDS
    procs = [
        mp.Process(target=target, args=(url, stop_at, counter, *extra)) for _ in range(writers)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    return counter.value / SECONDS


# --------------------------------------------------------------------------- ours
def _audit_writer(
    url: str, stop_at: float, counter: mp.Value, per_tx: int, samples: mp.Queue
) -> None:  # type: ignore[type-arg]
    database = Database.from_url(url, pool_size=1)
    n = 0
    rng = random.Random()
    while time.time() < stop_at:
        with database.transaction() as session:
            for _ in range(per_tx):
                # what record_access does, keeping the id to measure the latency
                entry_id = service.append_entry(
                    session, _event(n), at=datetime.now(UTC), request_id=None
                )
                n += 1
            sample = rng.random() < 0.02
        if sample:
            samples.put((entry_id, datetime.now(UTC).timestamp()))
    database.dispose()
    with counter.get_lock():
        counter.value += n


def _sequencer(url: str, stop: mp.Event, skey: str) -> None:  # type: ignore[type-arg]
    signer = Signer.from_string(skey)
    identity = LogIdentity(origin=signer.name, signer=signer)
    database = Database.from_url(url, pool_size=1)
    while not stop.is_set():
        with database.transaction() as session:
            result = sequence_pass(session, identity, batch=20_000)
        if result.sequenced == 0:
            time.sleep(0.05)
    while True:  # drain
        with database.transaction() as session:
            if sequence_pass(session, identity, batch=20_000).sequenced == 0:
                break
    database.dispose()


def ours(url: str, writers: int, per_tx: int, skey: str) -> tuple[float, list[float]]:
    samples: mp.Queue = mp.Queue()  # type: ignore[type-arg]
    stop = mp.Event()
    seq = mp.Process(target=_sequencer, args=(url, stop, skey))
    seq.start()
    rate = _run(_audit_writer, url, writers, per_tx, samples)
    stop.set()
    seq.join()
    got = []
    while not samples.empty():
        got.append(samples.get())
    database = Database.from_url(url)
    latencies = []
    with database.transaction() as session:
        for entry_id, committed in got:
            entry = session.get(AccessEntry, entry_id)
            assert entry is not None
            assert entry.leaf_index is not None
            cp = session.scalars(
                select(Checkpoint)
                .where(Checkpoint.size > entry.leaf_index)
                .order_by(Checkpoint.size)
                .limit(1)
            ).first()
            assert cp is not None
            latencies.append(max(0.0, cp.created_at.timestamp() - committed))
    database.dispose()
    return rate, latencies


# --------------------------------------------------------------------------- proofs
def proofs(url: str, leaves: int, skey: str) -> tuple[float, float]:
    """Fill the node table for a tree of ``leaves`` random leaves, then time proofs."""
    engine = create_engine(url)
    tree_nodes_written = 0
    chunk = 1 << 16
    edge: dict[merkle.Node, bytes] = {}
    size = 0
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("TRUNCATE compliance_log_node, compliance_cosignature, compliance_checkpoint")
        while size < leaves:
            n = min(chunk, leaves - size)
            hashes = [hashlib.sha256(i.to_bytes(8, "big")).digest() for i in range(size, size + n)]
            nodes = merkle.extend(size, hashes, edge)
            with cur.copy("COPY compliance_log_node (level, idx, hash) FROM STDIN") as copy:  # type: ignore[attr-defined]
                for (lvl, idx), h in nodes.items():
                    copy.write_row((lvl, idx, h))
            tree_nodes_written += len(nodes)
            size += n
            edge = {p: (nodes.get(p) or edge[p]) for p in merkle.peaks(size)}
        root = merkle.fold([edge[p] for p in merkle.peaks(size)])
        signer = Signer.from_string(skey)
        cur.execute(
            "INSERT INTO compliance_checkpoint (size, root, note, created_at) "
            "VALUES (%s, %s, %s, now())",
            (size, root, signer.sign(f"{signer.name}\n{size}\nx\n")),
        )
        raw.commit()
        cur.execute("ANALYZE compliance_log_node")
        raw.commit()
    finally:
        raw.close()
    engine.dispose()
    database = Database.from_url(url)
    times = []
    rng = random.Random(7)
    with database.transaction() as session:
        for _ in range(50):  # warm up
            service.inclusion_proof(session, rng.randrange(leaves), leaves)
        for _ in range(1000):
            i = rng.randrange(leaves)
            t = time.perf_counter()
            proof = service.inclusion_proof(session, i, leaves)
            times.append(time.perf_counter() - t)
            h = hashlib.sha256(i.to_bytes(8, "big")).digest()
            merkle.verify_inclusion(i, leaves, h, proof, root)
    database.dispose()
    times.sort()
    return statistics.median(times) * 1000, times[int(len(times) * 0.95)] * 1000


def main() -> None:
    base = make_url(BASE)
    name = f"ozg_bench_{os.getpid()}_{secrets.token_hex(3)}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = base.set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        skey = Signer.generate("bench.example/audit").to_string()
        b4 = baseline(url, 4)
        b8 = baseline(url, 8)
        print(f"baseline hash chain, head-row lock: 4 writers {b4:,.0f}/s, 8 writers {b8:,.0f}/s")
        o1, lat1 = ours(url, 8, 1, skey)
        o10, lat10 = ours(url, 8, 10, skey)
        med1 = statistics.median(lat1) if lat1 else float("nan")
        med10 = statistics.median(lat10) if lat10 else float("nan")
        print(
            f"ours, 8 writers, 1 entry/tx:   {o1:,.0f} entries/s ({o1 / b8:.1f}x baseline-8, "
            f"{o1 / b4:.1f}x baseline-4); commit->signed checkpoint median {med1 * 1000:.0f} ms"
        )
        print(
            f"ours, 8 writers, 10 entries/tx: {o10:,.0f} entries/s ({o10 / b8:.1f}x baseline-8); "
            f"commit->signed checkpoint median {med10 * 1000:.0f} ms"
        )
        print(f"building a {PROOF_LEAVES:,}-leaf node table for proof serving ...")
        pm, p95 = proofs(url, PROOF_LEAVES, skey)
        print(
            f"inclusion proof at {PROOF_LEAVES:,} leaves: median {pm:.2f} ms, p95 {p95:.2f} ms "
            f"(target 2 ms: {2 / pm:.1f}x)"
        )
        print(
            f"RESULT baseline4_per_s={b4:.0f} baseline8_per_s={b8:.0f} ours8_1tx_per_s={o1:.0f} "
            f"ours8_10tx_per_s={o10:.0f} ratio_1tx={o1 / b8:.2f} ratio_10tx={o10 / b8:.2f} "
            f"latency_median_ms_1tx={med1 * 1000:.0f} latency_median_ms_10tx={med10 * 1000:.0f} "
            f"proof_leaves={PROOF_LEAVES} proof_median_ms={pm:.3f}"
        )
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


if __name__ == "__main__":
    main()
