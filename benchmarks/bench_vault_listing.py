"""Naming an applicant's documents on the device: two ranged reads per document (what
``vault ls`` and the portal did) vs. the metadata-only read (one request per page).

An in-process app on SQLite in a fresh temporary directory; one applicant with
OZG_BENCH_DOCUMENTS documents (default 50) of 20 kB. Per round, both ways list every
document and decrypt its name, media type and size on the "device" (the same process);
measured in one run: wall time and CPU time per listing (median of OZG_BENCH_ROUNDS,
default 5), HTTP requests and access-log entries per listing. Ratios are baseline / ours.
The last line is ``RESULT key=value ...``.
"""

from __future__ import annotations

import io
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from account import Principal, Role, current_principal
from commons.db import Database, make_engine
from commons.settings import Settings
from compliance.models import AccessEntry
from gateway.app import create_app
from gateway.migrations import upgrade
from vault import envelope
from vault.client.sdk import open_sealed_metadata

DOCUMENTS = int(os.environ.get("OZG_BENCH_DOCUMENTS", "50"))
ROUNDS = int(os.environ.get("OZG_BENCH_ROUNDS", "5"))
FIRST_READ = 8192


def ranged(client: TestClient, doc: dict[str, object], key: ec.EllipticCurvePrivateKey) -> str:
    """The former listing: the header's range, then the record's (docs/vault.md before)."""
    size = int(str(doc["envelope_size"]))
    url = f"/v1/vault/documents/{doc['id']}/content"
    first = client.get(url, headers={"Range": f"bytes=0-{min(FIRST_READ, size) - 1}"}).content
    header = envelope.read_header(io.BytesIO(first))
    record = client.get(url, headers={"Range": f"bytes=-{envelope.TRAILER_LEN}"}).content
    return envelope.open_metadata(header, envelope.unlock(header, key), record, size).filename


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-vault-listing-"))
    try:
        run(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(work: Path) -> None:
    url = f"sqlite:///{work}/db.sqlite"
    settings = Settings(data_dir=work / "var", database_url=url)
    upgrade(url)
    database = Database(make_engine(url))
    app = create_app(settings, database)
    me = Principal(subject="bench-applicant", roles=frozenset({Role.APPLICANT}))
    app.dependency_overrides[current_principal] = lambda: me
    key = ec.generate_private_key(ec.SECP256R1())

    def entries() -> int:
        with database.transaction() as s:
            return int(s.scalar(select(func.count()).select_from(AccessEntry)) or 0)

    with TestClient(app) as client:
        for i in range(DOCUMENTS):
            out = io.BytesIO()
            envelope.seal(os.urandom(20_000), out, [key.public_key()], filename=f"doc-{i}.pdf",
                          media_type="application/pdf")  # fmt: skip
            r = client.post("/v1/vault/documents", content=out.getvalue(),
                            headers={"content-type": "application/octet-stream"})  # fmt: skip
            assert r.status_code == 201, r.text

        def baseline() -> tuple[list[str], int]:
            docs = client.get("/v1/vault/documents").json()
            return [ranged(client, d, key) for d in docs], 1 + 2 * len(docs)

        def ours() -> tuple[list[str], int]:
            docs = client.get("/v1/vault/documents").json()
            items: dict[str, dict[str, object]] = {}
            requests, cursor = 1, None
            while True:
                params = {"limit": 100, **({"cursor": cursor} if cursor else {})}
                page = client.get("/v1/vault/documents/metadata", params=params).json()
                requests += 1
                items.update({i["id"]: i for i in page["documents"]})
                cursor = page["next_cursor"]
                if not cursor:
                    break
            return [open_sealed_metadata(items[d["id"]], key).filename for d in docs], requests

        results: dict[str, dict[str, float]] = {}
        for name, way in (("baseline", baseline), ("ours", ours)):
            walls, cpus = [], []
            for _ in range(ROUNDS):
                before = entries()
                w0, c0 = time.perf_counter(), time.process_time()
                names, requests = way()
                walls.append(time.perf_counter() - w0)
                cpus.append(time.process_time() - c0)
                logged = entries() - before
                assert sorted(names) == sorted(f"doc-{i}.pdf" for i in range(DOCUMENTS))
            results[name] = {
                "wall": statistics.median(walls),
                "cpu": statistics.median(cpus),
                "requests": requests,
                "entries": logged,
            }
            print(f"{name:9s} wall {results[name]['wall'] * 1000:8.1f} ms  cpu "
                  f"{results[name]['cpu'] * 1000:8.1f} ms  requests {requests:4d}  "
                  f"access-log entries {logged:4d}")  # fmt: skip
    b, o = results["baseline"], results["ours"]
    print(
        f"RESULT documents={DOCUMENTS} wall_ratio={b['wall'] / o['wall']:.2f} "
        f"cpu_ratio={b['cpu'] / o['cpu']:.2f} requests_baseline={b['requests']:.0f} "
        f"requests_ours={o['requests']:.0f} entries_baseline={b['entries']:.0f} "
        f"entries_ours={o['entries']:.0f}"
    )


if __name__ == "__main__":
    main()
