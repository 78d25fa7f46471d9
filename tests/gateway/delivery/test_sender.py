"""The sender adapter against our own delivery service over real HTTP: uvicorn on a free
loopback port, tokens from the development IdP by client credentials (``demo-flow`` as the
sender, ``demo-subscriber-tf`` as the authority's subscriber software), nothing else
configured but the base URL and the token URL."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from commons.settings import Settings
from gateway.app import create_app
from gateway.delivery.destinations import InMemoryDestinations
from gateway.delivery.sender import FitConnectSender, OutgoingAttachment, SenderError
from gateway.fitconnect import decrypt, issue_event
from gateway.fitconnect.errors import InvalidDestinationKey
from gateway.migrations import upgrade
from tests.gateway.delivery.conftest import LEIKA, TF_DESTINATION, Keys, destination
from tests.services import serving

TOKEN_PATH = "/dev-idp/realms/ozg-dev/protocol/openid-connect/token"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def server(tmp_path: Path, keys: Keys) -> Iterator[str]:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    settings = Settings(
        data_dir=tmp_path / "srv",
        public_base_url=base,
        sections={"delivery": {"signing_key": keys.delivery_pem}},
    )
    settings.data_dir.mkdir(parents=True)
    upgrade(settings.effective_database_url)
    app = create_app(settings)
    app.state.delivery.directory = InMemoryDestinations([destination(keys)])
    with serving(app, port, log_config=None, access_log=False):
        yield base


def test_sender_delivers_and_verifies_the_event_log(
    server: str, keys: Keys, tmp_path: Path
) -> None:
    big = tmp_path / "passport.pdf"
    big.write_bytes(b"%PDF-1.7 " + b"p" * 2_000_000)
    sender = FitConnectSender(
        base_url=f"{server}/fit-connect",
        token_url=server + TOKEN_PATH,
        client_id="demo-flow",
        client_secret="demo-flow-secret",
        allow_self_signed=True,  # the test keys are self-signed, like FIT-Connect's test env
    )
    attachments = [
        OutgoingAttachment("8a6c2f64-9f0b-4f2e-9d1e-0a1b2c3d4e5f", "application/pdf", big),
        OutgoingAttachment("9b7d3e75-0a1c-4a3f-8e2f-1b2c3d4e5f60", "image/jpeg", b"\xff\xd8photo"),
    ]
    sent = sender.send(
        TF_DESTINATION,
        authority="tf",
        public_service={"name": "Aufenthaltserlaubnis", "identifier": LEIKA},
        metadata=b'{"contentStructure":{"attachments":[]}}',
        data=b'{"form":1}',
        attachments=attachments,
    )
    # the authority's subscriber software: client credentials only
    form = {
        "grant_type": "client_credentials",
        "client_id": "demo-subscriber-tf",
        "client_secret": "demo-subscriber-tf-secret",
    }
    token = httpx.post(server + TOKEN_PATH, data=form).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    api = f"{server}/fit-connect/v1"
    listed = httpx.get(f"{api}/submissions", params={"destinationId": TF_DESTINATION}, headers=auth)
    assert listed.status_code == 200, listed.text
    assert [s["submissionId"] for s in listed.json()["submissions"]] == [sent.submission_id]
    fetched = httpx.get(f"{api}/submissions/{sent.submission_id}", headers=auth).json()
    metadata = decrypt(fetched["encryptedMetadata"], keys.encryption)
    tags = {}
    for attachment_id in fetched["attachments"]:
        raw = httpx.get(f"{api}/submissions/{sent.submission_id}/attachments/{attachment_id}",
                        headers=auth)  # fmt: skip
        tags[attachment_id] = decrypt(raw.text, keys.encryption).tag
    assert tags == dict(sent.tags.attachments)
    accept = issue_event(
        "accept-submission",
        submission_id=sent.submission_id,
        case_id=sent.case_id,
        issuer=TF_DESTINATION,
        signing_key=keys.signing,
        kid=keys.signing_jwk["kid"],
        now=sender.clock.now(),
        payload={
            "authenticationTags": {
                "metadata": metadata.tag,
                "data": decrypt(fetched["encryptedData"], keys.encryption).tag,
                "attachments": tags,
            }
        },
    )
    posted = httpx.post(
        f"{api}/cases/{sent.case_id}/events",
        content=accept,
        headers={**auth, "Content-Type": "application/jose"},
    )
    assert posted.status_code == 204, posted.text

    decision = sender.wait_for_decision(
        sent.case_id, authority="tf", destination_id=TF_DESTINATION, timeout=5, interval=0.1
    )
    assert decision.name == "accept-submission"
    from gateway.fitconnect import check_tags

    check_tags(decision, sent.tags)  # the authority decrypted exactly what was sent
    names = [
        e.name for e in sender.events(sent.case_id, authority="tf", destination_id=TF_DESTINATION)
    ]
    assert names == ["create-submission", "submit-submission", "notify-submission",
                     "accept-submission"]  # fmt: skip


def test_sender_refuses_a_key_for_another_authority_and_reports_problems(
    server: str, keys: Keys
) -> None:
    sender = FitConnectSender(
        base_url=f"{server}/fit-connect",
        token_url=server + TOKEN_PATH,
        client_id="demo-flow",
        client_secret="demo-flow-secret",
        allow_self_signed=True,
    )
    with pytest.raises(InvalidDestinationKey):
        sender.send(
            TF_DESTINATION,
            authority="ee",
            public_service={"name": "x", "identifier": LEIKA},
            metadata=b"{}",
        )
    with pytest.raises(SenderError) as refused:
        sender.destination("11111111-1111-4111-8111-111111111111")
    assert refused.value.status == 404
    assert TF_DESTINATION in str(refused.value)
    bad = FitConnectSender(
        base_url=f"{server}/fit-connect",
        token_url=server + TOKEN_PATH,
        client_id="demo-flow",
        client_secret="wrong",
    )
    with pytest.raises(SenderError, match="token"):
        bad.access_token()
