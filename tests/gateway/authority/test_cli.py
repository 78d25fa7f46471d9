"""``ozg-commons authority``: one-line errors (no traceback) for key files and options, and
the commands over the API."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from gateway.cli import app as cli_app
from gateway.client.authority import AuthorityClient
from tests import factories
from tests.gateway.authority.conftest import DESTINATIONS, ActAs, Keys, Sent
from tests.gateway.authority.test_cases import Deliver, received_case
from tests.gateway.cases.conftest import Applicant


def invoke(*args: str, lang: str | None = None) -> Any:
    env = {"LANG": lang} if lang else None
    return CliRunner().invoke(cli_app, ["authority", *args], catch_exceptions=False, env=env)


@pytest.fixture
def connected(monkeypatch: pytest.MonkeyPatch, authority_client: AuthorityClient) -> None:
    """The commands talk to the test app (the token path is the account's business). The
    app runs in this process, so a log handler an earlier test bound to a stream that is
    closed now must stay silent rather than print into the command's stderr."""
    monkeypatch.setattr(logging, "raiseExceptions", False)
    monkeypatch.setattr("gateway.client.authority_cli._connect", lambda *a, **k: authority_client)


def _one_line_error(result: Any, exit_code: int, fragment: str) -> None:
    assert result.exit_code == exit_code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(("error: ", "Fehler: ")), result.stderr
    assert fragment in lines[0]
    assert "Traceback" not in result.output + result.stderr


def test_a_missing_key_file_is_one_line(tmp_path: Path) -> None:
    result = invoke("fetch", "--authority", "tf", "--key-file", str(tmp_path / "nope.pem"),
                    "--out", str(tmp_path / "out"))  # fmt: skip
    _one_line_error(result, 2, "does not exist")
    german = invoke("fetch", "--authority", "tf", "--key-file", str(tmp_path / "nope.pem"),
                    "--out", str(tmp_path / "out"), lang="de_DE.UTF-8")  # fmt: skip
    _one_line_error(german, 2, f"Fehler: Schlüsseldatei {tmp_path / 'nope.pem'} gibt es nicht")


def test_a_key_file_that_is_no_key_is_one_line(tmp_path: Path) -> None:
    junk = tmp_path / "tf-encryption.key.pem"
    junk.write_text("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    result = invoke("fetch", "--authority", "tf", "--key-file", str(junk), "--out",
                    str(tmp_path / "out"))  # fmt: skip
    _one_line_error(result, 2, "not a PEM private key")


def test_no_signing_key_beside_an_oddly_named_key_file(tmp_path: Path, keys: Keys) -> None:
    other = tmp_path / "mykey.pem"
    other.write_bytes(keys.key_file("tf").read_bytes())
    result = invoke("fetch", "--authority", "tf", "--key-file", str(other), "--out",
                    str(tmp_path / "out"))  # fmt: skip
    _one_line_error(result, 2, "--signing-key-file")


def test_another_authoritys_key_file_is_refused_in_one_line(
    connected: None, send: Callable[..., Sent], act_as: ActAs, keys: Keys, tmp_path: Path
) -> None:
    send("tf")
    act_as(factories.caseworker("tf"))
    result = invoke("fetch", "--authority", "tf", "--key-file", str(keys.key_file("ee")),
                    "--destination", DESTINATIONS["tf"],
                    "--out", str(tmp_path / "out"))  # fmt: skip
    _one_line_error(result, 2, "not the encryption key")


def test_fetch_through_the_command_line(
    connected: None, send: Callable[..., Sent], act_as: ActAs, keys: Keys, tmp_path: Path
) -> None:
    sent = send("tf")
    act_as(factories.caseworker("tf"))
    args = ("fetch", "--authority", "tf", "--key-file", str(keys.key_file("tf")),
            "--destination", DESTINATIONS["tf"], "--out", str(tmp_path / "out"))  # fmt: skip
    result = invoke(*args)
    assert result.exit_code == 0, result.output + result.stderr
    assert f"accepted  {sent.case_id}" in result.stdout
    assert "1 accepted, 0 rejected" in result.stdout
    again = invoke(*args, "--json")
    assert json.loads(again.stdout) == {"results": [], "skipped": []}


def test_case_commands_through_the_command_line(
    connected: None,
    client: TestClient,
    act_as: ActAs,
    alice: Applicant,
    deliver: Deliver,
    tmp_path: Path,
) -> None:
    case_id = received_case(client, act_as, alice, deliver)
    act_as(factories.caseworker("tf"))
    listed = invoke("cases", "--state", "received")
    assert case_id in listed.stdout
    assert "1 case\n" in listed.stdout
    german = invoke("cases", "--state", "received", lang="de_DE.UTF-8")
    assert "1 Vorgang\n" in german.stdout
    assert "FIT-Connect-Vorgang" in german.stdout
    assert "processing" in invoke("case", case_id, "processing").stdout
    result = invoke("case", case_id, "request-documents", "--message", "Please send it.",
                    "--document-type", "passport", "--lang", "en")  # fmt: skip
    assert result.exit_code == 0
    assert "action_required" in result.stdout
    assert invoke("case", case_id, "processing").exit_code == 0
    bad = tmp_path / "letter.txt"
    bad.write_text("not a pdf")
    _one_line_error(invoke("case", case_id, "decide", "approved", "--letter", str(bad)), 2,
                    "must be a PDF")  # fmt: skip
    _one_line_error(invoke("case", case_id, "decide", "maybe"), 2, "approved or rejected")
    _one_line_error(invoke("case", case_id, "decide", "maybe", lang="de"), 2,
                    "Fehler: die Entscheidung ist approved (genehmigt) oder rejected")  # fmt: skip
    decided = invoke("case", case_id, "decide", "rejected")
    assert decided.exit_code == 0, decided.stderr
    assert "decided (rejected)" in decided.stdout
    again = invoke("case", case_id, "processing")
    _one_line_error(again, 1, "HTTP 409")
    shown = invoke("case", case_id, "show")
    assert "documents-requested" in shown.stdout


def test_an_unreachable_server_is_named_in_one_line() -> None:
    result = invoke("cases", "--server", "http://127.0.0.1:9", "--token", "t")
    _one_line_error(result, 2, "cannot reach the server at http://127.0.0.1:9/v1/")


def test_the_connection_options_are_taken_after_every_command() -> None:
    """The six options are declared once (``connected``) and still follow each command."""
    from gateway.client import authority_cli

    for command in ("fetch", "cases"):
        result = invoke(command, "--help")
        for option in ("--server", "--client-id", "--client-secret", "--keycloak-url",
                       "--realm", "--token"):  # fmt: skip
            assert option in result.output, (command, option)
    result = invoke("case", "X", "waiver", "--help")
    assert "--client-secret" in result.output
    assert authority_cli.Connection(server="http://a").server == "http://a"
