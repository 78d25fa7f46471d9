"""Audit-log appends on PostgreSQL: a naive hash chain vs. batched appends + a sequencer.

Creates a fresh database (dropped afterwards) on the server of OZG_BENCH_DATABASE_URL
(default: OZG_TEST_DATABASE_URL, else postgresql+psycopg://postgres@127.0.0.1:5432/postgres).

Measures, in one run:
- baseline: a hash chain that locks a head row per append (4 and 8 writer processes);
- ours: 8 writer processes calling record_access (1, 10 and 50 entries per transaction) while
  a sequencer process runs as SequencerThread does (every OZG_COMPLIANCE_SEQUENCE_INTERVAL, the
  production default); entries/s, commit -> signed checkpoint latency (median, p95: from the
  writer's commit to the commit of the first pass whose checkpoint covers the entry), and
  how busy the sequencer was;
- ceiling: 8 processes committing one-row transactions with bare psycopg (no SQLAlchemy, no
  audit work): what this machine's PostgreSQL can commit at all, which bounds entries/s at
  one entry per transaction for any design that writes the entry in the access's own
  transaction;
- proof serving: inclusion proofs at OZG_BENCH_PROOF_LEAVES leaves (default 1,000,000;
  set 10000000 for the full size), median ms per proof from the database.

Env: OZG_BENCH_SECONDS (per phase, default 4). Figures are printed as ratios against the
baseline measured in the same run; the last line is ``RESULT key=value ...``.
"""

from __future__ import annotations

import bisect
import hashlib
import multiprocessing as mp
import os
import random
import secrets
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from commons.db import Database
from compliance import AccessEvent, Actor, merkle, record_access, service
from compliance.keys import LogIdentity
from compliance.models import Leaf
from compliance.note import Signer
from compliance.recorder import install_recorder
from compliance.runtime import ComplianceSettings
from compliance.sequencer import DEFAULT_BATCH, sequence_pass
from gateway.migrations import upgrade

BASE = os.environ.get("OZG_BENCH_DATABASE_URL") or os.environ.get(
    "OZG_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
SECONDS = float(os.environ.get("OZG_BENCH_SECONDS", "4"))
PROOF_LEAVES = int(os.environ.get("OZG_BENCH_PROOF_LEAVES", "1000000"))
# The production sequencer interval (OZG_COMPLIANCE_SEQUENCE_INTERVAL's default).
INTERVAL = float(ComplianceSettings.model_fields["sequence_interval"].default)
SAMPLE = 0.05  # share of writer transactions whose commit -> checkpoint latency is measured


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
def _wait(stop_at: float) -> None:
    """Start measuring together: every writer begins SECONDS before ``stop_at``."""
    time.sleep(max(0.0, stop_at - SECONDS - time.time()))


def _chain_writer(url: str, stop_at: float, counter: mp.Value) -> None:  # type: ignore[type-arg]
    engine = create_engine(url, pool_size=1)
    n = 0
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
        conn.rollback()
        _wait(stop_at)
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
    stop_at = time.time() + 1.0 + SECONDS  # 1 s to start the processes and connect
    procs = [
        mp.Process(target=target, args=(url, stop_at, counter, *extra)) for _ in range(writers)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    return counter.value / SECONDS


def _ceiling_writer(url: str, stop_at: float, counter: mp.Value) -> None:  # type: ignore[type-arg]
    import psycopg

    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    n = 0
    with psycopg.connect(conninfo) as conn:
        _wait(stop_at)
        while time.time() < stop_at:
            with conn.transaction():
                conn.execute("INSERT INTO bench_ceiling (v) VALUES (%s)", (n,))
            n += 1
    with counter.get_lock():
        counter.value += n


def ceiling(url: str, writers: int) -> float:
    """One-row transactions per second with bare psycopg: the machine's commit ceiling."""
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS bench_ceiling"))
        conn.execute(text("CREATE TABLE bench_ceiling (id bigserial PRIMARY KEY, v bigint)"))
    engine.dispose()
    return _run(_ceiling_writer, url, writers)


# --------------------------------------------------------------------------- ours
def _audit_writer(
    url: str,
    stop_at: float,
    counter: mp.Value,  # type: ignore[type-arg]
    per_tx: int,
    samples: mp.Queue,  # type: ignore[type-arg]
) -> None:
    database = Database.from_url(url, pool_size=1)
    install_recorder(database)  # as the compliance component does for app.state.database
    database.ping()  # connect before the clock starts
    n = 0
    rng = random.Random()
    got = []
    _wait(stop_at)
    while time.time() < stop_at:
        with database.transaction() as session:
            for _ in range(per_tx):
                entry_id = record_access(session, _event(n))  # the production path
                n += 1
        if rng.random() < SAMPLE:
            got.append((entry_id, time.time()))  # committed (the with block has returned)
    database.dispose()
    samples.put(got)
    with counter.get_lock():
        counter.value += n


def _sequencer(
    url: str,
    stop: mp.Event,  # type: ignore[type-arg]
    skey: str,
    passes: mp.Queue,  # type: ignore[type-arg]
) -> None:
    """What SequencerThread does (passes until nothing is pending, then wait for the rest of
    the interval), timing each pass."""
    signer = Signer.from_string(skey)
    identity = LogIdentity(origin=signer.name, signer=signer)
    database = Database.from_url(url, pool_size=1)
    done: list[tuple[int, float]] = []  # (tree size, time its checkpoint was committed)
    busy = 0.0
    while True:
        stopping = stop.is_set()
        started = time.time()
        while True:
            t = time.time()
            with database.transaction() as session:
                result = sequence_pass(session, identity, batch=DEFAULT_BATCH)
            done.append((result.size, time.time()))
            busy += done[-1][1] - t
            if result.sequenced < DEFAULT_BATCH:
                break
        if stopping:  # a last pass after the writers stopped: everything is sequenced
            break
        stop.wait(max(0.0, INTERVAL - (time.time() - started)))
    database.dispose()
    passes.put((done, busy))


def ours(url: str, writers: int, per_tx: int, skey: str) -> dict[str, float]:
    samples: mp.Queue = mp.Queue()  # type: ignore[type-arg]
    passes: mp.Queue = mp.Queue()  # type: ignore[type-arg]
    stop = mp.Event()
    seq = mp.Process(target=_sequencer, args=(url, stop, skey, passes))
    seq.start()
    t0 = time.time()
    rate = _run(_audit_writer, url, writers, per_tx, samples)
    stop.set()
    got = [s for _ in range(writers) for s in samples.get()]
    done, busy = passes.get()
    wall = time.time() - t0
    seq.join()
    database = Database.from_url(url)
    with database.transaction() as session:
        index = dict(
            session.execute(
                select(Leaf.entry_id, Leaf.leaf_index).where(
                    Leaf.entry_id.in_([e for e, _t in got])
                )
            ).all()
        )
    database.dispose()
    sizes = [size for size, _t in done]
    latencies = []
    for entry_id, committed in got:
        i = index[entry_id]  # every entry is sequenced: KeyError otherwise
        size, published = done[bisect.bisect_right(sizes, i)]  # first checkpoint covering it
        assert size > i
        latencies.append(max(0.0, published - committed))
    latencies.sort()
    return {
        "rate": rate,
        "median_ms": statistics.median(latencies) * 1000,
        "p95_ms": latencies[int(len(latencies) * 0.95)] * 1000,
        "samples": len(latencies),
        "seq_busy": busy / wall,
    }


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
        print(f"{SECONDS:g} s per phase, {os.cpu_count()} CPUs, sequencer interval {INTERVAL} s")
        b4 = baseline(url, 4)
        b8 = baseline(url, 8)
        print(f"baseline hash chain, head-row lock: 4 writers {b4:,.0f}/s, 8 writers {b8:,.0f}/s")
        c8 = ceiling(url, 8)
        print(f"ceiling, bare psycopg one-row transactions, 8 writers: {c8:,.0f} tx/s")
        result = [
            f"baseline4_per_s={b4:.0f}",
            f"baseline8_per_s={b8:.0f}",
            f"ceiling8_tx_per_s={c8:.0f}",
        ]
        for per_tx in (1, 10, 50):
            o = ours(url, 8, per_tx, skey)
            print(
                f"ours, 8 writers, {per_tx:>2} entries/tx: {o['rate']:,.0f} entries/s "
                f"({o['rate'] / b8:.1f}x baseline-8, {o['rate'] / b4:.1f}x baseline-4); "
                f"commit->signed checkpoint median {o['median_ms']:.0f} ms, "
                f"p95 {o['p95_ms']:.0f} ms ({o['samples']:.0f} samples); "
                f"sequencer busy {o['seq_busy']:.0%}; "
                f"{o['rate'] / per_tx / c8:.2f}x the ceiling's transactions/s"
            )
            result += [
                f"ours8_{per_tx}tx_per_s={o['rate']:.0f}",
                f"ratio_{per_tx}tx={o['rate'] / b8:.2f}",
                f"latency_median_ms_{per_tx}tx={o['median_ms']:.0f}",
                f"latency_p95_ms_{per_tx}tx={o['p95_ms']:.0f}",
                f"seq_busy_{per_tx}tx={o['seq_busy']:.2f}",
                f"tx_of_ceiling_{per_tx}tx={o['rate'] / per_tx / c8:.2f}",
            ]
        print(f"building a {PROOF_LEAVES:,}-leaf node table for proof serving ...")
        pm, p95 = proofs(url, PROOF_LEAVES, skey)
        print(
            f"inclusion proof at {PROOF_LEAVES:,} leaves: median {pm:.2f} ms, p95 {p95:.2f} ms "
            f"(target 2 ms: {2 / pm:.1f}x)"
        )
        result += [
            f"proof_leaves={PROOF_LEAVES}",
            f"proof_median_ms={pm:.3f}",
            f"proof_p95_ms={p95:.3f}",
        ]
        print("RESULT " + " ".join(result))
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


if __name__ == "__main__":
    main()
