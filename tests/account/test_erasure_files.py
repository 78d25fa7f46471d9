"""Erasure reaches the SQLite files: after ``DELETE /v1/me`` on the embedded default, no
erased value is left in the main database file or in its WAL (issue 14)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from account.auth import current_principal
from account.principal import Principal
from commons.db import Database, checkpoint_sqlite_wal
from commons.settings import Settings
from gateway import migrations
from gateway.app import create_app
from tests import factories
from tests.account.test_gdpr import (
    CANARIES,
    CONSENT_CANARY,
    MESSAGE_CANARIES,
    SUBJECT,
    FakeIdentityAdmin,
    applicant,
    seed,
)
from tests.payments.conftest import FLOW, quote_body

PAYMENT_CANARY = "canary-case-ref-77e1"


@pytest.fixture
def embedded(tmp_path: Path) -> tuple[FastAPI, Path]:
    """The embedded default: SQLite in data_dir, a database the app owns (not rolled back)."""
    settings = Settings(data_dir=tmp_path / "var")
    settings.data_dir.mkdir(parents=True)
    migrations.upgrade(settings.effective_database_url)
    app = create_app(settings)
    return app, Path(settings.effective_database_url.removeprefix("sqlite:///"))


def _hits(path: Path, canaries: list[str]) -> list[str]:
    data = path.read_bytes() if path.exists() else b""
    return [c for c in canaries if c.encode() in data]


def test_erasure_leaves_no_canary_in_the_sqlite_file_or_its_wal(
    embedded: tuple[FastAPI, Path],
) -> None:
    app, db_file = embedded
    wal = db_file.with_name(db_file.name + "-wal")
    canaries = [*CANARIES.values(), *MESSAGE_CANARIES, CONSENT_CANARY, PAYMENT_CANARY]

    def act_as(principal: Principal | None) -> None:
        assert principal is not None
        app.dependency_overrides[current_principal] = lambda: principal

    with TestClient(app) as client:
        app.state.identity_admin = FakeIdentityAdmin()
        seed(client, act_as)
        act_as(FLOW)
        body = {**quote_body(), "data_subject": SUBJECT, "case_reference": PAYMENT_CANARY}
        quote = client.post("/v1/fees/quote", json=body)
        assert quote.status_code == 201, quote.text
        payment = client.post(
            "/v1/payments",
            json={"quote_id": quote.json()["id"], "return_url": "https://flow.example/done"},
            headers={"Idempotency-Key": "k-1"},
        )
        assert payment.status_code == 201, payment.text
        # Everything seeded is in the files now (the WAL holds the recent frames).
        database: Database = app.state.database
        assert set(_hits(db_file, canaries) + _hits(wal, canaries)) == set(canaries)
        checkpoint_sqlite_wal(database.engine)  # some in the main file, too

        act_as(applicant())
        response = client.request("DELETE", "/v1/me", json={"confirm": "erase my account"})
        assert response.status_code == 200, response.text
        # While the server still runs (connections open, pool warm):
        assert _hits(db_file, canaries) == []
        assert _hits(wal, canaries) == []
        act_as(factories.applicant())
        assert client.get("/v1/me").status_code == 200  # the server keeps serving


def test_sqlite_connections_overwrite_deleted_content(tmp_path: Path) -> None:
    # Some SQLite builds have it on by default; ours must not depend on the build.
    database = Database.from_url(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    try:
        with database.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA secure_delete").scalar() == 1
    finally:
        database.dispose()
