"""Erasure across everything (issue 12): an applicant whose every free-text form field, every
file name and every document carries a unique canary runs the whole story (``run_story``:
vault, case, fee and payment, submission, the authority fetching, accepting, requesting a
document and deciding), leaves a chunked upload half-way, then erases the account
(``DELETE /v1/me``). Afterwards no canary (nor a byte of the unfinished upload), neither as
is nor hex- or base64-encoded, is left in the raw bytes of the database (SQLite:
the files and the WAL; PostgreSQL: ``pg_dump``), the object store (the data directory; every
object of the S3 bucket when configured) or any log output; only the legally retained
minimal records remain, each with its retention in the Art. 30 register; the audit log still
verifies.

Runs on the embedded default, or on PostgreSQL and S3 when ``OZG_TEST_DATABASE_URL`` and
``OZG_TEST_S3_ENDPOINT`` are set (tests/conftest.py, tests/services.py), on a database of its
own that the app commits to (nothing is rolled back: the search reads what was written).
"""

from __future__ import annotations

import base64
import logging
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from commons.db import Database
from commons.logging import JsonFormatter
from commons.settings import Settings
from compliance.register import register_json
from compliance.sequencer import sequence_all
from gateway import migrations
from gateway.app import create_app
from gateway.client.applicant import ApplicantClient
from gateway.client.demo import (
    EXTRA_TEXT,
    OTHER_DOCUMENTS,
    demo_authority_keys,
    example_form,
    run_story,
    token,
    verify_audit_log,
)
from tests import services
from tests.conftest import _create_postgres_database

# Its database comes from OZG_TEST_DATABASE_URL, not the database_url fixture.
pytestmark = pytest.mark.database

APPLICANT = "demo-applicant"
ERASE = {"confirm": "erase my account"}
#: What erasure may keep (docs/account.md, "What erasure removes and keeps").
RETAINED_TYPES = {"account_erasure", "payments.booking", "delivery.delivery_record"}
#: Tables that may still name the erased subject: the audit trail's entries written during
#: and after the erasure (pseudonymous subject id, under their own retention).
AUDIT_TABLES_PREFIX = "compliance_"


@dataclass
class Deployment:
    app: FastAPI
    settings: Settings
    database: Database
    log_file: Path


# --------------------------------------------------------------------------- the deployment
@pytest.fixture
def committed_url(tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database that nothing rolls back: SQLite in the data directory, or
    a PostgreSQL database of its own when OZG_TEST_DATABASE_URL is set (dropped afterwards)."""
    base = os.environ.get("OZG_TEST_DATABASE_URL")
    if not base:
        url = f"sqlite:///{tmp_path / 'var' / 'ozg-commons.sqlite3'}"
        (tmp_path / "var").mkdir()
        migrations.upgrade(url)
        yield url
        return
    url, admin = _create_postgres_database(base)
    try:
        migrations.upgrade(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')
        admin.dispose()


def _object_store() -> dict[str, Any]:
    if not os.environ.get("OZG_TEST_S3_ENDPOINT"):
        return {}
    s3 = services.s3_settings("ozg-erasure")
    return {
        "object_store": "s3",
        "s3_endpoint": s3.s3_endpoint,
        "s3_access_key": s3.s3_access_key,
        "s3_secret_key": s3.s3_secret_key,
        "s3_region": s3.s3_region,
        "s3_bucket": s3.s3_bucket,
    }


@pytest.fixture
def deployment(
    tmp_path: Path, committed_url: str, demo_data_dir: Path, caplog: pytest.LogCaptureFixture
) -> Iterator[Deployment]:
    data_dir = tmp_path / "var"
    shutil.copytree(demo_data_dir, data_dir, dirs_exist_ok=True)
    settings = Settings(data_dir=data_dir, database_url=committed_url, **_object_store())
    # The server's JSON log, as `ozg-commons serve` writes it, into a file of the deployment;
    # everything at DEBUG, and pytest's capture besides.
    log_file = data_dir / "logs" / "ozg-commons.jsonl"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(log_file, encoding="utf-8")
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    caplog.set_level(logging.DEBUG)
    app = create_app(settings)
    try:
        yield Deployment(app, settings, app.state.database, log_file)
    finally:
        root.removeHandler(handler)
        handler.close()
        app.state.database.dispose()
        if settings.object_store == "s3":
            _drop_bucket(settings)


def _s3_client(settings: Settings) -> Any:
    from commons.s3 import minio_client

    return minio_client(settings)


def _drop_bucket(settings: Settings) -> None:
    client = _s3_client(settings)
    if not client.bucket_exists(settings.s3_bucket):
        return
    for obj in client.list_objects(settings.s3_bucket, recursive=True):
        client.remove_object(settings.s3_bucket, obj.object_name)
    client.remove_bucket(settings.s3_bucket)


# --------------------------------------------------------------------------- the canaries
def encodings(canary: str) -> dict[str, bytes]:
    """The canary as bytes, hex (both cases) and base64 (standard and URL-safe, at each of
    the three alignments: only the characters that depend on the canary alone)."""
    raw = canary.encode()
    out = {"plain": raw, "hex": raw.hex().encode(), "HEX": raw.hex().upper().encode()}
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + raw)
        start = -(-8 * offset // 6)  # ceil: the first character made of canary bits only
        end = (8 * (offset + len(raw))) // 6  # the last full character
        stable = encoded[start:end]
        out[f"base64+{offset}"] = stable
        out[f"base64url+{offset}"] = stable.replace(b"+", b"-").replace(b"/", b"_")
    return out


def found(haystack: bytes, canary: str) -> list[str]:
    """Which encodings of ``canary`` occur in the raw bytes."""
    return [name for name, needle in encodings(canary).items() if needle in haystack]


def test_the_search_finds_every_encoding() -> None:
    canary = f"CANARY-{uuid.uuid4()}"
    raw = canary.encode()
    assert "base64+0" in found(base64.b64encode(raw), canary)
    for prefix in (b"", b"x", b"xy"):
        blob = base64.b64encode(prefix + raw)
        assert any(n.startswith("base64+") for n in found(blob, canary)), prefix
        url = base64.urlsafe_b64encode(prefix + raw).rstrip(b"=")
        assert any(n.startswith("base64") for n in found(url, canary)), prefix
    assert found(raw.hex().encode(), canary) == ["hex"]
    assert found(b"\\x" + raw.hex().encode(), canary) == ["hex"]  # PostgreSQL's bytea text
    assert found(b"nothing here", canary) == []


def canary_form(flow: dict[str, Any], canary: str) -> tuple[dict[str, Any], list[str]]:
    """The demo form with the canary in every string field the flow's schema lets hold it
    (free text; an e-mail address as its local part). Returns the form and those fields."""
    form = example_form()
    marked: list[str] = []

    def walk(node: dict[str, Any], path: str) -> None:
        for name, value in list(node.items()):
            if isinstance(value, dict):
                walk(value, f"{path}/{name}")
            elif isinstance(value, str):
                for candidate in (f"{value} {canary}", canary, f"{canary.lower()}@example.org"):
                    node[name] = candidate
                    if not ApplicantClient.validate(flow, form, "en"):
                        marked.append(f"{path}/{name}")
                        break
                else:
                    node[name] = value

    walk(form, "")
    return form, marked


# --------------------------------------------------------------------------- uploads in progress
def start_chunked_upload(http: httpx.Client, headers: dict[str, str]) -> tuple[str, bytes]:
    """A chunked upload of a sealed envelope, left half-way: the upload's id, and the last
    64 bytes the server received (random ciphertext: found only where those bytes are)."""
    from cryptography.hazmat.primitives.asymmetric import ec

    from tests.vault.helpers import random_doc, sealed

    envelope = sealed(random_doc(20_000), ec.generate_private_key(ec.SECP256R1()))
    created = http.post("/v1/vault/uploads", json={"size": len(envelope)}, headers=headers)
    assert created.status_code == 201, created.text
    upload_id = created.json()["id"]
    half = envelope[: len(envelope) // 2]
    piece = http.put(
        f"/v1/vault/uploads/{upload_id}", content=half,
        headers={**headers, "content-type": "application/octet-stream", "Upload-Offset": "0"},
    )  # fmt: skip
    assert piece.status_code == 200, piece.text
    assert piece.json()["offset"] == len(half)
    return upload_id, half[-64:]


def holding(places: Iterable[tuple[str, bytes]], needle: bytes) -> list[str]:
    """The names of the places whose bytes contain ``needle``."""
    return [name for name, data in places if needle in data]


# --------------------------------------------------------------------------- the searches
def database_bytes(deployment: Deployment) -> dict[str, bytes]:
    """Every byte the database holds: SQLite's files (main, WAL, journal); on PostgreSQL
    ``pg_dump`` of the database (where it is installed and matches the server) and a SELECT
    of every table cast to text, each searched."""
    url = deployment.settings.effective_database_url
    if url.startswith("sqlite"):
        path = Path(make_url(url).database or "")
        files = sorted(path.parent.glob(path.name + "*"))
        assert files, "the SQLite database file is missing"
        return {f.name: f.read_bytes() for f in files}
    rows = rows_as_text(deployment)
    out = {"select": b"\n".join(row.encode() for lines in rows.values() for row in lines)}
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    if shutil.which("pg_dump"):
        dumped = subprocess.run(
            ["pg_dump", "--no-owner", dsn], capture_output=True, check=False, timeout=120
        )
        if dumped.returncode == 0:
            out["pg_dump"] = dumped.stdout
    return out


def found_in_database(deployment: Deployment, canary: str) -> dict[str, list[str]]:
    hits = {name: found(data, canary) for name, data in database_bytes(deployment).items()}
    return {name: where for name, where in hits.items() if where}


def rows_as_text(deployment: Deployment) -> dict[str, list[str]]:
    """Every row of every table, as text (PostgreSQL: the row cast to text, bytea as hex)."""
    engine = create_engine(deployment.settings.effective_database_url)
    try:
        with engine.connect() as conn:
            out: dict[str, list[str]] = {}
            for table in inspect(conn).get_table_names():
                if conn.dialect.name == "postgresql":
                    query = text(f'SELECT CAST(t AS text) FROM "{table}" t')  # noqa: S608
                    out[table] = [str(r[0]) for r in conn.execute(query)]
                else:
                    query = text(f'SELECT * FROM "{table}"')  # noqa: S608
                    out[table] = [repr(tuple(r)) for r in conn.execute(query)]
            return out
    finally:
        engine.dispose()


def object_store_bytes(deployment: Deployment) -> list[tuple[str, bytes]]:
    """Every file of the data directory (the filesystem object store, the database files,
    keys and logs) and, with S3, every object of the bucket."""
    settings = deployment.settings
    out = [
        (str(p.relative_to(settings.data_dir)), p.read_bytes())
        for p in sorted(settings.data_dir.rglob("*"))
        if p.is_file()
    ]
    if settings.object_store == "s3":
        client = _s3_client(settings)
        for obj in client.list_objects(settings.s3_bucket, recursive=True):
            response = client.get_object(settings.s3_bucket, obj.object_name)
            try:
                out.append((f"s3://{obj.object_name}", response.read()))
            finally:
                response.close()
                response.release_conn()
    return out


def log_bytes(deployment: Deployment, caplog: pytest.LogCaptureFixture, captured: str) -> bytes:
    records = "\n".join(
        f"{r.name} {r.levelname} {r.getMessage()} {vars(r)!r}" for r in caplog.records
    )
    return b"\n".join(
        [
            deployment.log_file.read_bytes(),
            records.encode(),
            caplog.text.encode(),
            captured.encode(),
        ]
    )


# --------------------------------------------------------------------------- the story
def test_erasure_leaves_no_canary_anywhere(
    deployment: Deployment, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    canary = f"CANARY-{uuid.uuid4()}"
    app, settings = deployment.app, deployment.settings
    with TestClient(app, raise_server_exceptions=False) as client:
        http = cast(httpx.Client, client)
        flow = http.get("/v1/flows/employment").json()
        form, marked = canary_form(flow, canary)
        # Every free-text field: names, birth place, e-mail, street, city, municipality,
        # employer and its address, job title, qualification (dates, codes, enums and
        # patterned numbers cannot hold it).
        assert len(marked) >= 11, marked
        keys, anchors, crls = demo_authority_keys(http, settings.data_dir, "tf")
        lines: list[str] = []
        result = run_story(
            http, keys, say=lines.append, anchors=anchors, crls=crls,
            public_url=settings.public_base_url, form=form,
            document_name=f"reisepass-{canary}.pdf", document_text=f"Reisepass {canary}",
            other_documents=[(t, f"{t}-{canary}.pdf", f"{text} {canary}")
                             for t, _n, text in OTHER_DOCUMENTS],
            extra_name=f"gehaltsnachweis-{canary}.pdf", extra_text=f"{EXTRA_TEXT} {canary}",
            settle=lambda: sequence_all(deployment.database, app.state.audit.identity),
        )  # fmt: skip
        assert len(lines) == 12, lines
        # The canary did travel: the authority decrypted it on its side, names and all.
        assert canary in result.folder["form.json"].decode()
        assert sum(canary in name for name in result.folder) == 1 + len(OTHER_DOCUMENTS)
        applicant = {"Authorization": f"Bearer {token(http, APPLICANT)}"}
        subject = http.get("/v1/me", headers=applicant).json()["subject"]
        # One value the server does hold in the clear (a profile attribute): the search
        # must find it in the database before the erasure, and nowhere after it.
        put = http.put(
            "/v1/me/attributes/address", json={"value": f"Canarystraße 1 {canary}"},
            headers=applicant,
        )  # fmt: skip
        assert put.status_code == 200, put.text
        before = found_in_database(deployment, canary)
        dumps = set(database_bytes(deployment))
        assert set(before) & dumps, "the search does not see what the database holds"
        if not settings.effective_database_url.startswith("sqlite"):
            assert set(before) == dumps, before  # pg_dump (if installed) and the SELECT
        objects_before = [name for name, _ in object_store_bytes(deployment)]
        if settings.object_store == "s3":
            assert any(n.startswith("s3://delivery/") for n in objects_before), objects_before
            assert any(n.startswith("s3://vault/") for n in objects_before), objects_before
        else:
            assert any(n.startswith("delivery/blobs/") for n in objects_before), objects_before

        # A chunked upload in progress: its row and the bytes received so far.
        _upload_id, received = start_chunked_upload(http, applicant)
        places = [*object_store_bytes(deployment), *database_bytes(deployment).items()]
        assert holding(places, received), "the search does not see the upload's bytes"

        erased = http.request("DELETE", "/v1/me", json=ERASE, headers=applicant)
        assert erased.status_code == 200, erased.text
        claims = erased.json()["claims"]
        assert verify_audit_log(
            http, lambda: sequence_all(deployment.database, app.state.audit.identity)
        ) > 0  # fmt: skip
        register = register_json(app.state.declarations)
    captured = capfd.readouterr()

    # No canary, in any encoding, in the raw bytes of anything the deployment wrote.
    assert found_in_database(deployment, canary) == {}
    for name, data in object_store_bytes(deployment):
        assert found(data, canary) == [], name
    logs = log_bytes(deployment, caplog, captured.out + captured.err)
    assert deployment.log_file.stat().st_size > 0, "the server's log file stayed empty"
    assert logs.strip(), "no log output was captured"
    assert found(logs, canary) == []
    places = [*object_store_bytes(deployment), *database_bytes(deployment).items()]
    assert holding(places, received) == []

    # Only the legally retained minimal records remain, each in the Art. 30 register.
    policies = {p["record_type"]: p for p in register["retention_policies"]}
    retained = [r for d in claims["domains"] for r in d["retained"]] + claims["retained"]
    assert {r["record_type"] for r in retained} == RETAINED_TYPES
    for record in retained:
        assert record["record_type"] in policies, record
        assert record["legal_basis"], record
        assert record["delete_after"] > claims["erased_at"], record
    by_domain = {d["domain"]: d for d in claims["domains"]}
    assert by_domain["delivery"]["retained"][0]["record_id"] == result.sent.submission_id  # type: ignore[union-attr]
    _only_retained_rows_remain(deployment, subject, retained)


def _only_retained_rows_remain(
    deployment: Deployment, subject: str, retained: list[dict[str, Any]]
) -> None:
    rows = rows_as_text(deployment)
    ids = {r["record_type"]: r["record_id"] for r in retained}
    # Nothing of the applicant's own is left: no case, draft, vault document or key,
    # attachment, portal session or profile row; the submission is the delivery record.
    for table in ("cases_case", "cases_draft", "vault_document", "vault_applicant_key",
                  "vault_share", "vault_upload", "delivery_attachment",
                  "portal_session"):  # fmt: skip
        assert rows.get(table, []) == [], table
    assert len(rows["delivery_submission"]) == 1
    record = rows["delivery_submission"][0]
    assert ids["delivery.delivery_record"] in record
    assert "erased" in record
    payments = rows["payments_payment"]
    assert len(payments) == 1
    assert ids["payments.booking"] in payments[0]
    assert len(rows["account_erasure"]) == 1
    # The subject's pseudonymous id stays only in the audit trail's entries.
    naming = sorted(t for t, lines in rows.items() if any(subject in line for line in lines))
    assert all(t.startswith(AUDIT_TABLES_PREFIX) for t in naming), naming
