"""The client SDK and CLI end to end against the app, and the zero-knowledge canary:
a canary string in a document and a canary filename appear nowhere on the server side."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import cast

import httpx
import pikepdf
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from account import Principal
from commons.db import Base, Database
from commons.settings import Settings
from gateway.app import create_app
from gateway.cli import app as cli_app
from gateway.migrations import import_all_models
from tests import factories
from tests.vault.helpers import authority_key, pki_settings
from vault.client import cli as vault_cli
from vault.runtime import VaultSettings

ActAs = Callable[[Principal | None], None]
CANARY_TEXT = "CANARY-7d1c9e-CONTENT"
CANARY_NAME = "canary-5b2f8a-reisepass.pdf"


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return pki_settings(tmp_path, database_url)


@pytest.fixture
def app(settings: Settings, database: Database) -> FastAPI:
    return create_app(settings, database)


@pytest.fixture
def run(client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., str]:
    monkeypatch.setattr(vault_cli, "http_factory", lambda url: client)
    monkeypatch.setenv("OZG_CLIENT_DIR", str(tmp_path / "device"))
    monkeypatch.setenv("OZG_VAULT_PASSPHRASE", "a long vault passphrase")
    runner = CliRunner()

    def invoke(*args: str, code: int = 0, stdout_only: bool = False) -> str:
        result = runner.invoke(cli_app, list(args))
        assert result.exit_code == code, (result.output, result.exception)
        return result.stdout if stdout_only else result.output

    return invoke


def _canary_pdf(path: Path) -> None:
    pdf = pikepdf.new()
    pdf.add_blank_page()
    content = f"BT /F1 12 Tf 20 20 Td ({CANARY_TEXT}) Tj ET".encode()
    pdf.pages[0].Contents = pdf.make_stream(content)
    pdf.docinfo["/Title"] = pikepdf.String(CANARY_TEXT)
    pdf.Root.OpenAction = pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("1"))
    pdf.save(path, compress_streams=False)


def _everything_in_the_database(database: Database) -> bytes:
    import_all_models()
    dump = []
    with database.transaction() as session:
        for table in Base.metadata.sorted_tables:
            for row in session.execute(select(table)):
                for value in row:
                    dump.append(value if isinstance(value, bytes) else str(value).encode())
    return b"\n".join(dump)


def test_cli_end_to_end_and_the_server_never_sees_plaintext(
    run: Callable[..., str],
    act_as: ActAs,
    app: FastAPI,
    database: Database,
    settings: Settings,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.DEBUG)
    owner, tf = factories.applicant(), factories.caseworker("tf")
    act_as(factories.admin())
    auth_key, jwk = authority_key("tf")
    assert app.state.vault.store is not None
    jwk_file = tmp_path / "tf.json"
    jwk_file.write_text(json.dumps({"jwk": jwk}))
    run("login", "--token", "admin-token")
    assert "registered key" in run("vault", "register-authority-key", "tf", str(jwk_file))
    assert "already registered" in run(
        "vault", "register-authority-key", "tf", str(jwk_file), code=1
    )
    (tmp_path / "not.json").write_text("{")
    assert "not a JWK" in run(
        "vault", "register-authority-key", "tf", str(tmp_path / "not.json"), code=2
    )
    auth_pem = tmp_path / "authority.pem"
    from cryptography.hazmat.primitives import serialization

    auth_pem.write_bytes(
        auth_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )

    act_as(owner)
    run("login", "--token", "dev-token")
    assert "recovery code" in run("vault", "keygen")
    run("vault", "lock")
    run("vault", "put", str(tmp_path), code=2)  # a directory is refused by the CLI
    run("vault", "unlock")
    runner = CliRunner()
    changed = runner.invoke(cli_app, ["vault", "passwd"], input="new phrase 42\nnew phrase 42\n")
    assert changed.exit_code == 0, changed.output
    run("vault", "lock")
    monkeypatch.setenv("OZG_VAULT_PASSPHRASE", "a long vault passphrase")
    assert "wrong passphrase" in run("vault", "unlock", code=1)
    monkeypatch.setenv("OZG_VAULT_PASSPHRASE", "new phrase 42")
    run("vault", "unlock")
    src = tmp_path / CANARY_NAME
    _canary_pdf(src)
    output = run("vault", "put", str(src))
    doc_id = re.findall(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", output)[-1]
    assert "open action" in output
    assert [d["id"] for d in json.loads(run("vault", "ls", "--json", stdout_only=True))] == [doc_id]
    mine = tmp_path / "mine.pdf"
    run("vault", "get", doc_id, "-o", str(mine))
    with pikepdf.open(mine) as pdf:  # the content survives sanitizing
        assert CANARY_TEXT.encode() in pdf.pages[0].Contents.read_bytes()
    assert b"/JavaScript" not in mine.read_bytes()
    monkeypatch.setenv(
        "OZG_VAULT_TRUST_ANCHORS", str(settings.section(VaultSettings).trust_anchors)
    )
    assert "warning" not in run("vault", "share", doc_id, "--with", "tf")

    act_as(tf)
    theirs = tmp_path / "theirs.pdf"
    run("vault", "get", doc_id, "-o", str(theirs), "--key-file", str(auth_pem))
    assert theirs.read_bytes() == mine.read_bytes()

    # zero knowledge: nothing the server wrote holds either canary
    server_side = [_everything_in_the_database(database)]
    for path in settings.data_dir.rglob("*"):
        if path.is_file():
            server_side.append(path.read_bytes())
            server_side.append(str(path).encode())
    server_side.append(
        "\n".join(
            r.getMessage() + json.dumps(vars(r), default=str) for r in caplog.records
        ).encode()
    )
    haystack = b"\n".join(server_side)
    assert len(haystack) > 1000
    for canary in (CANARY_TEXT, CANARY_NAME, "canary-5b2f8a", "reisepass"):
        assert canary.encode() not in haystack, canary

    act_as(owner)
    run("vault", "unshare", doc_id, "--with", "tf")
    receipt = json.loads(run("vault", "rm", doc_id, "--yes", stdout_only=True))
    assert receipt["claims"]["document_id"] == doc_id
    assert "error" in run("vault", "get", doc_id, "-o", str(tmp_path / "x"), code=1)
    assert not (tmp_path / "x").exists()


def test_cli_without_login_or_key_says_what_to_do(
    run: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert "not logged in" in run("vault", "ls", code=2)
    run("login", "--token", "t")
    assert "locked" in run("vault", "share", "x", "--with", "tf", code=2)


def test_unreachable_server(run: Callable[..., str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        vault_cli, "http_factory", lambda url: httpx.Client(base_url="http://127.0.0.1:9")
    )
    run("login", "--token", "t")
    assert "cannot reach" in run("vault", "ls", code=1)


@pytest.mark.oidc
def test_login_with_a_password_grant(
    oidc_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OZG_CLIENT_DIR", str(tmp_path / "device"))
    result = CliRunner().invoke(
        cli_app,
        ["login", "--username", "test-applicant", "--client-id", "ozg-cli",
         "--keycloak-url", str(oidc_settings.keycloak_server_url),
         "--realm", str(oidc_settings.keycloak_realm)],
        input="test-applicant\n",
    )  # fmt: skip
    assert result.exit_code == 0, (result.output, result.exception)
    kept = tmp_path / "device" / "login.json"
    login = json.loads(kept.read_text())
    assert login["access_token"].count(".") == 2  # a JWT access token
    assert login["refresh_token"]  # renewed silently (tests/vault/test_login.py)
    assert kept.stat().st_mode & 0o077 == 0
    assert "test-applicant" not in result.output.replace("--username", "")


def test_the_client_refuses_an_authority_key_outside_its_trust_anchors(
    client: TestClient, act_as: ActAs, tmp_path: Path
) -> None:
    """A compromised server serving a key that chains to another CA gets no document key."""
    from cryptography.hazmat.primitives.asymmetric import ec

    from tests.vault.helpers import NOW, sealed
    from vault.client import VaultClient
    from vault.errors import InvalidKey
    from vault.pki import make_ca

    act_as(factories.admin())
    _k, jwk = authority_key("tf")
    assert client.post("/v1/vault/authorities/tf/keys", json={"jwk": jwk}).status_code == 201
    owner_key = ec.generate_private_key(ec.SECP256R1())
    act_as(factories.applicant())
    doc_id = client.post(
        "/v1/vault/documents",
        content=sealed(b"x", owner_key),
        headers={"content-type": "application/octet-stream"},
    ).json()["id"]
    _rogue_key, rogue_ca = make_ca("some other CA", NOW)
    http = cast(httpx.Client, client)  # the test client speaks the same API
    sdk = VaultClient("http://testserver", None, http=http, trust_anchors=[rogue_ca])
    with pytest.raises(InvalidKey, match="trusted CA"):
        sdk.share(doc_id, "tf", owner_key)
    assert sdk.ls()[0]["shared_with"] == []
