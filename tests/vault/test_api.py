"""The vault HTTP API: zero-knowledge upload, access control, sharing, shredding, keys."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event, select, update

from account import Principal
from commons.clock import FixedClock
from commons.db import Database
from commons.receipts import verify
from commons.settings import Settings
from compliance.models import AccessEntry
from compliance.retention import run_retention
from gateway.app import create_app
from gateway.declarations import all_declarations
from tests import factories
from tests.vault.helpers import (
    authority_key,
    pki_settings,
    random_doc,
    sealed,
)
from vault import envelope, uploads
from vault.client import keys
from vault.errors import InvalidEnvelope, WrongSecret
from vault.gc import collect_garbage
from vault.models import Document
from vault.recipients import public_key_from_jwk

ActAs = Callable[[Principal | None], None]
OCTET = {"content-type": "application/octet-stream"}


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return pki_settings(tmp_path, database_url, quota_bytes=400_000, max_document_bytes=300_000)


@pytest.fixture
def app(settings: Settings, database: Database) -> FastAPI:
    return create_app(settings, database)


def _actions(database: Database) -> list[str]:
    with database.transaction() as s:
        return [e.action for e in s.scalars(select(AccessEntry).order_by(AccessEntry.at))]


def _register_authority(client: TestClient, act_as: ActAs, authority: str = "tf") -> None:
    act_as(factories.admin())
    _key, jwk = authority_key(authority)
    r = client.post(f"/v1/vault/authorities/{authority}/keys", json={"jwk": jwk})
    assert r.status_code in (201, 409), r.text


def test_upload_download_round_trip_and_audit(
    client: TestClient, act_as: ActAs, database: Database
) -> None:
    me = factories.applicant()
    key = ec.generate_private_key(ec.SECP256R1())
    data = random_doc()
    env = sealed(data, key)
    act_as(me)
    r = client.post("/v1/vault/documents", content=env, headers=OCTET)
    assert r.status_code == 201, r.text
    doc_id = r.json()["id"]
    assert doc_id == str(envelope.read_header(io.BytesIO(env)).document_id)
    assert [d["id"] for d in client.get("/v1/vault/documents").json()] == [doc_id]
    got = client.get(f"/v1/vault/documents/{doc_id}/content")
    assert got.status_code == 200
    assert got.content == env
    assert envelope.open_bytes(got.content, key)[1] == data
    assert "vault.document.create" in _actions(database)
    assert "vault.document.read" in _actions(database)
    # the same envelope again is refused (document ids are unique)
    assert client.post("/v1/vault/documents", content=env, headers=OCTET).status_code == 422


def test_malformed_and_oversized_uploads_leave_nothing(
    client: TestClient, act_as: ActAs, settings: Settings
) -> None:
    act_as(factories.applicant())
    key = ec.generate_private_key(ec.SECP256R1())
    env = sealed(random_doc(1000), key)
    head = len(envelope.read_header(io.BytesIO(env)).encode())
    # the server checks structure only (it holds no key): cut-off bodies, bad headers
    too_short = env[: head + envelope.TRAILER_LEN + 15]
    for bad in (b"", b"not an envelope", too_short, env[:head], b"OZGV" + env[4:20]):
        r = client.post("/v1/vault/documents", content=bad, headers=OCTET)
        assert r.status_code == 422, r.text
        assert r.json()["type"] == "urn:ozg-commons:problem:invalid-envelope"
    big = sealed(random_doc(310_000), key)  # over the 300 kB limit
    r = client.post("/v1/vault/documents", content=big, headers=OCTET)
    assert r.status_code in (413, 422)
    assert client.get("/v1/vault/documents").json() == []
    assert [b for b in client.app.state.vault.store.list() if not b.key.startswith(".")] == []  # type: ignore[attr-defined]


def test_quota_per_applicant(client: TestClient, act_as: ActAs) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    act_as(factories.applicant())
    for _ in range(2):
        r = client.post(
            "/v1/vault/documents", content=sealed(random_doc(150_000), key), headers=OCTET
        )
        assert r.status_code == 201
    r = client.post("/v1/vault/documents", content=sealed(random_doc(150_000), key), headers=OCTET)
    assert r.status_code == 413
    assert r.json()["type"] == "urn:ozg-commons:problem:quota-exceeded"
    act_as(factories.applicant())  # someone else has their own quota
    r = client.post("/v1/vault/documents", content=sealed(random_doc(150_000), key), headers=OCTET)
    assert r.status_code == 201


def test_access_control_and_sharing_flow(
    client: TestClient, act_as: ActAs, database: Database
) -> None:
    _register_authority(client, act_as, "tf")
    owner, stranger = factories.applicant(), factories.applicant()
    tf, ee = factories.caseworker("tf"), factories.caseworker("ee")
    key = ec.generate_private_key(ec.SECP256R1())
    data = random_doc(5000)
    env = sealed(data, key)
    act_as(owner)
    doc_id = client.post("/v1/vault/documents", content=env, headers=OCTET).json()["id"]

    for who in (stranger, tf, ee):
        act_as(who)
        assert client.get("/v1/vault/documents").json() == []
        assert client.get(f"/v1/vault/documents/{doc_id}/content").status_code == 404
    act_as(stranger)
    assert client.delete(f"/v1/vault/documents/{doc_id}").status_code == 404

    # the owner's client wraps the DEK to the authority's active key
    act_as(owner)
    active = client.get("/v1/vault/authorities/tf/key").json()
    doc_key = envelope.unlock(envelope.read_header(io.BytesIO(env)), key)
    stanza = envelope.wrap_for(doc_key, public_key_from_jwk(active["jwk"]))
    r = client.put(
        f"/v1/vault/documents/{doc_id}/shares/tf",
        json={"stanza": base64.b64encode(stanza.encode()).decode()},
    )
    assert r.status_code == 200, r.text
    assert r.json()["shared_with"] == ["tf"]
    # wrapping to a key of another authority is refused
    r = client.put(
        f"/v1/vault/documents/{doc_id}/shares/ee",
        json={"stanza": base64.b64encode(stanza.encode()).decode()},
    )
    assert r.status_code == 422

    act_as(tf)
    assert [d["id"] for d in client.get("/v1/vault/documents").json()] == [doc_id]
    wrapped = client.get(f"/v1/vault/documents/{doc_id}/key").json()
    blob = client.get(f"/v1/vault/documents/{doc_id}/content").content
    auth_priv, _jwk = authority_key("tf")
    _meta, plain = envelope.open_bytes(blob, auth_priv, stanza=base64.b64decode(wrapped["stanza"]))
    assert plain == data
    act_as(ee)
    assert client.get(f"/v1/vault/documents/{doc_id}/key").status_code == 404

    act_as(owner)
    assert client.delete(f"/v1/vault/documents/{doc_id}/shares/tf").status_code == 204
    act_as(tf)
    assert client.get("/v1/vault/documents").json() == []
    assert client.get(f"/v1/vault/documents/{doc_id}/key").status_code == 404
    actions = _actions(database)
    for action in ("vault.document.share", "vault.wrapped_key.read", "vault.document.unshare"):
        assert action in actions


def test_the_listing_reads_every_document_s_shares_in_one_query(
    client: TestClient, act_as: ActAs, database: Database
) -> None:
    _register_authority(client, act_as, "tf")
    owner = factories.applicant()
    key = ec.generate_private_key(ec.SECP256R1())
    act_as(owner)
    envelopes = [sealed(random_doc(2000), key) for _ in range(4)]
    ids = [
        client.post("/v1/vault/documents", content=e, headers=OCTET).json()["id"] for e in envelopes
    ]
    active = client.get("/v1/vault/authorities/tf/key").json()
    for doc_id, env in list(zip(ids, envelopes, strict=True))[:2]:
        doc_key = envelope.unlock(envelope.read_header(io.BytesIO(env)), key)
        stanza = envelope.wrap_for(doc_key, public_key_from_jwk(active["jwk"]))
        r = client.put(
            f"/v1/vault/documents/{doc_id}/shares/tf",
            json={"stanza": base64.b64encode(stanza.encode()).decode()},
        )
        assert r.status_code == 200, r.text
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(" ".join(statement.split()).upper())

    event.listen(database.engine, "before_cursor_execute", count)
    try:
        listed = client.get("/v1/vault/documents").json()
    finally:
        event.remove(database.engine, "before_cursor_execute", count)
    shared = {d["id"]: d["shared_with"] for d in listed}
    assert shared == {ids[0]: ["tf"], ids[1]: ["tf"], ids[2]: [], ids[3]: []}
    share_queries = [s for s in statements if "FROM VAULT_SHARE" in s]
    assert len(share_queries) == 1, statements


def test_delete_crypto_shreds_and_returns_a_signed_receipt(
    client: TestClient, act_as: ActAs, database: Database
) -> None:
    owner = factories.applicant()
    key = ec.generate_private_key(ec.SECP256R1())
    act_as(owner)
    doc_id = client.post(
        "/v1/vault/documents", content=sealed(b"x" * 10, key), headers=OCTET
    ).json()["id"]
    r = client.delete(f"/v1/vault/documents/{doc_id}")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["kind"] == "vault-deletion"
    assert body["claims"]["document_id"] == doc_id
    jwks = client.get("/v1/receipts/keys").json()
    receipt = verify(body["receipt"], jwks)
    assert receipt.kind == "vault-deletion"
    assert receipt.claims == body["claims"]
    assert receipt.claims["blob_deleted"] is True
    assert client.get("/v1/vault/receipt-key").json() == jwks  # the deprecated alias
    assert client.get(f"/v1/vault/documents/{doc_id}/content").status_code == 404
    assert list(client.app.state.vault.store.list()) == []  # type: ignore[attr-defined]
    assert "vault.document.delete" in _actions(database)


def test_account_erasure_shreds_everything(
    client: TestClient, act_as: ActAs, app: FastAPI, database: Database
) -> None:
    owner = factories.applicant()
    key = ec.generate_private_key(ec.SECP256R1())
    act_as(owner)
    kp = keys.generate("correct horse battery", keys.ARGON2_MINIMUM)
    client.put(
        "/v1/vault/keys/me",
        json={
            "public_jwk": kp.public_jwk,
            "wrapped_by_passphrase": kp.wrapped_by_passphrase,
            "wrapped_by_recovery": kp.wrapped_by_recovery,
        },
    )
    for _ in range(2):
        client.post("/v1/vault/documents", content=sealed(b"abc", key), headers=OCTET)
    handler = next(h for h in app.state.personal_data if h.component == "vault")
    with database.transaction() as session:
        exported = handler.export(session, owner.subject)
        assert len(exported["documents"]) == 2
        report = handler.shred(session, owner.subject)
    assert report.deleted == 2
    assert report.shredded == 1  # the wrapped private key (no shares)
    assert client.get("/v1/vault/documents").json() == []
    assert client.get("/v1/vault/keys/me").status_code == 404
    assert list(app.state.vault.store.list()) == []


def test_applicant_key_register_unlock_and_rewrap(client: TestClient, act_as: ActAs) -> None:
    act_as(factories.applicant())
    kp = keys.generate("first passphrase", keys.ARGON2_MINIMUM)
    body = {
        "public_jwk": kp.public_jwk,
        "wrapped_by_passphrase": kp.wrapped_by_passphrase,
        "wrapped_by_recovery": kp.wrapped_by_recovery,
    }
    assert client.put("/v1/vault/keys/me", json=body).status_code == 201
    assert client.put("/v1/vault/keys/me", json=body).status_code == 409
    stored = client.get("/v1/vault/keys/me").json()
    assert "first passphrase" not in json.dumps(stored)
    with pytest.raises(WrongSecret):
        keys.unwrap_private_key(stored["wrapped_by_passphrase"], stored["kid"], passphrase="nope")
    # recovery: unwrap with the code, re-wrap under a new passphrase; same key
    priv = keys.unwrap_private_key(
        stored["wrapped_by_recovery"], stored["kid"], recovery_code=kp.recovery_code
    )
    new = keys.wrap_with_passphrase(priv, "second passphrase", keys.ARGON2_MINIMUM)
    r = client.patch("/v1/vault/keys/me", json={"kid": stored["kid"], "wrapped_by_passphrase": new})
    assert r.status_code == 200
    again = client.get("/v1/vault/keys/me").json()
    unlocked = keys.unwrap_private_key(
        again["wrapped_by_passphrase"], again["kid"], passphrase="second passphrase"
    )
    assert unlocked.private_numbers() == kp.private_key.private_numbers()


def test_roles_are_enforced(client: TestClient, act_as: ActAs) -> None:
    act_as(factories.caseworker("tf"))
    assert client.post("/v1/vault/documents", content=b"x", headers=OCTET).status_code == 403
    act_as(factories.applicant())
    _k, jwk = authority_key("tf")
    assert client.post("/v1/vault/authorities/tf/keys", json={"jwk": jwk}).status_code == 403
    act_as(None)
    assert client.get("/v1/vault/documents").status_code == 401


def test_sharing_to_a_retired_key_is_refused(
    client: TestClient, act_as: ActAs, app: FastAPI
) -> None:
    from datetime import UTC, datetime, timedelta

    from commons.clock import FixedClock
    from tests.vault.helpers import ca
    from vault.pki import issue_authority_key

    clock = FixedClock(datetime.now(UTC))
    app.state.vault.clock = clock
    _register_authority(client, act_as, "tf")
    old_jwk = client.get("/v1/vault/authorities/tf/key").json()["jwk"]
    ca_key, ca_cert = ca()
    _new_priv, new_jwk = issue_authority_key(ca_key, ca_cert, "tf", clock.now(), bits=3072)
    clock.advance(timedelta(seconds=1))
    assert client.post("/v1/vault/authorities/tf/keys", json={"jwk": new_jwk}).status_code == 201
    clock.advance(timedelta(days=31))  # past the 30-day overlap
    owner = factories.applicant()
    act_as(owner)
    key = ec.generate_private_key(ec.SECP256R1())
    env = sealed(b"doc", key)
    doc_id = client.post("/v1/vault/documents", content=env, headers=OCTET).json()["id"]
    doc_key = envelope.unlock(envelope.read_header(io.BytesIO(env)), key)
    stale = envelope.wrap_for(doc_key, public_key_from_jwk(old_jwk))
    r = client.put(
        f"/v1/vault/documents/{doc_id}/shares/tf",
        json={"stanza": base64.b64encode(stale.encode()).decode()},
    )
    assert r.status_code == 422
    assert "current key" in r.json()["detail"]


@pytest.mark.s3
def test_upload_and_download_through_s3(
    tmp_path: Path, database_url: str, database: Database, act_as: ActAs
) -> None:
    from tests.vault.test_blobstore import s3_settings

    s3 = s3_settings()
    settings = s3.model_copy(update={"data_dir": tmp_path / "var", "database_url": database_url})
    app = create_app(settings, database)
    from account.auth import current_principal

    app.dependency_overrides[current_principal] = lambda: factories.applicant("s3-owner")
    key = ec.generate_private_key(ec.SECP256R1())
    env = sealed(random_doc(200_000), key)
    with TestClient(app) as client:
        assert client.get("/readyz").json()["checks"]["object_store"] == "ok"
        doc_id = client.post("/v1/vault/documents", content=env, headers=OCTET).json()["id"]
        assert client.get(f"/v1/vault/documents/{doc_id}/content").content == env
        assert client.delete(f"/v1/vault/documents/{doc_id}").status_code == 200
    store = app.state.vault.store
    assert list(store.list()) == []
    store.client.remove_bucket(settings.s3_bucket)


def test_a_reused_document_id_cannot_touch_the_existing_document(
    client: TestClient, act_as: ActAs
) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    env = sealed(b"original", key)
    act_as(factories.applicant())
    doc_id = client.post("/v1/vault/documents", content=env, headers=OCTET).json()["id"]
    header = envelope.read_header(io.BytesIO(env))
    forged = io.BytesIO()
    envelope.seal(b"forged", forged, [key.public_key()], filename="x", media_type="y",
                  document_id=header.document_id)  # fmt: skip
    act_as(factories.applicant())
    r = client.post("/v1/vault/documents", content=forged.getvalue(), headers=OCTET)
    assert r.status_code == 422
    assert client.get("/v1/vault/documents").json() == []
    stored = client.app.state.vault.store  # type: ignore[attr-defined]
    assert len(list(stored.list())) == 1
    blob = next(iter(stored.list())).key
    assert b"".join(stored.get(blob)) == env
    assert blob != doc_id  # blob keys are the server's, not the client's


def test_readiness_reports_an_unusable_object_store(
    tmp_path: Path, database_url: str, database: Database
) -> None:
    from vault.blobstore import FilesystemBlobStore

    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x")
    settings = Settings(data_dir=tmp_path / "var", database_url=database_url)
    app = create_app(settings, database)
    from vault import api

    api.configure(app, settings, FilesystemBlobStore(blocker / "blobs"))
    with TestClient(app) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "object_store": "unavailable"}


def test_retention_shreds_documents_unused_for_three_years(
    client: TestClient, act_as: ActAs, app: FastAPI, database: Database
) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    act_as(factories.applicant())
    unused, downloaded, fresh = (
        client.post("/v1/vault/documents", content=sealed(b"abc", key), headers=OCTET).json()["id"]
        for _ in range(3)
    )
    now = datetime.now(UTC)
    with database.transaction() as session:
        session.execute(
            update(Document)
            .where(Document.id.in_([unused, downloaded]))
            .values(created_at=now - timedelta(days=4 * 365))
        )
    assert client.get(f"/v1/vault/documents/{downloaded}/content").status_code == 200
    with database.transaction() as session:
        done = run_retention(session, all_declarations(), clock=FixedClock(now))
    assert done["vault.document"] == 1
    assert {d["id"] for d in client.get("/v1/vault/documents").json()} == {downloaded, fresh}
    # the row and wrapped keys are gone now; the blob at the next gc
    with database.transaction() as session:
        removed = collect_garbage(
            session, app.state.vault.store, timedelta(0), FixedClock(now + timedelta(seconds=5))
        )
    assert len(removed) == 1
    assert len(list(app.state.vault.store.list())) == 2
    assert "vault.document.delete" in _actions(database)


def test_header_of_prefix_waits_for_the_whole_header_and_refuses_garbage_early() -> None:
    env = sealed(b"x" * 1000, ec.generate_private_key(ec.SECP256R1()))
    head = len(envelope.read_header(io.BytesIO(env)).encode())
    for cut in (0, 1, 24, head // 2, head - 1):
        assert uploads.header_of_prefix(env[:cut]) is None
    parsed = uploads.header_of_prefix(env[:head])
    assert parsed is not None
    assert parsed.encode() == env[:head]
    with pytest.raises(InvalidEnvelope):
        uploads.header_of_prefix(b"NOPE" + env[4:head])


def test_a_bad_header_or_a_taken_id_is_refused_before_the_body_is_spooled(
    client: TestClient, act_as: ActAs, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vault.blobstore import spool_for as real_spool_for

    spooled: list[int] = []

    class Recording:
        """The real spool, counting what the upload writes to it."""

        def __init__(self, inner: Any) -> None:
            self._inner = inner

        def write(self, data: bytes) -> int:
            spooled.append(len(data))
            return int(self._inner.write(data))

        def __getattr__(self, name: str) -> Any:
            return getattr(self._inner, name)

        def __enter__(self) -> Recording:
            self._inner.__enter__()
            return self

        def __exit__(self, *exc: object) -> None:
            self._inner.__exit__(*exc)

    def recording_spool_for(store: Any) -> Any:
        return Recording(real_spool_for(store))

    monkeypatch.setattr("vault.api.spool_for", recording_spool_for)
    act_as(factories.applicant())
    key = ec.generate_private_key(ec.SECP256R1())
    env = sealed(random_doc(150_000), key)
    r = client.post("/v1/vault/documents", content=b"NOPE" + env[4:], headers=OCTET)
    assert r.status_code == 422
    assert spooled == []
    assert client.post("/v1/vault/documents", content=env, headers=OCTET).status_code == 201
    spooled.clear()
    again = client.post("/v1/vault/documents", content=env, headers=OCTET)
    assert again.status_code == 422
    assert spooled == []
