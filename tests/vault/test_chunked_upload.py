"""Chunked, resumable uploads (POST /uploads → PUT pieces at offsets → finish), and ranged
downloads of an envelope (what the browser lists documents with)."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from account import Principal
from commons.clock import FixedClock
from commons.db import Database
from commons.settings import Settings
from gateway.app import create_app
from tests import factories
from tests.vault.helpers import pki_settings, random_doc, sealed
from vault import blobstore, chunked, envelope
from vault.client import VaultClient
from vault.models import Document, Upload

ActAs = Callable[[Principal | None], None]
OCTET = {"content-type": "application/octet-stream"}
PIECE = 65536


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return pki_settings(
        tmp_path,
        database_url,
        quota_bytes=1_000_000,
        max_document_bytes=400_000,
        upload_piece_bytes=PIECE,
        max_open_uploads=2,
    )


@pytest.fixture
def app(settings: Settings, database: Database) -> FastAPI:
    return create_app(settings, database)


@pytest.fixture
def key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _create(client: TestClient, size: int) -> dict[str, object]:
    r = client.post("/v1/vault/uploads", json={"size": size})
    assert r.status_code == 201, r.text
    return dict(r.json())


def _put(client: TestClient, upload_id: str, offset: int, data: bytes) -> object:
    return client.put(
        f"/v1/vault/uploads/{upload_id}",
        content=data,
        headers={**OCTET, "Upload-Offset": str(offset)},
    )


def _send_all(client: TestClient, upload_id: str, env: bytes, start: int = 0) -> None:
    for offset in range(start, len(env), PIECE):
        r = _put(client, upload_id, offset, env[offset : offset + PIECE])
        assert r.status_code == 200, r.text  # type: ignore[attr-defined]
        assert r.json()["offset"] == min(offset + PIECE, len(env))  # type: ignore[attr-defined]


def test_a_chunked_upload_becomes_the_same_document_as_a_single_post(
    client: TestClient, act_as: ActAs, key: ec.EllipticCurvePrivateKey
) -> None:
    act_as(factories.applicant())
    data = random_doc(300_000)
    env = sealed(data, key)
    upload = _create(client, len(env))
    assert upload["offset"] == 0
    assert upload["piece_bytes"] == PIECE
    _send_all(client, str(upload["id"]), env)
    r = client.post(f"/v1/vault/uploads/{upload['id']}/finish")
    assert r.status_code == 201, r.text
    doc_id = r.json()["id"]
    assert doc_id == str(envelope.read_header(io.BytesIO(env)).document_id)
    got = client.get(f"/v1/vault/documents/{doc_id}/content")
    assert got.content == env
    assert envelope.open_bytes(got.content, key)[1] == data
    # the upload is gone once finished
    assert client.get(f"/v1/vault/uploads/{upload['id']}").status_code == 404


def test_a_finished_upload_is_stored_without_a_second_copy(
    app: FastAPI,
    client: TestClient,
    act_as: ActAs,
    key: ec.EllipticCurvePrivateKey,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    act_as(factories.applicant())
    env = sealed(random_doc(200_000), key)
    upload = _create(client, len(env))
    _send_all(client, str(upload["id"]), env)
    copies: list[str] = []
    store = app.state.vault.store
    real_put = store.put

    def counting_put(key: str, src: Any, length: int) -> None:
        copies.append(key)
        real_put(key, src, length)

    monkeypatch.setattr(store, "put", counting_put)
    r = client.post(f"/v1/vault/uploads/{upload['id']}/finish")
    assert r.status_code == 201, r.text
    assert copies == []  # the spool file became the blob
    assert client.get(f"/v1/vault/documents/{r.json()['id']}/content").content == env
    assert not list(chunked.spool_dir(app.state.settings.data_dir).iterdir())


def test_an_interrupted_piece_is_resumed_from_the_offset_the_server_reports(
    client: TestClient, act_as: ActAs, key: ec.EllipticCurvePrivateKey, settings: Settings
) -> None:
    act_as(factories.applicant())
    env = sealed(random_doc(200_000), key)
    upload_id = str(_create(client, len(env))["id"])
    _send_all(client, upload_id, env[: 2 * PIECE])
    # bytes of a piece that never completed are in the spool file but not acknowledged
    spool = chunked.spool_path(chunked.spool_dir(settings.data_dir), upload_id)
    with spool.open("ab") as handle:
        handle.write(b"garbage of a cut-off piece")
    status = client.get(f"/v1/vault/uploads/{upload_id}").json()
    assert status["offset"] == 2 * PIECE
    # a piece at the wrong offset is refused and names where to resume
    wrong = _put(client, upload_id, PIECE, env[PIECE : 2 * PIECE])
    assert wrong.status_code == 409  # type: ignore[attr-defined]
    assert wrong.json()["offset"] == 2 * PIECE  # type: ignore[attr-defined]
    assert wrong.json()["type"] == "urn:ozg-commons:problem:upload-conflict"  # type: ignore[attr-defined]
    _send_all(client, upload_id, env, start=status["offset"])
    r = client.post(f"/v1/vault/uploads/{upload_id}/finish")
    assert r.status_code == 201, r.text
    assert client.get(f"/v1/vault/documents/{r.json()['id']}/content").content == env


def test_limits_and_bad_requests_are_problems_not_500s(
    client: TestClient, act_as: ActAs, key: ec.EllipticCurvePrivateKey
) -> None:
    act_as(factories.applicant())
    env = sealed(random_doc(10_000), key)
    for body in ({"size": 0}, {"size": "big"}, {}):
        assert client.post("/v1/vault/uploads", json=body).status_code == 422
    too_big = client.post("/v1/vault/uploads", json={"size": 10_000_000})
    assert too_big.status_code == 413
    assert too_big.headers["content-type"] == "application/problem+json"
    upload_id = str(_create(client, len(env))["id"])
    no_offset = client.put(f"/v1/vault/uploads/{upload_id}", content=b"x", headers=OCTET)
    assert no_offset.status_code == 422
    assert "Upload-Offset" in no_offset.json()["detail"]
    for offset in (b"+0", b"0_0", b"00", b"-0", b"1e3", b"\xb2", b"9" * 40):  # b"\xb2": "²"
        bad = client.put(
            f"/v1/vault/uploads/{upload_id}",
            content=b"x",
            headers={b"content-type": b"application/octet-stream", b"upload-offset": offset},
        )
        assert bad.status_code == 422, (offset, bad.text)
        assert "Upload-Offset" in bad.json()["detail"]
    assert _put(client, upload_id, 0, b"x" * (PIECE + 1)).status_code == 413  # type: ignore[attr-defined]
    over = _put(client, upload_id, 0, env + b"tail")
    assert over.status_code == 409  # type: ignore[attr-defined]
    # finishing early is refused; the upload stays usable
    _put(client, upload_id, 0, env[:100])
    early = client.post(f"/v1/vault/uploads/{upload_id}/finish")
    assert early.status_code == 409
    assert early.json()["offset"] == 100
    _send_all(client, upload_id, env, start=100)
    assert client.post(f"/v1/vault/uploads/{upload_id}/finish").status_code == 201
    # at most max_open_uploads at once
    _create(client, 1000)
    _create(client, 1000)
    assert client.post("/v1/vault/uploads", json={"size": 1000}).status_code == 409


def test_a_bad_header_is_refused_with_the_first_piece_and_the_upload_dropped(
    client: TestClient, act_as: ActAs, key: ec.EllipticCurvePrivateKey, settings: Settings
) -> None:
    act_as(factories.applicant())
    upload_id = str(_create(client, 50_000)["id"])
    r = _put(client, upload_id, 0, b"NOPE" + bytes(5000))
    assert r.status_code == 422  # type: ignore[attr-defined]
    assert r.json()["type"] == "urn:ozg-commons:problem:invalid-envelope"  # type: ignore[attr-defined]
    assert client.get(f"/v1/vault/uploads/{upload_id}").status_code == 404
    assert not chunked.spool_path(chunked.spool_dir(settings.data_dir), upload_id).exists()
    # a structurally broken body is refused at finish, and nothing is stored
    env = sealed(random_doc(5_000), key)
    head = len(envelope.read_header(io.BytesIO(env)).encode())
    cut = env[: head + envelope.TRAILER_LEN + 15]  # no room for a chunk's tag
    upload_id = str(_create(client, len(cut))["id"])
    _send_all(client, upload_id, cut)
    assert client.post(f"/v1/vault/uploads/{upload_id}/finish").status_code == 422
    assert client.get("/v1/vault/documents").json() == []


def test_a_document_id_already_taken_is_refused_early(
    client: TestClient, act_as: ActAs, key: ec.EllipticCurvePrivateKey
) -> None:
    act_as(factories.applicant())
    env = sealed(random_doc(5_000), key)
    assert client.post("/v1/vault/documents", content=env, headers=OCTET).status_code == 201
    upload_id = str(_create(client, len(env))["id"])
    assert _put(client, upload_id, 0, env[:PIECE]).status_code == 422  # type: ignore[attr-defined]


def test_uploads_belong_to_their_owner_and_expire(
    client: TestClient,
    act_as: ActAs,
    key: ec.EllipticCurvePrivateKey,
    app: FastAPI,
    database: Database,
    settings: Settings,
) -> None:
    act_as(factories.applicant())
    env = sealed(random_doc(5_000), key)
    upload_id = str(_create(client, len(env))["id"])
    act_as(factories.applicant())  # someone else
    assert client.get(f"/v1/vault/uploads/{upload_id}").status_code == 404
    assert _put(client, upload_id, 0, env).status_code == 404  # type: ignore[attr-defined]
    assert client.delete(f"/v1/vault/uploads/{upload_id}").status_code == 404
    act_as(factories.caseworker("tf"))
    assert client.post("/v1/vault/uploads", json={"size": 100}).status_code == 403
    act_as(None)
    assert client.post("/v1/vault/uploads", json={"size": 100}).status_code == 401
    # expiry: a day later it is gone, and gc removes its row and spool file
    later = FixedClock(app.state.vault.clock.now() + timedelta(days=2))
    app.state.vault.clock = later
    with database.transaction() as session:
        assert upload_id in chunked.collect_expired(
            session, chunked.spool_dir(settings.data_dir), later.now()
        )
        assert session.scalars(select(Upload)).all() == []
        assert session.scalars(select(Document)).all() == []


def test_cancel_removes_the_upload(
    client: TestClient, act_as: ActAs, key: ec.EllipticCurvePrivateKey, settings: Settings
) -> None:
    act_as(factories.applicant())
    env = sealed(random_doc(5_000), key)
    upload_id = str(_create(client, len(env))["id"])
    _put(client, upload_id, 0, env[:1000])
    assert client.delete(f"/v1/vault/uploads/{upload_id}").status_code == 204
    assert client.get(f"/v1/vault/uploads/{upload_id}").status_code == 404
    assert not chunked.spool_path(chunked.spool_dir(settings.data_dir), upload_id).exists()


def test_ranges_of_an_envelope(
    client: TestClient, act_as: ActAs, key: ec.EllipticCurvePrivateKey
) -> None:
    act_as(factories.applicant())
    env = sealed(random_doc(20_000), key)
    doc_id = client.post("/v1/vault/documents", content=env, headers=OCTET).json()["id"]
    url = f"/v1/vault/documents/{doc_id}/content"
    size = len(env)
    cases = {
        "bytes=0-99": (206, env[:100], f"bytes 0-99/{size}"),
        "bytes=-4112": (206, env[-4112:], f"bytes {size - 4112}-{size - 1}/{size}"),
        f"bytes=100-{size + 50}": (206, env[100:], f"bytes 100-{size - 1}/{size}"),
        "bytes=10-": (206, env[10:], f"bytes 10-{size - 1}/{size}"),
        "bytes=0-1,5-9": (200, env, None),  # several ranges: the whole envelope
        "bytes=abc": (200, env, None),
        "items=0-1": (200, env, None),
    }
    for spec, (status, body, content_range) in cases.items():
        r = client.get(url, headers={"Range": spec})
        assert r.status_code == status, spec
        assert r.content == body, spec
        assert r.headers.get("content-range") == content_range, spec
        assert int(r.headers["content-length"]) == len(body), spec
    r = client.get(url, headers={"Range": f"bytes={size}-"})
    assert r.status_code == 416
    assert r.headers["content-range"] == f"bytes */{size}"


def test_the_client_uses_the_chunked_api_for_large_files_and_resumes(
    client: TestClient,
    act_as: ActAs,
    key: ec.EllipticCurvePrivateKey,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    act_as(factories.applicant())
    sdk = VaultClient("http://testserver", None, http=cast(httpx.Client, client), chunked_above=0)
    monkeypatch.setattr("vault.client.sdk._RETRY_SECONDS", (0.0, 0.0))
    data = random_doc(300_000)
    src = tmp_path / "scan.bin"
    src.write_bytes(data)
    real_put = client.put
    calls: list[str] = []

    def flaky_put(url: str, **kwargs: Any) -> Any:
        calls.append(kwargs["headers"]["Upload-Offset"])
        if len(calls) == 2:  # the second piece arrives, its answer is lost
            real_put(url, **kwargs)
            raise httpx.ReadError("connection reset")
        if len(calls) == 4:  # the fourth piece never arrives
            raise httpx.WriteError("connection reset")
        return real_put(url, **kwargs)

    monkeypatch.setattr(client, "put", flaky_put)
    doc_id, _report = sdk.put(src, key, do_sanitize=False)
    assert calls == [
        "0",
        str(PIECE),
        str(2 * PIECE),
        str(3 * PIECE),
        str(3 * PIECE),  # sent again after the lost connection
        str(4 * PIECE),
    ]
    out = tmp_path / "copy.bin"
    sdk.get(doc_id, out, key)
    assert out.read_bytes() == data


# --------------------------------------------------------------------------- erasure
def _personal(app: FastAPI) -> Any:
    return next(h for h in app.state.personal_data if h.component == "vault")


def test_account_erasure_removes_uploads_in_progress_and_their_bytes(
    client: TestClient,
    act_as: ActAs,
    app: FastAPI,
    database: Database,
    key: ec.EllipticCurvePrivateKey,
    settings: Settings,
) -> None:
    owner, other = factories.applicant(), factories.applicant()
    act_as(other)
    kept = str(_create(client, 1000)["id"])
    act_as(owner)
    env = sealed(random_doc(200_000), key)
    started = str(_create(client, len(env))["id"])
    _send_all(client, started, env[: 2 * PIECE])
    empty = str(_create(client, 5000)["id"])  # created, no byte sent yet
    spools = chunked.spool_dir(settings.data_dir)
    assert chunked.spool_path(spools, started).read_bytes() == env[: 2 * PIECE]
    with database.transaction() as session:
        exported = _personal(app).export(session, owner.subject)
        assert {u["id"]: u["received"] for u in exported["uploads"]} == {
            started: 2 * PIECE,
            empty: 0,
        }
        report = _personal(app).shred(session, owner.subject)
    assert report.deleted == 2
    with database.transaction() as session:
        left = session.scalars(select(Upload.id)).all()
    assert list(left) == [kept]  # another applicant's upload stays
    assert not chunked.spool_path(spools, started).exists()
    assert not chunked.spool_path(spools, empty).exists()
    for upload_id in (started, empty):
        assert client.get(f"/v1/vault/uploads/{upload_id}").status_code == 404
        assert _put(client, upload_id, 0, env[:PIECE]).status_code == 404  # type: ignore[attr-defined]
    assert not chunked.spool_path(spools, started).exists()


def test_a_piece_or_finish_racing_an_erasure_leaves_nothing(
    client: TestClient,
    act_as: ActAs,
    app: FastAPI,
    database: Database,
    key: ec.EllipticCurvePrivateKey,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The erasure commits while a piece is being written (after its claim) or while the
    finished envelope goes to the store: the request gets 404, and neither a spool file
    (opened again by the piece) nor a document nor a blob is left."""
    owner = factories.applicant()
    act_as(owner)
    spools = chunked.spool_dir(settings.data_dir)
    env = sealed(random_doc(100_000), key)

    def erase() -> None:
        with database.transaction() as session:
            _personal(app).shred(session, owner.subject)

    # The erasure commits before the piece opens the spool file (which creates it again)...
    racing = str(_create(client, len(env))["id"])
    real_open = chunked.open_spool

    def erase_then_open(directory: Path, upload_id: str, offset: int) -> Any:
        erase()
        return real_open(directory, upload_id, offset)

    monkeypatch.setattr(chunked, "open_spool", erase_then_open)
    assert _put(client, racing, 0, env[:PIECE]).status_code == 404  # type: ignore[attr-defined]
    assert not chunked.spool_path(spools, racing).exists()
    monkeypatch.setattr(chunked, "open_spool", real_open)

    # ... or after the piece is on disk, before or after the header check.
    real_sync = chunked.sync

    def sync_then_erase(handle: Any) -> None:
        real_sync(handle)
        erase()

    monkeypatch.setattr(chunked, "sync", sync_then_erase)
    for pieces_before in (0, 1):
        racing = str(_create(client, len(env))["id"])
        monkeypatch.setattr(chunked, "sync", real_sync)
        _send_all(client, racing, env[: pieces_before * PIECE])
        monkeypatch.setattr(chunked, "sync", sync_then_erase)
        put = _put(client, racing, pieces_before * PIECE, env[pieces_before * PIECE :][:PIECE])
        assert put.status_code == 404, put.text  # type: ignore[attr-defined]
        assert not chunked.spool_path(spools, racing).exists()
    monkeypatch.setattr(chunked, "sync", real_sync)

    finishing = str(_create(client, len(env))["id"])
    _send_all(client, finishing, env)
    store = app.state.vault.store
    real_store_file = blobstore.store_file  # a link on the filesystem store, a copy elsewhere

    def store_then_erase(into: Any, blob_key: str, path: Path, length: int) -> None:
        real_store_file(into, blob_key, path, length)
        erase()

    monkeypatch.setattr(chunked, "store_file", store_then_erase)
    assert client.post(f"/v1/vault/uploads/{finishing}/finish").status_code == 404
    assert client.get("/v1/vault/documents").json() == []
    assert list(store.list()) == []
    assert not chunked.spool_path(spools, finishing).exists()
    with database.transaction() as session:
        assert session.scalars(select(Upload.id)).all() == []
