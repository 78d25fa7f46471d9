"""The metadata-only read (``GET /v1/vault/documents/metadata``, ``.../{id}/metadata``):
headers and metadata records, never content; scoped like every vault read; one
``vault.document.metadata_read`` per document; the wire format of docs/envelope.md §13 and
its vectors."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient
from sqlalchemy import select

from account import Principal
from commons.db import Database
from commons.settings import Settings
from compliance.models import AccessEntry, AccessPersonal
from tests import factories
from tests.vault.helpers import authority_key, pki_settings, random_doc
from vault import envelope
from vault.client.sdk import open_sealed_metadata
from vault.errors import InvalidEnvelope
from vault.models import Document
from vault.recipients import public_key_from_jwk

ActAs = Callable[[Principal | None], None]
OCTET = {"content-type": "application/octet-stream"}
VECTORS = Path(__file__).parents[1] / "vectors" / "vault-metadata-v1.json"
READ = "vault.document.metadata_read"


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    """The test PKI's anchors (the suite's ``app`` is built from these settings)."""
    return pki_settings(tmp_path, database_url)


def _entries(database: Database) -> list[tuple[str, str, str | None]]:
    """(action, resource, actor subject) of every access entry, oldest first."""
    with database.transaction() as s:
        rows = s.execute(
            select(AccessEntry.action, AccessPersonal.resource, AccessPersonal.actor_subject)
            .outerjoin(AccessPersonal, AccessPersonal.entry_id == AccessEntry.id)
            .order_by(AccessEntry.at, AccessEntry.id)
        )
        return [(a, r, who) for a, r, who in rows]


def _upload(client: TestClient, key: ec.EllipticCurvePrivateKey, name: str, size: int) -> str:
    out = io.BytesIO()
    envelope.seal(
        random_doc(size), out, [key.public_key()], filename=name, media_type="application/pdf"
    )
    r = client.post("/v1/vault/documents", content=out.getvalue(), headers=OCTET)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def _share(client: TestClient, act_as: ActAs, owner: Principal, doc_id: str, key: Any) -> None:
    act_as(factories.admin())
    _priv, jwk = authority_key("tf")
    r = client.post("/v1/vault/authorities/tf/keys", json={"jwk": jwk})
    assert r.status_code in (201, 409), r.text
    act_as(owner)
    item = client.get(f"/v1/vault/documents/{doc_id}/metadata").json()
    header = envelope.header_of(doc_id, base64.b64decode(item["header"]))
    active = client.get("/v1/vault/authorities/tf/key").json()
    stanza = envelope.wrap_for(envelope.unlock(header, key), public_key_from_jwk(active["jwk"]))
    body = {"stanza": base64.b64encode(stanza.encode()).decode()}
    assert client.put(f"/v1/vault/documents/{doc_id}/shares/tf", json=body).status_code == 200


def test_one_document_header_and_record_only_and_one_audit_entry(
    client: TestClient, act_as: ActAs, database: Database
) -> None:
    owner = factories.applicant()
    key = ec.generate_private_key(ec.SECP256R1())
    act_as(owner)
    doc_id = _upload(client, key, "Reisepass.pdf", 200_000)
    with database.transaction() as s:
        doc = s.get(Document, doc_id)
        assert doc is not None
        size = doc.envelope_size
    before = len(_entries(database))
    r = client.get(f"/v1/vault/documents/{doc_id}/metadata")
    assert r.status_code == 200, r.text
    item = r.json()
    assert set(item) == {"format", "id", "envelope_size", "header", "metadata_record", "stanza"}
    assert item["format"] == "ozg-vault metadata v1"
    assert (item["id"], item["envelope_size"], item["stanza"]) == (doc_id, size, None)
    header, record = base64.b64decode(item["header"]), base64.b64decode(item["metadata_record"])
    assert len(record) == envelope.TRAILER_LEN
    # exactly the envelope's first and last bytes: nothing of the body
    blob = client.get(f"/v1/vault/documents/{doc_id}/content").content
    assert blob.startswith(header)
    assert len(header) == len(envelope.read_header(io.BytesIO(blob)).encode())
    assert blob.endswith(record)
    assert len(header) + len(record) < size - 190_000
    meta = open_sealed_metadata(item, key)
    assert (meta.filename, meta.media_type, meta.size) == (
        "Reisepass.pdf",
        "application/pdf",
        200_000,
    )
    # one entry of its own, by the owner, about this document (the download made another)
    assert _entries(database)[before:] == [
        (READ, doc_id, owner.subject),
        ("vault.document.read", doc_id, owner.subject),
    ]


def test_a_metadata_read_does_not_count_as_use(
    client: TestClient, act_as: ActAs, database: Database
) -> None:
    act_as(factories.applicant())
    key = ec.generate_private_key(ec.SECP256R1())
    doc_id = _upload(client, key, "a.pdf", 10)
    client.get(f"/v1/vault/documents/{doc_id}/metadata")
    client.get("/v1/vault/documents/metadata")
    with database.transaction() as s:
        doc = s.get(Document, doc_id)
        assert doc is not None
        assert doc.last_used_at is None


def test_a_page_of_the_callers_documents_in_order_with_a_cursor(
    client: TestClient, act_as: ActAs, database: Database
) -> None:
    owner, other = factories.applicant(), factories.applicant()
    key = ec.generate_private_key(ec.SECP256R1())
    act_as(other)
    theirs = _upload(client, key, "theirs.pdf", 100)
    act_as(owner)
    mine = [_upload(client, key, f"doc-{i}.pdf", 100 + i) for i in range(5)]
    listed = [d["id"] for d in client.get("/v1/vault/documents").json()]
    assert sorted(listed) == sorted(mine)
    before = len(_entries(database))
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        r = client.get("/v1/vault/documents/metadata", params=params)
        assert r.status_code == 200, r.text
        body = r.json()
        pages += 1
        assert len(body["documents"]) <= 2
        seen += [d["id"] for d in body["documents"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert seen == listed  # the listing's order, each once, nobody else's
    assert theirs not in seen
    names = sorted(
        open_sealed_metadata(d, key).filename
        for d in client.get("/v1/vault/documents/metadata").json()["documents"]
    )
    assert names == [f"doc-{i}.pdf" for i in range(5)]
    reads = [(a, r) for a, r, _who in _entries(database)[before:]]
    assert reads[:5] == [(READ, d) for d in listed]  # one entry per document per read
    assert all(a == READ for a, _r in reads)
    # a deleted document's cursor still leads on
    r = client.get("/v1/vault/documents/metadata", params={"limit": 1})
    first_cursor = r.json()["next_cursor"]
    assert client.delete(f"/v1/vault/documents/{listed[0]}").status_code == 200
    rest = client.get("/v1/vault/documents/metadata", params={"cursor": first_cursor}).json()
    assert [d["id"] for d in rest["documents"]] == listed[1:]


@pytest.mark.parametrize(
    ("params", "status"),
    [({"limit": 0}, 422), ({"limit": 101}, 422), ({"cursor": "not-a-cursor"}, 422)],
)
def test_bad_paging_is_a_clear_422(
    client: TestClient, act_as: ActAs, params: dict[str, Any], status: int
) -> None:
    act_as(factories.applicant())
    r = client.get("/v1/vault/documents/metadata", params=params)
    assert r.status_code == status
    assert r.headers["content-type"].startswith("application/problem+json")


def test_scoping_cross_user_404_and_the_caseworker_gets_their_stanza(
    client: TestClient, act_as: ActAs, database: Database
) -> None:
    owner, stranger = factories.applicant(), factories.applicant()
    tf, ee = factories.caseworker("tf"), factories.caseworker("ee")
    key = ec.generate_private_key(ec.SECP256R1())
    act_as(owner)
    shared = _upload(client, key, "Mietvertrag.pdf", 3000)
    private = _upload(client, key, "Tagebuch.pdf", 3000)
    for who in (stranger, tf, ee):
        act_as(who)
        for doc_id in (shared, private):
            r = client.get(f"/v1/vault/documents/{doc_id}/metadata")
            assert r.status_code == 404, r.text
            assert r.json()["type"] == "urn:ozg-commons:problem:document-not-found"
        assert client.get("/v1/vault/documents/metadata").json()["documents"] == []
    # an unknown id and a malformed one are the same 404
    act_as(owner)
    for doc_id in ("0193c2a3-1111-7e22-8a33-445566778899", "not-a-uuid"):
        assert client.get(f"/v1/vault/documents/{doc_id}/metadata").status_code == 404
    actions = [a for a, r, _who in _entries(database) if r in (shared, private)]
    assert READ not in actions  # the refusals read nothing
    assert actions.count("vault.document.access_denied") == 6

    _share(client, act_as, owner, shared, key)
    act_as(tf)
    before = len(_entries(database))
    page = client.get("/v1/vault/documents/metadata").json()["documents"]
    assert [d["id"] for d in page] == [shared]
    auth_priv, _jwk = authority_key("tf")
    assert page[0]["stanza"] is not None
    assert open_sealed_metadata(page[0], auth_priv).filename == "Mietvertrag.pdf"
    one = client.get(f"/v1/vault/documents/{shared}/metadata").json()
    assert one == page[0]
    assert client.get(f"/v1/vault/documents/{private}/metadata").status_code == 404
    # recorded in the owner's log as the caseworker's metadata read: no key or content read
    new = _entries(database)[before:]
    assert [(a, r) for a, r, _w in new if a != "vault.document.access_denied"] == [
        (READ, shared),
        (READ, shared),
    ]
    assert {w for _a, _r, w in new} == {tf.subject}
    act_as(ee)
    assert client.get(f"/v1/vault/documents/{shared}/metadata").status_code == 404


def test_the_applicant_sees_the_entry_in_plain_language(client: TestClient, act_as: ActAs) -> None:
    act_as(factories.applicant())
    key = ec.generate_private_key(ec.SECP256R1())
    doc_id = _upload(client, key, "a.pdf", 10)
    client.get(f"/v1/vault/documents/{doc_id}/metadata")
    entries = client.get("/v1/me/access-log").json()["entries"]
    read = [e for e in entries if e["action"] == READ]
    assert len(read) == 1
    assert read[0]["document_id"] == doc_id
    assert read[0]["what"]["en"].startswith("The encrypted name and type of your document")
    assert read[0]["what"]["de"].startswith("Der verschlüsselte Name")


def test_the_dpo_can_query_metadata_reads(client: TestClient, act_as: ActAs) -> None:
    owner = factories.applicant()
    act_as(owner)
    key = ec.generate_private_key(ec.SECP256R1())
    doc_id = _upload(client, key, "a.pdf", 10)
    client.get("/v1/vault/documents/metadata")
    act_as(factories.dpo())
    rows = client.get("/v1/audit/entries", params={"action": READ}).json()["entries"]
    assert [(r["action"], r["resource"]) for r in rows] == [(READ, doc_id)]


# --------------------------------------------------------------------------- the vectors
def _vectors() -> list[dict[str, Any]]:
    data = json.loads(VECTORS.read_text())
    assert data["format"] == "ozg-vault metadata v1"
    vectors: list[dict[str, Any]] = data["vectors"]
    return vectors


def _key(vector: dict[str, Any]) -> Any:
    return serialization.load_pem_private_key(vector["private_key_pem"].encode(), None)


@pytest.mark.parametrize("vector", _vectors(), ids=lambda v: v["name"])
def test_the_vectors_open_or_are_refused(vector: dict[str, Any]) -> None:
    if vector["valid"]:
        meta = open_sealed_metadata(vector["item"], _key(vector))
        expected = vector["metadata"]
        assert (meta.filename, meta.media_type, meta.size, meta.content_hash) == (
            expected["filename"],
            expected["media_type"],
            expected["size"],
            expected["content_hash"],
        )
    else:
        with pytest.raises(InvalidEnvelope):
            open_sealed_metadata(vector["item"], _key(vector))


def test_the_vectors_match_the_envelope_vectors_they_come_from() -> None:
    """Each valid item is the envelope vector's header and last 4112 bytes."""
    envelopes = {
        v["name"]: v
        for v in json.loads((VECTORS.parent / "envelope-v1.json").read_text())["vectors"]
    }
    for vector in _vectors():
        if not vector["valid"]:
            continue
        source = envelopes[vector["envelope_vector"]]
        env = bytes.fromhex(source["envelope_hex"])
        item = vector["item"]
        assert item["envelope_size"] == len(env)
        assert env.startswith(base64.b64decode(item["header"]))
        assert env.endswith(base64.b64decode(item["metadata_record"]))
        assert item["id"] == source["document_id"]


def test_the_vectors_are_what_make_vectors_writes() -> None:
    from tests.vault.make_vectors import build_metadata

    envelopes = json.loads((VECTORS.parent / "envelope-v1.json").read_text())["vectors"]
    assert build_metadata(envelopes) == _vectors()
