"""Revocation of authority key certificates: CRL checks at registration, key serving, sharing."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from account import Principal
from commons.db import Database
from commons.settings import Settings
from gateway.app import create_app, startup_problems
from tests import factories
from tests.commons.test_settings import GOOD_PRODUCTION
from tests.vault.helpers import (
    NOW,
    authority_key,
    ca,
    pki_settings,
    sealed,
    write_anchors,
    write_crl,
)
from vault import envelope
from vault.errors import CertificateRevoked, CrlFileError, RevocationUnknown
from vault.pki import (
    chain_of,
    demo_crl_path,
    ensure_demo_ca,
    issue_authority_key,
    make_ca,
    make_crl,
)
from vault.recipients import public_key_from_jwk
from vault.revocation import RevocationChecker, load_crls
from vault.runtime import VaultSettings

OCTET = {"content-type": "application/octet-stream"}
ActAs = Callable[[Principal | None], None]


def _leaf_serial(jwk: dict[str, object]) -> int:
    return chain_of(jwk)[0].serial_number


# --------------------------------------------------------------------------- unit
def _checker(*crls: x509.CertificateRevocationList) -> RevocationChecker:
    return RevocationChecker(list(crls), [ca()[1]])


def test_a_key_on_no_crl_passes_and_a_revoked_one_is_named() -> None:
    ca_key, ca_cert = ca()
    _priv, jwk = authority_key("tf")
    chain = chain_of(jwk)
    _checker(make_crl(ca_key, ca_cert, [], NOW)).check_chain(chain, NOW)
    with pytest.raises(CertificateRevoked, match=f"{chain[0].serial_number:x}"):
        _checker(make_crl(ca_key, ca_cert, [1234, chain[0].serial_number], NOW)).check_chain(
            chain, NOW
        )


def test_without_a_current_genuine_crl_the_status_is_unknown() -> None:
    ca_key, ca_cert = ca()
    chain = chain_of(authority_key("tf")[1])
    with pytest.raises(RevocationUnknown, match="test CA"):
        _checker().check_chain(chain, NOW)
    stale = make_crl(ca_key, ca_cert, [], NOW - timedelta(days=10))  # nextUpdate passed
    with pytest.raises(RevocationUnknown):
        _checker(stale).check_chain(chain, NOW)
    future = make_crl(ca_key, ca_cert, [], NOW + timedelta(days=1))  # not yet issued
    with pytest.raises(RevocationUnknown):
        _checker(future).check_chain(chain, NOW)
    # same issuer name, signed by someone else: ignored, not trusted
    forger_key = rsa.generate_private_key(65537, 2048)
    forged = make_crl(forger_key, ca_cert, [], NOW)
    with pytest.raises(RevocationUnknown):
        _checker(forged).check_chain(chain, NOW)
    # a genuine CRL of another CA says nothing about ours
    other_key, other_cert = make_ca("other CA", NOW)
    with pytest.raises(RevocationUnknown):
        _checker(make_crl(other_key, other_cert, [], NOW)).check_chain(chain, NOW)
    # switched off (development only): nothing is checked
    RevocationChecker([], [ca_cert], enabled=False).check_chain(chain, NOW)


def test_the_newest_current_crl_wins() -> None:
    ca_key, ca_cert = ca()
    chain = chain_of(authority_key("tf")[1])
    older = make_crl(ca_key, ca_cert, [], NOW - timedelta(hours=2))
    newer = make_crl(ca_key, ca_cert, [chain[0].serial_number], NOW)
    with pytest.raises(CertificateRevoked):
        _checker(older, newer).check_chain(chain, NOW)


def _intermediate_chain() -> tuple[
    rsa.RSAPrivateKey, x509.Certificate, rsa.RSAPrivateKey, x509.Certificate, list[x509.Certificate]
]:
    root_key, root = make_ca("root CA", NOW)
    sub_key = rsa.generate_private_key(65537, 3072)
    sub = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sub CA")]))
        .issuer_name(root.subject)
        .public_key(sub_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(minutes=5))
        .not_valid_after(NOW + timedelta(days=100))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(root_key, hashes.SHA256())
    )
    _k, jwk = issue_authority_key(sub_key, sub, "tf", NOW, bits=3072)
    leaf = chain_of(jwk)[0]
    return root_key, root, sub_key, sub, [leaf, sub]  # x5c without the root, as is common


def test_every_certificate_below_the_anchor_is_checked() -> None:
    root_key, root, sub_key, sub, chain = _intermediate_chain()
    both = [make_crl(root_key, root, [], NOW), make_crl(sub_key, sub, [], NOW)]
    RevocationChecker(both, [root]).check_chain(chain, NOW)
    with pytest.raises(RevocationUnknown, match="root CA"):  # the sub CA's status is unknown
        RevocationChecker(both[1:], [root]).check_chain(chain, NOW)
    sub_revoked = [make_crl(root_key, root, [sub.serial_number], NOW), both[1]]
    with pytest.raises(CertificateRevoked, match="sub CA"):
        RevocationChecker(sub_revoked, [root]).check_chain(chain, NOW)


def test_crl_files_pem_several_der_and_garbage(tmp_path: Path) -> None:
    ca_key, ca_cert = ca()
    one, two = make_crl(ca_key, ca_cert, [1], NOW), make_crl(ca_key, ca_cert, [2], NOW)
    pem = tmp_path / "both.pem"
    pem.write_bytes(
        one.public_bytes(serialization.Encoding.PEM) + two.public_bytes(serialization.Encoding.PEM)
    )
    der = tmp_path / "one.crl"
    der.write_bytes(one.public_bytes(serialization.Encoding.DER))
    assert len(load_crls([pem, der])) == 3
    bad = tmp_path / "bad.crl"
    bad.write_bytes(b"garbage")
    with pytest.raises(CrlFileError, match=r"bad\.crl"):
        load_crls([bad])
    with pytest.raises(CrlFileError, match="cannot be read"):
        load_crls([tmp_path / "missing.crl"])


def test_the_demo_ca_keeps_a_crl_that_demo_revoke_adds_to(tmp_path: Path) -> None:
    from vault.pki import demo_revoke

    ensure_demo_ca(tmp_path)
    crl = x509.load_pem_x509_crl(demo_crl_path(tmp_path).read_bytes())
    assert list(crl) == []
    cert = x509.load_pem_x509_certificate((tmp_path / "demo-ca.pem").read_bytes())
    demo_revoke(tmp_path, cert)
    demo_revoke(tmp_path, cert)  # idempotent
    crl = x509.load_pem_x509_crl(demo_crl_path(tmp_path).read_bytes())
    assert [r.serial_number for r in crl] == [cert.serial_number]
    assert crl.is_signature_valid(cert.public_key())  # type: ignore[arg-type]


# --------------------------------------------------------------------------- API
@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return pki_settings(tmp_path, database_url)


@pytest.fixture
def app(settings: Settings, database: Database) -> FastAPI:
    return create_app(settings, database)


def _revoke(settings: Settings, *serials: int) -> None:
    write_crl(settings.section(VaultSettings).crl_files[0], list(serials))


def test_registering_a_revoked_key_is_refused(
    client: TestClient, act_as: ActAs, settings: Settings
) -> None:
    ca_key, ca_cert = ca()
    _k, jwk = issue_authority_key(ca_key, ca_cert, "rv", NOW, bits=3072)
    _revoke(settings, _leaf_serial(jwk))
    act_as(factories.admin())
    r = client.post("/v1/vault/authorities/rv/keys", json={"jwk": jwk})
    assert r.status_code == 422, r.text
    assert r.json()["type"].endswith("certificate-revoked")
    assert "revoked" in r.json()["detail"]


def test_a_stale_crl_fails_closed_with_503(
    client: TestClient, act_as: ActAs, settings: Settings
) -> None:
    write_crl(settings.section(VaultSettings).crl_files[0], now=NOW - timedelta(days=8))
    ca_key, ca_cert = ca()
    _k, jwk = issue_authority_key(ca_key, ca_cert, "st", NOW, bits=3072)
    act_as(factories.admin())
    r = client.post("/v1/vault/authorities/st/keys", json={"jwk": jwk})
    assert r.status_code == 503, r.text
    assert r.json()["type"].endswith("revocation-status-unknown")
    assert "OZG_VAULT_CRL_FILES" in r.json()["detail"]


def test_revocation_after_registration_stops_serving_and_sharing(
    client: TestClient, act_as: ActAs, settings: Settings
) -> None:
    ca_key, ca_cert = ca()
    _k1, first = issue_authority_key(ca_key, ca_cert, "ab", NOW, bits=3072)
    _k2, second = issue_authority_key(ca_key, ca_cert, "ab", NOW, bits=3072)
    act_as(factories.admin())
    assert client.post("/v1/vault/authorities/ab/keys", json={"jwk": first}).status_code == 201
    assert client.post("/v1/vault/authorities/ab/keys", json={"jwk": second}).status_code == 201
    assert client.get("/v1/vault/authorities/ab/key").json()["jwk"]["n"] == second["n"]

    owner = factories.applicant()
    act_as(owner)
    key = ec.generate_private_key(ec.SECP256R1())
    env = sealed(b"contract", key)
    doc_id = client.post("/v1/vault/documents", content=env, headers=OCTET).json()["id"]
    doc_key = envelope.unlock(envelope.read_header(io.BytesIO(env)), key)

    # the active key is revoked: clients get the older key still in its overlap period
    _revoke(settings, _leaf_serial(second))
    served = client.get("/v1/vault/authorities/ab/key")
    assert served.status_code == 200
    assert served.json()["jwk"]["n"] == first["n"]
    # a wrap made earlier to the revoked key is refused
    to_revoked = envelope.wrap_for(doc_key, public_key_from_jwk(second))
    r = client.put(
        f"/v1/vault/documents/{doc_id}/shares/ab",
        json={"stanza": base64.b64encode(to_revoked.encode()).decode()},
    )
    assert r.status_code == 409, r.text
    assert r.json()["type"].endswith("authority-key-revoked")
    assert client.get(f"/v1/vault/documents/{doc_id}").json()["shared_with"] == []

    # both revoked: nothing to wrap to, said plainly
    _revoke(settings, _leaf_serial(second), _leaf_serial(first))
    r = client.get("/v1/vault/authorities/ab/key")
    assert r.status_code == 409
    assert r.json()["type"].endswith("authority-key-revoked")


def test_development_without_anchors_uses_the_demo_crl(
    tmp_path: Path, database: Database, database_url: str, act_as: ActAs
) -> None:
    settings = Settings(data_dir=tmp_path / "var", database_url=database_url)
    app = create_app(settings, database)
    ca_dir = settings.data_dir / "vault"
    cert_path, key_path = ensure_demo_ca(ca_dir)
    ca_key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    ca_cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    assert isinstance(ca_key, rsa.RSAPrivateKey)
    _k, jwk = issue_authority_key(ca_key, ca_cert, "dv", NOW, bits=3072)
    jwk_file = tmp_path / "dv.json"
    jwk_file.write_text(json.dumps({"jwk": jwk}))
    from account.auth import current_principal
    from gateway.cli import app as cli_app

    app.dependency_overrides[current_principal] = factories.admin
    with TestClient(app) as client:
        assert client.post("/v1/vault/authorities/dv/keys", json={"jwk": jwk}).status_code == 201
        assert client.get("/v1/vault/authorities/dv/key").status_code == 200
        result = CliRunner().invoke(
            cli_app,
            ["vault", "demo-revoke", str(jwk_file)],
            env={"OZG_DATA_DIR": str(settings.data_dir)},
        )
        assert result.exit_code == 0, result.output
        assert client.get("/v1/vault/authorities/dv/key").status_code == 409


def test_startup_checks_name_revocation_settings(tmp_path: Path) -> None:
    anchors = write_anchors(tmp_path / "anchors.pem")

    def production(**vault: object) -> Settings:
        sections = {**GOOD_PRODUCTION["sections"], "vault": {"trust_anchors": anchors, **vault}}
        return Settings(**{**GOOD_PRODUCTION, "sections": sections})

    off = startup_problems(production(revocation="off"))
    assert any("OZG_VAULT_REVOCATION=off" in p for p in off)
    missing = startup_problems(production(crl_files=[]))
    assert any("OZG_VAULT_CRL_FILES is not set" in p for p in missing)
    garbage = tmp_path / "bad.crl"
    garbage.write_text("nope")
    broken = startup_problems(production(crl_files=[garbage]))
    assert any("bad.crl" in p for p in broken)


def test_the_client_checks_revocation_itself_when_it_has_crls(
    client: TestClient, act_as: ActAs, settings: Settings, tmp_path: Path
) -> None:
    """A server that still serves a revoked key (stale CRLs there) gets no document key from
    a device holding the current CRL; without any current CRL the device fails closed."""
    from typing import cast

    import httpx

    from vault.client import VaultClient

    ca_key, ca_cert = ca()
    _k, jwk = issue_authority_key(ca_key, ca_cert, "cl", NOW, bits=3072)
    act_as(factories.admin())
    assert client.post("/v1/vault/authorities/cl/keys", json={"jwk": jwk}).status_code == 201
    owner_key = ec.generate_private_key(ec.SECP256R1())
    act_as(factories.applicant())
    doc_id = client.post(
        "/v1/vault/documents", content=sealed(b"x", owner_key), headers=OCTET
    ).json()["id"]
    http = cast(httpx.Client, client)
    revoked = make_crl(ca_key, ca_cert, [_leaf_serial(jwk)], NOW)
    sdk = VaultClient("http://testserver", None, http=http, trust_anchors=[ca_cert], crls=[revoked])
    with pytest.raises(CertificateRevoked):
        sdk.share(doc_id, "cl", owner_key)
    stale = make_crl(ca_key, ca_cert, [], NOW - timedelta(days=30))
    sdk = VaultClient("http://testserver", None, http=http, trust_anchors=[ca_cert], crls=[stale])
    with pytest.raises(RevocationUnknown):
        sdk.share(doc_id, "cl", owner_key)
    assert sdk.ls()[0]["shared_with"] == []
    current = make_crl(ca_key, ca_cert, [], NOW)
    sdk = VaultClient("http://testserver", None, http=http, trust_anchors=[ca_cert], crls=[current])
    assert sdk.share(doc_id, "cl", owner_key)["shared_with"] == ["cl"]


def test_device_crl_setting_takes_a_json_list_or_paths_and_names_a_bad_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import typer

    from vault.client.cli import device_crls

    one, two = write_crl(tmp_path / "one.crl"), write_crl(tmp_path / "two.crl")
    monkeypatch.delenv("OZG_VAULT_CRL_FILES", raising=False)
    assert device_crls() is None
    monkeypatch.setenv("OZG_VAULT_CRL_FILES", json.dumps([str(one), str(two)]))
    assert len(device_crls() or []) == 2
    monkeypatch.setenv("OZG_VAULT_CRL_FILES", f"{one}:{two}")
    assert len(device_crls() or []) == 2
    monkeypatch.setenv("OZG_VAULT_CRL_FILES", str(tmp_path / "missing.crl"))
    with pytest.raises(typer.Exit):
        device_crls()
