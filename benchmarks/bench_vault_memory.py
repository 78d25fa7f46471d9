"""Peak memory of a large put and get, client and server, against a real server process.

    .venv/bin/python benchmarks/bench_vault_memory.py            # 1 GiB
    OZG_BENCH_MIB=256 .venv/bin/python benchmarks/bench_vault_memory.py

The server is ``tests/vault/serve_for_test.py`` (uvicorn, SQLite, filesystem store); its
peak RSS is its VmHWM. The client runs in a subprocess and reports its own peak RSS
(``resource.getrusage``). Baseline: the peak RSS of an idle client process that imported
the same modules. Target: every peak under 150 MiB.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
LIMIT_MIB = 150

CLIENT = r"""
import json, os, resource, sys, time
from pathlib import Path
from cryptography.hazmat.primitives.asymmetric import ec
from vault.client import VaultClient
url, src, dst, mode = sys.argv[1:5]
key = ec.generate_private_key(ec.SECP256R1())
result = {"idle": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
if mode == "run":
    client = VaultClient(url, "benchmark-token")
    t = time.perf_counter()
    doc_id, _ = client.put(Path(src), key, do_sanitize=False, max_size=2**40)
    result["put_s"] = time.perf_counter() - t
    result["after_put"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t = time.perf_counter()
    client.get(doc_id, Path(dst), key)
    result["get_s"] = time.perf_counter() - t
result["peak"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(result))
"""


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _hwm_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    size = int(os.environ.get("OZG_BENCH_MIB", "1024")) * 1024 * 1024
    env = {k: v for k, v in os.environ.items() if not k.startswith("OZG_")}
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "doc.bin", Path(tmp) / "back.bin"
        with src.open("wb") as handle:
            block = os.urandom(1024 * 1024)
            for _ in range(size // len(block)):
                handle.write(block)
        port = _port()
        server = subprocess.Popen(
            [sys.executable, "-m", "tests.vault.serve_for_test", str(port), f"{tmp}/var"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            for _ in range(300):
                try:
                    httpx.get(url + "/healthz", timeout=0.5)
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            server_idle = _rss_mib(server.pid)
            idle = json.loads(
                subprocess.run(
                    [sys.executable, "-c", CLIENT, url, str(src), str(dst), "idle"],
                    cwd=ROOT,
                    env=env,
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout
            )
            run = json.loads(
                subprocess.run(
                    [sys.executable, "-c", CLIENT, url, str(src), str(dst), "run"],
                    cwd=ROOT,
                    env=env,
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout
            )
            server_peak = _hwm_mib(server.pid)
        finally:
            server.kill()
            server.wait()
        same = src.stat().st_size == dst.stat().st_size
    mib = size / 2**20
    print(f"document                 {mib:.0f} MiB, round trip identical size: {same}")
    print(f"client idle (imports)    {idle['peak']:7.1f} MiB")
    print(
        f"client peak put+get      {run['peak']:7.1f} MiB  "
        f"(put {run['put_s']:.1f} s, get {run['get_s']:.1f} s)"
    )
    print(f"server idle              {server_idle:7.1f} MiB")
    print(f"server peak              {server_peak:7.1f} MiB")
    ok = max(run["peak"], server_peak) < LIMIT_MIB
    print(
        f"RESULT size_mib={mib:.0f} client_peak_mib={run['peak']:.0f} "
        f"server_peak_mib={server_peak:.0f} client_peak_over_idle={run['peak'] / idle['peak']:.2f} "
        f"server_peak_over_idle={server_peak / server_idle:.2f} under_{LIMIT_MIB}_mib={ok}"
    )


if __name__ == "__main__":
    main()
