"""What the delivery service refuses, and how: FIT-Connect-style problem documents."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from commons.db import Database
from commons.settings import Settings
from compliance.models import AccessEntry
from gateway.delivery.runtime import DeliveryRuntime
from gateway.delivery.service import Problem
from gateway.fitconnect import encrypt
from tests.factories import applicant, caseworker, flow_client
from tests.gateway.delivery.conftest import (
    EE_DESTINATION,
    LEIKA,
    TF_DESTINATION,
    ActAs,
    Keys,
    new_attachment_id,
)
from tests.gateway.delivery.test_lifecycle import BASE, announce, submit_body, upload


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["type"].startswith("https://schema.fitko.de/fit-connect/")
    return body


def test_unknown_destination_names_the_known_ones(client: TestClient, act_as: ActAs) -> None:
    body = _problem(client.get(f"{BASE}/destinations/not-a-uuid"), 404)
    assert TF_DESTINATION in body["detail"]
    assert EE_DESTINATION in body["detail"]
    act_as(applicant())
    response = client.post(
        f"{BASE}/submissions",
        json={
            "destinationId": "11111111-1111-4111-8111-111111111111",
            "publicService": {"name": "x", "identifier": LEIKA},
        },
    )
    assert sorted(_problem(response, 404)["known"]) == sorted([TF_DESTINATION, EE_DESTINATION])


def test_submit_refused_while_attachments_are_missing(
    client: TestClient, act_as: ActAs, keys: Keys
) -> None:
    act_as(applicant())
    missing = new_attachment_id()
    created = announce(client, [missing])
    body, _m, _d = submit_body(keys)
    refused = _problem(client.put(f"{BASE}/submissions/{created['submissionId']}", json=body), 422)
    assert refused["missing"][0]["instance"] == f"attachment:{missing}"
    assert "nicht hochgeladen" in refused["missing"][0]["detail"]["de"]
    assert "not uploaded" in refused["missing"][0]["detail"]["en"]


def test_registered_submit_checks_refuse(
    client: TestClient, act_as: ActAs, keys: Keys, runtime: DeliveryRuntime
) -> None:
    runtime.submit_checks.append(
        lambda session, submission: [
            Problem("urn:test:fee", "fee not paid", "Gebühr nicht bezahlt")
        ]
    )
    act_as(applicant())
    created = announce(client, [])
    body, _m, _d = submit_body(keys)
    refused = _problem(client.put(f"{BASE}/submissions/{created['submissionId']}", json=body), 422)
    assert refused["missing"] == [
        {"type": "urn:test:fee", "detail": {"de": "Gebühr nicht bezahlt", "en": "fee not paid"}}
    ]


def test_bad_uploads(
    client: TestClient, act_as: ActAs, keys: Keys, runtime: DeliveryRuntime
) -> None:
    act_as(applicant())
    attachment_id = new_attachment_id()
    sid = announce(client, [attachment_id])["submissionId"]
    good = encrypt(b"doc", keys.encryption_jwk, "application/pdf").compact
    wrong_kid = encrypt(
        b"doc", {**keys.encryption_jwk, "kid": "someone-elses-kid"}, "application/pdf"
    )
    assert "kid" in _problem(upload(client, sid, attachment_id, wrong_kid.compact), 422)["detail"]
    _problem(upload(client, sid, attachment_id, "not.a.jwe"), 422)
    flipped = good[:-30] + ("A" if good[-30] != "A" else "B") + good[-29:]
    parts = good.split(".")
    _problem(
        upload(client, sid, attachment_id, ".".join([*parts[:3], parts[3] + "!", parts[4]])), 422
    )
    assert flipped  # a flipped ciphertext bit cannot be seen without the key: the authority's check
    wrong_media = client.put(
        f"{BASE}/submissions/{sid}/attachments/{attachment_id}",
        content=good.encode(),
        headers={"Content-Type": "application/octet-stream"},
    )
    _problem(wrong_media, 415)
    _problem(upload(client, sid, new_attachment_id(), good), 404)  # not announced
    object.__setattr__(
        runtime, "config", runtime.config.model_copy(update={"max_attachment_bytes": 100})
    )
    too_big = _problem(upload(client, sid, attachment_id, good), 413)
    assert too_big["limit"] == 100


def test_too_many_attachments(client: TestClient, act_as: ActAs, runtime: DeliveryRuntime) -> None:
    act_as(applicant())
    runtime.config = runtime.config.model_copy(update={"max_attachments": 2})
    response = client.post(
        f"{BASE}/submissions",
        json={
            "destinationId": TF_DESTINATION,
            "announcedAttachments": [new_attachment_id() for _ in range(3)],
            "publicService": {"name": "x", "identifier": LEIKA},
        },
    )
    _problem(response, 413)


def test_scope_missing_is_403_insufficient_scope(client: TestClient, act_as: ActAs) -> None:
    act_as(flow_client(scopes=frozenset({"submissions:read"})))
    response = client.post(
        f"{BASE}/submissions",
        json={"destinationId": TF_DESTINATION, "publicService": {"name": "x", "identifier": LEIKA}},
    )
    assert response.status_code == 403
    assert 'error="insufficient_scope"' in response.headers["www-authenticate"]
    assert response.json()["required_scope"] == "submissions:write"


def test_caseworkers_cannot_send(client: TestClient, act_as: ActAs) -> None:
    act_as(caseworker("tf"))
    response = client.post(
        f"{BASE}/submissions",
        json={"destinationId": TF_DESTINATION, "publicService": {"name": "x", "identifier": LEIKA}},
    )
    assert response.status_code == 403


def test_other_authority_and_other_sender_get_404_and_it_is_audited(
    client: TestClient, act_as: ActAs, keys: Keys, database: Database
) -> None:
    act_as(applicant())
    created = announce(client, [])
    body, _m, _d = submit_body(keys)
    assert client.put(f"{BASE}/submissions/{created['submissionId']}", json=body).status_code == 202
    act_as(caseworker("ee"))
    _problem(client.get(f"{BASE}/submissions/{created['submissionId']}"), 404)
    _problem(client.get(f"{BASE}/cases/{created['caseId']}/events"), 404)
    listed = client.get(f"{BASE}/submissions", params={"destinationId": TF_DESTINATION})
    assert listed.status_code == 403
    mine = client.get(f"{BASE}/submissions", params={"destinationId": EE_DESTINATION}).json()
    assert mine["totalCount"] == 0
    act_as(applicant())  # another applicant
    _problem(client.get(f"{BASE}/submissions/{created['submissionId']}"), 404)
    with database.transaction() as session:
        denied = list(
            session.scalars(
                select(AccessEntry.actor_authority).where(AccessEntry.outcome == "denied")
            )
        )
    assert denied.count("ee") == 2
    assert len(denied) == 3


def test_manifest_shape_is_validated_and_closed(
    client: TestClient, act_as: ActAs, keys: Keys, runtime: DeliveryRuntime
) -> None:
    # the delivery service's own manifest checks; the cases component's rules (which need a
    # case) are tested in tests/gateway/cases and tests/gateway/test_end_to_end.py
    runtime.submit_checks.clear()
    act_as(applicant())
    attachment_id = new_attachment_id()
    document = encrypt(b"passport bytes", keys.encryption_jwk, "application/pdf")
    body, _metadata, _data = submit_body(keys)
    manifest = {
        "format": "ozg-manifest/1",
        "caseId": "0190a0b0-c0d0-7e00-8f00-00000000c0de",
        "flow": "employment",
        "authority": "tf",
        "paymentId": "0190a0b0-c0d0-7e00-8f00-000000000001",
        "parts": [
            {"attachmentId": attachment_id, "documentType": "passport", "size": 14},
            {"part": "data", "documentType": "form", "size": len(b'{"form":"values"}')},
            {"part": "metadata", "documentType": "fit-connect-metadata",
             "size": len(b'{"contentStructure":{"attachments":[]}}')},
        ],
    }  # fmt: skip
    for bad in (
        {**manifest, "fileName": "passport.pdf"},
        {k: v for k, v in manifest.items() if k != "caseId"},
        {**manifest, "authority": "ee"},
        {**manifest, "format": "ozg-manifest/2"},
        {**manifest, "parts": manifest["parts"][1:]},
    ):
        response = client.post(
            f"{BASE}/submissions",
            json={
                "destinationId": TF_DESTINATION,
                "announcedAttachments": [attachment_id],
                "publicService": {"name": "x", "identifier": LEIKA},
                "ozgManifest": bad,
            },
        )
        assert response.status_code == 422, (bad, response.text)
    created = announce(client, [attachment_id], ozgManifest=manifest)
    sid = created["submissionId"]
    wrong_size = encrypt(b"passport bytes!", keys.encryption_jwk, "application/pdf")
    assert (
        "ozgManifest"
        in _problem(upload(client, sid, attachment_id, wrong_size.compact), 422)["detail"]
    )
    assert upload(client, sid, attachment_id, document.compact).status_code == 204
    assert client.put(f"{BASE}/submissions/{sid}", json=body).status_code == 202
    act_as(caseworker("tf"))
    assert client.get(f"{BASE}/submissions/{sid}").json()["ozgManifest"]["flow"] == "employment"


def test_event_with_wrong_tags_or_signature_is_refused(
    client: TestClient, act_as: ActAs, keys: Keys, runtime: DeliveryRuntime, app: FastAPI
) -> None:
    from gateway.fitconnect import issue_event

    act_as(applicant())
    created = announce(client, [])
    body, metadata, _data = submit_body(keys)
    client.put(f"{BASE}/submissions/{created['submissionId']}", json=body)
    act_as(caseworker("tf"))

    def post(tags: dict[str, Any], key: Any = keys.signing) -> Any:
        token = issue_event(
            "accept-submission",
            submission_id=created["submissionId"],
            case_id=created["caseId"],
            issuer=TF_DESTINATION,
            signing_key=key,
            kid=keys.signing_jwk["kid"],
            now=runtime.clock.now(),
            payload={"authenticationTags": tags},
        )
        return client.post(f"{BASE}/cases/{created['caseId']}/events", content=token)

    assert post({"metadata": "A" * 21 + "w", "attachments": {}}).status_code == 409
    assert post({"metadata": metadata.tag}, key=keys.encryption).status_code == 422


def test_production_refuses_to_start_without_the_signing_key() -> None:
    from gateway.delivery.runtime import config_problems

    settings = Settings(env="production")
    assert any("OZG_DELIVERY_SIGNING_KEY" in p for p in config_problems(settings))
    bad = Settings(sections={"delivery": {"signing_key": "not a key"}})
    assert config_problems(bad) == ["OZG_DELIVERY_SIGNING_KEY is not a PEM private key"]


def test_development_generates_the_signing_key_under_data_dir(tmp_path: Path) -> None:
    from gateway.delivery.runtime import DeliveryRuntime, DeliverySettings
    from vault.blobstore import FilesystemBlobStore

    settings = Settings(data_dir=tmp_path)
    runtime = DeliveryRuntime(
        settings, settings.section(DeliverySettings), FilesystemBlobStore(tmp_path / "b")
    )
    identity = runtime.signing()
    path = tmp_path / "delivery" / "signing-key.pem"
    assert path.stat().st_mode & 0o777 == 0o600
    again = DeliveryRuntime(
        settings, settings.section(DeliverySettings), FilesystemBlobStore(tmp_path / "b")
    )
    assert again.signing().kid == identity.kid
    assert identity.jwk["alg"] == "PS512"
    assert "d" not in identity.jwk
