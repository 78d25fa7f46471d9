"""kill -9 of a real ``ozg-commons serve`` during an upload, a payment notification and an
audit sequencer batch; then a restart on the same data directory.

The server is the command operators run (embedded defaults: SQLite, the filesystem store,
the development IdP, sandbox payments), tokens come from its IdP, and it is killed with
SIGKILL by its PID: no handler, no cleanup. Afterwards nothing half-written is visible,
what was acknowledged is there, a retried notification takes effect exactly once, and the
audit log is one consistent tree that the restarted sequencer completes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import random
import secrets
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import func, select

from commons.db import Database
from commons.settings import Settings
from compliance.keys import load_identity
from compliance.models import AccessEntry
from payments import signing
from tests.compliance.test_concurrency import check_database
from tests.faults.conftest import free_port
from tests.payments.conftest import quote_body
from tests.vault.helpers import sealed

pytestmark = [pytest.mark.faults, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
OCTET = {"Content-Type": "application/octet-stream"}


class Server:
    """``ozg-commons serve`` on a port of its own, over one data directory."""

    def __init__(self, data_dir: Path, **env: str) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("OZG_")}
        self.env |= {"OZG_DATA_DIR": str(data_dir), "OZG_PUBLIC_BASE_URL": self.url, **env}
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> Server:
        command = [str(Path(sys.executable).parent / "ozg-commons"), "serve"]
        self.proc = subprocess.Popen(
            [*command, "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"ozg-commons serve exited with {self.proc.returncode}")
            try:
                if httpx.get(self.url + "/readyz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.kill()
        raise RuntimeError("ozg-commons serve did not become ready")

    def kill(self) -> None:
        """SIGKILL, by PID."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait(30)

    def _token(self, form: dict[str, str]) -> dict[str, str]:
        r = httpx.post(
            self.url + "/dev-idp/realms/ozg-dev/protocol/openid-connect/token", data=form
        )
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['access_token']}"}

    def applicant(self) -> dict[str, str]:
        form = {"username": "demo-applicant", "password": "demo-applicant"}
        return self._token({"grant_type": "password", "client_id": "ozg-cli", **form})

    def flow(self) -> dict[str, str]:
        form = {"client_id": "demo-flow", "client_secret": "demo-flow-secret"}
        return self._token({"grant_type": "client_credentials", **form})

    def sql(self, query: str, *args: Any) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.data_dir / "ozg-commons.sqlite3") as conn:
            return list(conn.execute(query, args))


@pytest.fixture(scope="module")
def module_server(
    tmp_path_factory: pytest.TempPathFactory, demo_data_dir: Path
) -> Iterator[Server]:
    """One data directory for the module's server. A start costs seconds, so a test finds
    the server that the previous one restarted (or starts it), kills it, and restarts it."""
    data_dir = tmp_path_factory.mktemp("kill") / "var"
    shutil.copytree(demo_data_dir, data_dir)
    server = Server(data_dir, OZG_COMPLIANCE_SEQUENCE_INTERVAL="0.05")
    try:
        yield server
    finally:
        server.kill()


@pytest.fixture
def server(module_server: Server) -> Server:
    if not module_server.running:
        module_server.start()
    return module_server


def _blob_files(data_dir: Path) -> list[Path]:
    root = data_dir / "blobs"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_kill_during_an_upload(server: Server) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    kept = sealed(os.urandom(300_000), key)
    auth = server.applicant()
    created = httpx.post(server.url + "/v1/vault/documents", content=kept, headers=auth | OCTET)
    assert created.status_code == 201, created.text
    kept_id = created.json()["id"]
    rows = server.sql("SELECT id FROM vault_document ORDER BY id")
    assert (kept_id,) in rows
    stored = _blob_files(server.data_dir)

    broken_off = sealed(os.urandom(4_000_000), key)

    def body() -> Iterator[bytes]:
        for i in range(0, len(broken_off), 64 * 1024):
            if i >= 1_500_000:
                server.kill()  # mid-body: the server holds a spool and a half-read stream
            yield broken_off[i : i + 64 * 1024]

    with pytest.raises(httpx.TransportError):
        httpx.post(
            server.url + "/v1/vault/documents", content=body(), headers=auth | OCTET, timeout=60
        )
    assert server.sql("SELECT id FROM vault_document ORDER BY id") == rows
    assert _blob_files(server.data_dir) == stored  # the spool had no name: no debris

    server.start()
    auth = server.applicant()
    listed = httpx.get(server.url + "/v1/vault/documents", headers=auth).json()
    assert sorted((d["id"],) for d in listed) == rows
    content = httpx.get(f"{server.url}/v1/vault/documents/{kept_id}/content", headers=auth)
    assert content.content == kept
    again = httpx.post(server.url + "/v1/vault/documents", content=broken_off, headers=auth | OCTET)
    assert again.status_code == 201, again.text


def _notification(event_id: str, reference: str, status: str) -> tuple[dict[str, str], bytes]:
    body = json.dumps(
        {"kind": "status", "event_id": event_id, "transaction_id": reference, "status": status}
    ).encode()
    dev_key = Settings().secret_key.get_secret_value().encode()  # the development default
    secret = hmac.new(dev_key, b"sandbox-notification:tf", hashlib.sha256).hexdigest()
    headers = signing.signed_headers(secret.encode(), int(time.time()), body)
    return headers | {"Content-Type": "application/json"}, body


def test_kill_during_a_payment_notification(server: Server) -> None:
    flow = server.flow()
    quote = httpx.post(server.url + "/v1/fees/quote", json=quote_body("tf"), headers=flow)
    assert quote.status_code == 201, quote.text
    payment = httpx.post(
        server.url + "/v1/payments",
        json={"quote_id": quote.json()["id"], "return_url": "https://flow.example/done"},
        headers=flow | {"Idempotency-Key": secrets.token_hex(8)},
    )
    assert payment.status_code == 201, payment.text
    payment_id = payment.json()["id"]
    [(reference,)] = server.sql(
        "SELECT id FROM payments_sandbox_transaction WHERE request_id = ?", payment_id
    )
    [(before,)] = server.sql("SELECT state FROM payments_payment WHERE id = ?", payment_id)
    event_id = secrets.token_hex(8)
    url = server.url + "/v1/payments/notifications/sandbox/tf"

    def deliver() -> None:
        headers, body = _notification(event_id, reference, "BOOKED")
        try:
            httpx.post(url, content=body, headers=headers, timeout=30)
        except httpx.TransportError:
            pass  # killed before it answered: the provider retries later

    sender = threading.Thread(target=deliver)
    sender.start()
    time.sleep(random.uniform(0.0, 0.03))  # while it is being received or handled
    server.kill()
    sender.join(30)

    # all of it or none of it: the notification row, the transition and the state together
    [(state,)] = server.sql("SELECT state FROM payments_payment WHERE id = ?", payment_id)
    seen = server.sql("SELECT count(*) FROM payments_notification WHERE event_id = ?", event_id)
    booked = server.sql(
        "SELECT count(*) FROM payments_transition WHERE payment_id = ? AND to_state = 'booked'",
        payment_id,
    )
    assert (state, seen[0][0], booked[0][0]) in {(before, 0, 0), ("booked", 1, 1)}

    server.start()  # the provider retries the same event until it gets a 2xx
    headers, body = _notification(event_id, reference, "BOOKED")
    retried = httpx.post(url, content=body, headers=headers)
    assert retried.status_code < 300, retried.text
    status = httpx.get(f"{server.url}/v1/payments/{payment_id}", headers=server.flow())
    assert status.json()["state"] == "booked"
    assert server.sql(
        "SELECT count(*) FROM payments_notification WHERE event_id = ?", event_id
    ) == [(1,)]
    assert server.sql(
        "SELECT count(*) FROM payments_transition WHERE payment_id = ? AND to_state = 'booked'",
        payment_id,
    ) == [(1,)]


def test_kill_during_an_audit_sequencer_batch(server: Server) -> None:
    auth = server.applicant()
    [(before,)] = server.sql("SELECT count(*) FROM compliance_access_entry")
    acknowledged = [0]
    stop = threading.Event()

    def reads() -> None:  # every GET /v1/me is an audit entry for the sequencer
        with httpx.Client(base_url=server.url, headers=auth, timeout=30) as client:
            while not stop.is_set():
                try:
                    r = client.get("/v1/me")
                except httpx.TransportError:
                    return
                if r.status_code == 200:
                    acknowledged[0] += 1

    readers = [threading.Thread(target=reads) for _ in range(4)]
    for reader in readers:
        reader.start()
    deadline = time.monotonic() + 60
    while acknowledged[0] < 150 and time.monotonic() < deadline:
        time.sleep(0.05)
    server.kill()  # with the sequencer passing every 50 ms under a steady stream of entries
    stop.set()
    for reader in readers:
        reader.join(30)
    assert acknowledged[0] >= 150

    url = f"sqlite:///{server.data_dir / 'ozg-commons.sqlite3'}"
    database = Database.from_url(url)
    identity = load_identity(Settings(data_dir=server.data_dir, public_base_url=server.url))
    try:
        check_database(database, identity)  # as the kill left it: no gap, no fork
        with database.transaction() as session:
            entries = session.scalar(select(func.count()).select_from(AccessEntry)) or 0
        assert entries - before >= acknowledged[0]  # every acknowledged read was audited

        server.start()
        deadline = time.monotonic() + 30
        while True:
            with database.transaction() as session:
                query = select(func.count()).select_from(AccessEntry)
                pending = session.scalar(query.where(AccessEntry.leaf_index.is_(None)))
            if pending == 0:
                break
            assert time.monotonic() < deadline, f"{pending} entries still unsequenced"
            time.sleep(0.1)
        assert check_database(database, identity) >= entries
    finally:
        database.dispose()
