"""The mixed scenario (issue 14, "Load and API speed"): many applicants at once on 2 workers.

    .venv/bin/python benchmarks/bench_mixed.py                    # 50 applicants, 5 minutes
    OZG_BENCH_SHORT=1 .venv/bin/python benchmarks/bench_mixed.py  # 20 s, a quick look
    OZG_BENCH_PG_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres ...  # PostgreSQL

What runs, each in its own process:

- the real server, ``ozg-commons serve`` with ``OZG_BENCH_MIXED_WORKERS`` (default 2) workers
  (``served.py``) on a fresh PostgreSQL database (made for the run and dropped afterwards, on
  the server of ``OZG_BENCH_PG_URL``, default ``OZG_TEST_DATABASE_URL``; without a URL, the
  embedded SQLite) and the filesystem store;
- the baseline, ``bare_app.py`` with as many workers: fixed JSON for every JSON step, and the
  upload streamed to a file and fsynced, streamed back, deleted, under the vault's paths;
- the load: ``OZG_BENCH_MIXED_PROCESSES`` (default 2) generator processes, together
  ``OZG_BENCH_MIXED_APPLICANTS`` (default 50) applicants, one thread and one HTTP connection
  each, each with a vault key of its own (made before the clock starts).

Each applicant loops, for ``OZG_BENCH_MIXED_SECONDS`` (default 300, short 20):

1. *login*: a fresh access token from the development IdP's key (its token endpoint knows
   two demo applicants only, so the load signs the tokens of its 50 as that endpoint does),
   and the first request with it, ``GET /v1/me``;
2. *list*: ``GET /v1/vault/documents`` (``VaultClient.ls``);
3. *upload*: ``OZG_BENCH_MIXED_MB`` (default 5) MB sealed on the client to the applicant's key
   while it is sent, the real envelope, in one ``POST`` as ``vault put`` sends a document of
   that size (``VaultClient.put``, without the sanitizer: the bytes are random);
4. *download*: the envelope streamed and opened on the client (``VaultClient.get``);
5. *access-log*: ``GET /v1/me/access-log``;
6. *delete*: once it holds more than three, its oldest document (``VaultClient.rm``), so
   that disk use stays bounded and the list is never empty.

The bare app is driven by the same code (``VaultClient`` with the bare app's base URL) for
``OZG_BENCH_MIXED_BARE_SECONDS`` (default: the same as the server, at most 60 s).

After the load stops, the audit sequencer's queue (``ozg_audit_pending_entries`` on
``/metrics``) is read until it is empty: ``queue_drained_s`` is how long that took, to be
within one sequencer interval (``OZG_COMPLIANCE_SEQUENCE_INTERVAL``, 0.2 s by default).

Prints p50/p99 per step and overall, for the server and the bare app, with their ratios, and
ends with ``RESULT mixed_p50_ms=… mixed_p99_ms=… error_rate=… queue_drained_s=… …``.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from served import ROOT, server  # noqa: E402

SHORT = os.environ.get("OZG_BENCH_SHORT") == "1"
SECONDS = float(os.environ.get("OZG_BENCH_MIXED_SECONDS", "20" if SHORT else "300"))
BARE_SECONDS = float(os.environ.get("OZG_BENCH_MIXED_BARE_SECONDS", str(min(SECONDS, 60))))
APPLICANTS = int(os.environ.get("OZG_BENCH_MIXED_APPLICANTS", "50"))
WORKERS = int(os.environ.get("OZG_BENCH_MIXED_WORKERS", "2"))
PROCESSES = int(os.environ.get("OZG_BENCH_MIXED_PROCESSES", "2"))
UPLOAD_MB = float(os.environ.get("OZG_BENCH_MIXED_MB", "5"))
STEPS = ("login", "list", "upload", "download", "access-log", "delete")
KEEP_DOCUMENTS = 3
PASSPHRASE = "mixed scenario passphrase"  # noqa: S105 (a benchmark's throwaway key)


# ---------------------------------------------------------------- one applicant's loop


@dataclass
class Tally:
    """What the applicants of one generator process measured."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: {s: [] for s in STEPS})
    errors: dict[str, int] = field(default_factory=lambda: {s: 0 for s in STEPS})
    messages: list[str] = field(default_factory=list)
    loops: int = 0

    def add(self, other: Tally) -> None:
        for step in STEPS:
            self.latencies[step] += other.latencies[step]
            self.errors[step] += other.errors[step]
        self.messages += other.messages[: max(0, 10 - len(self.messages))]
        self.loops += other.loops

    def as_json(self) -> dict[str, Any]:
        return {"latencies": self.latencies, "errors": self.errors,
                "messages": self.messages, "loops": self.loops}  # fmt: skip

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Tally:
        return cls(data["latencies"], data["errors"], data["messages"], data["loops"])

    @property
    def requests(self) -> int:
        return sum(len(v) for v in self.latencies.values()) + sum(self.errors.values())

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


class Applicant:
    """One applicant of the load: a token source, a ``VaultClient``, a vault key."""

    def __init__(self, base: str, name: str, mint: Callable[[str], str], bare: bool) -> None:
        import httpx

        from vault.client.sdk import VaultClient

        self.name, self.mint, self.bare = name, mint, bare
        self.http = httpx.Client(base_url=base, timeout=120)
        self.vault = VaultClient(base, mint(name), http=self.http)
        if bare:
            from cryptography.hazmat.primitives.asymmetric import ec

            self.vault.api = "/vault"
            self.key: Any = ec.generate_private_key(ec.SECP256R1())
        else:
            from vault.client import keys

            self.vault.api = "/v1/vault"
            self.key = self.vault.keygen(PASSPHRASE, keys.ARGON2_MINIMUM).private_key
        self.documents: list[str] = []

    def login(self) -> None:
        self.http.headers["Authorization"] = f"Bearer {self.mint(self.name)}"
        self.http.get("/bare" if self.bare else "/v1/me").raise_for_status()

    def list(self) -> None:
        if self.bare:
            self.http.get("/bare").raise_for_status()
        else:
            self.vault.ls()

    def upload(self, source: Path) -> None:
        doc_id, _ = self.vault.put(source, self.key, do_sanitize=False)
        self.documents.append(doc_id)

    def download(self, out: Path) -> None:
        self.vault.get(self.documents[-1], out, self.key, overwrite=True)
        out.unlink()

    def access_log(self) -> None:
        self.http.get("/bare" if self.bare else "/v1/me/access-log").raise_for_status()

    def delete(self) -> None:
        self.vault.rm(self.documents.pop(0))


def run_applicant(
    applicant: Applicant, source: Path, work: Path, stop_at: float, tally: Tally
) -> None:
    """Loop the steps until ``stop_at``; an error is counted and the loop goes on."""
    out = work / f"{applicant.name}.out"
    steps: list[tuple[str, Callable[[], None]]] = [
        ("login", applicant.login),
        ("list", applicant.list),
        ("upload", lambda: applicant.upload(source)),
        ("download", lambda: applicant.download(out)),
        ("access-log", applicant.access_log),
        ("delete", applicant.delete),
    ]
    while time.monotonic() < stop_at:
        for step, run in steps:
            if step == "delete" and len(applicant.documents) <= KEEP_DOCUMENTS:
                continue
            started = time.perf_counter()
            try:
                run()
            except Exception as exc:
                tally.errors[step] += 1
                if len(tally.messages) < 10:
                    tally.messages.append(f"{step}: {type(exc).__name__}: {exc}"[:300])
                time.sleep(0.2)
                break  # the rest of this loop depends on this step
            tally.latencies[step].append((time.perf_counter() - started) * 1000)
        else:
            tally.loops += 1


def generate(config: dict[str, Any]) -> Tally:
    """One generator process: its applicants (each with a vault key), each in a thread, for
    ``seconds`` from the go on stdin, when every process is ready."""
    from account.devidp import DEMO_CLIENTS, DemoUser, UnsafeDevIdentityProvider

    base, bare = config["base"], config["bare"]
    work = Path(config["work"])
    idp = UnsafeDevIdentityProvider(base, Path(config["idp_dir"]))
    client = DEMO_CLIENTS["ozg-cli"]

    def mint(name: str) -> str:
        user = DemoUser(name, ("applicant",), "STORK-QAA-Level-1")
        return idp.access_token(user, client, lifetime=600)

    applicants = [Applicant(base, name, mint, bare) for name in config["names"]]
    source = Path(config["source"])
    print("ready", flush=True)  # then wait for every process to be ready
    sys.stdin.readline()
    stop_at = time.monotonic() + config["seconds"]
    tallies = [Tally() for _ in applicants]
    threads = [
        threading.Thread(target=run_applicant, args=(a, source, work, stop_at, t))
        for a, t in zip(applicants, tallies, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    total = Tally()
    for tally in tallies:
        total.add(tally)
    for applicant in applicants:
        applicant.http.close()
    return total


def drive(
    base: str, idp_dir: Path, work: Path, *, applicants: int, seconds: float, bare: bool,
    processes: int = PROCESSES, prefix: str = "mixed",
) -> Tally:  # fmt: skip
    """Run the scenario against ``base`` from ``processes`` generator processes."""
    source = work / "upload.bin"
    if not source.exists():
        source.write_bytes(os.urandom(int(UPLOAD_MB * 1_000_000)))
    names = [f"{prefix}-{n}" for n in range(applicants)]
    count = max(1, min(processes, applicants))
    running = []
    for number in range(count):
        config = {"base": base, "bare": bare, "work": str(work), "idp_dir": str(idp_dir),
                  "names": names[number::count], "source": str(source),
                  "seconds": seconds}  # fmt: skip
        command = [sys.executable, __file__, "--generate", json.dumps(config)]
        pipe = subprocess.PIPE
        running.append(subprocess.Popen(command, cwd=ROOT, stdin=pipe, stdout=pipe, text=True))
    try:
        for process in running:  # the vault keys (Argon2) are made before the clock starts
            assert process.stdout is not None
            if process.stdout.readline().strip() != "ready":
                raise SystemExit("a load generator failed while it prepared its applicants")
        for process in running:
            assert process.stdin is not None
            process.stdin.write("go\n")
            process.stdin.flush()
        total = Tally()
        for process in running:
            out, _ = process.communicate(timeout=seconds + 600)
            if process.returncode != 0:
                raise SystemExit(f"a load generator failed (exit status {process.returncode})")
            total.add(Tally.from_json(json.loads(out.strip().splitlines()[-1])))
    finally:
        for process in running:
            if process.poll() is None:
                process.kill()
                process.wait()
    return total


# ---------------------------------------------------------------- the audit queue


def pending(base: str) -> float:
    """The sequencer's queue as ``/metrics`` shows it (``ozg_audit_pending_entries``)."""
    import httpx

    text = httpx.get(base + "/metrics", timeout=30).text
    for line in text.splitlines():
        if line.startswith("ozg_audit_pending_entries "):
            return float(line.split()[1])
    raise SystemExit("the server's /metrics has no ozg_audit_pending_entries")


def drained_after(base: str, limit: float = 60.0) -> tuple[float, float]:
    """(the queue when called, seconds until it was empty: 0 if it was empty at once, else
    until the answer that showed it empty, an upper bound); polled as fast as it answers."""
    started = time.monotonic()
    first = count = pending(base)
    if not first:
        return first, 0.0
    while count > 0:
        if time.monotonic() - started > limit:
            return first, float("inf")
        count = pending(base)
    return first, time.monotonic() - started


@contextmanager
def watch_queue(base: str, every: float = 1.0) -> Iterator[list[float]]:
    """Samples of the queue while the load runs (one per ``every`` seconds)."""
    samples: list[float] = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.wait(every):
            with contextlib.suppress(Exception):  # a sample lost under load is no finding
                samples.append(pending(base))

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    try:
        yield samples
    finally:
        stop.set()
        thread.join()


# ---------------------------------------------------------------- figures


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def overall(tally: Tally) -> list[float]:
    return [v for step in STEPS for v in tally.latencies[step]]


def report(name: str, tally: Tally, seconds: float) -> None:
    print(f"{name}: {tally.loops} loops, {tally.requests} steps in {seconds:g} s, "
          f"{tally.error_count} errors", flush=True)  # fmt: skip
    for step in (*STEPS, "overall"):
        values = overall(tally) if step == "overall" else tally.latencies[step]
        errors = tally.error_count if step == "overall" else tally.errors[step]
        print(f"  {step:10}  n {len(values):6}  p50 {pct(values, 0.5):8.1f} ms  "
              f"p99 {pct(values, 0.99):8.1f} ms  errors {errors}", flush=True)  # fmt: skip
    for message in tally.messages:
        print(f"  error: {message}", flush=True)


def main() -> None:
    from bench_api import bare_app, postgres_database

    print(f"{APPLICANTS} applicants, {WORKERS} workers, {SECONDS:g} s (bare {BARE_SECONDS:g} s), "
          f"{UPLOAD_MB:g} MB uploads, {PROCESSES} generator processes, "
          f"load {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores", flush=True)  # fmt: skip
    interval = float(os.environ.get("OZG_COMPLIANCE_SEQUENCE_INTERVAL", "0.2"))
    with tempfile.TemporaryDirectory(prefix="ozg-bench-mixed-") as tmp:
        work = Path(tmp)
        with bare_app(work, WORKERS) as bare, postgres_database() as pg_url:
            database = "pg" if pg_url else "sqlite"
            env = {"OZG_DATABASE_URL": pg_url} if pg_url else {}
            data_dir = work / "srv"
            with server(data_dir, env=env, workers=WORKERS) as (base, _):
                with watch_queue(base) as samples:
                    ours = drive(base, data_dir / "dev-idp", work, applicants=APPLICANTS,
                                 seconds=SECONDS, bare=False)  # fmt: skip
                at_stop, drained = drained_after(base)
            baseline = drive(bare[0], data_dir / "dev-idp", work, applicants=APPLICANTS,
                             seconds=BARE_SECONDS, bare=True)  # fmt: skip
    report(f"ozg-commons ({database}, {WORKERS} workers)", ours, SECONDS)
    report("bare", baseline, BARE_SECONDS)
    fields: dict[str, str] = {}
    mine, theirs = overall(ours), overall(baseline)
    fields["mixed_p50_ms"] = f"{pct(mine, 0.5):.1f}"
    fields["mixed_p99_ms"] = f"{pct(mine, 0.99):.1f}"
    fields["error_rate"] = f"{ours.error_count / max(ours.requests, 1):.4f}"
    fields["queue_drained_s"] = f"{drained:.3f}"
    fields["queue_at_stop"] = f"{at_stop:.0f}"
    fields["queue_max_under_load"] = f"{max(samples, default=0):.0f}"
    fields["sequencer_interval_s"] = f"{interval:g}"
    fields["p50_ratio"] = f"{pct(mine, 0.5) / pct(theirs, 0.5):.2f}"
    fields["p99_ratio"] = f"{pct(mine, 0.99) / pct(theirs, 0.99):.2f}"
    for step in STEPS:
        fields[f"{step.replace('-', '_')}_p50_ms"] = f"{pct(ours.latencies[step], 0.5):.1f}"
        fields[f"{step.replace('-', '_')}_p99_ms"] = f"{pct(ours.latencies[step], 0.99):.1f}"
    fields["loops_per_s"] = f"{ours.loops / SECONDS:.2f}"
    fields["bare_loops_per_s"] = f"{baseline.loops / BARE_SECONDS:.2f}"
    fields["database"] = database
    fields["applicants"], fields["workers"] = str(APPLICANTS), str(WORKERS)
    fields["seconds"] = f"{SECONDS:g}"
    fields["target_met"] = str(ours.error_count == 0 and drained <= interval)
    print("RESULT " + " ".join(f"{k}={v}" for k, v in fields.items()))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--generate":
        sys.path.insert(0, str(ROOT))
        print(json.dumps(generate(json.loads(sys.argv[2])).as_json()))
    else:
        main()
