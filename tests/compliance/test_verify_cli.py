"""``audit verify`` tells a DPO what is wrong without a server of its own: a token that
is missing or not a DPO's, and a server that does not answer (named by its URL)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from compliance.errors import VerificationFailed
from compliance.verify import HttpLog
from gateway.cli import app as cli_app


class _Answers:
    """An httpx-like client that answers every GET with ``status``."""

    def __init__(self, status: int) -> None:
        self.status = status

    def get(self, url: str, **_kw: Any) -> httpx.Response:
        return httpx.Response(self.status, json={}, request=httpx.Request("GET", url))


def test_without_a_dpo_token_the_verifier_says_one_is_needed() -> None:
    with pytest.raises(VerificationFailed, match="token of a data-protection officer"):
        HttpLog(_Answers(401), "http://127.0.0.1:9").get("/leaves")
    with pytest.raises(VerificationFailed, match="OZG_AUDIT_TOKEN"):
        HttpLog(_Answers(403), "http://127.0.0.1:9", token="not-a-dpo").get("/leaves")


def test_an_unreachable_server_is_named(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli_app,
        ["audit", "verify", "--url", "http://127.0.0.1:9", "--state", str(tmp_path / "s.json")],
    )
    assert result.exit_code == 1, result.output
    assert "cannot reach the server at http://127.0.0.1:9/v1/audit/" in result.output
    assert "Traceback" not in result.output


def test_the_verifier_speaks_german(tmp_path: Path) -> None:
    args = ["audit", "verify", "--url", "http://127.0.0.1:9", "--state", str(tmp_path / "s.json")]
    result = CliRunner().invoke(cli_app, args, env={"LANG": "de_DE.UTF-8"})
    assert result.exit_code == 1, result.output
    assert "Fehler: Prüfung fehlgeschlagen:" in result.output
    assert "der Server unter http://127.0.0.1:9/v1/audit/" in result.output
    assert f"gemerkte Prüfpunkte: {tmp_path / 's.json'}" in result.output
    neither = CliRunner().invoke(cli_app, ["audit", "verify"], env={"LANG": "de"})
    assert neither.exit_code == 2
    assert "Fehler: geben Sie genau eines von --url und --export an" in neither.output
