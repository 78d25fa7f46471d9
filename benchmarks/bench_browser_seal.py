"""Sealing in the browser against the Python client, over the same file (issue: the portal).

    .venv/bin/python benchmarks/bench_browser_seal.py          # 200 MiB
    OZG_BENCH_MIB=32 .venv/bin/python benchmarks/bench_browser_seal.py

The Python client seals the file with ``vault.envelope.SealingReader`` (what ``vault put``
streams) into a sink that discards; Chromium (Debian's, through Playwright, the page of
``tests/gateway/portal/browserpage.py`` behind the portal's CSP) seals the same file, picked
in an ``<input type=file>``, with ``envelope.js``'s ``sealStream`` into a ``WritableStream``
that discards. The JS heap (``performance.memory.usedJSHeapSize`` with precise memory info,
sampled every 20 ms and every 64 chunks in the page) is recorded throughout; no Argon2 runs.
Targets: seal_ratio (browser / Python throughput) >= 0.3, heap_peak_mib < 64. Best of 3.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.gateway.portal.browserpage import chromium_available, open_page
from vault import envelope
from vault.recipients import public_jwk

MIB = int(os.environ.get("OZG_BENCH_MIB", "200"))
RUNS = 3


def python_seal(path: Path, key: ec.EllipticCurvePrivateKey) -> float:
    start = time.perf_counter()
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
    return time.perf_counter() - start


def main() -> int:
    reason = chromium_available()
    if reason:
        print(f"cannot run: {reason}")
        return 2
    key = ec.generate_private_key(ec.SECP256R1())
    with tempfile.TemporaryDirectory(prefix="ozg-bench-") as tmp:
        path = Path(tmp) / "scan.png"
        with path.open("wb") as f:
            for _ in range(MIB):
                f.write(os.urandom(1024 * 1024))
        size = path.stat().st_size
        py = min(python_seal(path, key) for _ in range(RUNS))
        with open_page() as page:
            page.set_input_files("#file", str(path))
            runs = []
            for _ in range(RUNS):
                runs.append(
                    page.evaluate("(j) => ozgTest.benchSeal(j)", public_jwk(key.public_key()))
                )
            for r in runs:
                assert r["total"] == r["expected"], r
            js = min(r["seconds"] for r in runs)
            heap = max(r["heapPeak"] for r in runs) / 2**20
    py_mbs, js_mbs = size / py / 1e6, size / js / 1e6
    ratio = js_mbs / py_mbs
    print(
        f"file {MIB} MiB; Python client seal {py_mbs:,.0f} MB/s; Chromium seal {js_mbs:,.0f} MB/s"
    )
    print(f"seal ratio (browser / Python) {ratio:.2f} (target >= 0.30)")
    print(f"JS heap peak during the seals {heap:.1f} MiB (target < 64)")
    print(f"RESULT seal_ratio={ratio:.2f} heap_peak_mib={heap:.1f}")
    return 0 if ratio >= 0.3 and heap < 64 else 1


if __name__ == "__main__":
    raise SystemExit(main())
