"""A 256 MiB upload through the API against a bare streaming upload (issue 14, "Load and API
speed", target 4: a ratio of at least 0.7).

    .venv/bin/python benchmarks/bench_upload.py                    # 256 MiB, best of 3 rounds
    OZG_BENCH_SHORT=1 .venv/bin/python benchmarks/bench_upload.py  # 64 MiB, 1 round
    OZG_BENCH_UPLOAD_MIB=512 OZG_BENCH_ROUNDS=5 ...

What is compared, in one run, from this process with the same client transport (one
``httpx.Client``, HTTP/1.1 over loopback):

- *ozg-commons*: ``VaultClient.put`` of a file of random bytes, as ``vault put`` sends it
  (sealed to the applicant's own key while it is sent; above 64 MiB the chunked, resumable
  upload API: ``POST /uploads``, one ``PUT`` per piece, ``POST …/finish``) to ``ozg-commons
  serve`` (one worker, the filesystem store; PostgreSQL as in ``bench_api.py`` when
  ``OZG_BENCH_PG_URL`` or ``OZG_TEST_DATABASE_URL`` is set, else SQLite);
- *bare*: the same number of envelope bytes, sealed beforehand, streamed in one ``PUT
  /upload`` to ``bare_app.py``, which writes them to a file in the same temporary directory
  and fsyncs it.

The ratio is the bare upload's time over ours (a throughput ratio), best round of each,
rounds interleaved (``median_ratio``: of the medians, steadier on a shared machine;
``target_met`` asks both to reach 0.7). Also
printed: where our time went as the client saw it (the pieces, finishing, the rest), the
CPU time of the client and the server per upload (and the server CPU ratio, bare over
ours: steadier than wall time on a shared machine), and what sealing alone costs. Ends
with ``RESULT upload_ratio=… …``. Where the time goes: docs/performance.md.
"""

from __future__ import annotations

import os
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_api import bare_app, cpu_seconds, postgres_database  # noqa: E402
from served import server  # noqa: E402

SHORT = os.environ.get("OZG_BENCH_SHORT") == "1"
MIB = int(os.environ.get("OZG_BENCH_UPLOAD_MIB", "64" if SHORT else "256"))
ROUNDS = int(os.environ.get("OZG_BENCH_ROUNDS", "1" if SHORT else "3"))
PASSPHRASE = "upload benchmark passphrase"  # noqa: S105 (a benchmark's throwaway key)
BLOCK = 1024 * 1024


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Phases:
    """Wall time per kind of request, as the client saw it (httpx event hooks)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._started: dict[int, float] = {}

    def hooks(self) -> dict[str, list[Any]]:
        return {"request": [self._request], "response": [self._response]}

    def _request(self, request: Any) -> None:
        self._started[id(request)] = time.perf_counter()

    def _response(self, response: Any) -> None:
        request = response.request
        path = request.url.path
        kind = (
            "finish" if path.endswith("/finish")
            else "piece" if request.method == "PUT"
            else "single" if path.endswith("/documents")
            else "other"
        )  # fmt: skip
        took = time.perf_counter() - self._started.pop(id(request), time.perf_counter())
        self.seconds[kind] = self.seconds.get(kind, 0.0) + took


def ours(base: str, source: Path, client: Any, key: Any, pid: int) -> tuple[float, float, float]:
    """One upload through the API: (seconds, client CPU seconds, server CPU seconds)."""
    cpu, server_cpu = own_cpu(), cpu_seconds(pid)
    started = time.perf_counter()
    doc_id, _ = client.put(source, key, do_sanitize=False)
    took = time.perf_counter() - started
    spent, server_spent = own_cpu() - cpu, cpu_seconds(pid) - server_cpu
    client.rm(doc_id)
    return took, spent, server_spent


def bare(base: str, envelope: Path, http: Any, pid: int) -> tuple[float, float, float]:
    """The same envelope bytes in one streamed PUT to the bare app."""
    size = envelope.stat().st_size

    def blocks() -> Iterator[bytes]:
        with envelope.open("rb", buffering=0) as handle:
            while block := handle.read(BLOCK):
                yield block

    cpu, server_cpu = own_cpu(), cpu_seconds(pid)
    started = time.perf_counter()
    response = http.put(base + "/upload", content=blocks(),
                        headers={"Content-Length": str(size)})  # fmt: skip
    response.raise_for_status()
    took = time.perf_counter() - started
    assert response.json()["size"] == size
    return took, own_cpu() - cpu, cpu_seconds(pid) - server_cpu


def seal_only(source: Path, key: Any, out: Path) -> tuple[float, int]:
    """Sealing alone, to a file (the bare upload's envelope): (seconds, envelope bytes)."""
    from vault import envelope

    size = source.stat().st_size
    started = time.perf_counter()
    with source.open("rb", buffering=0) as fin, out.open("wb") as fout:
        reader = envelope.SealingReader(
            fin, [key.public_key()], filename=source.name, media_type="application/octet-stream",
            size=size, max_size=envelope.DEFAULT_MAX_SIZE,
        )  # fmt: skip
        for block in reader.blocks():
            fout.write(block)
    return time.perf_counter() - started, out.stat().st_size


def main() -> None:
    import httpx

    from gateway.client.demo import token
    from vault.client import keys
    from vault.client.sdk import VaultClient

    print(f"{MIB} MiB, {ROUNDS} rounds, load {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores",
          flush=True)  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="ozg-bench-upload-") as tmp:
        work = Path(tmp)
        source = work / "source.bin"
        with source.open("wb") as handle:
            for _ in range(MIB):
                handle.write(os.urandom(BLOCK))
        with bare_app(work) as (bare_base, bare_pid), postgres_database() as pg_url:
            env = {"OZG_DATABASE_URL": pg_url} if pg_url else {}
            data_dir = work / "srv"
            with server(data_dir, env=env) as (base, process):
                phases = Phases()
                http = httpx.Client(base_url=base, timeout=600, event_hooks=phases.hooks())
                client = VaultClient(base, token(http, "demo-applicant"), http=http)
                key = client.keygen(PASSPHRASE, keys.ARGON2_MINIMUM).private_key
                sealed = work / "sealed.bin"
                seal_s, envelope_bytes = seal_only(source, key, sealed)
                bare_http = httpx.Client(timeout=600)
                mine, theirs = [], []
                for _ in range(ROUNDS):
                    theirs.append(bare(bare_base, sealed, bare_http, bare_pid))
                    phases.seconds.clear()
                    mine.append((*ours(base, source, client, key, process.pid),
                                 dict(phases.seconds)))  # fmt: skip
                    for stale in (work / "bare-uploads").iterdir():
                        stale.unlink()
                bare_http.close()
                http.close()
    best = min(mine, key=lambda m: m[0])
    best_bare = min(theirs, key=lambda m: m[0])
    rate = envelope_bytes / 2**20
    ratio = best_bare[0] / best[0]
    median_ratio = statistics.median(t[0] for t in theirs) / statistics.median(m[0] for m in mine)
    for n, ((t, c, s, p), (bt, bc, bs)) in enumerate(zip(mine, theirs, strict=True)):
        where = ", ".join(f"{k} {v:.2f} s" for k, v in sorted(p.items()))
        print(f"round {n + 1}: ozg-commons {t:6.2f} s ({rate / t:6.1f} MiB/s; client cpu "
              f"{c:5.2f} s, server cpu {s:5.2f} s; {where})", flush=True)  # fmt: skip
        print(f"         bare        {bt:6.2f} s ({rate / bt:6.1f} MiB/s; client cpu {bc:5.2f} s,"
              f" server cpu {bs:5.2f} s)", flush=True)  # fmt: skip
    print(f"sealing alone: {seal_s:.2f} s ({rate / seal_s:.1f} MiB/s)", flush=True)
    print(
        f"RESULT upload_ratio={ratio:.3f} median_ratio={median_ratio:.3f} "
        f"ozg_mib_s={rate / best[0]:.1f} "
        f"bare_mib_s={rate / best_bare[0]:.1f} client_cpu_s={best[1]:.2f} "
        f"server_cpu_s={best[2]:.2f} bare_server_cpu_s={best_bare[2]:.2f} "
        f"server_cpu_ratio={best_bare[2] / best[2]:.3f} "
        f"seal_mib_s={rate / seal_s:.1f} mib={MIB} rounds={ROUNDS} "
        f"database={'pg' if pg_url else 'sqlite'} target_met={min(ratio, median_ratio) >= 0.7}"
    )


if __name__ == "__main__":
    main()
