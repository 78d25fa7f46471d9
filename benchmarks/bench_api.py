"""API speed against a bare FastAPI app, in one run (issue 14, "Load and API speed").

    .venv/bin/python benchmarks/bench_api.py                   # full run
    OZG_BENCH_SHORT=1 .venv/bin/python benchmarks/bench_api.py # a quick look (< 1 min reads)

What runs, each in its own process:

- the real server, ``ozg-commons serve`` with one worker (``benchmarks/served.py``), once on
  SQLite and once on PostgreSQL (a fresh database made for the run and dropped afterwards, on
  the server of ``OZG_BENCH_PG_URL``, default ``OZG_TEST_DATABASE_URL``; no URL: SQLite only);
- the bare app (``benchmarks/bare_app.py``): ``GET /bare`` returns a fixed JSON body from a
  plain ``def`` handler, served by uvicorn with ``serve``'s options;
- the load generator: ``wrk`` if it is on the PATH, else this script's own asyncio HTTP/1.1
  keep-alive client (``--load``), started as a second process.

Reads: ``GET /v1/me`` (token, erasure check, account, logins, attributes, audit entry) and
``GET /v1/vault/documents`` (token, the documents, their shares; each applicant owns
``OZG_BENCH_API_DOCUMENTS``, default 3), authenticated, at
``OZG_BENCH_API_CONNECTIONS`` (default 8) connections for ``OZG_BENCH_API_SECONDS`` each
(default 10, short 3), the best of ``OZG_BENCH_ROUNDS`` interleaved rounds (default 2,
short 1):

- *many*: ``OZG_BENCH_API_USERS`` (default 64) applicants, each request the next one's token;
- *one*: every request as the same applicant (concurrent requests of one user).

The bare app is measured before each database's reads, with the same generator, connections
and duration; the ratios (req/s of ozg-commons / req/s of bare, and p99 of ozg-commons / p99 of
bare) are the figures that count, with the CPU ratio (the bare app's CPU time per request
over the server's, read from /proc; what the req/s ratio would be on an idle machine with
the server bound by its CPU): the machine may be shared, and a ratio within one run is
fair where absolute numbers are not.

The mixed scenario (log in, list, upload 5 MB, download, access log at 50 applicants on 2
workers) is ``bench_mixed.py``, the 256 MiB upload against the bare ``PUT /upload``
``bench_upload.py``; both use this file's bare app and database helpers. Ends with one line
``RESULT read_ratio_pg=… read_ratio_sqlite=… p99_ratio_pg=… p99_ratio_sqlite=… …``;
``read_ratio_*`` is the worst of the four reads, ``p99_ratio_*`` the worst p99 ratio.
Targets: read ratio ≥ 0.25, p99 ratio < 10. Where the time goes: docs/performance.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

SHORT = os.environ.get("OZG_BENCH_SHORT") == "1"
SECONDS = float(os.environ.get("OZG_BENCH_API_SECONDS", "3" if SHORT else "10"))
CONNECTIONS = int(os.environ.get("OZG_BENCH_API_CONNECTIONS", "8"))
USERS = int(os.environ.get("OZG_BENCH_API_USERS", "16" if SHORT else "64"))
ROUNDS = int(os.environ.get("OZG_BENCH_ROUNDS", "1" if SHORT else "2"))
READS = ("/v1/me", "/v1/vault/documents")


@dataclass(frozen=True)
class Load:
    """What one load run measured."""

    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int  # non-2xx answers, socket errors and timeouts
    cpu_ms: float = 0.0  # the server process's CPU time per request (user + system)

    def line(self) -> str:
        return (
            f"{self.rps:8.0f} req/s  p50 {self.p50_ms:7.2f} ms  p99 {self.p99_ms:7.2f} ms  "
            f"cpu {self.cpu_ms:6.2f} ms/req  errors {self.errors}/{self.requests}"
        )


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` and its threads (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------- the load generator


def free_port(offset: int) -> int:
    """``OZG_BENCH_PORT`` + ``offset`` if that is set, else a free port."""
    if os.environ.get("OZG_BENCH_PORT"):
        return int(os.environ["OZG_BENCH_PORT"]) + offset
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


_WRK_SCRIPT = """
local tokens = {}
local file = os.getenv("OZG_BENCH_TOKENS")
if file and file ~= "" then
  for line in io.lines(file) do tokens[#tokens + 1] = line end
end
local i = math.random(0, 1000)
request = function()
  i = i + 1
  if #tokens == 0 then return wrk.format("GET", nil) end
  return wrk.format("GET", nil, {["Authorization"] = "Bearer " .. tokens[(i % #tokens) + 1]})
end
"""


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value.strip()).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def run_load(
    url: str, tokens: list[str], work: Path, seconds: float = SECONDS, pid: int | None = None
) -> Load:
    """Drive ``url`` (GET) at CONNECTIONS connections for ``seconds`` from a second process,
    each request with the next of ``tokens`` as its bearer token; with ``pid``, also the
    server process's CPU time per request."""
    before = cpu_seconds(pid) if pid else 0.0
    load = _drive(url, tokens, work, seconds)
    if pid and load.requests:
        spent = cpu_seconds(pid) - before
        load = dataclasses.replace(load, cpu_ms=spent * 1000 / load.requests)
    return load


def _drive(url: str, tokens: list[str], work: Path, seconds: float) -> Load:
    token_file = work / "tokens.txt"
    token_file.write_text("".join(t + "\n" for t in tokens))
    env = {**os.environ, "OZG_BENCH_TOKENS": str(token_file)}
    if shutil.which("wrk"):
        script = work / "tokens.lua"
        script.write_text(_WRK_SCRIPT)
        threads = min(2, CONNECTIONS)
        out = subprocess.run(
            ["wrk", f"-t{threads}", f"-c{CONNECTIONS}", f"-d{seconds:g}s", "--latency",
             "--timeout", "10s", "-s", str(script), url],
            env=env, capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
        latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", out, re.M))
        total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
        bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                         out)  # fmt: skip
        errors = (int(bad.group(1)) if bad else 0) + (
            sum(int(g) for g in sock.groups()) if sock else 0
        )
        return Load(rps, _ms(latency["50"]), _ms(latency["99"]), total, errors)
    out = subprocess.run(
        [sys.executable, __file__, "--load", url, str(seconds), str(CONNECTIONS)],
        env=env, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return Load(**json.loads(out.strip().splitlines()[-1]))


async def _generate(url: str, seconds: float, connections: int) -> Load:
    """A small keep-alive HTTP/1.1 GET client: ``connections`` loops for ``seconds``."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    host, number, path = parts.hostname or "127.0.0.1", parts.port or 80, parts.path or "/"
    file = os.environ.get("OZG_BENCH_TOKENS")
    tokens = Path(file).read_text().split() if file else []
    latencies: list[float] = []
    errors = 0
    stop = time.perf_counter() + seconds
    counter = iter(range(10**12))

    async def one_connection() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection(host, number)
        while time.perf_counter() < stop:
            token = tokens[next(counter) % len(tokens)] if tokens else ""
            auth = f"Authorization: Bearer {token}\r\n" if token else ""
            request = f"GET {path} HTTP/1.1\r\nHost: {host}:{number}\r\n{auth}\r\n"
            started = time.perf_counter()
            writer.write(request.encode())
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))  # type: ignore[union-attr]
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            errors += not 200 <= status < 300
        writer.close()

    begun = time.perf_counter()
    await asyncio.gather(*(one_connection() for _ in range(connections)))
    elapsed = time.perf_counter() - begun
    latencies.sort()

    def pct(q: float) -> float:
        if not latencies:
            return 0.0
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000

    return Load(len(latencies) / elapsed, pct(0.50), pct(0.99), len(latencies), errors)


# ---------------------------------------------------------------- servers and users


@contextlib.contextmanager
def bare_app(work: Path, workers: int = 1) -> Iterator[tuple[str, int]]:
    """The bare app in its own process (``workers`` worker processes); yields its base URL
    and process id."""
    import httpx

    number = free_port(1)
    base = f"http://127.0.0.1:{number}"
    uploads = work / "bare-uploads"
    uploads.mkdir(exist_ok=True)
    process = subprocess.Popen(
        [sys.executable, str(HERE / "bare_app.py"), str(number), str(workers)],
        env={**os.environ, "OZG_BARE_UPLOAD_DIR": str(uploads)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(base + "/bare", timeout=5)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise SystemExit("the bare app did not start") from None
                time.sleep(0.2)
        yield base, process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)


@contextlib.contextmanager
def postgres_database() -> Iterator[str | None]:
    """A fresh PostgreSQL database for one run (dropped afterwards), or None without a URL."""
    admin = os.environ.get("OZG_BENCH_PG_URL") or os.environ.get("OZG_TEST_DATABASE_URL")
    if not admin:
        yield None
        return
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    name = f"ozg_bench_api_{os.getpid()}"
    engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(admin).set(database=name).render_as_string(hide_password=False)
    finally:
        with engine.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        engine.dispose()


DOCUMENTS = int(os.environ.get("OZG_BENCH_API_DOCUMENTS", "3"))


def applicant_tokens(base: str, data_dir: Path, count: int, prefix: str = "bench") -> list[str]:
    """Access tokens of ``count`` applicants, signed with the development IdP's key (an
    applicant of the real identity provider looks the same to the API), valid one hour.
    Each applicant's first request (which makes the account) is made here, untimed, and
    each uploads ``OZG_BENCH_API_DOCUMENTS`` (default 3) small sealed documents, so that
    the listing has something to list."""
    import io

    import httpx
    from cryptography.hazmat.primitives.asymmetric import ec

    from account.devidp import DEMO_CLIENTS, DemoUser, UnsafeDevIdentityProvider
    from gateway.client.demo import token
    from vault import envelope

    vault_key = ec.generate_private_key(ec.SECP256R1())

    def sealed(size: int) -> bytes:
        out = io.BytesIO()
        envelope.seal(os.urandom(size), out, [vault_key.public_key()], filename="doc.pdf",
                      media_type="application/pdf")  # fmt: skip
        return out.getvalue()

    with httpx.Client(base_url=base, timeout=60) as http:
        token(http, "demo-applicant")  # the server has made (or read) the IdP's key
        idp = UnsafeDevIdentityProvider(base, data_dir / "dev-idp")
        tokens = [
            idp.access_token(
                DemoUser(f"{prefix}-{n}", ("applicant",), "STORK-QAA-Level-1"),
                DEMO_CLIENTS["ozg-cli"],
                lifetime=3600,
            )
            for n in range(count)
        ]
        for access in tokens:
            auth = {"Authorization": f"Bearer {access}"}
            for path in READS:
                http.get(path, headers=auth).raise_for_status()
            for _ in range(DOCUMENTS):
                upload = {**auth, "Content-Type": "application/octet-stream"}
                posted = http.post("/v1/vault/documents", content=sealed(2000), headers=upload)
                posted.raise_for_status()
    return tokens


# ---------------------------------------------------------------- the reads


def reads(
    name: str, env: dict[str, str], work: Path, bare: tuple[str, int]
) -> dict[str, tuple[Load, Load]]:
    """Each read, with many users and with one, against the bare app measured just before."""
    from served import server

    results: dict[str, tuple[Load, Load]] = {}
    data_dir = work / f"srv-{name}"
    with server(data_dir, env=env) as (base, process):
        tokens = applicant_tokens(base, data_dir, USERS)
        run_load(base + READS[0], tokens, work, seconds=min(SECONDS, 2))  # warm up
        for path in READS:
            for who, chosen in (("many", tokens), ("one", tokens[:1])):
                # Interleaved rounds, the best of each: a burst of load from elsewhere on
                # the machine hits both alike, and the best run is the least disturbed.
                bares, ours = [], []
                for _ in range(ROUNDS):
                    bares.append(run_load(bare[0] + "/bare", chosen, work, pid=bare[1]))
                    ours.append(run_load(base + path, chosen, work, pid=process.pid))
                baseline = max(bares, key=lambda load: load.rps)
                measured = max(ours, key=lambda load: load.rps)
                results[f"{path} {who}"] = (measured, baseline)
                print(f"{name:10} {path:22} {who:4}  {measured.line()}", flush=True)
                print(f"{'bare':10} {'':22} {'':4}  {baseline.line()}", flush=True)
    return results


def summary(name: str, results: dict[str, tuple[Load, Load]]) -> tuple[float, float, float, int]:
    """Print the ratios; return (worst req/s ratio, worst p99 ratio, worst CPU ratio, errors).

    The CPU ratio (bare's CPU time per request / ours) is what the req/s ratio would be on
    an otherwise idle machine with the server bound by its CPU: steadier where other jobs
    share the cores."""
    worst_rate, worst_p99, worst_cpu, errors = float("inf"), 0.0, float("inf"), 0
    for key, (measured, baseline) in results.items():
        rate = measured.rps / baseline.rps
        p99 = measured.p99_ms / max(baseline.p99_ms, 0.001)
        cpu = baseline.cpu_ms / measured.cpu_ms if measured.cpu_ms else float("nan")
        worst_rate, worst_p99 = min(worst_rate, rate), max(worst_p99, p99)
        worst_cpu = min(worst_cpu, cpu)
        errors += measured.errors
        print(f"{name:10} {key:27}  ratio {rate:5.3f}  p99 ratio {p99:6.2f}  cpu ratio {cpu:5.3f}")
    return worst_rate, worst_p99, worst_cpu, errors


def main() -> None:
    generator = "wrk" if shutil.which("wrk") else "asyncio client"
    print(
        f"{CONNECTIONS} connections, {SECONDS:g} s per run, {USERS} users, load generator "
        f"{generator}, load {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores",
        flush=True,
    )
    fields: dict[str, str] = {}
    errors = 0
    with tempfile.TemporaryDirectory(prefix="ozg-bench-api-") as tmp:
        work = Path(tmp)
        with bare_app(work) as bare, postgres_database() as pg_url:
            databases: list[tuple[str, dict[str, str]]] = [("sqlite", {})]
            if pg_url:
                databases.insert(0, ("pg", {"OZG_DATABASE_URL": pg_url}))
            for name, env in databases:
                rate, p99, cpu, errs = summary(name, reads(name, env, work, bare))
                fields[f"read_ratio_{name}"] = f"{rate:.3f}"
                fields[f"p99_ratio_{name}"] = f"{p99:.2f}"
                fields[f"cpu_ratio_{name}"] = f"{cpu:.3f}"
                errors += errs
            fields.setdefault("read_ratio_pg", "n/a")
            fields.setdefault("p99_ratio_pg", "n/a")
    rates = [float(v) for k, v in fields.items() if k.startswith("read_ratio") and v != "n/a"]
    p99s = [float(v) for k, v in fields.items() if k.startswith("p99_ratio") and v != "n/a"]
    met = min(rates) >= 0.25 and max(p99s) < 10 and errors == 0
    order = ["read_ratio_pg", "read_ratio_sqlite", "p99_ratio_pg", "p99_ratio_sqlite"]
    keys = order + [k for k in fields if k not in order]
    print(
        "RESULT "
        + " ".join(f"{k}={fields[k]}" for k in keys)
        + f" read_errors={errors} connections={CONNECTIONS} reads_target_met={met}"
    )


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--load":
        load = asyncio.run(_generate(sys.argv[2], float(sys.argv[3]), int(sys.argv[4])))
        print(json.dumps(load.__dict__))
    else:
        main()
