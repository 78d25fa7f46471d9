"""The audit API through the gateway: log endpoints, DPO views, the applicant's access log."""

from __future__ import annotations

import base64
import csv
import io
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from account.principal import Principal
from commons.clock import FixedClock
from commons.db import Database
from commons.settings import Settings
from compliance import Actor, merkle, note, record_access, views
from compliance.errors import VerificationFailed
from compliance.note import Signer
from compliance.sequencer import sequence_all
from compliance.verify import verify_export
from gateway.app import create_app
from tests.compliance.conftest import T0, event
from tests.factories import applicant, caseworker, dpo

ActAs = Callable[[Principal | None], None]


def _record(database: Database, *events: object) -> None:
    with database.transaction() as session:
        for e in events:
            record_access(session, e)  # type: ignore[arg-type]


def _sequence(app: FastAPI, database: Database) -> None:
    sequence_all(database, app.state.audit.identity)


def test_public_log_endpoints_serve_checkpoint_and_proofs(
    app: FastAPI, client: TestClient, database: Database, act_as: ActAs
) -> None:
    _record(database, *[event(f"s{i}") for i in range(5)])
    _sequence(app, database)
    key = client.get("/v1/audit/log-key").json()
    verifier = note.Verifier.from_string(key["verifier_key"])
    body = client.get("/v1/audit/checkpoint").json()
    cp = note.verify_checkpoint(body["checkpoint"], verifier, key["origin"])
    assert cp.size == body["size"] == 5
    act_as(dpo())
    leaves = client.get("/v1/audit/leaves", params={"start": 0, "end": 5}).json()["leaves"]
    hashes = [merkle.leaf_hash(base64.b64decode(x["leaf"])) for x in leaves]
    for i, h in enumerate(hashes):
        proof = client.get("/v1/audit/proofs/inclusion", params={"index": i, "size": 5}).json()
        merkle.verify_inclusion(i, 5, h, [base64.b64decode(p) for p in proof["proof"]], cp.root)
    tree = merkle.MemoryTree()
    tree.extend_hashes(hashes[:3])
    proof = client.get("/v1/audit/proofs/consistency", params={"size1": 3, "size2": 5}).json()
    merkle.verify_consistency(
        3, 5, tree.root(), cp.root, [base64.b64decode(p) for p in proof["proof"]]
    )
    assert (
        client.get("/v1/audit/proofs/inclusion", params={"index": 5, "size": 5}).status_code == 422
    )
    assert (
        client.get("/v1/audit/proofs/consistency", params={"size1": 1, "size2": 9}).status_code
        == 422
    )


def _pending_metric(client: TestClient) -> float:
    lines = client.get("/metrics").text.splitlines()
    return float(next(x for x in lines if x.startswith("ozg_audit_pending_entries ")).split()[1])


def test_metrics_show_the_sequencers_queue(
    app: FastAPI, client: TestClient, database: Database
) -> None:
    before = _pending_metric(client)
    _record(database, *[event(f"q{i}") for i in range(3)])
    assert _pending_metric(client) == before + 3
    _sequence(app, database)
    assert _pending_metric(client) == 0


def test_leaf_data_is_for_dpos_only(client: TestClient, act_as: ActAs) -> None:
    act_as(None)
    assert client.get("/v1/audit/leaves", params={"start": 0, "end": 1}).status_code == 401
    act_as(caseworker())
    assert client.get("/v1/audit/leaves", params={"start": 0, "end": 1}).status_code == 403


def test_a_dpo_bound_to_one_authority_reads_only_its_leaves(
    app: FastAPI, client: TestClient, database: Database, act_as: ActAs
) -> None:
    from compliance import leaf as leaf_format

    _record(
        database,
        event("s0", authority="tf"),
        event("s1", authority="ee"),
        event("s2", authority="tf"),
        event("s3", authority=None),
    )
    _sequence(app, database)
    params = {"start": 0, "end": 4}

    def authorities(leaves: list[dict[str, object]]) -> list[tuple[object, str | None]]:
        decoded = [leaf_format.decode(base64.b64decode(str(x["leaf"]))) for x in leaves]
        return [(x["index"], d["actor_authority"]) for x, d in zip(leaves, decoded, strict=True)]

    act_as(dpo("tf"))
    assert authorities(client.get("/v1/audit/leaves", params=params).json()["leaves"]) == [
        (0, "tf"),
        (2, "tf"),
    ]
    act_as(dpo("ee"))
    assert authorities(client.get("/v1/audit/leaves", params=params).json()["leaves"]) == [
        (1, "ee")
    ]
    act_as(dpo("operator"))
    everything = client.get("/v1/audit/leaves", params=params).json()["leaves"]
    assert [x["index"] for x in everything] == [0, 1, 2, 3]
    # the Merkle tree stays public: proofs need no role
    act_as(None)
    assert client.get("/v1/audit/proofs/inclusion", params={"index": 1, "size": 4}).status_code == (
        200
    )


def test_dpo_query_is_scoped_filtered_paginated_and_itself_recorded(
    app: FastAPI, client: TestClient, database: Database, act_as: ActAs
) -> None:
    _record(
        database,
        *[event("anna", actor="off-tf", authority="tf") for _ in range(3)],
        event("bert", actor="off-ee", authority="ee", action="account.profile.update"),
    )
    act_as(dpo("tf"))
    page = client.get("/v1/audit/entries", params={"limit": 2}).json()
    assert len(page["entries"]) == 2
    assert page["next_cursor"]
    rest = client.get("/v1/audit/entries", params={"limit": 2, "cursor": page["next_cursor"]})
    ids = {e["id"] for e in page["entries"]} | {e["id"] for e in rest.json()["entries"]}
    assert len(ids) == 3  # only tf's actors, and the DPO's own reads are not tf-bound? see below
    assert all(e["actor_authority"] == "tf" for e in page["entries"])
    act_as(dpo("operator"))
    bert = client.get("/v1/audit/entries", params={"data_subject": "bert"}).json()["entries"]
    assert [e["action"] for e in bert] == ["account.profile.update"]
    assert (
        client.get(
            "/v1/audit/entries", params={"action": "account.profile.update", "actor": "off-ee"}
        ).json()["entries"][0]["data_subject"]
        == "bert"
    )
    reads = client.get("/v1/audit/entries", params={"action": "compliance.audit_log.read"})
    assert len(reads.json()["entries"]) >= 2  # the DPO queries were recorded
    summary = client.get("/v1/audit/summary", params={"action": "vault.document.read"}).json()
    assert summary["counts"][0] == {
        "actor": "off-tf",
        "role": "caseworker",
        "authority": "tf",
        "action": "vault.document.read",
        "outcome": "success",
        "count": 3,
    }
    assert (
        client.get("/v1/audit/entries", params={"since": "2026-01-01T00:00:00"}).status_code == 422
    )
    assert client.get("/v1/audit/entries", params={"cursor": "nonsense"}).status_code == 422


def test_exports_are_not_capped_and_come_in_batches(
    app: FastAPI,
    client: TestClient,
    database: Database,
    act_as: ActAs,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Batches of 3 over 10 entries: every entry once, oldest first, each proof valid."""
    monkeypatch.setattr(views, "EXPORT_BATCH", 3)
    _record(database, *[event("dora") for _ in range(10)])
    _sequence(app, database)
    act_as(dpo())
    doc = client.get("/v1/audit/export", params={"data_subject": "dora"}).json()
    ids = [e["id"] for e in doc["entries"]]
    assert len(ids) == len(set(ids)) == 10
    assert [e["leaf_index"] for e in doc["entries"]] == sorted(
        e["leaf_index"] for e in doc["entries"]
    )
    report = verify_export(doc, verifier_key=app.state.audit.identity.signer.verifier_key)
    assert report.proofs_checked == 10
    response = client.get("/v1/audit/export", params={"data_subject": "dora", "format": "csv"})
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["id"] for r in rows if r["action"] == "vault.document.read"] == ids
    assert list(rows[0]) == [*views.CSV_COLUMNS, "checkpoint_size"]


def test_exports_carry_their_checkpoint_and_verify(
    app: FastAPI, client: TestClient, database: Database, act_as: ActAs
) -> None:
    _record(database, *[event("carla") for _ in range(4)])
    _sequence(app, database)
    act_as(dpo())
    doc = client.get("/v1/audit/export", params={"data_subject": "carla"}).json()
    report = verify_export(doc, verifier_key=app.state.audit.identity.signer.verifier_key)
    assert report.proofs_checked == 4
    doc["entries"][0]["purpose"] = "something else"
    with pytest.raises(VerificationFailed, match="purpose"):
        verify_export(doc, verifier_key=None)
    response = client.get("/v1/audit/export", params={"data_subject": "carla", "format": "csv"})
    rows = list(csv.DictReader(io.StringIO(response.text)))
    # the four reads, plus the first export itself (recorded, about carla, not yet sequenced)
    assert [r["action"] for r in rows].count("vault.document.read") == 4
    assert [r["action"] for r in rows].count("compliance.audit_log.export") == 1
    assert rows[0]["checkpoint_size"] == "4"
    assert (
        base64.b64decode(response.headers["Audit-Checkpoint"])
        .decode()
        .startswith(app.state.audit.identity.origin)
    )


def test_the_applicants_own_actions_are_by_you(
    app: FastAPI, client: TestClient, database: Database, act_as: ActAs
) -> None:
    """The applicant's own actions read "you" (the portal and the command line say so in
    their language), not the operator's name; the operator's own system stays itself."""
    me = applicant()
    own = replace(event(me.subject), actor=Actor(subject=me.subject, role="applicant"))
    system = replace(own, actor=Actor(subject="ozg-commons", role="admin"))
    _record(database, own, system, event(me.subject))
    _sequence(app, database)
    act_as(me)
    entries = client.get("/v1/me/access-log").json()["entries"]
    assert sorted(e["who"] for e in entries) == ["ozg-commons", "tf", "you"]
    assert views.actor_name("applicant", None, None) == views.YOU == "you"


def test_applicant_sees_own_entries_newest_first_with_proofs_and_restrictions(
    app: FastAPI, client: TestClient, database: Database, act_as: ActAs
) -> None:
    clock = FixedClock(T0)
    app.state.audit = type(app.state.audit)(
        app.state.audit.identity, app.state.audit.actions, clock
    )
    me = applicant()
    with database.transaction() as session:
        record_access(session, event(me.subject, purpose="first"), clock=clock)
        clock.advance(timedelta(minutes=1))
        record_access(
            session,
            event(me.subject, action="compliance.audit_log.read", purpose="second"),
            clock=clock,
        )
        clock.advance(timedelta(minutes=1))
        record_access(
            session,
            event(me.subject, purpose="covert", disclosed_after=T0 + timedelta(days=30)),
            clock=clock,
        )
        record_access(session, event("somebody-else"), clock=clock)
        clock.advance(timedelta(seconds=1))
        record_access(
            session,
            event(me.subject, action="test.unregistered.read", purpose="third"),
            clock=clock,
        )
    _sequence(app, database)
    act_as(me)
    body = client.get("/v1/me/access-log").json()
    assert [e["why"]["purpose"] for e in body["entries"]] == ["third", "second", "first"]
    # an action nobody registered still reads as plain language, naming the action
    assert body["entries"][0]["what"]["en"] == "Access to your data (test.unregistered.read)"
    body["entries"] = body["entries"][1:]
    second = body["entries"][0]
    assert second["what"]["de"].startswith("Eine Datenschutzbeauftragte")
    assert second["what"]["en"].startswith("A data-protection officer")
    # vault registers this action with its own plain-language text
    assert body["entries"][1]["what"]["en"] == "Your encrypted document was downloaded."
    # ... whose resource is a document: the device shows its name from the document's id
    assert body["entries"][1]["document_id"] == f"document:{me.subject}-passport"
    assert second["document_id"] is None  # compliance.audit_log.read names no document
    assert second["who"] == "tf"
    assert second["outcome"]["de"] == "erfolgt"
    verifier = note.Verifier.from_string(body["verifier_key"])
    cp = note.verify_checkpoint(body["checkpoint"], verifier)
    for e in body["entries"]:
        merkle.verify_inclusion(
            e["leaf_index"],
            cp.size,
            merkle.leaf_hash(base64.b64decode(e["leaf"])),
            [base64.b64decode(p) for p in e["inclusion_proof"]],
            cp.root,
        )
    clock.advance(timedelta(days=31))
    purposes = [e["why"]["purpose"] for e in client.get("/v1/me/access-log").json()["entries"]]
    assert purposes == ["third", "covert", "second", "first"]
    act_as(dpo())
    assert any(e["purpose"] == "covert" for e in client.get("/v1/audit/entries").json()["entries"])


def test_witness_and_dpo_cosignatures_are_verified_stored_and_served(
    tmp_path: Path, database_url: str, database: Database, act_as: ActAs
) -> None:
    witness = Signer.generate("witness.example")
    settings = Settings(
        data_dir=tmp_path / "var",
        database_url=database_url,
        sections={"compliance": {"witness_keys": [witness.verifier_key]}},
    )
    app = create_app(settings, database)

    _record(database, event())
    _sequence(app, database)
    with TestClient(app) as client:
        cp = client.get("/v1/audit/checkpoint").json()
        text = cp["checkpoint"].split("\n\n")[0] + "\n"
        url = f"/v1/audit/checkpoints/{cp['size']}/cosignatures"
        stranger = Signer.generate("stranger.example")
        assert (
            client.post(url, json={"signature_line": stranger.sign_line(text)}).status_code == 422
        )
        assert (
            client.post(url, json={"signature_line": witness.sign_line("x\n")}).status_code == 422
        )
        ok = client.post(url, json={"signature_line": witness.sign_line(text)})
        assert ok.status_code == 200, ok.text
        app.dependency_overrides.clear()
        from account.auth import audit_caller as bridge
        from account.auth import current_principal
        from compliance.api import caller

        app.dependency_overrides[caller] = bridge
        app.dependency_overrides[current_principal] = lambda: dpo()
        mine = Signer.generate("dpo.tf.example")
        dpo_url = f"/v1/audit/checkpoints/{cp['size']}/dpo-cosignatures"
        got = client.post(
            dpo_url,
            json={"signature_line": mine.sign_line(text), "verifier_key": mine.verifier_key},
        )
        assert got.status_code == 200, got.text
        served = client.get("/v1/audit/checkpoint").json()
        assert {c["key_name"] for c in served["cosignatures"]} == {
            "witness.example",
            "dpo.tf.example",
        }
        full = served["checkpoint_with_cosignatures"]
        note.open_note(full, note.Verifier.from_string(witness.verifier_key))
        note.open_note(full, note.Verifier.from_string(mine.verifier_key))
