"""The README's story as one automated test: ``gateway.client.demo.run_story`` over HTTP
(an in-process TestClient) with development IdP tokens, the applicant's client, the
delivery service, cases, payments' sandbox, the vault and the audit log."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from fastapi import FastAPI
from fastapi.testclient import TestClient

from commons.settings import Settings
from gateway.client.demo import AuthorityKeys, run_story
from gateway.delivery.destinations import Service
from gateway.fitconnect.demo import make_demo_authority
from vault.pki import ensure_demo_ca

DESTINATION = "6b7a1f0e-2d8c-4c53-9a7e-0f1e2d3c4b5a"
LEIKA = "urn:de:fim:leika:leistung:99010003001000"


@dataclass(frozen=True)
class Text:
    de: str
    en: str


@dataclass(frozen=True)
class DemoRegistryAuthority:
    id: str
    name: Text
    destination_id: str
    encryption_jwk: dict[str, Any]
    signature_jwk: dict[str, Any]
    flows: tuple[str, ...] = ("employment",)
    metadata_versions: tuple[str, ...] = ("1.0.0",)
    reply_channels: tuple[str, ...] = ("eMail",)
    services: tuple[Service, ...] = field(default=(Service(LEIKA, "Aufenthaltserlaubnis"),))


@dataclass
class InMemoryRegistry:
    """Until the authorities component is installed: the one authority the story needs."""

    authorities: dict[str, DemoRegistryAuthority]

    def get(self, authority_id: str) -> DemoRegistryAuthority:
        return self.authorities[authority_id]

    def all(self) -> list[DemoRegistryAuthority]:
        return list(self.authorities.values())


def _tf(app: FastAPI, settings: Settings, client: TestClient) -> tuple[AuthorityKeys, Any]:
    cert_path, key_path = ensure_demo_ca(settings.data_dir / "vault")
    ca_cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    ca_key: Any = serialization.load_pem_private_key(key_path.read_bytes(), None)
    demo = make_demo_authority(ca_key, ca_cert, "tf", datetime.now(UTC))
    if getattr(app.state, "authorities", None) is None:
        app.state.authorities = InMemoryRegistry(
            {"tf": DemoRegistryAuthority(
                "tf", Text("Landkreis Teltow-Fläming", "Landkreis Teltow-Fläming"),
                DESTINATION, demo.encryption_jwk, demo.signing_jwk)}
        )  # fmt: skip
        admin = client.post(
            "/dev-idp/realms/ozg-dev/protocol/openid-connect/token",
            data={"grant_type": "password", "client_id": "ozg-cli",
                  "username": "demo-admin", "password": "demo-admin"},
        ).json()["access_token"]  # fmt: skip
        registered = client.post(
            "/v1/vault/authorities/tf/keys", json={"jwk": demo.encryption_jwk},
            headers={"Authorization": f"Bearer {admin}"},
        )  # fmt: skip
        assert registered.status_code in (200, 201), registered.text
    keys = AuthorityKeys("tf", DESTINATION, demo.encryption_key, demo.signing_key,
                         demo.signing_jwk["kid"])  # fmt: skip
    return keys, ca_cert


def test_the_whole_story(app: FastAPI, settings: Settings, client: TestClient) -> None:
    keys, ca = _tf(app, settings, client)
    lines: list[str] = []
    result = run_story(cast(httpx.Client, client), keys, say=lines.append, anchors=[ca], crls=[])
    assert len(lines) == 12, lines
    assert result.receipt["kind"] == "submission"
    claims = result.receipt["claims"]
    assert claims["case_id"] == result.case_id
    assert claims["authority"] == "tf"
    assert claims["flow"] == "employment"
    assert result.sent is not None
    assert claims["submission_sha512"] == result.sent.submission_sha512
    assert json.loads(result.folder["form.json"])  # the authority's decrypted copy
    assert result.decision.startswith(b"%PDF")
    assert [t["to_state"] for t in result.timeline] == [
        "draft", "submitted", "received", "processing", "action_required", "processing",
        "decided",
    ]  # fmt: skip
    assert uuid.UUID(result.case_id)
