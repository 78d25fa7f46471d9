"""The whole FIT-Connect lifecycle over the API: announce, upload, submit, fetch as the
subscriber, decrypt with the destination's private key, accept with the echoed tags, and
verify every event of the log."""

from __future__ import annotations

import json
import zlib
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from commons.db import Database
from commons.encoding import b64url_encode
from compliance.models import AccessEntry
from gateway.delivery.runtime import DeliveryRuntime
from gateway.fitconnect import decrypt, encrypt, issue_event, verify_event
from gateway.fitconnect.keys import destination_public_key
from tests.factories import applicant, caseworker, flow_client
from tests.gateway.delivery.conftest import LEIKA, TF_DESTINATION, ActAs, Keys, new_attachment_id

BASE = "/fit-connect/v1"


def announce(client: TestClient, attachments: list[str], **extra: Any) -> dict[str, str]:
    body = {
        "destinationId": TF_DESTINATION,
        "announcedAttachments": attachments,
        "publicService": {"name": "Aufenthaltserlaubnis", "identifier": LEIKA},
        **extra,
    }
    response = client.post(f"{BASE}/submissions", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, str] = response.json()
    return created


def upload(client: TestClient, submission_id: str, attachment_id: str, compact: str) -> Any:
    return client.put(
        f"{BASE}/submissions/{submission_id}/attachments/{attachment_id}",
        content=compact.encode(),
        headers={"Content-Type": "application/jose"},
    )


def submit_body(keys: Keys) -> tuple[dict[str, str], Any, Any]:
    metadata = encrypt(
        b'{"contentStructure":{"attachments":[]}}', keys.encryption_jwk, "application/json"
    )
    data = encrypt(b'{"form":"values"}', keys.encryption_jwk, "application/json")
    return {"encryptedMetadata": metadata.compact, "encryptedData": data.compact}, metadata, data


def test_full_lifecycle(
    client: TestClient, act_as: ActAs, keys: Keys, runtime: DeliveryRuntime, database: Database
) -> None:
    sender = applicant()
    act_as(sender)
    attachment_id = new_attachment_id()
    created = announce(client, [attachment_id])
    submission_id, case_id = created["submissionId"], created["caseId"]
    assert created["destinationId"] == TF_DESTINATION
    document = encrypt(b"%PDF-1.7 passport", keys.encryption_jwk, "application/pdf")
    assert upload(client, submission_id, attachment_id, document.compact).status_code == 204
    body, metadata, data = submit_body(keys)
    response = client.put(f"{BASE}/submissions/{submission_id}", json=body)
    assert response.status_code == 202, response.text
    assert response.json()["caseId"] == case_id

    # the subscriber lists, fetches and decrypts
    act_as(caseworker("tf"))
    listed = client.get(f"{BASE}/submissions", params={"destinationId": TF_DESTINATION}).json()
    assert listed["totalCount"] == 1
    assert listed["submissions"] == [created]
    fetched = client.get(f"{BASE}/submissions/{submission_id}").json()
    assert fetched["attachments"] == [attachment_id]
    assert fetched["publicService"]["identifier"] == LEIKA
    assert decrypt(fetched["encryptedData"], keys.encryption).plaintext == b'{"form":"values"}'
    raw = client.get(f"{BASE}/submissions/{submission_id}/attachments/{attachment_id}")
    assert raw.headers["content-type"].startswith("application/jose")
    opened = decrypt(raw.text, keys.encryption)
    assert opened.plaintext == b"%PDF-1.7 passport"

    # accept, echoing the tags
    token = issue_event(
        "accept-submission",
        submission_id=submission_id,
        case_id=case_id,
        issuer=TF_DESTINATION,
        signing_key=keys.signing,
        kid=keys.signing_jwk["kid"],
        now=runtime.clock.now(),
        payload={
            "authenticationTags": {
                "metadata": metadata.tag,
                "data": data.tag,
                "attachments": {attachment_id: opened.tag},
            }
        },
    )
    posted = client.post(
        f"{BASE}/cases/{case_id}/events",
        content=token,
        headers={"Content-Type": "application/jose"},
    )
    assert posted.status_code == 204, posted.text

    # the sender reads the log and verifies every event against its issuer's key
    act_as(sender)
    log = client.get(f"{BASE}/cases/{case_id}/events").json()["eventLog"]
    jwks = client.get("/fit-connect/.well-known/jwks.json").json()["keys"]
    service_keys = {k["kid"]: destination_public_key(k)[0] for k in jwks}
    names = []
    for item in log:
        header = json.loads(_b64(item.split(".")[0]))
        if header["kid"] in service_keys:
            event = verify_event(item, service_keys, issuer=runtime.issuer)
        else:
            key = client.get(f"{BASE}/destinations/{TF_DESTINATION}/keys/{header['kid']}").json()
            event = verify_event(
                item, {key["kid"]: destination_public_key(key)[0]}, issuer=TF_DESTINATION
            )
        assert event.case_id == case_id
        assert event.submission_id == submission_id
        names.append(event.name)
    assert names == [
        "create-submission",
        "submit-submission",
        "notify-submission",
        "accept-submission",
    ]
    with database.transaction() as session:
        actions = set(session.scalars(select(AccessEntry.action)))
    assert {"delivery.submission.create", "delivery.submission.submit",
            "delivery.submission.read", "delivery.submission.decide"} <= actions  # fmt: skip


def _b64(part: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def test_flow_client_sends_with_the_older_service_type_and_zip_def(
    client: TestClient, act_as: ActAs, keys: Keys
) -> None:
    act_as(flow_client())
    attachment_id = new_attachment_id()
    body = {
        "destinationId": TF_DESTINATION.upper(),
        "announcedAttachments": [attachment_id],
        "serviceType": {"name": "Aufenthaltserlaubnis", "identifier": LEIKA},
        "somethingNew": {"ignored": True},
    }
    response = client.post(f"{BASE}/submissions", json=body)
    assert response.status_code == 201, response.text
    submission_id = response.json()["submissionId"]
    compressed = deflate_jwe(b"x" * 5000, keys.encryption_jwk)
    assert upload(client, submission_id, attachment_id, compressed).status_code == 204
    body_, _m, _d = submit_body(keys)
    assert client.put(f"{BASE}/submissions/{submission_id}", json=body_).status_code == 202
    act_as(caseworker("tf"))
    raw = client.get(f"{BASE}/submissions/{submission_id}/attachments/{attachment_id}").text
    assert decrypt(raw, keys.encryption).plaintext == b"x" * 5000


def deflate_jwe(plaintext: bytes, jwk: dict[str, Any]) -> str:
    """A JWE with zip: DEF, as older FIT-Connect senders make them."""
    import os

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    public, kid = destination_public_key(jwk)
    header = b64url_encode(
        json.dumps({"alg": "RSA-OAEP-256", "enc": "A256GCM", "zip": "DEF", "kid": kid}).encode()
    )
    compressor = zlib.compressobj(wbits=-15)
    body = compressor.compress(plaintext) + compressor.flush()
    cek, iv = os.urandom(32), os.urandom(12)
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    sealed = AESGCM(cek).encrypt(iv, body, header.encode())
    parts = [public.encrypt(cek, oaep), iv, sealed[:-16], sealed[-16:]]
    return ".".join([header, *(b64url_encode(p) for p in parts)])


def test_destination_info_and_key(client: TestClient, keys: Keys) -> None:
    info = client.get(f"{BASE}/destinations/{TF_DESTINATION}").json()
    assert info["encryptionKid"] == keys.encryption_jwk["kid"]
    assert info["metadataVersions"] == ["1.0.0"]
    assert info["replyChannels"] == {"eMail": {}}
    assert info["services"][0]["identifier"] == LEIKA
    key = client.get(f"{BASE}/destinations/{TF_DESTINATION}/keys/{info['encryptionKid']}").json()
    assert key["key_ops"] == ["wrapKey"]
    assert "d" not in key
    from gateway.fitconnect import kid_for

    assert kid_for(key) == key["kid"]  # the RFC 7638 thumbprint
    assert client.get(f"{BASE}/destinations/{TF_DESTINATION}/keys/nope").status_code == 404
