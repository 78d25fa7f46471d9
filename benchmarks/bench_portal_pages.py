"""A portal page's server response time against ``GET /healthz``, over real HTTP.

Starts the portal server (``tests/gateway/portal/serve_portal.py``) on a free loopback port,
loads ``/`` (the start page: template, catalogue, fee calculation) and ``/healthz`` 100 times
each, interleaved, over one keep-alive connection, and prints the medians and
``RESULT page_ratio=<start page / healthz>`` (target: at most 3).
"""

from __future__ import annotations

import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
LOADS = 100


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> None:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as data_dir:
        server = subprocess.Popen(
            [sys.executable, "-m", "tests.gateway.portal.serve_portal", str(port), data_dir],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            with httpx.Client(base_url=base, timeout=10) as client:
                deadline = time.monotonic() + 60
                while True:
                    try:
                        if client.get("/healthz").status_code == 200:
                            break
                    except httpx.HTTPError:
                        if time.monotonic() > deadline or server.poll() is not None:
                            raise
                        time.sleep(0.2)
                timings: dict[str, list[float]] = {"/": [], "/healthz": []}
                for path in timings:  # warm up
                    for _ in range(10):
                        client.get(path).raise_for_status()
                for _ in range(LOADS):
                    for path, samples in timings.items():
                        started = time.perf_counter()
                        client.get(path).raise_for_status()
                        samples.append(time.perf_counter() - started)
        finally:
            server.terminate()
            server.wait(timeout=10)
    page = statistics.median(timings["/"]) * 1000
    health = statistics.median(timings["/healthz"]) * 1000
    print(f"start page median {page:.2f} ms, /healthz median {health:.2f} ms ({LOADS} loads)")
    ratio = page / health
    print(f"RESULT page_ratio={ratio:.2f} (target <= 3)")


if __name__ == "__main__":
    main()
