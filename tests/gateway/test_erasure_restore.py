"""Erasure survives a backup restore (issue 14, ADR 0007): an applicant leaves canaries in
the profile, a consent and the audit trail, stores a vault document and leaves a chunked
upload half-way (its row and spool file); a backup is taken
(SQLite: the data directory with the database file and its WAL, so the filesystem object
store too; PostgreSQL: ``pg_dump``); the applicant erases the account; the backup is
restored into a fresh database (and data directory). Before ``ozg-commons restore`` the
restored database holds the canaries and ``ozg-commons serve`` refuses to start; after it,
no canary is left in the database (its files, or ``pg_dump`` and every row), the restored
data directory or the object store, the document's blob is gone, the journal names no one
in the clear, and ``serve`` starts.

Runs on the embedded default, or on PostgreSQL (and S3) when ``OZG_TEST_DATABASE_URL`` (and
``OZG_TEST_S3_ENDPOINT``) are set, on databases of its own that nothing rolls back.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from account.journal import JOURNAL_FILE
from commons.settings import Settings
from gateway.app import create_app
from gateway.cli import app as cli
from gateway.client.demo import token
from tests.conftest import _create_postgres_database
from tests.gateway.test_erasure_canary import (
    ERASE,
    Deployment,
    _drop_bucket,
    _object_store,
    committed_url,  # noqa: F401 (a fixture)
    database_bytes,
    found,
    holding,
    object_store_bytes,
    rows_as_text,
    start_chunked_upload,
)
from tests.vault.helpers import random_doc, sealed

APPLICANT = "demo-applicant"
OCTET = {"content-type": "application/octet-stream"}


def _settings(data_dir: Path, url: str, journal: Path, store: dict[str, Any]) -> Settings:
    return Settings(
        data_dir=data_dir,
        database_url=url,
        sections={"account": {"erasure_journal_dir": str(journal)}},
        **store,
    )


@pytest.fixture
def store() -> Iterator[dict[str, Any]]:
    """The object store both deployments share: the filesystem one in each data directory,
    or one S3 bucket (not part of the backup; dropped afterwards)."""
    settings = _object_store()
    yield settings
    if settings:
        _drop_bucket(Settings(**settings))


def _env(settings: Settings, journal: Path) -> dict[str, str]:
    """The settings as ``ozg-commons`` reads them from the environment."""
    env = {
        "OZG_DATA_DIR": str(settings.data_dir),
        "OZG_DATABASE_URL": settings.effective_database_url,
        "OZG_ACCOUNT_ERASURE_JOURNAL_DIR": str(journal),
    }
    if settings.object_store == "s3":
        env |= {
            "OZG_OBJECT_STORE": "s3",
            "OZG_S3_ENDPOINT": str(settings.s3_endpoint),
            "OZG_S3_ACCESS_KEY": str(settings.s3_access_key),
            "OZG_S3_SECRET_KEY": settings.s3_secret_key.get_secret_value(),
            "OZG_S3_REGION": settings.s3_region,
            "OZG_S3_BUCKET": settings.s3_bucket,
        }
    return env


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
def restored_url(tmp_path: Path) -> Iterator[str]:
    """An empty database to restore the backup into: a SQLite path in a fresh data directory,
    or a fresh PostgreSQL database (dropped afterwards)."""
    base = os.environ.get("OZG_TEST_DATABASE_URL")
    if not base:
        yield f"sqlite:///{tmp_path / 'restored' / 'ozg-commons.sqlite3'}"
        return
    url, admin = _create_postgres_database(base)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')
        admin.dispose()


def _serve(settings: Settings, journal: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """``ozg-commons serve`` up to the point where it would start the server."""
    import uvicorn

    started: list[bool] = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: started.append(True))
    result = CliRunner().invoke(cli, ["serve"], env=_env(settings, journal))
    return result, bool(started)


def test_a_restored_backup_does_not_bring_the_erased_applicant_back(
    tmp_path: Path,
    committed_url: str,  # noqa: F811 (the fixture)
    restored_url: str,
    demo_data_dir: Path,
    store: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    canary = f"CANARY-{uuid.uuid4()}"
    journal = tmp_path / "journal"  # apart from the data directory and the database
    data_dir = tmp_path / "var"
    shutil.copytree(demo_data_dir, data_dir, dirs_exist_ok=True)
    settings = _settings(data_dir, committed_url, journal, store)
    app = create_app(settings)
    live = Deployment(app, settings, app.state.database, data_dir / "unused.log")
    backup = tmp_path / "backup"
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            http = cast(httpx.Client, client)
            applicant = {"Authorization": f"Bearer {token(http, APPLICANT)}"}
            subject = http.get("/v1/me", headers=applicant).json()["subject"]
            put = http.put(
                "/v1/me/attributes/address", json={"value": f"Canarystraße 1 {canary}"},
                headers=applicant,
            )  # fmt: skip
            assert put.status_code == 200, put.text
            consent = http.post(
                "/v1/me/consents",
                json={"purpose": f"Auskunft {canary}", "legal_basis": "Art. 6(1)(a) GDPR",
                      "recipient_authority": "tf", "text_version": "1"},
                headers=applicant,
            )  # fmt: skip
            assert consent.status_code in (200, 201), consent.text
            envelope = sealed(random_doc(4000), ec.generate_private_key(ec.SECP256R1()))
            stored = http.post(
                "/v1/vault/documents", content=envelope, headers={**applicant, **OCTET}
            )
            assert stored.status_code in (200, 201), stored.text
            blobs = _blob_files(settings)
            assert blobs or settings.object_store == "s3"
            upload_id, received = start_chunked_upload(http, applicant)
            assert holding(_places(live), received), "the search does not see the upload"

            # The backup, taken while the server runs.
            assert found_anywhere(live, canary), "the search does not see the canary"
            shutil.copytree(data_dir, backup / "data")
            if not committed_url.startswith("sqlite"):
                dumped = subprocess.run(
                    ["pg_dump", "--no-owner", "--format=custom", f"--file={backup / 'db.dump'}",
                     _dsn(committed_url)],
                    capture_output=True, check=False, timeout=60,
                )  # fmt: skip
                assert dumped.returncode == 0, dumped.stderr.decode()

            erased = http.request("DELETE", "/v1/me", json=ERASE, headers=applicant)
            assert erased.status_code == 200, erased.text
            receipt_id = erased.json()["claims"]["receipt_id"]
        assert found_anywhere(live, canary) == {}
        assert holding(_places(live), received) == []
    finally:
        app.state.database.dispose()

    # The journal holds the erasure, and no one in the clear.
    written = (journal / JOURNAL_FILE).read_bytes()
    assert receipt_id.encode() in written
    assert subject.encode() not in written
    assert found(written, canary) == []

    # Restore the backup into a fresh database and data directory; the journal stays.
    restored_dir = tmp_path / "restored"
    shutil.copytree(backup / "data", restored_dir)
    if not restored_url.startswith("sqlite"):
        loaded = subprocess.run(
            ["pg_restore", "--no-owner", f"--dbname={_dsn(restored_url)}", str(backup / "db.dump")],
            capture_output=True, check=False, timeout=60,
        )  # fmt: skip
        assert loaded.returncode == 0, loaded.stderr.decode()
    restored = _settings(restored_dir, restored_url, journal, store)
    view = Deployment(app, restored, app.state.database, restored_dir / "unused.log")
    assert found_anywhere(view, canary), "the restored backup should hold the applicant"
    assert holding(_places(view), received), "the restored backup should hold the upload"

    result, started = _serve(restored, journal, monkeypatch)
    assert result.exit_code == 2, result.output
    assert not started
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.output
    assert errors[0].endswith("run `ozg-commons restore` before serving"), errors

    result = CliRunner().invoke(cli, ["restore"], env=_env(restored, journal))
    assert result.exit_code == 0, result.output
    assert "1 not yet in the database, 1 subject(s) erased again" in result.output

    # Nothing of the applicant is left anywhere; the receipt is back.
    assert found_anywhere(view, canary) == {}
    assert holding(_places(view), received) == []
    rows = rows_as_text(view)
    assert not any(upload_id in row for row in rows["vault_upload"])
    for table in ("account_account", "account_profile_attribute", "account_consent",
                  "vault_document", "vault_applicant_key", "vault_upload"):  # fmt: skip
        assert rows.get(table, []) == [], table
    assert [receipt_id in row for row in rows["account_erasure"]] == [True]
    naming = sorted(t for t, lines in rows.items() if any(subject in line for line in lines))
    assert all(t.startswith("compliance_") for t in naming), naming
    for blob in blobs:
        assert not (restored_dir / blob.relative_to(data_dir)).exists(), blob

    result, started = _serve(restored, journal, monkeypatch)
    assert result.exit_code == 0, result.output
    assert started
    # Again: nothing to do.
    result = CliRunner().invoke(cli, ["restore"], env=_env(restored, journal))
    assert result.exit_code == 0, result.output
    assert "0 not yet in the database, 0 subject(s) erased again" in result.output


def _blob_files(settings: Settings) -> list[Path]:
    root = settings.data_dir / "blobs"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _places(deployment: Deployment) -> list[tuple[str, bytes]]:
    return [*database_bytes(deployment).items(), *object_store_bytes(deployment)]


def found_anywhere(deployment: Deployment, canary: str) -> dict[str, list[str]]:
    """Where the canary is, in any encoding: the database's bytes (SQLite files with the WAL;
    PostgreSQL: ``pg_dump`` and every row), every file of the data directory, every object."""
    hits = {name: found(data, canary) for name, data in database_bytes(deployment).items()}
    hits |= {name: found(data, canary) for name, data in object_store_bytes(deployment)}
    return {name: where for name, where in hits.items() if where}
