"""An authority's key is bound to the authority: its certificate names it (SAN URI
``urn:ozg-commons:authority:<id>``); the server refuses to register it for another, and the
device refuses to share to it (issue 14)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi import FastAPI
from fastapi.testclient import TestClient

from account import Principal
from commons.db import Database
from commons.settings import Settings
from gateway.app import create_app
from tests import factories
from tests.vault.helpers import NOW, ca, pki_settings, sealed
from vault.client import VaultClient
from vault.errors import InvalidKey
from vault.models import AuthorityKey
from vault.pki import authority_urn, issue_authority_key, validate_authority_jwk
from vault.recipients import key_id, public_key_from_jwk

ActAs = Callable[[Principal | None], None]
OCTET = {"content-type": "application/octet-stream"}


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return pki_settings(tmp_path, database_url)


@pytest.fixture
def app(settings: Settings, database: Database) -> FastAPI:
    return create_app(settings, database)


def _jwk(authority: str, **kw: object) -> dict[str, object]:
    ca_key, ca_cert = ca()
    return issue_authority_key(ca_key, ca_cert, authority, NOW, bits=3072, **kw)[1]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("san_uris", "message"),
    [
        ([authority_urn("ee2")], "issued for authority 'ee2', not 'zz'"),
        ([], "names no authority"),
        (["https://zz.example/"], "exactly one authority \\(0 found\\)"),
        ([authority_urn("zz"), authority_urn("ee2")], "exactly one authority \\(2 found\\)"),
        ([authority_urn("zz-other")], "issued for authority 'zz-other'"),
    ],
)
def test_the_server_refuses_a_certificate_that_names_another_authority(
    client: TestClient, act_as: ActAs, san_uris: list[str], message: str
) -> None:
    act_as(factories.admin())
    response = client.post(
        "/v1/vault/authorities/zz/keys", json={"jwk": _jwk("x", san_uris=san_uris)}
    )
    assert response.status_code == 422, response.text
    assert response.json()["type"] == "urn:ozg-commons:problem:invalid-key"
    with pytest.raises(InvalidKey, match=message):
        validate_authority_jwk(_jwk("x", san_uris=san_uris), [ca()[1]], NOW, authority="zz")


def test_a_certificate_naming_the_authority_is_registered(
    client: TestClient, act_as: ActAs
) -> None:
    act_as(factories.admin())
    response = client.post("/v1/vault/authorities/zz/keys", json={"jwk": _jwk("zz")})
    assert response.status_code == 201, response.text


def test_the_device_refuses_to_share_to_a_key_bound_to_another_authority(
    client: TestClient, act_as: ActAs, database: Database
) -> None:
    """A key that got in for ``zz`` though issued for ``ee2`` (registered before the rule,
    or by a compromised server): the device wraps nothing to it, with or without anchors."""
    jwk = _jwk("ee2")
    with database.transaction() as session:
        session.add(
            AuthorityKey(
                kid=key_id(public_key_from_jwk(jwk)),
                authority="zz",
                jwk=json.dumps(jwk, sort_keys=True),
                not_after=datetime.now(UTC) + timedelta(days=300),
                registered_at=datetime.now(UTC),
                retires_at=None,
            )
        )
    owner_key = ec.generate_private_key(ec.SECP256R1())
    act_as(factories.applicant())
    doc_id = client.post(
        "/v1/vault/documents", content=sealed(b"x", owner_key), headers=OCTET
    ).json()["id"]
    http = cast(httpx.Client, client)
    for anchors in (None, [ca()[1]]):
        sdk = VaultClient("http://testserver", None, http=http, trust_anchors=anchors)
        with pytest.raises(InvalidKey, match="issued for authority 'ee2', not 'zz'"):
            sdk.share(doc_id, "zz", owner_key)
    assert VaultClient("http://testserver", None, http=http).ls()[0]["shared_with"] == []
