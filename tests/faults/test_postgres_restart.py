"""PostgreSQL crashes and restarts while a real server (uvicorn, the app owning its
database, the audit sequencer running) takes uploads from a client.

The server is never restarted. While PostgreSQL is down every answer is a 503 problem
document with ``Retry-After`` (never a 500), ``/readyz`` says the database is unavailable,
and the same process serves again once PostgreSQL is back. Every upload that was
acknowledged (201) is there afterwards, byte for byte; the audit log is one consistent tree
and the sequencer has caught up.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi import FastAPI
from sqlalchemy import func, select

from account.auth import current_principal
from commons.settings import Settings
from compliance.models import AccessEntry
from gateway.app import create_app
from gateway.migrations import upgrade
from tests import factories
from tests.compliance.test_concurrency import check_database
from tests.faults.conftest import OwnPostgres, free_port
from tests.services import serving
from tests.vault.helpers import sealed

pytestmark = [pytest.mark.faults, pytest.mark.slow]

OCTET = {"Content-Type": "application/octet-stream"}


@dataclass
class Traffic:
    """Uploads in a loop from another thread, and what each got."""

    base: str
    acknowledged: dict[str, bytes] = field(default_factory=dict)
    statuses: list[int] = field(default_factory=list)
    refusals: list[httpx.Response] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self) -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        with httpx.Client(base_url=self.base, timeout=30) as client:
            while not self.stop.is_set():
                envelope = sealed(os.urandom(20_000), key)
                try:
                    r = client.post("/v1/vault/documents", content=envelope, headers=OCTET)
                except httpx.TransportError:  # never expected: the server stays up
                    with self.lock:
                        self.statuses.append(-1)
                    continue
                with self.lock:
                    self.statuses.append(r.status_code)
                    if r.status_code == 201:
                        self.acknowledged[r.json()["id"]] = envelope
                    else:
                        self.refusals.append(r)
                if r.status_code != 201:
                    time.sleep(0.05)

    def wait_for(self, what: Callable[[], bool], seconds: float, why: str) -> None:
        deadline = time.monotonic() + seconds
        while not what():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {why}: {self.statuses[-20:]}")
            time.sleep(0.05)

    def count(self, status: int) -> int:
        with self.lock:
            return self.statuses.count(status)


@pytest.fixture
def live(
    own_postgres: OwnPostgres, tmp_path: Path, demo_data_dir: Path
) -> Iterator[tuple[FastAPI, str]]:
    data_dir = tmp_path / "var"
    shutil.copytree(demo_data_dir, data_dir)
    port = free_port()
    settings = Settings(
        data_dir=data_dir,
        database_url=own_postgres.url,
        database_pool_size=4,
        retry_after_seconds=2,
        public_base_url=f"http://127.0.0.1:{port}",
        sections={"compliance": {"sequence_interval": 0.2}},
    )
    upgrade(own_postgres.url)
    app = create_app(settings)  # owns its database: pool, pre-ping, sequencer thread
    app.dependency_overrides[current_principal] = lambda: factories.applicant("pg-restart")
    with serving(app, port):
        yield app, f"http://127.0.0.1:{port}"


def test_postgres_crashing_and_restarting_mid_traffic(
    own_postgres: OwnPostgres, live: tuple[FastAPI, str]
) -> None:
    app, base = live
    traffic = Traffic(base)
    worker = threading.Thread(target=traffic.run, daemon=True)
    worker.start()
    try:
        traffic.wait_for(lambda: traffic.count(201) >= 5, 30, "uploads before the crash")

        own_postgres.stop("immediate")  # a crash: recovery from the WAL on the next start
        traffic.wait_for(lambda: traffic.count(503) >= 3, 30, "503s while PostgreSQL is down")
        ready = httpx.get(base + "/readyz", timeout=30)
        assert ready.status_code == 503
        assert ready.json()["checks"]["database"] == "unavailable"
        assert ready.headers["retry-after"] == "2"

        own_postgres.start()
        served = traffic.count(201)
        traffic.wait_for(lambda: traffic.count(201) >= served + 5, 30, "uploads after restart")
        assert httpx.get(base + "/readyz", timeout=30).status_code == 200

        own_postgres.stop("fast")  # an orderly restart, as an operator's, mid-traffic
        own_postgres.start()
        served = traffic.count(201)
        traffic.wait_for(lambda: traffic.count(201) >= served + 5, 30, "uploads after restart")
    finally:
        traffic.stop.set()
        worker.join(30)

    assert set(traffic.statuses) <= {201, 503}, traffic.statuses  # never a 500, never a drop
    for refusal in traffic.refusals:
        assert refusal.headers["content-type"] == "application/problem+json"
        assert refusal.headers["retry-after"] == "2"
        assert refusal.json()["dependency"] == "database"

    with httpx.Client(base_url=base, timeout=30) as client:
        listed = {d["id"] for d in client.get("/v1/vault/documents").json()}
        assert set(traffic.acknowledged) <= listed  # what was acknowledged is never lost
        for doc_id in listed:  # and what is listed is whole
            content = client.get(f"/v1/vault/documents/{doc_id}/content")
            assert content.status_code == 200
            if doc_id in traffic.acknowledged:
                assert content.content == traffic.acknowledged[doc_id]

    database = app.state.database

    def pending() -> int:
        with database.transaction() as session:
            query = (
                select(func.count())
                .select_from(AccessEntry)
                .where(AccessEntry.leaf_index.is_(None))
            )
            return int(session.scalar(query) or 0)

    traffic.wait_for(lambda: pending() == 0, 20, "the sequencer to catch up")
    assert check_database(database, app.state.audit.identity) > 0
