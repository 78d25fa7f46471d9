"""Problem documents in the caller's language (``Accept-Language``; English without it),
over HTTP and through the command line, which sends its own (``LANG``). The ``type`` URIs,
the statuses and the extension members stay the same in every language."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from account import Principal
from gateway.cli import app as cli_app
from tests import factories
from vault.client import cli as vault_cli

ActAs = Callable[[Principal | None], None]
GERMAN = {"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}


def test_an_unknown_route_is_not_found_in_german_and_english(client: TestClient) -> None:
    english = client.get("/v1/nowhere")
    german = client.get("/v1/nowhere", headers=GERMAN)
    assert english.status_code == german.status_code == 404
    assert english.json()["title"] == "Not Found"
    assert german.json()["title"] == "Nicht gefunden"
    assert english.headers["content-language"] == "en"
    assert german.headers["content-language"] == "de"
    assert english.json()["type"] == german.json()["type"] == "about:blank"


def test_a_missing_token_is_said_in_german_with_the_same_type_and_reason(
    client: TestClient,
) -> None:
    english = client.get("/v1/me").json()
    german = client.get("/v1/me", headers=GERMAN).json()
    assert english["detail"] == "no bearer token was presented"
    assert german["detail"] == "es wurde kein Bearer-Token vorgelegt"
    assert german["title"] == "Ungültiges Zugriffstoken"
    for member in ("type", "status", "reason"):
        assert english[member] == german[member]
    assert german["type"] == "urn:ozg-commons:problem:invalid-token"


def test_an_unknown_authority_names_the_known_ones_in_german(
    client: TestClient, act_as: ActAs
) -> None:
    act_as(factories.applicant())
    case = client.post("/v1/cases", json={"flow_id": "employment"}).json()
    refused = client.put(
        f"/v1/cases/{case['id']}/authority", json={"authority": "nowhere"}, headers=GERMAN
    )
    assert refused.status_code == 404, refused.text
    body = refused.json()
    assert body["type"] == "urn:ozg-commons:problem:unknown-authority"
    assert body["title"] == "Unbekannte Behörde"
    assert body["detail"].startswith("es gibt keine Behörde 'nowhere'; bekannte Behörden: ")
    assert "tf" in body["known_authorities"]


def test_the_validation_summary_is_german_and_its_errors_keep_their_shape(
    client: TestClient, act_as: ActAs
) -> None:
    act_as(factories.applicant())
    english = client.post("/v1/cases", json={"flow_id": 3}).json()
    german = client.post("/v1/cases", json={"flow_id": 3}, headers=GERMAN).json()
    assert german["title"] == "Ungültige Anfrage"
    assert german["detail"].startswith("Die Anfrage passt nicht zu dem, was dieser Endpunkt")
    assert german["type"] == english["type"] == "urn:ozg-commons:problem:validation"
    assert german["errors"] == english["errors"]


def test_a_language_without_a_catalogue_falls_back_to_english(client: TestClient) -> None:
    answer = client.get("/v1/me", headers={"Accept-Language": "fr-FR, de;q=0"})
    assert answer.json()["detail"] == "no bearer token was presented"
    assert answer.headers["content-language"] == "en"


def test_the_command_line_prints_the_servers_detail_in_its_language(
    client: TestClient, act_as: ActAs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(vault_cli, "http_factory", lambda url: client)
    monkeypatch.setenv("OZG_CLIENT_DIR", str(tmp_path / "device"))
    monkeypatch.setenv("OZG_TOKEN", "token-of-the-principal-acted-as")
    act_as(factories.applicant())
    assert client.get("/v1/me").status_code == 200  # the account, on first use
    missing = "00000000-0000-0000-0000-000000000000"
    english = CliRunner().invoke(cli_app, ["mailbox", "read", missing])
    german = CliRunner().invoke(cli_app, ["mailbox", "read", missing], env={"LANG": "de_DE.UTF-8"})
    assert english.exit_code == german.exit_code == 1, (english.output, german.output)
    assert "Message not found" in english.stderr
    assert "Nachricht nicht gefunden" in german.stderr
    assert german.stderr.startswith("Fehler: ")
