"""Sealing in the browser against the Python client, over the same file (issue: the portal).

    .venv/bin/python benchmarks/bench_browser_seal.py          # 200 MiB
    OZG_BENCH_MIB=32 .venv/bin/python benchmarks/bench_browser_seal.py

The Python client seals the file with ``vault.envelope.SealingReader`` (what ``vault put``
streams) into a sink that discards; Chromium (Debian's, through Playwright, the page of
``tests/gateway/portal/browserpage.py`` behind the portal's CSP) seals the same file, picked
in an ``<input type=file>``, with ``envelope.js``'s ``sealStream`` into a ``WritableStream``
that discards (and frees each piece, as the upload does): in 4 MiB slices, by Web Workers
(one per core, at least one) and on the page's own thread. ``seal_ratio`` is the mode that
``defaultWorkers()`` picks on this machine (the page's thread on two cores). No Argon2 runs.

The JS heap is the page's **and its workers'**: every 20 ms the DevTools protocol's
``Runtime.getHeapUsage`` (used heap plus ArrayBuffer backing stores) of the page and of each
worker attached to it, summed; the page also samples ``performance.memory.usedJSHeapSize``
itself. Wall time is noisy on a shared machine, so the CPU time of the Chromium processes
(all of them: the browser process reads the file) is set against the Python process's.

The stages show the ceiling: reading the file alone, and AES-GCM alone (WebCrypto over bytes
in memory, 64 KiB chunks) on one thread and in the workers, each as a ratio to the Python
client's seal. Targets: seal_ratio (browser / Python throughput) >= 0.3, heap_peak_mib < 64.
Best of 3, the seals taken in turn with the Python client's (heap: runs of their own, with
the DevTools sessions attached).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.gateway.portal.browserpage import HeapSampler, chromium_available, open_page
from vault import envelope
from vault.recipients import public_jwk

MIB = int(os.environ.get("OZG_BENCH_MIB", "200"))
RUNS = 3
TICK = os.sysconf("SC_CLK_TCK")


def python_seal(path: Path, key: ec.EllipticCurvePrivateKey) -> tuple[float, float]:
    start, cpu = time.perf_counter(), time.process_time()
    with path.open("rb", buffering=0) as fin:
        reader = envelope.SealingReader(
            fin,
            [key.public_key()],
            filename=path.name,
            media_type="image/png",
            size=path.stat().st_size,
        )
        buf = bytearray(1024 * 1024 + envelope.TRAILER_LEN)
        while reader.readinto(buf):
            pass
    return time.perf_counter() - start, time.process_time() - cpu


def _descendants_cpu() -> float:
    """CPU seconds of every process below this one (Playwright's driver and Chromium)."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
        times[int(entry.name)] = (int(fields[11]) + int(fields[12])) / TICK
    mine = {os.getpid()}
    changed = True
    while changed:
        changed = False
        for pid, parent in parents.items():
            if parent in mine and pid not in mine:
                mine.add(pid)
                changed = True
    return sum(times[p] for p in mine if p != os.getpid())


def run_in_page(page: Any, sampler: HeapSampler | None, call: str, arg: Any) -> dict[str, Any]:
    """Run `call` (a function of ozgTest) in the page, sampling the heap while it runs."""
    page.evaluate(
        f"(a) => {{ window.benchDone = null; {call}(...a).then((r) => (window.benchDone = r)); }}",
        arg,
    )
    while True:
        if sampler is not None:
            sampler.sample()
        done = page.evaluate("() => window.benchDone")
        if done is not None:
            return dict(done)
        time.sleep(0.02)


def best(runs: list[tuple[float, float]]) -> tuple[float, float]:
    return min(r[0] for r in runs), min(r[1] for r in runs)


def main() -> int:
    reason = chromium_available()
    if reason:
        print(f"cannot run: {reason}")
        return 2
    key = ec.generate_private_key(ec.SECP256R1())
    jwk = public_jwk(key.public_key())
    with tempfile.TemporaryDirectory(prefix="ozg-bench-") as tmp:
        path = Path(tmp) / "scan.png"
        with path.open("wb") as f:
            for _ in range(MIB):
                f.write(os.urandom(1024 * 1024))
        size = path.stat().st_size
        py_runs = []
        with open_page() as page:
            page.set_input_files("#file", str(path))
            workers = min(4, max(1, int(page.evaluate("() => navigator.hardwareConcurrency"))))
            default = int(
                page.evaluate(
                    "() => import('../static/js/envelope.js').then((e) => e.defaultWorkers())"
                )
            )

            def once(call: str, arg: list[Any]) -> tuple[float, float]:
                cpu = _descendants_cpu()
                r = run_in_page(page, None, call, arg)
                if "expected" in r:
                    assert r["total"] == r["expected"], r
                return r["seconds"], _descendants_cpu() - cpu

            def measure(call: str, arg: list[Any]) -> tuple[float, float]:
                return best([once(call, arg) for _ in range(RUNS)])

            # the seals in turn with the Python client's, so that a busy spell of the
            # machine falls on both sides alike
            seals_w, seals_1 = [], []
            for _ in range(RUNS):
                py_runs.append(python_seal(path, key))
                seals_w.append(once("ozgTest.benchSeal", [jwk, 65536, workers]))
                seals_1.append(once("ozgTest.benchSeal", [jwk, 65536, 0]))
            py_wall, py_cpu = best(py_runs)
            seal_w, seal_1 = best(seals_w), best(seals_1)
            read = measure("ozgTest.benchRead", [2])
            crypto_1 = measure("ozgTest.benchCrypto", [0])
            crypto_w = measure("ozgTest.benchCrypto", [workers])
            # the heap, in runs of their own: the DevTools sessions attached to the workers
            # are not part of what the throughput runs measured
            heaps: dict[int, tuple[float, float, float]] = {}
            for mode in (workers, 0):
                sampler = HeapSampler(page)
                sampler.cdp.send("HeapProfiler.collectGarbage")
                idle = sampler.sample()
                done = run_in_page(page, sampler, "ozgTest.benchSeal", [jwk, 65536, mode])
                heaps[mode] = (sampler.peak / 2**20, idle / 2**20, done["heapPeak"] / 2**20)
                sampler.cdp.detach()

    def line(name: str, t: tuple[float, float]) -> tuple[float, float]:
        wall, cpu = py_wall / t[0], py_cpu / t[1] if t[1] else float("nan")
        print(
            f"  {name:<44} {size / t[0] / 1e6:7,.0f} MB/s  ratio {wall:.2f}  "
            f"CPU {size / t[1] / 1e6 if t[1] else 0:7,.0f} MB/cpu-s  CPU ratio {cpu:.2f}"
        )
        return wall, cpu

    print(f"file {MIB} MiB, {os.cpu_count()} cores; ratios are browser / Python, best of {RUNS}")
    print(
        f"  {'Python client seal (SealingReader)':<44} {size / py_wall / 1e6:7,.0f} MB/s"
        f"{'':15}CPU {size / py_cpu / 1e6:7,.0f} MB/cpu-s"
    )
    workers_ratio = line(f"Chromium seal, {workers} workers", seal_w)
    page_ratio = line("Chromium seal, on the page's thread", seal_1)
    ratio, cpu_ratio = workers_ratio if default else page_ratio
    read_ratio, _ = line("  stage: read the File (2 x 4 MiB in flight)", read)
    crypto_ratio, _ = line("  stage: AES-GCM alone, one thread", crypto_1)
    crypto_w_ratio, _ = line(f"  stage: AES-GCM alone, {workers} workers", crypto_w)
    if ratio > 2 * cpu_ratio:
        print(
            f"note: the wall-clock ratio is {ratio / cpu_ratio:.1f}x the CPU-time ratio: the "
            "machine is busy, and the CPU-time ratio is the steadier figure"
        )
    print(
        f"seal ratio {ratio:.2f} ({f'{default} workers' if default else 'the page thread'}, "
        f"the default here; target >= 0.30); AES-GCM alone reaches "
        f"{max(crypto_ratio, crypto_w_ratio):.2f}, reading the File alone {read_ratio:.2f}"
    )
    for mode, name in ((workers, f"{workers} workers"), (0, "the page's thread")):
        peak_mib, idle_mib, own_mib = heaps[mode]
        print(
            f"JS heap peak sealing in {name}: page and workers (CDP) {peak_mib:.1f} MiB "
            f"(idle page {idle_mib:.1f}); page alone (performance.memory) {own_mib:.1f} MiB "
            "(target < 64)"
        )
    heap = max(h[0] for h in heaps.values())
    print(
        f"RESULT seal_ratio={ratio:.2f} seal_cpu_ratio={cpu_ratio:.2f} "
        f"seal_workers_ratio={workers_ratio[0]:.2f} seal_page_ratio={page_ratio[0]:.2f} "
        f"read_ratio={read_ratio:.2f} webcrypto_ratio={crypto_ratio:.2f} "
        f"webcrypto_workers_ratio={crypto_w_ratio:.2f} heap_peak_mib={heap:.1f}"
    )
    return 0 if ratio >= 0.3 and heap < 64 else 1


if __name__ == "__main__":
    raise SystemExit(main())
